//! The roles of the people who sign in to the office console, and the scopes each gives. A
//! person's units come from their own grant, as a client's do.

use super::Scope;

/// A person's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Reads scores, reports, dossiers, petitions, tasks and the catalogue of their units.
    Viewer,
    /// A viewer who also records their units' work: reports sent, task parts done, figures
    /// entered by hand.
    Officer,
    /// Every scope (the provincial office's administrators).
    Admin,
}

impl Role {
    /// Every role, in the order of their power.
    pub const ALL: [Role; 3] = [Self::Viewer, Self::Officer, Self::Admin];

    /// The role's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Officer => "officer",
            Self::Admin => "admin",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The scopes a person of this role holds.
    pub fn scopes(self) -> Vec<Scope> {
        const READ: [Scope; 7] = [
            Scope::UnitsRead,
            Scope::ProceduresRead,
            Scope::DossiersRead,
            Scope::ScoresRead,
            Scope::PetitionsRead,
            Scope::ReportsRead,
            Scope::TasksRead,
        ];
        const RECORD: [Scope; 3] = [Scope::ReportsWrite, Scope::TasksWrite, Scope::ScoresWrite];
        match self {
            Self::Viewer => READ.to_vec(),
            Self::Officer => READ.iter().chain(&RECORD).copied().collect(),
            Self::Admin => Scope::ALL.to_vec(),
        }
    }

    /// The scopes as a token carries them: space-separated names.
    pub fn scope_string(self) -> String {
        self.scopes()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_holds_what_the_one_below_holds_and_more() {
        let viewer = Role::Viewer.scopes();
        let officer = Role::Officer.scopes();
        let admin = Role::Admin.scopes();
        assert!(viewer.iter().all(|s| officer.contains(s)));
        assert!(officer.iter().all(|s| admin.contains(s)));
        assert!(viewer.len() < officer.len() && officer.len() < admin.len());
        assert!(!viewer.contains(&Scope::ReportsWrite));
        assert!(!officer.contains(&Scope::ClientsAdmin));
        assert_eq!(admin.len(), Scope::ALL.len());
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
