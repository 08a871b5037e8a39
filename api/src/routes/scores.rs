//! `/api/v1/units/{code}/scores/{period}` and `/figures/{period}`: a unit's live 766 score from
//! tthc's records of its whole subtree, and the figures entered by hand for what tthc cannot
//! observe.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::calendar::from_local;
use tthc_core::db::periods;
use tthc_core::db::scores::{self, EnteredFigure, Miss, RecordKind, Source};
use tthc_core::db::units;
use tthc_core::db::{DbConnection, audit::Actor};
use tthc_core::period::Period;

use tthc_core::app::scores::standing;
use tthc_core::scoring::{self, Evaluation, RuleSet, ranks};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::context::{SinceClose, period_in, period_of, rule_sets, scored, unit_in_scope};
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, cell, csv_list, ordered_cursor_key,
    parse_ordered_cursor, wants_csv, word,
};
use crate::state::AppState;
use tthc_core::db::now_local;

/// A unit's live score for a period.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "unit": "000.00.00.H12", "period": "2026-08",
    "sources": {"ON_TIME_PROCESSING": "observed", "ELECTRONIC_CERTIFIED_COPY": "entered"},
    "ruleSet": "qd766", "score": 17.68, "maxScore": 100.0,
    "groups": [{"code": "PROGRESS", "nameVi": "Tiến độ giải quyết", "nameEn": "Processing progress",
        "score": 15.68, "maxScore": 20.0, "indicators": [{"code": "ON_TIME_PROCESSING",
        "nameVi": "Hồ sơ giải quyết đúng hạn", "nameEn": "Dossiers processed on time",
        "numerator": 144625, "denominator": 184513, "ratio": 78.38, "score": 15.68, "maxScore": 20.0,
        "pointsLost": 4.32, "scoring": {"kind": "linear"}}]}]
}))]
pub struct LiveScore {
    /// The unit (its figures count every record of its subtree).
    pub unit: String,
    /// The period.
    pub period: String,
    /// Where each scored indicator's figures come from: counted by tthc (`observed`), entered by
    /// hand (`entered`), or tthc's count over an entered denominator (`observedOverEntered`).
    pub sources: BTreeMap<String, Source>,
    /// The scores, shaped as `POST /scoring/evaluate` answers them (a closed month's: its
    /// snapshot's).
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// When the month was closed; null while it is live.
    pub closed: Option<super::periods::ClosedPeriodView>,
    /// For a closed month, how the live figures moved since (late data); null while live.
    pub since_close: Option<SinceClose>,
}

/// Score a unit for a period
///
/// The 766 score of the unit's whole subtree (a parent's figures count all records below it;
/// they are not an average of its children) for a month (`2026-08`), quarter (`2026-Q3`) or
/// year (`2026`), judged now when the period is not over. tthc counts twenty indicators from its
/// records: from the dossiers progress, online submission, sync, online payment of dossiers, and
/// the dossier indicators of digitization and satisfaction; from the petitions the two petition
/// indicators; from the catalogue the timeliness of announcements and publications, complete
/// published content, and which procedures offer online service and payment and use the
/// population database. Figures entered with `PUT /units/{code}/figures/{period}` replace or
/// complete them, and are the only source of `ELECTRONIC_CERTIFIED_COPY` (communes offering
/// electronic certified copies). Indicators without figures have a null score.
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-08"),
    ),
    responses(
        (status = 200, description = "The score", body = LiveScore),
        (status = 400, description = "The period is not a month, quarter or year, or no rule set applies to it", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/scores/{period}")]
pub async fn get_score(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<LiveScore>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let (code, period_text) = path.into_inner();
    let (period, rule_set) = period_of(&state, &period_text).await?;
    let now = now_local();
    let timing = state.metrics.score_seconds.clone();
    let (unit, scored, closed) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let timer = timing.start_timer();
            let scored = scored(conn, &unit, period, &rule_set, now)?;
            timer.observe_duration();
            let closed = match scored.since_close {
                Some(_) => periods::closed(conn, period)?,
                None => None,
            };
            Ok((unit, scored, closed))
        })
        .await?;
    Ok(web::Json(LiveScore {
        unit: unit.code,
        period: period.to_string(),
        sources: scored.sources,
        evaluation: scored.evaluation,
        closed: closed.map(Into::into),
        since_close: scored.since_close,
    }))
}

/// Figures entered for a unit and period.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"figures": {
    "DOSSIER_SYNC": {"denominator": 18250, "note": "Hệ thống báo cáo quốc gia, tháng 8/2026"},
    "ELECTRONIC_CERTIFIED_COPY": {"numerator": 87, "denominator": 100, "note": "Báo cáo của Sở Tư pháp"}
}}))]
pub struct FiguresBody {
    /// Figures by indicator code. Leave out the numerator to divide tthc's own count by an
    /// entered denominator (for the indicators tthc counts: the larger of the two denominators
    /// is used).
    pub figures: BTreeMap<String, EnteredFigure>,
}

fn check_figures(rule_set: &RuleSet, body: &FiguresBody) -> Result<(), ApiError> {
    let mut invalid = Vec::new();
    for (code, figure) in &body.figures {
        let name = format!("figures.{code}");
        if rule_set.indicator(code).is_none() {
            invalid.push(InvalidParam::new(
                name,
                format!("unknown indicator of rule set {}", rule_set.code),
            ));
            continue;
        }
        // Stored as a signed 64-bit integer on both backends; larger, it was clamped silently.
        if i64::try_from(figure.denominator).is_err() {
            invalid.push(InvalidParam::new(
                format!("{name}.denominator"),
                format!("is larger than {}", i64::MAX),
            ));
        }
        match figure.numerator {
            Some(n) if n > figure.denominator => invalid.push(InvalidParam::new(
                format!("{name}.numerator"),
                "is larger than the denominator",
            )),
            None if !scores::is_observed(code) => invalid.push(InvalidParam::new(
                format!("{name}.numerator"),
                "is required: tthc does not count this indicator itself",
            )),
            _ => {}
        }
        if figure
            .note
            .as_ref()
            .is_some_and(|n| n.chars().count() > 500)
        {
            invalid.push(InvalidParam::new(
                format!("{name}.note"),
                "is longer than 500 characters",
            ));
        }
    }
    ApiError::unless_rules(invalid)
}

/// Enter figures
///
/// Replaces the figures entered by hand for the unit and period: figures tthc cannot observe
/// (the national reporting system's dossier count used as the sync denominator, the communes
/// offering electronic certified copies …). Audited.
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-08"),
    ),
    request_body = FiguresBody,
    responses(
        (status = 200, description = "The figures now entered", body = FiguresBody),
        (status = 400, description = "Unknown indicator, numerator above the denominator or missing, bad period", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:write"]))
)]
#[put("/units/{code}/figures/{period}")]
pub async fn put_figures(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    body: ValidJson<FiguresBody>,
) -> Result<web::Json<FiguresBody>, ApiError> {
    principal.require(Scope::ScoresWrite)?;
    let (code, period_text) = path.into_inner();
    let (period, rule_set) = period_of(&state, &period_text).await?;
    let body = body.0;
    check_figures(&rule_set, &body)?;
    let figures = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let actor: Actor = principal.actor();
            scores::put_entered(conn, &actor, &unit, period, &body.figures)?;
            Ok(scores::entered(conn, &unit, period)?)
        })
        .await?;
    Ok(web::Json(FiguresBody { figures }))
}

/// Get the entered figures
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-08"),
    ),
    responses(
        (status = 200, description = "The figures entered by hand", body = FiguresBody),
        (status = 400, description = "Bad period", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/figures/{period}")]
pub async fn get_figures(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<FiguresBody>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let (code, period_text) = path.into_inner();
    let (period, _) = period_of(&state, &period_text).await?;
    let figures = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            Ok(scores::entered(conn, &unit, period)?)
        })
        .await?;
    Ok(web::Json(FiguresBody { figures }))
}

/// A dossier that cost an indicator points.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "kind": "dossier", "code": "000.21.30.H12-260302-0003", "unit": "000.21.30.H12",
    "procedureCode": "1.001193.H12", "decision": null, "dueOn": null, "doneOn": null,
    "receivedAt": "2026-03-02T08:00:00+07:00", "dueAt": "2026-03-05T08:00:00+07:00", "endedAt": null,
    "reason": "still open and overdue since 2026-03-05 08:00:00", "pointsEach": 0.04
}))]
pub struct MissView {
    /// What the record is: a `dossier`, a `petition`, or a `procedure` (catalogue indicators).
    pub kind: RecordKind,
    /// The record's code (the procedure's for a procedure).
    pub code: String,
    /// Its unit (for a procedure: the unit that had to act, or the first unit handling it;
    /// empty when unknown).
    pub unit: String,
    /// Its procedure.
    pub procedure_code: String,
    /// The decision concerned (transparency indicators).
    pub decision: Option<String>,
    /// The deadline day missed (transparency indicators).
    pub due_on: Option<chrono::NaiveDate>,
    /// The day it was done, if it was (transparency indicators).
    pub done_on: Option<chrono::NaiveDate>,
    /// Received at (dossiers and petitions).
    pub received_at: Option<DateTime<FixedOffset>>,
    /// A dossier's due instant (after apologies and supplement time); a petition's first
    /// deadline missed.
    pub due_at: Option<DateTime<FixedOffset>>,
    /// When handling ended, if it did.
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// Why it counts against the indicator.
    pub reason: String,
    /// The points the unit's score would win back if this one record had not missed (unrounded
    /// to four decimals; the indicator's points with one more record counted as met).
    pub points_each: f64,
}

/// Paging of a misses list.
#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MissesQuery {
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// List the records that cost an indicator points
///
/// The records of the unit's subtree that cost the indicator points in the period, oldest
/// receipt first, each with the reason and the points it costs: for `ON_TIME_PROCESSING` the
/// dossiers finished late and those open past their due instant at the end of the period (or
/// now); for `DOSSIER_SYNC` the dossiers received in the period and never synced; for
/// `PETITION_PROCESSING_ON_TIME` the petitions that ended late or are open past a deadline
/// (`dueAt`: the first deadline missed); for `PETITION_HANDLING_SATISFACTION` the petitions
/// first received in the period whose petitioner was dissatisfied or petitioned again, or that
/// were handled late. For the catalogue indicators the records are procedures
/// (`kind: procedure`, by code): `PUBLISH_ON_TIME` those whose ministry decision was announced
/// late or not by its deadline (`decision`, `dueOn`, `doneOn`), `PUBLIC_UPDATE_ON_TIME` those
/// whose provincial decision was published late on the national database,
/// `PUBLIC_CONTENT_FULL` those published with parts of their content missing,
/// `ONLINE_SERVICE_PROVIDED` those without online service, `ONLINE_SERVICE_WITH_DOSSIERS` online
/// services without an online dossier in the period, `ONLINE_PAYMENT_FORMALITY` procedures with
/// fees without a dossier paid online, `PAYMENT_INTEGRATED_FORMALITY` procedures with fees whose
/// synced dossiers lack them, `CITIZEN_DATA_CONNECTED_FORMALITY` procedures without a dossier
/// that used the population database. Keyset-paginated; `Accept: text/csv` for a spreadsheet.
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-08"),
        ("indicator" = String, Path, description = "Indicator code", example = "ON_TIME_PROCESSING"),
        MissesQuery,
    ),
    responses(
        (status = 200, description = "A page of misses", content((Page<MissView> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Bad period, or an indicator whose misses are not listed", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/scores/{period}/indicators/{indicator}/misses")]
pub async fn list_misses(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    query: ValidQuery<MissesQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let (code, period_text, indicator_code) = path.into_inner();
    let (period, rule_set) = period_of(&state, &period_text).await?;
    let Some((_, indicator)) = rule_set.indicator(&indicator_code) else {
        return Err(ApiError::NotFound(format!(
            "no indicator {indicator_code} in rule set {}",
            rule_set.code
        )));
    };
    if !scores::listed().any(|c| c == indicator_code) {
        return Err(ApiError::invalid(
            "indicator",
            format!(
                "misses are listed record by record for {} so far",
                scores::listed().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let indicator = indicator.clone();
    let limit = query.0.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    // A cursor names the list it came from: one of another indicator, period or unit is refused
    // rather than read as a position in this one (until 2026-12-07 it skipped or repeated rows).
    let list = format!("{indicator_code}@{period}@{code}");
    let after = query
        .0
        .cursor
        .as_deref()
        .map(|cursor| parse_ordered_cursor(cursor, Some(&list)))
        .transpose()?;
    let now = now_local();
    let points_each = move |count: Option<scores::Count>| {
        count.map_or(0.0, |c| {
            let n = c.numerator.min(c.denominator);
            let gain = scoring::points_if(&indicator, n + 1, c.denominator.max(n + 1))
                - scoring::points_if(&indicator, n, c.denominator);
            (gain.max(0.0) * 10_000.0).round() / 10_000.0
        })
    };
    // Procedures carry no instant: their keyset is the code alone.
    let first_instant = period.start().naive_local();
    let position = move |m: &Miss| (m.received_at.unwrap_or(first_instant), m.code.clone());
    let view = move |points_each: f64| {
        move |m: Miss| MissView {
            kind: m.kind,
            code: m.code,
            unit: m.unit,
            procedure_code: m.procedure_code,
            decision: m.decision,
            due_on: m.due_on,
            done_on: m.done_on,
            received_at: m.received_at.map(from_local),
            due_at: m.due_at.map(from_local),
            ended_at: m.ended_at.map(from_local),
            reason: m.reason,
            points_each,
        }
    };
    if wants_csv(&req) {
        let figure_code = indicator_code.clone();
        let rules = rule_set.clone();
        let (unit, count) = state
            .run(move |conn| {
                let unit = unit_in_scope(conn, &principal, &code)?;
                let count =
                    scores::figure_of(conn, &unit, period, now, &figure_code, &rules.counting)?;
                Ok((unit, count))
            })
            .await?;
        let view = view(points_each(count));
        let read =
            move |conn: &mut DbConnection, after: Option<&(NaiveDateTime, String)>, limit| {
                Ok(scores::misses(
                    conn,
                    &unit,
                    (period, now),
                    (&indicator_code, &rule_set.counting),
                    after.cloned(),
                    limit,
                )?)
            };
        // Every miss, page after page.
        return Ok(csv_list(
            &state,
            "misses",
            &MISS_CSV_HEADER,
            after,
            read,
            position,
            move |m| miss_row(&view(m)),
        )
        .await);
    }
    // The figure and the first page together: a catalogue indicator's are one reading.
    let (count, rows) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            Ok(scores::figure_and_misses(
                conn,
                &unit,
                (period, now),
                (&indicator_code, &rule_set.counting),
                after,
                limit + 1,
            )?)
        })
        .await?;
    let key = |m: &Miss| {
        let (at, code) = position(m);
        ordered_cursor_key(Some(&list), at, &code)
    };
    let page = Page::from_rows(rows, limit, key, view(points_each(count)));
    Ok(HttpResponse::Ok().json(page))
}

/// The columns of the misses' CSV.
const MISS_CSV_HEADER: [&str; 12] = [
    "kind",
    "code",
    "unit",
    "procedureCode",
    "decision",
    "dueOn",
    "doneOn",
    "receivedAt",
    "dueAt",
    "endedAt",
    "reason",
    "pointsEach",
];

/// A miss as a CSV row under [`MISS_CSV_HEADER`].
fn miss_row(m: &MissView) -> Vec<String> {
    vec![
        word(&m.kind),
        m.code.clone(),
        m.unit.clone(),
        m.procedure_code.clone(),
        cell(m.decision.clone()),
        cell(m.due_on.map(|d| d.to_string())),
        cell(m.done_on.map(|d| d.to_string())),
        cell(m.received_at.map(|t| t.to_rfc3339())),
        cell(m.due_at.map(|t| t.to_rfc3339())),
        cell(m.ended_at.map(|t| t.to_rfc3339())),
        m.reason.clone(),
        m.points_each.to_string(),
    ]
}

/// A month of a trend.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    /// The month.
    pub period: String,
    /// The total score.
    pub score: Option<f64>,
    /// Each group's score, by group code.
    pub groups: BTreeMap<String, Option<f64>>,
}

/// A unit's scores month by month.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"unit": "000.00.00.H12", "points": [
    {"period": "2026-01", "score": 21.6, "groups": {"PROGRESS": 12.0, "ONLINE_SERVICE": 6.0, "TRANSPARENCY": 3.6}},
    {"period": "2026-02", "score": 23.1, "groups": {"PROGRESS": 13.5, "ONLINE_SERVICE": 6.0, "TRANSPARENCY": 3.6}}
]}))]
pub struct Trend {
    /// The unit.
    pub unit: String,
    /// One point per month, oldest first.
    pub points: Vec<TrendPoint>,
}

/// The months of a trend.
#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrendQuery {
    /// First month, e.g. `2026-01`.
    pub from: String,
    /// Last month, e.g. `2026-12` (at most 24 months after `from`).
    pub to: String,
}

/// A unit's score trend
///
/// The unit's live score month by month, total and per group, as `GET .../scores/{period}`
/// computes it for each month.
#[utoipa::path(
    tag = "scoring",
    params(("code" = String, Path, description = "Unit code", example = "000.00.00.H12"), TrendQuery),
    responses(
        (status = 200, description = "The trend", body = Trend),
        (status = 400, description = "Bad months, or more than 24", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/scores")]
pub async fn trend(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    query: ValidQuery<TrendQuery>,
) -> Result<web::Json<Trend>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let month = |name: &str, text: &str| match Period::parse(text) {
        Ok(p @ Period::Month { .. }) => Ok(p),
        _ => Err(ApiError::invalid(name, "must be a month such as 2026-01")),
    };
    let from = month("from", &query.0.from)?;
    let to = month("to", &query.0.to)?;
    let months = Period::months_between(from, to).map_err(|r| ApiError::rule("to", r))?;
    if months.len() > 24 {
        return Err(ApiError::rule("to", "at most 24 months after from"));
    }
    let sets = rule_sets(&state).await?;
    let mut periods = Vec::with_capacity(months.len());
    for m in months {
        periods.push((m, period_in(&sets, &m.to_string())?.1));
    }
    let code = code.into_inner();
    let now = now_local();
    let (unit, points) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let mut points = Vec::with_capacity(periods.len());
            for (period, rule_set) in periods {
                let (evaluation, _) = standing(conn, &unit, period, &rule_set, now)?;
                points.push(TrendPoint {
                    period: period.to_string(),
                    score: evaluation.score,
                    groups: evaluation
                        .groups
                        .into_iter()
                        .map(|g| (g.code, g.score))
                        .collect(),
                });
            }
            Ok((unit, points))
        })
        .await?;
    Ok(web::Json(Trend {
        unit: unit.code,
        points,
    }))
}

/// A child unit's place in a ranking.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankedUnit {
    /// Rank by total score (1 = best; equal scores share a rank).
    pub rank: usize,
    /// The child unit.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Its total score.
    pub score: f64,
    /// Its total score in the previous period of the same kind.
    pub previous_score: f64,
    /// The change since the previous period.
    pub change: f64,
    /// Its rank in the previous period.
    pub previous_rank: usize,
    /// Each group's score, by group code.
    pub groups: BTreeMap<String, f64>,
    /// Its rank in each group, by group code.
    pub group_ranks: BTreeMap<String, usize>,
}

/// The children of a unit ranked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"unit": "000.00.00.H12", "period": "2026-08", "previousPeriod": "2026-07", "items": [
    {"rank": 1, "unit": "000.00.02.H12", "name": "Sở Tư pháp", "score": 26.0, "previousScore": 24.5, "change": 1.5,
     "previousRank": 2, "groups": {"PROGRESS": 20.0}, "groupRanks": {"PROGRESS": 1}}
]}))]
pub struct Ranking {
    /// The parent unit.
    pub unit: String,
    /// The period.
    pub period: String,
    /// The period the change is measured from.
    pub previous_period: String,
    /// The children, best first.
    pub items: Vec<RankedUnit>,
}

/// Rank a unit's children
///
/// The unit's direct children ranked by total score (a group without figures counts 0), with
/// their rank in each group and the change since the previous period of the same kind.
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-08"),
    ),
    responses(
        (status = 200, description = "The ranking", body = Ranking),
        (status = 400, description = "Bad period", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/rankings/{period}")]
pub async fn rankings(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<Ranking>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let (code, period_text) = path.into_inner();
    let sets = rule_sets(&state).await?;
    let (period, rule_set) = period_in(&sets, &period_text)?;
    let previous = period.previous();
    let previous_rules = sets
        .in_force(previous.first_day())
        .unwrap_or_else(|| rule_set.clone());
    let now = now_local();
    let rules = rule_set.clone();
    let (unit, rows) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let mut rows = Vec::new();
            for child in units::children_rows(conn, &unit)? {
                let (now_eval, _) = standing(conn, &child, period, &rules, now)?;
                let (before, _) = standing(conn, &child, previous, &previous_rules, now)?;
                rows.push((child, now_eval, before.score.unwrap_or(0.0)));
            }
            Ok((unit, rows))
        })
        .await?;
    let totals: Vec<f64> = rows.iter().map(|r| r.1.score.unwrap_or(0.0)).collect();
    let before: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let (rank_now, rank_before) = (ranks(&totals), ranks(&before));
    let mut group_ranks: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for group in &rule_set.groups {
        let scores: Vec<f64> = rows
            .iter()
            .map(|r| {
                r.1.groups
                    .iter()
                    .find(|g| g.code == group.code)
                    .and_then(|g| g.score)
                    .unwrap_or(0.0)
            })
            .collect();
        group_ranks.insert(group.code.clone(), ranks(&scores));
    }
    let mut items: Vec<RankedUnit> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (child, evaluation, previous_score))| {
            let score = totals[i];
            RankedUnit {
                rank: rank_now[i],
                unit: child.code,
                name: child.name,
                score,
                previous_score,
                change: scoring::round2(score - previous_score),
                previous_rank: rank_before[i],
                groups: evaluation
                    .groups
                    .into_iter()
                    .map(|g| (g.code, g.score.unwrap_or(0.0)))
                    .collect(),
                group_ranks: group_ranks
                    .iter()
                    .map(|(code, ranks)| (code.clone(), ranks[i]))
                    .collect(),
            }
        })
        .collect();
    items.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.unit.cmp(&b.unit)));
    Ok(web::Json(Ranking {
        unit: unit.code,
        period: period.to_string(),
        previous_period: previous.to_string(),
        items,
    }))
}
