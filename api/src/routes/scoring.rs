//! `/api/v1/rule-sets` and `/api/v1/scoring/evaluate`: the rules of the 766 index, and scores
//! of figures the caller supplies. Reading both is public: the rules are published law, and
//! evaluating reads nothing but the rules. Adding a rule set is an administrator's act.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::db::rule_sets as db_rule_sets;
use tthc_core::scoring::{self, Evaluation, Input, RuleSet, registry};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::{ValidJson, etag, if_match};
use crate::state::AppState;

use crate::context::rule_sets;

/// The rule sets, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{
    "code": "qd766", "nameVi": "Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ …",
    "nameEn": "Index for directing, operating and assessing the quality of service …",
    "appliesFrom": "2022-06-23", "source": "Quyết định 766/QĐ-TTg ngày 23/6/2022",
    "groups": [{"code": "PROGRESS", "nameVi": "Tiến độ giải quyết", "nameEn": "Processing progress", "maxScore": 20.0,
        "indicators": [{"code": "ON_TIME_PROCESSING", "nameVi": "Hồ sơ giải quyết đúng hạn", "nameEn": "Dossiers processed on time",
            "description": "(finished on time + in progress within time) / received or processed", "maxScore": 20.0,
            "scoring": {"kind": "linear"}, "zeroDenominator": "zero"}]}]
}]}))]
pub struct RuleSetList {
    /// The rule sets.
    pub items: Vec<RuleSet>,
}

/// List the index's rule sets
///
/// Every rule set: those shipped with the service and those added with
/// `PUT /rule-sets/{code}`, oldest first, each with the day it applies from, its groups and
/// indicators (Vietnamese and English names, points, scoring function, zero-denominator policy)
/// and its counting choices (`counting`).
#[utoipa::path(
    tag = "scoring",
    responses(
        (status = 200, description = "The rule sets", body = RuleSetList),
    ),
    security(())
)]
#[get("/rule-sets")]
pub async fn list_rule_sets(
    state: web::Data<AppState>,
) -> Result<web::Json<RuleSetList>, ApiError> {
    let sets = rule_sets(&state).await?;
    Ok(web::Json(RuleSetList {
        items: sets.all().cloned().collect(),
    }))
}

/// Get a rule set
///
/// A rule set added at run time carries its version in `ETag`, for `If-Match`.
#[utoipa::path(
    tag = "scoring",
    params(("code" = String, Path, description = "Rule set code", example = "qd766")),
    responses(
        (status = 200, description = "The rule set", body = RuleSet, example = json!({
            "code": "qd766", "nameVi": "Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ …",
            "nameEn": "Index for directing, operating and assessing the quality of service …",
            "appliesFrom": "2022-06-23", "source": "Quyết định 766/QĐ-TTg ngày 23/6/2022",
            "groups": [{"code": "SATISFACTION", "nameVi": "Mức độ hài lòng", "nameEn": "Satisfaction", "maxScore": 18.0,
                "indicators": [{"code": "PETITION_PROCESSING_ON_TIME", "nameVi": "Phản ánh, kiến nghị được xử lý đúng hạn",
                    "nameEn": "Petitions handled on time", "description": "Petitions handled on time / petitions due in the period",
                    "maxScore": 6.0, "scoring": {"kind": "linear"}, "zeroDenominator": "full"}]}],
            "counting": {"onlineSubmissionTimesSync": true, "paperResultNeedsElectronicResult": true,
                "resultIndicatorsOverPaperResult": true, "populationDataOverCitizenProcedures": true,
                "citizenSubjects": ["công dân", "cá nhân", "người nước ngoài", "hộ gia đình"],
                "announcementsDatedInPeriodOnly": true,
                "notApplicable": {"commune": {"PUBLIC_UPDATE_ON_TIME": "full", "PUBLIC_CONTENT_FULL": "full"}}}
        })),
        (status = 404, description = "No such rule set", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[get("/rule-sets/{code}")]
pub async fn get_rule_set(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    if let Some(shipped) = scoring::rule_set(&code) {
        return Ok(HttpResponse::Ok().json(shipped));
    }
    let wanted = code.clone();
    let stored = state
        .run(move |conn| Ok(db_rule_sets::find(conn, &wanted)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no rule set has the code {code}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(stored.version)))
        .json(stored.rule_set))
}

/// Add or replace a rule set
///
/// Adds a rule set of the 766 index, or replaces one added before: from `appliesFrom` on, the
/// live scores of every unit are counted and scored by it (months already closed keep the rule
/// set they were closed with). This is how a changed portal definition (`counting`) or a changed
/// weighting becomes the service's without a release. Checked before it is stored: groups summing
/// to 100 points, each group's maximum the sum of its indicators', codes unique, thresholds
/// within (0, 100], level policies naming its indicators, `appliesFrom` from 2022-06-23 and no
/// other rule set applying from the same day. The shipped rule sets cannot change (409), nor can
/// a rule set closed months were scored with (409: reopen them first). `If-Match` with the `ETag`
/// you read refuses a replacement made since. Needs `rules:admin` and a client granted every
/// unit. Audited.
#[utoipa::path(
    tag = "scoring",
    params(
        ("code" = String, Path, description = "Rule set code: lowercase letters, digits, `.`, `_`, `-`", example = "qd766-2027"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    request_body = RuleSet,
    responses(
        (status = 200, description = "Replaced (or unchanged)", body = RuleSet, headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 201, description = "Added", body = RuleSet, headers(("ETag" = String, description = "Version, for If-Match"), ("Location" = String))),
        (status = 403, description = "The token lacks rules:admin or is not granted every unit", body = Problem, content_type = PROBLEM),
        (status = 409, description = "A shipped rule set, or one closed months were scored with", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The rule set changed since the ETag in If-Match", body = Problem, content_type = PROBLEM),
        (status = 422, description = "The rule set is not valid: points that do not add up, repeated codes, a day another rule set applies from, a body code other than the path's", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["rules:admin"]))
)]
#[put("/rule-sets/{code}")]
pub async fn put_rule_set(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    code: web::Path<String>,
    body: ValidJson<RuleSetBody>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::RulesAdmin)?;
    principal.require_every_unit("a rule set scores every unit")?;
    let code = code.into_inner();
    let rule_set = body.0.0;
    if !is_rule_set_code(&code) {
        return Err(ApiError::NotFound(format!(
            "no rule set has the code {code}"
        )));
    }
    ApiError::unless_rules(check_rule_set(&code, &rule_set))?;
    let expected = if_match(&req)?;
    let actor = principal.actor();
    let (stored, created) = state
        .run(move |conn| {
            Ok(db_rule_sets::put(
                conn,
                &actor,
                &rule_set,
                expected.as_ref(),
            )?)
        })
        .await?;
    let mut answer = if created {
        let mut created = HttpResponse::Created();
        created.insert_header((header::LOCATION, format!("/api/v1/rule-sets/{code}")));
        created
    } else {
        HttpResponse::Ok()
    };
    Ok(answer
        .insert_header((header::ETAG, etag(stored.version)))
        .json(stored.rule_set))
}

/// A rule set as `PUT /rule-sets/{code}` reads it: its shape is checked as it is read
/// (`deny_unknown_fields`), its rules by [`check_rule_set`] and [`RuleSet::problems`].
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct RuleSetBody(RuleSet);

impl Validate for RuleSetBody {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// Whether `code` has the form of a rule set code.
fn is_rule_set_code(code: &str) -> bool {
    let mut chars = code.chars();
    (2..=50).contains(&code.len())
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c))
}

/// The rules a rule set's fields must keep beyond its own check ([`RuleSet::problems`], made
/// where it is stored): its code is the path's, and it applies within the index's years.
fn check_rule_set(code: &str, rule_set: &RuleSet) -> Vec<InvalidParam> {
    let mut refused = Vec::new();
    if rule_set.code != code {
        refused.push(InvalidParam::new(
            "code",
            format!("must be the code in the path, {code}"),
        ));
    }
    let first = NaiveDate::from_ymd_opt(2022, 6, 23);
    let last = NaiveDate::from_ymd_opt(2100, 12, 31);
    if first.is_some_and(|f| rule_set.applies_from < f)
        || last.is_some_and(|l| rule_set.applies_from > l)
    {
        refused.push(InvalidParam::new(
            "appliesFrom",
            "must be from 2022-06-23 (Decision 766) to 2100-12-31",
        ));
    }
    refused
}

/// The indicators tthc knows, in the order of the index.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{
    "code": "DOSSIER_SYNC", "counted": "dossiers", "source": "PORTAL_RULES 1.4",
    "counts": "dossiers received in the period that were synced to the national portal / dossiers received in the period",
    "missesListed": true, "action": "sync"
}]}))]
pub struct IndicatorList {
    /// The indicators.
    pub items: Vec<registry::IndicatorEntry>,
}

/// List how tthc counts each indicator
///
/// The registry of indicators: for each, where tthc reads its figures (`dossiers`,
/// `petitions`, `catalogue`, or `byHand` when it cannot observe it), the definition it follows,
/// what it counts, whether its misses are listed record by record, and the action of
/// `…/gains` that wins its points back. A rule set's `counting` adjusts the definitions.
#[utoipa::path(
    tag = "scoring",
    responses(
        (status = 200, description = "The indicators", body = IndicatorList),
    ),
    security(())
)]
#[get("/indicators")]
pub async fn list_indicators() -> web::Json<IndicatorList> {
    web::Json(IndicatorList {
        items: registry::INDICATORS.to_vec(),
    })
}

/// Figures to score.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"ruleSet": "qd766", "inputs": {
    "ON_TIME_PROCESSING": {"numerator": 144625, "denominator": 184513},
    "ELECTRONIC_CERTIFIED_COPY": {"ratio": 100}
}}))]
pub struct EvaluateRequest {
    /// The rule set's code.
    #[validate(length(min = 1, max = 50))]
    #[schema(min_length = 1, max_length = 50)]
    pub rule_set: String,
    /// Figures by indicator code: `{numerator, denominator}` (counts) or `{ratio}` (a
    /// percentage, 0–100).
    pub inputs: BTreeMap<String, Input>,
}

/// Score figures
///
/// Scores the figures the caller supplies against a rule set: for what-if questions, and for
/// checking the national portal's published figures. Indicators without input are listed with a
/// null score and do not count; so are groups without any input. Scores and ratios are rounded
/// to two decimals as the portal publishes them (each indicator from its unrounded ratio; group
/// and total scores from the unrounded indicator scores).
#[utoipa::path(
    tag = "scoring",
    request_body = EvaluateRequest,
    responses(
        (status = 200, description = "The scores", body = Evaluation),
        (status = 400, description = "Unknown rule set or indicator, negative counts, a numerator above its denominator, a ratio outside 0–100", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[post("/scoring/evaluate")]
pub async fn evaluate(
    state: web::Data<AppState>,
    body: ValidJson<EvaluateRequest>,
) -> Result<web::Json<Evaluation>, ApiError> {
    let request = body.0;
    let sets = rule_sets(&state).await?;
    let rule_set = sets.get(&request.rule_set).ok_or_else(|| {
        let known: Vec<&str> = sets.all().map(|r| r.code.as_str()).collect();
        ApiError::rule(
            "ruleSet",
            format!("no rule set has this code; known: {}", known.join(", ")),
        )
    })?;
    scoring::evaluate(&rule_set, &request.inputs)
        .map(web::Json)
        .map_err(ApiError::rules)
}
