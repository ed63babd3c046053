//! The faults a test injects into the in-memory directory.

use std::collections::HashSet;

use crate::providers::directory::DirectoryError;

/// Faults to inject; each makes the matching requests fail with a copy of its error.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Every read (list, source read, look-up, groups) fails.
    pub reads: Option<FaultKind>,
    /// Group membership reads fail.
    pub groups: Option<FaultKind>,
    /// Direct reads of users (`read_users`) fail.
    pub user_reads: Option<FaultKind>,
    /// Every write fails.
    pub writes: Option<FaultKind>,
    /// Writes of these userNames (creations) or ids (updates, deprovisionings) fail.
    pub writes_of: HashSet<String>,
    /// Users (by id) a listing leaves out while they exist: what a deletion between two pages
    /// does to offset paging. A direct read still finds them.
    pub unlisted: HashSet<String>,
    /// A paged source read (`page_by`) fails after sending this many pages: a source that
    /// fails half-way.
    pub read_fails_after_pages: Option<usize>,
    /// A burst of server errors: the next writes answer HTTP 500.
    pub burst: Option<Burst>,
    /// Look-ups (`find_users`) fail, while listings work.
    pub look_ups: Option<FaultKind>,
    /// Look-ups answer every user, as a server that ignores `filter` does.
    pub look_ups_ignore_filter: bool,
    /// The directory cannot be searched by anchor (as Graph): `users_anchored_by` answers `None`.
    pub no_anchored_search: bool,
    /// Users (by id) `users_anchored_by` leaves out while they are anchored: a server whose
    /// `sw` answers less than it should.
    pub unlisted_by_anchor: HashSet<String>,
}

/// The next `writes` writes answer HTTP 500; with `landed`, each was made all the same (the
/// server acted, then failed to answer), as a server behind a failing gateway does.
#[derive(Clone, Copy, Debug)]
pub struct Burst {
    pub writes: u32,
    pub landed: bool,
}

/// The error an injected fault answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    Unreachable,
    AuthenticationFailed,
    Throttled,
    Rejected,
    /// HTTP 500.
    ServerError,
}

impl FaultKind {
    pub fn error(self) -> DirectoryError {
        match self {
            FaultKind::Unreachable => DirectoryError::Unreachable("connection refused (injected)".into()),
            FaultKind::AuthenticationFailed => DirectoryError::AuthenticationFailed { status: 401 },
            FaultKind::Throttled => DirectoryError::Throttled {
                status: 429,
                attempts: 5,
            },
            FaultKind::Rejected => DirectoryError::Rejected {
                status: 400,
                code: Some("invalidValue".into()),
                detail: Some("rejected (injected)".into()),
            },
            FaultKind::ServerError => DirectoryError::Rejected {
                status: 500,
                code: None,
                detail: Some("internal server error (injected)".into()),
            },
        }
    }
}
