//! The Decision 766 service-quality index: rule sets as data, and scoring.
//!
//! A rule set ([`RuleSet`]) lists the index's groups and indicators with their points, how each
//! indicator turns its ratio into points ([`Scoring`]) and what a zero denominator gives
//! ([`ZeroPolicy`]). Rule sets are data shipped with the service (`core/data/rulesets/*.json`,
//! embedded at build time), each with the date it applies from, so that a change of the rules
//! is a new file rather than new code.
//!
//! Scoring is pure: [`evaluate`] scores a set of [`Input`]s against a rule set;
//! [`score_indicator`] and [`points_if`] score one indicator, for the live score and for
//! "points won back if N more records were fixed".

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub mod catalogue;
pub mod counting;
pub mod counts;
pub mod gains;
pub mod losses;
pub mod reconcile;
pub mod registry;
mod score;

pub use score::{
    Evaluation, Factor, Figures, GroupScore, IndicatorScore, Input, Measure, evaluate, points_if,
    ranks, round2, score_indicator,
};

#[cfg(test)]
mod tests;

/// How an indicator turns its ratio (numerator / denominator) into points.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum Scoring {
    /// Points in proportion to the ratio: `max × ratio`, capped at the maximum.
    Linear,
    /// Full points from a threshold on, in proportion below it:
    /// `min(max, max × ratio / threshold)`.
    FullAt {
        /// The ratio, as a percentage (0–100), from which the indicator earns full points.
        threshold: f64,
    },
}

/// What an indicator earns when its denominator is zero (nothing to measure in the period).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ZeroPolicy {
    /// No points.
    Zero,
    /// Full points.
    Full,
    /// No score: the indicator counts 0 in its group, whose maximum stays unchanged.
    NotApplicable,
}

/// One indicator of a rule set.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Indicator {
    /// The indicator's code (the national portal's where it has one), e.g. `ON_TIME_PROCESSING`.
    pub code: String,
    /// Its name in Vietnamese.
    pub name_vi: String,
    /// Its name in English.
    pub name_en: String,
    /// What it measures: numerator / denominator, in words.
    pub description: String,
    /// The most points it gives.
    pub max_score: f64,
    /// How its ratio turns into points.
    pub scoring: Scoring,
    /// What a zero denominator gives.
    pub zero_denominator: ZeroPolicy,
}

/// A group of indicators of a rule set.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Group {
    /// The group's code, e.g. `PROGRESS`.
    pub code: String,
    /// Its name in Vietnamese.
    pub name_vi: String,
    /// Its name in English.
    pub name_en: String,
    /// The most points it gives: the sum of its indicators' maxima.
    pub max_score: f64,
    /// Its indicators.
    pub indicators: Vec<Indicator>,
}

/// A version of the index's rules: groups, indicators, points, from a date on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "code": "qd766-2027", "nameVi": "Bộ chỉ số 766 (cách tính từ năm 2027)",
    "nameEn": "The 766 index (counted as from 2027)", "appliesFrom": "2027-01-01",
    "source": "Quyết định 766/QĐ-TTg; mô tả công thức tính của Cổng DVC quốc gia",
    "groups": [{"code": "PROGRESS", "nameVi": "Tiến độ giải quyết", "nameEn": "Processing progress",
        "maxScore": 100.0, "indicators": [{"code": "ON_TIME_PROCESSING",
            "nameVi": "Hồ sơ giải quyết đúng hạn", "nameEn": "Dossiers processed on time",
            "description": "(finished on time + in progress within time) / received or processed",
            "maxScore": 100.0, "scoring": {"kind": "linear"}, "zeroDenominator": "zero"}]}],
    "counting": {"onlineSubmissionTimesSync": true, "notApplicable": {}}
})))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSet {
    /// The rule set's code, e.g. `qd766`.
    pub code: String,
    /// Its name in Vietnamese.
    pub name_vi: String,
    /// Its name in English.
    pub name_en: String,
    /// The first day it applies to.
    pub applies_from: NaiveDate,
    /// The legal text it comes from.
    pub source: String,
    /// Its groups of indicators.
    pub groups: Vec<Group>,
    /// How tthc counts the indicators it observes from its records (left out: as the national
    /// portal counts them, PORTAL_RULES.md).
    #[serde(default)]
    pub counting: counting::Counting,
}

impl RuleSet {
    /// A copy without the indicators `codes`: each group's maximum loses theirs, and a group
    /// left empty goes. The copy's total is below [`TOTAL_POINTS`] (a level's dropped
    /// indicators), so it is not checked.
    pub fn without(&self, codes: &BTreeSet<&str>) -> RuleSet {
        let mut out = self.clone();
        for group in &mut out.groups {
            group
                .indicators
                .retain(|i| !codes.contains(i.code.as_str()));
            group.max_score = group.indicators.iter().map(|i| i.max_score).sum();
        }
        out.groups.retain(|g| !g.indicators.is_empty());
        out
    }
}

/// The total points of the index, which every rule set's groups must sum to.
pub const TOTAL_POINTS: f64 = 100.0;

/// Tolerance when comparing sums of points.
const EPSILON: f64 = 1e-9;

impl RuleSet {
    /// The indicator called `code`, with its group.
    pub fn indicator(&self, code: &str) -> Option<(&Group, &Indicator)> {
        self.groups.iter().find_map(|group| {
            group
                .indicators
                .iter()
                .find(|indicator| indicator.code == code)
                .map(|indicator| (group, indicator))
        })
    }

    /// The most points of the rule set: the sum of its groups' maxima (100 for a valid set).
    pub fn max_score(&self) -> f64 {
        self.groups.iter().map(|group| group.max_score).sum()
    }

    /// What is wrong with the rule set, in words (empty when it is valid): a group's maximum
    /// that is not the sum of its indicators' maxima, a total other than [`TOTAL_POINTS`], a
    /// repeated group or indicator code, a maximum that is not positive, a threshold outside
    /// (0, 100].
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut codes = BTreeSet::new();
        if self.groups.is_empty() {
            problems.push(format!("rule set {} has no groups", self.code));
        }
        for group in &self.groups {
            if !codes.insert(group.code.as_str()) {
                problems.push(format!("code {} is repeated", group.code));
            }
            let sum: f64 = group.indicators.iter().map(|i| i.max_score).sum();
            if (sum - group.max_score).abs() > EPSILON {
                problems.push(format!(
                    "group {} has a maximum of {} but its indicators sum to {sum}",
                    group.code, group.max_score
                ));
            }
            if group.indicators.is_empty() {
                problems.push(format!("group {} has no indicators", group.code));
            }
            for indicator in &group.indicators {
                if !codes.insert(indicator.code.as_str()) {
                    problems.push(format!("code {} is repeated", indicator.code));
                }
                if !(indicator.max_score > 0.0 && indicator.max_score.is_finite()) {
                    problems.push(format!(
                        "indicator {} has a maximum of {}, not a positive number",
                        indicator.code, indicator.max_score
                    ));
                }
                if let Scoring::FullAt { threshold } = indicator.scoring
                    && !(threshold > 0.0 && threshold <= 100.0)
                {
                    problems.push(format!(
                        "indicator {} has a threshold of {threshold}, not a percentage above 0",
                        indicator.code
                    ));
                }
            }
        }
        let indicators: BTreeSet<&str> = self
            .groups
            .iter()
            .flat_map(|g| g.indicators.iter().map(|i| i.code.as_str()))
            .collect();
        problems.extend(self.counting.problems(&indicators));
        let total = self.max_score();
        if (total - TOTAL_POINTS).abs() > EPSILON {
            problems.push(format!(
                "rule set {} totals {total} points, not {TOTAL_POINTS}",
                self.code
            ));
        }
        problems
    }
}

/// The rule sets shipped with the service: file name and content.
const SHIPPED: &[(&str, &str)] = &[("qd766.json", include_str!("../../data/rulesets/qd766.json"))];

/// Reads one shipped rule set and checks it; the reason when it is broken.
fn parse_rule_set(name: &str, json: &str) -> Result<RuleSet, String> {
    let rule_set: RuleSet =
        serde_json::from_str(json).map_err(|e| format!("{name} does not parse: {e}"))?;
    let problems = rule_set.problems();
    if problems.is_empty() {
        Ok(rule_set)
    } else {
        Err(format!("{name}: {}", problems.join("; ")))
    }
}

/// Every shipped rule set, parsed and checked (a test requires them all to be valid).
fn parse_shipped() -> Vec<Result<RuleSet, String>> {
    SHIPPED
        .iter()
        .map(|(name, json)| parse_rule_set(name, json))
        .collect()
}

/// The shipped rule sets, parsed once, by date of application. A broken file (caught by the
/// tests) is left out rather than stopping the service.
static RULE_SETS: LazyLock<Vec<Arc<RuleSet>>> = LazyLock::new(|| {
    let mut sets: Vec<Arc<RuleSet>> = parse_shipped()
        .into_iter()
        .filter_map(Result::ok)
        .map(Arc::new)
        .collect();
    sets.sort_by_key(|set| set.applies_from);
    sets
});

/// The rule sets shipped with the service, oldest first.
pub fn rule_sets() -> impl Iterator<Item = &'static RuleSet> {
    RULE_SETS.iter().map(|set| set.as_ref())
}

/// The shipped rule set called `code` (e.g. `qd766`).
pub fn rule_set(code: &str) -> Option<&'static RuleSet> {
    rule_sets().find(|set| set.code == code)
}

/// Every rule set the service knows: those shipped with it and those added at run time, by
/// date of application. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RuleSets {
    sets: Vec<Arc<RuleSet>>,
}

impl RuleSets {
    /// The shipped rule sets alone.
    pub fn shipped() -> Self {
        Self {
            sets: RULE_SETS.clone(),
        }
    }

    /// The shipped rule sets and `added` (each checked when it was added; a shipped code among
    /// them is ignored).
    pub fn with(added: Vec<RuleSet>) -> Self {
        let mut sets: Vec<Arc<RuleSet>> = RULE_SETS.clone();
        sets.extend(
            added
                .into_iter()
                .filter(|set| !is_shipped(&set.code))
                .map(Arc::new),
        );
        sets.sort_by(|a, b| (a.applies_from, &a.code).cmp(&(b.applies_from, &b.code)));
        Self { sets }
    }

    /// The rule sets, oldest first.
    pub fn all(&self) -> impl Iterator<Item = &RuleSet> {
        self.sets.iter().map(|set| set.as_ref())
    }

    /// The rule set called `code`.
    pub fn get(&self, code: &str) -> Option<Arc<RuleSet>> {
        self.sets.iter().find(|set| set.code == code).cloned()
    }

    /// The rule set in force on `date`: the one that applies from the latest date not after
    /// it; none before the first rule set.
    pub fn in_force(&self, date: NaiveDate) -> Option<Arc<RuleSet>> {
        self.sets
            .iter()
            .filter(|set| set.applies_from <= date)
            .max_by_key(|set| set.applies_from)
            .cloned()
    }
}

/// Whether `code` is a rule set shipped with the service (read-only: a change to it is a new
/// rule set).
pub fn is_shipped(code: &str) -> bool {
    rule_set(code).is_some()
}
