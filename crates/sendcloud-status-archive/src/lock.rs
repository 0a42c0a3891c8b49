//! One sync at a time: an exclusive lock on `FILE-lock` beside the archive.
//!
//! SQLite's own locks last one transaction, and a sync commits once per
//! page: between two pages a second sync could slip in. The lock file is
//! held for the whole run, and the operating system releases it when the
//! process ends, however it ends (a `SIGKILL` leaves no stale lock). Readers
//! do not take it: they read the last committed page while a sync runs.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held while a sync writes the archive; released on drop.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
    path: PathBuf,
}

impl SyncLock {
    /// The lock file of the archive at `db`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push("-lock");
        db.with_file_name(name)
    }

    /// Takes the lock of the archive at `db`, or fails at once with
    /// [`Error::Busy`].
    pub fn acquire(db: &Path) -> Result<SyncLock> {
        let path = Self::path_for(db);
        let io = |source| Error::Io { path: path.clone(), source };
        // The file stays after the run: deleting it would let a second
        // process lock a new file while a third still holds the old one.
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => Ok(SyncLock { _file: file, path }),
            Err(fs4::TryLockError::WouldBlock) => Err(Error::Busy { path: db.to_owned() }),
            Err(fs4::TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_busy_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let first = SyncLock::acquire(&db).unwrap();
        assert_eq!(first.path(), dir.path().join("a.db-lock"));
        assert!(matches!(SyncLock::acquire(&db), Err(Error::Busy { .. })));
        drop(first);
        SyncLock::acquire(&db).unwrap();
    }
}
