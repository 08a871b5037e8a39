//! `/api/v1/reporting-duties`: the reports units owe the provincial office (seed `002_…`), the
//! reports they sent, the office's quality marks, and each unit's compliance for the PAR index
//! (seed `003_…`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::calendar::{from_local, to_local};
use tthc_core::db::duties::{
    self as store, Duty, DutyForm, DutyView, FileMeta, Owed, Submission, SubmissionFilter,
    SubmissionForm,
};
use tthc_core::period::Period;
use tthc_core::report::duties::{Deductions, DueRule, Frequency, Tally};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::context::unit_in_scope;
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::{ValidJson, ValidQuery, etag, if_match};
use crate::state::AppState;
use crate::table::{self, Cell, Column, Format, Table};
use tthc_core::db::now_local;

/// A reporting duty as written: a periodic report (`dueBeforeDay`, `dueMonthsAfter`,
/// `firstPeriod`), or a one-off request (`frequency` `once` with `dueOn`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "code": "TTHC_MONTHLY", "name": "Báo cáo tình hình, kết quả công tác cải cách TTHC hằng tháng",
    "frequency": "monthly", "dueBeforeDay": 21, "dueMonthsAfter": 0,
    "recipient": "Văn phòng UBND tỉnh", "reporters": ["000.00.02.H12", "000.00.21.H12"],
    "firstPeriod": "2026-01"
}))]
pub struct DutyBody {
    /// Code: letters, digits, `_`, `-`, `.`.
    #[validate(length(min = 1, max = 64))]
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,64}$")]
    pub code: String,
    /// Name.
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub name: String,
    /// How often a report is due.
    pub frequency: Frequency,
    /// The report must arrive before this day of the month (21: by the 20th); 1 to 28.
    /// Required for a periodic duty, left out for a one-off request.
    #[validate(range(min = 1, max = 28))]
    #[schema(minimum = 1, maximum = 28)]
    pub due_before_day: Option<u32>,
    /// Counted from the period's last month: 0 that month, 1 the month after; 0 to 12.
    /// Required for a periodic duty, left out for a one-off request.
    #[validate(range(min = 0, max = 12))]
    #[schema(minimum = 0, maximum = 12)]
    pub due_months_after: Option<u32>,
    /// Who receives the reports.
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub recipient: String,
    /// The codes of the units that owe the report.
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_items = 1, max_items = 5000, value_type = Vec<tthc_core::unit::UnitCode>)]
    pub reporters: Vec<String>,
    /// The first period owed, of the duty's frequency (`2026-01`, `2026-Q1`, `2026`).
    /// Required for a periodic duty, left out for a one-off request.
    pub first_period: Option<String>,
    /// A one-off request's due day, the last day its report is on time (a letter's "trước
    /// ngày 15/9/2024" is `2024-09-14`). Required with `frequency` `once`, refused otherwise.
    #[schema(value_type = Option<String>, format = Date, example = "2024-09-14")]
    pub due_on: Option<NaiveDate>,
    /// PAR-index points per late, poor and missing report; by default 0.25, 0.25, 0.5.
    pub deductions: Option<Deductions>,
}

impl DutyBody {
    fn form(self) -> Result<DutyForm, ApiError> {
        let mut invalid = Vec::new();
        if !self
            .code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            invalid.push(InvalidParam::new(
                "code",
                "letters, digits, '_', '-' and '.' only",
            ));
        }
        let once = self.frequency == Frequency::Once;
        let mut required = |name: &str, given: bool| match (once, given) {
            (true, true) => invalid.push(InvalidParam::new(
                name,
                "is not set for a one-off request (frequency once)",
            )),
            (false, false) => {
                invalid.push(InvalidParam::new(name, "is required for a periodic duty"))
            }
            _ => {}
        };
        required("dueBeforeDay", self.due_before_day.is_some());
        required("dueMonthsAfter", self.due_months_after.is_some());
        required("firstPeriod", self.first_period.is_some());
        match (once, self.due_on) {
            (true, None) => invalid.push(InvalidParam::new(
                "dueOn",
                "is required for a one-off request (frequency once)",
            )),
            (false, Some(_)) => invalid.push(InvalidParam::new(
                "dueOn",
                "is set only for a one-off request (frequency once)",
            )),
            (true, Some(d)) if !(2000..=2100).contains(&d.year()) => {
                invalid.push(InvalidParam::new("dueOn", "must be from 2000 to 2100"))
            }
            _ => {}
        }
        let first = match self.first_period.as_deref().map(Period::parse) {
            Some(Ok(p)) if self.frequency.fits(p) => Some(p),
            Some(Ok(_)) => {
                invalid.push(InvalidParam::new(
                    "firstPeriod",
                    format!("must be a period of a {} duty", self.frequency.as_str()),
                ));
                None
            }
            Some(Err(r)) => {
                invalid.push(InvalidParam::new("firstPeriod", r));
                None
            }
            None => None,
        };
        for (i, code) in self.reporters.iter().enumerate() {
            if self.reporters[..i].contains(code) {
                invalid.push(InvalidParam::new(
                    format!("reporters[{i}]"),
                    format!("{code} is listed twice"),
                ));
            }
        }
        let deductions = self.deductions.unwrap_or_default();
        for (name, value) in [
            ("deductions.late", deductions.late),
            ("deductions.poorQuality", deductions.poor_quality),
            ("deductions.missing", deductions.missing),
        ] {
            if !(0.0..=10.0).contains(&value) {
                invalid.push(InvalidParam::new(name, "must be from 0 to 10 points"));
            }
        }
        ApiError::unless_rules(invalid)?;
        Ok(DutyForm {
            code: self.code,
            name: self.name,
            frequency: self.frequency,
            due: DueRule {
                before_day: self.due_before_day.unwrap_or(1),
                months_after: self.due_months_after.unwrap_or(0),
            },
            recipient: self.recipient,
            reporters: self.reporters,
            first_period: first
                .or_else(|| self.due_on.and_then(|d| Period::year(d.year())))
                .unwrap_or(Period::Year(2000)),
            deductions,
            due_on: self.due_on,
        })
    }
}

/// The reporting duties.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DutyList {
    /// By code.
    pub items: Vec<DutyView>,
}

fn duty_response(builder: &mut actix_web::HttpResponseBuilder, duty: Duty) -> HttpResponse {
    builder
        .insert_header((header::ETAG, etag(duty.version)))
        .json(duty.form)
}

/// List reporting duties
///
/// Every duty: who owes which report, how often, by which day, to whom, and what a late, poor
/// or missing report costs. A caller limited to some units sees only its own units among the
/// reporters.
#[utoipa::path(
    tag = "reporting duties",
    responses(
        (status = 200, description = "The duties", body = DutyList),
    ),
    security(("bearer" = ["reports:read"]))
)]
#[get("/reporting-duties")]
pub async fn list_duties(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<DutyList>, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let duties = state
        .run(move |conn| {
            let mut duties = store::list(conn)?;
            let scope = principal.unit_scope(conn)?;
            store::keep_reporters_within(conn, &scope, &mut duties)?;
            Ok(duties)
        })
        .await?;
    Ok(web::Json(DutyList {
        items: duties.into_iter().map(|d| d.form).collect(),
    }))
}

/// Create a reporting duty
///
/// E.g. the monthly report each department and district sends the provincial office before the
/// 21st, or the office's consolidated report before the 25th (seed `002_…`). Audited.
#[utoipa::path(
    tag = "reporting duties",
    request_body = DutyBody,
    responses(
        (status = 201, description = "Created", body = DutyView, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields, or reporters unknown or outside the caller's units", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The code exists", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:admin"]))
)]
#[post("/reporting-duties")]
pub async fn create_duty(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<DutyBody>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsAdmin)?;
    let form = body.0.form()?;
    let duty = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::create(conn, &principal.actor(), &scope, &form)?)
        })
        .await?;
    let location = format!("/api/v1/reporting-duties/{}", duty.form.code);
    Ok(duty_response(
        HttpResponse::Created().insert_header((header::LOCATION, location)),
        duty,
    ))
}

/// Get a reporting duty
///
/// A caller limited to some units sees only its own units among the reporters.
#[utoipa::path(
    tag = "reporting duties",
    params(("code" = String, Path, description = "Duty code", example = "TTHC_MONTHLY")),
    responses(
        (status = 200, description = "The duty", body = DutyView, headers(("ETag" = String))),
        (status = 404, description = "No such duty", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:read"]))
)]
#[get("/reporting-duties/{code}")]
pub async fn get_duty(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let code = code.into_inner();
    let duty = state
        .run(move |conn| {
            let mut duty = store::get(conn, &code)?;
            let scope = principal.unit_scope(conn)?;
            store::keep_reporters_within(conn, &scope, std::slice::from_mut(&mut duty))?;
            Ok(duty)
        })
        .await?;
    Ok(duty_response(&mut HttpResponse::Ok(), duty))
}

/// Replace a reporting duty
///
/// Changes the days, the reporters, the deductions … (the code in the body must be the path's).
/// `If-Match` with the duty's `ETag` refuses a stale write (412). Compliance is judged by the
/// duty as it stands. A caller limited to some units names only reporters among them, and
/// replaces only a duty all of whose reporters are among them. Audited.
#[utoipa::path(
    tag = "reporting duties",
    params(("code" = String, Path, description = "Duty code", example = "TTHC_MONTHLY")),
    request_body = DutyBody,
    responses(
        (status = 200, description = "Replaced", body = DutyView, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields, or reporters unknown or outside the caller's units", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks reports:admin, or the duty binds units outside the caller's grant", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such duty", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The duty changed since the ETag given", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:admin"]))
)]
#[put("/reporting-duties/{code}")]
pub async fn put_duty(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    code: web::Path<String>,
    body: ValidJson<DutyBody>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsAdmin)?;
    let code = code.into_inner();
    if body.0.code != code {
        return Err(ApiError::rule("code", "must be the code in the path"));
    }
    let form = body.0.form()?;
    let expected = if_match(&req)?;
    let duty = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::replace(
                conn,
                &principal.actor(),
                &scope,
                &code,
                &form,
                expected.as_ref(),
            )?)
        })
        .await?;
    Ok(duty_response(&mut HttpResponse::Ok(), duty))
}

/// A report being recorded.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "unit": "000.00.02.H12", "period": "2026-08", "documentNumber": "125/BC-STP",
    "submittedAt": "2026-08-19T15:20:00+07:00",
    "file": {"name": "125-BC-STP.pdf", "mediaType": "application/pdf", "size": 482113}
}))]
pub struct SubmissionBody {
    /// The unit that sent it.
    #[validate(length(min = 1, max = 64))]
    #[schema(value_type = tthc_core::unit::UnitCode)]
    pub unit: String,
    /// The period reported on, of the duty's frequency. Left out for a one-off request (or its
    /// `dueOn` day).
    #[schema(
        pattern = "^(20[0-9]{2}|2100)(-(0[1-9]|1[0-2])|-Q[1-4]|-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))?$"
    )]
    pub period: Option<String>,
    /// The document's number.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub document_number: String,
    /// When it was sent (the electronic document system's time).
    pub submitted_at: DateTime<FixedOffset>,
    /// The file's metadata (tthc keeps the metadata, not the file).
    pub file: Option<FileMeta>,
}

/// The office's finding that a report is of poor quality.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PoorQualityView {
    /// Why.
    pub reason: String,
    /// When it was marked.
    pub marked_at: DateTime<Utc>,
    /// Who marked it.
    pub marked_by: String,
}

/// The office's excuse of a late report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExcuseView {
    /// Why.
    pub reason: String,
    /// When it was excused.
    pub excused_at: DateTime<Utc>,
    /// Who excused it.
    pub excused_by: String,
}

/// A recorded report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": 41, "duty": "TTHC_MONTHLY", "unit": "000.00.02.H12", "period": "2026-08",
    "documentNumber": "125/BC-STP", "submittedAt": "2026-08-19T15:20:00+07:00",
    "file": {"name": "125-BC-STP.pdf", "mediaType": "application/pdf", "size": 482113},
    "poorQuality": null, "excused": null, "recordedBy": "stp-vendor"
}))]
pub struct SubmissionView {
    /// Id.
    pub id: i64,
    /// The duty.
    pub duty: String,
    /// The unit.
    pub unit: String,
    /// The period.
    pub period: String,
    /// The document's number.
    pub document_number: String,
    /// When it was sent.
    pub submitted_at: DateTime<FixedOffset>,
    /// The file's metadata.
    pub file: Option<FileMeta>,
    /// Set when the office found it poor.
    pub poor_quality: Option<PoorQualityView>,
    /// Set when the office excused its delay.
    pub excused: Option<ExcuseView>,
    /// The client that recorded it.
    pub recorded_by: String,
}

impl From<Submission> for SubmissionView {
    fn from(s: Submission) -> Self {
        Self {
            id: s.id,
            duty: s.duty,
            unit: s.unit,
            period: s.period,
            document_number: s.document_number,
            submitted_at: from_local(s.submitted_at),
            file: s.file,
            poor_quality: s.poor_quality.map(|p| PoorQualityView {
                reason: p.reason,
                marked_at: p.marked_at.and_utc(),
                marked_by: p.marked_by,
            }),
            excused: s.excused.map(|e| ExcuseView {
                reason: e.reason,
                excused_at: e.excused_at.and_utc(),
                excused_by: e.excused_by,
            }),
            recorded_by: s.recorded_by,
        }
    }
}

/// Whether `text` has the form of a day (`2024-09-14`), though perhaps no real one.
fn day_shaped(text: &str) -> bool {
    text.len() == 10 && text.matches('-').count() == 2
}

/// The report owed a submission is for: a one-off request's, or the period's.
fn check_occasion(duty: &Duty, period: Option<&str>) -> Result<String, ApiError> {
    match (duty.form.due_on, period) {
        (Some(due_on), None) => Ok(due_on.to_string()),
        (Some(due_on), Some(p)) if p == due_on.to_string() => Ok(due_on.to_string()),
        (Some(due_on), Some(_)) => Err(ApiError::rule(
            "period",
            format!(
                "{} is a one-off request due on {due_on}: leave the period out",
                duty.form.code
            ),
        )),
        (None, None) => Err(ApiError::rule(
            "period",
            format!("is required: {} is a periodic duty", duty.form.code),
        )),
        (None, Some(p)) if day_shaped(p) => Err(ApiError::rule(
            "period",
            format!(
                "{} is a periodic duty: give its period, not a day",
                duty.form.code
            ),
        )),
        (None, Some(p)) => Ok(p.to_owned()),
    }
}

fn check_submission(
    duty: &Duty,
    body: &SubmissionBody,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let label = check_occasion(duty, body.period.as_deref())?;
    if let Some(due_on) = duty.form.due_on {
        let mut invalid = Vec::new();
        check_sent(duty, body, now, None, &mut invalid);
        // A report a year before the request fell due answers something else.
        if to_local(&body.submitted_at).date() < due_on - TimeDelta::days(366) {
            invalid.push(InvalidParam::new(
                "submittedAt",
                format!("is more than a year before the request's due day {due_on}"),
            ));
        }
        ApiError::unless_invalid(invalid)?;
        return Ok(label);
    }
    let mut invalid = Vec::new();
    let period = match Period::parse(&label) {
        Ok(p) if !duty.form.frequency.fits(p) => {
            invalid.push(InvalidParam::new(
                "period",
                format!(
                    "{} is a {} duty",
                    duty.form.code,
                    duty.form.frequency.as_str()
                ),
            ));
            None
        }
        Ok(p) if !duty.periods_in(p.year_of()).contains(&p) => {
            invalid.push(InvalidParam::new(
                "period",
                format!(
                    "{} is owed from {}",
                    duty.form.code,
                    duty.form.first_period.as_deref().unwrap_or("?")
                ),
            ));
            None
        }
        Ok(p) => Some(p),
        Err(r) => {
            invalid.push(InvalidParam::new("period", r));
            None
        }
    };
    check_sent(duty, body, now, period, &mut invalid);
    ApiError::unless_invalid(invalid)?;
    period
        .map(|p| p.to_string())
        .ok_or_else(|| ApiError::invalid("period", "is required"))
}

/// The checks of a submission that do not depend on its period's form.
fn check_sent(
    duty: &Duty,
    body: &SubmissionBody,
    now: DateTime<Utc>,
    period: Option<Period>,
    invalid: &mut Vec<InvalidParam>,
) {
    if body.submitted_at.with_timezone(&Utc) > now + TimeDelta::minutes(5) {
        invalid.push(InvalidParam::new("submittedAt", "is in the future"));
    }
    if let Some(p) = period
        && to_local(&body.submitted_at) < p.start().naive_local()
    {
        invalid.push(InvalidParam::new(
            "submittedAt",
            format!("is before {p} began"),
        ));
    }
    if !duty.form.reporters.contains(&body.unit) {
        invalid.push(InvalidParam::new(
            "unit",
            format!("{} does not owe {}", body.unit, duty.form.code),
        ));
    }
    if let Some(f) = &body.file {
        file_problems(f, "file.", invalid);
    }
}

/// The problems of a file's metadata, named under `field` (`file.`, `evidence.file.`).
pub(crate) fn file_problems(f: &FileMeta, field: &str, invalid: &mut Vec<InvalidParam>) {
    // Sizes are 64-bit signed integers in the document and the database.
    if i64::try_from(f.size).is_err() {
        invalid.push(InvalidParam::new(format!("{field}size"), "is too large"));
    }
    if f.name.trim().is_empty() || f.name.len() > 255 {
        invalid.push(InvalidParam::new(
            format!("{field}name"),
            "must have 1 to 255 characters",
        ));
    }
    if f.media_type.trim().is_empty() || f.media_type.len() > 127 {
        invalid.push(InvalidParam::new(
            format!("{field}mediaType"),
            "must have 1 to 127 characters",
        ));
    }
    if f.sha256
        .as_ref()
        .is_some_and(|h| h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()))
    {
        invalid.push(InvalidParam::new(
            format!("{field}sha256"),
            "must be 64 hexadecimal digits",
        ));
    }
}

/// Record a report sent
///
/// A unit records the report it sent for a duty and period: document number, when it was sent,
/// the file's metadata. The first report of a unit and period decides whether it was on time; a
/// later one (a correction) is kept beside it. Audited.
#[utoipa::path(
    tag = "reporting duties",
    params(("code" = String, Path, description = "Duty code", example = "TTHC_MONTHLY")),
    request_body = SubmissionBody,
    responses(
        (status = 201, description = "Recorded", body = SubmissionView, headers(("Location" = String))),
        (status = 400, description = "The unit does not owe the duty, the period is not one of the duty's, or bad fields", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such duty, or the unit is not among the caller's units", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The duty changed while the report was recorded: read it again and send the report again", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:write"]))
)]
#[post("/reporting-duties/{code}/submissions")]
pub async fn submit(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    body: ValidJson<SubmissionBody>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsWrite)?;
    let code = code.into_inner();
    let body = body.0;
    let submission = state
        .run(move |conn| {
            let duty = store::get(conn, &code)?;
            let unit = unit_in_scope(conn, &principal, &body.unit)?;
            let period = check_submission(&duty, &body, Utc::now())?;
            let form = SubmissionForm {
                period,
                document_number: body.document_number,
                submitted_at: to_local(&body.submitted_at),
                file: body.file,
            };
            Ok(store::submit(
                conn,
                &principal.actor(),
                &duty,
                unit.id,
                &form,
            )?)
        })
        .await?;
    let location = format!(
        "/api/v1/reporting-duties/{}/submissions/{}",
        submission.duty, submission.id
    );
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(SubmissionView::from(submission)))
}

/// Which reports to list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubmissionsQuery {
    /// Only this unit's.
    pub unit: Option<String>,
    /// Only for this period.
    pub period: Option<String>,
}

/// Reports sent for a duty.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionList {
    /// In the order they were sent.
    pub items: Vec<SubmissionView>,
}

/// List the reports sent for a duty
///
/// The caller's units' reports, in the order they were sent.
#[utoipa::path(
    tag = "reporting duties",
    params(("code" = String, Path, description = "Duty code", example = "TTHC_MONTHLY"), SubmissionsQuery),
    responses(
        (status = 200, description = "The reports", body = SubmissionList),
        (status = 400, description = "Bad period", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such duty or unit", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:read"]))
)]
#[get("/reporting-duties/{code}/submissions")]
pub async fn list_submissions(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    query: ValidQuery<SubmissionsQuery>,
) -> Result<web::Json<SubmissionList>, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let code = code.into_inner();
    let q = query.0;
    // A period, or a one-off request's due day.
    let period = q
        .period
        .as_deref()
        .map(|p| match Period::parse(p) {
            Ok(period) => Ok(period.to_string()),
            Err(r) => match p.parse::<NaiveDate>() {
                Ok(d) => Ok(d.to_string()),
                Err(_) if day_shaped(p) => Err(ApiError::rule("period", "is not a day")),
                Err(_) => Err(ApiError::invalid("period", r)),
            },
        })
        .transpose()?;
    let items = state
        .run(move |conn| {
            let duty = store::get(conn, &code)?;
            let unit_id = match &q.unit {
                Some(u) => Some(unit_in_scope(conn, &principal, u)?.id),
                None => None,
            };
            let scope = principal.unit_scope(conn)?;
            let mine: Vec<String> = store::reporters(conn, &duty, &scope)?
                .into_iter()
                .map(|r| r.code)
                .collect();
            let filter = SubmissionFilter {
                duty_id: Some(duty.id),
                unit_id,
                period,
                ..SubmissionFilter::default()
            };
            Ok(store::submissions(conn, &filter)?
                .into_iter()
                .filter(|s| mine.contains(&s.unit))
                .map(SubmissionView::from)
                .collect())
        })
        .await?;
    Ok(web::Json(SubmissionList { items }))
}

/// The office's finding on a report.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"poorQuality": true, "reason": "Thiếu số liệu biểu mẫu II.06a"}))]
pub struct QualityBody {
    /// Whether the report is of poor quality (`false` clears a mark).
    pub poor_quality: bool,
    /// Why; required when `poorQuality` is true.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: Option<String>,
}

/// Mark a report poor quality
///
/// The provincial office marks a report whose content or figures fall short (seed `003_…`), or
/// clears the mark. A poor report costs the unit the duty's poor-quality deduction. Audited.
#[utoipa::path(
    tag = "reporting duties",
    params(
        ("code" = String, Path, description = "Duty code", example = "TTHC_MONTHLY"),
        ("id" = i64, Path, description = "Report id", example = 41),
    ),
    request_body = QualityBody,
    responses(
        (status = 200, description = "The report", body = SubmissionView),
        (status = 400, description = "A poor-quality mark without a reason", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such duty, or no such report among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:admin"]))
)]
#[patch("/reporting-duties/{code}/submissions/{id}")]
pub async fn mark_quality(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    body: ValidJson<QualityBody>,
) -> Result<web::Json<SubmissionView>, ApiError> {
    principal.require(Scope::ReportsAdmin)?;
    let (code, id) = path.into_inner();
    let reason = match (body.0.poor_quality, body.0.reason) {
        (true, None) => {
            return Err(ApiError::rule(
                "reason",
                "is required to mark a report poor quality",
            ));
        }
        (true, Some(r)) => Some(r),
        (false, _) => None,
    };
    let s = state
        .run(move |conn| {
            let (duty, id) = report_in_scope(conn, &principal, &code, &id)?;
            Ok(store::mark_quality(
                conn,
                &principal.actor(),
                &duty,
                id,
                reason.as_deref(),
            )?)
        })
        .await?;
    Ok(web::Json(s.into()))
}

/// The office's excuse of a late report.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"reason": "Hệ thống quản lý văn bản gián đoạn ngày 20–21/8/2026"}))]
pub struct ExcuseBody {
    /// Why the delay is excused (e.g. a system outage).
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// The duty and report a path names, when the report is of the caller's units.
fn report_in_scope(
    conn: &mut tthc_core::db::DbConnection,
    principal: &Principal,
    code: &str,
    id: &str,
) -> Result<(Duty, i64), ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no report {id:?}")))?;
    let duty = store::get(conn, code)?;
    // A report of a unit outside the caller's grant does not exist for it.
    let sent = store::submission(conn, &duty, id)?;
    unit_in_scope(conn, principal, &sent.unit)
        .map_err(|_| ApiError::NotFound(format!("no report {id}")))?;
    Ok((duty, id))
}

/// Excuse a late report
///
/// The provincial office excuses the delay of a late report, with the reason (e.g. the
/// document system was down, seed `003_…`): the report then stands `excused` and costs nothing.
/// Only the first report of a period is judged, so only it can be excused, and only when it was
/// late (422 otherwise). Audited.
#[utoipa::path(
    tag = "reporting duties",
    params(
        ("code" = String, Path, description = "Duty code", example = "TTHC_MONTHLY"),
        ("id" = i64, Path, description = "Report id", example = 41),
    ),
    request_body = ExcuseBody,
    responses(
        (status = 200, description = "The report, excused", body = SubmissionView),
        (status = 400, description = "No reason", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such duty, or no such report among the caller's units", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The duty changed while the excuse was recorded: read it again and send the excuse again", body = Problem, content_type = PROBLEM),
        (status = 422, description = "The report was on time, or is not the first of its period", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:admin"]))
)]
#[put("/reporting-duties/{code}/submissions/{id}/excuse")]
pub async fn excuse(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    body: ValidJson<ExcuseBody>,
) -> Result<web::Json<SubmissionView>, ApiError> {
    principal.require(Scope::ReportsAdmin)?;
    let (code, id) = path.into_inner();
    let reason = body.0.reason;
    let s = state
        .run(move |conn| {
            let (duty, id) = report_in_scope(conn, &principal, &code, &id)?;
            Ok(store::excuse(
                conn,
                &principal.actor(),
                &duty,
                id,
                Some(&reason),
            )?)
        })
        .await?;
    Ok(web::Json(s.into()))
}

/// Withdraw an excuse
///
/// The report is judged late again. Audited.
#[utoipa::path(
    tag = "reporting duties",
    params(
        ("code" = String, Path, description = "Duty code", example = "TTHC_MONTHLY"),
        ("id" = i64, Path, description = "Report id", example = 41),
    ),
    responses(
        (status = 200, description = "The report, without an excuse", body = SubmissionView),
        (status = 404, description = "No such duty, or no such report among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:admin"]))
)]
#[delete("/reporting-duties/{code}/submissions/{id}/excuse")]
pub async fn withdraw_excuse(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<SubmissionView>, ApiError> {
    principal.require(Scope::ReportsAdmin)?;
    let (code, id) = path.into_inner();
    let s = state
        .run(move |conn| {
            let (duty, id) = report_in_scope(conn, &principal, &code, &id)?;
            Ok(store::excuse(conn, &principal.actor(), &duty, id, None)?)
        })
        .await?;
    Ok(web::Json(s.into()))
}

/// Whose compliance, for which year.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// The year.
    #[validate(range(min = 2000, max = 2100))]
    #[param(minimum = 2000, maximum = 2100)]
    #[param(example = 2026)]
    pub year: i32,
    /// Only this unit.
    pub unit: Option<String>,
    /// `json`, `csv` or `xlsx`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv|xlsx)$")]
    pub format: Option<String>,
}

/// A unit's record for one duty.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DutyCompliance {
    /// The duty.
    pub duty: String,
    /// How many reports of each standing, and the points they cost.
    #[serde(flatten)]
    pub tally: Tally,
    /// Each report owed.
    pub reports: Vec<Owed>,
}

/// A unit's record for the year.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnitCompliance {
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// PAR-index points deducted in all.
    pub deduction: f64,
    /// Per duty.
    pub duties: Vec<DutyCompliance>,
}

/// Compliance with the reporting duties in a year.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"year": 2026, "judgedAt": "2026-11-21T09:00:00+07:00", "units": [
    {"unit": "000.00.02.H12", "name": "Sở Tư pháp", "deduction": 0.75, "duties": [
        {"duty": "TTHC_MONTHLY", "onTime": 8, "late": 1, "poorQuality": 0, "missing": 1, "pending": 2, "deduction": 0.75,
         "reports": [{"period": "2026-01", "dueOn": "2026-01-20", "standing": "onTime", "submittedAt": "2026-01-19T10:00:00", "documentNumber": "12/BC-STP", "poorQualityReason": null}]}]}]}))]
pub struct ComplianceReport {
    /// The year.
    pub year: i32,
    /// When reports not sent were judged.
    pub judged_at: DateTime<FixedOffset>,
    /// Per unit, by code.
    pub units: Vec<UnitCompliance>,
}

/// Compliance with reporting duties
///
/// For each unit that owes reports (among the caller's units) and each duty, the year's reports:
/// on time, late, poor quality, missing (past the deadline and never sent), pending (not yet
/// due), and the PAR-index points they cost (by default 0.25 per late or poor report, 0.5 per
/// missing one, seed `003_…`). A report is judged by its first submission.
///
/// CSV or XLSX (`Accept` or `?format=`): one row per unit and duty with the counts and points.
#[utoipa::path(
    tag = "reporting duties",
    params(ComplianceQuery),
    responses(
        (status = 200, description = "Compliance", content(
            (ComplianceReport = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "Bad year or format", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:read"]))
)]
#[get("/reporting-duties/compliance")]
pub async fn compliance(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<ComplianceQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let q = query.0;
    let format = table::negotiate(
        &req,
        q.format.as_deref(),
        &[Format::Json, Format::Csv, Format::Xlsx],
    )?;
    let now = now_local();
    let year = q.year;
    let records = state
        .run(move |conn| {
            let only = match &q.unit {
                Some(u) => Some(unit_in_scope(conn, &principal, u)?.code),
                None => None,
            };
            let scope = principal.unit_scope(conn)?;
            Ok(store::compliance(conn, &scope, year, now)?
                .into_iter()
                .filter(|c| only.as_ref().is_none_or(|u| *u == c.unit.code))
                .collect::<Vec<_>>())
        })
        .await?;
    let mut units: Vec<UnitCompliance> = Vec::new();
    for c in records {
        let i = match units.iter().position(|u| u.unit == c.unit.code) {
            Some(i) => i,
            None => {
                units.push(UnitCompliance {
                    unit: c.unit.code.clone(),
                    name: c.unit.name.clone(),
                    deduction: 0.0,
                    duties: Vec::new(),
                });
                units.len() - 1
            }
        };
        let u = &mut units[i];
        u.deduction = tthc_core::scoring::round2(u.deduction + c.tally.deduction);
        u.duties.push(DutyCompliance {
            duty: c.duty,
            tally: c.tally,
            reports: c.reports,
        });
    }
    units.sort_by(|a, b| a.unit.cmp(&b.unit));
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(ComplianceReport {
            year,
            judged_at: from_local(now),
            units,
        }));
    }
    table::download_table(
        format,
        &format!("reporting-compliance-{year}"),
        compliance_table(year, &units),
    )
}

fn compliance_table(year: i32, units: &[UnitCompliance]) -> Table {
    let group = "Số báo cáo";
    let mut all = Tally::default();
    let mut rows = Vec::new();
    for u in units {
        for d in &u.duties {
            let t = d.tally;
            all = all.plus(t);
            rows.push(vec![
                Cell::Count(rows.len() as u64 + 1),
                Cell::text(&u.unit),
                Cell::text(&u.name),
                Cell::text(&d.duty),
                Cell::Count(t.on_time.into()),
                Cell::Count(t.late.into()),
                Cell::Count(t.poor_quality.into()),
                Cell::Count(t.excused.into()),
                Cell::Count(t.missing.into()),
                Cell::Count(t.pending.into()),
                Cell::Number(t.deduction),
            ]);
        }
    }
    Table {
        sheet: "Chế độ báo cáo".into(),
        title: format!("Kết quả thực hiện chế độ báo cáo năm {year}"),
        notes: vec!["Trừ điểm Chỉ số cải cách hành chính: 0,25 điểm/báo cáo chậm hoặc chưa đạt chất lượng; 0,5 điểm/báo cáo không gửi (mặc định).".into()],
        columns: vec![
            Column::new("no", "STT"),
            Column::new("unit", "Mã đơn vị"),
            Column::new("name", "Đơn vị"),
            Column::new("duty", "Báo cáo"),
            Column::under(group, "onTime", "Đúng hạn"),
            Column::under(group, "late", "Chậm"),
            Column::under(group, "poorQuality", "Chưa đạt chất lượng"),
            Column::under(group, "excused", "Chậm được miễn trừ"),
            Column::under(group, "missing", "Không gửi"),
            Column::under(group, "pending", "Chưa đến hạn"),
            Column::new("deduction", "Điểm bị trừ"),
        ],
        rows,
        total: Some(vec![
            Cell::Empty,
            Cell::Empty,
            Cell::text("Tổng cộng"),
            Cell::Empty,
            Cell::Count(all.on_time.into()),
            Cell::Count(all.late.into()),
            Cell::Count(all.poor_quality.into()),
            Cell::Count(all.excused.into()),
            Cell::Count(all.missing.into()),
            Cell::Count(all.pending.into()),
            Cell::Number(all.deduction),
        ]),
    }
}

/// Which reports due soon.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// Days ahead, today included: 0 to 366 (default 14).
    #[validate(range(min = 0, max = 366))]
    #[param(minimum = 0, maximum = 366)]
    pub days: Option<i64>,
    /// Only this unit.
    pub unit: Option<String>,
}

/// A report due soon and not sent yet.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DueItem {
    /// The duty.
    pub duty: String,
    /// Its name.
    pub duty_name: String,
    /// The unit that owes it.
    pub unit: String,
    /// The unit's name.
    pub unit_name: String,
    /// The period.
    pub period: String,
    /// The last day it is on time.
    pub due_on: NaiveDate,
    /// Days from today to `dueOn`.
    pub days_left: i64,
}

/// Reports due soon.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"from": "2026-11-21", "to": "2026-12-04", "items": [
    {"duty": "TTHC_MONTHLY", "dutyName": "Báo cáo cải cách TTHC hằng tháng", "unit": "000.00.02.H12",
     "unitName": "Sở Tư pháp", "period": "2026-12", "dueOn": "2026-12-20", "daysLeft": 29}]}))]
pub struct DueList {
    /// Today.
    pub from: NaiveDate,
    /// The last day looked at.
    pub to: NaiveDate,
    /// Soonest first, then by unit.
    pub items: Vec<DueItem>,
}

/// Reports due in the next days
///
/// The reports (of the caller's units) whose last on-time day falls from today to `days` days
/// ahead and that were not sent yet, soonest first: what each unit has to send next.
#[utoipa::path(
    tag = "reporting duties",
    params(DueQuery),
    responses(
        (status = 200, description = "Reports due", body = DueList),
        (status = 400, description = "Bad number of days", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:read"]))
)]
#[get("/reporting-duties/due")]
pub async fn due_soon(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<DueQuery>,
) -> Result<web::Json<DueList>, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let q = query.0;
    let today = now_local().date();
    let to = today + TimeDelta::days(q.days.unwrap_or(14));
    let items = state
        .run(move |conn| {
            let only = match &q.unit {
                Some(u) => Some(unit_in_scope(conn, &principal, u)?.code),
                None => None,
            };
            let scope = principal.unit_scope(conn)?;
            Ok(store::due_between(conn, &scope, today, to)?
                .into_iter()
                .filter(|d| only.as_ref().is_none_or(|u| *u == d.unit.code))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(web::Json(DueList {
        from: today,
        to,
        items: items
            .into_iter()
            .map(|d| DueItem {
                days_left: (d.due_on - today).num_days(),
                duty: d.duty,
                duty_name: d.duty_name,
                unit: d.unit.code,
                unit_name: d.unit.name,
                period: d.period,
                due_on: d.due_on,
            })
            .collect(),
    }))
}
