//! `/api/v1/published`: the 766 results of closed months, readable without signing in, as the
//! provincial office publishes them every month (seed `002_…`, item 5). Only closed months'
//! snapshots: never live figures, never a record behind them. The office console's public
//! view reads these.

use std::collections::BTreeMap;

use actix_web::{get, web};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use tthc_core::app::published::{self, PublishedScore};
use tthc_core::calendar::from_local;
use tthc_core::period::Period;
use utoipa::ToSchema;

use crate::context::rule_sets;
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// A province's total in a published month.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedTotal {
    /// The province's code.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Its total score (null when none of its indicators had figures).
    pub score: Option<f64>,
}

/// A published month in the list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedMonthSummary {
    /// The month.
    pub period: String,
    /// When it was closed.
    #[serde(serialize_with = "crate::instant::serialize")]
    pub closed_at: DateTime<FixedOffset>,
    /// Each province's total.
    pub provinces: Vec<PublishedTotal>,
}

/// The published months.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"items": [
    {"period": "2026-10", "closedAt": "2026-11-03T09:00:00+07:00", "provinces": [{"unit": "000.00.00.H12", "name": "Ủy ban nhân dân tỉnh Bắc Ninh", "score": 73.07}]},
    {"period": "2026-09", "closedAt": "2026-10-03T09:00:00+07:00", "provinces": [{"unit": "000.00.00.H12", "name": "Ủy ban nhân dân tỉnh Bắc Ninh", "score": 71.2}]}
]}))]
pub struct PublishedMonths {
    /// Latest first, at most 24 (two years of a trend).
    pub items: Vec<PublishedMonthSummary>,
}

/// A group of indicators in a published score.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedGroup {
    /// The group's code.
    pub code: String,
    /// Its name in Vietnamese.
    pub name: String,
    /// Its score (null when none of its indicators had figures).
    pub score: Option<f64>,
    /// The most points it gives.
    pub max_score: f64,
}

/// A unit in its province's published ranking.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedUnit {
    /// Rank by total score (1 = best; equal scores share a rank; no score counts 0).
    pub rank: usize,
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Its level (`department`, `district`, `commune` …).
    pub level: String,
    /// Its total score.
    pub score: Option<f64>,
    /// Its total in the month before, when that month is published.
    pub previous_score: Option<f64>,
    /// The change since the month before.
    pub change: Option<f64>,
    /// Each group's score, by group code.
    pub groups: BTreeMap<String, Option<f64>>,
}

/// A province's published month.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedProvince {
    /// The province's code.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Its total score.
    pub score: Option<f64>,
    /// Its total in the month before, when that month is published.
    pub previous_score: Option<f64>,
    /// The change since the month before.
    pub change: Option<f64>,
    /// Each group, in the rule set's order.
    pub groups: Vec<PublishedGroup>,
    /// Its direct children (departments, districts, communes) ranked, best first.
    pub units: Vec<PublishedUnit>,
}

/// A published month.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"period": "2026-10", "closedAt": "2026-11-03T09:00:00+07:00", "provinces": [{
    "unit": "000.00.00.H12", "name": "Ủy ban nhân dân tỉnh Bắc Ninh", "score": 73.07, "previousScore": 71.2, "change": 1.87,
    "groups": [{"code": "PROGRESS", "name": "Tiến độ giải quyết", "score": 18.4, "maxScore": 20.0}],
    "units": [{"rank": 1, "unit": "000.00.02.H12", "name": "Sở Tư pháp", "level": "department", "score": 77.02,
               "previousScore": 75.5, "change": 1.52, "groups": {"PROGRESS": 20.0}}]
}]}))]
pub struct PublishedResults {
    /// The month.
    pub period: String,
    /// When it was closed.
    #[serde(serialize_with = "crate::instant::serialize")]
    pub closed_at: DateTime<FixedOffset>,
    /// Each province.
    pub provinces: Vec<PublishedProvince>,
}

/// List published months
///
/// The closed months, latest first (at most 24), with each province's total: the trend anyone
/// may read. No sign-in.
#[utoipa::path(
    tag = "published",
    responses(
        (status = 200, description = "The published months", body = PublishedMonths),
        (status = 422, description = "A closed month's snapshot cannot be scored by the rule set it was closed with", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[get("/published")]
pub async fn list_published(
    state: web::Data<AppState>,
) -> Result<web::Json<PublishedMonths>, ApiError> {
    let sets = rule_sets(&state).await?;
    let months = state
        .run(move |conn| Ok(published::months(conn, &sets)?))
        .await?;
    Ok(web::Json(PublishedMonths {
        items: months
            .into_iter()
            .map(|m| PublishedMonthSummary {
                period: m.period.to_string(),
                closed_at: from_local(m.closed_at),
                provinces: m
                    .totals
                    .into_iter()
                    .map(|(unit, score)| PublishedTotal {
                        unit: unit.code,
                        name: unit.name,
                        score,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

fn groups_of(score: &PublishedScore) -> BTreeMap<String, Option<f64>> {
    score
        .evaluation
        .groups
        .iter()
        .map(|g| (g.code.clone(), g.score))
        .collect()
}

/// Read a published month
///
/// A closed month's results: each province's total and groups, and its departments, districts
/// and communes ranked with their change since the month before. A month not closed is not
/// published (404). No sign-in.
#[utoipa::path(
    tag = "published",
    params(("period" = String, Path, description = "The month", example = "2026-10")),
    responses(
        (status = 200, description = "The month's results", body = PublishedResults),
        (status = 400, description = "Not a month", body = Problem, content_type = PROBLEM),
        (status = 404, description = "The month is not closed, so not published", body = Problem, content_type = PROBLEM),
        (status = 422, description = "The month's snapshot cannot be scored by the rule set it was closed with", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[get("/published/{period}")]
pub async fn get_published(
    state: web::Data<AppState>,
    period: web::Path<String>,
) -> Result<web::Json<PublishedResults>, ApiError> {
    let text = period.into_inner();
    let period = match Period::parse(&text) {
        Ok(p @ Period::Month { .. }) => p,
        _ => {
            return Err(ApiError::invalid(
                "period",
                "must be a month such as 2026-10",
            ));
        }
    };
    let sets = rule_sets(&state).await?;
    let month = state
        .run(move |conn| Ok(published::month(conn, &sets, period)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{text} is not closed, so not published")))?;
    Ok(web::Json(PublishedResults {
        period: month.period.to_string(),
        closed_at: from_local(month.closed_at),
        provinces: month
            .provinces
            .into_iter()
            .map(|p| {
                let score = p.score.evaluation.score;
                PublishedProvince {
                    change: published::change(score, p.previous),
                    groups: p
                        .score
                        .evaluation
                        .groups
                        .iter()
                        .map(|g| PublishedGroup {
                            code: g.code.clone(),
                            name: g.name_vi.clone(),
                            score: g.score,
                            max_score: g.max_score,
                        })
                        .collect(),
                    units: p
                        .children
                        .into_iter()
                        .map(|c| {
                            let score = c.score.evaluation.score;
                            PublishedUnit {
                                rank: c.rank,
                                groups: groups_of(&c.score),
                                unit: c.score.unit.code,
                                name: c.score.unit.name,
                                level: c.score.unit.level,
                                score,
                                previous_score: c.previous,
                                change: published::change(score, c.previous),
                            }
                        })
                        .collect(),
                    unit: p.score.unit.code,
                    name: p.score.unit.name,
                    score,
                    previous_score: p.previous,
                }
            })
            .collect(),
    }))
}
