//! The export state machine: the one thing drivers loop over.
//!
//! A driver calls [`Export::poll`] with the current time and does what the
//! [`Action`] says: send a request (and later feed the answer back with
//! [`Export::handle_response`] or [`Export::handle_transport_error`]), wait
//! until an instant, wait for an answer it already has in flight, take a
//! page, or stop. The machine never reads a clock, sleeps or does I/O.
//!
//! Inside: window planning, `emailIds` chunking, offset pagination,
//! de-duplication, retries with backoff, the rate limiter, the resumable
//! cursor, and — with `parallelism > 1` — several page requests in flight
//! while pages are still emitted in a deterministic order.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::cursor::{Cursor, fingerprint};
use crate::decode::{Decoder, PageBody};
use crate::error::{Error, ErrorKind, Result};
use crate::limiter::{RateLimiter, SharedLimiter};
use crate::query::{Query, Window};
use crate::record::{Page, Position};
use crate::request::{Encoder, HttpRequest};
use crate::retry::{Jitter, RetryPolicy};

/// Default number of email ids per request.
pub const DEFAULT_EMAIL_ID_CHUNK: usize = 20;
/// Default cap on pages per window and chunk: a guard against a server that
/// never stops paging (10 million rows at 100 per page).
pub const DEFAULT_MAX_PAGES_PER_UNIT: u32 = 100_000;

/// Identifies a request the machine asked for, to match its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (refused, DNS, unreachable).
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection was closed or reset mid-request.
    ConnectionReset,
    /// The body ended early or could not be read.
    BodyIncomplete,
    /// Anything else that may pass on a new attempt.
    Other,
    /// A failure that another attempt cannot fix (TLS certificate,
    /// invalid proxy setting). Not retried.
    Fatal,
}

impl TransportErrorKind {
    fn describe(self) -> &'static str {
        match self {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout => "the request timed out",
            TransportErrorKind::ConnectionReset => "the connection was reset",
            TransportErrorKind::BodyIncomplete => "the response body was incomplete",
            TransportErrorKind::Other => "transport error",
            TransportErrorKind::Fatal => "transport error (not retried)",
        }
    }
}

/// What the driver should do next.
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Send this request; report its answer with the id.
    Send(RequestId, HttpRequest),
    /// Nothing to do before this instant (rate limit or retry backoff);
    /// an answer to an in-flight request may still arrive earlier.
    WaitUntil(Instant),
    /// Nothing to do until an in-flight request is answered.
    AwaitResponse,
    /// The next page, in order.
    Page(Page),
    /// The export is complete.
    Done,
}

/// Counters kept by an export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Requests handed to the driver, retries included.
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// Answers that were rate-limit refusals (`50000` / HTTP 429).
    pub rate_limited: u64,
    /// Failed attempts of any kind.
    pub failures: u64,
    /// Records emitted.
    pub records: u64,
    /// Rows skipped because their email id was already emitted.
    pub duplicates: u64,
    /// Pages emitted.
    pub pages: u64,
}

/// Everything about an export except the query.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// Endpoint, credentials, method and user agent.
    pub encoder: Encoder,
    /// The server's UTC offset.
    pub decoder: Decoder,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// The limiter; share one between the exports of a client.
    pub limiter: SharedLimiter,
    /// Seed of the backoff jitter.
    pub jitter_seed: u64,
    /// Email ids per request (at least 1).
    pub email_id_chunk: usize,
    /// Requests in flight at once (at least 1).
    pub parallelism: usize,
    /// Stop after this many records.
    pub max_records: Option<u64>,
    /// Guard against endless paging.
    pub max_pages_per_unit: u32,
}

impl ExportConfig {
    /// Defaults: retry policy, 3000 requests/minute, chunks of 20 ids,
    /// one request at a time, no record limit.
    pub fn new(encoder: Encoder) -> Self {
        ExportConfig {
            encoder,
            decoder: Decoder::default(),
            retry: RetryPolicy::default(),
            limiter: RateLimiter::new(Some(Default::default())).shared(),
            jitter_seed: 0,
            email_id_chunk: DEFAULT_EMAIL_ID_CHUNK,
            parallelism: 1,
            max_records: None,
            max_pages_per_unit: DEFAULT_MAX_PAGES_PER_UNIT,
        }
    }
}

/// Per window-and-chunk progress.
#[derive(Debug, Default)]
struct Unit {
    /// The next offset not yet requested.
    next_offset: u32,
    /// Offsets below this may be requested now (first page only, until a
    /// `total` or a full page says more).
    allowed_below: u64,
    /// Pages requested (first attempts).
    pages: u32,
}

#[derive(Debug)]
enum Slot {
    /// Waiting to be (re)sent, not before the instant.
    Pending {
        attempt: u32,
        first_sent: Option<Instant>,
        not_before: Option<Instant>,
    },
    InFlight {
        id: RequestId,
        attempt: u32,
        first_sent: Instant,
    },
    Done(PageBody),
}

/// A paginated export over windows and email-id chunks. See the module doc.
#[derive(Debug)]
pub struct Export {
    config: ExportConfig,
    query: Query,
    today: NaiveDate,
    fingerprint: u32,
    windows: Vec<Window>,
    chunks: Vec<Vec<String>>,
    single_page: bool,
    units: BTreeMap<u32, Unit>,
    slots: BTreeMap<(u32, u32), Slot>,
    /// Next (unit, offset) to emit.
    emit: (u32, u32),
    seen: HashSet<u64>,
    jitter: Jitter,
    next_id: u64,
    stats: ExportStats,
    /// No more pages will be emitted (complete, or `max_records` reached).
    finished: bool,
    /// Every page of the plan was emitted: there is nothing to resume.
    exhausted: bool,
    failed: Option<Error>,
}

impl Export {
    /// Plans an export of every record matching `query`. `today` is the
    /// server-local date (it anchors `days` windows). With a cursor, the
    /// export resumes after the last record delivered before it was taken.
    pub fn new(config: ExportConfig, query: Query, today: NaiveDate, cursor: Option<&Cursor>) -> Result<Export> {
        let fp = fingerprint(&query);
        let today = cursor.map_or(today, |c| c.today);
        let max = config.encoder.endpoint().max_window_days();
        let windows = match query.window {
            // Sent as is: the server anchors it on its own today.
            Window::Days(n) if n <= max && cursor.is_none() => vec![Window::Days(n)],
            w => split_window(w.date_range(today), max),
        };
        let chunk = config.email_id_chunk.max(1);
        let chunks: Vec<Vec<String>> = if query.email_ids.is_empty() {
            vec![Vec::new()]
        } else {
            query.email_ids.chunks(chunk).map(<[String]>::to_vec).collect()
        };
        let mut export = Export::planned(config, query, today, fp, windows, chunks, false);
        if let Some(c) = cursor {
            if c.fingerprint != fp {
                return Err(Error::validation("cursor", "this cursor belongs to a different query"));
            }
            if c.window as usize >= export.windows.len() || c.chunk as usize >= export.chunks.len() {
                return Err(Error::validation("cursor", "the cursor points past the end of this query"));
            }
            let unit = c.window * export.chunks.len() as u32 + c.chunk;
            export.emit = (unit, c.offset);
        }
        Ok(export)
    }

    /// A machine that fetches exactly the one page `query` describes (its
    /// window, `start` and `limit`), with retries and rate limiting. The
    /// window must fit the endpoint.
    pub fn single_page(config: ExportConfig, query: Query) -> Result<Export> {
        config.encoder.encode(&query)?; // same checks as a direct encode
        let fp = fingerprint(&query);
        let windows = vec![query.window];
        let chunks = vec![query.email_ids.clone()];
        // "today" is unused: the window is sent as given.
        Ok(Export::planned(config, query, NaiveDate::MIN, fp, windows, chunks, true))
    }

    fn planned(
        config: ExportConfig,
        query: Query,
        today: NaiveDate,
        fingerprint: u32,
        windows: Vec<Window>,
        chunks: Vec<Vec<String>>,
        single_page: bool,
    ) -> Export {
        let first_offset = query.start;
        Export {
            jitter: Jitter::new(config.jitter_seed),
            config,
            query,
            today,
            fingerprint,
            windows,
            chunks,
            single_page,
            units: BTreeMap::new(),
            slots: BTreeMap::new(),
            emit: (0, first_offset),
            seen: HashSet::new(),
            next_id: 0,
            stats: ExportStats::default(),
            finished: false,
            exhausted: false,
            failed: None,
        }
    }

    /// The windows the export walks through, in order.
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    /// Counters so far.
    pub fn stats(&self) -> &ExportStats {
        &self.stats
    }

    /// Where to resume after the records emitted so far; `None` once every
    /// page was emitted (and always for [`Export::single_page`]).
    ///
    /// A resumed export does not remember the ids emitted before the
    /// cursor: a record that the server lists in two windows can come out
    /// once before and once after the resume point.
    pub fn cursor(&self) -> Option<Cursor> {
        if self.exhausted || self.single_page {
            return None;
        }
        Some(self.cursor_at(self.emit))
    }

    fn cursor_at(&self, (unit, offset): (u32, u32)) -> Cursor {
        let n_chunks = self.chunks.len() as u32;
        Cursor {
            today: self.today,
            window: unit / n_chunks,
            chunk: unit % n_chunks,
            offset,
            fingerprint: self.fingerprint,
        }
    }

    fn unit_count(&self) -> u32 {
        (self.windows.len() * self.chunks.len()) as u32
    }

    fn limit(&self) -> u32 {
        self.query.limit
    }

    /// What to do next. An error is final: every later call returns it too.
    pub fn poll(&mut self, now: Instant) -> Result<Action> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished {
            return Ok(Action::Done);
        }
        if let Some(page) = self.try_emit() {
            return Ok(Action::Page(page));
        }
        if self.finished {
            return Ok(Action::Done);
        }
        self.schedule(now)
    }

    /// Emits the page at the emission point if its answer is in.
    fn try_emit(&mut self) -> Option<Page> {
        let key = self.emit;
        if !matches!(self.slots.get(&key), Some(Slot::Done(_))) {
            return None;
        }
        let Some(Slot::Done(body)) = self.slots.remove(&key) else { unreachable!("checked above") };
        let (unit, offset) = key;
        let rows = body.records.len();
        let total = body.total;
        let unit_done = self.single_page
            || rows == 0
            || rows < self.limit() as usize
            || total.is_some_and(|t| u64::from(offset) + rows as u64 >= t);

        let mut records = Vec::with_capacity(rows);
        let mut row_index = Vec::with_capacity(rows);
        let mut consumed = 0usize;
        let mut hit_max = false;
        for record in body.records {
            if self.config.max_records.is_some_and(|m| self.stats.records >= m) {
                hit_max = true;
                break;
            }
            consumed += 1;
            if let Some(id) = &record.email_id {
                let mut h = DefaultHasher::new();
                id.hash(&mut h);
                if !self.seen.insert(h.finish()) {
                    self.stats.duplicates += 1;
                    continue;
                }
            }
            self.stats.records += 1;
            row_index.push((consumed - 1) as u32);
            records.push(record);
        }
        hit_max |= self.config.max_records.is_some_and(|m| self.stats.records >= m);

        let n_chunks = self.chunks.len() as u32;
        let window_index = (unit / n_chunks) as usize;
        let page = Page {
            total,
            records,
            position: Position { window: unit / n_chunks, chunk: unit % n_chunks, offset },
            window: match self.windows[window_index] {
                Window::Dates { start, end } => Some((start, end)),
                Window::Days(_) => None,
            },
            rows_received: rows,
            resume: Some((self.cursor_at(key), row_index)),
        };
        self.stats.pages += 1;

        if hit_max && consumed < rows {
            self.emit = (unit, offset + consumed as u32);
        } else if unit_done {
            self.slots.retain(|&(u, _), _| u != unit);
            self.units.remove(&unit);
            if unit + 1 >= self.unit_count() {
                self.finished = true;
                self.exhausted = true;
            }
            self.emit = (unit + 1, 0);
        } else {
            // Pages were requested at multiples of `limit`; a server that
            // sends more rows than asked must not move emission off that
            // grid (the overlap is removed by de-duplication).
            self.emit = (unit, offset + self.limit());
        }
        if hit_max {
            self.finished = true;
        }
        if self.finished {
            self.slots.clear();
        }
        Some(page)
    }

    /// Picks the next request to send, or says how long to wait.
    fn schedule(&mut self, now: Instant) -> Result<Action> {
        let mut earliest: Option<Instant> = None;
        // Retries first, in order: they hold back the emission point.
        let due = self.slots.iter().find_map(|(&key, slot)| match slot {
            Slot::Pending { not_before, .. } => match not_before {
                Some(t) if *t > now => {
                    earliest = Some(earliest.map_or(*t, |e| e.min(*t)));
                    None
                }
                _ => Some(key),
            },
            _ => None,
        });
        let in_flight = self.slots.values().filter(|s| matches!(s, Slot::InFlight { .. })).count();
        let parallelism = self.config.parallelism.max(1);
        let key = match due {
            Some(key) if in_flight < parallelism => Some(key),
            Some(_) => None,
            None if in_flight < parallelism && self.slots.len() < 2 * parallelism => self.next_new_page(),
            None => None,
        };
        if let Some(e) = &self.failed {
            // `next_new_page` hit the page cap: report it, do not fall
            // through to `Done` (which would end the export silently).
            return Err(e.clone());
        }
        if let Some(key) = key {
            let wait = self.config.limiter.lock().map_or(Ok(()), |mut l| l.try_acquire(now));
            match wait {
                Ok(()) => return Ok(self.send(key, now)),
                Err(t) => earliest = Some(earliest.map_or(t, |e| e.min(t))),
            }
        }
        match earliest {
            Some(t) => Ok(Action::WaitUntil(t)),
            None if in_flight > 0 => Ok(Action::AwaitResponse),
            None => {
                // Nothing in flight, nothing due, nothing to emit: the plan
                // has nothing left.
                self.finished = true;
                self.exhausted = true;
                Ok(Action::Done)
            }
        }
    }

    /// The next page that may be requested now, creating its slot.
    fn next_new_page(&mut self) -> Option<(u32, u32)> {
        let parallelism = self.config.parallelism.max(1) as u32;
        let (emit_unit, _) = self.emit;
        let last = if self.single_page { emit_unit } else { (emit_unit + parallelism - 1).min(self.unit_count() - 1) };
        let limit = self.limit();
        let cap = self.config.max_pages_per_unit;
        for u in emit_unit..=last {
            // The emission unit starts where emission stands (query `start`
            // or a cursor); units further ahead start at 0.
            let first = if u == emit_unit { self.emit.1 } else { 0 };
            let unit = self.units.entry(u).or_insert_with(|| Unit {
                next_offset: first,
                allowed_below: u64::from(first) + 1,
                pages: 0,
            });
            if u64::from(unit.next_offset) < unit.allowed_below {
                if unit.pages >= cap {
                    self.failed = Some(Error::new(
                        ErrorKind::Api,
                        format!("stopped after {cap} pages of one window: the server keeps paging"),
                    ));
                    return None;
                }
                let offset = unit.next_offset;
                unit.next_offset = offset.saturating_add(limit);
                unit.pages += 1;
                self.slots.insert((u, offset), Slot::Pending { attempt: 1, first_sent: None, not_before: None });
                return Some((u, offset));
            }
        }
        None
    }

    fn send(&mut self, key: (u32, u32), now: Instant) -> Action {
        let (unit, offset) = key;
        let Some(Slot::Pending { attempt, first_sent, .. }) = self.slots.remove(&key) else {
            unreachable!("send is only called on pending slots")
        };
        let id = RequestId(self.next_id);
        self.next_id += 1;
        self.stats.requests += 1;
        if attempt > 1 {
            self.stats.retries += 1;
        }
        self.slots.insert(key, Slot::InFlight { id, attempt, first_sent: first_sent.unwrap_or(now) });
        let n_chunks = self.chunks.len() as u32;
        let window = self.windows[(unit / n_chunks) as usize];
        let ids = &self.chunks[(unit % n_chunks) as usize];
        let request = self.config.encoder.encode_page(&self.query, window, ids, offset, self.query.limit);
        Action::Send(id, request)
    }

    fn find_in_flight(&self, id: RequestId) -> Option<((u32, u32), u32, Instant)> {
        self.slots.iter().find_map(|(&key, slot)| match slot {
            Slot::InFlight { id: i, attempt, first_sent } if *i == id => Some((key, *attempt, *first_sent)),
            _ => None,
        })
    }

    /// Feeds back the answer to a request: HTTP status and body, whatever
    /// the status (error answers carry JSON bodies too).
    pub fn handle_response(&mut self, id: RequestId, http_status: u16, body: &[u8], now: Instant) {
        let Some((key, attempt, first_sent)) = self.find_in_flight(id) else { return };
        match self.config.decoder.decode(http_status, body) {
            Ok(page) => self.accept(key, page),
            Err(e) => self.fail_attempt(key, attempt, first_sent, e, now),
        }
    }

    /// Reports that a request failed below HTTP.
    pub fn handle_transport_error(&mut self, id: RequestId, kind: TransportErrorKind, now: Instant) {
        let Some((key, attempt, first_sent)) = self.find_in_flight(id) else { return };
        let err = Error::transport(format!("{} ({})", kind.describe(), self.config.encoder.endpoint().describe()));
        if kind == TransportErrorKind::Fatal {
            self.failed = Some(err);
            return;
        }
        self.fail_attempt(key, attempt, first_sent, err, now);
    }

    fn accept(&mut self, key: (u32, u32), page: PageBody) {
        let (unit, offset) = key;
        let limit = u64::from(self.limit());
        let rows = page.records.len() as u64;
        if let Some(state) = self.units.get_mut(&unit) {
            let end_of_page = u64::from(offset) + rows;
            if rows < limit {
                // A short page ends the unit: request nothing past it.
                state.allowed_below = state.allowed_below.min(end_of_page).min(u64::from(state.next_offset));
            } else if let Some(total) = page.total {
                state.allowed_below = total;
            } else {
                state.allowed_below = state.allowed_below.max(end_of_page + 1);
            }
        }
        self.slots.insert(key, Slot::Done(page));
    }

    fn fail_attempt(&mut self, key: (u32, u32), attempt: u32, first_sent: Instant, err: Error, now: Instant) {
        self.stats.failures += 1;
        let kind = err.kind();
        if matches!(kind, ErrorKind::RateLimited) {
            self.stats.rate_limited += 1;
        }
        let policy = &self.config.retry;
        let delay = policy.backoff(attempt, kind, self.jitter.next_u64());
        let retry_at = now + delay;
        let within_deadline = retry_at.saturating_duration_since(first_sent) <= policy.deadline;
        if kind.is_retryable() && attempt < policy.max_attempts && within_deadline {
            if kind == ErrorKind::RateLimited
                && let Ok(mut l) = self.config.limiter.lock()
            {
                l.pause_until(retry_at);
            }
            self.slots.insert(
                key,
                Slot::Pending { attempt: attempt + 1, first_sent: Some(first_sent), not_before: Some(retry_at) },
            );
            return;
        }
        let err = if kind.is_retryable() {
            let waited = now.saturating_duration_since(first_sent);
            err.with_hint(format!("gave up after {attempt} attempts over {}", fmt_duration(waited)))
        } else if kind == ErrorKind::Auth {
            let endpoint = self.config.encoder.endpoint().describe();
            err.with_hint(format!(
                "check the credentials; an account works only in its own region, this was {endpoint}"
            ))
        } else {
            err
        };
        self.failed = Some(err);
    }
}

fn fmt_duration(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Splits an inclusive date range into consecutive windows of at most
/// `max_days` inclusive days, oldest first.
pub fn split_window((start, end): (NaiveDate, NaiveDate), max_days: u32) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut from = start;
    while from <= end {
        let to = (from + chrono::Days::new(u64::from(max_days.max(1) - 1))).min(end);
        windows.push(Window::Dates { start: from, end: to });
        match to.succ_opt() {
            Some(next) => from = next,
            None => break,
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn windows_split_inclusively() {
        let w = split_window((d("2024-01-01"), d("2024-01-10")), 3);
        let got: Vec<_> = w
            .iter()
            .map(|w| match w {
                Window::Dates { start, end } => (start.to_string(), end.to_string()),
                Window::Days(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            got,
            [
                ("2024-01-01".into(), "2024-01-03".into()),
                ("2024-01-04".into(), "2024-01-06".into()),
                ("2024-01-07".into(), "2024-01-09".into()),
                ("2024-01-10".into(), "2024-01-10".into())
            ]
        );
        assert_eq!(split_window((d("2024-01-01"), d("2024-01-01")), 30).len(), 1);
    }
}
