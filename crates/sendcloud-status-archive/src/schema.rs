//! The schema: an ordered list of SQL migrations, applied forward in one
//! transaction each; `PRAGMA user_version` counts the ones applied and
//! `PRAGMA application_id` marks the file as an archive.

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of an archive: `SCSA` in ASCII.
pub const APPLICATION_ID: i32 = 0x5343_5341;

/// The schema version this build writes (the number of migrations).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Migration `i` takes a file from version `i` to `i + 1`. Append only:
/// a released migration never changes.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2];

/// Version 1: emails, their history, sync runs and the planner's day state.
const V1: &str = "
CREATE TABLE emails (
    email_id               TEXT PRIMARY KEY NOT NULL,
    api_user               TEXT,
    recipient              TEXT,
    status                 TEXT,
    category               TEXT NOT NULL,
    sub_status             INTEGER,
    sub_status_description TEXT,
    request_time           TEXT,
    modified_time          TEXT,
    send_log               TEXT,
    extra                  TEXT,
    first_seen_at          TEXT NOT NULL,
    last_seen_at           TEXT NOT NULL
);
CREATE INDEX emails_request_time ON emails (request_time);
CREATE INDEX emails_recipient ON emails (recipient COLLATE NOCASE);

CREATE TABLE sync_runs (
    id           INTEGER PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    outcome      TEXT NOT NULL,
    scope        TEXT NOT NULL,
    days_read    INTEGER NOT NULL DEFAULT 0,
    requests     INTEGER NOT NULL DEFAULT 0,
    records_seen INTEGER NOT NULL DEFAULT 0,
    inserted     INTEGER NOT NULL DEFAULT 0,
    changed      INTEGER NOT NULL DEFAULT 0,
    error        TEXT
);

CREATE TABLE status_history (
    email_id      TEXT NOT NULL REFERENCES emails (email_id),
    seq           INTEGER NOT NULL,
    status        TEXT,
    category      TEXT NOT NULL,
    sub_status    INTEGER,
    modified_time TEXT,
    seen_at       TEXT NOT NULL,
    run_id        INTEGER REFERENCES sync_runs (id),
    PRIMARY KEY (email_id, seq)
) WITHOUT ROWID;

CREATE TABLE sync_days (
    scope        TEXT NOT NULL,
    day          TEXT NOT NULL,
    complete     INTEGER NOT NULL,
    last_read_at TEXT,
    rows         INTEGER NOT NULL,
    sending      INTEGER NOT NULL,
    run_id       INTEGER REFERENCES sync_runs (id),
    PRIMARY KEY (scope, day)
) WITHOUT ROWID;
";

/// Version 2: webhook events. Every verified event once (by token, and by
/// email, event and timestamp); history rows say which event wrote them.
const V2: &str = "
CREATE TABLE webhook_events (
    token       TEXT PRIMARY KEY NOT NULL,
    email_id    TEXT NOT NULL,
    event       TEXT NOT NULL,
    event_name  TEXT NOT NULL,
    category    TEXT,
    sub_status  INTEGER,
    timestamp   TEXT NOT NULL,
    event_time  TEXT NOT NULL,
    recipient   TEXT,
    api_user    TEXT,
    fields      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    history_seq INTEGER
) WITHOUT ROWID;
CREATE UNIQUE INDEX webhook_events_event ON webhook_events (email_id, event, timestamp);

ALTER TABLE status_history ADD COLUMN event TEXT;
ALTER TABLE status_history ADD COLUMN token TEXT;
";

/// Why a file cannot be migrated.
#[derive(Debug)]
pub(crate) enum MigrateError {
    /// Not made by this crate: another application id, or tables without one.
    Foreign(String),
    /// A newer schema than `migrations` knows.
    Newer(u32),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

fn version(conn: &Connection) -> rusqlite::Result<(u32, i32)> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    Ok((u32::try_from(v).unwrap_or(u32::MAX), id))
}

/// Brings the file up to `migrations.len()`, each migration in its own
/// immediate transaction (a second process migrating at the same time
/// waits, then finds nothing left to do). Returns the version reached.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<u32, MigrateError> {
    let known = migrations.len() as u32;
    loop {
        // Checked without a transaction first: a reader of a current file
        // never takes the write lock.
        let (v, _) = check(conn, known)?;
        if v == known {
            return Ok(v);
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (v, _) = check(&tx, known)?;
        if v < known {
            tx.execute_batch(migrations[v as usize])?;
            tx.pragma_update(None, "user_version", v + 1)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        }
        tx.commit()?;
    }
}

fn check(conn: &Connection, known: u32) -> Result<(u32, i32), MigrateError> {
    let (v, id) = version(conn)?;
    if id != APPLICATION_ID {
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        if id != 0 || v != 0 || tables > 0 {
            return Err(MigrateError::Foreign(if id != 0 {
                format!("application id {id:#x}")
            } else {
                format!("a SQLite database with {tables} other objects")
            }));
        }
    }
    if v > known {
        return Err(MigrateError::Newer(v));
    }
    Ok((v, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut s = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").unwrap();
        s.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn migrations_apply_forward_only_what_is_missing() {
        let mut conn = Connection::open_in_memory().unwrap();
        let steps = ["CREATE TABLE a (x);", "CREATE TABLE b (y); INSERT INTO a VALUES (1);"];
        assert_eq!(migrate(&mut conn, &steps[..1]).unwrap(), 1);
        assert_eq!(tables(&conn), ["a"]);
        // A later build with one more migration applies only that one.
        assert_eq!(migrate(&mut conn, &steps).unwrap(), 2);
        assert_eq!(tables(&conn), ["a", "b"]);
        let rows: i64 = conn.query_row("SELECT count(*) FROM a", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 1, "the second migration ran once");
        assert_eq!(migrate(&mut conn, &steps).unwrap(), 2, "nothing left to do");
        assert_eq!(version(&conn).unwrap(), (2, APPLICATION_ID));
        // An older build refuses the newer file instead of touching it.
        assert!(matches!(migrate(&mut conn, &steps[..1]), Err(MigrateError::Newer(2))));
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        let steps = ["CREATE TABLE a (x);", "CREATE TABLE b (y); THIS IS NOT SQL;"];
        assert!(matches!(migrate(&mut conn, &steps), Err(MigrateError::Sqlite(_))));
        assert_eq!(version(&conn).unwrap().0, 1);
        assert_eq!(tables(&conn), ["a"], "the failed migration was rolled back whole");
    }

    #[test]
    fn other_databases_are_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE mine (x);").unwrap();
        assert!(matches!(migrate(&mut conn, MIGRATIONS), Err(MigrateError::Foreign(_))));
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "application_id", 42).unwrap();
        assert!(matches!(migrate(&mut conn, MIGRATIONS), Err(MigrateError::Foreign(_))));
    }
}
