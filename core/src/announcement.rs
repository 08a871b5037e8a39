//! Announcement decisions (quyết định công bố) and their deadlines.
//!
//! A ministry announces new, amended, replaced or abolished procedures; the province must then
//! announce its own decision in time, and publish it on the national database in time. The
//! deadlines come from a rule set (defaults from practice, see `DOMAIN.md`) and are computed in
//! working days of the province's calendar.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// What a decision does to a procedure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemAction {
    /// A new procedure.
    New,
    /// An amended procedure (a new version).
    Amended,
    /// A procedure replacing another.
    Replaced,
    /// An abolished procedure (its validity ends).
    Abolished,
}

impl ItemAction {
    /// The action's name in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Amended => "amended",
            Self::Replaced => "replaced",
            Self::Abolished => "abolished",
        }
    }

    /// The action called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::New, Self::Amended, Self::Replaced, Self::Abolished]
            .into_iter()
            .find(|a| a.as_str() == name)
    }
}

/// The rule set of announcement deadlines, in working days.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"beforeEffective": 5, "afterMinistrySigned": 5, "publishAfterDecision": 5, "signatureExtendsDeadline": false})))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnnouncementRules {
    /// The province announces at least this many working days before the legal basis takes effect
    /// (`PORTAL_RULES.md` 1.1).
    pub before_effective: u32,
    /// When the legal basis's effective date is unknown, the province announces within this many
    /// working days after the ministry signed (and also when that is later than the rule above,
    /// if `signatureExtendsDeadline`).
    pub after_ministry_signed: u32,
    /// The province publishes on the national database within this many working days of its decision.
    pub publish_after_decision: u32,
    /// Whether a ministry decision signed too late for the effect rule gives the province
    /// `afterMinistrySigned` working days from its signature (the practice of seed `000_…`).
    /// The portal does not (`PORTAL_RULES.md` 1.1: on time only by the effect rule), and neither
    /// does tthc by default.
    #[serde(default)]
    pub signature_extends_deadline: bool,
}

impl Default for AnnouncementRules {
    fn default() -> Self {
        Self {
            before_effective: 5,
            after_ministry_signed: 5,
            publish_after_decision: 5,
            signature_extends_deadline: false,
        }
    }
}

/// A deadline and the rule that produced it, in words.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// The last day on time.
    pub due: NaiveDate,
    /// The rule that gave it.
    pub rule: String,
}

/// When the province must announce its decision implementing a ministry decision signed on
/// `signed`, whose legal basis takes effect on `effective` (if known): `before_effective`
/// working days before the effect, or `after_ministry_signed` working days after the signature
/// when the effect is unknown (or, with `signature_extends_deadline`, when that is later).
pub fn announcement_due(
    calendar: &Calendar,
    rules: &AnnouncementRules,
    signed: NaiveDate,
    effective: Option<NaiveDate>,
) -> Deadline {
    let after = calendar.shift_working_days(signed, i64::from(rules.after_ministry_signed));
    let after_rule = format!(
        "{} working days after the ministry signed on {signed}",
        rules.after_ministry_signed
    );
    match effective {
        Some(effective) => {
            let before = calendar.shift_working_days(effective, -i64::from(rules.before_effective));
            if before >= after || !rules.signature_extends_deadline {
                Deadline {
                    due: before,
                    rule: format!(
                        "{} working days before the legal basis takes effect on {effective}",
                        rules.before_effective
                    ),
                }
            } else {
                Deadline {
                    due: after,
                    rule: format!(
                        "{after_rule}, later than {} working days before the effect on {effective}",
                        rules.before_effective
                    ),
                }
            }
        }
        None => Deadline {
            due: after,
            rule: after_rule,
        },
    }
}

/// When a provincial decision signed on `signed` must be published on the national database.
pub fn publication_due(
    calendar: &Calendar,
    rules: &AnnouncementRules,
    signed: NaiveDate,
) -> Deadline {
    Deadline {
        due: calendar.shift_working_days(signed, i64::from(rules.publish_after_decision)),
        rule: format!(
            "{} working days after the provincial decision signed on {signed}",
            rules.publish_after_decision
        ),
    }
}

/// Working days late: the working days after `due` up to and including `done` (0 when on time).
pub fn working_days_late(calendar: &Calendar, due: NaiveDate, done: NaiveDate) -> i64 {
    calendar.working_days_in(due, done)
}

/// Working days left from `today` to `due` (the working days after today up to and including
/// the due day); negative when overdue, by the working days late.
pub fn working_days_left(calendar: &Calendar, today: NaiveDate, due: NaiveDate) -> i64 {
    if due >= today {
        calendar.working_days_in(today, due)
    } else {
        -calendar.working_days_in(due, today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cal() -> Calendar {
        Calendar::national(2024, 2026)
    }

    #[test]
    fn the_effect_alone_gives_the_deadline_as_the_portal_counts() {
        let rules = AnnouncementRules::default();
        // Effect a week after signing: the portal wants the province 5 working days before the
        // effect, which is the ministry's own signing day.
        let due = announcement_due(&cal(), &rules, d("2024-04-09"), Some(d("2024-04-16")));
        assert_eq!(due.due, d("2024-04-09"));
        assert!(due.rule.contains("before the legal basis"));
        // No effective date known: 5 working days after the signature.
        let due = announcement_due(&cal(), &rules, d("2024-04-12"), None);
        assert_eq!(due.due, d("2024-04-22"));
        // Stored rules from before the choice existed read as the portal's.
        let stored: AnnouncementRules = serde_json::from_str(
            r#"{"beforeEffective": 5, "afterMinistrySigned": 5, "publishAfterDecision": 5}"#,
        )
        .unwrap();
        assert_eq!(stored, rules);
    }

    #[test]
    fn the_later_of_the_two_rules_gives_the_deadline_when_the_signature_extends_it() {
        let rules = AnnouncementRules {
            signature_extends_deadline: true,
            ..AnnouncementRules::default()
        };
        // Signed Tuesday 9 April 2024 (the seed's 503/QĐ-BTTTT), effect far later: 5 working days
        // before the effect.
        let due = announcement_due(&cal(), &rules, d("2024-04-09"), Some(d("2024-06-03")));
        assert_eq!(due.due, d("2024-05-27"));
        assert!(due.rule.contains("before the legal basis"));
        // Effect a week after signing: 5 working days after signing (Hùng Kings' day, 18 April,
        // is skipped).
        let due = announcement_due(&cal(), &rules, d("2024-04-09"), Some(d("2024-04-16")));
        assert_eq!(due.due, d("2024-04-16"));
        assert!(due.rule.contains("after the ministry signed"));
        let due = announcement_due(&cal(), &rules, d("2024-04-12"), None);
        assert_eq!(
            due.due,
            d("2024-04-22"),
            "Friday + 5 working days, 18 April off"
        );
    }

    #[test]
    fn lateness_counts_working_days() {
        let c = cal();
        assert_eq!(working_days_late(&c, d("2024-04-17"), d("2024-04-17")), 0);
        // After the 17th: the 18th is Hùng Kings' day, the 19th and the 22nd are worked.
        assert_eq!(working_days_late(&c, d("2024-04-17"), d("2024-04-22")), 2);
        assert_eq!(working_days_left(&c, d("2024-04-15"), d("2024-04-17")), 2);
        assert_eq!(working_days_left(&c, d("2024-04-22"), d("2024-04-17")), -2);
        // 29 April (swapped), 30 April and 1 May are off.
        let publish = publication_due(&c, &AnnouncementRules::default(), d("2024-04-22"));
        assert_eq!(publish.due, d("2024-05-02"));
    }
}
