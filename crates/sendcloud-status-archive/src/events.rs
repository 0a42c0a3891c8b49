//! Webhook events: every verified delivery stored once, each in one
//! transaction.
//!
//! - **`webhook_events`** gets one row per distinct event: its `token` is
//!   the primary key, and `(email_id, event, timestamp)` is unique too, so
//!   a repeated token, or the same event under a fresh token, writes
//!   nothing ([`EventWrite::RepeatedToken`], [`EventWrite::RepeatedEvent`]).
//! - A **status event** (request → sending, delivered, invalid, soft
//!   bounce) also adds a `status_history` row (`event` and `token` say
//!   which delivery wrote it; `modified_time` is the event's time) and
//!   moves `emails` forward — never back: an event older than the email's
//!   state (the vendor's retries arrive out of order) is history only, and
//!   an event of the state held already changes nothing in `emails`. An
//!   email first known from an event gets an `emails` row whose `status` is
//!   the event name; the next `sync` brings the API's display text.
//! - Engagement events (open, click, unsubscribe, spam report, route,
//!   unknown kinds) are kept in `webhook_events` only: they are not a
//!   delivery state.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use sendcloud_status::chrono::NaiveDateTime;
use sendcloud_status::core::webhook::WebhookEvent;
use sendcloud_status::{Category, SubStatus};

use crate::archive::Archive;
use crate::error::{Context, Result};
use crate::ingest::{is_final, parse_time};

/// What [`Archive::record_event`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventWrite {
    /// A new event, stored.
    Stored {
        /// A `status_history` row was added (a status event).
        history: bool,
        /// `emails` moved to the event's state (a new email, or a newer
        /// state).
        email_changed: bool,
    },
    /// Its token was stored already: nothing written.
    RepeatedToken,
    /// The same email, event and timestamp were stored already (under
    /// another token): nothing written.
    RepeatedEvent,
}

impl EventWrite {
    /// Whether anything was written.
    pub fn is_stored(&self) -> bool {
        matches!(self, EventWrite::Stored { .. })
    }
}

impl Archive {
    /// Stores a verified webhook event received at `received_at`
    /// (server-local), in one transaction: a `webhook_events` row, and for
    /// a status event a `status_history` row and `emails` moved forward
    /// (never back). A repeated token, or the same email, event and
    /// timestamp under another token, writes nothing. See the crate doc's
    /// tables.
    ///
    /// ```
    /// use sendcloud_status::chrono::NaiveDateTime;
    /// use sendcloud_status::core::webhook::WebhookEvent;
    /// use sendcloud_status_archive::{Archive, EventWrite};
    ///
    /// let mut archive = Archive::open_in_memory().unwrap();
    /// // A parsed event (a receiver verifies it first: `core::webhook::Verifier`).
    /// let body = "event=deliver&emailId=1716170000000_1%24a%40b.com&timestamp=1716170000000&token=t1&signature=00";
    /// let event = WebhookEvent::parse(body.as_bytes()).unwrap();
    /// let at: NaiveDateTime = "2024-05-20T10:00:00".parse().unwrap();
    /// assert_eq!(archive.record_event(&event, at).unwrap(), EventWrite::Stored { history: true, email_changed: true });
    /// assert_eq!(archive.record_event(&event, at).unwrap(), EventWrite::RepeatedToken);
    /// let email = archive.email("1716170000000_1$a@b.com").unwrap().unwrap();
    /// assert_eq!(email.record.category.name(), "delivered");
    /// ```
    pub fn record_event(&mut self, event: &WebhookEvent, received_at: NaiveDateTime) -> Result<EventWrite> {
        let received = self.stamp(received_at);
        let offset = self.offset;
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let kind = event.kind.name();
        let repeated_token: bool = tx
            .query_row("SELECT 1 FROM webhook_events WHERE token = ?1", [&event.token], |_| Ok(true))
            .optional()
            .at(&path)?
            .unwrap_or(false);
        if repeated_token {
            return Ok(EventWrite::RepeatedToken);
        }
        let repeated_event: bool = tx
            .query_row(
                "SELECT 1 FROM webhook_events WHERE email_id = ?1 AND event = ?2 AND timestamp = ?3",
                params![event.email_id, kind, event.timestamp],
                |_| Ok(true),
            )
            .optional()
            .at(&path)?
            .unwrap_or(false);
        if repeated_event {
            return Ok(EventWrite::RepeatedEvent);
        }

        let mut history_seq: Option<i64> = None;
        let mut email_changed = false;
        let record = event.to_record(offset);
        if let Some(r) = &record {
            let category = r.category.name();
            let sub = r.sub_status.map(|s| i64::from(SubStatus::code(s)));
            let modified = r.modified_time.as_ref().map(|t| t.to_rfc3339_or_raw());
            let stored: Option<(String, Option<i64>, Option<String>)> = tx
                .query_row(
                    "SELECT category, sub_status, modified_time FROM emails WHERE email_id = ?1",
                    [&event.email_id],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()
                .at(&path)?;
            match stored {
                None => {
                    tx.execute(
                        "INSERT INTO emails (email_id, api_user, recipient, status, category, sub_status,
                                             sub_status_description, modified_time, send_log, first_seen_at, last_seen_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                        params![
                            event.email_id,
                            r.api_user,
                            r.recipient,
                            r.status,
                            category,
                            sub,
                            r.sub_status_description,
                            modified,
                            r.send_log,
                            received
                        ],
                    )
                    .at(&path)?;
                    email_changed = true;
                }
                Some((old_category, old_sub, old_modified)) => {
                    let older = match (
                        old_modified.as_deref().and_then(parse_time),
                        modified.as_deref().and_then(parse_time),
                    ) {
                        (Some(old), Some(new)) => {
                            new < old || (new == old && r.category == Category::Sending && is_final(&old_category))
                        }
                        _ => r.category == Category::Sending && is_final(&old_category),
                    };
                    let same = old_category == category && old_sub == sub;
                    if !older && !same {
                        tx.execute(
                            "UPDATE emails SET status = ?2, category = ?3, sub_status = ?4, sub_status_description = ?5,
                                 modified_time = ?6, api_user = coalesce(api_user, ?7), recipient = coalesce(recipient, ?8),
                                 send_log = coalesce(?9, send_log), last_seen_at = ?10
                             WHERE email_id = ?1",
                            params![
                                event.email_id,
                                r.status,
                                category,
                                sub,
                                r.sub_status_description,
                                modified,
                                r.api_user,
                                r.recipient,
                                r.send_log,
                                received
                            ],
                        )
                        .at(&path)?;
                        email_changed = true;
                    }
                }
            }
            let seq: i64 = tx
                .query_row(
                    "SELECT coalesce(max(seq) + 1, 0) FROM status_history WHERE email_id = ?1",
                    [&event.email_id],
                    |row| row.get(0),
                )
                .at(&path)?;
            tx.execute(
                "INSERT INTO status_history (email_id, seq, status, category, sub_status, modified_time, seen_at,
                                             run_id, event, token)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9)",
                params![event.email_id, seq, r.status, category, sub, modified, received, kind, event.token],
            )
            .at(&path)?;
            history_seq = Some(seq);
        }

        let fields = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_owned());
        tx.execute(
            "INSERT INTO webhook_events (token, email_id, event, event_name, category, sub_status, timestamp,
                                         event_time, recipient, api_user, fields, received_at, history_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                event.token,
                event.email_id,
                kind,
                event.event,
                event.category().map(Category::name),
                event.sub_status.map(|s| i64::from(s.code())),
                event.timestamp,
                event.time_at(offset).to_rfc3339(),
                event.recipient,
                event.api_user,
                fields,
                received,
                history_seq
            ],
        )
        .at(&path)?;
        tx.commit().at(&path)?;
        Ok(EventWrite::Stored { history: history_seq.is_some(), email_changed })
    }

    /// Whether a webhook event with this token is stored.
    pub fn has_event_token(&self, token: &str) -> Result<bool> {
        let found = self
            .conn
            .query_row("SELECT 1 FROM webhook_events WHERE token = ?1", [token], |_| Ok(()))
            .optional()
            .at(&self.path)?;
        Ok(found.is_some())
    }

    /// How many webhook events are stored.
    pub fn event_count(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM webhook_events", [], |r| r.get(0)).at(&self.path)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
