//! `/api/v1/rule-sets` and `/api/v1/scoring/evaluate`: the rules of the 766 index, and scores
//! of figures the caller supplies. Both are public: the rules are published law, and evaluating
//! reads nothing stored.

use std::collections::BTreeMap;

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use tthc_core::scoring::{self, Evaluation, Input, RuleSet};
use utoipa::ToSchema;
use validator::Validate;

use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::ValidJson;

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
/// Every rule set shipped with the service, with the day it applies from, its groups and
/// indicators (Vietnamese and English names, points, scoring function, zero-denominator policy).
#[utoipa::path(
    tag = "scoring",
    responses(
        (status = 200, description = "The rule sets", body = RuleSetList),
    ),
    security(())
)]
#[get("/rule-sets")]
pub async fn list_rule_sets() -> web::Json<RuleSetList> {
    web::Json(RuleSetList {
        items: scoring::rule_sets().to_vec(),
    })
}

/// Get a rule set
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
                    "maxScore": 6.0, "scoring": {"kind": "linear"}, "zeroDenominator": "full"}]}]
        })),
        (status = 404, description = "No such rule set", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[get("/rule-sets/{code}")]
pub async fn get_rule_set(code: web::Path<String>) -> Result<web::Json<RuleSet>, ApiError> {
    scoring::rule_set(&code)
        .cloned()
        .map(web::Json)
        .ok_or_else(|| ApiError::NotFound(format!("no rule set has the code {code}")))
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
pub async fn evaluate(body: ValidJson<EvaluateRequest>) -> Result<web::Json<Evaluation>, ApiError> {
    let request = body.0;
    let rule_set = scoring::rule_set(&request.rule_set).ok_or_else(|| {
        let known: Vec<&str> = scoring::rule_sets()
            .iter()
            .map(|r| r.code.as_str())
            .collect();
        ApiError::rule(
            "ruleSet",
            format!("no rule set has this code; known: {}", known.join(", ")),
        )
    })?;
    scoring::evaluate(rule_set, &request.inputs)
        .map(web::Json)
        .map_err(ApiError::rules)
}
