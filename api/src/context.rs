//! What handlers share besides their own logic: the rule sets and the period of a request, read
//! on the blocking pool, the unit a caller names, within its grant, and a unit's score with the
//! late data since its month closed (the score and the reconciliation show both). The use cases
//! themselves live in `tthc_core::app`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Serialize;
use tthc_core::app::scores as app_scores;
use tthc_core::db::DbConnection;
use tthc_core::db::scores::Source;
use tthc_core::db::units::UnitRow;
use tthc_core::period::Period;
use tthc_core::scoring::{self, Evaluation, RuleSet, RuleSets};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Every rule set the service knows, shipped and added, read for each request so that several
/// instances on one database score alike.
pub(crate) async fn rule_sets(state: &AppState) -> Result<RuleSets, ApiError> {
    state.run(|conn| Ok(app_scores::rule_sets(conn)?)).await
}

/// The period `text` names, and the rule set of `sets` in force on its first day.
pub(crate) fn period_in(sets: &RuleSets, text: &str) -> Result<(Period, Arc<RuleSet>), ApiError> {
    Ok(app_scores::period_in(sets, text)?)
}

/// The period `text` names, and the rule set in force on its first day.
pub(crate) async fn period_of(
    state: &AppState,
    text: &str,
) -> Result<(Period, Arc<RuleSet>), ApiError> {
    // A malformed period is refused before the database is asked.
    Period::parse(text).map_err(|r| ApiError::invalid("period", r))?;
    period_in(&rule_sets(state).await?, text)
}

/// The unit `code` when the caller may see it.
pub(crate) fn unit_in_scope(
    conn: &mut DbConnection,
    principal: &Principal,
    code: &str,
) -> Result<UnitRow, ApiError> {
    let scope = principal.unit_scope(conn)?;
    Ok(app_scores::unit_in(conn, &scope, code)?)
}

/// A unit's score for a period as the score and the reconciliation show it.
pub(crate) struct Scored {
    /// A closed month's snapshot, else the live score.
    pub evaluation: Evaluation,
    /// Where its figures come from.
    pub sources: BTreeMap<String, Source>,
    /// For a closed month, how the live figures moved since the close.
    pub since_close: Option<SinceClose>,
}

/// The score of `unit` for `period` with, for a closed month, the late data beside it.
pub(crate) fn scored(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    rule_set: &RuleSet,
    now: NaiveDateTime,
) -> Result<Scored, ApiError> {
    let app_scores::Scored { standing, live } =
        app_scores::scored(conn, unit, period, rule_set, now)?;
    let (evaluation, sources) = standing;
    let since_close = live.map(|live| since_close(&evaluation, &live));
    Ok(Scored {
        evaluation,
        sources,
        since_close,
    })
}

/// How an indicator's live figures moved since its month was closed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorChange {
    /// The indicator.
    pub code: String,
    /// Change of the numerator.
    pub numerator: i64,
    /// Change of the denominator.
    pub denominator: i64,
    /// Change of the score (two decimals).
    pub score: f64,
}

/// Late data: how the live score differs from a closed month's snapshot.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SinceClose {
    /// The live total score now.
    pub live_score: Option<f64>,
    /// Its difference from the snapshot's (two decimals).
    pub score: f64,
    /// The indicators whose figures moved.
    pub indicators: Vec<IndicatorChange>,
}

fn signed(n: Option<u64>) -> i64 {
    n.and_then(|n| i64::try_from(n).ok()).unwrap_or(0)
}

/// The difference of `live` from `frozen`.
pub(crate) fn since_close(frozen: &Evaluation, live: &Evaluation) -> SinceClose {
    let indicators = |e: &Evaluation| -> BTreeMap<String, scoring::IndicatorScore> {
        e.groups
            .iter()
            .flat_map(|g| g.indicators.iter().map(|i| (i.code.clone(), i.clone())))
            .collect()
    };
    let before = indicators(frozen);
    let changes = indicators(live)
        .into_iter()
        .filter_map(|(code, now)| {
            let was = before.get(&code)?;
            let change = IndicatorChange {
                numerator: signed(now.numerator) - signed(was.numerator),
                denominator: signed(now.denominator) - signed(was.denominator),
                score: scoring::round2(now.score.unwrap_or(0.0) - was.score.unwrap_or(0.0)),
                code,
            };
            (change.numerator != 0 || change.denominator != 0 || change.score != 0.0)
                .then_some(change)
        })
        .collect();
    SinceClose {
        live_score: live.score,
        score: scoring::round2(live.score.unwrap_or(0.0) - frozen.score.unwrap_or(0.0)),
        indicators: changes,
    }
}
