//! How tthc counts, from its records, the indicators it observes: the choices the national portal
//! made in its formula description (`PORTAL_RULES.md`), kept as data of a rule set so that a
//! changed portal definition is a new rule set, not new code.
//!
//! Each field names the indicator it concerns and the PORTAL_RULES paragraph it follows. A rule
//! set that leaves [`Counting`] out gets the portal's choices ([`Counting::default`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::text::fold;
use crate::unit::UnitLevel;

/// What an indicator that does not apply at a unit's level gives there.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LevelPolicy {
    /// Full points (the portal's business rule for communes).
    Full,
    /// No points.
    Zero,
    /// Left out: its points leave the group's and the total's maximum.
    Dropped,
}

/// The counting choices of a rule set.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "onlineSubmissionTimesSync": true,
    "paperResultNeedsElectronicResult": true,
    "resultIndicatorsOverPaperResult": true,
    "populationDataOverCitizenProcedures": true,
    "citizenSubjects": ["công dân", "cá nhân", "người nước ngoài", "hộ gia đình"],
    "personalStorageOverReceived": true,
    "announcementsDatedInPeriodOnly": true,
    "onlinePaymentOverFeeProcedures": true,
    "publicContentJudgedNow": true,
    "oneComponentFileDigitizes": true,
    "receivingSatisfactionSubtractsShares": true,
    "anyResultFileCounts": true,
    "communeOnlineServiceByLevel": true,
    "notApplicable": {"commune": {"PUBLIC_UPDATE_ON_TIME": "full", "PUBLIC_CONTENT_FULL": "full"}}
})))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Counting {
    /// `ONLINE_DOSSIER_SUBMISSION` (PORTAL_RULES 3.3): the online share is multiplied by the
    /// unit's sync ratio (`DOSSIER_SYNC`'s figures).
    pub online_submission_times_sync: bool,
    /// `ONLINE_DOSSIER_SUBMISSION` (3.3): an online dossier of a procedure whose result is a
    /// paper document counts as online only with an electronic result attached (what counts as
    /// one: `anyResultFileCounts`).
    pub paper_result_needs_electronic_result: bool,
    /// `ORIGINAL_RESULT_AVAILABLE` and `SO_HOA_GIAY_TO_GIAI_QUYET` (4.1, 4.2): the first counts
    /// only the dossiers of procedures whose result is a paper document, and the second asks a
    /// result only of those (of the others, digitized components suffice).
    pub result_indicators_over_paper_result: bool,
    /// `CITIZEN_DATA_CONNECTED_DOSSIER` and `_FORMALITY` (4.5): counted over the procedures
    /// whose target subjects are citizens or foreigners (see `citizenSubjects`) and their
    /// dossiers only.
    pub population_data_over_citizen_procedures: bool,
    /// The words that make a procedure's target subject a citizen's (matched in the subject
    /// without case or tone marks, e.g. "công dân" in "Công dân Việt Nam").
    pub citizen_subjects: Vec<String>,
    /// `SYNCED_WITH_DVCQG_PERSONAL_STORAGE` (4.4): counted over every dossier received in the
    /// period, online or not. Otherwise over those received online only (`DOMAIN.md`).
    pub personal_storage_over_received: bool,
    /// `PUBLISH_ON_TIME` (1.1): only the procedures of decisions the province announced in the
    /// period count; a decision never made is not in the indicator. Otherwise a deadline that
    /// fell in the period unmet also counts, as late.
    pub announcements_dated_in_period_only: bool,
    /// `ONLINE_PAYMENT_DOSSIER` (3.6): counted over the dossiers of procedures with fees (in the
    /// catalogue, or shown by a non-zero fee the dossier lists), less those whose listed fees are
    /// all zero, whether or not the dossier lists its fees. Otherwise over the dossiers with a
    /// financial obligation only.
    pub online_payment_over_fee_procedures: bool,
    /// `PUBLIC_CONTENT_FULL` (1.3, "judged now, not per period"): every procedure published on
    /// the national database by the day the period is judged (today, for the running period)
    /// counts, with the content in force that day (else the first to come); one whose every
    /// version has ended is left out. Otherwise only the procedures published in the period
    /// count.
    pub public_content_judged_now: bool,
    /// `SO_HOA_GIAY_TO_GIAI_QUYET` (4.2): a dossier's components count as digitized when one of
    /// them carries a file ("a file in their components"). Otherwise every submitted component
    /// must be digitized.
    pub one_component_file_digitizes: bool,
    /// `DOSSIER_RECEIVING_SATISFACTION` (5.4): 100% − (the share of the finished dossiers handled
    /// late + the share petitioned about or rated dissatisfied), so a dossier both late and
    /// disliked costs twice. Otherwise the share of the finished dossiers that are none of these.
    pub receiving_satisfaction_subtracts_shares: bool,
    /// `ORIGINAL_RESULT_AVAILABLE`, `SO_HOA_GIAY_TO_GIAI_QUYET` and `ONLINE_DOSSIER_SUBMISSION`'s
    /// paper-result condition (4.1, 4.2, 3.3): any result document attached counts, as the
    /// portal sees "a linked result file", an archive or an empty file included (the quality
    /// flags `archiveResult` and `emptyResult` still name them). Otherwise only a result that
    /// is neither counts as electronic.
    pub any_result_file_counts: bool,
    /// `ONLINE_SERVICE_PROVIDED` (3.1) at a commune: counted over the procedures in force it
    /// handles whose levels include commune ("a commune: procedures whose level is commune").
    /// Otherwise over every procedure it handles, as at the other levels.
    pub commune_online_service_by_level: bool,
    /// By unit level, the indicators that do not apply there and what they give instead
    /// (`Levels and what does not apply`: 1.2 and 1.3 are province-level only).
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, BTreeMap<String, LevelPolicy>>))]
    pub not_applicable: BTreeMap<UnitLevel, BTreeMap<String, LevelPolicy>>,
}

impl Default for Counting {
    /// The portal's choices (PORTAL_RULES.md).
    fn default() -> Self {
        Self {
            online_submission_times_sync: true,
            paper_result_needs_electronic_result: true,
            result_indicators_over_paper_result: true,
            population_data_over_citizen_procedures: true,
            citizen_subjects: ["công dân", "cá nhân", "người nước ngoài", "hộ gia đình"]
                .map(String::from)
                .to_vec(),
            personal_storage_over_received: true,
            announcements_dated_in_period_only: true,
            online_payment_over_fee_procedures: true,
            public_content_judged_now: true,
            one_component_file_digitizes: true,
            receiving_satisfaction_subtracts_shares: true,
            any_result_file_counts: true,
            commune_online_service_by_level: true,
            not_applicable: BTreeMap::from([(
                UnitLevel::Commune,
                BTreeMap::from([
                    ("PUBLIC_UPDATE_ON_TIME".to_owned(), LevelPolicy::Full),
                    ("PUBLIC_CONTENT_FULL".to_owned(), LevelPolicy::Full),
                ]),
            )]),
        }
    }
}

impl Counting {
    /// The choices tthc made before it followed the portal's formula description: every
    /// dossier and procedure counted, no sync factor, unmet deadlines late, every indicator at
    /// every level. For tests and for rule sets that want them.
    pub fn unrestricted() -> Self {
        Self {
            online_submission_times_sync: false,
            paper_result_needs_electronic_result: false,
            result_indicators_over_paper_result: false,
            population_data_over_citizen_procedures: false,
            citizen_subjects: Vec::new(),
            personal_storage_over_received: false,
            announcements_dated_in_period_only: false,
            online_payment_over_fee_procedures: false,
            public_content_judged_now: false,
            one_component_file_digitizes: false,
            receiving_satisfaction_subtracts_shares: false,
            any_result_file_counts: false,
            commune_online_service_by_level: false,
            not_applicable: BTreeMap::new(),
        }
    }

    /// Whether a procedure with these target subjects serves citizens.
    pub fn is_citizen_procedure<S: AsRef<str>>(&self, subjects: &[S]) -> bool {
        self.citizen_matcher()(subjects)
    }

    /// [`Counting::is_citizen_procedure`] with the subject words folded once, for many
    /// procedures.
    pub fn citizen_matcher<S: AsRef<str>>(&self) -> impl Fn(&[S]) -> bool + use<S> {
        let words: Vec<String> = self
            .citizen_subjects
            .iter()
            .map(|w| fold(w))
            .filter(|w| !w.is_empty())
            .collect();
        move |subjects: &[S]| {
            subjects.iter().any(|subject| {
                let subject = fold(subject.as_ref());
                words.iter().any(|w| subject.contains(w.as_str()))
            })
        }
    }

    /// What the indicator `code` gives at `level` when it does not apply there.
    pub fn at_level(&self, level: UnitLevel, code: &str) -> Option<LevelPolicy> {
        self.not_applicable
            .get(&level)
            .and_then(|policies| policies.get(code))
            .copied()
    }

    /// What is wrong with the choices, in words, given the rule set's indicator codes: an
    /// indicator named per level that the rule set lacks, an empty subject word.
    pub fn problems(&self, indicators: &BTreeSet<&str>) -> Vec<String> {
        let mut problems = Vec::new();
        for (level, policies) in &self.not_applicable {
            for code in policies.keys() {
                if !indicators.contains(code.as_str()) {
                    problems.push(format!(
                        "counting.notApplicable.{}.{code} is not an indicator of the rule set",
                        level.as_str()
                    ));
                }
            }
        }
        if self.citizen_subjects.iter().any(|w| fold(w).is_empty()) {
            problems.push("counting.citizenSubjects has an empty word".to_owned());
        }
        if self.population_data_over_citizen_procedures && self.citizen_subjects.is_empty() {
            problems.push(
                "counting.citizenSubjects is empty, so no procedure would be a citizen's"
                    .to_owned(),
            );
        }
        problems
    }
}

/// What the counting reads of a procedure (the version in force when the period is judged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcedureKind {
    /// Its result is a paper document.
    pub paper_result: bool,
    /// Its target subjects include citizens or foreigners.
    pub citizen: bool,
    /// Its content states a non-zero fee or charge.
    pub fees: bool,
}

/// Whether a dossier counts as received online for `ONLINE_DOSSIER_SUBMISSION`: submitted online,
/// and, when the rules ask it, with an electronic result if its procedure's result is on paper.
pub fn counts_online(
    counting: &Counting,
    online: bool,
    kind: ProcedureKind,
    electronic_result: bool,
) -> bool {
    online
        && (!counting.paper_result_needs_electronic_result
            || !kind.paper_result
            || electronic_result)
}

/// How a finished dossier counts for the result indicators: whether it is in
/// `ORIGINAL_RESULT_AVAILABLE`'s denominator, and whether it is digitized for
/// `SO_HOA_GIAY_TO_GIAI_QUYET` (components digitized, and an electronic result when the rules
/// ask it of its procedure).
pub fn result_counts(
    counting: &Counting,
    kind: ProcedureKind,
    components_digitized: bool,
    electronic_result: bool,
) -> (bool, bool) {
    if counting.result_indicators_over_paper_result {
        (
            kind.paper_result,
            components_digitized && (!kind.paper_result || electronic_result),
        )
    } else {
        (true, components_digitized && electronic_result)
    }
}

/// Whether a dossier's components count as digitized for `SO_HOA_GIAY_TO_GIAI_QUYET`, from its
/// facts bits ([`crate::dossier::facts`]): one component with a file, or every one, as the rules
/// say.
pub fn components_digitized(counting: &Counting, facts: i32) -> bool {
    use crate::dossier::facts::{COMPONENT_FILE, COMPONENTS_DIGITIZED};
    let bit = if counting.one_component_file_digitizes {
        COMPONENT_FILE
    } else {
        COMPONENTS_DIGITIZED
    };
    facts & bit != 0
}

/// Whether a dossier has a result for the result indicators and 3.3, from its facts bits: any
/// result document, or only one that is neither an archive nor empty, as the rules say. An
/// electronic result is a result file too: a dossier written before `RESULT_FILE` existed (by
/// an earlier instance, or before migration 000039, which sets the bit only where no
/// electronic result does) carries only `ELECTRONIC_RESULT`.
pub fn has_result(counting: &Counting, facts: i32) -> bool {
    use crate::dossier::facts::{ELECTRONIC_RESULT, RESULT_FILE};
    let bits = if counting.any_result_file_counts {
        RESULT_FILE | ELECTRONIC_RESULT
    } else {
        ELECTRONIC_RESULT
    };
    facts & bits != 0
}

/// What a unit's finished dossiers give `DOSSIER_RECEIVING_SATISFACTION`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceivingTally {
    /// Finished (or returned) in the period: the denominator.
    pub finished: u64,
    /// Of those, handled late.
    pub late: u64,
    /// Of those, petitioned about or rated dissatisfied.
    pub unhappy: u64,
    /// Of those, neither late nor unhappy.
    pub neither: u64,
}

impl ReceivingTally {
    /// Counts one finished dossier `weight` times.
    pub fn add(&mut self, weight: u64, late: bool, unhappy: bool) {
        self.finished += weight;
        self.late += weight * u64::from(late);
        self.unhappy += weight * u64::from(unhappy);
        self.neither += weight * u64::from(!late && !unhappy);
    }

    /// The indicator's numerator over `finished`: the portal's 100% − (late share + unhappy
    /// share), never below zero, as a count (PORTAL_RULES 5.4); or the dossiers that are neither.
    pub fn numerator(&self, counting: &Counting) -> u64 {
        if counting.receiving_satisfaction_subtracts_shares {
            self.finished.saturating_sub(self.late + self.unhappy)
        } else {
            self.neither
        }
    }

    /// The misses, when the portal's formula counts them past `finished − numerator`: late +
    /// unhappy, a dossier both counting twice, without the floor at zero.
    pub fn misses(&self, counting: &Counting) -> Option<u64> {
        counting
            .receiving_satisfaction_subtracts_shares
            .then_some(self.late + self.unhappy)
    }
}

/// How a dossier received in the period counts for `ONLINE_PAYMENT_DOSSIER`, from its procedure
/// and its facts bits: whether it is in the denominator, and whether it is in the numerator
/// (paid online).
pub fn online_payment_counts(counting: &Counting, kind: ProcedureKind, facts: i32) -> (bool, bool) {
    use crate::dossier::facts::{FEES_ALL_ZERO, FINANCIAL_OBLIGATION, PAID_ONLINE};
    let has = |bit: i32| facts & bit != 0;
    let base = if counting.online_payment_over_fee_procedures {
        (kind.fees || has(FINANCIAL_OBLIGATION)) && !has(FEES_ALL_ZERO)
    } else {
        has(FINANCIAL_OBLIGATION)
    };
    (base, base && has(PAID_ONLINE))
}

/// Whether a dossier (or procedure) is in the population-data indicators.
pub fn in_population_data(counting: &Counting, kind: ProcedureKind) -> bool {
    !counting.population_data_over_citizen_procedures || kind.citizen
}

/// How a dossier received in the period counts for `SYNCED_WITH_DVCQG_PERSONAL_STORAGE`:
/// whether it is in the denominator, and whether it is in the numerator (it took a component
/// from the citizen's store or saved a result to it).
pub fn personal_storage_counts(
    counting: &Counting,
    online: bool,
    used_store: bool,
) -> (bool, bool) {
    let counted = counting.personal_storage_over_received || online;
    (counted, counted && used_store)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAPER: ProcedureKind = ProcedureKind {
        paper_result: true,
        citizen: true,
        fees: true,
    };
    const ELECTRONIC: ProcedureKind = ProcedureKind {
        paper_result: false,
        citizen: false,
        fees: false,
    };

    #[test]
    fn citizens_are_found_in_the_subjects_without_marks_or_case() {
        let c = Counting::default();
        assert!(c.is_citizen_procedure(&["Công dân Việt Nam"]));
        assert!(c.is_citizen_procedure(&["Tổ chức", "NGƯỜI NƯỚC NGOÀI"]));
        assert!(c.is_citizen_procedure(&["Cá nhân, tổ chức"]));
        assert!(!c.is_citizen_procedure(&["Doanh nghiệp", "Tổ chức"]));
        assert!(!c.is_citizen_procedure::<&str>(&[]));
        assert!(!Counting::unrestricted().is_citizen_procedure(&["Công dân"]));
    }

    #[test]
    fn a_paper_result_needs_an_electronic_one_to_count_online() {
        let c = Counting::default();
        assert!(!counts_online(&c, true, PAPER, false));
        assert!(counts_online(&c, true, PAPER, true));
        assert!(counts_online(&c, true, ELECTRONIC, false));
        assert!(!counts_online(&c, false, ELECTRONIC, true));
        assert!(counts_online(&Counting::unrestricted(), true, PAPER, false));
    }

    #[test]
    fn result_indicators_count_paper_result_procedures() {
        let c = Counting::default();
        // Paper result: in 4.1; digitized only with components and an electronic result.
        assert_eq!(result_counts(&c, PAPER, true, false), (true, false));
        assert_eq!(result_counts(&c, PAPER, true, true), (true, true));
        // Electronic result: not in 4.1; components suffice for 4.2.
        assert_eq!(result_counts(&c, ELECTRONIC, true, false), (false, true));
        assert_eq!(result_counts(&c, ELECTRONIC, false, true), (false, false));
        let u = Counting::unrestricted();
        assert_eq!(result_counts(&u, ELECTRONIC, true, false), (true, false));
        assert_eq!(result_counts(&u, ELECTRONIC, true, true), (true, true));
    }

    #[test]
    fn one_component_with_a_file_digitizes_a_dossier() {
        use crate::dossier::facts::{COMPONENT_FILE, COMPONENTS_DIGITIZED};
        let c = Counting::default();
        let u = Counting::unrestricted();
        // One of two components scanned.
        assert!(components_digitized(&c, COMPONENT_FILE));
        assert!(!components_digitized(&u, COMPONENT_FILE));
        let every = COMPONENT_FILE | COMPONENTS_DIGITIZED;
        assert!(components_digitized(&c, every) && components_digitized(&u, every));
        assert!(!components_digitized(&c, 0));
    }

    #[test]
    fn any_result_file_counts_as_the_portal_sees_one() {
        use crate::dossier::facts::{ELECTRONIC_RESULT, RESULT_FILE};
        let (c, u) = (Counting::default(), Counting::unrestricted());
        // A zip or an empty file: a result file, not an electronic result.
        assert!(has_result(&c, RESULT_FILE));
        assert!(!has_result(&u, RESULT_FILE));
        let pdf = RESULT_FILE | ELECTRONIC_RESULT;
        assert!(has_result(&c, pdf) && has_result(&u, pdf));
        assert!(!has_result(&c, 0) && !has_result(&u, 0));
        // Written before the result-file bit: an electronic result alone still counts.
        assert!(has_result(&c, ELECTRONIC_RESULT));
    }

    #[test]
    fn a_dossier_late_and_disliked_costs_receiving_satisfaction_twice() {
        let mut t = ReceivingTally::default();
        t.add(2, false, false);
        t.add(1, true, true);
        t.add(1, true, false);
        assert_eq!(t.finished, 4);
        // 100% − (2/4 late + 1/4 unhappy) = 1/4.
        assert_eq!(t.numerator(&Counting::default()), 1);
        assert_eq!(t.numerator(&Counting::unrestricted()), 2);
        // Never below zero.
        let mut worst = ReceivingTally::default();
        worst.add(3, true, true);
        assert_eq!(worst.numerator(&Counting::default()), 0);
    }

    #[test]
    fn online_payment_counts_the_dossiers_of_fee_procedures_not_exempt() {
        use crate::dossier::facts::{FEES_ALL_ZERO, FINANCIAL_OBLIGATION, PAID_ONLINE};
        let c = Counting::default();
        let u = Counting::unrestricted();
        // A fee procedure's dossier listing no fees: in the portal's base, not in the old one.
        assert_eq!(online_payment_counts(&c, PAPER, 0), (true, false));
        assert_eq!(online_payment_counts(&u, PAPER, 0), (false, false));
        // Its fees all zero: exempt, out of the base.
        assert_eq!(
            online_payment_counts(&c, PAPER, FEES_ALL_ZERO),
            (false, false)
        );
        // Paid online.
        let paid = FINANCIAL_OBLIGATION | PAID_ONLINE;
        assert_eq!(online_payment_counts(&c, PAPER, paid), (true, true));
        assert_eq!(online_payment_counts(&u, PAPER, paid), (true, true));
        // A procedure tthc does not know as a fee one, but a non-zero fee listed.
        assert_eq!(
            online_payment_counts(&c, ELECTRONIC, FINANCIAL_OBLIGATION),
            (true, false)
        );
        assert_eq!(online_payment_counts(&c, ELECTRONIC, 0), (false, false));
    }

    #[test]
    fn the_personal_store_counts_every_received_dossier() {
        let c = Counting::default();
        assert_eq!(personal_storage_counts(&c, false, true), (true, true));
        assert_eq!(personal_storage_counts(&c, false, false), (true, false));
        let u = Counting::unrestricted();
        assert_eq!(personal_storage_counts(&u, false, true), (false, false));
        assert_eq!(personal_storage_counts(&u, true, true), (true, true));
    }

    #[test]
    fn level_policies_and_their_problems() {
        let c = Counting::default();
        assert_eq!(
            c.at_level(UnitLevel::Commune, "PUBLIC_CONTENT_FULL"),
            Some(LevelPolicy::Full)
        );
        assert_eq!(c.at_level(UnitLevel::Province, "PUBLIC_CONTENT_FULL"), None);
        assert_eq!(c.at_level(UnitLevel::Commune, "ON_TIME_PROCESSING"), None);
        let known = BTreeSet::from(["PUBLIC_UPDATE_ON_TIME", "PUBLIC_CONTENT_FULL"]);
        assert!(c.problems(&known).is_empty());
        let problems = c.problems(&BTreeSet::from(["PUBLIC_CONTENT_FULL"]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("commune.PUBLIC_UPDATE_ON_TIME"));
        let mut blank = Counting {
            citizen_subjects: vec![" ".into()],
            ..Counting::default()
        };
        assert_eq!(blank.problems(&known).len(), 1);
        blank.citizen_subjects.clear();
        assert_eq!(blank.problems(&known).len(), 1);
        assert!(in_population_data(&blank, PAPER));
        assert!(!in_population_data(&blank, ELECTRONIC));
    }

    #[test]
    fn counting_reads_partial_json_with_the_portal_defaults() {
        let c: Counting = serde_json::from_str(r#"{"onlineSubmissionTimesSync": false}"#).unwrap();
        assert!(!c.online_submission_times_sync);
        assert!(c.paper_result_needs_electronic_result);
        assert!(serde_json::from_str::<Counting>(r#"{"typo": 1}"#).is_err());
        assert!(serde_json::from_str::<Counting>(r#"{"notApplicable": {"village": {}}}"#).is_err());
    }
}
