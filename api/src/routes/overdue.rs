//! The overdue stock of a unit: how many received dossiers were open and late at an instant,
//! and that figure day by day or week by week (seed `001_…`: 892 overdue at the start of July,
//! 1,734 on 9 September).

use actix_web::{get, web};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use tthc_core::db::overdue::{self as store, Stock};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::context::unit_in_scope;
use crate::error::{ApiError, PROBLEM_JSON as PROBLEM, Problem};
use crate::http::ValidQuery;
use crate::state::AppState;
use tthc_core::calendar::{from_local, to_local};
use tthc_core::db::now_local;

/// Most points in a series.
const MAX_POINTS: usize = 400;

/// The instant to read the stock at.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    /// RFC 3339 with an offset; now when left out.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-09-09T17:00:00+07:00")]
    pub at: Option<DateTime<FixedOffset>>,
}

/// A unit's overdue stock at an instant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"unit": "000.00.00.H12", "at": "2026-09-09T17:00:00+07:00", "open": 5210, "overdue": 1734}))]
pub struct StockView {
    /// The unit (its whole subtree is counted).
    pub unit: String,
    /// The instant.
    #[serde(serialize_with = "crate::instant::serialize")]
    pub at: DateTime<FixedOffset>,
    /// Received dossiers not ended by then.
    pub open: i64,
    /// Of those, the ones late by then, judged from the events up to then.
    pub overdue: i64,
}

fn view(unit: &str, s: Stock) -> StockView {
    StockView {
        unit: unit.to_owned(),
        at: from_local(s.at),
        open: s.open,
        overdue: s.overdue,
    }
}

/// Get a unit's overdue stock
///
/// The received dossiers of the unit's subtree that were open at `at` (now by default), and
/// how many of them were late by then — judged from the events up to `at`, so a later
/// supplement request or apology never changes a past figure.
#[utoipa::path(
    tag = "scoring",
    params(("code" = String, Path, description = "Unit code", example = "000.00.00.H12"), StockQuery),
    responses(
        (status = 200, description = "The stock", body = StockView),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/overdue")]
pub async fn stock(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    query: ValidQuery<StockQuery>,
) -> Result<web::Json<StockView>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let at = query.0.at.map_or_else(now_local, |t| to_local(&t));
    let code = code.into_inner();
    let (unit, s) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let s = store::stock_at(conn, &unit.path, at)?;
            Ok((unit.code, s))
        })
        .await?;
    Ok(web::Json(view(&unit, s)))
}

/// How often a series is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Every {
    /// At the end of every day.
    Day,
    /// At the end of every seventh day from `from`.
    Week,
}

/// The days of a series.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// First day.
    #[param(value_type = String, format = Date, example = "2026-07-01")]
    pub from: NaiveDate,
    /// Last day (at most 400 points after `from`).
    #[param(value_type = String, format = Date, example = "2026-09-09")]
    pub to: NaiveDate,
    /// `day` (default) or `week`.
    #[param(inline)]
    pub every: Option<Every>,
}

/// A unit's overdue stock over time.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"unit": "000.00.00.H12", "points": [
    {"unit": "000.00.00.H12", "at": "2026-07-02T00:00:00+07:00", "open": 4120, "overdue": 892},
    {"unit": "000.00.00.H12", "at": "2026-07-09T00:00:00+07:00", "open": 4310, "overdue": 951}
]}))]
pub struct StockSeries {
    /// The unit.
    pub unit: String,
    /// One point at the end of each day (or week), oldest first; days after now are left out.
    pub points: Vec<StockView>,
}

/// Get a unit's overdue stock over time
///
/// The stock at the end of each day (or of every seventh day) from `from` to `to`, each read
/// from the records as they stood then.
#[utoipa::path(
    tag = "scoring",
    params(("code" = String, Path, description = "Unit code", example = "000.00.00.H12"), SeriesQuery),
    responses(
        (status = 200, description = "The series", body = StockSeries),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/overdue/series")]
pub async fn series(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    query: ValidQuery<SeriesQuery>,
) -> Result<web::Json<StockSeries>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let q = query.0;
    if q.to < q.from {
        return Err(ApiError::rule("to", "must not be before from"));
    }
    let step = match q.every.unwrap_or(Every::Day) {
        Every::Day => 1,
        Every::Week => 7,
    };
    let days = usize::try_from((q.to - q.from).num_days()).unwrap_or(usize::MAX) / step + 1;
    if days > MAX_POINTS {
        return Err(ApiError::rule(
            "to",
            format!("at most {MAX_POINTS} points: shorten the range or read every week"),
        ));
    }
    let now = now_local();
    // The end of each day: the first instant of the next.
    let instants: Vec<_> = (0..days)
        .filter_map(|i| {
            let day = q.from + Duration::days(i64::try_from(i * step).ok()?);
            Some((day + Duration::days(1)).and_time(NaiveTime::MIN))
        })
        .filter(|at| *at <= now + Duration::days(1))
        .map(|at| at.min(now))
        .collect();
    let code = code.into_inner();
    let (unit, points) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let mut points = Vec::with_capacity(instants.len());
            for at in instants {
                points.push(store::stock_at(conn, &unit.path, at)?);
            }
            Ok((unit.code, points))
        })
        .await?;
    Ok(web::Json(StockSeries {
        points: points.into_iter().map(|s| view(&unit, s)).collect(),
        unit,
    }))
}
