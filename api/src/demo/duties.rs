//! The demo province's reporting duties (seed `002_…`) and a year of reports sent for them:
//! most on time, some late, some marked poor quality, some never sent, so that compliance and
//! the PAR-index deductions have something to show.

use chrono::{Datelike, NaiveDateTime};
use tthc_core::db::audit::Actor;
use tthc_core::db::duties::{self, DutyForm, FileMeta, SubmissionForm};
use tthc_core::db::{DbConnection, StoreError};
use tthc_core::period::Period;
use tthc_core::report::duties::{Deductions, DueRule, Frequency};
use tthc_core::unit::UnitScope;

use super::DemoYear;

/// The months reported on: those of the demo's span, from its first month to the month of its
/// last day.
fn months(year: &DemoYear) -> Vec<Period> {
    match (
        Period::month(year.first.year(), year.first.month()),
        Period::month(year.last.year(), year.last.month()),
    ) {
        (Some(first), Some(last)) => Period::months_between(first, last).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Day `day` of `period`'s month at `hour`, if the month has that day.
fn at(period: Period, day: u32, hour: u32) -> Option<NaiveDateTime> {
    period
        .first_day()
        .with_day(day)
        .and_then(|d| d.and_hms_opt(hour, 0, 0))
}

/// What a unit does with a month's report, from a fixed pattern: one in twenty never sent,
/// two late, one poor, the rest on time.
enum Sends {
    Never,
    Late(u32),
    Poor(u32),
    OnTime(u32),
}

fn pattern(unit: usize, month: u32) -> Sends {
    match (unit * 7 + month as usize * 13) % 20 {
        0 => Sends::Never,
        1 => Sends::Late(22),
        2 => Sends::Late(23),
        3 => Sends::Poor(18),
        h => Sends::OnTime(10 + (h as u32 % 10)),
    }
}

/// Creates the two duties (the departments' and communes' monthly report before the 21st, the
/// office's consolidated report before the 25th) and the reports sent over the demo's span up
/// to its last day; returns how many reports were recorded.
pub fn load(
    conn: &mut DbConnection,
    province: &str,
    reporters: Vec<String>,
    year: DemoYear,
) -> Result<usize, StoreError> {
    let actor = Actor::system("demo province");
    let months = months(&year);
    let Some(&first) = months.first() else {
        return Ok(0);
    };
    let duty = |code: &str, name: &str, before_day: u32, reporters: Vec<String>| DutyForm {
        code: code.to_owned(),
        name: name.to_owned(),
        frequency: Frequency::Monthly,
        due: DueRule {
            before_day,
            months_after: 0,
        },
        recipient: "Văn phòng UBND tỉnh".to_owned(),
        reporters,
        first_period: first,
        deductions: Deductions::default(),
        due_on: None,
    };
    let monthly = duties::create(
        conn,
        &actor,
        &UnitScope::All,
        &duty(
            "TTHC_MONTHLY",
            "Báo cáo tình hình, kết quả công tác cải cách TTHC hằng tháng",
            21,
            reporters,
        ),
    )?;
    let mut consolidated = duty(
        "TTHC_CONSOLIDATED",
        "Báo cáo tổng hợp công tác cải cách TTHC gửi Văn phòng Chính phủ",
        25,
        vec![province.to_owned()],
    );
    consolidated.recipient = "Văn phòng Chính phủ".to_owned();
    let consolidated = duties::create(conn, &actor, &UnitScope::All, &consolidated)?;
    let mut sent = 0;
    for (duty, offset) in [(&monthly, 0), (&consolidated, 4)] {
        for (i, unit) in duties::reporters(conn, duty, &UnitScope::All)?
            .iter()
            .enumerate()
        {
            for &period in &months {
                let month = period.first_day().month();
                let (day, poor) = match pattern(i, month) {
                    Sends::Never => continue,
                    Sends::Late(d) => (d + offset, false),
                    Sends::Poor(d) => (d + offset, true),
                    Sends::OnTime(d) => (d + offset, false),
                };
                // The reports of the running month not sent by the demo's last day are still to
                // come.
                let Some(submitted_at) = at(period, day, 16).filter(|t| *t <= year.end()) else {
                    continue;
                };
                let form = SubmissionForm {
                    period: period.to_string(),
                    document_number: format!("{}/BC-{}", 100 + month, unit.code),
                    submitted_at,
                    file: Some(FileMeta {
                        name: format!("bao-cao-thang-{month}.pdf"),
                        media_type: "application/pdf".to_owned(),
                        size: 180_000 + 1_000 * u64::from(month),
                        sha256: None,
                    }),
                };
                let s = duties::submit(conn, &actor, duty, unit.id, &form)?;
                if poor {
                    duties::mark_quality(
                        conn,
                        &actor,
                        duty,
                        s.id,
                        Some("Số liệu biểu mẫu II.06a chưa đầy đủ"),
                    )?;
                }
                sent += 1;
            }
        }
    }
    Ok(sent)
}
