//! Scoring indicators, groups and a whole rule set.
//!
//! Rounding follows what the national portal publishes: ratios as percentages and scores with
//! two decimals. A score is computed from the unrounded ratio and then rounded; a group's score
//! is the sum of its indicators' unrounded scores, rounded once at the end, and the total is
//! the sum of the groups' unrounded scores, rounded once. A published group score may so differ
//! by a hundredth from the sum of the published indicator scores (three indicators at 0.857,
//! 0.571 and 0.286 show 0.86, 0.57 and 0.29 but total 1.71, not 1.72).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Indicator, RuleSet, Scoring, ZeroPolicy};
use crate::InvalidParam;

/// Rounds to two decimals, as the portal publishes scores and percentages (half away from
/// zero, on the binary value; never `-0`).
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0 + 0.0
}

/// Ranks of `scores` (higher is better; equal scores share the better rank: 1, 2, 2, 4).
pub fn ranks(scores: &[f64]) -> Vec<usize> {
    scores
        .iter()
        .map(|s| 1 + scores.iter().filter(|other| *other > s).count())
        .collect()
}

/// The figures of one indicator, given by a client: either counts (`numerator` and
/// `denominator`) or a `ratio` as a percentage, never both.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"numerator": 144625, "denominator": 184513})))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    /// The records that meet the indicator (with `denominator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<u64>,
    /// The records measured (with `numerator`); 0 applies the indicator's zero-denominator
    /// policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<u64>,
    /// The ratio as a percentage from 0 to 100 (instead of counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// A share the counts' ratio is multiplied by (with counts only): `ONLINE_DOSSIER_SUBMISSION`
    /// is multiplied by the sync ratio (PORTAL_RULES 3.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<Factor>,
}

/// A share that multiplies an indicator's ratio: `numerator / denominator` (a zero denominator
/// multiplies by 0).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"numerator": 4, "denominator": 5})))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Factor {
    /// The share's numerator (at most its denominator).
    pub numerator: u64,
    /// The share's denominator.
    pub denominator: u64,
}

impl Factor {
    /// The share as a fraction from 0 to 1 (0 for a zero denominator).
    pub fn fraction(self) -> f64 {
        if self.denominator == 0 {
            0.0
        } else {
            (self.numerator as f64 / self.denominator as f64).clamp(0.0, 1.0)
        }
    }
}

impl Input {
    /// Counts: `numerator` of `denominator`.
    pub fn counts(numerator: u64, denominator: u64) -> Self {
        Self {
            numerator: Some(numerator),
            denominator: Some(denominator),
            ratio: None,
            times: None,
        }
    }

    /// Counts whose ratio is multiplied by `times`.
    pub fn scaled(numerator: u64, denominator: u64, times: Factor) -> Self {
        Self {
            times: Some(times),
            ..Self::counts(numerator, denominator)
        }
    }

    /// A ratio, as a percentage.
    pub fn ratio(percent: f64) -> Self {
        Self {
            ratio: Some(percent),
            ..Self::default()
        }
    }

    /// The input checked for the indicator `code`: counts with the numerator not above the
    /// denominator, or a ratio from 0 to 100; otherwise the refusal, naming the field as
    /// `inputs.{code}` or `inputs.{code}.numerator` / `.ratio`.
    pub fn check(&self, code: &str) -> Result<Measure, InvalidParam> {
        match (self.numerator, self.denominator, self.ratio) {
            (Some(numerator), Some(denominator), None) => {
                if numerator > denominator {
                    return Err(InvalidParam::new(
                        format!("inputs.{code}.numerator"),
                        format!(
                            "the numerator ({numerator}) exceeds the denominator ({denominator})"
                        ),
                    ));
                }
                let figures = Figures {
                    numerator,
                    denominator,
                };
                match self.times {
                    None => Ok(Measure::Counts(figures)),
                    Some(times) if times.numerator > times.denominator => Err(InvalidParam::new(
                        format!("inputs.{code}.times.numerator"),
                        format!(
                            "the share's numerator ({}) exceeds its denominator ({})",
                            times.numerator, times.denominator
                        ),
                    )),
                    Some(times) => Ok(Measure::Scaled(figures, times)),
                }
            }
            (None, None, Some(_)) if self.times.is_some() => Err(InvalidParam::new(
                format!("inputs.{code}.times"),
                "a share multiplies counts, not a ratio",
            )),
            (None, None, Some(ratio)) => {
                if (0.0..=100.0).contains(&ratio) {
                    Ok(Measure::Ratio(ratio))
                } else {
                    Err(InvalidParam::new(
                        format!("inputs.{code}.ratio"),
                        format!("the ratio ({ratio}) must be a percentage from 0 to 100"),
                    ))
                }
            }
            _ => Err(InvalidParam::new(
                format!("inputs.{code}"),
                "give numerator and denominator, or ratio",
            )),
        }
    }
}

/// Counts of one indicator: the records that meet it out of those measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Figures {
    /// The records that meet the indicator.
    pub numerator: u64,
    /// The records measured.
    pub denominator: u64,
}

/// What an indicator is scored on: counts, or a ratio alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// Counts.
    Counts(Figures),
    /// A ratio as a percentage (0–100).
    Ratio(f64),
    /// Counts whose ratio is multiplied by a share.
    Scaled(Figures, Factor),
}

impl From<Figures> for Measure {
    fn from(figures: Figures) -> Self {
        Self::Counts(figures)
    }
}

impl Measure {
    /// The ratio as a fraction from 0 to 1 (a numerator above the denominator and a percentage
    /// outside 0–100 are capped into that range); none for a zero denominator.
    fn fraction(self) -> Option<f64> {
        let fraction = match self {
            Self::Counts(Figures { denominator: 0, .. }) => return None,
            Self::Counts(Figures {
                numerator,
                denominator,
            }) => numerator as f64 / denominator as f64,
            Self::Ratio(percent) => percent / 100.0,
            Self::Scaled(figures, times) => {
                return Self::Counts(figures)
                    .fraction()
                    .map(|f| f * times.fraction());
            }
        };
        // NaN counts as 0.
        Some(if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        })
    }
}

impl Scoring {
    /// The unrounded points for a ratio `fraction` (0–1, capped into that range) out of `max`.
    pub fn points(self, max: f64, fraction: f64) -> f64 {
        let fraction = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        match self {
            Self::Linear => (max * fraction).min(max),
            Self::FullAt { threshold } if threshold > 0.0 => {
                (max * fraction * 100.0 / threshold).min(max)
            }
            // A threshold of 0 (refused by the rule-set check) is met by any ratio.
            Self::FullAt { .. } => max,
        }
    }
}

impl ZeroPolicy {
    /// The points out of `max` for a zero denominator; none for [`ZeroPolicy::NotApplicable`].
    pub fn points(self, max: f64) -> Option<f64> {
        match self {
            Self::Zero => Some(0.0),
            Self::Full => Some(max),
            Self::NotApplicable => None,
        }
    }
}

impl Indicator {
    /// The unrounded points earned on `measure`; none when the denominator is zero and the
    /// indicator is then not applicable.
    pub fn points(&self, measure: Measure) -> Option<f64> {
        match measure.fraction() {
            Some(fraction) => Some(self.scoring.points(self.max_score, fraction)),
            None => self.zero_denominator.points(self.max_score),
        }
    }
}

/// The unrounded points `indicator` earns with `numerator` of `denominator` records (a
/// not-applicable indicator earns 0, a numerator above the denominator counts as all of it).
/// The points won back by fixing `k` more records are
/// `points_if(indicator, numerator + k, denominator) - points_if(indicator, numerator, denominator)`.
pub fn points_if(indicator: &Indicator, numerator: u64, denominator: u64) -> f64 {
    indicator
        .points(Measure::Counts(Figures {
            numerator,
            denominator,
        }))
        .unwrap_or(0.0)
}

/// The score of one indicator, as published.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorScore {
    /// The indicator's code.
    pub code: String,
    /// Its name in Vietnamese.
    pub name_vi: String,
    /// Its name in English.
    pub name_en: String,
    /// The records that meet it, when given as counts.
    pub numerator: Option<u64>,
    /// The records measured, when given as counts.
    pub denominator: Option<u64>,
    /// The ratio as a percentage with two decimals (capped at 100); null without input or with
    /// a zero denominator.
    pub ratio: Option<f64>,
    /// The points earned, with two decimals; null without input, or with a zero denominator
    /// when the indicator is then not applicable.
    pub score: Option<f64>,
    /// The most points it gives.
    pub max_score: f64,
    /// The points missing to the maximum (`maxScore − score`, of the published score); null
    /// when `score` is null (no input, or not applicable).
    pub points_lost: Option<f64>,
    /// How its ratio turns into points.
    pub scoring: Scoring,
    /// The share its counts' ratio was multiplied by, if any (`ratio` is the product).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<Factor>,
    /// The misses the counts hold, when they are not `denominator − numerator`:
    /// `DOSSIER_RECEIVING_SATISFACTION` subtracts a dossier both late and disliked twice, and its
    /// numerator stops at zero, so a unit's misses (late + unhappy) can exceed its denominator.
    /// A parent's lost points are shared among its children by these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misses: Option<u64>,
}

impl IndicatorScore {
    /// The indicator listed without a score (no input).
    pub fn without_input(indicator: &Indicator) -> Self {
        Self {
            code: indicator.code.clone(),
            name_vi: indicator.name_vi.clone(),
            name_en: indicator.name_en.clone(),
            numerator: None,
            denominator: None,
            ratio: None,
            score: None,
            max_score: indicator.max_score,
            points_lost: None,
            scoring: indicator.scoring,
            times: None,
            misses: None,
        }
    }
}

/// Scores `indicator` on `measure` (counts, e.g. a [`Figures`], or a ratio), rounded as
/// published. Counts and ratios are not checked (see [`Input::check`]): out-of-range values are
/// capped.
pub fn score_indicator(indicator: &Indicator, measure: impl Into<Measure>) -> IndicatorScore {
    let measure = measure.into();
    let (numerator, denominator, times) = match measure {
        Measure::Counts(f) => (Some(f.numerator), Some(f.denominator), None),
        Measure::Scaled(f, times) => (Some(f.numerator), Some(f.denominator), Some(times)),
        Measure::Ratio(_) => (None, None, None),
    };
    let score = indicator.points(measure).map(round2);
    IndicatorScore {
        numerator,
        denominator,
        times,
        ratio: measure.fraction().map(|f| round2(f * 100.0)),
        score,
        points_lost: score.map(|s| round2(indicator.max_score - s)),
        ..IndicatorScore::without_input(indicator)
    }
}

/// The score of one group.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupScore {
    /// The group's code.
    pub code: String,
    /// Its name in Vietnamese.
    pub name_vi: String,
    /// Its name in English.
    pub name_en: String,
    /// The sum of its indicators' unrounded scores (not-applicable and missing ones count 0),
    /// rounded to two decimals; null when none of its indicators had input.
    pub score: Option<f64>,
    /// The most points it gives (unchanged by not-applicable indicators).
    pub max_score: f64,
    /// Its indicators, each scored or listed without a score.
    pub indicators: Vec<IndicatorScore>,
}

/// The score of a set of inputs against a rule set.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "ruleSet": "qd766",
    "score": 15.68,
    "maxScore": 100.0,
    "groups": [{
        "code": "PROGRESS",
        "nameVi": "Tiến độ giải quyết",
        "nameEn": "Processing progress",
        "score": 15.68,
        "maxScore": 20.0,
        "indicators": [{
            "code": "ON_TIME_PROCESSING",
            "nameVi": "Hồ sơ giải quyết đúng hạn",
            "nameEn": "Dossiers processed on time",
            "numerator": 144625,
            "denominator": 184513,
            "ratio": 78.38,
            "score": 15.68,
            "maxScore": 20.0,
            "pointsLost": 4.32,
            "scoring": {"kind": "linear"}
        }]
    }]
})))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// The rule set's code.
    pub rule_set: String,
    /// The sum of the groups' unrounded scores, rounded to two decimals; null when no input was
    /// given at all.
    pub score: Option<f64>,
    /// The rule set's total points (100), whatever was given: indicators and groups without
    /// input count 0 against it.
    pub max_score: f64,
    /// Every group of the rule set, scored or listed without a score.
    pub groups: Vec<GroupScore>,
}

/// Scores `inputs` (indicator code → figures) against `rule_set`.
///
/// Every indicator of the rule set is listed; those without input have a null score and do not
/// count, and a group without any input has a null score. Refused, with every problem found
/// (not just the first): a code that is not an indicator of the rule set (`inputs.{CODE}`),
/// an input with neither or both of counts and ratio (`inputs.{CODE}`), a numerator above its
/// denominator (`inputs.{CODE}.numerator`), a ratio outside 0–100 (`inputs.{CODE}.ratio`).
pub fn evaluate(
    rule_set: &RuleSet,
    inputs: &BTreeMap<String, Input>,
) -> Result<Evaluation, Vec<InvalidParam>> {
    let mut errors = Vec::new();
    let mut measures = BTreeMap::new();
    for (code, input) in inputs {
        if rule_set.indicator(code).is_none() {
            errors.push(InvalidParam::new(
                format!("inputs.{code}"),
                format!("unknown indicator {code} of rule set {}", rule_set.code),
            ));
            continue;
        }
        match input.check(code) {
            Ok(measure) => {
                measures.insert(code.as_str(), measure);
            }
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut total: Option<f64> = None;
    let groups = rule_set
        .groups
        .iter()
        .map(|group| {
            let mut sum: Option<f64> = None;
            let indicators = group
                .indicators
                .iter()
                .map(|indicator| match measures.get(indicator.code.as_str()) {
                    Some(&measure) => {
                        let points = indicator.points(measure).unwrap_or(0.0);
                        sum = Some(sum.unwrap_or(0.0) + points);
                        score_indicator(indicator, measure)
                    }
                    None => IndicatorScore::without_input(indicator),
                })
                .collect();
            if let Some(sum) = sum {
                total = Some(total.unwrap_or(0.0) + sum);
            }
            GroupScore {
                code: group.code.clone(),
                name_vi: group.name_vi.clone(),
                name_en: group.name_en.clone(),
                score: sum.map(round2),
                max_score: group.max_score,
                indicators,
            }
        })
        .collect();
    Ok(Evaluation {
        rule_set: rule_set.code.clone(),
        score: total.map(round2),
        max_score: rule_set.max_score(),
        groups,
    })
}
