//! The demo province's tasks: a letter of the provincial office with three tasks over the
//! demo's span (one done by most, one with a target the units report against, one with a
//! target tthc measures and due soon), and the last closed month's explanations as a task.

use chrono::{Datelike, NaiveDate, TimeDelta};
use tthc_core::app::notice::default_explain_by;
use tthc_core::app::tasks as app_tasks;
use tthc_core::db::audit::Actor;
use tthc_core::db::tasks::{
    self, Evidence, Letter, PartChange, PartForm, Task, TaskForm, TaskKind,
};
use tthc_core::db::{DbConnection, StoreError};
use tthc_core::task::Target;
use tthc_core::unit::UnitScope;

use super::DemoYear;

fn day(d: NaiveDate, days: i64) -> NaiveDate {
    d + TimeDelta::days(days)
}

/// Records `unit`'s part of `task` done on `date`, with the report's number and a figure.
fn done(
    conn: &mut DbConnection,
    actor: &Actor,
    task: &Task,
    unit: &str,
    date: NaiveDate,
    figure: Option<f64>,
) -> Result<(), StoreError> {
    let evidence = Evidence {
        document_number: format!("{}/BC-{}", date.ordinal(), unit.get(7..9).unwrap_or("DV")),
        date,
        file: None,
        figure,
    };
    tasks::set_part(
        conn,
        actor,
        &UnitScope::All,
        (task.id, unit),
        &PartChange::Done(evidence),
        true,
        None,
    )?;
    Ok(())
}

/// Loads the tasks of the province `province` for `departments` over `year`; gives how many
/// tasks were created.
pub fn load(
    conn: &mut DbConnection,
    province: &str,
    departments: &[&str],
    year: DemoYear,
) -> Result<usize, StoreError> {
    let actor = Actor::system("demo province");
    let letter = Letter {
        number: format!("{}/KH-UBND", 100 + year.first.ordinal()),
        date: day(year.first, 14),
        signer: "Chủ tịch UBND tỉnh".to_owned(),
        title: Some("Kế hoạch kiểm soát thủ tục hành chính".to_owned()),
    };
    let parts = |units: &[&str]| -> Vec<PartForm> {
        units
            .iter()
            .map(|u| PartForm {
                unit: (*u).to_owned(),
                note: None,
            })
            .collect()
    };
    let closed = year.closed_months();
    let task =
        |n: u32, text: &str, due_before: NaiveDate, target: Option<Target>, units| TaskForm {
            key: Some(format!("{}#{n}", letter.number)),
            kind: TaskKind::Task,
            source: letter.clone(),
            text: text.to_owned(),
            due_before,
            target,
            parts: parts(units),
        };
    let clean_by = day(year.last, -60);
    let cut_by = day(year.last, -20);
    let forms = vec![
        task(
            1,
            "Rà soát, làm sạch toàn bộ TTHC đã công bố, công khai trên Cơ sở dữ liệu quốc gia về TTHC",
            clean_by,
            None,
            &departments[..departments.len().min(8)],
        ),
        task(
            2,
            "Cắt giảm thông tin phải khai báo khi thực hiện dịch vụ công trực tuyến",
            cut_by,
            Some(Target {
                text: "Cắt giảm ít nhất 20% thông tin phải khai báo".to_owned(),
                indicator: None,
                period: None,
                at_least: Some(20.0),
            }),
            &departments[..departments.len().min(4)],
        ),
        task(
            3,
            "Bảo đảm 100% hồ sơ TTHC được giải quyết đúng hạn",
            day(year.last, 10),
            closed.last().map(|p| Target {
                text: "100% hồ sơ giải quyết đúng hạn".to_owned(),
                indicator: Some("ON_TIME_PROCESSING".to_owned()),
                period: Some(p.to_string()),
                at_least: Some(100.0),
            }),
            &departments[..departments.len().min(6)],
        ),
    ];
    let created = tasks::create_many(conn, &actor, &UnitScope::All, &forms, |_| String::new())?;
    let mut count = created.len();
    if let [clean, cut, _] = created.as_slice() {
        // Five on time, one late; two never report (overdue).
        for (i, p) in clean.parts.iter().take(6).enumerate() {
            let on = if i == 5 {
                day(clean_by, 3)
            } else {
                day(clean_by, -5 + i as i64)
            };
            done(conn, &actor, clean, &p.unit, on, None)?;
        }
        for (p, figure) in cut.parts.iter().zip([23.5, 18.0]) {
            done(conn, &actor, cut, &p.unit, day(cut_by, -2), Some(figure))?;
        }
    }
    // The last closed month's notice: its units with late dossiers explain them.
    if let Some(&month) = closed.last() {
        let explain_by = default_explain_by(month);
        let notice = Letter {
            number: format!("{}/TB-VP", 200 + month.first_day().month()),
            date: month.last_day() + TimeDelta::days(8),
            signer: "Chánh Văn phòng UBND tỉnh".to_owned(),
            title: Some(format!(
                "Thông báo kết quả Bộ chỉ số 766 tháng {}",
                month.first_day().month()
            )),
        };
        let form = app_tasks::explanation_task(
            conn,
            &UnitScope::All,
            province,
            month,
            explain_by,
            notice,
            year.end(),
        )
        .map_err(|e| StoreError::Setup(format!("demo explanations: {e}")))?;
        if let Some(form) = form {
            let made =
                tasks::create_many(conn, &actor, &UnitScope::All, &[form], |_| String::new())?;
            count += made.len();
            // Half the units explain in time.
            for task in &made {
                for p in task.parts.iter().step_by(2) {
                    done(conn, &actor, task, &p.unit, day(explain_by, -2), None)?;
                }
            }
        }
    }
    Ok(count)
}
