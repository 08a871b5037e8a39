//! Reporting duties and the reports sent for them; compliance per unit and year.

use std::collections::{BTreeMap, HashMap};

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
    Deductions, DueRule, FirstSubmission, Frequency, Standing, Tally, judge,
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
    /// The first period owed.
    pub first_period: Period,
    /// Points deducted per report.
    pub deductions: Deductions,
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
    "firstPeriod": "2026-01", "deductions": {"late": 0.25, "poorQuality": 0.25, "missing": 0.5}
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
    /// Due before this day of the month.
    pub due_before_day: u32,
    /// Months after the period's last month (0: that month).
    pub due_months_after: u32,
    /// Who receives the reports.
    pub recipient: String,
    /// The units that owe the report.
    pub reporters: Vec<String>,
    /// The first period owed.
    pub first_period: String,
    /// Points deducted per report.
    pub deductions: Deductions,
}

impl Duty {
    /// When its reports are due.
    pub fn due(&self) -> DueRule {
        DueRule {
            before_day: self.form.due_before_day,
            months_after: self.form.due_months_after,
        }
    }

    /// The periods owed in `year`, in order.
    pub fn periods_in(&self, year: i32) -> Vec<Period> {
        let first = Period::parse(&self.form.first_period)
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
    version: i64,
}

fn duty_of(row: DutyRow) -> StoreResult<Duty> {
    let code = row.code;
    let bad = |what: &str| StoreError::Setup(format!("reporting duty {code}: bad {what}"));
    Ok(Duty {
        id: row.id,
        form: DutyView {
            frequency: Frequency::parse(&row.frequency).ok_or_else(|| bad("frequency"))?,
            due_before_day: u32::try_from(row.due_before_day).map_err(|_| bad("due day"))?,
            due_months_after: u32::try_from(row.due_months_after)
                .map_err(|_| bad("months after"))?,
            reporters: serde_json::from_str(&row.reporters).map_err(|_| bad("reporters"))?,
            deductions: serde_json::from_str(&row.deductions).map_err(|_| bad("deductions"))?,
            code,
            name: row.name,
            recipient: row.recipient,
            first_period: row.first_period,
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

/// Refuses reporters that are not units.
fn check_reporters(conn: &mut DbConnection, reporters: &[String]) -> StoreResult<()> {
    let known: Vec<String> = units::table
        .filter(units::code.eq_any(reporters.to_vec()))
        .select(units::code)
        .load(conn)?;
    let invalid: Vec<InvalidParam> = reporters
        .iter()
        .enumerate()
        .filter(|(_, c)| !known.contains(c))
        .map(|(i, c)| {
            InvalidParam::new(
                format!("reporters[{i}]"),
                format!("no unit has the code {c}"),
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
        })
    }
}

/// Creates a duty. Audited.
pub fn create(conn: &mut DbConnection, actor: &Actor, form: &DutyForm) -> StoreResult<Duty> {
    write_tx(conn, |conn| {
        check_reporters(conn, &form.reporters)?;
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

/// Replaces duty `code` (its code stays). `If-Match` when `expected` is given. Audited.
pub fn replace(
    conn: &mut DbConnection,
    actor: &Actor,
    code: &str,
    form: &DutyForm,
    expected: Option<&Versions>,
) -> StoreResult<Duty> {
    write_tx(conn, |conn| {
        let before = get(conn, code)?;
        if let Some(expected) = expected
            && !expected.allows(before.version)
        {
            return Err(StoreError::VersionMismatch {
                current: before.version,
            });
        }
        check_reporters(conn, &form.reporters)?;
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
    /// The period reported on.
    pub period: Period,
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
        let now = super::now();
        let file = form.file.as_ref().map(text).transpose()?;
        diesel::insert_into(report_submissions::table)
            .values((
                report_submissions::duty_id.eq(duty.id),
                report_submissions::unit_id.eq(unit_id),
                report_submissions::period.eq(form.period.to_string()),
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
            .filter(report_submissions::period.eq(form.period.to_string()))
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
        let periods = duty.periods_in(year);
        for unit in reporters(conn, &duty, scope)? {
            let mut tally = Tally::default();
            let mut reports = Vec::new();
            for period in &periods {
                let sent = first.get(&(unit.code.clone(), period.to_string()));
                let standing = judge(
                    duty.due(),
                    *period,
                    sent.map(|s| FirstSubmission {
                        at: s.submitted_at,
                        poor_quality: s.poor_quality.is_some(),
                    }),
                    now,
                );
                tally.add(standing, duty.form.deductions);
                reports.push(Owed {
                    period: period.to_string(),
                    due_on: duty.due().due_on(*period),
                    standing,
                    submitted_at: sent.map(|s| s.submitted_at),
                    document_number: sent.map(|s| s.document_number.clone()),
                    poor_quality_reason: sent
                        .and_then(|s| s.poor_quality.as_ref().map(|p| p.reason.clone())),
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
    /// The period.
    pub period: Period,
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
        let periods: Vec<Period> = (today.year() - 2..=until.year())
            .flat_map(|y| duty.periods_in(y))
            .filter(|p| (today..=until).contains(&duty.due().due_on(*p)))
            .collect();
        for period in periods {
            let filter = SubmissionFilter {
                duty_id: Some(duty.id),
                period: Some(period.to_string()),
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
                    period,
                    due_on: duty.due().due_on(period),
                });
            }
        }
    }
    out.sort_by(|a, b| (a.due_on, &a.unit.code, &a.duty).cmp(&(b.due_on, &b.unit.code, &b.duty)));
    Ok(out)
}
