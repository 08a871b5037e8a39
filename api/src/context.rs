//! What handlers share besides their own logic: the rule sets and the period of a request, read
//! on the blocking pool, and the unit a caller names, within its grant. The use cases themselves
//! live in `tthc_core::app`.

use std::sync::Arc;

use tthc_core::app::scores as app_scores;
use tthc_core::db::DbConnection;
use tthc_core::db::units::UnitRow;
use tthc_core::period::Period;
use tthc_core::scoring::{RuleSet, RuleSets};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Every rule set the service knows, shipped and added, read for each request so that several
/// instances on one database score alike.
pub(crate) async fn rule_sets(state: &AppState) -> Result<RuleSets, ApiError> {
    state.run(|conn| Ok(app_scores::rule_sets(conn)?)).await
}

/// The period `text` names, and the rule set of `sets` in force on its first day.
pub(crate) fn period_in(sets: &RuleSets, text: &str) -> Result<(Period, Arc<RuleSet>), ApiError> {
    Ok(app_scores::period_in(sets, text)?)
}

/// The period `text` names, and the rule set in force on its first day.
pub(crate) async fn period_of(
    state: &AppState,
    text: &str,
) -> Result<(Period, Arc<RuleSet>), ApiError> {
    // A malformed period is refused before the database is asked.
    Period::parse(text).map_err(|r| ApiError::invalid("period", r))?;
    period_in(&rule_sets(state).await?, text)
}

/// The unit `code` when the caller may see it.
pub(crate) fn unit_in_scope(
    conn: &mut DbConnection,
    principal: &Principal,
    code: &str,
) -> Result<UnitRow, ApiError> {
    let scope = principal.unit_scope(conn)?;
    Ok(app_scores::unit_in(conn, &scope, code)?)
}
