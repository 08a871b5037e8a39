//! Which child units pull a unit's score down, by how many points of each indicator
//! (`tthc_core::scoring::losses`), as JSON, CSV or XLSX.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use tthc_core::db::units;
use tthc_core::scoring::losses::{Share, apportion};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::context::{period_of, unit_in_scope};
use crate::error::{ApiError, PROBLEM_JSON as PROBLEM, Problem};
use crate::http::ValidQuery;
use crate::state::AppState;
use crate::table::{self, Cell, Column, Format, Table};
use tthc_core::app::scores::standing;
use tthc_core::db::now_local;

/// How to order and deliver the losses.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LossesQuery {
    /// `-total` (default: most points first), `unit` (by code), or `-` and an indicator code
    /// (most points of that indicator first).
    #[param(pattern = "^(-total|unit|-[A-Z][A-Z0-9_]{0,63})$")]
    pub sort: Option<String>,
    /// `json`, `csv` or `xlsx`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv|xlsx)$")]
    pub format: Option<String>,
}

/// One unit's part of the points its parent lost.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnitLoss {
    /// The child unit's code (the parent's own code for the records kept at the parent).
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Points lost at the parent's level, by indicator (unrounded: they add up to the
    /// parent's loss).
    pub points: BTreeMap<String, f64>,
    /// Their sum.
    pub total: f64,
}

/// Which units pull a unit's score down.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"unit": "000.00.00.H12", "period": "2026-08", "pointsLost": 21.48,
    "items": [{"unit": "000.21.30.H12", "name": "Phường Hạc Thành", "points": {"ON_TIME_PROCESSING": 0.412, "DOSSIER_SYNC": 0.078}, "total": 0.49}],
    "own": {"unit": "000.00.00.H12", "name": "Tỉnh", "points": {"PUBLISH_ON_TIME": 1.5}, "total": 1.5},
    "missesListed": ["ON_TIME_PROCESSING", "DOSSIER_SYNC"]}))]
pub struct Losses {
    /// The unit scored.
    pub unit: String,
    /// The period.
    pub period: String,
    /// The points the unit lost in all (its indicators' `pointsLost`).
    pub points_lost: f64,
    /// Its direct children, sorted as asked.
    pub items: Vec<UnitLoss>,
    /// The part kept at the unit itself: its own records, and indicators not counted record by
    /// record.
    pub own: UnitLoss,
    /// The indicators among these whose records that cost points are listed, one by one, by
    /// `GET .../indicators/{indicator}/misses` (the others are counted, not listed).
    pub misses_listed: Vec<String>,
}

fn loss(unit: &str, name: &str, share: Share) -> UnitLoss {
    UnitLoss {
        unit: unit.to_owned(),
        name: name.to_owned(),
        points: share.points,
        total: share.total,
    }
}

/// Which children cost a unit points
///
/// Each indicator's lost points at the unit's level shared among its direct children by the
/// records each one misses (a child with `m` of the unit's `M` misses carries `m / M` of the
/// points); the records kept at the unit itself, and indicators not counted record by record,
/// stay with the unit (`own`). Unrounded, so that the shares add up to the unit's loss. A
/// closed month reads its snapshots. CSV and XLSX with `Accept` or `format`.
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-08"),
        LossesQuery,
    ),
    responses(
        (status = 200, description = "The losses", content(
            (Losses = "application/json"), (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/scores/{period}/losses")]
pub async fn losses(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: ValidQuery<LossesQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let q = query.0;
    let format = table::negotiate(
        &req,
        q.format.as_deref(),
        &[Format::Json, Format::Csv, Format::Xlsx],
    )?;
    let (code, period_text) = path.into_inner();
    let (period, rule_set) = period_of(&state, &period_text).await?;
    let now = now_local();
    let rules = rule_set.clone();
    let (unit, parent, children) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let (parent, _) = standing(conn, &unit, period, &rules, now)?;
            let mut children = Vec::new();
            for child in units::children_rows(conn, &unit)? {
                let (evaluation, _) = standing(conn, &child, period, &rules, now)?;
                children.push((child, evaluation));
            }
            Ok((unit, parent, children))
        })
        .await?;
    let evaluations: Vec<_> = children.iter().map(|(_, e)| e).collect();
    let (shares, own) = apportion(&parent, &evaluations);
    let mut items: Vec<UnitLoss> = children
        .iter()
        .zip(shares)
        .map(|((child, _), share)| loss(&child.code, &child.name, share))
        .collect();
    match q.sort.as_deref() {
        None | Some("-total") => items.sort_by(|a, b| b.total.total_cmp(&a.total)),
        Some("unit") => items.sort_by(|a, b| a.unit.cmp(&b.unit)),
        Some(other) => {
            let code = other.trim_start_matches('-');
            if rule_set.indicator(code).is_none() {
                return Err(ApiError::rule(
                    "sort",
                    format!("no indicator {code} in rule set {}", rule_set.code),
                ));
            }
            let of = |l: &UnitLoss| l.points.get(code).copied().unwrap_or(0.0);
            items.sort_by(|a, b| of(b).total_cmp(&of(a)));
        }
    }
    let points_lost = parent
        .groups
        .iter()
        .flat_map(|g| &g.indicators)
        .filter_map(|i| i.points_lost)
        .sum::<f64>();
    let own = loss(&unit.code, &unit.name, own);
    let misses_listed = tthc_core::db::scores::listed()
        .filter(|c| own.points.contains_key(*c) || items.iter().any(|i| i.points.contains_key(*c)))
        .map(str::to_owned)
        .collect();
    let report = Losses {
        period: period.to_string(),
        points_lost: tthc_core::scoring::round2(points_lost),
        own,
        misses_listed,
        unit: unit.code,
        items,
    };
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(report));
    }
    let name = format!("losses-{}-{}", report.unit, report.period);
    table::download_table(format, &name, losses_table(&report, &rule_set))
}

/// The losses as a table: one row per child, one column per indicator that cost points, the
/// unit's own part and the total last.
fn losses_table(report: &Losses, rule_set: &tthc_core::scoring::RuleSet) -> Table {
    let codes: Vec<&str> = rule_set
        .groups
        .iter()
        .flat_map(|g| &g.indicators)
        .map(|i| i.code.as_str())
        .filter(|c| {
            report.own.points.contains_key(*c)
                || report.items.iter().any(|i| i.points.contains_key(*c))
        })
        .collect();
    let mut columns = vec![
        Column::new("unit", "Mã đơn vị"),
        Column::new("name", "Đơn vị"),
    ];
    columns.extend(
        codes
            .iter()
            .map(|c| Column::under("Điểm bị trừ theo chỉ số", c, c)),
    );
    columns.push(Column::new("total", "Tổng điểm bị trừ"));
    let row = |l: &UnitLoss| {
        let mut cells = vec![Cell::text(&l.unit), Cell::text(&l.name)];
        cells.extend(
            codes
                .iter()
                .map(|c| Cell::Number(l.points.get(*c).copied().unwrap_or(0.0))),
        );
        cells.push(Cell::Number(l.total));
        cells
    };
    let mut rows: Vec<Vec<Cell>> = report.items.iter().map(row).collect();
    rows.push(row(&report.own));
    Table {
        sheet: "Điểm bị trừ".into(),
        title: format!(
            "Điểm bị trừ của {} kỳ {} theo đơn vị trực thuộc",
            report.unit, report.period
        ),
        notes: vec![format!("Tổng điểm bị trừ: {:.2}", report.points_lost)],
        columns,
        rows,
        total: None,
    }
}
