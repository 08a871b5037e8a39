//! Authentication and authorisation: OAuth2 client credentials, JWT access tokens, scopes and
//! unit grants.
//!
//! A client's grant lives on the server (its scopes and the units it acts for, each with its
//! subtree) and is copied into every token it gets. A request is refused with 401 when its token
//! is missing, bad or revoked (its client or person changed since, or it signed out), 403 when the token lacks the operation's scope, and 404 when the record it
//! names lies outside the client's units: such records do not exist for that client.

mod hasher;
pub mod limiter;
mod principal;
mod revocations;
pub mod roles;
mod secrets;
pub mod sign_in;
mod token;
mod unit_paths;

pub use hasher::Hasher;
pub use limiter::SignInLimits;
pub use principal::{
    CSRF_HEADER, ListScope, MaybePrincipal, Principal, SESSION_COOKIE, bearer_token,
    require_csrf_header,
};
pub use revocations::{RELOAD_EVERY, Revocations};
pub use secrets::{generate_secret, hash_secret, verify_secret};
pub use token::{Claims, JwtKeys};
pub use unit_paths::UnitPaths;

/// A permission a client can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read units.
    UnitsRead,
    /// Create and change units.
    UnitsWrite,
    /// Manage API clients.
    ClientsAdmin,
    /// Read the audit trail.
    AuditRead,
    /// Edit provinces' working-day calendars.
    CalendarWrite,
    /// Read draft procedures and announcement decisions.
    ProceduresRead,
    /// Write procedures, fields and announcement decisions.
    ProceduresWrite,
    /// Read dossiers.
    DossiersRead,
    /// Push dossiers and their events.
    DossiersWrite,
    /// Read the 766 scores and the figures behind them.
    ScoresRead,
    /// Enter figures tthc cannot observe.
    ScoresWrite,
    /// Read petitions.
    PetitionsRead,
    /// Push petitions and their events; set the petition deadlines.
    PetitionsWrite,
    /// Record citizens' ratings of dossiers (the citizen portal's grant).
    RatingsWrite,
    /// Reopen closed months (administrators).
    PeriodsAdmin,
    /// Read reports (form II.06a, monthly notices) and reporting duties.
    ReportsRead,
    /// Record the reports a unit sent for its duties.
    ReportsWrite,
    /// Set reporting duties and mark reports poor quality (the provincial office).
    ReportsAdmin,
    /// Add and replace the index's rule sets (administrators).
    RulesAdmin,
    /// Read the change feed: which records changed, in order (not their contents).
    ChangesRead,
    /// Manage the caller's webhook subscriptions (deliveries also need `changes:read`).
    SubscriptionsWrite,
    /// Set the relay of a province's dossiers to the national portal, and see its queue.
    RelayAdmin,
    /// Read tasks and the units' parts of them.
    TasksRead,
    /// Record a unit's part of a task done, with its evidence.
    TasksWrite,
    /// Assign, import, change and cancel tasks; reopen parts (the provincial office).
    TasksAdmin,
}

impl Scope {
    /// Every scope, the bootstrap `admin` client's grant.
    pub const ALL: [Scope; 25] = [
        Self::UnitsRead,
        Self::UnitsWrite,
        Self::ClientsAdmin,
        Self::AuditRead,
        Self::CalendarWrite,
        Self::ProceduresRead,
        Self::ProceduresWrite,
        Self::DossiersRead,
        Self::DossiersWrite,
        Self::ScoresRead,
        Self::ScoresWrite,
        Self::PetitionsRead,
        Self::PetitionsWrite,
        Self::RatingsWrite,
        Self::PeriodsAdmin,
        Self::ReportsRead,
        Self::ReportsWrite,
        Self::ReportsAdmin,
        Self::RulesAdmin,
        Self::ChangesRead,
        Self::SubscriptionsWrite,
        Self::RelayAdmin,
        Self::TasksRead,
        Self::TasksWrite,
        Self::TasksAdmin,
    ];

    /// The scope's name in tokens and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnitsRead => "units:read",
            Self::UnitsWrite => "units:write",
            Self::ClientsAdmin => "clients:admin",
            Self::AuditRead => "audit:read",
            Self::CalendarWrite => "calendar:write",
            Self::ProceduresRead => "procedures:read",
            Self::ProceduresWrite => "procedures:write",
            Self::DossiersRead => "dossiers:read",
            Self::DossiersWrite => "dossiers:write",
            Self::ScoresRead => "scores:read",
            Self::ScoresWrite => "scores:write",
            Self::PetitionsRead => "petitions:read",
            Self::PetitionsWrite => "petitions:write",
            Self::RatingsWrite => "ratings:write",
            Self::PeriodsAdmin => "periods:admin",
            Self::ReportsRead => "reports:read",
            Self::ReportsWrite => "reports:write",
            Self::ReportsAdmin => "reports:admin",
            Self::RulesAdmin => "rules:admin",
            Self::ChangesRead => "changes:read",
            Self::SubscriptionsWrite => "subscriptions:write",
            Self::RelayAdmin => "relay:admin",
            Self::TasksRead => "tasks:read",
            Self::TasksWrite => "tasks:write",
            Self::TasksAdmin => "tasks:admin",
        }
    }

    /// The scope called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The names of every scope, for messages and documentation.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|s| s.as_str()).collect()
    }
}
