//! Storage of announcement decisions, their deadlines, their application to the catalogue, and
//! the compliance views built on them.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit::{self, Actor, Change};
use super::procedures::{self, Outcome, ProcedureWrite};
use super::schema::{announcement_items, announcement_links, announcements, units};
use super::units::UnitRow;
use super::{DbConnection, StoreError, StoreResult, calendars, settings, write_tx};
use crate::InvalidParam;
use crate::announcement::{
    AnnouncementRules, Deadline, ItemAction, announcement_due, publication_due, working_days_late,
    working_days_left,
};
use crate::calendar::Calendar;
use crate::procedure::{ProcedureCode, ProcedureContent, ProcessDecision};
use crate::unit::UnitScope;
use crate::version::Versions;

/// Whose decision it is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DecisionKind {
    /// A ministry's decision announcing national procedures.
    Ministry,
    /// The province's decision announcing its procedures.
    Province,
}

impl DecisionKind {
    /// The kind's name in storage and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ministry => "ministry",
            Self::Province => "province",
        }
    }
}

/// An item of a decision: what it does to which procedure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionItem {
    /// The procedure.
    pub procedure_code: ProcedureCode,
    /// What the decision does to it.
    pub action: ItemAction,
    /// Its name as written in the decision.
    pub name: Option<String>,
    /// For `replaced`: the procedure replaced.
    pub replaces: Option<ProcedureCode>,
    /// For a provincial decision's new, amended and replaced items: the procedure's content.
    pub content: Option<ProcedureContent>,
}

/// A decision to store.
#[derive(Debug, Clone)]
pub struct DecisionWrite {
    /// Ministry or province.
    pub kind: DecisionKind,
    /// Decision number, unique (e.g. `503/QĐ-BTTTT`).
    pub number: String,
    /// Title.
    pub title: String,
    /// Issuing ministry, or the province's code.
    pub issuer: String,
    /// Signed on.
    pub signed_on: NaiveDate,
    /// When the legal basis (ministry) or the decision (province) takes effect.
    pub effective_on: Option<NaiveDate>,
    /// Ministry: the unit that should submit the provincial decision. Province: the unit that did.
    pub unit: Option<String>,
    /// Province: numbers of the ministry decisions it implements.
    pub implements: Vec<String>,
    /// Province: the decision approving the internal process.
    pub internal_process: Option<(String, NaiveDate)>,
    /// Province: published on the national database.
    pub published_on: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
    /// Items.
    pub items: Vec<DecisionItem>,
}

/// Another decision, named.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRef {
    /// Id.
    pub id: i64,
    /// Number.
    pub number: String,
    /// Signed on.
    pub signed_on: NaiveDate,
}

/// A stored decision.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": 7, "kind": "ministry", "number": "503/QĐ-BTTTT", "title": "Công bố thủ tục hành chính được sửa đổi, bổ sung lĩnh vực Xuất bản, In và Phát hành", "issuer": "Bộ Thông tin và Truyền thông", "signedOn": "2024-04-09", "effectiveOn": "2024-06-03", "unit": "000.00.10.H12", "implements": [], "implementedBy": [{"id": 9, "number": "812/QĐ-UBND", "signedOn": "2024-04-24"}], "internalProcessNumber": null, "internalProcessOn": null, "publishedOn": null, "notes": "Tờ trình số 41/TTr-STTTT ngày 22/4/2024", "announcementDue": {"due": "2024-05-27", "rule": "5 working days before the legal basis takes effect on 2024-06-03"}, "publicationDue": null, "appliedAt": null, "items": [{"procedureCode": "1.004650", "action": "amended", "name": "Cấp giấy phép xuất bản bản tin", "replaces": null, "content": null}], "version": 1})))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Id.
    pub id: i64,
    /// Ministry or province.
    pub kind: DecisionKind,
    /// Number.
    pub number: String,
    /// Title.
    pub title: String,
    /// Issuer.
    pub issuer: String,
    /// Signed on.
    pub signed_on: NaiveDate,
    /// Takes effect on.
    pub effective_on: Option<NaiveDate>,
    /// The unit that should submit (ministry) or that submitted (province).
    pub unit: Option<String>,
    /// Province: the ministry decisions it implements.
    pub implements: Vec<DecisionRef>,
    /// Ministry: the provincial decisions implementing it.
    pub implemented_by: Vec<DecisionRef>,
    /// Internal-process decision number.
    pub internal_process_number: Option<String>,
    /// Internal-process decision date.
    pub internal_process_on: Option<NaiveDate>,
    /// Published on the national database.
    pub published_on: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
    /// Ministry: when the province must announce.
    pub announcement_due: Option<Deadline>,
    /// Province: when it must be published on the national database.
    pub publication_due: Option<Deadline>,
    /// When it was applied to the catalogue.
    pub applied_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Items.
    pub items: Vec<DecisionItem>,
    /// Row version, the API's `ETag`.
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = announcements)]
struct Row {
    id: i64,
    kind: String,
    number: String,
    title: String,
    issuer: String,
    signed_on: NaiveDate,
    effective_on: Option<NaiveDate>,
    unit_id: Option<i64>,
    internal_process_number: Option<String>,
    internal_process_on: Option<NaiveDate>,
    published_on: Option<NaiveDate>,
    notes: Option<String>,
    announce_due: Option<NaiveDate>,
    announce_rule: Option<String>,
    publish_due: Option<NaiveDate>,
    publish_rule: Option<String>,
    applied_at: Option<NaiveDateTime>,
    version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = announcement_items)]
struct ItemRow {
    procedure_code: String,
    action: String,
    name: Option<String>,
    replaces: Option<String>,
    content: Option<String>,
}

const RULES_KEY: &str = "announcement_rules";

/// The rule set in force (the defaults until changed).
pub fn rules(conn: &mut DbConnection) -> StoreResult<AnnouncementRules> {
    Ok(settings::get(conn, RULES_KEY)?
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

/// Replaces the rule set. Deadlines already stored keep the rule that produced them; decisions
/// created or changed later use the new one. Audited.
pub fn put_rules(
    conn: &mut DbConnection,
    actor: &Actor,
    new: &AnnouncementRules,
) -> StoreResult<AnnouncementRules> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("setting:{RULES_KEY}"))?;
        let before = rules(conn)?;
        let text = serde_json::to_string(new).map_err(|e| StoreError::Setup(e.to_string()))?;
        settings::put(conn, RULES_KEY, &text)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "update",
                resource_type: "announcementRules",
                resource_id: RULES_KEY,
                before: Some(&before),
                after: Some(new),
            },
        )?;
        Ok(*new)
    })
}

fn not_found(id: impl ToString) -> StoreError {
    StoreError::NotFound {
        resource: "announcement",
        id: id.to_string(),
    }
}

fn unit_by_id(conn: &mut DbConnection, id: Option<i64>) -> StoreResult<Option<UnitRow>> {
    match id {
        None => Ok(None),
        Some(id) => Ok(units::table
            .find(id)
            .select(UnitRow::as_select())
            .first(conn)
            .optional()?),
    }
}

/// The calendar of the province a unit belongs to (national without unit), over `from..=to`.
fn calendar_of(
    conn: &mut DbConnection,
    unit: Option<&UnitRow>,
    from: i32,
    to: i32,
) -> StoreResult<Calendar> {
    let province = match unit {
        Some(u) => calendars::province_of(conn, u)?,
        None => None,
    };
    calendars::calendar_for(conn, province.as_ref(), from, to)
}

fn refs(conn: &mut DbConnection, ids: Vec<i64>) -> StoreResult<Vec<DecisionRef>> {
    let rows: Vec<(i64, String, NaiveDate)> = announcements::table
        .filter(announcements::id.eq_any(ids))
        .order(announcements::signed_on.asc())
        .select((
            announcements::id,
            announcements::number,
            announcements::signed_on,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, number, signed_on)| DecisionRef {
            id,
            number,
            signed_on,
        })
        .collect())
}

fn decision_of(conn: &mut DbConnection, row: Row) -> StoreResult<Decision> {
    let items: Vec<ItemRow> = announcement_items::table
        .filter(announcement_items::announcement_id.eq(row.id))
        .order(announcement_items::position.asc())
        .select(ItemRow::as_select())
        .load(conn)?;
    let items = items
        .into_iter()
        .map(|i| {
            let bad =
                |what: &str| StoreError::Setup(format!("announcement {} item {what}", row.id));
            Ok(DecisionItem {
                procedure_code: ProcedureCode::parse(&i.procedure_code).map_err(|_| bad("code"))?,
                action: ItemAction::parse(&i.action).ok_or_else(|| bad("action"))?,
                name: i.name,
                replaces: i
                    .replaces
                    .map(|r| ProcedureCode::parse(&r))
                    .transpose()
                    .map_err(|_| bad("replaces"))?,
                content: i
                    .content
                    .map(|c| serde_json::from_str(&c))
                    .transpose()
                    .map_err(|_| bad("content"))?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let implements: Vec<i64> = announcement_links::table
        .filter(announcement_links::province_decision_id.eq(row.id))
        .select(announcement_links::ministry_decision_id)
        .load(conn)?;
    let implemented_by: Vec<i64> = announcement_links::table
        .filter(announcement_links::ministry_decision_id.eq(row.id))
        .select(announcement_links::province_decision_id)
        .load(conn)?;
    let unit = unit_by_id(conn, row.unit_id)?.map(|u| u.code);
    Ok(Decision {
        id: row.id,
        kind: if row.kind == "ministry" {
            DecisionKind::Ministry
        } else {
            DecisionKind::Province
        },
        number: row.number,
        title: row.title,
        issuer: row.issuer,
        signed_on: row.signed_on,
        effective_on: row.effective_on,
        unit,
        implements: refs(conn, implements)?,
        implemented_by: refs(conn, implemented_by)?,
        internal_process_number: row.internal_process_number,
        internal_process_on: row.internal_process_on,
        published_on: row.published_on,
        notes: row.notes,
        announcement_due: row.announce_due.map(|due| Deadline {
            due,
            rule: row.announce_rule.clone().unwrap_or_default(),
        }),
        publication_due: row.publish_due.map(|due| Deadline {
            due,
            rule: row.publish_rule.clone().unwrap_or_default(),
        }),
        applied_at: row.applied_at.map(|t| t.and_utc()),
        items,
        version: row.version,
    })
}

fn find(conn: &mut DbConnection, id: i64) -> StoreResult<Option<Row>> {
    Ok(announcements::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?)
}

/// Decision `id`, if its unit is in `scope` (decisions without a unit are visible to all).
pub fn get(conn: &mut DbConnection, scope: &UnitScope, id: i64) -> StoreResult<Decision> {
    let row = find(conn, id)?.ok_or_else(|| not_found(id))?;
    if !visible(conn, scope, row.unit_id)? {
        return Err(not_found(id));
    }
    decision_of(conn, row)
}

fn visible(conn: &mut DbConnection, scope: &UnitScope, unit_id: Option<i64>) -> StoreResult<bool> {
    Ok(match (scope, unit_by_id(conn, unit_id)?) {
        (UnitScope::All, _) | (_, None) => true,
        (_, Some(unit)) => scope.allows(&unit.path),
    })
}

/// Decision `decision`, visible in `scope`, as a record the caller may change: one of no unit
/// is the whole province's, seen by every unit and changed only by a caller granted every
/// unit (403).
fn writable(scope: &UnitScope, decision: &Decision) -> StoreResult<()> {
    if decision.unit.is_none() && !matches!(scope, UnitScope::All) {
        return Err(StoreError::OutsideGrant(format!(
            "decision {} belongs to no unit (the whole province's): only a client granted \
             every unit changes it",
            decision.number
        )));
    }
    Ok(())
}

/// Decisions of `kind` (or all) visible in `scope`, newest first, before the cursor id.
pub fn list(
    conn: &mut DbConnection,
    scope: &UnitScope,
    kind: Option<DecisionKind>,
    before_id: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<Decision>> {
    let mut q = announcements::table
        .select(Row::as_select())
        .order(announcements::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(kind) = kind {
        q = q.filter(announcements::kind.eq(kind.as_str()));
    }
    if let Some(before) = before_id {
        q = q.filter(announcements::id.lt(before));
    }
    if let Some(ids) = super::units::ids_in_scope(conn, scope)? {
        q = q.filter(
            announcements::unit_id
                .is_null()
                .or(announcements::unit_id.eq_any(ids)),
        );
    }
    let rows: Vec<Row> = q.load(conn)?;
    rows.into_iter().map(|row| decision_of(conn, row)).collect()
}

fn check_write(
    conn: &mut DbConnection,
    scope: &UnitScope,
    write: &DecisionWrite,
) -> StoreResult<(Option<UnitRow>, Vec<i64>)> {
    let mut invalid = Vec::new();
    let unit = match &write.unit {
        // A decision of no unit is the whole province's (every unit sees it): only a caller
        // granted every unit makes one.
        None if !matches!(scope, UnitScope::All) => {
            invalid.push(InvalidParam::new(
                "unit",
                "a caller limited to some units names one of them",
            ));
            None
        }
        None => None,
        Some(code) => {
            let row = super::units::find_row(conn, code)?.filter(|u| scope.allows(&u.path));
            if row.is_none() {
                invalid.push(InvalidParam::new(
                    "unit",
                    format!("no unit has the code {code}"),
                ));
            }
            row
        }
    };
    // Deadlines are counted in working days over the years between these dates.
    let days = [
        Some(("signedOn", write.signed_on)),
        write.effective_on.map(|d| ("effectiveOn", d)),
        write
            .internal_process
            .as_ref()
            .map(|(_, d)| ("internalProcess.date", *d)),
        write.published_on.map(|d| ("publishedOn", d)),
    ];
    for (name, day) in days.into_iter().flatten() {
        invalid.extend(crate::window::due(
            name,
            day.and_time(chrono::NaiveTime::MIN),
        ));
    }
    let mut links = Vec::new();
    if write.kind == DecisionKind::Ministry && !write.implements.is_empty() {
        invalid.push(InvalidParam::new(
            "implements",
            "only a provincial decision implements ministry decisions",
        ));
    }
    for (i, number) in write.implements.iter().enumerate() {
        let found: Option<(i64, Option<i64>)> = announcements::table
            .filter(announcements::number.eq(number))
            .filter(announcements::kind.eq("ministry"))
            .select((announcements::id, announcements::unit_id))
            .first(conn)
            .optional()?;
        // Another unit's decision is answered as none: linking it would mark it announced.
        let id = match found {
            Some((id, unit_id)) if visible(conn, scope, unit_id)? => Some(id),
            _ => None,
        };
        match id {
            // A second link to one decision broke the links' primary key: a 500.
            Some(id) if links.contains(&id) => invalid.push(InvalidParam::new(
                format!("implements[{i}]"),
                format!("repeats {number}"),
            )),
            Some(id) => links.push(id),
            None => invalid.push(InvalidParam::new(
                format!("implements[{i}]"),
                format!("no ministry decision has the number {number}"),
            )),
        }
    }
    for (i, item) in write.items.iter().enumerate() {
        let needs_content =
            write.kind == DecisionKind::Province && item.action != ItemAction::Abolished;
        if needs_content && item.content.is_none() {
            invalid.push(InvalidParam::new(
                format!("items[{i}].content"),
                "a provincial decision gives the content of new, amended and replaced procedures",
            ));
        }
        if item.action == ItemAction::Replaced && item.replaces.is_none() {
            invalid.push(InvalidParam::new(
                format!("items[{i}].replaces"),
                "a replacing item names the procedure it replaces",
            ));
        }
    }
    if let Some(effective) = write.effective_on
        && write.kind == DecisionKind::Province
        && effective < write.signed_on
    {
        invalid.push(InvalidParam::new(
            "effectiveOn",
            "must not be before signedOn",
        ));
    }
    if invalid.is_empty() {
        Ok((unit, links))
    } else {
        Err(StoreError::Invalid(invalid))
    }
}

type Deadlines = (Option<Deadline>, Option<Deadline>);

fn deadlines(
    conn: &mut DbConnection,
    write: &DecisionWrite,
    unit: Option<&UnitRow>,
) -> StoreResult<Deadlines> {
    let rules = rules(conn)?;
    let year = write.signed_on.year();
    let last = write.effective_on.map_or(year, |e| e.year()).max(year) + 1;
    let calendar = calendar_of(conn, unit, year - 1, last)?;
    Ok(match write.kind {
        DecisionKind::Ministry => (
            Some(announcement_due(
                &calendar,
                &rules,
                write.signed_on,
                write.effective_on,
            )),
            None,
        ),
        DecisionKind::Province => (
            None,
            Some(publication_due(&calendar, &rules, write.signed_on)),
        ),
    })
}

fn store_children(
    conn: &mut DbConnection,
    id: i64,
    write: &DecisionWrite,
    links: &[i64],
) -> StoreResult<()> {
    diesel::delete(announcement_items::table.filter(announcement_items::announcement_id.eq(id)))
        .execute(conn)?;
    diesel::delete(
        announcement_links::table.filter(announcement_links::province_decision_id.eq(id)),
    )
    .execute(conn)?;
    for (i, item) in write.items.iter().enumerate() {
        let content = item
            .content
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Setup(e.to_string()))?;
        diesel::insert_into(announcement_items::table)
            .values((
                announcement_items::announcement_id.eq(id),
                announcement_items::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
                announcement_items::procedure_code.eq(item.procedure_code.as_str()),
                announcement_items::action.eq(item.action.as_str()),
                announcement_items::name.eq(&item.name),
                announcement_items::replaces.eq(item.replaces.as_ref().map(ProcedureCode::as_str)),
                announcement_items::content.eq(content),
            ))
            .execute(conn)?;
    }
    for ministry in links {
        diesel::insert_into(announcement_links::table)
            .values((
                announcement_links::province_decision_id.eq(id),
                announcement_links::ministry_decision_id.eq(ministry),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The columns a decision's write sets, for both insert and update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = announcements, treat_none_as_null = true)]
struct DecisionColumns<'a> {
    number: &'a str,
    title: &'a str,
    issuer: &'a str,
    signed_on: NaiveDate,
    effective_on: Option<NaiveDate>,
    unit_id: Option<i64>,
    internal_process_number: Option<&'a str>,
    internal_process_on: Option<NaiveDate>,
    published_on: Option<NaiveDate>,
    notes: Option<&'a str>,
    announce_due: Option<NaiveDate>,
    announce_rule: Option<String>,
    publish_due: Option<NaiveDate>,
    publish_rule: Option<String>,
    version: i64,
    updated_at: NaiveDateTime,
}

fn columns<'a>(
    write: &'a DecisionWrite,
    unit: Option<&UnitRow>,
    announce: Option<Deadline>,
    publish: Option<Deadline>,
    version: i64,
    now: NaiveDateTime,
) -> DecisionColumns<'a> {
    DecisionColumns {
        number: &write.number,
        title: &write.title,
        issuer: &write.issuer,
        signed_on: write.signed_on,
        effective_on: write.effective_on,
        unit_id: unit.map(|u| u.id),
        internal_process_number: write.internal_process.as_ref().map(|p| p.0.as_str()),
        internal_process_on: write.internal_process.as_ref().map(|p| p.1),
        published_on: write.published_on,
        notes: write.notes.as_deref(),
        announce_due: announce.as_ref().map(|d| d.due),
        announce_rule: announce.map(|d| d.rule),
        publish_due: publish.as_ref().map(|d| d.due),
        publish_rule: publish.map(|d| d.rule),
        version,
        updated_at: now,
    }
}

/// Creates a decision, computing its deadline with the rule set in force. Audited.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    write: &DecisionWrite,
) -> StoreResult<Decision> {
    write_tx(conn, |conn| {
        let (unit, links) = check_write(conn, scope, write)?;
        let (announce, publish) = deadlines(conn, write, unit.as_ref())?;
        let now = super::now();
        diesel::insert_into(announcements::table)
            .values((
                announcements::kind.eq(write.kind.as_str()),
                announcements::created_at.eq(now),
                columns(write, unit.as_ref(), announce, publish, 1, now),
            ))
            .execute(conn)
            .map_err(|e| {
                StoreError::unique_as_conflict(
                    e,
                    "number",
                    &format!("a decision numbered {} exists already", write.number),
                )
            })?;
        let id: i64 = announcements::table
            .filter(announcements::number.eq(&write.number))
            .select(announcements::id)
            .first(conn)?;
        store_children(conn, id, write, &links)?;
        let created = get(conn, &UnitScope::All, id)?;
        audit::record_in_unit(
            conn,
            actor,
            unit.as_ref().map(|u| u.path.as_str()),
            &Change {
                action: "create",
                resource_type: "announcement",
                resource_id: &id.to_string(),
                before: None,
                after: Some(&created),
            },
        )?;
        Ok(created)
    })
}

/// Replaces decision `id`; an applied decision keeps its items. Deadlines are recomputed with
/// the rule set in force. Audited.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    id: i64,
    write: &DecisionWrite,
    expected_version: Option<&Versions>,
) -> StoreResult<Decision> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("announcement:{id}"))?;
        let before = get(conn, scope, id)?;
        writable(scope, &before)?;
        if let Some(expected) = expected_version
            && !expected.allows(before.version)
        {
            return Err(StoreError::VersionMismatch {
                current: before.version,
            });
        }
        if before.kind != write.kind {
            return Err(StoreError::invalid(InvalidParam::new(
                "kind",
                "a decision's kind cannot change",
            )));
        }
        if before.applied_at.is_some() && before.items != write.items {
            return Err(StoreError::Conflict(InvalidParam::new(
                "items",
                "the decision was applied to the catalogue; its items cannot change",
            )));
        }
        let (unit, links) = check_write(conn, scope, write)?;
        let (announce, publish) = deadlines(conn, write, unit.as_ref())?;
        diesel::update(announcements::table.find(id))
            .set(columns(
                write,
                unit.as_ref(),
                announce,
                publish,
                before.version + 1,
                super::now(),
            ))
            .execute(conn)
            .map_err(|e| {
                StoreError::unique_as_conflict(
                    e,
                    "number",
                    &format!("a decision numbered {} exists already", write.number),
                )
            })?;
        store_children(conn, id, write, &links)?;
        if before.applied_at.is_some()
            && let Some(on) = write.published_on
        {
            let codes: Vec<String> = write
                .items
                .iter()
                .map(|i| i.procedure_code.to_string())
                .collect();
            procedures::mark_published_in(conn, actor, scope, &codes, on)?;
        }
        let after = get(conn, &UnitScope::All, id)?;
        audit::record_in_unit(
            conn,
            actor,
            unit.as_ref().map(|u| u.path.as_str()),
            &Change {
                action: "update",
                resource_type: "announcement",
                resource_id: &id.to_string(),
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        Ok(after)
    })
}

/// What applying a decision did to one procedure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"procedureCode": "1.004650.H12", "action": "amended", "result": "updated"})))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedItem {
    /// The procedure.
    pub procedure_code: String,
    /// The item's action.
    pub action: ItemAction,
    /// `created`, `updated`, `unchanged` or `abolished`.
    pub result: String,
}

fn item_error(i: usize) -> impl Fn(StoreError) -> StoreError {
    move |e| match e {
        StoreError::Invalid(params) => StoreError::Invalid(
            params
                .into_iter()
                .map(|p| InvalidParam::new(format!("items[{i}].{}", p.name), p.reason))
                .collect(),
        ),
        StoreError::NotFound { resource, id } => StoreError::invalid(InvalidParam::new(
            format!("items[{i}].procedureCode"),
            format!("no {resource} {id} to change"),
        )),
        other => other,
    }
}

/// Applies provincial decision `id` to the catalogue in one transaction: new and replacing
/// procedures are created, amended ones get a new version, replaced and abolished ones end.
/// Versions take effect on the decision's effective day (its signature when none). Audited.
pub fn apply(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    id: i64,
) -> StoreResult<Vec<AppliedItem>> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("announcement:{id}"))?;
        let decision = get(conn, scope, id)?;
        writable(scope, &decision)?;
        if decision.kind != DecisionKind::Province {
            return Err(StoreError::Conflict(InvalidParam::new(
                "kind",
                "only a provincial decision is applied to the catalogue",
            )));
        }
        if decision.applied_at.is_some() {
            return Err(StoreError::Conflict(InvalidParam::new(
                "appliedAt",
                "the decision was applied already",
            )));
        }
        procedures::lock(
            conn,
            decision.items.iter().flat_map(|i| {
                std::iter::once(i.procedure_code.as_str())
                    .chain(i.replaces.as_ref().map(|r| r.as_str()))
            }),
        )?;
        let on = decision.effective_on.unwrap_or(decision.signed_on);
        let mut results = Vec::new();
        for (i, item) in decision.items.iter().enumerate() {
            let result = match (item.action, &item.content) {
                (ItemAction::Abolished, _) => {
                    procedures::abolish_in(conn, actor, scope, item.procedure_code.as_str(), on)
                        .map_err(item_error(i))?;
                    "abolished"
                }
                (_, Some(content)) => {
                    if let (ItemAction::Replaced, Some(old)) = (item.action, &item.replaces) {
                        procedures::abolish_in(conn, actor, scope, old.as_str(), on)
                            .map_err(item_error(i))?;
                    }
                    let mut content = content.clone();
                    // The decision approving the internal process covers the decision's procedures.
                    if content.internal_process.is_none()
                        && let (Some(number), Some(date)) = (
                            &decision.internal_process_number,
                            decision.internal_process_on,
                        )
                    {
                        content.internal_process = Some(ProcessDecision {
                            number: number.clone(),
                            date,
                        });
                    }
                    let write = ProcedureWrite {
                        code: item.procedure_code.clone(),
                        content,
                        valid_from: on,
                        decision: Some(decision.number.clone()),
                        published_on: decision.published_on.map(Some),
                    };
                    match procedures::write_in(conn, actor, scope, &write).map_err(item_error(i))? {
                        Outcome::Created => "created",
                        Outcome::Updated => "updated",
                        Outcome::Unchanged => "unchanged",
                    }
                }
                (_, None) => {
                    return Err(StoreError::invalid(InvalidParam::new(
                        format!("items[{i}].content"),
                        "missing",
                    )));
                }
            };
            results.push(AppliedItem {
                procedure_code: item.procedure_code.to_string(),
                action: item.action,
                result: result.into(),
            });
        }
        diesel::update(announcements::table.find(id))
            .set((
                announcements::applied_at.eq(super::now()),
                announcements::version.eq(decision.version + 1),
            ))
            .execute(conn)?;
        let applied = get(conn, &UnitScope::All, id)?;
        let unit_path = match &applied.unit {
            Some(code) => super::units::find_row(conn, code)?.map(|u| u.path),
            None => None,
        };
        audit::record_in_unit(
            conn,
            actor,
            unit_path.as_deref(),
            &Change {
                action: "apply",
                resource_type: "announcement",
                resource_id: &id.to_string(),
                before: Some(&decision),
                after: Some(&applied),
            },
        )?;
        Ok(results)
    })
}

/// A unit, named.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A ministry decision the province announced late, or has not announced past its deadline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"ministryDecision": {"id": 7, "number": "503/QĐ-BTTTT", "signedOn": "2024-04-09"}, "title": "Công bố thủ tục hành chính được sửa đổi, bổ sung", "ministry": "Bộ Thông tin và Truyền thông", "unit": {"code": "000.00.10.H12", "name": "Sở Thông tin và Truyền thông"}, "due": "2024-04-16", "rule": "5 working days after the ministry signed on 2024-04-09", "announcedBy": {"id": 9, "number": "812/QĐ-UBND", "signedOn": "2024-04-24"}, "workingDaysLate": 5, "notes": "Tờ trình số 41/TTr-STTTT ngày 22/4/2024"})))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LateAnnouncement {
    /// The ministry decision.
    pub ministry_decision: DecisionRef,
    /// Its title.
    pub title: String,
    /// The ministry.
    pub ministry: String,
    /// The unit that should submit the provincial decision.
    pub unit: Option<UnitRef>,
    /// The deadline.
    pub due: NaiveDate,
    /// The rule that gave it.
    pub rule: String,
    /// The provincial decision that announced it, if any.
    pub announced_by: Option<DecisionRef>,
    /// Working days late (until today when not announced).
    pub working_days_late: i64,
    /// Notes of the ministry decision and the provincial one.
    pub notes: Option<String>,
}

/// A ministry decision the province has not announced yet.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"ministryDecision": {"id": 8, "number": "1234/QĐ-BTP", "signedOn": "2026-11-16"}, "title": "Công bố thủ tục hành chính mới lĩnh vực hộ tịch", "ministry": "Bộ Tư pháp", "unit": {"code": "000.00.02.H12", "name": "Sở Tư pháp"}, "due": "2026-11-23", "rule": "5 working days after the ministry signed on 2026-11-16", "workingDaysLeft": 1})))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingAnnouncement {
    /// The ministry decision.
    pub ministry_decision: DecisionRef,
    /// Its title.
    pub title: String,
    /// The ministry.
    pub ministry: String,
    /// The unit that should submit the provincial decision.
    pub unit: Option<UnitRef>,
    /// The deadline.
    pub due: NaiveDate,
    /// The rule that gave it.
    pub rule: String,
    /// Working days left; negative when overdue.
    pub working_days_left: i64,
}

/// How a provincial decision's procedure stands on the national database.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"decision": {"id": 9, "number": "812/QĐ-UBND", "signedOn": "2024-04-24"}, "unit": {"code": "000.00.10.H12", "name": "Sở Thông tin và Truyền thông"}, "procedureCode": "1.004650.H12", "name": "Cấp giấy phép xuất bản bản tin", "due": "2024-05-06", "rule": "5 working days after the provincial decision signed on 2024-04-24", "publishedOn": "2024-05-10", "status": "late", "workingDaysLate": 3})))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicationStatus {
    /// The provincial decision.
    pub decision: DecisionRef,
    /// The unit that submitted it.
    pub unit: Option<UnitRef>,
    /// The procedure.
    pub procedure_code: String,
    /// The procedure's name as written in the decision.
    pub name: Option<String>,
    /// The deadline for publication.
    pub due: NaiveDate,
    /// The rule that gave it.
    pub rule: String,
    /// Published on.
    pub published_on: Option<NaiveDate>,
    /// `onTime`, `late`, `notPublished` (past due) or `notDueYet`.
    pub status: String,
    /// Working days late (until today when not published).
    pub working_days_late: i64,
}

/// Calendars by province, built once per view.
struct Calendars {
    from: i32,
    to: i32,
    by_province: HashMap<Option<i64>, Calendar>,
}

impl Calendars {
    fn new(from: i32, to: i32) -> Self {
        Self {
            from,
            to,
            by_province: HashMap::new(),
        }
    }

    fn of(&mut self, conn: &mut DbConnection, unit: Option<&UnitRow>) -> StoreResult<&Calendar> {
        let province = match unit {
            Some(u) => calendars::province_of(conn, u)?,
            None => None,
        };
        let key = province.as_ref().map(|p| p.id);
        if !self.by_province.contains_key(&key) {
            let calendar = calendars::calendar_for(conn, province.as_ref(), self.from, self.to)?;
            self.by_province.insert(key, calendar);
        }
        self.by_province
            .get(&key)
            .ok_or_else(|| StoreError::Setup("calendar cache".into()))
    }
}

fn rows_of_kind(
    conn: &mut DbConnection,
    scope: &UnitScope,
    kind: DecisionKind,
) -> StoreResult<Vec<(Row, Option<UnitRow>)>> {
    let mut q = announcements::table
        .filter(announcements::kind.eq(kind.as_str()))
        .select(Row::as_select())
        .order((announcements::signed_on.asc(), announcements::id.asc()))
        .into_boxed();
    if let Some(ids) = super::units::ids_in_scope(conn, scope)? {
        q = q.filter(
            announcements::unit_id
                .is_null()
                .or(announcements::unit_id.eq_any(ids)),
        );
    }
    let rows: Vec<Row> = q.load(conn)?;
    rows.into_iter()
        .map(|r| {
            let unit = unit_by_id(conn, r.unit_id)?;
            Ok((r, unit))
        })
        .collect()
}

/// A provincial decision announcing a ministry decision: its reference, notes and unit id.
type Announcing = (DecisionRef, Option<String>, Option<i64>);

/// The provincial decision that first announced ministry decision `ministry_id`.
fn first_announcement(
    conn: &mut DbConnection,
    ministry_id: i64,
) -> StoreResult<Option<Announcing>> {
    let province_ids: Vec<i64> = announcement_links::table
        .filter(announcement_links::ministry_decision_id.eq(ministry_id))
        .select(announcement_links::province_decision_id)
        .load(conn)?;
    type First = (i64, String, NaiveDate, Option<String>, Option<i64>);
    let first: Option<First> = announcements::table
        .filter(announcements::id.eq_any(province_ids))
        .order((announcements::signed_on.asc(), announcements::id.asc()))
        .select((
            announcements::id,
            announcements::number,
            announcements::signed_on,
            announcements::notes,
            announcements::unit_id,
        ))
        .first(conn)
        .optional()?;
    Ok(first.map(|(id, number, signed_on, notes, unit_id)| {
        (
            DecisionRef {
                id,
                number,
                signed_on,
            },
            notes,
            unit_id,
        )
    }))
}

fn decision_ref(row: &Row) -> DecisionRef {
    DecisionRef {
        id: row.id,
        number: row.number.clone(),
        signed_on: row.signed_on,
    }
}

fn unit_ref(unit: Option<&UnitRow>) -> Option<UnitRef> {
    unit.map(|u| UnitRef {
        code: u.code.clone(),
        name: u.name.clone(),
    })
}

/// The years a view as of `today` walks: from the earliest signature to the latest deadline,
/// and today's.
fn years(today: NaiveDate, rows: &[(Row, Option<UnitRow>)]) -> (i32, i32) {
    let first = rows
        .iter()
        .map(|(r, _)| r.signed_on.year())
        .min()
        .unwrap_or(today.year());
    let last = rows
        .iter()
        .flat_map(|(r, _)| [r.announce_due, r.publish_due])
        .flatten()
        .map(|d| d.year())
        .max()
        .unwrap_or(today.year());
    (first.min(today.year()) - 1, last.max(today.year()) + 1)
}

/// Ministry decisions announced late, or not announced past their deadline, as of `today`.
pub fn late(
    conn: &mut DbConnection,
    scope: &UnitScope,
    today: NaiveDate,
) -> StoreResult<Vec<LateAnnouncement>> {
    let rows = rows_of_kind(conn, scope, DecisionKind::Ministry)?;
    let (from, to) = years(today, &rows);
    let mut calendars = Calendars::new(from, to);
    let seen = super::units::ids_in_scope(conn, scope)?;
    let mut out = Vec::new();
    for (row, unit) in rows {
        let Some(due) = row.announce_due else {
            continue;
        };
        let announced = first_announcement(conn, row.id)?;
        let done = announced.as_ref().map_or(today, |(r, _, _)| r.signed_on);
        let calendar = calendars.of(conn, unit.as_ref())?;
        let days = working_days_late(calendar, due, done);
        if done <= due || days == 0 {
            continue;
        }
        // The announcing decision is named (a legal document, published on the national
        // database) whatever its unit; its notes, the office's own words, only to a caller who
        // sees its unit (until 2026-12-07 to every caller who saw the ministry decision).
        let notes_seen = |unit: &Option<i64>| match (&seen, unit) {
            (None, _) | (_, None) => true,
            (Some(ids), Some(id)) => ids.contains(id),
        };
        let notes = [
            row.notes.clone(),
            announced
                .as_ref()
                .filter(|(_, _, unit)| notes_seen(unit))
                .and_then(|(_, n, _)| n.clone()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        out.push(LateAnnouncement {
            ministry_decision: decision_ref(&row),
            title: row.title,
            ministry: row.issuer,
            unit: unit_ref(unit.as_ref()),
            due,
            rule: row.announce_rule.unwrap_or_default(),
            announced_by: announced.map(|(r, _, _)| r),
            working_days_late: days,
            notes: (!notes.is_empty()).then(|| notes.join("; ")),
        });
    }
    out.sort_by(|a, b| {
        b.working_days_late
            .cmp(&a.working_days_late)
            .then(a.due.cmp(&b.due))
    });
    Ok(out)
}

/// Ministry decisions not announced yet, most urgent first, as of `today`.
pub fn pending(
    conn: &mut DbConnection,
    scope: &UnitScope,
    today: NaiveDate,
) -> StoreResult<Vec<PendingAnnouncement>> {
    let rows = rows_of_kind(conn, scope, DecisionKind::Ministry)?;
    let (from, to) = years(today, &rows);
    let mut calendars = Calendars::new(from, to);
    let mut out = Vec::new();
    for (row, unit) in rows {
        let Some(due) = row.announce_due else {
            continue;
        };
        if first_announcement(conn, row.id)?.is_some() {
            continue;
        }
        let calendar = calendars.of(conn, unit.as_ref())?;
        out.push(PendingAnnouncement {
            working_days_left: working_days_left(calendar, today, due),
            ministry_decision: decision_ref(&row),
            title: row.title,
            ministry: row.issuer,
            unit: unit_ref(unit.as_ref()),
            due,
            rule: row.announce_rule.unwrap_or_default(),
        });
    }
    out.sort_by(|a, b| {
        a.working_days_left
            .cmp(&b.working_days_left)
            .then(a.due.cmp(&b.due))
    });
    Ok(out)
}

/// Every procedure of every provincial decision with its publication on the national database:
/// on time, late, not published past due, or not due yet, as of `today`.
pub fn publication(
    conn: &mut DbConnection,
    scope: &UnitScope,
    today: NaiveDate,
) -> StoreResult<Vec<PublicationStatus>> {
    let rows = rows_of_kind(conn, scope, DecisionKind::Province)?;
    let (from, to) = years(today, &rows);
    let mut calendars = Calendars::new(from, to);
    let mut out = Vec::new();
    for (row, unit) in rows {
        let Some(due) = row.publish_due else { continue };
        let calendar = calendars.of(conn, unit.as_ref())?;
        let (status, days) = match row.published_on {
            Some(on) if on <= due => ("onTime", 0),
            Some(on) => ("late", working_days_late(calendar, due, on)),
            None if today > due => ("notPublished", working_days_late(calendar, due, today)),
            None => ("notDueYet", 0),
        };
        let items: Vec<(String, Option<String>)> = announcement_items::table
            .filter(announcement_items::announcement_id.eq(row.id))
            .order(announcement_items::position.asc())
            .select((announcement_items::procedure_code, announcement_items::name))
            .load(conn)?;
        for (code, name) in items {
            out.push(PublicationStatus {
                decision: decision_ref(&row),
                unit: unit_ref(unit.as_ref()),
                procedure_code: code,
                name,
                due,
                rule: row.publish_rule.clone().unwrap_or_default(),
                published_on: row.published_on,
                status: status.into(),
                working_days_late: days,
            });
        }
    }
    Ok(out)
}
