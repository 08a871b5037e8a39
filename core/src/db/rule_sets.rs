//! Rule sets of the 766 index added at run time, beside those shipped with the service.

use diesel::prelude::*;

use super::audit::{self, Actor, Change};
use super::schema::{rule_sets, score_snapshots};
use super::timestamp::Stamp;
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::InvalidParam;
use crate::scoring::{self, RuleSet, RuleSets};
use crate::version::Versions;

/// A rule set added at run time, with its row version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRuleSet {
    /// The rule set.
    pub rule_set: RuleSet,
    /// Its version (the `ETag`).
    pub version: i64,
}

/// The rule sets added at run time, oldest first. A stored body that no longer reads (edited by
/// hand) is an error, not skipped: scoring with a rule set missing would change scores.
pub fn stored(conn: &mut DbConnection) -> StoreResult<Vec<StoredRuleSet>> {
    let rows: Vec<(String, String, i64)> = rule_sets::table
        .order(rule_sets::applies_from.asc())
        .select((rule_sets::code, rule_sets::body, rule_sets::version))
        .load(conn)?;
    rows.into_iter().map(read_row).collect()
}

fn read_row((code, body, version): (String, String, i64)) -> StoreResult<StoredRuleSet> {
    let rule_set = serde_json::from_str(&body)
        .map_err(|e| StoreError::Setup(format!("stored rule set {code}: {e}")))?;
    Ok(StoredRuleSet { rule_set, version })
}

/// Every rule set: shipped and added.
pub fn catalogue(conn: &mut DbConnection) -> StoreResult<RuleSets> {
    Ok(RuleSets::with(
        stored(conn)?.into_iter().map(|s| s.rule_set).collect(),
    ))
}

/// The stored rule set `code`, if any.
pub fn find(conn: &mut DbConnection, code: &str) -> StoreResult<Option<StoredRuleSet>> {
    rule_sets::table
        .find(code)
        .select((rule_sets::code, rule_sets::body, rule_sets::version))
        .first(conn)
        .optional()?
        .map(read_row)
        .transpose()
}

/// What refuses `rule_set` as it stands, among `known` (every rule set now): the problems
/// [`RuleSet::problems`] finds, and a day of application another rule set has.
fn refusals(rule_set: &RuleSet, known: &RuleSets) -> Vec<InvalidParam> {
    let mut refused: Vec<InvalidParam> = rule_set
        .problems()
        .into_iter()
        .map(|p| InvalidParam::new("ruleSet", p))
        .collect();
    if let Some(other) = known
        .all()
        .find(|s| s.applies_from == rule_set.applies_from && s.code != rule_set.code)
    {
        refused.push(InvalidParam::new(
            "appliesFrom",
            format!(
                "rule set {} applies from {} already: one rule set applies from a day",
                other.code, other.applies_from
            ),
        ));
    }
    refused
}

/// Adds or replaces the rule set `rule_set` (its code not a shipped one), refusing a replacement
/// that `expected` does not allow or that a closed month was scored with (its snapshots would
/// change score). Returns it with its version and whether it was created. Audited.
pub fn put(
    conn: &mut DbConnection,
    actor: &Actor,
    rule_set: &RuleSet,
    expected: Option<&Versions>,
) -> StoreResult<(StoredRuleSet, bool)> {
    if scoring::is_shipped(&rule_set.code) {
        return Err(StoreError::Conflict(InvalidParam::new(
            "code",
            format!(
                "{} is shipped with the service and cannot change; add a rule set with another code that applies from a later day",
                rule_set.code
            ),
        )));
    }
    let body = serde_json::to_string(rule_set).map_err(|e| StoreError::Setup(e.to_string()))?;
    write_tx(conn, |conn| {
        // One lock for them all: a rule set is checked against the others stored.
        super::lock_record(conn, "rule_sets")?;
        let stored = stored(conn)?;
        let before = stored
            .iter()
            .find(|s| s.rule_set.code == rule_set.code)
            .cloned();
        let known = RuleSets::with(stored.into_iter().map(|s| s.rule_set).collect());
        let refused = refusals(rule_set, &known);
        if !refused.is_empty() {
            return Err(StoreError::Invalid(refused));
        }
        if let (Some(expected), Some(current)) = (expected, &before)
            && !expected.allows(current.version)
        {
            return Err(StoreError::VersionMismatch {
                current: current.version,
            });
        }
        let stamp = Stamp(super::now());
        let version = match &before {
            Some(current) => {
                if current.rule_set == *rule_set {
                    return Ok((current.clone(), false));
                }
                let scored: i64 = score_snapshots::table
                    .filter(score_snapshots::rule_set.eq(&rule_set.code))
                    .count()
                    .get_result(conn)?;
                if scored > 0 {
                    return Err(StoreError::Conflict(InvalidParam::new(
                        "code",
                        format!(
                            "closed months were scored with {}: reopen them, or add a rule set with another code",
                            rule_set.code
                        ),
                    )));
                }
                let version = current.version + 1;
                diesel::update(rule_sets::table.find(&rule_set.code))
                    .set((
                        rule_sets::applies_from.eq(rule_set.applies_from),
                        rule_sets::body.eq(&body),
                        rule_sets::version.eq(version),
                        rule_sets::updated_at.eq(stamp),
                    ))
                    .execute(conn)?;
                version
            }
            None => {
                diesel::insert_into(rule_sets::table)
                    .values((
                        rule_sets::code.eq(&rule_set.code),
                        rule_sets::applies_from.eq(rule_set.applies_from),
                        rule_sets::body.eq(&body),
                        rule_sets::version.eq(1),
                        rule_sets::updated_at.eq(stamp),
                    ))
                    .execute(conn)
                    .map_err(|e| {
                        StoreError::unique_as_conflict(
                            e,
                            "code",
                            "another request added this rule set, or one applying from the same day, at the same time",
                        )
                    })?;
                1
            }
        };
        audit::record(
            conn,
            actor,
            &Change {
                action: if before.is_some() { "update" } else { "create" },
                resource_type: "ruleSet",
                resource_id: &rule_set.code,
                before: before.as_ref().map(|b| &b.rule_set),
                after: Some(rule_set),
            },
        )?;
        Ok((
            StoredRuleSet {
                rule_set: rule_set.clone(),
                version,
            },
            before.is_none(),
        ))
    })
}
