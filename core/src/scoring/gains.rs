//! What a unit can still do for a period's score, and what each action wins back.
//!
//! Each action concerns records that can still change their indicator's count: dossiers not
//! synced to the portal, dossiers and petitions that fall due before the period ends (resolved in
//! time they stay on time; otherwise they cost points), and, while the period runs, procedures
//! that lack online service, online dossiers, online payment, fees in synced dossiers, the
//! population database or complete published content. A record already late stays late: it is
//! a miss, not a gain. Each action's points are counted alone, from the unit's current figures.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{RuleSet, points_if};

/// What can be done about a group of records.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Sync dossiers to the national portal (`DOSSIER_SYNC`).
    Sync,
    /// Resolve open dossiers before they fall due in the period (`ON_TIME_PROCESSING`).
    ResolveBeforeDue,
    /// Answer open petitions before their deadline in the period
    /// (`PETITION_PROCESSING_ON_TIME`).
    AnswerBeforeDue,
    /// Complete the published content of procedures (`PUBLIC_CONTENT_FULL`).
    CompleteContent,
    /// Offer online service for procedures (`ONLINE_SERVICE_PROVIDED`).
    OfferOnline,
    /// Receive an online dossier for online services (`ONLINE_SERVICE_WITH_DOSSIERS`).
    ReceiveOnline,
    /// Collect a fee online for procedures with fees (`ONLINE_PAYMENT_FORMALITY`).
    PayOnline,
    /// Sync dossiers with their fees for procedures with fees (`PAYMENT_INTEGRATED_FORMALITY`).
    CarryFees,
    /// Use the population database for procedures (`CITIZEN_DATA_CONNECTED_FORMALITY`).
    UsePopulationDb,
}

impl Action {
    /// The indicator the action improves.
    pub fn indicator(self) -> &'static str {
        match self {
            Self::Sync => "DOSSIER_SYNC",
            Self::ResolveBeforeDue => "ON_TIME_PROCESSING",
            Self::AnswerBeforeDue => "PETITION_PROCESSING_ON_TIME",
            Self::CompleteContent => "PUBLIC_CONTENT_FULL",
            Self::OfferOnline => "ONLINE_SERVICE_PROVIDED",
            Self::ReceiveOnline => "ONLINE_SERVICE_WITH_DOSSIERS",
            Self::PayOnline => "ONLINE_PAYMENT_FORMALITY",
            Self::CarryFees => "PAYMENT_INTEGRATED_FORMALITY",
            Self::UsePopulationDb => "CITIZEN_DATA_CONNECTED_FORMALITY",
        }
    }

    /// The action of the catalogue indicator `indicator`, if it has one (from the registry).
    pub fn of_catalogue(indicator: &str) -> Option<Self> {
        super::registry::get(indicator)
            .filter(|e| e.counted == super::registry::Counted::Catalogue)
            .and_then(|e| e.action)
    }

    /// Whether the records already count as met and the action keeps them so (rather than
    /// turning misses into met records).
    fn protects(self) -> bool {
        matches!(self, Self::ResolveBeforeDue | Self::AnswerBeforeDue)
    }

    /// The action in words, for `records` records ("this dossier", "these 3 dossiers").
    pub fn describe(self, records: u64) -> String {
        let these = |one: &str, many: &str| match records {
            1 => format!("this {one}"),
            n => format!("these {n} {many}"),
        };
        match self {
            Self::Sync => format!(
                "sync {} to the national portal",
                these("dossier", "dossiers")
            ),
            Self::ResolveBeforeDue => format!(
                "resolve {} before {} due this period",
                these("open dossier", "open dossiers"),
                if records == 1 {
                    "it falls"
                } else {
                    "they fall"
                }
            ),
            Self::AnswerBeforeDue => format!(
                "answer {} before {} deadline this period",
                these("open petition", "open petitions"),
                if records == 1 { "its" } else { "their" }
            ),
            Self::CompleteContent => format!(
                "complete the published content of {}",
                these("procedure", "procedures")
            ),
            Self::OfferOnline => {
                format!(
                    "offer online service for {}",
                    these("procedure", "procedures")
                )
            }
            Self::ReceiveOnline => format!(
                "receive an online dossier for {}",
                these("online service", "online services")
            ),
            Self::PayOnline => {
                format!(
                    "collect a fee online for {}",
                    these("procedure", "procedures")
                )
            }
            Self::CarryFees => format!(
                "sync dossiers with their fees for {}",
                these("procedure", "procedures")
            ),
            Self::UsePopulationDb => format!(
                "use the population database for {}",
                these("procedure", "procedures")
            ),
        }
    }
}

/// An action's records in one place (the index of a child unit, or `None` for the unit itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixable {
    /// What to do.
    pub action: Action,
    /// Where the records are.
    pub place: Option<usize>,
    /// How many records.
    pub records: u64,
}

/// An action ranked by what it wins back.
#[derive(Debug, Clone, PartialEq)]
pub struct Gain {
    /// What to do.
    pub action: Action,
    /// Where.
    pub place: Option<usize>,
    /// How many records.
    pub records: u64,
    /// The points the unit's score wins back (or keeps) if it is done, unrounded.
    pub points: f64,
}

/// The actions of `fixable` with their points, from each indicator's current
/// `(numerator, denominator)`, most points first; actions worth nothing are left out.
pub fn rank(
    rule_set: &RuleSet,
    counts: &BTreeMap<String, (u64, u64)>,
    fixable: &[Fixable],
) -> Vec<Gain> {
    let mut merged: BTreeMap<(Action, Option<usize>), u64> = BTreeMap::new();
    for f in fixable {
        *merged.entry((f.action, f.place)).or_default() += f.records;
    }
    let mut out: Vec<Gain> = merged
        .into_iter()
        .filter_map(|((action, place), records)| {
            let (_, indicator) = rule_set.indicator(action.indicator())?;
            let (n, d) = counts.get(action.indicator()).copied()?;
            let n = n.min(d);
            let points = if action.protects() {
                points_if(indicator, n, d) - points_if(indicator, n.saturating_sub(records), d)
            } else {
                points_if(indicator, (n + records).min(d), d) - points_if(indicator, n, d)
            };
            (points > 1e-9).then_some(Gain {
                action,
                place,
                records,
                points,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.points
            .total_cmp(&a.points)
            .then(a.place.cmp(&b.place))
            .then(a.action.cmp(&b.action))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::rule_set;

    #[test]
    fn actions_win_back_or_keep_points_and_rank_by_them() {
        let qd = rule_set("qd766").unwrap();
        let counts = BTreeMap::from([
            ("DOSSIER_SYNC".to_owned(), (600, 1000)),
            ("ON_TIME_PROCESSING".to_owned(), (900, 1000)),
            ("ONLINE_SERVICE_PROVIDED".to_owned(), (70, 100)),
        ]);
        let fixable = [
            Fixable {
                action: Action::Sync,
                place: Some(0),
                records: 300,
            },
            Fixable {
                action: Action::Sync,
                place: Some(0),
                records: 100,
            },
            Fixable {
                action: Action::ResolveBeforeDue,
                place: Some(1),
                records: 50,
            },
            // 70 → 90 of 100 passes the 80% threshold: only 10 of them count.
            Fixable {
                action: Action::OfferOnline,
                place: None,
                records: 20,
            },
            // An indicator without figures wins nothing.
            Fixable {
                action: Action::PayOnline,
                place: None,
                records: 5,
            },
        ];
        let ranked = rank(qd, &counts, &fixable);
        assert_eq!(ranked.len(), 3);
        // 400 more synced of 1000: 6 × 0.4 = 2.4.
        assert_eq!((ranked[0].action, ranked[0].records), (Action::Sync, 400));
        assert!((ranked[0].points - 2.4).abs() < 1e-9);
        // 50 falling due: 20 × 50/1000 = 1 kept.
        assert_eq!(ranked[1].action, Action::ResolveBeforeDue);
        assert!((ranked[1].points - 1.0).abs() < 1e-9);
        // 2 × 70/80 = 1.75 → 2: 0.25.
        assert_eq!(ranked[2].action, Action::OfferOnline);
        assert!((ranked[2].points - 0.25).abs() < 1e-9);
        assert_eq!(
            Action::Sync.describe(812),
            "sync these 812 dossiers to the national portal"
        );
        assert_eq!(
            Action::ResolveBeforeDue.describe(1),
            "resolve this open dossier before it falls due this period"
        );
        assert_eq!(
            Action::AnswerBeforeDue.describe(2),
            "answer these 2 open petitions before their deadline this period"
        );
        assert_eq!(
            Action::of_catalogue("ONLINE_PAYMENT_FORMALITY"),
            Some(Action::PayOnline)
        );
    }
}
