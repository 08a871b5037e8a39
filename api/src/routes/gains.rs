//! `/api/v1/units/{code}/scores/{period}/gains`: what a unit can still do for a period's score,
//! per child unit, ranked by the points each action wins back.

use std::collections::BTreeMap;

use actix_web::{get, web};
use serde::Serialize;
use tthc_core::db::scores::{self, Source};
use tthc_core::db::{gains, units};
use tthc_core::scoring::gains::{Action, rank};
use tthc_core::scoring::round2;
use utoipa::ToSchema;

use crate::auth::{Principal, Scope};
use crate::context::{period_of, unit_in_scope};
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use tthc_core::app::scores::evaluate as evaluate_counts;
use tthc_core::db::now_local;

/// An action and the points it wins back.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GainView {
    /// The child unit whose records these are (the unit itself for records directly at it).
    pub unit: String,
    /// Its name.
    pub unit_name: String,
    /// The indicator it improves.
    pub indicator: String,
    /// What to do.
    pub action: Action,
    /// What to do, in words.
    pub description: String,
    /// How many records.
    pub records: u64,
    /// The points the unit's score wins back (or keeps, for records falling due) if it is done
    /// now, with two decimals; each action counted alone.
    pub points: f64,
    /// Where to list the records.
    pub records_url: String,
}

/// A child unit's share of the gains.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnitGain {
    /// The child unit (or the unit itself).
    pub unit: String,
    /// Its name.
    pub name: String,
    /// The sum of its actions' points, each counted alone.
    pub points: f64,
    /// How many actions.
    pub actions: usize,
}

/// What a unit can still do for a period's score.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "unit": "000.00.00.H12", "period": "2026-11", "score": 57.06, "periodOver": false,
    "actions": [{"unit": "000.00.10.H12", "unitName": "Sở Thông tin và Truyền thông",
        "indicator": "DOSSIER_SYNC", "action": "sync",
        "description": "sync these 812 dossiers to the national portal", "records": 812,
        "points": 0.41,
        "recordsUrl": "/api/v1/units/000.00.10.H12/scores/2026-11/indicators/DOSSIER_SYNC/misses"}],
    "byUnit": [{"unit": "000.00.10.H12", "name": "Sở Thông tin và Truyền thông", "points": 0.41, "actions": 1}]
}))]
pub struct Gains {
    /// The unit scored.
    pub unit: String,
    /// The period.
    pub period: String,
    /// Its score now.
    pub score: Option<f64>,
    /// Whether the period is over (then only syncs can still change it).
    pub period_over: bool,
    /// The actions, most points first.
    pub actions: Vec<GainView>,
    /// The children (and the unit itself), most points first.
    pub by_unit: Vec<UnitGain>,
}

fn records_url(unit: &str, period: &str, action: Action, end: &str) -> String {
    match action {
        Action::ResolveBeforeDue => {
            format!("/api/v1/dossiers?unit={unit}&overdue=false&dueBefore={end}&sort=dueAt")
        }
        Action::AnswerBeforeDue => format!("/api/v1/petitions?unit={unit}&sort=lateFrom"),
        _ => format!(
            "/api/v1/units/{unit}/scores/{period}/indicators/{}/misses",
            action.indicator()
        ),
    }
}

/// Rank what a unit can still do
///
/// The actions that can still change the unit's score for the period, per child unit, ranked
/// by the points they win back if done now (each counted alone, from the unit's current
/// figures): syncing the dossiers never synced to the national portal (also after the period);
/// while the period runs, resolving the open dossiers that fall due before it ends and answering
/// the petitions whose deadline falls in it (points kept), and fixing the procedures that
/// cost the catalogue indicators (complete content, online service, online dossiers, online
/// payment, fees in synced dossiers, population database). Records already late are misses,
/// not gains. Indicators whose numerator was entered by hand have no actions.
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-11"),
    ),
    responses(
        (status = 200, description = "The actions", body = Gains),
        (status = 400, description = "Bad period", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/scores/{period}/gains")]
pub async fn get_gains(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<Gains>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let (code, period_text) = path.into_inner();
    let (period, rule_set) = period_of(&state, &period_text).await?;
    let now = now_local();
    let rules = rule_set.clone();
    let (unit, children, counts, fixable) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let children = units::children_rows(conn, &unit)?;
            let counts = scores::figures(conn, &unit, period, now, &rules.counting)?;
            let fixable = gains::fixable(conn, &unit, &children, period, now, &rules.counting)?;
            Ok((unit, children, counts, fixable))
        })
        .await?;
    let (evaluation, _) = evaluate_counts(&counts, &rule_set)?;
    // A numerator entered by hand does not move with the records.
    let movable: BTreeMap<String, (u64, u64)> = counts
        .iter()
        .filter(|(_, c)| c.source != Source::Entered)
        .map(|(code, c)| (code.clone(), (c.numerator, c.denominator)))
        .collect();
    let ranked = rank(&rule_set, &movable, &fixable);
    let end = period.end().to_rfc3339().replace('+', "%2B");
    let place = |p: Option<usize>| p.and_then(|i| children.get(i)).unwrap_or(&unit);
    let actions: Vec<GainView> = ranked
        .iter()
        .map(|g| {
            let u = place(g.place);
            GainView {
                unit: u.code.clone(),
                unit_name: u.name.clone(),
                indicator: g.action.indicator().to_owned(),
                action: g.action,
                description: g.action.describe(g.records),
                records: g.records,
                points: round2(g.points),
                records_url: records_url(&u.code, &period.to_string(), g.action, &end),
            }
        })
        .collect();
    let mut by_place: BTreeMap<Option<usize>, (f64, usize)> = BTreeMap::new();
    for g in &ranked {
        let slot = by_place.entry(g.place).or_default();
        slot.0 += g.points;
        slot.1 += 1;
    }
    let mut by_unit: Vec<UnitGain> = by_place
        .into_iter()
        .map(|(p, (points, actions))| {
            let u = place(p);
            UnitGain {
                unit: u.code.clone(),
                name: u.name.clone(),
                points: round2(points),
                actions,
            }
        })
        .collect();
    by_unit.sort_by(|a, b| b.points.total_cmp(&a.points).then(a.unit.cmp(&b.unit)));
    Ok(web::Json(Gains {
        unit: unit.code,
        period: period.to_string(),
        score: evaluation.score,
        period_over: now >= period.end().naive_local(),
        actions,
        by_unit,
    }))
}
