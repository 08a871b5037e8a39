//! The demo province's closed months and the scores the national portal "published" for them,
//! so that snapshots, late data and the reconciliation have something to show.
//!
//! The portal's figures are made from tthc's own as the portal would see them: it counts only
//! the dossiers synced to it, so each dossier indicator's numerator and denominator are scaled
//! by the month's synced share; petitions and the catalogue it sees as tthc does.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use tthc_core::db::audit::Actor;
use tthc_core::db::official::{self, OfficialIndicator, OfficialScores};
use tthc_core::db::units::UnitRow;
use tthc_core::db::{DbConnection, StoreError, periods, scores};
use tthc_core::period::Period;
use tthc_core::scoring::{self, Input};

/// The months closed, with official scores for the province.
pub const CLOSED: [(i32, u32); 3] = [(2026, 8), (2026, 9), (2026, 10)];

/// When the demo closes them: its data ends on 20 November 2026.
fn closing_time() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 20)
        .and_then(|d| d.and_hms_opt(18, 0, 0))
        .unwrap_or_default()
}

/// Closes the months of [`CLOSED`] and enters the portal's scores of `province` for them.
pub fn load(conn: &mut DbConnection, province: &UnitRow) -> Result<usize, StoreError> {
    let actor = Actor::system("demo province");
    let now = closing_time();
    for (year, month) in CLOSED {
        let Some(period) = Period::month(year, month) else {
            continue;
        };
        let Some(rule_set) = scoring::rule_set_in_force(period.first_day()) else {
            continue;
        };
        periods::close(conn, &actor, period, rule_set, now)?;
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
        let evaluation = scoring::evaluate(rule_set, &inputs)
            .map_err(|e| StoreError::Setup(format!("demo official scores: {e:?}")))?;
        let official = OfficialScores {
            score: evaluation.score.unwrap_or(0.0),
            rank: Some(18 + month - CLOSED[0].1),
            rank_of: Some(34),
            published_on: NaiveDate::from_ymd_opt(year, month + 1, 12),
            source: Some(format!(
                "Cổng Dịch vụ công quốc gia, Bộ chỉ số 766 tháng {month}/{year} (demo)"
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
    Ok(CLOSED.len())
}
