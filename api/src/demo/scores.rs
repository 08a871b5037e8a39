//! The demo province's closed months and the scores the national portal "published" for them,
//! so that snapshots, late data and the reconciliation have something to show.
//!
//! The portal's figures are made from tthc's own as the portal would see them: it counts only
//! the dossiers synced to it, so each dossier indicator's numerator and denominator are scaled
//! by the month's synced share; petitions and the catalogue it sees as tthc does.

use std::collections::BTreeMap;

use tthc_core::db::audit::Actor;
use tthc_core::db::official::{self, OfficialIndicator, OfficialScores};
use tthc_core::db::units::UnitRow;
use tthc_core::db::{DbConnection, StoreError, periods, rule_sets, scores};
use tthc_core::scoring::{self, Input};

use super::DemoYear;

/// Closes the three months of [`DemoYear::closed_months`] at the demo's end and enters the
/// portal's scores of `province` for them.
pub fn load(
    conn: &mut DbConnection,
    province: &UnitRow,
    year: DemoYear,
) -> Result<usize, StoreError> {
    let actor = Actor::system("demo province");
    let now = year.end() + chrono::TimeDelta::hours(1);
    let closed = year.closed_months();
    for (position, period) in closed.iter().copied().enumerate() {
        // As the service scores it: with the shipped rule sets and any added since.
        let Some(rule_set) = rule_sets::catalogue(conn)?.in_force(period.first_day()) else {
            continue;
        };
        periods::close(conn, &actor, period, &rule_set, now)?;
        let figures = scores::figures(conn, province, period, now, &rule_set.counting)?;
        let synced_share = figures
            .get("DOSSIER_SYNC")
            .filter(|c| c.denominator > 0)
            .map_or(1.0, |c| c.numerator as f64 / c.denominator as f64);
        let seen: BTreeMap<String, (u64, u64)> = figures
            .iter()
            .filter(|(code, _)| rule_set.indicator(code).is_some())
            .map(|(code, c)| {
                // The sync indicator itself divides by the national reporting system's count of
                // every dossier received, synced or not: as tthc counts it.
                let (n, d) = if scores::is_dossier_indicator(code) && code != "DOSSIER_SYNC" {
                    let scale = |x: u64| (x as f64 * synced_share).round() as u64;
                    (scale(c.numerator), scale(c.denominator))
                } else {
                    (c.numerator, c.denominator)
                };
                (code.clone(), (n.min(d), d))
            })
            .collect();
        let inputs: BTreeMap<String, Input> = seen
            .iter()
            .map(|(code, (n, d))| (code.clone(), Input::counts(*n, *d)))
            .collect();
        let evaluation = scoring::evaluate(&rule_set, &inputs)
            .map_err(|e| StoreError::Setup(format!("demo official scores: {e:?}")))?;
        let official = OfficialScores {
            score: evaluation.score.unwrap_or(0.0),
            rank: u32::try_from(18 + position).ok(),
            rank_of: Some(34),
            published_on: period
                .end()
                .date_naive()
                .checked_add_days(chrono::Days::new(11)),
            source: Some(format!(
                "Cổng Dịch vụ công quốc gia, Bộ chỉ số 766 tháng {period} (demo)"
            )),
            groups: evaluation
                .groups
                .iter()
                .filter_map(|g| Some((g.code.clone(), g.score?)))
                .collect(),
            indicators: evaluation
                .groups
                .iter()
                .flat_map(|g| &g.indicators)
                .filter(|i| i.score.is_some() || i.denominator.is_some())
                .map(|i| {
                    (
                        i.code.clone(),
                        OfficialIndicator {
                            numerator: i.numerator,
                            denominator: i.denominator,
                            score: i.score,
                        },
                    )
                })
                .collect(),
        };
        official::put(conn, &actor, province, period, &official)?;
    }
    Ok(closed.len())
}
