//! Data-quality checks that cost points on the national portal (seed `001_…`): results that are
//! missing, archives, blank or copies of the applicant's own documents; finished dossiers never
//! synced; histories with missing steps.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{Event, Status, current_status};

/// A document of the dossier's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultDocument {
    /// File name.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub name: String,
    /// Media type (e.g. `application/pdf`).
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub media_type: String,
    /// Size in bytes, when known (the portal's sync dialect carries a link, not the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    /// SHA-256 of the content, hex.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub sha256: String,
    /// Page count, if known.
    #[serde(default)]
    pub pages: Option<i32>,
    /// Whether it carries a digital signature.
    #[serde(default)]
    pub signed: bool,
    /// Whether it was saved to the citizen's data store on the national portal (kho dữ liệu
    /// điện tử của tổ chức, cá nhân); counts for `SYNCED_WITH_DVCQG_PERSONAL_STORAGE`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub saved_to_citizen_store: bool,
}

/// A data-quality problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Flag {
    /// Finished without a result document.
    NoResultDocument,
    /// A result is a zip, rar or 7z archive.
    ArchiveResult,
    /// A result is empty (0 bytes or 0 pages).
    EmptyResult,
    /// A result is identical to one of the dossier's own submitted components.
    ResultIsComponent,
    /// Finished but never synced to the national portal.
    NeverSynced,
    /// Synced with a status older than the current one.
    SyncBehind,
    /// The last attempt to sync failed (after the last success, if any).
    SyncFailing,
    /// A step is missing from the history (e.g. finished with no received event).
    MissingSteps,
    /// The code is not `{unit}-{yyMMdd}-{nnnn}`.
    NonStandardCode,
    /// The vendor's due date disagrees with the one the rules give.
    DueDateDisagrees,
    /// The procedure had no time limit in force when the dossier was received.
    NoTimeLimit,
    /// The dossier has no due date (neither sent nor computed by the rules).
    NoDueDate,
    /// Refused or withdrawn before it was received: it is not counted.
    NotReceived,
    /// Events the vendor sent broke the transition rules and were set aside (`refusedEvents`).
    RefusedEvents,
}

impl Flag {
    /// The flag's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoResultDocument => "noResultDocument",
            Self::ArchiveResult => "archiveResult",
            Self::EmptyResult => "emptyResult",
            Self::ResultIsComponent => "resultIsComponent",
            Self::NeverSynced => "neverSynced",
            Self::SyncBehind => "syncBehind",
            Self::SyncFailing => "syncFailing",
            Self::MissingSteps => "missingSteps",
            Self::NonStandardCode => "nonStandardCode",
            Self::DueDateDisagrees => "dueDateDisagrees",
            Self::NoTimeLimit => "noTimeLimit",
            Self::NoDueDate => "noDueDate",
            Self::NotReceived => "notReceived",
            Self::RefusedEvents => "refusedEvents",
        }
    }

    /// Every flag, in the order the API lists them.
    pub const ALL: [Self; 14] = [
        Self::NoResultDocument,
        Self::ArchiveResult,
        Self::EmptyResult,
        Self::ResultIsComponent,
        Self::NeverSynced,
        Self::SyncBehind,
        Self::SyncFailing,
        Self::MissingSteps,
        Self::NonStandardCode,
        Self::DueDateDisagrees,
        Self::NoTimeLimit,
        Self::NoDueDate,
        Self::NotReceived,
        Self::RefusedEvents,
    ];

    /// The flag called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The flag's bit in the store's `flags` column (migration 000027 writes the same): fixed
    /// per flag, never renumbered.
    pub fn bit(self) -> i32 {
        match self {
            Self::NoResultDocument => 1,
            Self::ArchiveResult => 1 << 1,
            Self::EmptyResult => 1 << 2,
            Self::ResultIsComponent => 1 << 3,
            Self::NeverSynced => 1 << 4,
            Self::SyncBehind => 1 << 5,
            Self::SyncFailing => 1 << 6,
            Self::MissingSteps => 1 << 7,
            Self::NonStandardCode => 1 << 8,
            Self::DueDateDisagrees => 1 << 9,
            Self::NoTimeLimit => 1 << 10,
            Self::NoDueDate => 1 << 11,
            Self::NotReceived => 1 << 12,
            Self::RefusedEvents => 1 << 13,
        }
    }

    /// The bits of `flags`.
    pub fn bits(flags: impl IntoIterator<Item = Self>) -> i32 {
        flags.into_iter().fold(0, |bits, f| bits | f.bit())
    }

    /// The flags whose bits `bits` holds, in the API's order.
    pub fn of_bits(bits: i32) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|f| bits & f.bit() != 0)
            .collect()
    }
}

/// What the checks read.
#[derive(Debug, Clone, Copy)]
pub struct QualityInput<'a> {
    /// The events.
    pub events: &'a [Event],
    /// The result documents.
    pub results: &'a [ResultDocument],
    /// SHA-256 of the components the applicant submitted.
    pub component_hashes: &'a [String],
    /// When it was last synced to the national portal.
    pub synced_at: Option<NaiveDateTime>,
    /// The status it was last synced with.
    pub synced_status: Option<Status>,
    /// The last failed sync attempt: when, and the portal's message.
    pub sync_error: Option<(NaiveDateTime, &'a str)>,
    /// Whether the code has the standard shape.
    pub standard_code: bool,
    /// Whether the vendor's due date disagrees with the rules'.
    pub due_disagrees: bool,
}

const ARCHIVES: [&str; 6] = [
    "application/zip",
    "application/x-zip-compressed",
    "application/vnd.rar",
    "application/x-rar-compressed",
    "application/x-7z-compressed",
    "application/gzip",
];

pub(super) fn is_archive(doc: &ResultDocument) -> bool {
    let name = doc.name.to_ascii_lowercase();
    ARCHIVES.contains(&doc.media_type.to_ascii_lowercase().as_str())
        || [".zip", ".rar", ".7z", ".gz"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// Every problem found, each with its reason.
pub fn quality_flags(input: &QualityInput<'_>) -> Vec<(Flag, String)> {
    let mut flags = Vec::new();
    let finished = input
        .events
        .iter()
        .any(|e| matches!(e.status, Status::Finished | Status::Returned));
    if finished && input.results.is_empty() {
        flags.push((
            Flag::NoResultDocument,
            "finished without a result document".to_owned(),
        ));
    }
    for doc in input.results {
        if is_archive(doc) {
            flags.push((
                Flag::ArchiveResult,
                format!("{} is an archive, not a result", doc.name),
            ));
        }
        if doc.size_bytes == Some(0) || doc.pages == Some(0) {
            flags.push((Flag::EmptyResult, format!("{} is empty", doc.name)));
        }
        if input
            .component_hashes
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&doc.sha256))
        {
            flags.push((
                Flag::ResultIsComponent,
                format!("{} is one of the applicant's own documents", doc.name),
            ));
        }
    }
    let current = current_status(input.events);
    if finished && input.synced_at.is_none() {
        flags.push((
            Flag::NeverSynced,
            "finished but never synced to the national portal".to_owned(),
        ));
    }
    if let (Some(synced), Some(current)) = (input.synced_status, current)
        && synced != current
    {
        flags.push((
            Flag::SyncBehind,
            format!("synced as {synced}, now {current}"),
        ));
    }
    if let Some((failed_at, message)) = input.sync_error
        && input.synced_at.is_none_or(|ok| ok < failed_at)
    {
        flags.push((
            Flag::SyncFailing,
            format!("the last sync attempt failed: {message}"),
        ));
    }
    let has = |s: Status| input.events.iter().any(|e| e.status == s);
    if finished && !has(Status::Received) {
        flags.push((
            Flag::MissingSteps,
            "finished with no received event".to_owned(),
        ));
    } else if has(Status::Returned) && !has(Status::Finished) {
        flags.push((
            Flag::MissingSteps,
            "returned with no finished event".to_owned(),
        ));
    } else if let (Some(returned), Some(finished)) = (
        input.events.iter().find(|e| e.status == Status::Returned),
        input.events.iter().find(|e| e.status == Status::Finished),
    ) && returned.at < finished.at
    {
        flags.push((
            Flag::MissingSteps,
            format!(
                "returned at {} before it was finished at {}",
                returned.at, finished.at
            ),
        ));
    }
    if !input.standard_code {
        flags.push((
            Flag::NonStandardCode,
            "the code is not {unit}-{yyMMdd}-{nnnn}".to_owned(),
        ));
    }
    if input.due_disagrees {
        flags.push((
            Flag::DueDateDisagrees,
            "the vendor's due date differs from the rules' due date".to_owned(),
        ));
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::Flag;

    #[test]
    fn each_flag_has_a_bit_of_its_own_and_comes_back_from_it() {
        let all = Flag::bits(Flag::ALL);
        assert_eq!(all.count_ones() as usize, Flag::ALL.len());
        assert_eq!(Flag::of_bits(all), Flag::ALL);
        let some = [Flag::NeverSynced, Flag::RefusedEvents];
        assert_eq!(Flag::bits(some), 16 | 8192);
        assert_eq!(Flag::of_bits(16 | 8192), some);
        assert_eq!(Flag::of_bits(0), []);
        for f in Flag::ALL {
            assert_eq!(Flag::parse(f.as_str()), Some(f));
        }
    }
}
