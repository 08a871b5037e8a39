//! Intake of a pushed petition: the checks and derivations that turn a vendor's write into what
//! tthc stores, as pure functions over what storage looked up for it (the unit, the calendar,
//! the petition rules in force).
//!
//! Storage (`db::petitions`) reads, calls [`problems`], checks the dossier named (which needs
//! the store), calls [`reaction_problems`] and [`judge`], and writes what they return.

use chrono::{NaiveDateTime, TimeDelta};
use sha2::{Digest, Sha256};

use super::record::PetitionWrite;
use super::{PetitionRules, Reaction, Stages, Status, check_history, current_status, stages};
use crate::InvalidParam;
use crate::calendar::Calendar;
use crate::text::{input_hash, word};
use crate::window;

/// How long after receipt an event may be: deadlines are weeks, so years mean a typo.
pub const MAX_SPAN: TimeDelta = TimeDelta::days(3 * 366);
/// Most events a petition keeps.
pub const MAX_EVENTS: usize = 100;

/// What is wrong with a write's unit, procedure, events and instants, field by field.
/// `unit_found` and `procedure_known` say whether storage found the unit named (within the
/// caller's grant) and the procedure named (a petition naming none is fine).
pub fn problems(
    write: &PetitionWrite,
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
    if let Some(code) = write.procedure_code.as_ref().filter(|_| !procedure_known) {
        invalid.push(InvalidParam::new(
            "procedureCode",
            format!("no procedure has the code {code}"),
        ));
    }
    invalid.extend(crate::window::repeated_event_ids(
        write.events.iter().map(|e| e.id.as_str()),
    ));
    if let Err(f) = check_history(write.received_at, &write.events) {
        let i = write
            .events
            .iter()
            .position(|e| e.id == f.event_id)
            .unwrap_or(0);
        invalid.push(InvalidParam::new(format!("events[{i}].status"), f.reason));
    }
    invalid.extend(window::happened("receivedAt", write.received_at, now));
    for (i, e) in write.events.iter().enumerate() {
        if let Some(p) = window::happened(&format!("events[{i}].at"), e.at, now) {
            invalid.push(p);
        } else if e.at - write.received_at > MAX_SPAN {
            invalid.push(InvalidParam::new(
                format!("events[{i}].at"),
                "is more than three years after the receipt",
            ));
        }
    }
    if write.events.len() > MAX_EVENTS {
        invalid.push(InvalidParam::new(
            "events",
            format!("a petition keeps at most {MAX_EVENTS} events"),
        ));
    }
    invalid
}

/// What is wrong with the petitioner's reaction: one needs an answer before it, a satisfied
/// petitioner files no further petition, and a further petition is another one.
pub fn reaction_problems(write: &PetitionWrite, now: NaiveDateTime) -> Vec<InvalidParam> {
    let mut invalid = Vec::new();
    let Some(r) = &write.reaction else {
        return invalid;
    };
    invalid.extend(window::happened("reaction.at", r.at, now));
    if r.value == Reaction::Satisfied && r.further_petition.is_some() {
        invalid.push(InvalidParam::new(
            "reaction.furtherPetition",
            "a satisfied petitioner files no further petition: say dissatisfied",
        ));
    }
    // The answer as the timing reads it: the first handling, else the first publication (a
    // vendor that sends only the publication has handled the petition by then; until
    // 2026-12-07 its petitioner's reaction was refused).
    let first = |status: Status| {
        write
            .events
            .iter()
            .filter(|e| e.status == status)
            .min_by_key(|e| e.at)
    };
    match first(Status::Handled).or_else(|| first(Status::Published)) {
        None => invalid.push(InvalidParam::new(
            "reaction",
            "the petition has no answer yet (no handled or published event) to react to",
        )),
        Some(h) if r.at < h.at => invalid.push(InvalidParam::new(
            "reaction.at",
            format!("is before the answer at {}", h.at),
        )),
        Some(_) => {}
    }
    if r.further_petition.as_deref() == Some(write.code.as_str()) {
        invalid.push(InvalidParam::new(
            "reaction.furtherPetition",
            "is this petition's own code",
        ));
    }
    invalid
}

/// A petition write judged: what is stored besides the write itself.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The current status.
    pub status: Status,
    /// The stages' timing.
    pub stages: Stages,
    /// The details as stored (JSON).
    pub data: String,
    /// The hash of what was sent and of the rules it was judged with.
    pub input_hash: String,
}

/// Judges a checked write: its stages timed with the province's calendar and the petition
/// rules, at `now` (or at its last event, if that is a few minutes ahead of this clock).
pub fn judge(
    write: &PetitionWrite,
    calendar: &Calendar,
    rules: &PetitionRules,
    now: NaiveDateTime,
) -> Result<Judged, serde_json::Error> {
    let last = write.events.iter().map(|e| e.at).max().unwrap_or(now);
    let stages = stages(
        calendar,
        rules,
        write.received_at,
        &write.events,
        now.max(last),
    );
    let data = serde_json::to_string(&write.details)?;
    let events = serde_json::to_string(&write.events)?;
    // The rules are part of the hash, so that a push after they changed is judged again; so is
    // the judging's own version, so that a push after it changed is too.
    let input = format!(
        "{JUDGING}|{}|{}|{}|{:?}|{:?}|{}|{}|{:?}|{:?}|{data}|{events}",
        write.code,
        write.unit,
        word(&write.subject),
        write.procedure_code,
        write.dossier_code,
        word(&write.channel),
        write.received_at,
        write.reaction,
        rules,
    );
    Ok(Judged {
        status: current_status(&write.events),
        stages,
        data,
        input_hash: input_hash(&Sha256::digest(input.as_bytes())),
    })
}

/// The version of how a petition's stages are judged, part of its input hash: a stored
/// petition pushed again after it changed is judged again rather than answered `unchanged`.
/// 2: an information request after the handling deadline pauses nothing (2026-12-07).
const JUDGING: &str = "2";

#[cfg(test)]
mod tests {
    //! Received Monday 2 March 2026 at 08:00; handled by Monday 23 March 08:00 with the default
    //! rules (15 working days).

    use super::*;
    use crate::petition::record::{PetitionDetails, ReactionRecord};
    use crate::petition::tests::{at, ev};
    use crate::petition::{Channel, Event, PetitionCode, Subject};

    fn write(events: Vec<Event>, reaction: Option<ReactionRecord>) -> PetitionWrite {
        PetitionWrite {
            code: PetitionCode::parse("PAKN-0001").unwrap(),
            unit: "C1".into(),
            subject: Subject::Regulation,
            procedure_code: Some("1.000001".into()),
            dossier_code: None,
            channel: Channel::Portal,
            received_at: at("2026-03-02 08:00"),
            details: PetitionDetails {
                summary: "Hồ sơ trễ hạn".into(),
                outcome: None,
                answer_url: None,
            },
            reaction,
            events,
        }
    }

    const NOW: &str = "2026-04-01 12:00";

    fn names(problems: Vec<InvalidParam>) -> Vec<String> {
        problems.into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let w = write(
            vec![
                ev("1", Status::Received, "2026-03-02 08:00"),
                ev("1", Status::Handled, "2030-03-20 10:00"),
            ],
            None,
        );
        assert_eq!(
            names(problems(&w, false, false, at(NOW))),
            ["unit", "procedureCode", "events[1].id", "events[1].at"]
        );
        // A petition naming no procedure needs none found.
        let mut none = write(vec![ev("1", Status::Received, "2026-03-02 08:00")], None);
        none.procedure_code = None;
        assert!(problems(&none, true, false, at(NOW)).is_empty());
    }

    #[test]
    fn a_reaction_needs_an_earlier_answer_and_a_satisfied_one_no_further_petition() {
        let reaction = |value, when: &str, further: Option<&str>| ReactionRecord {
            value,
            at: at(when),
            further_petition: further.map(String::from),
        };
        let unanswered = write(
            vec![ev("1", Status::Received, "2026-03-02 08:00")],
            Some(reaction(Reaction::Dissatisfied, "2026-03-25 08:00", None)),
        );
        assert_eq!(names(reaction_problems(&unanswered, at(NOW))), ["reaction"]);
        let handled = vec![
            ev("1", Status::Received, "2026-03-02 08:00"),
            ev("2", Status::Handled, "2026-03-20 10:00"),
        ];
        let early = write(
            handled.clone(),
            Some(reaction(
                Reaction::Satisfied,
                "2026-03-19 08:00",
                Some("PAKN-0002"),
            )),
        );
        assert_eq!(
            names(reaction_problems(&early, at(NOW))),
            ["reaction.furtherPetition", "reaction.at"]
        );
        let itself = write(
            handled.clone(),
            Some(reaction(
                Reaction::Dissatisfied,
                "2026-03-21 08:00",
                Some("PAKN-0001"),
            )),
        );
        assert_eq!(
            names(reaction_problems(&itself, at(NOW))),
            ["reaction.furtherPetition"]
        );
        let fine = write(
            handled,
            Some(reaction(
                Reaction::Dissatisfied,
                "2026-03-21 08:00",
                Some("PAKN-0002"),
            )),
        );
        assert!(reaction_problems(&fine, at(NOW)).is_empty());
        // Answered by its publication alone (a history of one `published` event, which the
        // vendors that send only the publication push): the petitioner may react after it, not
        // before.
        let published = vec![ev("2", Status::Published, "2026-03-20 10:00")];
        let after = write(
            published.clone(),
            Some(reaction(Reaction::Satisfied, "2026-03-21 08:00", None)),
        );
        assert!(reaction_problems(&after, at(NOW)).is_empty());
        let before = write(
            published,
            Some(reaction(Reaction::Satisfied, "2026-03-19 08:00", None)),
        );
        assert_eq!(names(reaction_problems(&before, at(NOW))), ["reaction.at"]);
    }

    #[test]
    fn judged_with_the_rules_which_are_part_of_the_hash() {
        let w = write(
            vec![
                ev("1", Status::Received, "2026-03-02 08:00"),
                ev("2", Status::Handled, "2026-03-20 10:00"),
            ],
            None,
        );
        let calendar = Calendar::national(2025, 2027);
        let rules = PetitionRules::default();
        // Judged on Saturday 21 March: handled on time; late from the publication's due instant
        // if not published by then, two working days after the handling.
        let now = at("2026-03-21 12:00");
        let j = judge(&w, &calendar, &rules, now).unwrap();
        assert_eq!(j.status, Status::Handled);
        assert_eq!(j.stages.handled_at, Some(at("2026-03-20 10:00")));
        assert_eq!(j.stages.late_from, Some(at("2026-03-24 10:00")));
        assert_eq!(
            judge(&w, &calendar, &rules, now).unwrap().input_hash,
            j.input_hash
        );
        // Ten working days to handle: late from Monday 16 March 08:00.
        let strict = PetitionRules {
            handle_within: 10,
            ..rules
        };
        let s = judge(&w, &calendar, &strict, now).unwrap();
        assert_ne!(s.input_hash, j.input_hash);
        assert_eq!(s.stages.late_from, Some(at("2026-03-16 08:00")));
    }
}
