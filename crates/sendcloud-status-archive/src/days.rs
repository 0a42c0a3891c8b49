//! The planner's memory: `sync_days`, one row per (scope, server day) read.

use rusqlite::{OptionalExtension, Transaction, params};
use sendcloud_status::chrono::{DateTime, NaiveDate};
use sendcloud_status::core::sync::DayState;

use crate::archive::{Archive, Scope};
use crate::error::{Context, Result};

/// How a day's read ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DayRead {
    /// Every row of the day; `exact` when its windows ended without drift.
    Full { exact: bool },
    /// Only its "sending" rows, by id: completeness is unchanged.
    SendingRows,
}

impl Archive {
    /// What the archive knows about each server day of `scope` — the
    /// planner's input ([`sendcloud_status::core::sync::plan`]).
    pub fn day_states(&self, scope: &Scope) -> Result<Vec<DayState>> {
        let mut s = self
            .conn
            .prepare("SELECT day, complete, last_read_at, rows, sending FROM sync_days WHERE scope = ?1 ORDER BY day")
            .at(&self.path)?;
        let rows = s
            .query_map([scope.key()], |r| {
                let day: String = r.get(0)?;
                let complete: bool = r.get(1)?;
                let read: Option<String> = r.get(2)?;
                let rows: i64 = r.get(3)?;
                let sending: i64 = r.get(4)?;
                Ok((day, complete, read, rows, sending))
            })
            .at(&self.path)?;
        let mut out = Vec::new();
        for row in rows {
            let (day, complete, read, rows, sending) = row.at(&self.path)?;
            // Written by this crate: a row that does not parse is skipped,
            // which makes its day "never read" — read again, never lost.
            let Ok(day) = day.parse::<NaiveDate>() else { continue };
            let mut state = DayState::new(day).with_rows(rows.max(0) as u64, sending.max(0) as u64);
            if let Some(at) = read.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
                state = state.read_at(at.naive_local(), complete);
            }
            out.push(state);
        }
        Ok(out)
    }

    /// The ids of the rows of `day` in `scope` the archive holds as "sending".
    pub fn sending_ids(&self, scope: &Scope, day: NaiveDate) -> Result<Vec<String>> {
        let (from, to) = day_bounds(day);
        let mut s = self
            .conn
            .prepare(
                "SELECT email_id FROM emails WHERE category = 'sending' AND request_time >= ?1 AND request_time < ?2
                 AND (api_user IS NULL OR api_user IN (SELECT value FROM json_each(?3))) ORDER BY request_time, email_id",
            )
            .at(&self.path)?;
        let ids = s.query_map(params![from, to, scope.json()], |r| r.get(0)).at(&self.path)?;
        ids.collect::<rusqlite::Result<Vec<String>>>().at(&self.path)
    }
}

/// `[day, next day)` as text bounds on RFC 3339 times with the server's
/// offset, whose first ten characters are the server-local date.
pub(crate) fn day_bounds(day: NaiveDate) -> (String, String) {
    let next = day.succ_opt().map_or_else(|| "9999-99-99".to_owned(), |d| d.to_string());
    (day.to_string(), next)
}

/// Records that `start ..= end` were read at `read_at` by run `run`, with
/// their row counts as the archive now holds them.
pub(crate) fn mark_days(
    tx: &Transaction<'_>,
    scope: &Scope,
    (start, end): (NaiveDate, NaiveDate),
    read: DayRead,
    read_at: &str,
    run: i64,
) -> rusqlite::Result<()> {
    let mut count = tx.prepare_cached(
        "SELECT count(*), coalesce(sum(category = 'sending'), 0) FROM emails
         WHERE request_time >= ?1 AND request_time < ?2
         AND (api_user IS NULL OR api_user IN (SELECT value FROM json_each(?3)))",
    )?;
    let mut previous = tx.prepare_cached("SELECT complete FROM sync_days WHERE scope = ?1 AND day = ?2")?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO sync_days (scope, day, complete, last_read_at, rows, sending, run_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (scope, day) DO UPDATE SET complete = excluded.complete, last_read_at = excluded.last_read_at,
             rows = excluded.rows, sending = excluded.sending, run_id = excluded.run_id",
    )?;
    let (key, users) = (scope.key(), scope.json());
    for day in start.iter_days().take_while(|d| *d <= end) {
        let (from, to) = day_bounds(day);
        let (rows, sending): (i64, i64) = count.query_row(params![from, to, users], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let complete = match read {
            DayRead::Full { exact } => exact,
            DayRead::SendingRows => {
                previous.query_row(params![key, day.to_string()], |r| r.get::<_, bool>(0)).optional()?.unwrap_or(false)
            }
        };
        upsert.execute(params![key, day.to_string(), complete, read_at, rows, sending, run])?;
    }
    Ok(())
}
