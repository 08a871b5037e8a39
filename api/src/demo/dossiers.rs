//! A year of demo dossiers: received from December 2025 to 20 November 2026 at the demo
//! province's departments and communes, with the mix a province really sees: most finished early
//! or on time, some late, some still open and overdue, supplement requests, one in six never
//! synced to the national portal, and a few bad results (archives, blank files, the applicant's
//! own documents sent back). Generated deterministically through the same batched write path as
//! `POST /dossiers/bulk`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use tthc_core::calendar::{Calendar, Measure, TimeLimit};
use tthc_core::db::audit::Actor;
use tthc_core::db::dossiers::{
    self, Applicant, ComponentRecord, DossierDetails, DossierWrite, FeeRecord, Rating, SyncError,
};
use tthc_core::db::{DbConnection, StoreError};
use tthc_core::dossier::{DossierCode, Event, RatingChannel, ResultDocument, Satisfaction, Status};
use tthc_core::procedure::Channel;
use tthc_core::unit::UnitScope;

use std::collections::BTreeMap;

use super::DemoYear;
use super::catalogue::{Offered, Rng};

const BATCH: usize = 10_000;

const SURNAMES: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô",
];
const GIVEN: &[&str] = &[
    "Văn An",
    "Thị Bình",
    "Văn Cường",
    "Thị Dung",
    "Minh Đức",
    "Thu Hà",
    "Quốc Huy",
    "Thị Lan",
    "Văn Long",
    "Thị Mai",
    "Hữu Nam",
    "Thị Oanh",
    "Văn Phúc",
    "Thị Quỳnh",
    "Đức Thắng",
];

/// What the generator needs per dossier beyond the random stream.
struct Plan<'a> {
    procedure: &'a Offered,
    unit: &'a str,
    received: NaiveDateTime,
    seq: u32,
    /// The demo's "now": dossiers not ended by then are still open.
    end: NaiveDateTime,
}

fn sha(rng: &mut Rng) -> String {
    (0..4).map(|_| format!("{:016x}", rng.next())).collect()
}

fn ev(id: usize, status: Status, at: NaiveDateTime) -> Event {
    Event::new(id.to_string(), status, at)
}

/// One dossier's events, result and sync state, drawn so that the year looks real.
fn dossier(rng: &mut Rng, calendar: &Calendar, plan: &Plan<'_>) -> Option<DossierWrite> {
    let p = plan.procedure;
    let received = plan.received;
    let channel = match rng.below(100) {
        n if p.online && n < 58 => Channel::Online,
        n if n < 95 => Channel::InPerson,
        _ => Channel::Postal,
    };
    let limit = TimeLimit::new(p.working_days, Measure::WorkingDays).ok()?;
    let due = calendar.due(received, limit, &[]);
    let budget = due.working_seconds.max(3600);
    let after = |from: NaiveDateTime, seconds: i64| calendar.add_working_seconds(from, seconds);

    let mut events = Vec::new();
    if channel == Channel::Online {
        events.push(ev(
            1,
            Status::NewlyRegistered,
            received - TimeDelta::minutes(30),
        ));
        if rng.chance(2) {
            events.push(ev(2, Status::NotAccepted, after(received, 3600)));
        }
    }
    let refused = events.iter().any(|e| e.status == Status::NotAccepted);
    let mut finished_at = None;
    if !refused {
        events.push(ev(2, Status::Received, received));
        let start = 1800 + rng.below(7200) as i64;
        let mut at = after(received, start);
        events.push(ev(3, Status::Processing, at));
        // How long handling takes from receipt, as a share of the time limit: mostly early,
        // some late (a one-day procedure is not late merely for starting two hours in).
        let share = match rng.below(100) {
            0..=71 => 20 + rng.below(65),
            72..=87 => 85 + rng.below(15),
            _ => 105 + rng.below(80),
        } as i64;
        let mut spent = (budget * share / 100 - start).max(600);
        let supplements = match rng.below(100) {
            0..=6 => 1,
            7 => 2,
            _ => 0,
        };
        for s in 0..supplements {
            let asked = after(at, (spent / 3).max(600));
            let answered = after(asked, 3600 * (4 + rng.below(24) as i64));
            events.push(ev(4 + 2 * s, Status::SupplementRequested, asked));
            events.push(ev(5 + 2 * s, Status::Processing, answered));
            at = answered;
            spent -= spent / 3;
        }
        let end = after(at, spent.max(600));
        if rng.chance(1) {
            events.push(ev(9, Status::Withdrawn, after(at, 3600)));
        } else if end <= plan.end {
            events.push(ev(10, Status::Finished, end));
            finished_at = Some(end);
            if rng.chance(88) {
                let returned = after(end, 1800 + rng.below(3 * 8 * 3600) as i64);
                if returned <= plan.end {
                    events.push(ev(11, Status::Returned, returned));
                }
            }
        }
    }
    events.sort_by_key(|e| e.at);
    // What would happen after the demo's last day has not happened yet (events dated in the
    // future are refused).
    events.retain(|e| e.at <= plan.end);
    let current = events.last().map(|e| e.status);

    let digitized = rng.chance(75);
    let components = vec![
        ComponentRecord {
            name: "Đơn đề nghị".into(),
            sha256: Some(sha(rng)),
            file_url: None,
            digitized,
            reused: digitized && rng.chance(35),
            from_citizen_store: channel == Channel::Online && rng.chance(30),
        },
        ComponentRecord {
            name: "Giấy tờ tùy thân".into(),
            sha256: Some(sha(rng)),
            file_url: None,
            digitized,
            reused: digitized && rng.chance(50),
            from_citizen_store: channel == Channel::Online && rng.chance(40),
        },
    ];
    let mut results = Vec::new();
    if finished_at.is_some() && !rng.chance(3) {
        let (name, media_type, size, digest) = match rng.below(100) {
            0 | 1 => ("ket-qua.zip", "application/zip", 250_000, sha(rng)),
            2 => ("ket-qua.pdf", "application/pdf", 0, sha(rng)),
            3 => (
                "giay-to.pdf",
                "application/pdf",
                90_000,
                components[1].sha256.clone().unwrap_or_default(),
            ),
            _ => ("ket-qua.pdf", "application/pdf", 120_000, sha(rng)),
        };
        results.push(ResultDocument {
            name: name.into(),
            media_type: media_type.into(),
            size_bytes: Some(size),
            sha256: digest,
            pages: Some(if size == 0 {
                0
            } else {
                1 + rng.below(4) as i32
            }),
            signed: rng.chance(80),
            saved_to_citizen_store: rng.chance(15),
        });
    }
    let fees = if p.fee {
        vec![FeeRecord {
            name: "Lệ phí".into(),
            amount_vnd: 10_000 * (1 + rng.below(30) as i64),
            paid_online: channel == Channel::Online && rng.chance(70),
        }]
    } else {
        Vec::new()
    };
    let last_at = events.last().map_or(received, |e| e.at);
    // One dossier in six never reaches the national portal; a few are synced one step behind.
    let (synced, sync_error) = match (rng.below(100), current) {
        (0..=15, _) | (_, None) => (
            None,
            rng.chance(20).then(|| SyncError {
                at: last_at + TimeDelta::minutes(10),
                message: "Cổng DVCQG: mã hồ sơ không hợp lệ".into(),
            }),
        ),
        (16..=19, Some(_)) => (
            events
                .first()
                .map(|e| (e.at + TimeDelta::minutes(5), e.status)),
            None,
        ),
        (_, Some(status)) => (Some((last_at + TimeDelta::minutes(5), status)), None),
    };
    let rating = (finished_at.is_some() && rng.chance(40)).then(|| Rating {
        value: match rng.below(100) {
            0..=89 => Satisfaction::Satisfied,
            90..=95 => Satisfaction::Neutral,
            _ => Satisfaction::Dissatisfied,
        },
        at: last_at + TimeDelta::hours(2),
        channel: if channel == Channel::Online {
            RatingChannel::Portal
        } else {
            RatingChannel::Desk
        },
    });
    let code = format!(
        "{}-{:02}{:02}{:02}-{:04}",
        plan.unit,
        received.year() % 100,
        received.month(),
        received.day(),
        plan.seq
    );
    Some(DossierWrite {
        code: DossierCode::parse(&code).ok()?,
        procedure_code: p.code.clone(),
        unit: plan.unit.to_owned(),
        channel,
        received_at: received,
        details: DossierDetails {
            submitted_at: Some(events.first().map_or(received, |e| e.at)),
            applicant: Applicant {
                kind: if rng.chance(85) {
                    "citizen"
                } else {
                    "organization"
                }
                .into(),
                name: format!(
                    "{} {}",
                    SURNAMES[rng.below(SURNAMES.len() as u64) as usize],
                    GIVEN[rng.below(GIVEN.len() as u64) as usize]
                ),
                identity_last4: Some(format!("{:04}", rng.below(10_000))),
                identity_hash: None,
            },
            financial_obligation: !fees.is_empty(),
            fees,
            components,
            vneid_verified: channel == Channel::Online && rng.chance(75),
            population_db_used: rng.chance(55),
            // The demo marks reuse on its components.
            reuses_digitized_data: false,
            results,
            vendor_due_at: None,
            revised_at: None,
            sync_error,
            portal_fields: Default::default(),
        },
        synced,
        rating,
        events,
    })
}

/// Loads `count` dossiers spread over the demo year; returns how many were stored. Seven in ten
/// are received by the communes (civil status and certification), the rest by the departments;
/// each unit's dossiers are spread over the procedures it handles, so that every unit has some.
pub fn load(
    conn: &mut DbConnection,
    offered: &[Offered],
    count: usize,
    year: DemoYear,
    communes: &[&str],
) -> Result<usize, StoreError> {
    let calendar = Calendar::national(year.first.year(), year.last.year() + 1);
    let days: Vec<NaiveDate> = year
        .first
        .iter_days()
        .take_while(|d| *d <= year.last)
        .filter(|d| calendar.is_working_day(*d))
        .collect();
    let mut by_unit: BTreeMap<&str, Vec<&Offered>> = BTreeMap::new();
    for o in offered {
        for unit in &o.units {
            by_unit.entry(unit.as_str()).or_default().push(o);
        }
    }
    let (at_communes, at_departments): (Vec<_>, Vec<_>) = by_unit
        .iter()
        .partition(|(unit, _)| communes.contains(unit));
    if days.is_empty() || by_unit.is_empty() {
        return Ok(0);
    }
    let actor = Actor::system("demo dossiers");
    let mut rng = Rng(0x0766_d055_1e55_2026);
    let mut sequence: std::collections::HashMap<(String, NaiveDate), u32> = Default::default();
    let mut stored = 0;
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..count {
        // Days in order, so that a day's sequence numbers follow receipt.
        let date = days[i * days.len() / count.max(1)];
        let units = if at_departments.is_empty() || (!at_communes.is_empty() && rng.chance(70)) {
            &at_communes
        } else {
            &at_departments
        };
        let (unit, procedures) = units[rng.below(units.len() as u64) as usize];
        let procedure = procedures[rng.below(procedures.len() as u64) as usize];
        let minutes = match rng.below(2) {
            0 => 7 * 60 + 30 + rng.below(240),
            _ => 13 * 60 + 30 + rng.below(200),
        } as u32;
        let time = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or_default();
        let seq = sequence.entry(((*unit).to_owned(), date)).or_insert(0);
        *seq += 1;
        let plan = Plan {
            procedure,
            unit,
            received: date.and_time(time),
            seq: *seq,
            end: year.end(),
        };
        if let Some(write) = dossier(&mut rng, &calendar, &plan) {
            batch.push(write);
        }
        if batch.len() == BATCH || i + 1 == count {
            let outcomes = dossiers::put_batch(conn, &actor, &UnitScope::All, &batch)?;
            stored += outcomes.iter().filter(|o| o.is_ok()).count();
            batch.clear();
        }
    }
    Ok(stored)
}
