//! The archive's error type: what went wrong, with the file named.

use std::path::{Path, PathBuf};

/// An archive failure. The API key never appears in one: the archive never
/// sees it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another sync holds the archive (its lock file is taken).
    #[error("the archive {} is busy: another sync is writing it", .path.display())]
    Busy {
        /// The archive file.
        path: PathBuf,
    },
    /// Opened for reading, but no such file.
    #[error("no archive at {}: run `sync --db {}` first", .path.display(), .path.display())]
    Missing {
        /// The path given.
        path: PathBuf,
    },
    /// The file is not a SQLite database made by this crate (or is damaged).
    #[error("{} is not a sendcloud-status archive{}", .path.display(), .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    NotAnArchive {
        /// The file.
        path: PathBuf,
        /// What was found instead, when known.
        detail: Option<String>,
    },
    /// The archive was written by a newer version of this crate.
    #[error(
        "the archive {} has schema version {found}, newer than this program knows ({known}): upgrade sendcloud-status",
        .path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its `user_version`.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
    /// A filter the archive cannot answer (it holds no labels).
    #[error("{0}")]
    Unsupported(String),
    /// SQLite failed: disk full, read-only file, I/O error.
    #[error("archive {}: {source}", .path.display())]
    Storage {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The lock file could not be created or locked.
    #[error("archive {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The sync was stopped through its
    /// [`cancel_flag`](crate::SyncOptions::cancel_flag); whole pages stay.
    #[error("the sync was cancelled")]
    Cancelled,
    /// The API failed (or the sync's settings were invalid).
    #[error(transparent)]
    Api(#[from] sendcloud_status::Error),
}

/// `Result` with the archive's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns SQLite errors into [`Error::Storage`] (or `NotAnArchive` for a
/// file that is not a database) for one file.
pub(crate) trait Context<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|source| storage(path, source))
    }
}

pub(crate) fn storage(path: &Path, source: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            Error::NotAnArchive { path: path.to_owned(), detail: Some("not a SQLite database".into()) }
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            Error::NotAnArchive { path: path.to_owned(), detail: Some("the database is damaged".into()) }
        }
        // Another connection kept the write lock past the busy timeout.
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy { path: path.to_owned() },
        _ => Error::Storage { path: path.to_owned(), source },
    }
}
