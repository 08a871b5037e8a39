//! The demo year's petitions: one for every hundred dossiers, over the same working days, with
//! a realistic mix of subjects, channels and outcomes (mostly answered on time, some late, some
//! refused or withdrawn, a few still open or waiting for the petitioner), some about a dossier
//! of that day, and the petitioners' reactions. Generated deterministically.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use tthc_core::calendar::Calendar;
use tthc_core::db::audit::Actor;
use tthc_core::db::dossiers::{self, DossierFilter};
use tthc_core::db::petitions::{self, PetitionDetails, PetitionWrite, ReactionRecord};
use tthc_core::db::{DbConnection, StoreError};
use tthc_core::petition::{Channel, Event, PetitionCode, Reaction, Status, Subject};
use tthc_core::unit::UnitScope;

use super::DemoYear;
use super::catalogue::{Offered, Rng};

/// Petitions stored per transaction.
const BATCH: usize = 500;

const SUMMARIES: [&str; 6] = [
    "Cán bộ yêu cầu nộp thêm giấy tờ không có trong quy định",
    "Hồ sơ trễ hạn nhưng không nhận được phiếu xin lỗi",
    "Đề nghị bỏ yêu cầu bản sao có chứng thực khi đã có dữ liệu dân cư",
    "Thái độ tiếp dân của cán bộ một cửa chưa đúng mực",
    "Không thanh toán trực tuyến được lệ phí trên Cổng dịch vụ công",
    "Kết quả giải quyết trên Cổng không mở được",
];

/// One petition received at `received` about `procedure` at `unit`, and possibly `dossier`.
fn petition(
    rng: &mut Rng,
    calendar: &Calendar,
    code: PetitionCode,
    unit: &str,
    procedure: &str,
    dossier: Option<String>,
    (received, end): (NaiveDateTime, NaiveDateTime),
) -> PetitionWrite {
    let after = |days: i64, at: NaiveDateTime| {
        calendar
            .shift_working_days(at.date(), days)
            .and_time(at.time())
    };
    let mut events = vec![(Status::Received, received)];
    let outcome = rng.below(100);
    if outcome < 5 {
        // Refused, usually within the 2 working days.
        events.push((
            Status::Refused,
            after(1 + rng.below(3) as i64 / 2, received),
        ));
    } else if outcome < 8 {
        events.push((Status::Withdrawn, after(1 + rng.below(5) as i64, received)));
    } else {
        let mut clock = received;
        if rng.chance(10) {
            let asked = after(1 + rng.below(4) as i64, received);
            events.push((Status::InfoRequested, asked));
            if rng.chance(85) {
                clock = after(1 + rng.below(4) as i64, asked);
                events.push((Status::InfoProvided, clock));
            } else {
                clock = end;
            }
        }
        // Handled within 3–14 working days, 15% of them after the 15.
        let days = if rng.chance(15) {
            16 + rng.below(8)
        } else {
            3 + rng.below(12)
        } as i64;
        let handled = after(days, clock.max(received));
        events.push((Status::Handled, handled));
        let publish = if rng.chance(10) {
            3 + rng.below(3)
        } else {
            rng.below(2)
        } as i64;
        events.push((Status::Published, after(publish, handled)));
    }
    let events: Vec<Event> = events
        .into_iter()
        .filter(|(_, at)| *at <= end)
        .enumerate()
        .map(|(i, (status, at))| Event {
            id: (i + 1).to_string(),
            status,
            at,
            actor: None,
            note: None,
        })
        .collect();
    let handled = events
        .iter()
        .find(|e| e.status == Status::Handled)
        .map(|e| e.at);
    let reaction = handled.and_then(|h| {
        let at = after(1 + rng.below(3) as i64, h);
        let value = match rng.below(100) {
            0..=69 => Reaction::Satisfied,
            70..=79 => Reaction::Dissatisfied,
            _ => return None,
        };
        (at <= end).then_some(ReactionRecord {
            value,
            at,
            further_petition: None,
        })
    });
    let subject = if rng.chance(25) {
        Subject::OfficerConduct
    } else {
        Subject::Regulation
    };
    let channel = match rng.below(100) {
        0..=49 => Channel::Portal,
        50..=69 => Channel::Phone,
        70..=79 => Channel::Email,
        80..=84 => Channel::Post,
        85..=94 => Channel::InPerson,
        _ => Channel::Other,
    };
    PetitionWrite {
        code,
        unit: unit.to_owned(),
        subject,
        procedure_code: Some(procedure.to_owned()),
        dossier_code: dossier,
        channel,
        received_at: received,
        details: PetitionDetails {
            summary: SUMMARIES[rng.below(SUMMARIES.len() as u64) as usize].to_owned(),
            outcome: handled.map(|_| "Đã trả lời, hướng dẫn công dân".to_owned()),
            answer_url: None,
        },
        reaction,
        events,
    }
}

/// A dossier received on `date` at `unit`, if there is one.
fn dossier_of_day(
    conn: &mut DbConnection,
    unit_path: &str,
    date: NaiveDate,
) -> Result<Option<String>, StoreError> {
    let filter = DossierFilter {
        unit_path: Some(unit_path.to_owned()),
        received_from: Some(date.and_time(NaiveTime::MIN)),
        received_to: date.succ_opt().map(|d| d.and_time(NaiveTime::MIN)),
        limit: 1,
        ..DossierFilter::default()
    };
    Ok(dossiers::list(conn, &UnitScope::All, &filter)?
        .into_iter()
        .next()
        .map(|d| d.code))
}

/// Loads `count` petitions spread over the demo year; returns how many were stored.
pub fn load(
    conn: &mut DbConnection,
    offered: &[Offered],
    count: usize,
    year: DemoYear,
) -> Result<usize, StoreError> {
    let calendar = Calendar::national(year.first.year(), year.last.year() + 1);
    let days: Vec<NaiveDate> = year
        .first
        .iter_days()
        .take_while(|d| *d <= year.last)
        .filter(|d| calendar.is_working_day(*d))
        .collect();
    let offered: Vec<&Offered> = offered.iter().filter(|o| !o.units.is_empty()).collect();
    if days.is_empty() || offered.is_empty() {
        return Ok(0);
    }
    let actor = Actor::system("demo petitions");
    let mut rng = Rng(0x0766_9e71_7100_2026);
    let mut stored = 0;
    let mut batch = Vec::with_capacity(BATCH);
    let mut last_code: Option<String> = None;
    for i in 0..count {
        let date = days[i * days.len() / count.max(1)];
        let procedure = offered[rng.below(offered.len() as u64) as usize];
        let unit = &procedure.units[rng.below(procedure.units.len() as u64) as usize];
        let minutes = 7 * 60 + 30 + rng.below(8 * 60) as u32;
        let received = date
            .and_time(NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or_default());
        let dossier = if rng.chance(40) {
            match tthc_core::db::units::find_row(conn, unit)? {
                Some(row) => dossier_of_day(conn, &row.path, date)?,
                None => None,
            }
        } else {
            None
        };
        let text = format!("PAKN-{}-{:06}", date.year(), i + 1);
        let code = PetitionCode::parse(&text).map_err(StoreError::Setup)?;
        let write = petition(
            &mut rng,
            &calendar,
            code,
            unit,
            &procedure.code,
            dossier,
            (received, year.end()),
        );
        // A few dissatisfied petitioners petition again: the next petition is theirs.
        if let Some(previous) = last_code.take()
            && rng.chance(30)
            && let Some(r) = batch
                .iter_mut()
                .rev()
                .find(|w: &&mut PetitionWrite| w.code.as_str() == previous)
                .and_then(|w| w.reaction.as_mut())
        {
            r.further_petition = Some(text.clone());
        }
        if write
            .reaction
            .as_ref()
            .is_some_and(|r| r.value == Reaction::Dissatisfied)
        {
            last_code = Some(text);
        }
        batch.push(write);
        if batch.len() == BATCH || i + 1 == count {
            let outcomes = petitions::put_batch(conn, &actor, &UnitScope::All, &batch)?;
            stored += outcomes.iter().filter(|o| o.is_ok()).count();
            batch.clear();
            last_code = None;
        }
    }
    Ok(stored)
}
