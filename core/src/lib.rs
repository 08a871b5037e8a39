//! # tthc-core
//!
//! The domain of tthc, the service a Vietnamese province runs to control its administrative
//! procedures (thủ tục hành chính) and to follow its Decision 766 service-quality index.
//!
//! The domain modules are plain Rust: types and pure functions with no I/O, so that another
//! system (a vendor's one-stop software, say) can depend on this crate for the rules alone with
//! `default-features = false`. Persistence with diesel over SQLite and PostgreSQL lives in
//! [`db`], behind the default `db` feature.

pub mod announcement;
pub mod calendar;
pub mod delivery;
pub mod dossier;
pub mod period;
pub mod petition;
pub mod procedure;
pub mod report;
pub mod scoring;
pub mod task;
pub mod text;
pub mod unit;
pub mod version;
pub mod window;

#[cfg(feature = "db")]
pub mod app;
#[cfg(feature = "db")]
pub mod db;

/// A field that failed validation and why, in the words an integrator can act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvalidParam {
    /// The field, as named in the API (camelCase, dotted for nested fields).
    pub name: String,
    /// Why the value was refused.
    pub reason: String,
}

impl InvalidParam {
    /// A refusal of `name` for `reason`.
    pub fn new(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            reason: reason.into(),
        }
    }
}
