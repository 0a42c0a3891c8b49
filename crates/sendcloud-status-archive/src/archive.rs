//! [`Archive`]: opening the file (pragmas, migrations) and the small
//! conventions every module shares — times as RFC 3339 text, the apiUser
//! [`Scope`] of a sync.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sendcloud_status::chrono::{FixedOffset, NaiveDateTime, TimeZone};
use sendcloud_status::core::Decoder;

use crate::error::{Context, Error, Result, storage};
use crate::schema::{self, MIGRATIONS, MigrateError, SCHEMA_VERSION};

/// How long a write waits for another connection's transaction (a reader
/// checkpointing, a concurrent migration) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A local archive of email statuses in one SQLite file. See the crate doc
/// for the tables.
///
/// One `Archive` is one connection: use it from one thread at a time. Any
/// number of processes may read the file while one sync writes it.
pub struct Archive {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// The server's UTC offset, for the times the archive stamps itself.
    pub(crate) offset: FixedOffset,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive").field("path", &self.path).field("offset", &self.offset).finish_non_exhaustive()
    }
}

impl Archive {
    /// Opens the archive at `path`, creating it (and bringing an older one
    /// up to date) as needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Archive> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Self::open_with(path.as_ref(), flags)
    }

    /// Opens an archive that must exist already ([`Error::Missing`]
    /// otherwise): what offline reports use, so a typo in a path does not
    /// create an empty archive and report nothing.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Archive> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(Error::Missing { path: path.to_owned() });
        }
        Self::open_with(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    }

    /// A private archive in memory (tests, one-off work).
    pub fn open_in_memory() -> Result<Archive> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().at(&path)?;
        Self::prepare(conn, path)
    }

    fn open_with(path: &Path, flags: OpenFlags) -> Result<Archive> {
        let conn = Connection::open_with_flags(path, flags).at(path)?;
        Self::prepare(conn, path.to_owned())
    }

    fn prepare(mut conn: Connection, path: PathBuf) -> Result<Archive> {
        conn.busy_timeout(BUSY_TIMEOUT).at(&path)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;").at(&path)?;
        // The file is checked (and migrated) before anything else writes to
        // it: another application's database, or a newer archive, is
        // refused untouched — switching it to WAL would rewrite its header.
        match schema::migrate(&mut conn, MIGRATIONS) {
            Ok(_) => {}
            Err(MigrateError::Foreign(detail)) => return Err(Error::NotAnArchive { path, detail: Some(detail) }),
            Err(MigrateError::Newer(found)) => return Err(Error::NewerSchema { path, found, known: SCHEMA_VERSION }),
            Err(MigrateError::Sqlite(e)) => return Err(storage(&path, e)),
        }
        // WAL: readers never block the sync, and a commit is one append.
        // NORMAL: a killed process loses nothing committed; a power cut can
        // lose the last pages (never consistency), which the next sync reads
        // again because their days were not marked read.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).at(&path)?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            log::warn!("archive {}: journal mode is {mode}, not WAL", path.display());
        }
        // A page's commit rewrites every index page it touched; checkpoints
        // (the only fsyncs) every 64 MiB of WAL rather than SQLite's 4 MiB,
        // and 16 MiB of cache, keep ingest well above 50,000 records/s on
        // a plain disk. The WAL is cut back to 64 MiB after a checkpoint.
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 16384;
             PRAGMA journal_size_limit = 67108864; PRAGMA cache_size = -16384;",
        )
        .at(&path)?;
        let offset = Decoder::default().offset();
        Ok(Archive { conn, path, offset })
    }

    /// The server's UTC offset for the times the archive stamps
    /// (`first_seen_at`, `seen_at`, run times); default `+08:00`.
    pub fn with_server_offset(mut self, offset: FixedOffset) -> Archive {
        self.offset = offset;
        self
    }

    /// The file (`:memory:` for an archive in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32> {
        let v: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).at(&self.path)?;
        Ok(u32::try_from(v).unwrap_or(u32::MAX))
    }

    /// A server-local time as the archive writes it: RFC 3339 with the
    /// server's offset, like the CLI prints times.
    pub(crate) fn stamp(&self, t: NaiveDateTime) -> String {
        stamp(self.offset, t)
    }
}

pub(crate) fn stamp(offset: FixedOffset, t: NaiveDateTime) -> String {
    match offset.from_local_datetime(&t).single() {
        Some(d) => d.to_rfc3339(),
        None => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

/// The apiUsers a sync covers: the calling apiUser, or the `apiUserList`
/// it sends. Day states are kept per scope, so syncing another list into
/// the same file starts that list's own first run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    users: Vec<String>,
}

impl Scope {
    /// The scope of these apiUsers (sorted, duplicates dropped). `None` when
    /// the list is empty.
    pub fn new<I, S>(users: I) -> Option<Scope>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut users: Vec<String> = users.into_iter().map(Into::into).map(|u| u.trim().to_owned()).collect();
        users.retain(|u| !u.is_empty());
        users.sort();
        users.dedup();
        (!users.is_empty()).then_some(Scope { users })
    }

    /// The apiUsers, sorted.
    pub fn users(&self) -> &[String] {
        &self.users
    }

    /// The text stored in `sync_days.scope` and `sync_runs.scope`: the
    /// apiUsers joined by commas.
    pub fn key(&self) -> String {
        self.users.join(",")
    }

    /// The apiUsers as a JSON array (for `json_each` in queries).
    pub(crate) fn json(&self) -> String {
        serde_json::Value::from(self.users.clone()).to_string()
    }
}
