//! `/api/v1/units/{code}/official-scores/{period}` and `/reconciliation/{period}`: the scores
//! the national portal published, and tthc's figures side by side with them.

use actix_web::{get, put, web};
use serde::Serialize;
use tthc_core::InvalidParam;
use tthc_core::db::DbConnection;
use tthc_core::db::official::{self, OfficialIndicator, OfficialScores};
use tthc_core::db::scores::{self, Source};
use tthc_core::period::Period;
use tthc_core::scoring::reconcile::{Context, Side, causes};
use tthc_core::scoring::{self, RuleSet};
use utoipa::ToSchema;

use crate::auth::{Principal, Scope};
use crate::context::{Scored, period_of, scored, unit_in_scope};
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::ValidJson;
use crate::state::AppState;
use tthc_core::db::now_local;

/// The body of `PUT /official-scores`: [`OfficialScores`], checked against the period's rule
/// set by [`check`] (the rule set depends on the path, so field rules cannot say it).
#[derive(Debug, serde::Deserialize)]
#[serde(transparent)]
pub struct OfficialScoresBody(OfficialScores);

impl validator::Validate for OfficialScoresBody {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

fn check(rule_set: &RuleSet, body: &OfficialScores) -> Result<(), ApiError> {
    let mut invalid = Vec::new();
    let mut bounded = |name: String, value: f64, max: f64| {
        if !(0.0..=max).contains(&value) {
            invalid.push(InvalidParam::new(
                name,
                format!("must be between 0 and {max}"),
            ));
        }
    };
    bounded("score".into(), body.score, rule_set.max_score());
    for (code, score) in &body.groups {
        if let Some(group) = rule_set.groups.iter().find(|g| g.code == *code) {
            bounded(format!("groups.{code}"), *score, group.max_score);
        }
    }
    for (code, figure) in &body.indicators {
        if let (Some((_, indicator)), Some(score)) = (rule_set.indicator(code), figure.score) {
            bounded(
                format!("indicators.{code}.score"),
                score,
                indicator.max_score,
            );
        }
    }
    let unknown = |what: &str| format!("unknown {what} of rule set {}", rule_set.code);
    for code in body.groups.keys() {
        if rule_set.groups.iter().all(|g| g.code != *code) {
            invalid.push(InvalidParam::new(
                format!("groups.{code}"),
                unknown("group"),
            ));
        }
    }
    for (code, figure) in &body.indicators {
        let name = format!("indicators.{code}");
        if rule_set.indicator(code).is_none() {
            invalid.push(InvalidParam::new(name, unknown("indicator")));
        } else if let (Some(n), Some(d)) = (figure.numerator, figure.denominator)
            && n > d
        {
            invalid.push(InvalidParam::new(
                format!("{name}.numerator"),
                "is larger than the denominator",
            ));
        }
    }
    // Ranks are 32-bit signed integers in the document.
    for (name, value) in [("rank", body.rank), ("rankOf", body.rank_of)] {
        if value.is_some_and(|v| i32::try_from(v).is_err()) {
            invalid.push(InvalidParam::new(name, "is too large"));
        }
    }
    if let (Some(rank), Some(of)) = (body.rank, body.rank_of)
        && (rank == 0 || rank > of)
    {
        invalid.push(InvalidParam::new(
            "rank",
            format!("must be between 1 and {of}"),
        ));
    }
    if body
        .source
        .as_ref()
        .is_some_and(|s| s.chars().count() > 500)
    {
        invalid.push(InvalidParam::new("source", "is longer than 500 characters"));
    }
    ApiError::unless_rules(invalid)
}

/// Enter the portal's published scores
///
/// Stores the scores the national portal published for the unit and period (total, rank,
/// groups, and the indicators' figures as far as published), replacing earlier ones. Audited.
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-08"),
    ),
    request_body = OfficialScores,
    responses(
        (status = 200, description = "Stored", body = OfficialScores),
        (status = 400, description = "Unknown groups or indicators, scores out of range, a numerator above its denominator", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:write"]))
)]
#[put("/units/{code}/official-scores/{period}")]
pub async fn put_official(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    body: ValidJson<OfficialScoresBody>,
) -> Result<web::Json<OfficialScores>, ApiError> {
    principal.require(Scope::ScoresWrite)?;
    let (code, period_text) = path.into_inner();
    let (period, rule_set) = period_of(&state, &period_text).await?;
    let body = body.0.0;
    check(&rule_set, &body)?;
    state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            official::put(conn, &principal.actor(), &unit, period, &body)?;
            Ok(body)
        })
        .await
        .map(web::Json)
}

/// The official scores of `unit` for `period`, or 404.
fn entered(
    conn: &mut DbConnection,
    unit: &tthc_core::db::units::UnitRow,
    period: Period,
) -> Result<OfficialScores, ApiError> {
    official::get(conn, unit, period)?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "no official scores entered for {} and {period}",
            unit.code
        ))
    })
}

/// Read the portal's published scores
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-08"),
    ),
    responses(
        (status = 200, description = "The official scores", body = OfficialScores),
        (status = 400, description = "Bad period", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units, or none entered", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/official-scores/{period}")]
pub async fn get_official(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<OfficialScores>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let (code, period_text) = path.into_inner();
    let (period, _) = period_of(&state, &period_text).await?;
    state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            entered(conn, &unit, period)
        })
        .await
        .map(web::Json)
}

/// One side of an indicator in a reconciliation.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SideView {
    /// The records that met it.
    pub numerator: Option<u64>,
    /// The records measured.
    pub denominator: Option<u64>,
    /// The points.
    pub score: Option<f64>,
}

impl From<Side> for SideView {
    fn from(s: Side) -> Self {
        Self {
            numerator: s.numerator,
            denominator: s.denominator,
            score: s.score,
        }
    }
}

/// An indicator reconciled.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconciledIndicator {
    /// The indicator.
    pub code: String,
    /// Its name in Vietnamese.
    pub name_vi: String,
    /// tthc's figures.
    pub tthc: SideView,
    /// The portal's.
    pub official: SideView,
    /// tthc's score minus the portal's (two decimals), when both have one.
    pub difference: Option<f64>,
    /// The likely causes of the difference (empty when they agree).
    pub causes: Vec<String>,
}

/// A group reconciled.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconciledGroup {
    /// The group.
    pub code: String,
    /// tthc's score.
    pub tthc: Option<f64>,
    /// The portal's.
    pub official: Option<f64>,
    /// tthc's minus the portal's.
    pub difference: Option<f64>,
}

/// tthc's figures and the portal's side by side.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "unit": "000.00.00.H12", "period": "2026-08", "basis": "snapshot",
    "tthcScore": 80.1, "officialScore": 78.52, "difference": 1.58, "rank": 21, "rankOf": 34,
    "groups": [{"code": "PROGRESS", "tthc": 16.1, "official": 15.68, "difference": 0.42}],
    "indicators": [{"code": "ON_TIME_PROCESSING", "nameVi": "Hồ sơ giải quyết đúng hạn",
        "tthc": {"numerator": 150000, "denominator": 186300, "score": 16.1},
        "official": {"numerator": 144625, "denominator": 184513, "score": 15.68},
        "difference": 0.42,
        "causes": ["tthc counts 1787 more records than the portal",
                   "1787 dossiers of the period were never synced to the national portal, which counts only what it receives"]}]
}))]
pub struct Reconciliation {
    /// The unit.
    pub unit: String,
    /// The period.
    pub period: String,
    /// What tthc's side is: the closed month's `snapshot`, or `live` figures.
    pub basis: String,
    /// tthc's total score.
    pub tthc_score: Option<f64>,
    /// The portal's.
    pub official_score: f64,
    /// tthc's minus the portal's (two decimals).
    pub difference: Option<f64>,
    /// The portal's rank, if published.
    pub rank: Option<u32>,
    /// Of how many.
    pub rank_of: Option<u32>,
    /// The groups.
    pub groups: Vec<ReconciledGroup>,
    /// The indicators.
    pub indicators: Vec<ReconciledIndicator>,
}

fn diff(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(scoring::round2(a? - b?))
}

/// Reconcile with the portal
///
/// tthc's figures (a closed month's snapshot, else live) and the scores the national portal
/// published, group by group and indicator by indicator, with the difference and its likely
/// causes: records tthc holds that the portal did not count (never synced), records the portal
/// counts that tthc lacks, the same records judged differently, figures entered by hand, and
/// late data since the month was closed.
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "Period", example = "2026-08"),
    ),
    responses(
        (status = 200, description = "The reconciliation", body = Reconciliation),
        (status = 400, description = "Bad period", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units, or no official scores entered", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/units/{code}/reconciliation/{period}")]
pub async fn reconciliation(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<Reconciliation>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let (code, period_text) = path.into_inner();
    let (period, rule_set) = period_of(&state, &period_text).await?;
    let now = now_local();
    let (unit, official, scored) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let official = entered(conn, &unit, period)?;
            let scored = scored(conn, &unit, period, &rule_set, now)?;
            Ok((unit, official, scored))
        })
        .await?;
    let Scored {
        evaluation,
        sources,
        since_close,
    } = scored;
    let unsynced = evaluation
        .groups
        .iter()
        .flat_map(|g| &g.indicators)
        .find(|i| i.code == "DOSSIER_SYNC")
        .and_then(|i| Some(i.denominator? - i.numerator?));
    // The indicators whose live figures moved since the close.
    let moved = |code: &str| {
        since_close.as_ref().map(|since| {
            since
                .indicators
                .iter()
                .find(|c| c.code == code)
                .map_or((0, 0), |c| (c.numerator, c.denominator))
        })
    };
    let groups = evaluation
        .groups
        .iter()
        .map(|g| {
            let theirs = official.groups.get(&g.code).copied();
            ReconciledGroup {
                code: g.code.clone(),
                tthc: g.score,
                official: theirs,
                difference: diff(g.score, theirs),
            }
        })
        .collect();
    let indicators = evaluation
        .groups
        .iter()
        .flat_map(|g| &g.indicators)
        .map(|i| {
            let ours = Side {
                numerator: i.numerator,
                denominator: i.denominator,
                score: i.score,
            };
            let published: OfficialIndicator =
                official
                    .indicators
                    .get(&i.code)
                    .copied()
                    .unwrap_or(OfficialIndicator {
                        numerator: None,
                        denominator: None,
                        score: None,
                    });
            let theirs = Side {
                numerator: published.numerator,
                denominator: published.denominator,
                score: published.score,
            };
            let context = Context {
                entered: sources.get(&i.code) == Some(&Source::Entered),
                unsynced: unsynced.filter(|_| scores::is_dossier_indicator(&i.code)),
                since_close: moved(&i.code),
            };
            ReconciledIndicator {
                code: i.code.clone(),
                name_vi: i.name_vi.clone(),
                difference: diff(ours.score, theirs.score),
                causes: causes(&ours, &theirs, &context),
                tthc: ours.into(),
                official: theirs.into(),
            }
        })
        .collect();
    Ok(web::Json(Reconciliation {
        unit: unit.code,
        period: period.to_string(),
        basis: if since_close.is_some() {
            "snapshot"
        } else {
            "live"
        }
        .to_owned(),
        tthc_score: evaluation.score,
        official_score: official.score,
        difference: diff(evaluation.score, Some(official.score)),
        rank: official.rank,
        rank_of: official.rank_of,
        groups,
        indicators,
    }))
}
