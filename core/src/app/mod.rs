//! Use cases: what the service does, composed of storage reads and writes and the pure rules,
//! one transaction or one consistent read each. The HTTP layer calls these and only maps their
//! results; storage stays rows and queries (`../shared/ARCHITECTURE.md`).
//!
//! The scores (`scores`) and the monthly notice (`notice`). Intake is pure domain
//! (`dossier::intake`, `petition::intake`) called by storage's batch writes; the reconciliation
//! with the portal is still composed in its route.

use crate::InvalidParam;
use crate::db::StoreError;

pub mod notice;
pub mod published;
pub mod scores;
pub mod tasks;

/// What a use case can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Storage refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An argument does not have the form it must have (the request breaks the document).
    #[error("invalid input")]
    Invalid(Vec<InvalidParam>),
    /// Well formed, but a rule refuses it.
    #[error("refused by a rule")]
    Refused(Vec<InvalidParam>),
    /// The record does not exist, or not for this caller.
    #[error("{0}")]
    NotFound(String),
}

/// Result of a use case.
pub type AppResult<T> = Result<T, AppError>;
