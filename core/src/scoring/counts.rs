//! An indicator's figures as tthc holds them for a unit and period (counted, entered, or both;
//! multiplied by a share; replaced by a level's policy), and their evaluation against a rule set.
//! Pure: storage counts, this scores.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::counting::LevelPolicy;
use super::{Evaluation, Factor, Input, RuleSet, evaluate};
use crate::InvalidParam;

/// Where an indicator's figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// Counted by tthc from its records.
    Observed,
    /// Entered by hand.
    Entered,
    /// tthc's count over a denominator entered by hand (e.g. the national reporting system's
    /// dossier count for `DOSSIER_SYNC`).
    ObservedOverEntered,
}

/// An indicator's numerator and denominator, and where they come from. Kept in closed months'
/// snapshots: the fields added later are optional, so that older snapshots read as they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    /// Numerator.
    pub numerator: u64,
    /// Denominator.
    pub denominator: u64,
    /// Where they come from.
    pub source: Source,
    /// The share the ratio is multiplied by (`ONLINE_DOSSIER_SUBMISSION` × the sync ratio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<Factor>,
    /// The indicator does not apply at the unit's level, and gives this instead of its count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_level: Option<LevelPolicy>,
    /// The misses, when they are not `denominator − numerator` (see
    /// [`super::IndicatorScore::misses`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misses: Option<u64>,
}

impl Count {
    /// Counts with nothing else.
    pub fn new(numerator: u64, denominator: u64, source: Source) -> Self {
        Self {
            numerator,
            denominator,
            source,
            times: None,
            at_level: None,
            misses: None,
        }
    }
}

/// The evaluation of a unit's figures against `rule_set`, and where each scored figure comes
/// from. Figures of indicators the rule set lacks are left out; a level's policy replaces a
/// figure (full: 100%, zero: 0%, dropped: the indicator leaves the maximum); a share multiplies
/// the counts' ratio.
pub fn evaluate_counts(
    counts: &BTreeMap<String, Count>,
    rule_set: &RuleSet,
) -> Result<(Evaluation, BTreeMap<String, Source>), Vec<InvalidParam>> {
    let dropped: BTreeSet<&str> = counts
        .iter()
        .filter(|(_, c)| c.at_level == Some(LevelPolicy::Dropped))
        .map(|(code, _)| code.as_str())
        .collect();
    let reduced;
    let rules = if dropped.is_empty() {
        rule_set
    } else {
        reduced = rule_set.without(&dropped);
        &reduced
    };
    let inputs: BTreeMap<String, Input> = counts
        .iter()
        .filter(|(code, _)| rules.indicator(code).is_some())
        .map(|(code, c)| {
            let n = c.numerator.min(c.denominator);
            let input = match (c.at_level, c.times) {
                (Some(LevelPolicy::Full), _) => Input::ratio(100.0),
                (Some(LevelPolicy::Zero), _) => Input::ratio(0.0),
                (_, Some(times)) => Input::scaled(n, c.denominator, times),
                _ => Input::counts(n, c.denominator),
            };
            (code.clone(), input)
        })
        .collect();
    let sources = counts
        .iter()
        .filter(|(code, _)| inputs.contains_key(*code))
        .map(|(code, c)| (code.clone(), c.source))
        .collect();
    let mut evaluation = evaluate(rules, &inputs)?;
    for indicator in evaluation.groups.iter_mut().flat_map(|g| &mut g.indicators) {
        if let Some(c) = counts.get(&indicator.code)
            && c.at_level.is_none()
        {
            indicator.misses = c.misses;
        }
    }
    Ok((evaluation, sources))
}
