//! Due-date throughput: `cargo bench -p tthc-core --bench due_dates`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{NaiveDateTime, TimeDelta};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tthc_core::calendar::{Calendar, Measure, TimeLimit};

fn starts() -> Vec<NaiveDateTime> {
    // 1,024 receipt instants spread over 2025–2026, every 17 hours and 13 minutes.
    let first = NaiveDateTime::parse_from_str("2025-01-02 08:00", "%Y-%m-%d %H:%M").unwrap();
    (0..1024)
        .map(|i| first + TimeDelta::minutes(i * (17 * 60 + 13)))
        .collect()
}

fn due_dates(c: &mut Criterion) {
    let calendar = Calendar::national(2024, 2028);
    let starts = starts();
    let mut group = c.benchmark_group("due");
    group.throughput(Throughput::Elements(starts.len() as u64));
    for (label, amount, measure) in [
        ("15 working days", 15.0, Measure::WorkingDays),
        ("8 working hours", 8.0, Measure::WorkingHours),
        ("30 calendar days", 30.0, Measure::CalendarDays),
    ] {
        let limit = TimeLimit::new(amount, measure).unwrap();
        group.bench_function(format!("{label}, with explanation"), |b| {
            b.iter(|| {
                for s in &starts {
                    black_box(calendar.due(black_box(*s), limit, &[]));
                }
            });
        });
    }
    group.bench_function("15 working days, instant only", |b| {
        b.iter(|| {
            for s in &starts {
                let (start, _) = calendar.intake_start(black_box(*s));
                black_box(calendar.add_working_seconds(start, 15 * 8 * 3600));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, due_dates);
criterion_main!(benches);
