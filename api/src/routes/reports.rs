//! `/api/v1/reports`: form II.06a (dossiers received, resolved and in progress) and the monthly
//! notice the provincial office sends every department and commune (seed `004_…`), as JSON,
//! CSV, XLSX and printable HTML.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use tthc_core::calendar::from_local;
use tthc_core::db::announcements::{LateAnnouncement, UnitRef};
use tthc_core::db::reports::{self, GroupBy, Line};
use tthc_core::db::units::UnitRow;
use tthc_core::period::Period;
use tthc_core::report::ii06a::Counts;
use tthc_core::scoring::{Evaluation, RuleSet, ranks};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::context::{period_of, unit_in_scope};
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::ValidQuery;
use crate::state::AppState;
use crate::table::{self, Cell, Column, Document, Format, Letterhead, Table};
use tthc_core::app::notice::{self as app_notice, NoticeData};
use tthc_core::db::now_local;

/// Which report, for whom, and in what form.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Ii06aQuery {
    /// The unit whose subtree is reported on.
    #[param(example = "000.00.00.H12")]
    pub unit: String,
    /// The period: `2026-08`, `2026-Q3` or `2026`.
    #[param(example = "2026-08")]
    pub period: String,
    /// One line per `field` (default), `procedure` or `unit` (the unit's direct children).
    #[param(value_type = Option<GroupBy>)]
    pub by: Option<GroupBy>,
    /// `json`, `csv` or `xlsx`; overrides the `Accept` header (for links in a browser).
    #[param(pattern = "^(json|csv|xlsx)$")]
    pub format: Option<String>,
}

/// A line of form II.06a.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ii06aLine {
    /// The field's, procedure's or unit's code (empty for dossiers whose procedure has no field).
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// The 766 progress indicator's figures as the report counts them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnTimeFigures {
    /// Resolved early or on time, and in progress within time.
    pub numerator: u64,
    /// Resolved and in progress.
    pub denominator: u64,
}

/// Form II.06a of Circular 01/2020/TT-VPCP for a unit's subtree and a period.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "unit": {"code": "000.00.00.H12", "name": "UBND tỉnh Bình Phước"}, "period": "2026-08", "by": "field",
    "judgedAt": "2026-09-01T00:00:00+07:00",
    "lines": [{"key": "HT", "name": "Hộ tịch",
        "received": {"total": 5, "online": 2, "inPersonOrPostal": 2, "carriedOver": 1},
        "resolved": {"total": 4, "early": 3, "onTime": 0, "late": 1},
        "inProgress": {"total": 1, "withinTime": 0, "overdue": 1}}],
    "total": {"received": {"total": 5, "online": 2, "inPersonOrPostal": 2, "carriedOver": 1},
        "resolved": {"total": 4, "early": 3, "onTime": 0, "late": 1},
        "inProgress": {"total": 1, "withinTime": 0, "overdue": 1}},
    "onTimeProcessing": {"numerator": 3, "denominator": 5}
}))]
pub struct Ii06aReport {
    /// The unit.
    pub unit: UnitRef,
    /// The period.
    pub period: String,
    /// What the lines are.
    pub by: GroupBy,
    /// When open dossiers were judged: the end of the period, or now while it runs.
    pub judged_at: DateTime<FixedOffset>,
    /// The lines.
    pub lines: Vec<Ii06aLine>,
    /// The sum of the lines.
    pub total: Counts,
    /// `ON_TIME_PROCESSING` from these counts: equal to the score's for the same unit and period.
    pub on_time_processing: OnTimeFigures,
}

impl From<Line> for Ii06aLine {
    fn from(l: Line) -> Self {
        Self {
            key: l.key,
            name: l.name,
            counts: l.counts,
        }
    }
}

fn unit_ref(u: &UnitRow) -> UnitRef {
    UnitRef {
        code: u.code.clone(),
        name: u.name.clone(),
    }
}

fn period_label(period: Period) -> String {
    match period {
        Period::Month { year, month } => format!("tháng {month}/{year}"),
        Period::Quarter { year, quarter } => format!("quý {quarter}/{year}"),
        Period::Year(year) => format!("năm {year}"),
    }
}

fn vn_date(day: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", day.day(), day.month(), day.year())
}

/// The form's columns after the line's number, code and name.
fn ii06a_columns(name_label: &str) -> Vec<Column> {
    let received = "Số hồ sơ nhận giải quyết";
    let resolved = "Số hồ sơ đã giải quyết";
    let open = "Số hồ sơ đang giải quyết";
    vec![
        Column::new("no", "STT"),
        Column::new("code", "Mã"),
        Column::new("name", name_label),
        Column::under(received, "receivedTotal", "Tổng số"),
        Column::under(received, "receivedOnline", "Trực tuyến"),
        Column::under(
            received,
            "receivedInPersonOrPostal",
            "Trực tiếp, dịch vụ bưu chính",
        ),
        Column::under(received, "receivedCarriedOver", "Từ kỳ trước chuyển qua"),
        Column::under(resolved, "resolvedTotal", "Tổng số"),
        Column::under(resolved, "resolvedEarly", "Trước hạn"),
        Column::under(resolved, "resolvedOnTime", "Đúng hạn"),
        Column::under(resolved, "resolvedLate", "Quá hạn"),
        Column::under(open, "inProgressTotal", "Tổng số"),
        Column::under(open, "inProgressWithinTime", "Trong hạn"),
        Column::under(open, "inProgressOverdue", "Quá hạn"),
    ]
}

fn count_cells(counts: &Counts) -> impl Iterator<Item = Cell> {
    counts.columns().into_iter().map(Cell::Count)
}

/// The report as a table: one row per line and the totals row.
fn ii06a_table(sheet: &str, title: &str, notes: Vec<String>, by: GroupBy, lines: &[Line]) -> Table {
    let name_label = match by {
        GroupBy::Field => "Lĩnh vực",
        GroupBy::Procedure => "Thủ tục hành chính",
        GroupBy::Unit => "Đơn vị",
    };
    let total = Counts::total(lines.iter().map(|l| &l.counts));
    Table {
        sheet: sheet.to_owned(),
        title: title.to_owned(),
        notes,
        columns: ii06a_columns(name_label),
        rows: lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                [
                    Cell::Count(i as u64 + 1),
                    Cell::text(&l.key),
                    Cell::text(&l.name),
                ]
                .into_iter()
                .chain(count_cells(&l.counts))
                .collect()
            })
            .collect(),
        total: Some(
            [Cell::Empty, Cell::Empty, Cell::text("Tổng cộng")]
                .into_iter()
                .chain(count_cells(&total))
                .collect(),
        ),
    }
}

/// Form II.06a
///
/// Dossiers of the unit's whole subtree in the period, one line per field, procedure or child
/// unit: received (online, in person or by post, carried over from before the period), resolved
/// (early, on time, late) and in progress at the end of the period or now (within time,
/// overdue). Counted by the timing rules of the 766 progress indicator: `onTimeProcessing` is
/// the score's `ON_TIME_PROCESSING`, and received = resolved + in progress on every line.
///
/// `Accept: text/csv` (UTF-8 with BOM, one header row of column keys, the totals row last) or
/// `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (the form with its
/// two-row header and merged cells, Vietnamese labels, totals row), or `?format=`.
#[utoipa::path(
    tag = "reports",
    params(Ii06aQuery),
    responses(
        (status = 200, description = "The report", content(
            (Ii06aReport = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "Bad period, grouping or format", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:read"]))
)]
#[get("/reports/ii06a")]
pub async fn ii06a(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<Ii06aQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let q = query.0;
    let format = table::negotiate(
        &req,
        q.format.as_deref(),
        &[Format::Json, Format::Csv, Format::Xlsx],
    )?;
    let period = Period::parse(&q.period).map_err(|r| ApiError::invalid("period", r))?;
    let by = q.by.unwrap_or(GroupBy::Field);
    let now = now_local();
    let code = q.unit;
    let (unit, lines) = state
        .run(move |conn| {
            let unit = unit_in_scope(conn, &principal, &code)?;
            let lines = reports::ii06a(conn, &unit, period, now, by)?;
            Ok((unit, lines))
        })
        .await?;
    let judged = period.end().naive_local().min(now);
    if format == Format::Json {
        let total = Counts::total(lines.iter().map(|l| &l.counts));
        let (numerator, denominator) = total.on_time_processing();
        return Ok(HttpResponse::Ok().json(Ii06aReport {
            unit: unit_ref(&unit),
            period: period.to_string(),
            by,
            judged_at: from_local(judged),
            lines: lines.into_iter().map(Ii06aLine::from).collect(),
            total,
            on_time_processing: OnTimeFigures {
                numerator,
                denominator,
            },
        }));
    }
    let table = ii06a_table(
        "II.06a",
        "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH (Biểu mẫu II.06a, Thông tư 01/2020/TT-VPCP)",
        vec![
            format!("Đơn vị: {} ({})", unit.name, unit.code),
            format!(
                "Kỳ báo cáo: {}; số liệu tính đến {}",
                period_label(period),
                judged.format("%H:%M %d/%m/%Y")
            ),
        ],
        by,
        &lines,
    );
    table::download_table(format, &format!("ii06a-{}-{period}", unit.code), table)
}

/// Which notice.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// The province (or any unit: its children are the notice's units).
    #[param(example = "000.00.00.H12")]
    pub unit: String,
    /// The month (a quarter or year works too).
    #[param(example = "2026-08")]
    pub period: String,
    /// The day by which units with late dossiers send their explanation; by default the 17th
    /// of the month after the period (seed `004_…`).
    #[param(value_type = Option<String>, format = Date, example = "2026-09-17")]
    pub explain_by: Option<NaiveDate>,
    /// The notice's number in the office's register, printed in the letterhead as `Số: …`;
    /// left blank (a draft numbered when signed) when not given.
    #[validate(length(min = 1, max = 40))]
    #[param(min_length = 1, max_length = 40, example = "112/TB-VPUBND")]
    pub number: Option<String>,
    /// `json`, `xlsx` or `html`; overrides the `Accept` header.
    #[param(pattern = "^(json|xlsx|html)$")]
    pub format: Option<String>,
}

/// The place in an official document's date line: the people's committee's name without its
/// kind (`Ủy ban nhân dân tỉnh Bắc Ninh` → `Bắc Ninh`; a district's or commune's likewise).
fn place_of(unit_name: &str) -> &str {
    const KINDS: [&str; 16] = [
        "Ủy ban nhân dân tỉnh ",
        "Ủy ban nhân dân thành phố ",
        "Ủy ban nhân dân huyện ",
        "Ủy ban nhân dân quận ",
        "Ủy ban nhân dân thị xã ",
        "Ủy ban nhân dân xã ",
        "Ủy ban nhân dân phường ",
        "UBND tỉnh ",
        "UBND thành phố ",
        "UBND huyện ",
        "UBND quận ",
        "UBND thị xã ",
        "UBND xã ",
        "UBND phường ",
        "Tỉnh ",
        "Thành phố ",
    ];
    KINDS
        .iter()
        .find_map(|k| unit_name.strip_prefix(k))
        .unwrap_or(unit_name)
}

/// A date as official documents write it: `ngày 03 tháng 02 năm 2026`, `ngày 17 tháng 5 năm
/// 2024` (a zero before days under 10 and the months January and February).
fn vn_long_date(day: NaiveDate) -> String {
    let month = if day.month() < 3 {
        format!("{:02}", day.month())
    } else {
        day.month().to_string()
    };
    format!("ngày {:02} tháng {month} năm {}", day.day(), day.year())
}

/// The notice's letterhead: issued by the office of the unit's people's committee.
fn notice_letterhead(unit: &UnitRow, number: Option<&str>, on: NaiveDate) -> Letterhead {
    Letterhead {
        authority: unit.name.to_uppercase(),
        office: "VĂN PHÒNG".to_owned(),
        // Non-breaking spaces: the blank left for the number survives HTML's collapsing.
        number: format!(
            "Số: {}",
            number.unwrap_or("\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}/TB-VPUBND")
        ),
        place_and_date: format!("{}, {}", place_of(&unit.name), vn_long_date(on)),
        kind: "THÔNG BÁO".to_owned(),
    }
}

/// A unit's line in appendix 1 or 2.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeScore {
    /// Rank within the appendix (ties share a rank).
    pub rank: usize,
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Its total score (a closed month's snapshot, else live).
    pub score: f64,
    /// Each group's score, by group code.
    pub groups: BTreeMap<String, f64>,
}

/// The province's standing as the national portal published it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeOfficial {
    /// The portal's total score.
    pub score: f64,
    /// The rank among provinces, if published.
    pub rank: Option<u32>,
    /// How many were ranked.
    pub rank_of: Option<u32>,
    /// Where it comes from.
    pub source: Option<String>,
}

/// A unit that owes an explanation of its late dossiers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Dossiers resolved late in the period.
    pub resolved_late: u64,
    /// Dossiers overdue at its end.
    pub in_progress_overdue: u64,
}

/// The units with late dossiers and the day their explanations are due.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Explanations {
    /// The day the explanations are due.
    pub due_on: NaiveDate,
    /// The units, most late dossiers first.
    pub units: Vec<Explanation>,
}

/// The monthly notice on the 766 index and dossier processing (seed `004_…`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "unit": {"code": "000.00.00.H12", "name": "UBND tỉnh Bình Phước"}, "period": "2026-08",
    "official": {"score": 77.73, "rank": 17, "rankOf": 63, "source": "Cổng Dịch vụ công quốc gia"},
    "score": 74.1, "basis": "snapshot",
    "departments": [{"rank": 1, "unit": "000.00.02.H12", "name": "Sở Tư pháp", "score": 81.2, "groups": {"PROGRESS": 19.5}}],
    "localities": [{"rank": 1, "unit": "000.00.21.H12", "name": "UBND xã Tân Lập", "score": 70.4, "groups": {"PROGRESS": 18.0}}],
    "processing": [], "lateAnnouncements": [],
    "explanations": {"dueOn": "2026-09-17", "units": [{"unit": "000.00.02.H12", "name": "Sở Tư pháp", "resolvedLate": 3, "inProgressOverdue": 1}]}
}))]
pub struct Notice {
    /// The province.
    pub unit: UnitRef,
    /// The period.
    pub period: String,
    /// The portal's published score and rank, when entered (`PUT .../official-scores/{period}`).
    pub official: Option<NoticeOfficial>,
    /// tthc's score for the province.
    pub score: f64,
    /// Where the scores (the province's and appendices 1 and 2) come from: `snapshot` for a
    /// closed month, else `live`. Appendix 3 (`processing`) is always counted from the records
    /// as they are now.
    pub basis: String,
    /// Appendix 1: the departments, ranked.
    pub departments: Vec<NoticeScore>,
    /// Appendix 2: the districts and communes, ranked.
    pub localities: Vec<NoticeScore>,
    /// Appendix 3: dossier processing per unit (form II.06a by unit).
    pub processing: Vec<Ii06aLine>,
    /// Ministry decisions due in the period (or earlier and still pending) announced late.
    pub late_announcements: Vec<LateAnnouncement>,
    /// Units with late dossiers, who owe an explanation.
    pub explanations: Explanations,
}

fn ranked(rows: Vec<(UnitRow, Evaluation)>) -> Vec<NoticeScore> {
    let totals: Vec<f64> = rows.iter().map(|(_, e)| e.score.unwrap_or(0.0)).collect();
    let mut items: Vec<NoticeScore> = rows
        .into_iter()
        .zip(ranks(&totals))
        .map(|((u, e), rank)| NoticeScore {
            rank,
            unit: u.code,
            name: u.name,
            score: e.score.unwrap_or(0.0),
            groups: e
                .groups
                .into_iter()
                .map(|g| (g.code, g.score.unwrap_or(0.0)))
                .collect(),
        })
        .collect();
    items.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.unit.cmp(&b.unit)));
    items
}

fn score_table(sheet: &str, title: &str, rule_set: &RuleSet, items: &[NoticeScore]) -> Table {
    let mut columns = vec![
        Column::new("no", "STT"),
        Column::new("code", "Mã"),
        Column::new("name", "Đơn vị"),
    ];
    for g in &rule_set.groups {
        columns.push(Column::under(
            "Điểm theo nhóm chỉ số",
            &g.code,
            &format!("{} ({})", g.name_vi, g.max_score),
        ));
    }
    columns.push(Column::new("score", "Tổng điểm"));
    columns.push(Column::new("rank", "Xếp hạng"));
    Table {
        sheet: sheet.to_owned(),
        title: title.to_owned(),
        notes: Vec::new(),
        columns,
        rows: items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut row = vec![
                    Cell::Count(i as u64 + 1),
                    Cell::text(&s.unit),
                    Cell::text(&s.name),
                ];
                row.extend(
                    rule_set
                        .groups
                        .iter()
                        .map(|g| Cell::Number(s.groups.get(&g.code).copied().unwrap_or(0.0))),
                );
                row.push(Cell::Number(s.score));
                row.push(Cell::Count(s.rank as u64));
                row
            })
            .collect(),
        total: None,
    }
}

fn late_table(items: &[LateAnnouncement]) -> Table {
    Table {
        sheet: "Công bố chậm".into(),
        title: "Tình hình tham mưu Quyết định công bố, công khai thủ tục hành chính chậm hạn"
            .into(),
        notes: Vec::new(),
        columns: vec![
            Column::new("no", "Stt"),
            Column::new("ministryDecision", "Quyết định công bố của bộ, ngành"),
            Column::new("unit", "Đơn vị tham mưu trình"),
            Column::new("due", "Hạn công bố"),
            Column::new("workingDaysLate", "Số ngày làm việc chậm"),
            Column::new("notes", "Ghi chú"),
        ],
        rows: items
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let announced = a.announced_by.as_ref().map(|d| {
                    format!(
                        "Đã công bố tại Quyết định số {} ngày {}",
                        d.number,
                        vn_date(d.signed_on)
                    )
                });
                let notes: Vec<String> = announced.into_iter().chain(a.notes.clone()).collect();
                vec![
                    Cell::Count(i as u64 + 1),
                    Cell::Text(format!(
                        "Quyết định số {} ngày {} của {}: {}",
                        a.ministry_decision.number,
                        vn_date(a.ministry_decision.signed_on),
                        a.ministry,
                        a.title
                    )),
                    Cell::Text(a.unit.as_ref().map_or_else(String::new, |u| u.name.clone())),
                    Cell::Text(vn_date(a.due)),
                    Cell::Count(u64::try_from(a.working_days_late).unwrap_or(0)),
                    Cell::Text(notes.join("; ")),
                ]
            })
            .collect(),
        total: None,
    }
}

fn explanation_table(e: &Explanations) -> Table {
    Table {
        sheet: "Giải trình".into(),
        title: format!(
            "Đơn vị có hồ sơ trễ hạn báo cáo giải trình trước ngày {}",
            vn_date(e.due_on)
        ),
        notes: Vec::new(),
        columns: vec![
            Column::new("no", "STT"),
            Column::new("code", "Mã"),
            Column::new("name", "Đơn vị"),
            Column::new("resolvedLate", "Hồ sơ giải quyết quá hạn"),
            Column::new("inProgressOverdue", "Hồ sơ đang giải quyết quá hạn"),
        ],
        rows: e
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| {
                vec![
                    Cell::Count(i as u64 + 1),
                    Cell::text(&u.unit),
                    Cell::text(&u.name),
                    Cell::Count(u.resolved_late),
                    Cell::Count(u.in_progress_overdue),
                ]
            })
            .collect(),
        total: None,
    }
}

/// Monthly notice
///
/// The notice the provincial office sends every department and commune, in the order of seed
/// `004_…`: the province's total and rank from the portal's published scores (when entered),
/// appendix 1 the departments' scores ranked, appendix 2 the districts' and communes' (the
/// unit's direct children; a closed month's snapshot, else live), appendix 3 dossier processing
/// per unit (form II.06a by unit), the ministry decisions announced late (decision, unit that
/// should submit, notes), and the units with late dossiers that owe an explanation by
/// `explainBy`.
///
/// `Accept: text/html` gives a printable page; XLSX gives one sheet per appendix.
#[utoipa::path(
    tag = "reports",
    params(NoticeQuery),
    responses(
        (status = 200, description = "The notice", content(
            (Notice = "application/json"),
            (String = "text/html"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "Bad period or format, or no rule set applies to the period", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["reports:read"]))
)]
#[get("/reports/notice")]
pub async fn notice(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<NoticeQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let q = query.0;
    let format = table::negotiate(
        &req,
        q.format.as_deref(),
        &[Format::Json, Format::Xlsx, Format::Html],
    )?;
    let (period, rule_set) = period_of(&state, &q.period).await?;
    let explain_by = q
        .explain_by
        .unwrap_or_else(|| app_notice::default_explain_by(period));
    let now = now_local();
    let code = q.unit;
    let rules = rule_set.clone();
    let data = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(app_notice::notice(
                conn, &scope, &code, period, &rules, now,
            )?)
        })
        .await?;
    let NoticeData {
        unit,
        official,
        own,
        frozen,
        departments,
        localities,
        processing: lines,
        late_announcements: late,
        owing,
    } = data;
    let basis = if frozen { "snapshot" } else { "live" };
    let owing = owing
        .into_iter()
        .map(|o| Explanation {
            unit: o.unit,
            name: o.name,
            resolved_late: o.resolved_late,
            in_progress_overdue: o.in_progress_overdue,
        })
        .collect();
    let notice = Notice {
        unit: unit_ref(&unit),
        period: period.to_string(),
        official: official.map(|o| NoticeOfficial {
            score: o.score,
            rank: o.rank,
            rank_of: o.rank_of,
            source: o.source,
        }),
        score: own.score.unwrap_or(0.0),
        basis: basis.to_owned(),
        departments: ranked(departments),
        localities: ranked(localities),
        processing: lines.iter().cloned().map(Ii06aLine::from).collect(),
        late_announcements: late,
        explanations: Explanations {
            due_on: explain_by,
            units: owing,
        },
    };
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(notice));
    }
    let label = period_label(period);
    let tables = [
        score_table(
            "Phụ lục 1",
            &format!("Phụ lục 1. Chỉ số đánh giá chất lượng phục vụ của các sở, ngành {label}"),
            &rule_set,
            &notice.departments,
        ),
        score_table(
            "Phụ lục 2",
            &format!(
                "Phụ lục 2. Chỉ số đánh giá chất lượng phục vụ của UBND cấp huyện, cấp xã {label}"
            ),
            &rule_set,
            &notice.localities,
        ),
        ii06a_table(
            "Phụ lục 3",
            &format!("Phụ lục 3. Tình hình giải quyết hồ sơ thủ tục hành chính {label}"),
            Vec::new(),
            GroupBy::Unit,
            &lines,
        ),
        late_table(&notice.late_announcements),
        explanation_table(&notice.explanations),
    ];
    let mut summary = vec![
        "Căn cứ Quyết định số 766/QĐ-TTg ngày 23/6/2022 của Thủ tướng Chính phủ phê duyệt Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp trong thực hiện thủ tục hành chính, dịch vụ công theo thời gian thực trên môi trường điện tử;".to_owned(),
        match &notice.official {
            Some(o) => format!(
                "Theo số liệu trên Cổng Dịch vụ công quốc gia, {} đạt {} điểm{}.",
                unit.name,
                table::vn_decimal(o.score),
                match (o.rank, o.rank_of) {
                    (Some(r), Some(of)) => format!(", xếp hạng {r:02}/{of}"),
                    _ => String::new(),
                }
            ),
            None => {
                "Chưa có số liệu công bố của Cổng Dịch vụ công quốc gia cho kỳ này.".to_owned()
            }
        },
    ];
    // Appendix 3 is counted from the records as they are now, also for a closed month (its
    // snapshot holds scores, not form II.06a): a closed notice says so of that appendix
    // (until 2026-12-07 the whole notice was labelled as closed figures).
    let (scores_basis, processing_basis) = if notice.basis == "snapshot" {
        ("số liệu đã chốt", " (số liệu hiện tại)")
    } else {
        ("số liệu hiện tại", "")
    };
    summary.push(format!(
        "Theo số liệu của hệ thống tthc ({scores_basis}), {} đạt {} điểm. Chỉ số của các sở, ngành tại Phụ lục 1, của UBND cấp huyện, cấp xã tại Phụ lục 2, tình hình giải quyết hồ sơ tại Phụ lục 3{processing_basis} kèm theo.",
        unit.name,
        table::vn_decimal(notice.score)
    ));
    if !notice.explanations.units.is_empty() {
        summary.push(format!(
            "Các đơn vị có phát sinh hồ sơ trễ hạn rà soát, báo cáo giải trình rõ nguyên nhân và đề xuất giải pháp xử lý, gửi về Văn phòng UBND tỉnh trước ngày {}.",
            vn_date(notice.explanations.due_on)
        ));
    }
    let document = Document {
        letterhead: Some(notice_letterhead(&unit, q.number.as_deref(), now.date())),
        subject: format!(
            "Về chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp {label}"
        ),
        paragraphs: summary,
        tables: tables.into(),
    };
    let name = format!("thong-bao-{}-{period}", unit.code);
    Ok(match format {
        Format::Html => table::download(format, &name, table::html(&document).into_bytes()),
        _ => table::download(format, &name, table::xlsx_document(&document)?),
    })
}
