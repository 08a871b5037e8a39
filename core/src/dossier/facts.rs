//! What the 766 indicators count of a dossier beyond its timing, kept as bits so that a score
//! reads one small column per dossier instead of its pushed details.

use super::quality::is_archive;
use super::{ResultDocument, Satisfaction};

/// A financial obligation applies (fees or charges).
pub const FINANCIAL_OBLIGATION: i32 = 1;
/// A fee was paid online (national portal or provincial payment gateway).
pub const PAID_ONLINE: i32 = 1 << 1;
/// The result is available electronically: a result document that is neither an archive nor
/// empty.
pub const ELECTRONIC_RESULT: i32 = 1 << 2;
/// Every submitted component was digitized, and the result is electronic.
pub const DIGITIZED: i32 = 1 << 3;
/// The dossier reused earlier digitized data: a component says so, or the dossier does.
pub const REUSED: i32 = 1 << 4;
/// A component was taken from the citizen's data store on the national portal, or a result was
/// saved to it.
pub const CITIZEN_STORE: i32 = 1 << 5;
/// The population database was used.
pub const POPULATION_DB: i32 = 1 << 6;
/// The citizen rated the dossier `dissatisfied`.
pub const DISSATISFIED: i32 = 1 << 7;
/// A petition concerns the dossier.
pub const PETITIONED: i32 = 1 << 8;
/// A financial obligation applies and the dossier carries its fees (what the portal's
/// payment-integration indicator looks for in synced dossiers).
pub const FEES_RECORDED: i32 = 1 << 9;
/// Every submitted component was digitized (at least one was submitted), whatever the result.
pub const COMPONENTS_DIGITIZED: i32 = 1 << 10;
/// At least one submitted component was digitized (carries a file): what the portal looks for in
/// a dossier's components (PORTAL_RULES 4.2, "a file in their components").
pub const COMPONENT_FILE: i32 = 1 << 11;
/// The dossier lists its fees and every amount is zero: exempt, as the portal reads a synced fee
/// list (PORTAL_RULES 3.6 leaves such dossiers out).
pub const FEES_ALL_ZERO: i32 = 1 << 12;
/// A result document is attached, whatever it holds (an archive, an empty file): what the
/// portal sees of a result, "a linked result file" (PORTAL_RULES 4.1, 4.2).
pub const RESULT_FILE: i32 = 1 << 13;
/// Refused or withdrawn before it was received: not counted by any indicator. The highest bit,
/// so that "counted" is `facts < NOT_RECEIVED`, a comparison every backend reads in an index.
pub const NOT_RECEIVED: i32 = 1 << 30;

/// A submitted component, as the facts read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentFacts {
    /// Digitized.
    pub digitized: bool,
    /// Reused from earlier digitized data.
    pub reused: bool,
    /// Taken from the citizen's data store.
    pub from_citizen_store: bool,
}

/// What the facts are computed from.
#[derive(Debug, Clone, Copy)]
pub struct FactsInput<'a> {
    /// Whether a financial obligation applies.
    pub financial_obligation: bool,
    /// Whether any fee was paid online.
    pub paid_online: bool,
    /// Whether the dossier carries its fees (amounts and how they were paid).
    pub fees_recorded: bool,
    /// Whether it lists fees and every amount is zero.
    pub fees_all_zero: bool,
    /// The components submitted.
    pub components: &'a [ComponentFacts],
    /// The result documents.
    pub results: &'a [ResultDocument],
    /// Whether the population database was used.
    pub population_db_used: bool,
    /// Whether the dossier says it reused digitized data, whichever component did.
    pub reuses_digitized_data: bool,
    /// The citizen's rating, if any.
    pub rating: Option<Satisfaction>,
    /// Whether a petition concerns the dossier.
    pub petitioned: bool,
}

/// The dossier's facts as bits (the constants of this module).
pub fn facts(input: &FactsInput<'_>) -> i32 {
    let electronic = input
        .results
        .iter()
        .any(|r| !is_archive(r) && r.size_bytes != Some(0) && r.pages != Some(0));
    let all_digitized =
        !input.components.is_empty() && input.components.iter().all(|c| c.digitized);
    [
        (input.financial_obligation, FINANCIAL_OBLIGATION),
        (input.financial_obligation && input.paid_online, PAID_ONLINE),
        (
            input.financial_obligation && input.fees_recorded,
            FEES_RECORDED,
        ),
        (input.fees_all_zero, FEES_ALL_ZERO),
        (electronic, ELECTRONIC_RESULT),
        (!input.results.is_empty(), RESULT_FILE),
        (electronic && all_digitized, DIGITIZED),
        (all_digitized, COMPONENTS_DIGITIZED),
        (input.components.iter().any(|c| c.digitized), COMPONENT_FILE),
        (
            input.reuses_digitized_data || input.components.iter().any(|c| c.reused),
            REUSED,
        ),
        (
            input.components.iter().any(|c| c.from_citizen_store)
                || input.results.iter().any(|r| r.saved_to_citizen_store),
            CITIZEN_STORE,
        ),
        (input.population_db_used, POPULATION_DB),
        (
            input.rating == Some(Satisfaction::Dissatisfied),
            DISSATISFIED,
        ),
        (input.petitioned, PETITIONED),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .fold(0, |bits, (_, bit)| bits | bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, size: i64) -> ResultDocument {
        ResultDocument {
            name: name.into(),
            media_type: "application/pdf".into(),
            size_bytes: Some(size),
            sha256: "aa".into(),
            pages: None,
            signed: true,
            saved_to_citizen_store: false,
        }
    }

    #[test]
    fn each_fact_has_its_bit() {
        let scanned = ComponentFacts {
            digitized: true,
            reused: false,
            from_citizen_store: false,
        };
        let paper = ComponentFacts {
            digitized: false,
            ..scanned
        };
        let reused = ComponentFacts {
            reused: true,
            from_citizen_store: true,
            ..scanned
        };
        let pdf = [doc("kq.pdf", 100)];
        let base = FactsInput {
            financial_obligation: false,
            paid_online: true,
            fees_recorded: true,
            fees_all_zero: false,
            components: &[],
            results: &[],
            population_db_used: false,
            reuses_digitized_data: false,
            rating: None,
            petitioned: false,
        };
        // Paid online without an obligation is not an online payment of one.
        assert_eq!(facts(&base), 0);
        assert_eq!(
            facts(&FactsInput {
                financial_obligation: true,
                ..base
            }),
            FINANCIAL_OBLIGATION | PAID_ONLINE | FEES_RECORDED
        );
        assert_eq!(
            facts(&FactsInput {
                financial_obligation: true,
                paid_online: false,
                fees_recorded: false,
                ..base
            }),
            FINANCIAL_OBLIGATION
        );
        assert_eq!(
            facts(&FactsInput {
                fees_all_zero: true,
                ..base
            }),
            FEES_ALL_ZERO
        );
        assert_eq!(
            facts(&FactsInput {
                components: &[scanned, scanned],
                results: &pdf,
                ..base
            }),
            ELECTRONIC_RESULT | RESULT_FILE | DIGITIZED | COMPONENTS_DIGITIZED | COMPONENT_FILE
        );
        assert_eq!(
            facts(&FactsInput {
                components: &[scanned, paper],
                results: &pdf,
                ..base
            }),
            ELECTRONIC_RESULT | RESULT_FILE | COMPONENT_FILE
        );
        assert_eq!(
            facts(&FactsInput {
                components: &[paper],
                ..base
            }),
            0
        );
        // An archive or an empty file is no electronic result, but it is a result file as the
        // portal sees one; the components stay digitized.
        assert_eq!(
            facts(&FactsInput {
                components: &[scanned],
                results: &[doc("kq.zip", 100), doc("kq.pdf", 0)],
                ..base
            }),
            RESULT_FILE | COMPONENTS_DIGITIZED | COMPONENT_FILE
        );
        assert_eq!(
            facts(&FactsInput {
                components: &[reused],
                population_db_used: true,
                rating: Some(Satisfaction::Dissatisfied),
                ..base
            }),
            REUSED
                | CITIZEN_STORE
                | POPULATION_DB
                | DISSATISFIED
                | COMPONENTS_DIGITIZED
                | COMPONENT_FILE
        );
        // A dossier that says it reused digitized data counts without a component saying
        // which, or any component at all (PORTAL_RULES 4.3, `HoSoCoThanhPhanSoHoa`).
        assert_eq!(
            facts(&FactsInput {
                reuses_digitized_data: true,
                ..base
            }),
            REUSED
        );
        assert_eq!(
            facts(&FactsInput {
                rating: Some(Satisfaction::Neutral),
                petitioned: true,
                ..base
            }),
            PETITIONED
        );
        // A result saved to the citizen's store counts as the store's use, like a component
        // taken from it (PORTAL_RULES 4.4).
        let saved = [ResultDocument {
            saved_to_citizen_store: true,
            ..doc("kq.pdf", 100)
        }];
        assert_eq!(
            facts(&FactsInput {
                results: &saved,
                ..base
            }),
            ELECTRONIC_RESULT | RESULT_FILE | CITIZEN_STORE
        );
    }
}
