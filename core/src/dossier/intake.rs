//! Intake of a pushed dossier: the checks and derivations that turn a vendor's write into what
//! tthc stores, as pure functions over what storage looked up for it (the unit, the procedure's
//! time limit, the calendar, the stored row).
//!
//! Storage (`db::dossiers`) reads, calls [`problems`] and [`judge`], and writes what they return;
//! nothing here reads or writes a database.

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::facts::{ComponentFacts, FactsInput, NOT_RECEIVED, facts};
use super::record::{DossierDetails, DossierWrite, Rating};
use super::{
    Event, Flag, QualityInput, Status, Timing, TimingInput, before_receipt, check_history, derive,
};
use crate::InvalidParam;
use crate::calendar::{Calendar, TimeLimit};
use crate::text::{input_hash, word};
use crate::window;

/// What is wrong with a write, field by field (empty: nothing). `unit_found` and
/// `procedure_known` say whether storage found the unit named (within the caller's grant) and
/// any version of the procedure named.
pub fn problems(
    write: &DossierWrite,
    unit_found: bool,
    procedure_known: bool,
    now: NaiveDateTime,
) -> Vec<InvalidParam> {
    let mut invalid = Vec::new();
    if !unit_found {
        invalid.push(InvalidParam::new(
            "unit",
            format!("no unit has the code {}", write.unit),
        ));
    }
    if !procedure_known {
        invalid.push(InvalidParam::new(
            "procedureCode",
            format!("no procedure has the code {}", write.procedure_code),
        ));
    }
    invalid.extend(crate::window::repeated_event_ids(
        write.events.iter().map(|e| e.id.as_str()),
    ));
    // Every instant within the window: one far outside it is a bug or an attack, and costs
    // seconds of calendar work. A rating dated ahead would also outrank every real one.
    let happened = [
        Some(("receivedAt".to_owned(), write.received_at)),
        write
            .details
            .submitted_at
            .map(|at| ("submittedAt".to_owned(), at)),
        write.synced.map(|(at, _)| ("sync.syncedAt".to_owned(), at)),
        write
            .details
            .sync_error
            .as_ref()
            .map(|e| ("syncError.at".to_owned(), e.at)),
        write.rating.map(|r| ("rating.at".to_owned(), r.at)),
        write
            .details
            .revised_at
            .map(|at| ("revisedAt".to_owned(), at)),
    ];
    let event_instants = write
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| Some((format!("events[{i}].at"), e.at)));
    for (name, at) in happened.into_iter().chain(event_instants).flatten() {
        invalid.extend(window::happened(&name, at, now));
    }
    let due = write
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.new_due.map(|at| (format!("events[{i}].newDue"), at)))
        .chain(
            write
                .details
                .vendor_due_at
                .map(|at| ("dueAt".to_owned(), at)),
        );
    for (name, at) in due {
        invalid.extend(window::due(&name, at));
    }
    invalid
}

/// The events the rules accept for a dossier received at `received_at`, and those they refuse
/// with the reason: dated before the receipt ([`before_receipt`]), or breaking the transition
/// rules. An event the rules refuse is set aside and the rest of the history is stored and
/// judged: only malformed input refuses a dossier.
pub fn split_refused(
    received_at: NaiveDateTime,
    events: &[Event],
) -> (Vec<Event>, Vec<(Event, String)>) {
    let mut kept = Vec::with_capacity(events.len());
    let mut refused = Vec::new();
    for e in events {
        match before_receipt(received_at, e) {
            Some(reason) => refused.push((e.clone(), reason)),
            None => kept.push(e.clone()),
        }
    }
    while let Err(f) = check_history(&kept) {
        match kept.iter().position(|e| e.id == f.event_id) {
            Some(i) => refused.push((kept.remove(i), f.reason)),
            None => break,
        }
    }
    (kept, refused)
}

/// One rating per dossier: the later of the stored one and the write's.
pub fn merged_rating(new: Option<Rating>, stored: Option<Rating>) -> Option<Rating> {
    match (new, stored) {
        (Some(new), Some(old)) if old.at > new.at => Some(old),
        (new, old) => new.or(old),
    }
}

/// A stored dossier as a new write of it is judged against.
#[derive(Debug, Clone, Copy)]
pub struct StoredDue<'a> {
    /// Its receipt instant.
    pub received_at: NaiveDateTime,
    /// Its procedure.
    pub procedure_code: &'a str,
    /// The rules' due instant stored with it.
    pub rule_due_at: Option<NaiveDateTime>,
}

/// The stored rules' due instant when it still applies: a due instant once stored does not
/// change when the calendar or the procedure is edited later; only a new receipt instant or
/// procedure, a unit of another province (whose calendar may differ: `same_province` false), or
/// an explicit recompute, changes it. `None`: compute it.
pub fn kept_rule_due(
    stored: Option<StoredDue<'_>>,
    write: &DossierWrite,
    same_province: bool,
    recompute: bool,
) -> Option<Option<NaiveDateTime>> {
    stored
        .filter(|s| {
            !recompute
                && same_province
                && s.received_at == write.received_at
                && s.procedure_code == write.procedure_code
        })
        .map(|s| s.rule_due_at)
}

/// Whether a whole push is older than the stored dossier and is not stored (`stale`). By the
/// events ([`is_older_state`]), unless the push and the stored dossier both carry the vendor's
/// revision instant and they differ: a push revised earlier is older whatever it holds; a push
/// revised later is stored even when it takes steps back (how a vendor corrects a bulk push),
/// except the steps stored with instants after its revision, which it could not have known of
/// (added one by one since), and except when it lists no events at all.
pub fn is_older_push(
    pushed: &[Event],
    pushed_revised: Option<NaiveDateTime>,
    stored: &[StoredStep],
    stored_revised: Option<NaiveDateTime>,
) -> bool {
    let by_events = is_older_state(pushed, stored);
    match (pushed_revised, stored_revised) {
        (Some(revised), Some(before)) if revised < before => true,
        (Some(revised), Some(before)) if revised > before => {
            let lacks_later = stored
                .iter()
                .any(|(id, _, at)| *at > revised && !pushed.iter().any(|e| e.id == *id));
            by_events && (pushed.is_empty() || lacks_later)
        }
        _ => by_events,
    }
}

/// A stored event as [`is_older_state`] compares it: its id, status and instant.
pub type StoredStep = (String, Status, NaiveDateTime);

/// Whether a whole push is an older state of the stored dossier that arrived late, as a retry
/// on a flaky link lands after the push that followed it: every event the push lists is stored
/// as it lists it (the same id, status and instant), and the stored history goes on past the
/// push's last event with events the push lacks. Storing it would take those later steps back,
/// so it is not stored. A push that lists any event differently, or lacks an event from before
/// its own last one, is a correction and is stored (the last write wins).
///
/// Instants are compared to the microsecond, as PostgreSQL keeps them: a vendor writing seven
/// digits still sends the instant it sent before.
pub fn is_older_state(pushed: &[Event], stored: &[StoredStep]) -> bool {
    use std::collections::HashMap;
    if pushed.len() >= stored.len() {
        return false;
    }
    let micros = |at: NaiveDateTime| at.and_utc().timestamp_micros();
    let by_id: HashMap<&str, (Status, i64)> = stored
        .iter()
        .map(|(id, status, at)| (id.as_str(), (*status, micros(*at))))
        .collect();
    if !pushed
        .iter()
        .all(|e| by_id.get(e.id.as_str()) == Some(&(e.status, micros(e.at))))
    {
        return false;
    }
    let last = pushed.iter().map(|e| e.at).max();
    let listed: std::collections::HashSet<&str> = pushed.iter().map(|e| e.id.as_str()).collect();
    stored
        .iter()
        .filter(|(id, _, _)| !listed.contains(id.as_str()))
        .all(|(_, _, at)| last.is_none_or(|last| *at >= last))
}

/// What [`judge`] needs besides the write.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The calendar of the unit's province around the receipt.
    pub calendar: &'a Calendar,
    /// The procedure's time limit in force at receipt, if any.
    pub limit: Option<TimeLimit>,
    /// The stored rules' due instant when it still applies ([`kept_rule_due`]).
    pub kept_rule_due: Option<Option<NaiveDateTime>>,
    /// The stored rating, if any.
    pub stored_rating: Option<Rating>,
    /// Whether a petition of the unit or of a unit above it names the dossier.
    pub petitioned: bool,
    /// Now (local time): open dossiers are judged at it.
    pub now: NaiveDateTime,
    /// The write as its sender sent it, which the input hash is of: under the relay to the
    /// national portal tthc replaces the sync a vendor reports with what it recorded, and the
    /// relay's records are no change of the sender's (the same push again stays unchanged).
    pub sent: &'a DossierWrite,
}

/// A write judged: what is stored.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The write, with the refused events set aside.
    pub write: DossierWrite,
    /// The events the transition rules refused, with the reason.
    pub refused: Vec<(Event, String)>,
    /// The details as stored (JSON, [`super::stored`]).
    pub data: String,
    /// The hash of what was sent (refused events included) and of the rules' due instant and
    /// rating: the same push again is unchanged.
    pub input_hash: String,
    /// The current status.
    pub status: Status,
    /// The due instant used for timing: the vendor's, else the rules'.
    pub due_at: Option<NaiveDateTime>,
    /// The rules' due instant.
    pub rule_due_at: Option<NaiveDateTime>,
    /// The due instant after apologies and supplement time.
    pub effective_due_at: Option<NaiveDateTime>,
    /// From when it counts late while open.
    pub late_from: Option<NaiveDateTime>,
    /// When handling ended.
    pub ended_at: Option<NaiveDateTime>,
    /// The final timing.
    pub timing: Option<Timing>,
    /// The quality flags, sorted.
    pub flags: Vec<Flag>,
    /// The 766 facts (`facts` bits).
    pub facts: i32,
    /// The rating kept.
    pub rating: Option<Rating>,
}

/// Judges a checked write ([`problems`] found nothing): the refused events set aside, the
/// rating merged, the rules' due instant kept or computed, the input hashed, timing, flags and
/// 766 facts derived.
pub fn judge(write: &DossierWrite, context: &Context<'_>) -> Result<Judged, serde_json::Error> {
    let (kept, refused) = split_refused(write.received_at, &write.events);
    // Hashed in the API's form, which names every field, so that hashes stored before the
    // compact stored form still match the same push.
    let data = serde_json::to_string(&context.sent.details)?;
    // The hash is of what was sent, refused events included: the same push again is unchanged.
    let events_json = serde_json::to_string(&write.events)?;
    let rating = merged_rating(write.rating, context.stored_rating);
    let rule_due_at = match context.kept_rule_due {
        Some(kept) => kept,
        None => context
            .limit
            .map(|l| context.calendar.due(write.received_at, l, &[]).due),
    };
    // The rules' due instant is part of the hash, so that a recompute that changes it is stored.
    // Hashed piece by piece rather than through one formatted copy of the whole dossier.
    let mut hasher = Sha256::new();
    hasher.update(
        format!(
            "{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|",
            write.code,
            write.procedure_code,
            write.unit,
            word(&write.channel),
            write.received_at,
            context.sent.synced,
            rule_due_at,
            rating,
        )
        .as_bytes(),
    );
    hasher.update(data.as_bytes());
    hasher.update(b"|");
    hasher.update(events_json.as_bytes());
    let input_hash = input_hash(&hasher.finalize());
    let mut write = write.clone();
    write.events = kept;
    let vendor_due = write.details.vendor_due_at;
    let due_at = vendor_due.or(rule_due_at);
    let hashes: Vec<String> = write
        .details
        .components
        .iter()
        .filter_map(|c| c.sha256.clone())
        .collect();
    let derived = derive(
        context.calendar,
        &TimingInput {
            received_at: write.received_at,
            due_at,
            limit: context.limit,
            events: &write.events,
            // Judged once all its events have happened: one dated a little ahead of this
            // clock (`CLOCK_SLACK`, a sender's fast clock) still ends the dossier. Until
            // 2026-12-07 a finish dated seconds ahead was left out of the stored timing for good
            // (the same push again is unchanged), and the dossier later counted as overdue.
            at: super::judged_at(&write.events, context.now),
        },
        &QualityInput {
            events: &write.events,
            results: &write.details.results,
            component_hashes: &hashes,
            synced_at: write.synced.map(|s| s.0),
            synced_status: write.synced.map(|s| s.1),
            sync_error: write
                .details
                .sync_error
                .as_ref()
                .map(|e| (e.at, e.message.as_str())),
            standard_code: write.code.standard_parts().is_some(),
            due_disagrees: matches!((vendor_due, rule_due_at), (Some(v), Some(r)) if v != r),
        },
    );
    let mut flags: Vec<Flag> = derived.flags.iter().map(|(f, _)| *f).collect();
    if !refused.is_empty() {
        flags.push(Flag::RefusedEvents);
        flags.sort();
    }
    let facts = facts_of(&write.details, rating.as_ref(), context.petitioned)
        | if derived.received { 0 } else { NOT_RECEIVED };
    Ok(Judged {
        status: derived.status.unwrap_or(Status::NewlyRegistered),
        due_at,
        rule_due_at,
        effective_due_at: derived.effective_due,
        late_from: derived.late_from,
        ended_at: derived.ended_at,
        timing: derived.timing,
        flags,
        facts,
        rating,
        data: super::stored::to_json(&write.details)?,
        input_hash,
        write,
        refused,
    })
}

/// The 766 facts of a dossier's details, its rating, and whether a petition concerns it.
pub fn facts_of(details: &DossierDetails, rating: Option<&Rating>, petitioned: bool) -> i32 {
    let components: Vec<ComponentFacts> = details
        .components
        .iter()
        .map(|c| ComponentFacts {
            // A component with a file link is digitized: the relay shows the portal its file.
            digitized: c.digitized || c.file_url.is_some(),
            reused: c.reused,
            from_citizen_store: c.from_citizen_store,
        })
        .collect();
    facts(&FactsInput {
        // A non-zero fee listed is an obligation, whatever the flag says.
        financial_obligation: details.financial_obligation
            || details.fees.iter().any(|f| f.amount_vnd > 0),
        paid_online: details.fees.iter().any(|f| f.paid_online),
        fees_recorded: !details.fees.is_empty(),
        fees_all_zero: !details.fees.is_empty() && details.fees.iter().all(|f| f.amount_vnd == 0),
        components: &components,
        results: &details.results,
        // PORTAL_RULES 4.5: a dossier counts when it carries the VNeID mark or population
        // database data (until 2026-12-07 the mark alone did not count).
        population_db_used: details.population_db_used || details.vneid_verified,
        reuses_digitized_data: details.reuses_digitized_data,
        rating: rating.map(|r| r.value),
        petitioned,
    })
}

#[cfg(test)]
mod tests {
    //! Worked on the 2026 calendar: received Monday 2 March 2026 at 08:00 with 3 working days,
    //! due Thursday 5 March at 08:00.

    use super::*;
    use crate::calendar::Measure;
    use crate::dossier::record::{Applicant, ComponentRecord};
    use crate::dossier::tests::{at, ev};
    use crate::dossier::{DossierCode, RatingChannel, Satisfaction};
    use crate::procedure::Channel;

    fn write(events: Vec<Event>) -> DossierWrite {
        DossierWrite {
            code: DossierCode::parse("C1-260302-0001").unwrap(),
            procedure_code: "1.000001".into(),
            unit: "C1".into(),
            channel: Channel::Online,
            received_at: at("2026-03-02 08:00"),
            details: DossierDetails {
                submitted_at: None,
                applicant: Applicant {
                    kind: "citizen".into(),
                    name: "Công dân".into(),
                    identity_last4: None,
                    identity_hash: None,
                },
                fees: Vec::new(),
                financial_obligation: false,
                components: vec![ComponentRecord {
                    name: "Tờ khai".into(),
                    sha256: None,
                    file_url: None,
                    digitized: true,
                    reused: false,
                    from_citizen_store: true,
                }],
                vneid_verified: false,
                population_db_used: false,
                reuses_digitized_data: false,
                results: Vec::new(),
                vendor_due_at: None,
                revised_at: None,
                sync_error: None,
                portal_fields: Default::default(),
            },
            synced: None,
            rating: None,
            events,
        }
    }

    fn rating(value: Satisfaction, when: &str) -> Rating {
        Rating {
            value,
            at: at(when),
            channel: RatingChannel::Portal,
        }
    }

    const NOW: &str = "2026-03-10 12:00";

    fn judged(write: &DossierWrite, context: impl FnOnce(&mut Context<'_>)) -> Judged {
        let calendar = Calendar::national(2025, 2027);
        let mut c = Context {
            sent: write,
            calendar: &calendar,
            limit: TimeLimit::new(3.0, Measure::WorkingDays).ok(),
            kept_rule_due: None,
            stored_rating: None,
            petitioned: false,
            now: at(NOW),
        };
        context(&mut c);
        judge(write, &c).unwrap()
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let mut w = write(vec![
            ev("a", Status::Received, "2026-03-02 08:00"),
            ev("a", Status::Processing, "2026-03-02 09:00"),
        ]);
        w.rating = Some(rating(Satisfaction::Satisfied, "2099-01-01 00:00"));
        let names: Vec<String> = problems(&w, false, false, at(NOW))
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(
            names,
            ["unit", "procedureCode", "events[1].id", "rating.at"]
        );
        w.rating = None;
        w.events.truncate(1);
        assert!(problems(&w, true, true, at(NOW)).is_empty());
    }

    #[test]
    fn refused_events_are_set_aside_flagged_and_still_hashed() {
        let clean = write(vec![
            ev("r", Status::Received, "2026-03-02 08:00"),
            ev("f", Status::Finished, "2026-03-03 08:00"),
            ev("t", Status::Returned, "2026-03-04 08:00"),
        ]);
        let mut messy = clean.clone();
        messy
            .events
            .push(ev("r2", Status::Received, "2026-03-05 08:00"));
        let (kept, refused) = split_refused(messy.received_at, &messy.events);
        assert_eq!(kept, clean.events);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0.id, "r2");
        let j = judged(&messy, |_| {});
        assert_eq!(j.write.events, clean.events);
        assert!(j.flags.contains(&Flag::RefusedEvents));
        assert_eq!(j.status, Status::Returned);
        assert_eq!(j.timing, Some(Timing::FinishedEarly));
        // What was sent is hashed, refused events included: the clean push differs.
        let c = judged(&clean, |_| {});
        assert!(!c.flags.contains(&Flag::RefusedEvents));
        assert_ne!(c.input_hash, j.input_hash);
        assert_eq!(judged(&messy, |_| {}).input_hash, j.input_hash);
    }

    #[test]
    fn a_finish_dated_a_little_ahead_of_this_clock_ends_the_dossier() {
        // The sender's clock runs two minutes fast: its finish is dated after this service's
        // now, within the slack `problems` accepts.
        let w = write(vec![
            ev("r", Status::Received, "2026-03-02 08:00"),
            ev("f", Status::Finished, "2026-03-04 10:02"),
        ]);
        let now = at("2026-03-04 10:00");
        assert!(problems(&w, true, true, now).is_empty());
        let j = judged(&w, |c| c.now = now);
        assert_eq!(j.status, Status::Finished);
        assert_eq!(j.ended_at, Some(at("2026-03-04 10:02")));
        assert_eq!(j.timing, Some(Timing::FinishedEarly));
        assert_eq!(j.late_from, None);
    }

    #[test]
    fn a_clock_stop_dated_before_the_receipt_is_set_aside() {
        // Received 2 March 2026 08:00 (3 working days: due 5 March), finished 10 March: late.
        // A supplement request typed in 2000 would have added 26 years of working time to the
        // due instant (until 2026-12-07), and a finish before the receipt would make it early.
        let clean = write(vec![
            ev("n", Status::NewlyRegistered, "2026-03-01 20:00"),
            ev("r", Status::Received, "2026-03-02 07:59"),
            ev("f", Status::Finished, "2026-03-10 08:00"),
        ]);
        let mut messy = clean.clone();
        messy
            .events
            .push(ev("s", Status::SupplementRequested, "2000-03-02 09:00"));
        messy
            .events
            .push(ev("e", Status::Finished, "2026-03-01 21:00"));
        // A step a few minutes early, within the clocks' slack, is kept.
        let skewed = write(vec![
            ev("r", Status::Received, "2026-03-02 07:50"),
            ev("f", Status::Finished, "2026-03-02 07:55"),
        ]);
        assert!(
            split_refused(skewed.received_at, &skewed.events)
                .1
                .is_empty()
        );
        let (kept, refused) = split_refused(messy.received_at, &messy.events);
        assert_eq!(
            kept, clean.events,
            "the registration and a receipt step a moment early stay"
        );
        let refused: Vec<(&str, bool)> = refused
            .iter()
            .map(|(e, why)| (e.id.as_str(), why.contains("before the receipt")))
            .collect();
        assert_eq!(refused, [("s", true), ("e", true)]);
        let (j, c) = (judged(&messy, |_| {}), judged(&clean, |_| {}));
        assert!(j.flags.contains(&Flag::RefusedEvents));
        assert_eq!(j.timing, Some(Timing::FinishedLate));
        assert_eq!(
            (j.timing, j.late_from, j.ended_at),
            (c.timing, c.late_from, c.ended_at)
        );
    }

    #[test]
    fn a_push_as_before_hashes_as_before() {
        // The input hash is taken over the details' full form: a field added since must leave
        // that form as it was while unset, or every stored dossier pushed again unchanged would
        // be `updated` (a new version, an audit entry, a webhook, a relay to the portal).
        let w = write(vec![ev("r", Status::Received, "2026-03-02 08:00")]);
        assert_eq!(
            serde_json::to_string(&w.details).unwrap(),
            r#"{"submittedAt":null,"applicant":{"kind":"citizen","name":"Công dân","identityLast4":null},"fees":[],"financialObligation":false,"components":[{"name":"Tờ khai","sha256":null,"digitized":true,"reused":false,"fromCitizenStore":true}],"vneidVerified":false,"populationDbUsed":false,"results":[],"vendorDueAt":null}"#
        );
        let mut reused = w.clone();
        reused.details.reuses_digitized_data = true;
        let (plain, marked) = (judged(&w, |_| {}), judged(&reused, |_| {}));
        assert_ne!(plain.input_hash, marked.input_hash);
        assert_eq!(
            marked.facts & crate::dossier::facts::REUSED,
            crate::dossier::facts::REUSED
        );
    }

    #[test]
    fn the_later_rating_is_kept_and_changes_the_hash() {
        let old = rating(Satisfaction::Dissatisfied, "2026-03-06 08:00");
        let new = rating(Satisfaction::Satisfied, "2026-03-07 08:00");
        assert_eq!(merged_rating(Some(new), Some(old)), Some(new));
        assert_eq!(merged_rating(Some(old), Some(new)), Some(new));
        assert_eq!(merged_rating(None, Some(old)), Some(old));
        let w = write(vec![ev("r", Status::Received, "2026-03-02 08:00")]);
        let plain = judged(&w, |_| {});
        let rated = judged(&w, |c| c.stored_rating = Some(old));
        assert_eq!(rated.rating, Some(old));
        assert_ne!(plain.input_hash, rated.input_hash);
        assert_eq!(
            rated.facts & crate::dossier::facts::DISSATISFIED,
            crate::dossier::facts::DISSATISFIED
        );
    }

    #[test]
    fn a_stored_due_instant_is_kept_unless_receipt_procedure_province_or_a_recompute_change_it() {
        let w = write(vec![ev("r", Status::Received, "2026-03-02 08:00")]);
        let earlier = at("2026-03-04 08:00");
        let stored = |procedure_code| StoredDue {
            received_at: at("2026-03-02 08:00"),
            procedure_code,
            rule_due_at: Some(earlier),
        };
        assert_eq!(
            kept_rule_due(Some(stored("1.000001")), &w, true, false),
            Some(Some(earlier))
        );
        assert_eq!(
            kept_rule_due(Some(stored("1.000001")), &w, true, true),
            None
        );
        assert_eq!(
            kept_rule_due(Some(stored("2.000002")), &w, true, false),
            None
        );
        assert_eq!(
            kept_rule_due(Some(stored("1.000001")), &w, false, false),
            None
        );
        assert_eq!(kept_rule_due(None, &w, true, false), None);
        // Computed: 3 working days from Monday 08:00 is Thursday 08:00; kept: the stored one.
        let computed = judged(&w, |_| {});
        assert_eq!(computed.rule_due_at, Some(at("2026-03-05 08:00")));
        let kept = judged(&w, |c| c.kept_rule_due = Some(Some(earlier)));
        assert_eq!(kept.rule_due_at, Some(earlier));
        assert_eq!(kept.due_at, Some(earlier));
        // Open on 10 March, past either due instant: late from it.
        assert_eq!(kept.late_from, Some(earlier));
    }

    #[test]
    fn the_vendor_due_instant_times_the_dossier_and_a_disagreement_is_flagged() {
        let mut w = write(vec![ev("r", Status::Received, "2026-03-02 08:00")]);
        w.details.vendor_due_at = Some(at("2026-03-06 17:00"));
        let j = judged(&w, |_| {});
        assert_eq!(j.due_at, Some(at("2026-03-06 17:00")));
        assert_eq!(j.rule_due_at, Some(at("2026-03-05 08:00")));
        assert!(j.flags.contains(&Flag::DueDateDisagrees), "{:?}", j.flags);
    }

    #[test]
    fn facts_carry_the_petition_and_not_received() {
        let w = write(vec![
            ev("r", Status::NewlyRegistered, "2026-03-02 07:00"),
            ev("x", Status::NotAccepted, "2026-03-02 07:30"),
        ]);
        let j = judged(&w, |c| c.petitioned = true);
        use crate::dossier::facts::{
            CITIZEN_STORE, COMPONENT_FILE, COMPONENTS_DIGITIZED, PETITIONED,
        };
        assert_eq!(
            j.facts,
            CITIZEN_STORE | COMPONENTS_DIGITIZED | COMPONENT_FILE | PETITIONED | NOT_RECEIVED
        );
        assert!(j.flags.contains(&Flag::NotReceived));
    }
}
