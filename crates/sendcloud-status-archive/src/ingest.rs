//! Writing records: one upsert per email, one history row per new state.
//!
//! An email's *state* is `(status, category, sub_status, modified_time)`.
//! A record whose state equals the stored one updates the other columns and
//! `last_seen_at` and adds no history. A record older than the stored state
//! (an earlier `modified_time`, or "sending" again at the same time after a
//! final state — a server answering from a cache older than the last read)
//! is *stale*: only `last_seen_at` moves, so the archive never goes back —
//! except that a stale record of the *same* category and sub-status (the
//! state a webhook event already recorded, now read from the API with its
//! display text and send log) refreshes those details, keeping the later
//! `modified_time`.

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use sendcloud_status::chrono::{DateTime, FixedOffset, NaiveDateTime};
use sendcloud_status::{Category, Record, SubStatus};

use crate::archive::Archive;
use crate::error::{Context, Result};

/// What writing a batch of records did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ingested {
    /// Emails seen for the first time.
    pub inserted: u64,
    /// Emails whose state changed (one history row each).
    pub changed: u64,
    /// Emails seen again in the state already stored.
    pub unchanged: u64,
    /// Records older than the stored state, ignored.
    pub stale: u64,
    /// Records without an email id (they cannot be archived).
    pub without_id: u64,
}

impl Ingested {
    pub(crate) fn add(&mut self, o: Ingested) {
        self.inserted += o.inserted;
        self.changed += o.changed;
        self.unchanged += o.unchanged;
        self.stale += o.stale;
        self.without_id += o.without_id;
    }
}

impl Archive {
    /// Writes records fetched by other means (one transaction), stamped as
    /// seen at `seen_at` (server-local). [`Archive::sync`] does this for
    /// every page it reads.
    pub fn ingest(&mut self, records: &[Record], seen_at: NaiveDateTime) -> Result<Ingested> {
        let seen = self.stamp(seen_at);
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let out = write_records(&tx, records, &seen, None).at(&path)?;
        tx.commit().at(&path)?;
        Ok(out)
    }
}

struct Stored {
    status: Option<String>,
    category: String,
    sub_status: Option<i64>,
    modified_time: Option<String>,
}

pub(crate) fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

pub(crate) fn is_final(category: &str) -> bool {
    matches!(category, "delivered" | "invalid" | "soft_bounce")
}

/// Upserts `records` inside `tx`. `run` is the sync run, if any.
pub(crate) fn write_records(
    tx: &Transaction<'_>,
    records: &[Record],
    seen_at: &str,
    run: Option<i64>,
) -> rusqlite::Result<Ingested> {
    let mut select =
        tx.prepare_cached("SELECT status, category, sub_status, modified_time FROM emails WHERE email_id = ?1")?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO emails (email_id, api_user, recipient, status, category, sub_status, sub_status_description,
                             request_time, modified_time, send_log, extra, first_seen_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
         ON CONFLICT (email_id) DO UPDATE SET
             api_user = excluded.api_user, recipient = excluded.recipient, status = excluded.status,
             category = excluded.category, sub_status = excluded.sub_status,
             sub_status_description = excluded.sub_status_description, request_time = excluded.request_time,
             modified_time = excluded.modified_time, send_log = excluded.send_log, extra = excluded.extra,
             last_seen_at = excluded.last_seen_at",
    )?;
    let mut touch = tx.prepare_cached("UPDATE emails SET last_seen_at = ?2 WHERE email_id = ?1")?;
    let mut refresh = tx.prepare_cached(
        "UPDATE emails SET status = ?2, sub_status_description = ?3, api_user = coalesce(?4, api_user),
             recipient = coalesce(?5, recipient), request_time = coalesce(?6, request_time),
             send_log = coalesce(?7, send_log), extra = coalesce(?8, extra), last_seen_at = ?9
         WHERE email_id = ?1",
    )?;
    // The history is clustered by email (no separate index): `seq` numbers
    // an email's states from 0.
    let mut history = tx.prepare_cached(
        "INSERT INTO status_history (email_id, seq, status, category, sub_status, modified_time, seen_at, run_id)
         VALUES (?1, (SELECT coalesce(max(seq) + 1, 0) FROM status_history WHERE email_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;

    let mut out = Ingested::default();
    for r in records {
        let Some(id) = r.email_id.as_deref() else {
            out.without_id += 1;
            continue;
        };
        let category = r.category.name();
        let sub = r.sub_status.map(|s| i64::from(SubStatus::code(s)));
        let modified = r.modified_time.as_ref().map(|t| t.to_rfc3339_or_raw());
        let stored = select
            .query_row([id], |row| {
                Ok(Stored {
                    status: row.get(0)?,
                    category: row.get(1)?,
                    sub_status: row.get(2)?,
                    modified_time: row.get(3)?,
                })
            })
            .optional()?;
        let new_state = match &stored {
            None => true,
            Some(s) => {
                let older =
                    match (s.modified_time.as_deref().and_then(parse_time), modified.as_deref().and_then(parse_time)) {
                        (Some(old), Some(new)) => {
                            new < old || (new == old && category == Category::Sending.name() && is_final(&s.category))
                        }
                        _ => false,
                    };
                if older && s.category == category && s.sub_status == sub {
                    // The same state, known already with a later time (from
                    // a webhook event): take the API's details.
                    let extra = if r.extra.is_empty() { None } else { serde_json::to_string(&r.extra).ok() };
                    refresh.execute(params![
                        id,
                        r.status,
                        r.sub_status_description,
                        r.api_user,
                        r.recipient,
                        r.request_time.as_ref().map(|t| t.to_rfc3339_or_raw()),
                        r.send_log,
                        extra,
                        seen_at,
                    ])?;
                    out.unchanged += 1;
                    continue;
                }
                if older {
                    touch.execute(params![id, seen_at])?;
                    out.stale += 1;
                    continue;
                }
                s.status.as_deref() != r.status.as_deref()
                    || s.category != category
                    || s.sub_status != sub
                    || s.modified_time != modified
            }
        };
        let extra = if r.extra.is_empty() { None } else { serde_json::to_string(&r.extra).ok() };
        upsert.execute(params![
            id,
            r.api_user,
            r.recipient,
            r.status,
            category,
            sub,
            r.sub_status_description,
            r.request_time.as_ref().map(|t| t.to_rfc3339_or_raw()),
            modified,
            r.send_log,
            extra,
            seen_at,
        ])?;
        if new_state {
            history.execute(params![id, r.status, category, sub, modified, seen_at, run])?;
            if stored.is_none() {
                out.inserted += 1;
            } else {
                out.changed += 1;
            }
        } else {
            out.unchanged += 1;
        }
    }
    Ok(out)
}
