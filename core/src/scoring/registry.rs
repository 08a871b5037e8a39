//! The registry of the 766 indicators tthc knows: for each, what it counts, from which records,
//! after which source, whether its misses are listed record by record, and what action wins its
//! points back. The one place an indicator is added; storage, the API, the misses, the gains and
//! the document read it from here.
//!
//! A rule set ([`super::RuleSet`]) weighs the indicators and says how a ratio becomes points;
//! this registry says how tthc gets the ratio. An indicator of a rule set that is not here is
//! entered by hand.

use serde::Serialize;

use super::gains::Action;

/// Where tthc reads an indicator's figures.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Counted {
    /// The dossiers of the unit's subtree.
    Dossiers,
    /// The petitions of the unit's subtree.
    Petitions,
    /// The catalogue: procedures in force, announcement decisions, publications.
    Catalogue,
    /// Entered by hand (`PUT /units/{code}/figures/{period}`): tthc cannot observe it.
    ByHand,
}

/// One indicator as tthc counts it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "code": "DOSSIER_SYNC", "counted": "dossiers", "source": "PORTAL_RULES 1.4",
    "counts": "dossiers received in the period that were synced to the national portal / dossiers received in the period",
    "missesListed": true, "action": "sync"
})))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorEntry {
    /// The indicator's code.
    pub code: &'static str,
    /// Where its figures come from.
    pub counted: Counted,
    /// The definition it follows (a paragraph of `PORTAL_RULES.md`, or `DOMAIN.md`).
    pub source: &'static str,
    /// What it counts: numerator / denominator, in words.
    pub counts: &'static str,
    /// Whether `GET /units/{code}/scores/{period}/indicators/{code}/misses` lists the records
    /// that cost it points.
    pub misses_listed: bool,
    /// The action of `GET …/gains` that wins its points back, if there is one.
    pub action: Option<Action>,
}

const fn entry(
    code: &'static str,
    counted: Counted,
    source: &'static str,
    counts: &'static str,
    misses_listed: bool,
    action: Option<Action>,
) -> IndicatorEntry {
    IndicatorEntry {
        code,
        counted,
        source,
        counts,
        misses_listed,
        action,
    }
}

use Counted::{ByHand, Catalogue, Dossiers, Petitions};

/// Every indicator tthc knows, in the order of the 766 index.
pub const INDICATORS: [IndicatorEntry; 21] = [
    entry(
        "PUBLISH_ON_TIME",
        Catalogue,
        "PORTAL_RULES 1.1",
        "procedures of decisions announced on time / procedures of the decisions announced in the period",
        true,
        None,
    ),
    entry(
        "PUBLIC_UPDATE_ON_TIME",
        Catalogue,
        "PORTAL_RULES 1.2",
        "procedures published on the national database on time / procedures published or due in the period",
        true,
        None,
    ),
    entry(
        "PUBLIC_CONTENT_FULL",
        Catalogue,
        "PORTAL_RULES 1.3",
        "procedures published in the period with every required part / procedures published in the period",
        true,
        Some(Action::CompleteContent),
    ),
    entry(
        "DOSSIER_SYNC",
        Dossiers,
        "PORTAL_RULES 1.4",
        "dossiers received in the period that were synced to the national portal / dossiers received in the period",
        true,
        Some(Action::Sync),
    ),
    entry(
        "ON_TIME_PROCESSING",
        Dossiers,
        "PORTAL_RULES 2.1",
        "dossiers ended on time in the period and open ones not late at its end / dossiers received or processed in the period",
        true,
        Some(Action::ResolveBeforeDue),
    ),
    entry(
        "ONLINE_SERVICE_PROVIDED",
        Catalogue,
        "PORTAL_RULES 3.1",
        "procedures in force offering partial or full online service / procedures in force (at a commune, of commune level)",
        true,
        Some(Action::OfferOnline),
    ),
    entry(
        "ONLINE_SERVICE_WITH_DOSSIERS",
        Catalogue,
        "PORTAL_RULES 3.2",
        "online services that received an online dossier in the period / online services",
        true,
        Some(Action::ReceiveOnline),
    ),
    entry(
        "ONLINE_DOSSIER_SUBMISSION",
        Dossiers,
        "PORTAL_RULES 3.3",
        "dossiers received online in the period (with a result file for paper-result procedures) / dossiers received in the period, × the sync ratio",
        false,
        None,
    ),
    entry(
        "ONLINE_PAYMENT_DOSSIER",
        Dossiers,
        "PORTAL_RULES 3.6",
        "dossiers received in the period paid online / those of procedures with fees, less those whose listed fees are all zero",
        false,
        None,
    ),
    entry(
        "ONLINE_PAYMENT_FORMALITY",
        Catalogue,
        "DOMAIN.md",
        "procedures with fees that had a dossier paid online in the period / procedures with fees",
        true,
        Some(Action::PayOnline),
    ),
    entry(
        "PAYMENT_INTEGRATED_FORMALITY",
        Catalogue,
        "PORTAL_RULES 3.5",
        "procedures with fees whose synced dossiers carry their fees / procedures with fees",
        true,
        Some(Action::CarryFees),
    ),
    entry(
        "ORIGINAL_RESULT_AVAILABLE",
        Dossiers,
        "PORTAL_RULES 4.1",
        "dossiers finished in the period with a result file / those of paper-result procedures",
        false,
        None,
    ),
    entry(
        "SO_HOA_GIAY_TO_GIAI_QUYET",
        Dossiers,
        "PORTAL_RULES 4.2",
        "dossiers finished in the period with a file in their components (and a result file, for paper-result procedures) / dossiers finished in the period",
        false,
        None,
    ),
    entry(
        "ELECTRONIC_CERTIFIED_COPY",
        ByHand,
        "DOMAIN.md",
        "communes offering electronic certified copies / communes (entered by hand)",
        false,
        None,
    ),
    entry(
        "REUSED_DIGITIZED_DATA",
        Dossiers,
        "PORTAL_RULES 4.3",
        "dossiers received in the period reusing digitized data / dossiers received in the period",
        false,
        None,
    ),
    entry(
        "SYNCED_WITH_DVCQG_PERSONAL_STORAGE",
        Dossiers,
        "PORTAL_RULES 4.4",
        "dossiers received in the period with a component taken from the citizen's store or a result saved to it / dossiers received in the period (those received online when the rule set's counting says so)",
        false,
        None,
    ),
    entry(
        "CITIZEN_DATA_CONNECTED_DOSSIER",
        Dossiers,
        "PORTAL_RULES 4.5",
        "dossiers received in the period that used the population database / those of citizens' procedures",
        false,
        None,
    ),
    entry(
        "CITIZEN_DATA_CONNECTED_FORMALITY",
        Catalogue,
        "PORTAL_RULES 4.5",
        "citizens' procedures with a dossier of the period that used the population database / citizens' procedures",
        true,
        Some(Action::UsePopulationDb),
    ),
    entry(
        "PETITION_PROCESSING_ON_TIME",
        Petitions,
        "PORTAL_RULES 5.2",
        "petitions handled in the period with every stage on time / petitions received or processed in the period",
        true,
        Some(Action::AnswerBeforeDue),
    ),
    entry(
        "PETITION_HANDLING_SATISFACTION",
        Petitions,
        "PORTAL_RULES 5.3",
        "petitions first received in the period, less those rated dissatisfied, petitioned again or handled late / petitions first received in the period",
        true,
        None,
    ),
    entry(
        "DOSSIER_RECEIVING_SATISFACTION",
        Dossiers,
        "PORTAL_RULES 5.4",
        "100% − (share of the dossiers finished in the period handled late + share rated dissatisfied or petitioned about): (finished − late − unhappy) / finished",
        false,
        None,
    ),
];

/// The indicator `code`, if tthc knows it.
pub fn get(code: &str) -> Option<&'static IndicatorEntry> {
    INDICATORS.iter().find(|e| e.code == code)
}

/// The codes of the indicators counted from `counted`.
pub fn counted_from(counted: Counted) -> impl Iterator<Item = &'static str> {
    INDICATORS
        .iter()
        .filter(move |e| e.counted == counted)
        .map(|e| e.code)
}

/// Whether tthc counts `code` itself (from its dossiers, petitions or catalogue).
pub fn is_observed(code: &str) -> bool {
    get(code).is_some_and(|e| e.counted != ByHand)
}

/// Whether tthc counts `code` from dossiers.
pub fn is_dossier_indicator(code: &str) -> bool {
    get(code).is_some_and(|e| e.counted == Dossiers)
}

/// The codes of the indicators whose misses are listed record by record.
pub fn listed() -> impl Iterator<Item = &'static str> {
    INDICATORS
        .iter()
        .filter(|e| e.misses_listed)
        .map(|e| e.code)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::scoring::rule_set;

    #[test]
    fn the_registry_holds_the_shipped_indicators_once_each() {
        let registered: Vec<&str> = INDICATORS.iter().map(|e| e.code).collect();
        let unique: BTreeSet<&str> = registered.iter().copied().collect();
        assert_eq!(unique.len(), registered.len(), "a code is repeated");
        let shipped: Vec<&str> = rule_set("qd766")
            .unwrap()
            .groups
            .iter()
            .flat_map(|g| g.indicators.iter().map(|i| i.code.as_str()))
            .collect();
        assert_eq!(registered, shipped, "in the order of the index");
    }

    #[test]
    fn each_action_wins_back_its_own_indicator() {
        let mut seen = BTreeSet::new();
        for e in INDICATORS.iter() {
            if let Some(action) = e.action {
                assert_eq!(action.indicator(), e.code);
                assert!(seen.insert(action), "{action:?} serves two indicators");
                assert!(e.misses_listed, "{}: an action links to its misses", e.code);
            }
            assert!(
                !(e.misses_listed && e.counted == ByHand),
                "{}: nothing to list",
                e.code
            );
        }
        assert_eq!(seen.len(), 9, "every action is in the registry");
        assert!(is_dossier_indicator("DOSSIER_SYNC"));
        assert!(!is_dossier_indicator("PETITION_PROCESSING_ON_TIME"));
        assert!(is_observed("PUBLISH_ON_TIME"));
        assert!(!is_observed("ELECTRONIC_CERTIFIED_COPY"));
        assert!(!is_observed("NO_SUCH"));
        assert_eq!(counted_from(Petitions).count(), 2);
    }
}
