//! Reading the archive back: records for offline reports (the same
//! [`Record`]s an export yields, in the server's order), and one email's
//! history.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, params};
use sendcloud_status::chrono::{DateTime, FixedOffset, NaiveDate};
use sendcloud_status::{Category, Query, Record, ServerTime, Status, SubStatus};

use crate::archive::Archive;
use crate::days::day_bounds;
use crate::error::{Context, Error, Result};

/// Which archived emails to read: the filters of a query, answered from the
/// archive. Empty lists mean no constraint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selection {
    /// Server days of the request time, inclusive.
    pub dates: Option<(NaiveDate, NaiveDate)>,
    /// One status.
    pub status: Option<Status>,
    /// Any of these sub-status codes.
    pub sub_status: Vec<u16>,
    /// The recipient, case-insensitively.
    pub email: Option<String>,
    /// Any of these email ids.
    pub email_ids: Vec<String>,
    /// Any of these apiUsers (empty: every apiUser in the archive).
    pub api_users: Vec<String>,
}

impl Selection {
    /// Every archived email.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// The filters of `query`, its window resolved on `today` (server
    /// days). The apiUsers are the query's `apiUserList` — empty means every
    /// apiUser; narrow it with [`Selection::api_users`] to mirror the
    /// server's default of the calling apiUser. Label filters are
    /// [`Error::Unsupported`]: the API's rows carry no label, so the
    /// archive has none.
    pub fn from_query(query: &Query, today: NaiveDate) -> Result<Selection> {
        if query.label_id().is_some() || query.label_name().is_some() {
            return Err(Error::Unsupported(
                "the archive cannot filter by label: the API's rows carry no label (query online instead)".into(),
            ));
        }
        Ok(Selection {
            dates: Some(query.window().date_range(today)),
            status: query.status(),
            sub_status: query.sub_status().iter().map(|s| s.code()).collect(),
            email: query.email().map(str::to_owned),
            email_ids: query.email_ids().to_vec(),
            api_users: query.api_users().to_vec(),
        })
    }

    /// Sets [`dates`](Self::dates).
    pub fn dates(mut self, start: NaiveDate, end: NaiveDate) -> Selection {
        self.dates = Some((start, end));
        self
    }

    /// Sets [`api_users`](Self::api_users).
    pub fn api_users<I: IntoIterator<Item = S>, S: Into<String>>(mut self, users: I) -> Selection {
        self.api_users = users.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`email`](Self::email).
    pub fn email(mut self, address: impl Into<String>) -> Selection {
        self.email = Some(address.into());
        self
    }

    /// Sets [`email_ids`](Self::email_ids).
    pub fn email_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Selection {
        self.email_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Selects one email by id, or every email to an address: email ids
    /// hold a `$` (`1716…$someone@example.com`), addresses cannot. What a
    /// "history of this address or email" lookup asks for.
    pub fn address_or_email_id(self, target: &str) -> Selection {
        if target.contains('$') { self.email_ids([target]) } else { self.email(target) }
    }

    fn sql(&self) -> (String, Vec<Value>) {
        let mut clauses: Vec<&str> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if let Some((start, end)) = self.dates {
            clauses.push("request_time >= ? AND request_time < ?");
            values.push(Value::Text(day_bounds(start).0));
            values.push(Value::Text(day_bounds(end).1));
        }
        if let Some(s) = self.status {
            clauses.push("category = ?");
            values.push(Value::Text(Category::from(s).name().to_owned()));
        }
        if !self.sub_status.is_empty() {
            clauses.push("sub_status IN (SELECT value FROM json_each(?))");
            values.push(Value::Text(serde_json::Value::from(self.sub_status.clone()).to_string()));
        }
        if let Some(e) = &self.email {
            clauses.push("recipient = ? COLLATE NOCASE");
            values.push(Value::Text(e.trim().to_owned()));
        }
        if !self.email_ids.is_empty() {
            clauses.push("email_id IN (SELECT value FROM json_each(?))");
            values.push(Value::Text(serde_json::Value::from(self.email_ids.clone()).to_string()));
        }
        if !self.api_users.is_empty() {
            clauses.push("api_user IN (SELECT value FROM json_each(?))");
            values.push(Value::Text(serde_json::Value::from(self.api_users.clone()).to_string()));
        }
        let filter = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
        (filter, values)
    }
}

/// One observed state of an email (a `status_history` row).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// The status text.
    pub status: Option<String>,
    /// The category.
    pub category: Category,
    /// The sub-status code.
    pub sub_status: Option<u16>,
    /// The row's `modifiedTime` in that state (RFC 3339).
    pub modified_time: Option<String>,
    /// When a sync first saw the state, or the webhook event arrived (RFC 3339).
    pub seen_at: String,
    /// The webhook event that wrote the row (`delivered`, `invalid`, …);
    /// `None` for a state read from the API.
    pub event: Option<String>,
}

/// One archived email: its current record, when it was seen, its history.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ArchivedEmail {
    /// The current state, as a record.
    pub record: Record,
    /// When a sync first saw it (RFC 3339).
    pub first_seen_at: String,
    /// When a sync last saw it (RFC 3339).
    pub last_seen_at: String,
    /// Every state observed, oldest first.
    pub history: Vec<HistoryEntry>,
}

const COLUMNS: &str = "email_id, api_user, recipient, status, category, sub_status, sub_status_description, \
                       request_time, modified_time, send_log, extra";

impl Archive {
    /// Calls `each` with every archived record `selection` matches, ordered
    /// like the server pages them (request time, then email id), one at a
    /// time; `ControlFlow::Break` stops early. Returns how many were passed.
    pub fn scan(&self, selection: &Selection, mut each: impl FnMut(Record) -> ControlFlow<()>) -> Result<u64> {
        let (filter, values) = selection.sql();
        let sql = format!("SELECT {COLUMNS} FROM emails{filter} ORDER BY request_time, email_id");
        let mut stmt = self.conn.prepare(&sql).at(&self.path)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values)).at(&self.path)?;
        let mut n = 0;
        while let Some(row) = rows.next().at(&self.path)? {
            n += 1;
            if each(record(row, self.offset).at(&self.path)?).is_break() {
                break;
            }
        }
        Ok(n)
    }

    /// Every archived record `selection` matches, in memory (see
    /// [`Archive::scan`] to stream them).
    pub fn records(&self, selection: &Selection) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        self.scan(selection, |r| {
            out.push(r);
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// The states an email went through, oldest first.
    pub fn history(&self, email_id: &str) -> Result<Vec<HistoryEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT status, category, sub_status, modified_time, seen_at, event FROM status_history
                 WHERE email_id = ?1 ORDER BY seq",
            )
            .at(&self.path)?;
        let rows = stmt
            .query_map([email_id], |r| {
                let category: String = r.get(1)?;
                Ok(HistoryEntry {
                    status: r.get(0)?,
                    category: Category::from_name(&category).unwrap_or(Category::Unknown),
                    sub_status: r.get::<_, Option<i64>>(2)?.and_then(|c| u16::try_from(c).ok()),
                    modified_time: r.get(3)?,
                    seen_at: r.get(4)?,
                    event: r.get(5)?,
                })
            })
            .at(&self.path)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().at(&self.path)
    }

    /// Every archived email `selection` matches, with its history, in
    /// [`scan`](Self::scan)'s order.
    pub fn emails(&self, selection: &Selection) -> Result<Vec<ArchivedEmail>> {
        let mut ids = Vec::new();
        self.scan(selection, |r| {
            ids.extend(r.email_id);
            ControlFlow::Continue(())
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.email(&id)?);
        }
        Ok(out)
    }

    /// One email with its history, if archived.
    pub fn email(&self, email_id: &str) -> Result<Option<ArchivedEmail>> {
        let sql = format!("SELECT {COLUMNS}, first_seen_at, last_seen_at FROM emails WHERE email_id = ?1");
        let found = self
            .conn
            .query_row(&sql, params![email_id], |row| Ok((record(row, self.offset)?, row.get(11)?, row.get(12)?)))
            .optional()
            .at(&self.path)?;
        let Some((record, first_seen_at, last_seen_at)) = found else { return Ok(None) };
        Ok(Some(ArchivedEmail { record, first_seen_at, last_seen_at, history: self.history(email_id)? }))
    }
}

fn time(text: Option<String>, offset: FixedOffset) -> Option<ServerTime> {
    let text = text?;
    Some(match DateTime::parse_from_rfc3339(&text) {
        Ok(d) => ServerTime::from_datetime(d),
        // Stored raw because it never parsed: kept as received.
        Err(_) => ServerTime::parse(&text, offset),
    })
}

/// A row of `COLUMNS` back into the record an export yielded.
fn record(row: &Row<'_>, offset: FixedOffset) -> rusqlite::Result<Record> {
    let mut r = Record::default();
    r.email_id = row.get(0)?;
    r.api_user = row.get(1)?;
    r.recipient = row.get(2)?;
    r.status = row.get(3)?;
    let category: String = row.get(4)?;
    r.category = Category::from_name(&category).unwrap_or(Category::Unknown);
    r.sub_status = row.get::<_, Option<i64>>(5)?.and_then(|c| u16::try_from(c).ok()).map(SubStatus::from_code);
    r.sub_status_description = row.get(6)?;
    r.request_time = time(row.get(7)?, offset);
    r.modified_time = time(row.get(8)?, offset);
    r.send_log = row.get(9)?;
    let extra: Option<String> = row.get(10)?;
    r.extra =
        extra.and_then(|e| serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&e).ok()).unwrap_or_default();
    Ok(r)
}
