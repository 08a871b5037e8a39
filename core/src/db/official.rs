//! The scores the national portal published for a unit and period, kept to reconcile tthc's
//! figures with them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit::{self, Actor, Change};
use super::schema::official_scores;
use super::timestamp::Stamp;
use super::units::UnitRow;
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::period::Period;

/// An indicator as the portal published it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfficialIndicator {
    /// The records that met it, if published.
    #[serde(default)]
    pub numerator: Option<u64>,
    /// The records measured, if published.
    #[serde(default)]
    pub denominator: Option<u64>,
    /// The points.
    #[serde(default)]
    pub score: Option<f64>,
}

/// The scores the national portal published for a unit and period.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "score": 78.52, "rank": 21, "rankOf": 34, "publishedOn": "2026-09-12",
    "source": "Cổng Dịch vụ công quốc gia, Bộ chỉ số tháng 8/2026",
    "groups": {"PROGRESS": 15.68},
    "indicators": {"ON_TIME_PROCESSING": {"numerator": 144625, "denominator": 184513, "score": 15.68}}
})))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfficialScores {
    /// The total score.
    pub score: f64,
    /// The unit's rank among its peers (provinces nationally), if published.
    #[serde(default)]
    pub rank: Option<u32>,
    /// How many were ranked.
    #[serde(default)]
    pub rank_of: Option<u32>,
    /// When the portal published it.
    #[serde(default)]
    pub published_on: Option<NaiveDate>,
    /// Where it comes from.
    #[serde(default)]
    pub source: Option<String>,
    /// Group scores, by group code.
    #[serde(default)]
    pub groups: BTreeMap<String, f64>,
    /// Indicator figures, by indicator code.
    #[serde(default)]
    pub indicators: BTreeMap<String, OfficialIndicator>,
}

/// The official scores of `unit` for `period`, if entered.
pub fn get(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
) -> StoreResult<Option<OfficialScores>> {
    let data: Option<String> = official_scores::table
        .filter(official_scores::unit_id.eq(unit.id))
        .filter(official_scores::period.eq(period.to_string()))
        .select(official_scores::data)
        .first(conn)
        .optional()?;
    data.map(|d| {
        serde_json::from_str(&d)
            .map_err(|e| StoreError::Setup(format!("official scores of {}: {e}", unit.code)))
    })
    .transpose()
}

/// Stores the official scores of `unit` for `period` (checked by the caller), replacing any.
/// Audited.
pub fn put(
    conn: &mut DbConnection,
    actor: &Actor,
    unit: &UnitRow,
    period: Period,
    scores: &OfficialScores,
) -> StoreResult<()> {
    let data = serde_json::to_string(scores).map_err(|e| StoreError::Setup(e.to_string()))?;
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("officialScores:{}/{period}", unit.code))?;
        let before = get(conn, unit, period)?;
        diesel::delete(
            official_scores::table
                .filter(official_scores::unit_id.eq(unit.id))
                .filter(official_scores::period.eq(period.to_string())),
        )
        .execute(conn)?;
        diesel::insert_into(official_scores::table)
            .values((
                official_scores::unit_id.eq(unit.id),
                official_scores::period.eq(period.to_string()),
                official_scores::data.eq(&data),
                official_scores::updated_at.eq(Stamp(super::now())),
            ))
            .execute(conn)?;
        audit::record_in_unit(
            conn,
            actor,
            Some(&unit.path),
            &Change {
                action: if before.is_some() { "update" } else { "create" },
                resource_type: "officialScores",
                resource_id: &format!("{}/{period}", unit.code),
                before: before.as_ref(),
                after: Some(scores),
            },
        )
    })
}
