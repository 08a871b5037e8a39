//! Reporting duties and the reports sent for them; compliance per unit and year.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit::{self, Actor, Change};
use super::schema::{report_submissions, reporting_duties, units};
use super::timestamp::Stamp;
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::InvalidParam;
use crate::period::Period;
use crate::report::duties::{
    Deductions, DueRule, FirstSubmission, Frequency, Occasion, Standing, Tally, judge_from,
};
use crate::unit::UnitScope;
use crate::version::Versions;

/// A duty as written: all of it (a replace sends every field).
#[derive(Debug, Clone, PartialEq)]
pub struct DutyForm {
    /// Code, e.g. `TTHC_MONTHLY`.
    pub code: String,
    /// Name.
    pub name: String,
    /// How often.
    pub frequency: Frequency,
    /// When each report is due.
    pub due: DueRule,
    /// Who receives the reports.
    pub recipient: String,
    /// The codes of the units that owe the report.
    pub reporters: Vec<String>,
    /// The first period owed (a one-off request's: its due day's year).
    pub first_period: Period,
    /// Points deducted per report.
    pub deductions: Deductions,
    /// A one-off request's due day (frequency `once`; `due` and `first_period` then unused).
    pub due_on: Option<NaiveDate>,
}

/// A stored duty.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Duty {
    /// Surrogate key.
    #[serde(skip)]
    pub id: i64,
    /// The duty as written.
    #[serde(flatten)]
    pub form: DutyView,
    /// Version, for `If-Match`.
    #[serde(skip)]
    pub version: i64,
}

/// A duty's fields as the audit trail and the API show them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "code": "TTHC_MONTHLY", "name": "Báo cáo tình hình, kết quả công tác cải cách TTHC hằng tháng",
    "frequency": "monthly", "dueBeforeDay": 21, "dueMonthsAfter": 0,
    "recipient": "Văn phòng UBND tỉnh", "reporters": ["000.00.02.H12", "000.00.21.H12"],
    "firstPeriod": "2026-01", "dueOn": null,
    "deductions": {"late": 0.25, "poorQuality": 0.25, "missing": 0.5}
})))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DutyView {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// How often.
    pub frequency: Frequency,
    /// Due before this day of the month (null for a one-off request).
    pub due_before_day: Option<u32>,
    /// Months after the period's last month, 0: that month (null for a one-off request).
    pub due_months_after: Option<u32>,
    /// Who receives the reports.
    pub recipient: String,
    /// The units that owe the report.
    pub reporters: Vec<String>,
    /// The first period owed (null for a one-off request).
    pub first_period: Option<String>,
    /// A one-off request's due day: the last day its report is on time (frequency `once`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub due_on: Option<NaiveDate>,
    /// Points deducted per report.
    pub deductions: Deductions,
}

impl Duty {
    /// When its periodic reports are due.
    pub fn due(&self) -> DueRule {
        DueRule {
            before_day: self.form.due_before_day.unwrap_or(1),
            months_after: self.form.due_months_after.unwrap_or(0),
        }
    }

    /// The reports owed for `year`, in order: its periods' (by the period's year), or a
    /// one-off request's (by its due day's year).
    pub fn occasions_in(&self, year: i32) -> Vec<Occasion> {
        if let Some(due_on) = self.form.due_on {
            return if due_on.year() == year {
                vec![Occasion {
                    label: due_on.to_string(),
                    due_on,
                }]
            } else {
                Vec::new()
            };
        }
        self.periods_in(year)
            .into_iter()
            .map(|p| Occasion {
                label: p.to_string(),
                due_on: self.due().due_on(p),
            })
            .collect()
    }

    /// The report owed named `label` (a period, or a one-off request's due day).
    pub fn occasion(&self, label: &str) -> Option<Occasion> {
        let year = label.get(..4)?.parse().ok()?;
        self.occasions_in(year)
            .into_iter()
            .find(|o| o.label == label)
    }

    /// The periods owed in `year`, in order.
    pub fn periods_in(&self, year: i32) -> Vec<Period> {
        let first = self
            .form
            .first_period
            .as_deref()
            .and_then(|p| Period::parse(p).ok())
            .map(Period::first_day)
            .unwrap_or(NaiveDate::MIN);
        self.form
            .frequency
            .periods_in(year)
            .into_iter()
            .filter(|p| p.first_day() >= first)
            .collect()
    }
}

/// A stored duty as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = reporting_duties)]
struct DutyRow {
    id: i64,
    code: String,
    name: String,
    frequency: String,
    due_before_day: i32,
    due_months_after: i32,
    recipient: String,
    reporters: String,
    first_period: String,
    deductions: String,
    due_on: Option<NaiveDate>,
    version: i64,
}

fn duty_of(row: DutyRow) -> StoreResult<Duty> {
    let code = row.code;
    let bad = |what: &str| StoreError::Setup(format!("reporting duty {code}: bad {what}"));
    let periodic = row.due_on.is_none();
    Ok(Duty {
        id: row.id,
        form: DutyView {
            frequency: Frequency::parse(&row.frequency).ok_or_else(|| bad("frequency"))?,
            due_before_day: periodic
                .then(|| u32::try_from(row.due_before_day).map_err(|_| bad("due day")))
                .transpose()?,
            due_months_after: periodic
                .then(|| u32::try_from(row.due_months_after).map_err(|_| bad("months after")))
                .transpose()?,
            reporters: serde_json::from_str(&row.reporters).map_err(|_| bad("reporters"))?,
            deductions: serde_json::from_str(&row.deductions).map_err(|_| bad("deductions"))?,
            code,
            name: row.name,
            recipient: row.recipient,
            first_period: periodic.then_some(row.first_period),
            due_on: row.due_on,
        },
        version: row.version,
    })
}

/// Every duty, by code.
pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<Duty>> {
    reporting_duties::table
        .order(reporting_duties::code.asc())
        .select(DutyRow::as_select())
        .load::<DutyRow>(conn)?
        .into_iter()
        .map(duty_of)
        .collect()
}

/// The duty `code`.
pub fn get(conn: &mut DbConnection, code: &str) -> StoreResult<Duty> {
    let row: Option<DutyRow> = reporting_duties::table
        .filter(reporting_duties::code.eq(code))
        .select(DutyRow::as_select())
        .first(conn)
        .optional()?;
    row.map(duty_of).transpose()?.ok_or(StoreError::NotFound {
        resource: "reporting duty",
        id: code.to_owned(),
    })
}

/// Keeps, of each duty's reporters, those `scope` allows: a caller limited to some units does
/// not learn the codes of the units outside its grant. One query of the units, whatever the
/// number of duties.
pub fn keep_reporters_within(
    conn: &mut DbConnection,
    scope: &UnitScope,
    duties: &mut [Duty],
) -> StoreResult<()> {
    if matches!(scope, UnitScope::All) {
        return Ok(());
    }
    let codes: BTreeSet<&String> = duties.iter().flat_map(|d| &d.form.reporters).collect();
    let allowed: BTreeSet<String> = units::table
        .filter(units::code.eq_any(codes.into_iter().cloned().collect::<Vec<_>>()))
        .select((units::code, units::path))
        .load::<(String, String)>(conn)?
        .into_iter()
        .filter(|(_, path)| scope.allows(path))
        .map(|(code, _)| code)
        .collect();
    for duty in duties {
        duty.form.reporters.retain(|code| allowed.contains(code));
    }
    Ok(())
}

/// Refuses reporters that are not units of `scope`: a duty binds its reporters (reports due,
/// deductions when late), which only a caller granted them may decide. A unit elsewhere is
/// answered as a unit that does not exist.
fn check_reporters(
    conn: &mut DbConnection,
    scope: &UnitScope,
    reporters: &[String],
) -> StoreResult<()> {
    let known: Vec<(String, String)> = units::table
        .filter(units::code.eq_any(reporters.to_vec()))
        .select((units::code, units::path))
        .load(conn)?;
    let invalid: Vec<InvalidParam> = reporters
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            !known
                .iter()
                .any(|(code, path)| code == *c && scope.allows(path))
        })
        .map(|(i, c)| {
            InvalidParam::new(
                format!("reporters[{i}]"),
                format!("no unit has the code {c} among your units"),
            )
        })
        .collect();
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(invalid))
    }
}

fn text(value: &impl Serialize) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Setup(e.to_string()))
}

/// The columns a duty's form writes, on create and on replace.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = reporting_duties)]
struct DutyColumns<'a> {
    name: &'a str,
    frequency: &'static str,
    due_before_day: i32,
    due_months_after: i32,
    recipient: &'a str,
    reporters: String,
    first_period: String,
    deductions: String,
    due_on: Option<NaiveDate>,
}

impl<'a> DutyColumns<'a> {
    fn of(form: &'a DutyForm) -> StoreResult<Self> {
        // The API keeps both within 0..=28.
        let small = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(Self {
            name: &form.name,
            frequency: form.frequency.as_str(),
            due_before_day: small(form.due.before_day),
            due_months_after: small(form.due.months_after),
            recipient: &form.recipient,
            reporters: text(&form.reporters)?,
            first_period: form.first_period.to_string(),
            deductions: text(&form.deductions)?,
            due_on: form.due_on,
        })
    }
}

/// Creates a duty. Audited.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    form: &DutyForm,
) -> StoreResult<Duty> {
    write_tx(conn, |conn| {
        check_reporters(conn, scope, &form.reporters)?;
        let now = super::now();
        diesel::insert_into(reporting_duties::table)
            .values((
                reporting_duties::code.eq(&form.code),
                DutyColumns::of(form)?,
                reporting_duties::version.eq(1_i64),
                reporting_duties::created_at.eq(Stamp(now)),
                reporting_duties::updated_at.eq(Stamp(now)),
            ))
            .execute(conn)
            .map_err(|e| {
                StoreError::unique_as_conflict(
                    e,
                    "code",
                    &format!(
                        "a reporting duty with the code {} exists already",
                        form.code
                    ),
                )
            })?;
        let created = get(conn, &form.code)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "create",
                resource_type: "reportingDuty",
                resource_id: &form.code,
                before: None,
                after: Some(&created),
            },
        )?;
        Ok(created)
    })
}

/// Replaces duty `code` (its code stays). `If-Match` when `expected` is given. Only a caller
/// granted every reporter it has and is given may replace it. Audited.
pub fn replace(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    code: &str,
    form: &DutyForm,
    expected: Option<&Versions>,
) -> StoreResult<Duty> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &lock_key(code))?;
        let before = get(conn, code)?;
        if let Some(expected) = expected
            && !expected.allows(before.version)
        {
            return Err(StoreError::VersionMismatch {
                current: before.version,
            });
        }
        match check_reporters(conn, scope, &before.form.reporters) {
            Err(StoreError::Invalid(_)) => {
                return Err(StoreError::OutsideGrant(format!(
                    "the reporting duty {code} binds units outside your grant"
                )));
            }
            other => other?,
        }
        check_reporters(conn, scope, &form.reporters)?;
        // A one-off request's reports are filed under its due day: moving it would orphan them.
        if before.form.due_on.is_some() && before.form.due_on != form.due_on {
            let sent: i64 = report_submissions::table
                .filter(report_submissions::duty_id.eq(before.id))
                .count()
                .get_result(conn)?;
            if sent > 0 {
                return Err(StoreError::invalid(InvalidParam::new(
                    "dueOn",
                    format!("cannot move while {sent} reports are recorded for {code}"),
                )));
            }
        }
        diesel::update(reporting_duties::table.find(before.id))
            .set((
                DutyColumns::of(form)?,
                reporting_duties::version.eq(before.version + 1),
                reporting_duties::updated_at.eq(Stamp(super::now())),
            ))
            .execute(conn)?;
        let after = get(conn, code)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "update",
                resource_type: "reportingDuty",
                resource_id: code,
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        Ok(after)
    })
}

/// A report's file, as described by the sender (tthc keeps the metadata, not the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileMeta {
    /// File name.
    pub name: String,
    /// Media type, e.g. `application/pdf`.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-fA-F]{64}$"))]
    pub sha256: Option<String>,
}

/// A report being recorded.
#[derive(Debug, Clone)]
pub struct SubmissionForm {
    /// The report owed it is for: the period reported on, or a one-off request's due day
    /// ([`Occasion::label`]).
    pub period: String,
    /// The document's number, e.g. `125/BC-STP`.
    pub document_number: String,
    /// When it was sent (local time).
    pub submitted_at: NaiveDateTime,
    /// The file's metadata.
    pub file: Option<FileMeta>,
}

/// The office's finding that a report is of poor quality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoorQuality {
    /// Why.
    pub reason: String,
    /// When it was marked (UTC).
    pub marked_at: NaiveDateTime,
    /// Who marked it (client id).
    pub marked_by: String,
}

/// The office's excuse of a late report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Excuse {
    /// Why (e.g. the document system was down).
    pub reason: String,
    /// When it was excused (UTC).
    pub excused_at: NaiveDateTime,
    /// Who excused it (client id).
    pub excused_by: String,
}

/// A recorded report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    /// Id.
    pub id: i64,
    /// The duty's code.
    pub duty: String,
    /// The unit's code.
    pub unit: String,
    /// The period.
    pub period: String,
    /// The document's number.
    pub document_number: String,
    /// When it was sent (local time).
    pub submitted_at: NaiveDateTime,
    /// The file's metadata.
    pub file: Option<FileMeta>,
    /// Set when the office found it poor.
    pub poor_quality: Option<PoorQuality>,
    /// Set when the office excused its delay.
    pub excused: Option<Excuse>,
    /// Who recorded it.
    pub recorded_by: String,
}

type SubmissionRow = (
    i64,
    String,
    String,
    String,
    String,
    Stamp,
    Option<String>,
    Option<String>,
    Option<Stamp>,
    Option<String>,
    String,
    (Option<String>, Option<Stamp>, Option<String>),
);

fn submission_of(row: SubmissionRow) -> StoreResult<Submission> {
    let (
        id,
        duty,
        unit,
        period,
        document_number,
        submitted_at,
        file,
        reason,
        marked_at,
        marked_by,
        recorded_by,
        (excuse_reason, excused_at, excused_by),
    ) = row;
    let file = file
        .map(|f| serde_json::from_str(&f))
        .transpose()
        .map_err(|e| StoreError::Setup(format!("report {id}: bad file metadata: {e}")))?;
    Ok(Submission {
        id,
        duty,
        unit,
        period,
        document_number,
        submitted_at: submitted_at.0,
        file,
        poor_quality: reason.map(|reason| PoorQuality {
            reason,
            marked_at: marked_at.map(|m| m.0).unwrap_or_default(),
            marked_by: marked_by.unwrap_or_default(),
        }),
        excused: excuse_reason.map(|reason| Excuse {
            reason,
            excused_at: excused_at.map(|m| m.0).unwrap_or_default(),
            excused_by: excused_by.unwrap_or_default(),
        }),
        recorded_by,
    })
}

/// Which reports to read.
#[derive(Debug, Clone, Default)]
pub struct SubmissionFilter {
    /// Of this duty.
    pub duty_id: Option<i64>,
    /// Of this unit.
    pub unit_id: Option<i64>,
    /// For this period.
    pub period: Option<String>,
    /// For periods of this year.
    pub year: Option<i32>,
    /// This one.
    pub id: Option<i64>,
}

/// The reports `filter` selects, in the order they were sent.
pub fn submissions(
    conn: &mut DbConnection,
    filter: &SubmissionFilter,
) -> StoreResult<Vec<Submission>> {
    let mut q = report_submissions::table
        .inner_join(reporting_duties::table)
        .inner_join(units::table)
        .select((
            report_submissions::id,
            reporting_duties::code,
            units::code,
            report_submissions::period,
            report_submissions::document_number,
            report_submissions::submitted_at,
            report_submissions::file,
            report_submissions::poor_quality_reason,
            report_submissions::marked_at,
            report_submissions::marked_by,
            report_submissions::recorded_by,
            (
                report_submissions::excuse_reason,
                report_submissions::excused_at,
                report_submissions::excused_by,
            ),
        ))
        .into_boxed::<<DbConnection as Connection>::Backend>();
    if let Some(d) = filter.duty_id {
        q = q.filter(report_submissions::duty_id.eq(d));
    }
    if let Some(u) = filter.unit_id {
        q = q.filter(report_submissions::unit_id.eq(u));
    }
    if let Some(p) = &filter.period {
        q = q.filter(report_submissions::period.eq(p.clone()));
    }
    if let Some(y) = filter.year {
        q = q.filter(report_submissions::period.like(format!("{y}%")));
    }
    if let Some(id) = filter.id {
        q = q.filter(report_submissions::id.eq(id));
    }
    q.order((
        report_submissions::submitted_at.asc(),
        report_submissions::id.asc(),
    ))
    .load::<SubmissionRow>(conn)?
    .into_iter()
    .map(submission_of)
    .collect()
}

/// The report `id` of `duty`.
pub fn submission(conn: &mut DbConnection, duty: &Duty, id: i64) -> StoreResult<Submission> {
    let filter = SubmissionFilter {
        duty_id: Some(duty.id),
        id: Some(id),
        ..SubmissionFilter::default()
    };
    submissions(conn, &filter)?
        .pop()
        .ok_or(StoreError::NotFound {
            resource: "report",
            id: id.to_string(),
        })
}

/// The key a writer of duty `code` and of its reports holds ([`super::lock_record`]).
fn lock_key(code: &str) -> String {
    format!("duty:{code}")
}

/// Holds `duty` for the rest of the caller's transaction, as its replacement does, and refuses
/// when it changed since the caller checked the request against it (its periods, its reporters):
/// a replacement refuses to move a period that has reports, which a report recorded meanwhile
/// would get round.
fn hold(conn: &mut DbConnection, duty: &Duty) -> StoreResult<()> {
    super::lock_record(conn, &lock_key(&duty.form.code))?;
    let version: i64 = reporting_duties::table
        .filter(reporting_duties::code.eq(&duty.form.code))
        .select(reporting_duties::version)
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::NotFound {
            resource: "reporting duty",
            id: duty.form.code.clone(),
        })?;
    if version != duty.version {
        return Err(StoreError::Conflict(InvalidParam::new(
            "duty",
            "the duty changed meanwhile: read it again and send the request again",
        )));
    }
    Ok(())
}

/// Records a report of `unit` (id, code) for `duty`. The caller has checked that the unit owes
/// it and that the period is one of the duty's. Audited.
pub fn submit(
    conn: &mut DbConnection,
    actor: &Actor,
    duty: &Duty,
    unit_id: i64,
    form: &SubmissionForm,
) -> StoreResult<Submission> {
    write_tx(conn, |conn| {
        hold(conn, duty)?;
        let now = super::now();
        let file = form.file.as_ref().map(text).transpose()?;
        diesel::insert_into(report_submissions::table)
            .values((
                report_submissions::duty_id.eq(duty.id),
                report_submissions::unit_id.eq(unit_id),
                report_submissions::period.eq(&form.period),
                report_submissions::document_number.eq(&form.document_number),
                report_submissions::submitted_at.eq(Stamp(form.submitted_at)),
                report_submissions::file.eq(file),
                report_submissions::recorded_at.eq(Stamp(now)),
                report_submissions::recorded_by.eq(&actor.client_id),
            ))
            .execute(conn)?;
        let id: i64 = report_submissions::table
            .filter(report_submissions::duty_id.eq(duty.id))
            .filter(report_submissions::unit_id.eq(unit_id))
            .filter(report_submissions::period.eq(&form.period))
            .filter(report_submissions::recorded_at.eq(Stamp(now)))
            .order(report_submissions::id.desc())
            .select(report_submissions::id)
            .first(conn)?;
        let created = submission(conn, duty, id)?;
        let unit_path = super::units::paths_by_id(conn, [unit_id])?.remove(&unit_id);
        audit::record_in_unit(
            conn,
            actor,
            unit_path.as_deref(),
            &Change {
                action: "create",
                resource_type: "reportSubmission",
                resource_id: &id.to_string(),
                before: None,
                after: Some(&created),
            },
        )?;
        Ok(created)
    })
}

/// Reads report `before` again after the office's review and audits the change under its unit.
fn reviewed(
    conn: &mut DbConnection,
    actor: &Actor,
    duty: &Duty,
    before: Submission,
) -> StoreResult<Submission> {
    let id = before.id;
    let after = submission(conn, duty, id)?;
    let unit_path = super::units::find_row(conn, &after.unit)?.map(|u| u.path);
    audit::record_in_unit(
        conn,
        actor,
        unit_path.as_deref(),
        &Change {
            action: "update",
            resource_type: "reportSubmission",
            resource_id: &id.to_string(),
            before: Some(&before),
            after: Some(&after),
        },
    )?;
    Ok(after)
}

/// Marks report `id` of `duty` poor quality for `reason`, or clears the mark (`None`). Audited.
pub fn mark_quality(
    conn: &mut DbConnection,
    actor: &Actor,
    duty: &Duty,
    id: i64,
    reason: Option<&str>,
) -> StoreResult<Submission> {
    write_tx(conn, |conn| {
        let before = submission(conn, duty, id)?;
        let now = reason.map(|_| Stamp(super::now()));
        diesel::update(report_submissions::table.find(id))
            .set((
                report_submissions::poor_quality_reason.eq(reason),
                report_submissions::marked_at.eq(now),
                report_submissions::marked_by.eq(reason.map(|_| actor.client_id.as_str())),
            ))
            .execute(conn)?;
        reviewed(conn, actor, duty, before)
    })
}

/// Why an excuse is refused.
fn excuse_refusal(duty: &Duty, sent: &Submission, all: &[Submission]) -> Option<String> {
    let first = all
        .iter()
        .find(|s| s.unit == sent.unit && s.period == sent.period)?;
    if first.id != sent.id {
        return Some(format!(
            "only the first report of {} for {} is judged (report {})",
            sent.unit, sent.period, first.id
        ));
    }
    let Some(occasion) = duty.occasion(&sent.period) else {
        return Some(format!(
            "{} is no longer owed for {}",
            sent.period, duty.form.code
        ));
    };
    let judged = judge_from(
        occasion.late_from(),
        Some(FirstSubmission {
            at: sent.submitted_at,
            poor_quality: false,
            excused: false,
        }),
        sent.submitted_at,
    );
    (judged != Standing::Late).then(|| {
        format!(
            "was sent on time (due on {}): there is no delay to excuse",
            occasion.due_on
        )
    })
}

/// Excuses the delay of late report `id` of `duty` for `reason` (it then costs nothing), or
/// withdraws the excuse (`None`). Only the first report of its period is judged, so only it can
/// be excused, and only when it was late. Audited.
pub fn excuse(
    conn: &mut DbConnection,
    actor: &Actor,
    duty: &Duty,
    id: i64,
    reason: Option<&str>,
) -> StoreResult<Submission> {
    write_tx(conn, |conn| {
        if reason.is_some() {
            // Beside the reports recorded meanwhile, one of which might come first.
            hold(conn, duty)?;
        }
        let before = submission(conn, duty, id)?;
        if reason.is_some() {
            let filter = SubmissionFilter {
                duty_id: Some(duty.id),
                period: Some(before.period.clone()),
                ..SubmissionFilter::default()
            };
            let all = submissions(conn, &filter)?;
            if let Some(why) = excuse_refusal(duty, &before, &all) {
                return Err(StoreError::invalid(InvalidParam::new("id", why)));
            }
        }
        let now = reason.map(|_| Stamp(super::now()));
        diesel::update(report_submissions::table.find(id))
            .set((
                report_submissions::excuse_reason.eq(reason),
                report_submissions::excused_at.eq(now),
                report_submissions::excused_by.eq(reason.map(|_| actor.client_id.as_str())),
            ))
            .execute(conn)?;
        reviewed(conn, actor, duty, before)
    })
}

/// A reporter of a duty: the unit's id, code, name and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reporter {
    /// Id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Tree path.
    pub path: String,
}

/// The reporters of `duty` within `scope`, in the duty's order.
pub fn reporters(
    conn: &mut DbConnection,
    duty: &Duty,
    scope: &UnitScope,
) -> StoreResult<Vec<Reporter>> {
    let rows: Vec<(i64, String, String, String)> = units::table
        .filter(units::code.eq_any(duty.form.reporters.clone()))
        .select((units::id, units::code, units::name, units::path))
        .load(conn)?;
    let by_code: HashMap<String, Reporter> = rows
        .into_iter()
        .map(|(id, code, name, path)| {
            (
                code.clone(),
                Reporter {
                    id,
                    code,
                    name,
                    path,
                },
            )
        })
        .collect();
    Ok(duty
        .form
        .reporters
        .iter()
        .filter_map(|c| by_code.get(c).cloned())
        .filter(|r| scope.allows(&r.path))
        .collect())
}

/// One report owed, and how it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Owed {
    /// The period.
    pub period: String,
    /// The last day it is on time.
    pub due_on: NaiveDate,
    /// How it stands.
    pub standing: Standing,
    /// When its first report was sent (local time), if it was.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub submitted_at: Option<NaiveDateTime>,
    /// The first report's document number.
    pub document_number: Option<String>,
    /// Why the office found it poor.
    pub poor_quality_reason: Option<String>,
    /// Why the office excused its delay.
    pub excuse_reason: Option<String>,
}

/// A unit's record for a duty in a year.
#[derive(Debug, Clone, PartialEq)]
pub struct Compliance {
    /// The duty's code.
    pub duty: String,
    /// The unit.
    pub unit: Reporter,
    /// The reports owed, by period.
    pub reports: Vec<Owed>,
    /// Their tally and the points they cost.
    pub tally: Tally,
}

/// Every reporter's record (within `scope`) for every duty in `year`, judged at `now` (local).
pub fn compliance(
    conn: &mut DbConnection,
    scope: &UnitScope,
    year: i32,
    now: NaiveDateTime,
) -> StoreResult<Vec<Compliance>> {
    let mut out = Vec::new();
    for duty in list(conn)? {
        let filter = SubmissionFilter {
            duty_id: Some(duty.id),
            year: Some(year),
            ..SubmissionFilter::default()
        };
        // The first report of each unit and period decides (they come in the order sent).
        let mut first: BTreeMap<(String, String), Submission> = BTreeMap::new();
        for s in submissions(conn, &filter)? {
            first.entry((s.unit.clone(), s.period.clone())).or_insert(s);
        }
        let occasions = duty.occasions_in(year);
        for unit in reporters(conn, &duty, scope)? {
            let mut tally = Tally::default();
            let mut reports = Vec::new();
            for occasion in &occasions {
                let sent = first.get(&(unit.code.clone(), occasion.label.clone()));
                let standing = judge_from(
                    occasion.late_from(),
                    sent.map(|s| FirstSubmission {
                        at: s.submitted_at,
                        poor_quality: s.poor_quality.is_some(),
                        excused: s.excused.is_some(),
                    }),
                    now,
                );
                tally.add(standing, duty.form.deductions);
                reports.push(Owed {
                    period: occasion.label.clone(),
                    due_on: occasion.due_on,
                    standing,
                    submitted_at: sent.map(|s| s.submitted_at),
                    document_number: sent.map(|s| s.document_number.clone()),
                    poor_quality_reason: sent
                        .and_then(|s| s.poor_quality.as_ref().map(|p| p.reason.clone())),
                    excuse_reason: sent.and_then(|s| s.excused.as_ref().map(|e| e.reason.clone())),
                });
            }
            out.push(Compliance {
                duty: duty.form.code.clone(),
                unit,
                reports,
                tally,
            });
        }
    }
    Ok(out)
}

/// A report due soon and not sent yet.
#[derive(Debug, Clone, PartialEq)]
pub struct DueSoon {
    /// The duty.
    pub duty: String,
    /// The duty's name.
    pub duty_name: String,
    /// The unit.
    pub unit: Reporter,
    /// The period, or a one-off request's due day ([`Occasion::label`]).
    pub period: String,
    /// The last day it is on time.
    pub due_on: NaiveDate,
}

/// The reports (within `scope`) whose last on-time day falls from `today` to `until` and that
/// were not sent yet, soonest first.
pub fn due_between(
    conn: &mut DbConnection,
    scope: &UnitScope,
    today: NaiveDate,
    until: NaiveDate,
) -> StoreResult<Vec<DueSoon>> {
    let mut out = Vec::new();
    for duty in list(conn)? {
        let reporters = reporters(conn, &duty, scope)?;
        // A due day lies at most a year after its period.
        let occasions: Vec<Occasion> = (today.year() - 2..=until.year())
            .flat_map(|y| duty.occasions_in(y))
            .filter(|o| (today..=until).contains(&o.due_on))
            .collect();
        for occasion in occasions {
            let filter = SubmissionFilter {
                duty_id: Some(duty.id),
                period: Some(occasion.label.clone()),
                ..SubmissionFilter::default()
            };
            let sent: Vec<String> = submissions(conn, &filter)?
                .into_iter()
                .map(|s| s.unit)
                .collect();
            for unit in reporters.iter().filter(|r| !sent.contains(&r.code)) {
                out.push(DueSoon {
                    duty: duty.form.code.clone(),
                    duty_name: duty.form.name.clone(),
                    unit: unit.clone(),
                    period: occasion.label.clone(),
                    due_on: occasion.due_on,
                });
            }
        }
    }
    out.sort_by(|a, b| (a.due_on, &a.unit.code, &a.duty).cmp(&(b.due_on, &b.unit.code, &b.duty)));
    Ok(out)
}
