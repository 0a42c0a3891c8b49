//! The export state machine: the one thing drivers loop over.
//!
//! A driver calls [`Export::poll`] with the current time and does what the
//! [`Action`] says: send a request (and later feed the answer back with
//! [`Export::handle_response`] or [`Export::handle_transport_error`]), wait
//! until an instant, wait for an answer it already has in flight, take a
//! page, or stop. The machine never reads a clock, sleeps or does I/O.
//!
//! # The plan
//!
//! The query's window is resolved into server days **once, when the export
//! starts** (`days(n)` becomes `today − (n−1) ..= today` from the `today`
//! the driver passes in), split into windows the endpoint accepts, and
//! crossed with `emailIds` chunks. Each window × chunk is a *unit*; units
//! are read oldest window first. Requests always carry explicit dates, so
//! an export that runs past the server's midnight keeps reading the days it
//! started with (a `days=N` request would name another range after
//! midnight). The driver's `today` comes from its clock at the server's
//! offset: a clock off by δ resolves the range as the server would have δ
//! later or earlier, the same as starting the export at that moment.
//!
//! # A live account: drift detection and healing
//!
//! The account changes while it is paged: mail arrives, "sending" rows turn
//! final and leave a `status=sending` result. Offset pages over a moving
//! result set skip rows (the set shrank under the paginator) or repeat them
//! (it grew). Each unit therefore goes through *passes*:
//!
//! ```text
//!            ┌──────────────────────── pass 0 ─────────────────────────┐
//!   start ──►│ offsets 0, L, 2L … with page size L, emitted as they    │
//!            │ complete; every `total`, short and empty page is noted  │
//!            └───────────────┬─────────────────────────────────────────┘
//!                            │ last page emitted
//!          steady: one total,│ no short/empty page before it
//!        ┌───────────────────┴──────────────┐ moved
//!        ▼                                  ▼
//!   unit done                  ┌──────── pass p (1 ..= max_rereads) ───────┐
//!   (next unit)                │ page size Lp ≠ every earlier pass (so no  │
//!        ▲                     │ request repeats one the server cached),   │
//!        │                     │ offsets step Lp − overlap: each page must │
//!        │  every page held a  │ contain a row of the page before it       │
//!        ├─ row of the one ────┤                                           │
//!        │  before: no gap     └──────────────┬────────────────────────────┘
//!        │                                    │ a page held none (a gap is possible)
//!        │                                    ▼
//!        └── p = max_rereads: done, unit listed in stats as unstable ◄── or pass p+1
//! ```
//!
//! Why anchored pages close the gap: rows keep their order (by request
//! time), so if a page contains a row of the page before it, it holds every
//! row that followed that row in the set at the time — no row that stayed in
//! the set can fall between the two pages. Rows that changed during the
//! export may appear in either state, once; rows are de-duplicated by email
//! id within a unit and its re-reads (units are disjoint: windows by date,
//! chunks by id), so memory does not grow with the export.
//!
//! When nothing moves, pass 0 is the whole cost: no extra request. When the
//! server answers a parameter set from a 10-minute snapshot (as documented),
//! nothing moves within the snapshot either.
//!
//! Besides: retries with backoff, the shared rate limiter, `max_records`,
//! the resumable [`Cursor`], and — with `parallelism > 1` — several page
//! requests in flight while pages are still emitted in a fixed order.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};

use crate::cursor::{Cursor, PlanShape, fingerprint};
use crate::decode::{Decoder, PageBody};
pub use crate::error::TransportErrorKind;
use crate::error::{Error, ErrorKind, Result, ValidationReason};
use crate::limiter::{RateLimiter, SharedLimiter};
use crate::query::{Query, Window};
use crate::record::{Page, Position, Record};
use crate::request::{Encoder, HttpRequest};
use crate::retry::{Jitter, RetryPolicy};
use crate::throughput::{Outcome, Parallelism};

/// Default number of email ids per request.
pub use crate::settings::DEFAULT_EMAIL_ID_CHUNK;
/// Default cap on pages per window, chunk and pass: a guard against a
/// server that never stops paging (10 million rows at 100 per page).
pub const DEFAULT_MAX_PAGES_PER_UNIT: u32 = 100_000;
/// Default number of extra passes over a unit whose result set moved.
pub const DEFAULT_MAX_REREADS: u32 = 3;

/// Identifies a request the machine asked for, to match its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

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

/// A window × id chunk whose result set was still moving after the last
/// re-read: rows that did not change may be missing from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UnstableUnit {
    /// First server day of the window.
    pub start: NaiveDate,
    /// Last server day of the window (inclusive).
    pub end: NaiveDate,
    /// Index of the `emailIds` chunk (0 without ids).
    pub chunk: u32,
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
    /// Rows skipped because their email id was already emitted by the same
    /// unit (a page overlap, a re-read, or a server repeating a row).
    pub duplicates: u64,
    /// Pages emitted.
    pub pages: u64,
    /// Passes over units: one per unit read, plus every re-read.
    pub passes: u64,
    /// Units read again because their result set moved while being paged.
    pub units_reread: u64,
    /// How far `total` moved, summed over passes (largest minus smallest
    /// `total` seen in a pass).
    pub total_drift: u64,
    /// Non-empty pages shorter than the page size while `total` said more
    /// rows remained.
    pub short_pages: u64,
    /// Empty pages while `total` said more rows remained.
    pub empty_pages: u64,
    /// Units still moving after the last re-read allowed
    /// ([`ExportConfig::max_rereads`]). Empty in an exact export.
    pub unstable_units: Vec<UnstableUnit>,
}

impl ExportStats {
    /// Whether every unit ended on a pass that saw no movement: then every
    /// row that did not change during the export was emitted, once.
    pub fn is_exact(&self) -> bool {
        self.unstable_units.is_empty()
    }

    /// Adds the counters of another export (several exports of one run).
    pub fn merge(&mut self, other: &ExportStats) {
        self.requests += other.requests;
        self.retries += other.retries;
        self.rate_limited += other.rate_limited;
        self.failures += other.failures;
        self.records += other.records;
        self.duplicates += other.duplicates;
        self.pages += other.pages;
        self.passes += other.passes;
        self.units_reread += other.units_reread;
        self.total_drift += other.total_drift;
        self.short_pages += other.short_pages;
        self.empty_pages += other.empty_pages;
        self.unstable_units.extend(other.unstable_units.iter().cloned());
    }
}

/// One line for logs and `-v` output:
/// `2400 records, 24 pages, 24 requests (0 retries, 0 rate limited), 3 passes (0 units re-read, total drift 0, 0 short and 0 empty pages), 0 duplicates dropped`.
impl std::fmt::Display for ExportStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} records, {} pages, {} requests ({} retries, {} rate limited), {} passes ({} units re-read, \
             total drift {}, {} short and {} empty pages), {} duplicates dropped",
            self.records,
            self.pages,
            self.requests,
            self.retries,
            self.rate_limited,
            self.passes,
            self.units_reread,
            self.total_drift,
            self.short_pages,
            self.empty_pages,
            self.duplicates
        )?;
        if !self.unstable_units.is_empty() {
            write!(f, ", {} units still moving", self.unstable_units.len())?;
        }
        Ok(())
    }
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
    /// The limiter and its throughput controller; share one between the
    /// exports of an account.
    pub limiter: SharedLimiter,
    /// Seed of the backoff jitter.
    pub jitter_seed: u64,
    /// Email ids per request (at least 1).
    pub email_id_chunk: usize,
    /// Requests in flight at once: as many as fill the limiter's rate at
    /// the observed latency ([`Parallelism::Auto`]), or a fixed number.
    pub parallelism: Parallelism,
    /// Stop after this many records.
    pub max_records: Option<u64>,
    /// Guard against endless paging.
    pub max_pages_per_unit: u32,
    /// Extra passes over a unit whose result set moved (0 turns healing
    /// off; movement is still counted).
    pub max_rereads: u32,
    /// The server-local time the export started (the driver's clock at the
    /// server's offset). A first-pass row requested or modified after it
    /// shows the account changing under the export, even when arrivals and
    /// departures leave `total` unchanged; its unit is then re-read. `None`
    /// leaves that check to `total` alone.
    ///
    /// A driver clock behind the server's only costs re-reads (rows sent
    /// just before the start look new); one ahead by δ misses changes made
    /// in the first δ of the export, which `total` still sees unless they
    /// balance out exactly — keep the clock synchronised.
    pub started_at: Option<NaiveDateTime>,
}

impl ExportConfig {
    /// Defaults: retry policy, 3000 requests/minute, chunks of 20 ids,
    /// automatic parallelism, no record limit, 3 re-reads.
    pub fn new(encoder: Encoder) -> Self {
        ExportConfig {
            encoder,
            decoder: Decoder::default(),
            retry: RetryPolicy::default(),
            limiter: RateLimiter::new(Some(Default::default())).shared(),
            jitter_seed: 0,
            email_id_chunk: DEFAULT_EMAIL_ID_CHUNK,
            parallelism: Parallelism::Auto,
            max_records: None,
            max_pages_per_unit: DEFAULT_MAX_PAGES_PER_UNIT,
            max_rereads: DEFAULT_MAX_REREADS,
            started_at: None,
        }
    }
}

/// A page request's place: unit, pass, offset. Emission follows this order.
type Key = (u32, u32, u32);

/// The page size of pass `pass` for a first-pass page size `limit`: a
/// different `limit` in every pass, so that no re-read request equals an
/// earlier one (the server caches identical requests for 10 minutes), and
/// at least 2 so that pages can overlap.
fn pass_page_size(limit: u32, pass: u32) -> u32 {
    match limit.checked_sub(pass) {
        _ if pass == 0 => limit,
        Some(l) if l >= 2 => l,
        _ => limit + pass,
    }
}

/// Rows each page of pass `pass` shares with the page before it: none in
/// pass 0, then a quarter, half, three quarters … of the page (at least
/// one row, at most all but one), so each re-read tolerates more movement.
fn pass_overlap(page_size: u32, pass: u32) -> u32 {
    if pass == 0 || page_size < 2 {
        return 0;
    }
    let quarters = u64::from(pass.min(3));
    ((u64::from(page_size) * quarters / 4) as u32).clamp(1, page_size - 1)
}

/// Progress of one unit (window × chunk) in its current pass.
#[derive(Debug)]
struct Unit {
    pass: u32,
    page_size: u32,
    overlap: u32,
    /// Where every pass of this unit starts (query `start` or a cursor).
    origin: u32,
    /// The next offset not yet requested in this pass.
    next_offset: u32,
    /// Pages requested in this pass (first attempts).
    pages: u32,
    /// Rows the answers so far say exist: the next page is requested while
    /// it would reach past its overlap below this.
    known_rows: u64,
    /// A short page was answered: the set ended there; request no more.
    closed: bool,
    /// Smallest and largest `total` answered in this pass.
    totals: Option<(u64, u64)>,
    /// This pass saw something that can hide a row.
    moved: bool,
    /// The end of the first short page emitted in this pass (pass 0: rows
    /// after it mean the set moved).
    short_end: Option<u64>,
    /// Hashes of the rows of the page emitted last in this pass (`None`
    /// before the first page), to check the next one overlaps it.
    previous_page: Option<Vec<u64>>,
    /// Email-id hashes emitted by this unit, across its passes.
    seen: HashSet<u64>,
}

impl Unit {
    fn new(pass: u32, origin: u32, limit: u32) -> Unit {
        let page_size = pass_page_size(limit, pass);
        Unit {
            pass,
            page_size,
            overlap: pass_overlap(page_size, pass),
            origin,
            next_offset: origin,
            pages: 0,
            known_rows: 0,
            closed: false,
            totals: None,
            moved: false,
            short_end: None,
            previous_page: None,
            seen: HashSet::new(),
        }
    }

    /// Starts the next pass, keeping what was emitted.
    fn next_pass(&mut self, limit: u32) {
        let seen = std::mem::take(&mut self.seen);
        *self = Unit { seen, ..Unit::new(self.pass + 1, self.origin, limit) };
    }

    fn stride(&self) -> u32 {
        self.page_size - self.overlap
    }

    /// Whether another page of this pass should be requested.
    fn wants_page(&self) -> bool {
        self.pages == 0 || (!self.closed && u64::from(self.next_offset) + u64::from(self.overlap) < self.known_rows)
    }
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
        /// When this attempt went out.
        sent: Instant,
    },
    Done(PageBody),
}

/// A paginated export over windows and email-id chunks. See the module doc.
#[derive(Debug)]
pub struct Export {
    config: ExportConfig,
    query: Query,
    /// The resolved server-day range of the whole export.
    dates: (NaiveDate, NaiveDate),
    fingerprint: u32,
    windows: Vec<Window>,
    chunks: Vec<Vec<String>>,
    single_page: bool,
    units: BTreeMap<u32, Unit>,
    slots: BTreeMap<Key, Slot>,
    /// Next page to emit.
    emit: Key,
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
    /// server-local date at the start: a `days` window is resolved on it
    /// once, and the export keeps those dates. With a cursor, the export
    /// resumes after the last record delivered before it was taken, on the
    /// cursor's dates (`today` is then unused).
    pub fn new(config: ExportConfig, query: Query, today: NaiveDate, cursor: Option<&Cursor>) -> Result<Export> {
        let max = config.encoder.endpoint().max_window_days();
        let dates = cursor.map_or_else(|| query.window.date_range(today), Cursor::dates);
        let shape = PlanShape {
            dates,
            max_window_days: max,
            email_id_chunk: config.email_id_chunk.max(1),
            page_size: query.limit,
        };
        let fp = fingerprint(&query, &shape);
        let windows = split_window(dates, max);
        let chunks: Vec<Vec<String>> = if query.email_ids.is_empty() {
            vec![Vec::new()]
        } else {
            query.email_ids.chunks(shape.email_id_chunk).map(<[String]>::to_vec).collect()
        };
        let mut export = Export::planned(config, query, dates, fp, windows, chunks, false);
        if let Some(c) = cursor {
            if c.fingerprint != fp {
                return Err(Error::invalid_value(
                    "cursor",
                    ValidationReason::Contradiction,
                    "this cursor belongs to another query, or to a client with another page size, region \
                     window or id chunk size",
                ));
            }
            if c.window as usize >= export.windows.len() || c.chunk as usize >= export.chunks.len() {
                return Err(Error::invalid_value(
                    "cursor",
                    ValidationReason::Contradiction,
                    "the cursor points past the end of this query",
                ));
            }
            if c.pass > export.config.max_rereads {
                return Err(Error::invalid_value(
                    "cursor",
                    ValidationReason::Contradiction,
                    "the cursor names a re-read this client does not make",
                ));
            }
            let unit = c.window * export.chunks.len() as u32 + c.chunk;
            export.emit = (unit, c.pass, c.offset);
        }
        Ok(export)
    }

    /// A machine that fetches exactly the one page `query` describes (its
    /// window, `start` and `limit`), with retries and rate limiting. The
    /// window must fit the endpoint.
    pub fn single_page(config: ExportConfig, query: Query) -> Result<Export> {
        config.encoder.encode(&query)?; // same checks as a direct encode
        let windows = vec![query.window];
        let chunks = vec![query.email_ids.clone()];
        // Dates and fingerprint are unused: no cursor, the window is sent as given.
        let dates = (NaiveDate::MIN, NaiveDate::MIN);
        Ok(Export::planned(config, query, dates, 0, windows, chunks, true))
    }

    fn planned(
        config: ExportConfig,
        query: Query,
        dates: (NaiveDate, NaiveDate),
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
            dates,
            fingerprint,
            windows,
            chunks,
            single_page,
            units: BTreeMap::new(),
            slots: BTreeMap::new(),
            emit: (0, 0, first_offset),
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

    /// The inclusive server-day range the export covers, fixed at its
    /// start (`None` for [`Export::single_page`], which sends its window
    /// as given).
    pub fn dates(&self) -> Option<(NaiveDate, NaiveDate)> {
        (!self.single_page).then_some(self.dates)
    }

    /// Counters so far.
    pub fn stats(&self) -> &ExportStats {
        &self.stats
    }

    /// Where to resume after the records emitted so far; `None` once every
    /// page was emitted (and always for [`Export::single_page`]).
    ///
    /// A resumed export does not remember the ids emitted before the
    /// cursor: resuming in the middle of a re-read can repeat rows of that
    /// unit (never lose them).
    pub fn cursor(&self) -> Option<Cursor> {
        if self.exhausted || self.single_page {
            return None;
        }
        Some(self.cursor_at(self.emit))
    }

    fn cursor_at(&self, (unit, pass, offset): Key) -> Cursor {
        let n_chunks = self.chunks.len() as u32;
        Cursor {
            start: self.dates.0,
            end: self.dates.1,
            window: unit / n_chunks,
            chunk: unit % n_chunks,
            pass,
            offset,
            fingerprint: self.fingerprint,
        }
    }

    fn unit_count(&self) -> u32 {
        (self.windows.len() * self.chunks.len()) as u32
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
        let (unit_index, pass, offset) = key;
        let max_records = self.config.max_records;
        let unit = self.units.get_mut(&unit_index).expect("a unit exists while its pages are buffered");
        let rows = body.records.len();
        let hashes: Vec<Option<u64>> = body.records.iter().map(|r| r.email_id.as_deref().map(hash_id)).collect();

        // Movement a page reveals by its place among the others of its pass.
        if pass == 0 {
            if unit.short_end.is_some_and(|end| rows > 0 && u64::from(offset) >= end) {
                unit.moved = true; // rows beyond the end of the set
            }
        } else if let Some(previous) = &unit.previous_page
            && unit.short_end.is_none()
            && !previous.is_empty()
            && !hashes.iter().flatten().any(|h| previous.contains(h))
        {
            // No shared row: rows may have slipped between the pages. (After
            // a short page the pass is complete: that page reached the end of
            // the set, so pages already requested beyond it hold only rows
            // that came later.)
            unit.moved = true;
        }
        if rows < unit.page_size as usize && unit.short_end.is_none() {
            unit.short_end = Some(u64::from(offset) + rows as u64);
        }

        let mut records: Vec<Record> = Vec::with_capacity(rows);
        let mut row_index = Vec::with_capacity(rows);
        let mut consumed = 0usize;
        let mut hit_max = false;
        for (record, hash) in body.records.into_iter().zip(&hashes) {
            if max_records.is_some_and(|m| self.stats.records >= m) {
                hit_max = true;
                break;
            }
            consumed += 1;
            match hash {
                Some(h) if !unit.seen.insert(*h) => {
                    self.stats.duplicates += 1;
                    continue;
                }
                // Rows without an id cannot be matched across passes: only
                // the first pass emits them.
                None if pass > 0 => continue,
                _ => {}
            }
            self.stats.records += 1;
            row_index.push((consumed - 1) as u32);
            records.push(record);
        }
        unit.previous_page = Some(hashes.into_iter().flatten().collect());
        hit_max |= max_records.is_some_and(|m| self.stats.records >= m);

        let n_chunks = self.chunks.len() as u32;
        let page = Page {
            total: body.total,
            records,
            position: Position { window: unit_index / n_chunks, chunk: unit_index % n_chunks, offset },
            pass,
            window: match self.windows[(unit_index / n_chunks) as usize] {
                Window::Dates { start, end } => Some((start, end)),
                Window::Days(_) => None,
            },
            rows_received: rows,
            resume: Some((self.cursor_at(key), row_index)),
        };
        self.stats.pages += 1;

        if hit_max {
            self.finished = true;
            self.emit = if consumed < rows { (unit_index, pass, offset + consumed as u32) } else { self.after(key) };
        } else {
            self.emit = self.after(key);
        }
        if self.finished {
            self.slots.clear();
        }
        Some(page)
    }

    /// The emission point after the page at `key` was emitted: the next
    /// page of the pass, the next pass of the unit, or the next unit.
    fn after(&mut self, (unit_index, pass, offset): Key) -> Key {
        let limit = self.query.limit;
        let unit = self.units.get_mut(&unit_index).expect("the emitted page's unit exists");
        let pass_open = self.slots.range((unit_index, pass, 0)..(unit_index, pass + 1, 0)).next().is_some();
        if !self.single_page && (pass_open || unit.wants_page()) {
            return (unit_index, pass, offset + unit.stride());
        }
        // The pass is complete.
        if unit.moved && !self.single_page {
            if unit.pass < self.config.max_rereads {
                if unit.pass == 0 {
                    self.stats.units_reread += 1;
                }
                unit.next_pass(limit);
                self.stats.passes += 1;
                return (unit_index, unit.pass, unit.origin);
            }
            let n_chunks = self.chunks.len() as u32;
            let (start, end) = match self.windows[(unit_index / n_chunks) as usize] {
                Window::Dates { start, end } => (start, end),
                Window::Days(_) => (self.dates.0, self.dates.1),
            };
            self.stats.unstable_units.push(UnstableUnit { start, end, chunk: unit_index % n_chunks });
        }
        self.units.remove(&unit_index);
        if self.single_page || unit_index + 1 >= self.unit_count() {
            self.finished = true;
            self.exhausted = true;
        }
        (unit_index + 1, 0, 0)
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
        let Some(parallelism) = self.in_flight_limit(now) else { return Err(self.fail(poisoned_limiter())) };
        let key = match due {
            Some(key) if in_flight < parallelism => Some(key),
            Some(_) => None,
            None if in_flight < parallelism => self.next_new_page(parallelism),
            None => None,
        };
        if let Some(e) = &self.failed {
            // `next_new_page` hit the page cap: report it, do not fall
            // through to `Done` (which would end the export silently).
            return Err(e.clone());
        }
        if let Some(key) = key {
            let wait = self.config.limiter.lock().map(|mut limiter| limiter.try_acquire(now)).map_err(drop);
            let Ok(wait) = wait else { return Err(self.fail(poisoned_limiter())) };
            match wait {
                Ok(()) => return Ok(self.send(key, now)),
                Err(t) => earliest = Some(earliest.map_or(t, |e| e.min(t))),
            }
        }
        match earliest {
            Some(t) => Ok(Action::WaitUntil(t)),
            None if in_flight > 0 => Ok(Action::AwaitResponse),
            // Every unit is done; `try_emit` normally says so first.
            None if self.emit.0 >= self.unit_count() => {
                self.finished = true;
                self.exhausted = true;
                Ok(Action::Done)
            }
            // Nothing in flight, nothing due, nothing to request, yet pages
            // remain: a bug. Fail loudly rather than end the export short.
            None => {
                Err(self.fail(Error::internal(format!("the export stalled at {:?}; please report this", self.emit))))
            }
        }
    }

    /// Requests that may be in flight now: fixed, or the controller's limit
    /// (`None`: the limiter's lock is poisoned).
    fn in_flight_limit(&self, now: Instant) -> Option<usize> {
        match self.config.parallelism {
            Parallelism::Fixed(n) => Some(n.max(1)),
            _ => self.config.limiter.lock().ok().map(|l| l.in_flight_limit(now)),
        }
    }

    /// The limits the machine works within now: the rate and the requests
    /// in flight (for logs and progress displays).
    pub fn throughput(&self, now: Instant) -> Option<crate::throughput::ThroughputState> {
        let mut state = self.config.limiter.lock().ok()?.throughput(now);
        if let Parallelism::Fixed(n) = self.config.parallelism {
            state.in_flight_limit = n.max(1);
        }
        Some(state)
    }

    fn fail(&mut self, error: Error) -> Error {
        self.failed = Some(error.clone());
        error
    }

    /// The next page that may be requested now, creating its slot. The
    /// emission unit comes first and is never held back; units ahead of it
    /// are read while at most `2 × parallelism` pages wait in the buffer.
    fn next_new_page(&mut self, parallelism: usize) -> Option<Key> {
        let parallelism = parallelism.max(1) as u32;
        let (emit_unit, emit_pass, emit_offset) = self.emit;
        let last = if self.single_page { emit_unit } else { (emit_unit + parallelism - 1).min(self.unit_count() - 1) };
        let buffer_full = self.slots.len() >= 2 * parallelism as usize;
        let (limit, cap) = (self.query.limit, self.config.max_pages_per_unit);
        for u in emit_unit..=last {
            if u > emit_unit && buffer_full {
                break;
            }
            // The emission unit starts where emission stands (query `start`
            // or a cursor); units further ahead start at 0.
            let unit = self.units.entry(u).or_insert_with(|| {
                self.stats.passes += 1;
                if u == emit_unit { Unit::new(emit_pass, emit_offset, limit) } else { Unit::new(0, 0, limit) }
            });
            if !unit.wants_page() || (self.single_page && unit.pages > 0) {
                continue;
            }
            if unit.pages >= cap {
                self.failed = Some(Error::new(
                    ErrorKind::Api,
                    format!("stopped after {cap} pages of one window: the server keeps paging"),
                ));
                return None;
            }
            let key = (u, unit.pass, unit.next_offset);
            unit.next_offset = unit.next_offset.saturating_add(unit.stride());
            unit.pages += 1;
            self.slots.insert(key, Slot::Pending { attempt: 1, first_sent: None, not_before: None });
            return Some(key);
        }
        None
    }

    fn send(&mut self, key: Key, now: Instant) -> Action {
        let (unit, _, offset) = key;
        let Some(Slot::Pending { attempt, first_sent, .. }) = self.slots.remove(&key) else {
            unreachable!("send is only called on pending slots")
        };
        let id = RequestId(self.next_id);
        self.next_id += 1;
        self.stats.requests += 1;
        if attempt > 1 {
            self.stats.retries += 1;
        }
        self.slots.insert(key, Slot::InFlight { id, attempt, first_sent: first_sent.unwrap_or(now), sent: now });
        let n_chunks = self.chunks.len() as u32;
        let window = self.windows[(unit / n_chunks) as usize];
        let ids = &self.chunks[(unit % n_chunks) as usize];
        let page_size = self.units.get(&unit).map_or(self.query.limit, |u| u.page_size);
        let request = self.config.encoder.encode_page(&self.query, window, ids, offset, page_size);
        Action::Send(id, request)
    }

    fn find_in_flight(&self, id: RequestId) -> Option<(Key, u32, Instant, Instant)> {
        self.slots.iter().find_map(|(&key, slot)| match slot {
            Slot::InFlight { id: i, attempt, first_sent, sent } if *i == id => {
                Some((key, *attempt, *first_sent, *sent))
            }
            _ => None,
        })
    }

    /// Tells the throughput controller how a request went.
    fn observe(&mut self, sent: Instant, now: Instant, outcome: Outcome) {
        match self.config.limiter.lock() {
            Ok(mut limiter) => limiter.observe(sent, now, outcome),
            Err(_) => self.failed = Some(poisoned_limiter()),
        }
    }

    /// Feeds back the answer to a request: HTTP status and body, whatever
    /// the status (error answers carry JSON bodies too).
    pub fn handle_response(&mut self, id: RequestId, http_status: u16, body: &[u8], now: Instant) {
        let Some((key, attempt, first_sent, sent)) = self.find_in_flight(id) else { return };
        match self.config.decoder.decode(http_status, body) {
            Ok(page) => {
                self.observe(sent, now, Outcome::Ok);
                self.accept(key, page);
            }
            Err(e) => {
                let throttled = e.kind() == ErrorKind::RateLimited;
                self.observe(sent, now, if throttled { Outcome::Throttled } else { Outcome::Fault });
                self.fail_attempt(key, attempt, first_sent, e, now);
            }
        }
    }

    /// Reports that a request failed below HTTP.
    pub fn handle_transport_error(&mut self, id: RequestId, kind: TransportErrorKind, now: Instant) {
        let Some((key, attempt, first_sent, sent)) = self.find_in_flight(id) else { return };
        self.observe(sent, now, Outcome::Fault);
        let endpoint = self.config.encoder.endpoint().describe();
        let err = Error::transport_failure(kind, format!("{} ({endpoint})", kind.describe()));
        if !kind.is_retryable() {
            self.failed = Some(err);
            return;
        }
        self.fail_attempt(key, attempt, first_sent, err, now);
    }

    /// Records what an answer says about its unit's result set.
    fn accept(&mut self, key: Key, page: PageBody) {
        let (unit_index, pass, offset) = key;
        let changed_since = self.config.started_at;
        if let Some(unit) = self.units.get_mut(&unit_index).filter(|u| u.pass == pass) {
            // A row sent or changed since the start: the set is live. An
            // arrival can balance a departure in `total`; rows arriving or
            // changing ahead of the paginator are seen by it, so this closes
            // that blind spot of the first pass.
            if pass == 0
                && let Some(since) = changed_since
                && page.records.iter().any(|r| {
                    [&r.request_time, &r.modified_time]
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.datetime())
                        .any(|t| t.naive_local() > since)
                })
            {
                unit.moved = true;
            }
            let rows = page.records.len() as u64;
            let end_of_page = u64::from(offset) + rows;
            if let Some(total) = page.total {
                let (lo, hi) = unit.totals.map_or((total, total), |(lo, hi)| (lo.min(total), hi.max(total)));
                self.stats.total_drift += (hi - lo) - unit.totals.map_or(0, |(lo, hi)| hi - lo);
                // In pass 0 a moving `total` is the sign of drift; later passes
                // check their overlaps instead, which a growing set passes.
                if lo != hi && pass == 0 {
                    unit.moved = true;
                }
                unit.totals = Some((lo, hi));
            }
            let largest_total = unit.totals.map(|(_, hi)| hi);
            if rows < u64::from(unit.page_size) {
                // A short page: the set ended here when it was read.
                unit.closed = true;
                if largest_total.is_some_and(|t| end_of_page < t) {
                    if rows == 0 {
                        self.stats.empty_pages += 1;
                    } else {
                        self.stats.short_pages += 1;
                    }
                    // Pass 0 cannot tell a shrinking set from a server that
                    // over-reports `total`; later passes check overlaps.
                    if pass == 0 {
                        unit.moved = true;
                    }
                }
            } else {
                unit.known_rows = unit.known_rows.max(page.total.unwrap_or(end_of_page + 1)).max(end_of_page);
            }
        }
        self.slots.insert(key, Slot::Done(page));
    }

    fn fail_attempt(&mut self, key: Key, attempt: u32, first_sent: Instant, err: Error, now: Instant) {
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
            // A throttled page waits its backoff; the others go on at the
            // rate the controller just cut (no pause of the whole account).
            self.slots.insert(
                key,
                Slot::Pending { attempt: attempt + 1, first_sent: Some(first_sent), not_before: Some(retry_at) },
            );
            return;
        }
        let err = if kind.is_retryable() {
            let waited = now.saturating_duration_since(first_sent);
            let attempts = if attempt == 1 { "1 attempt".to_owned() } else { format!("{attempt} attempts") };
            err.with_hint(format!("gave up after {attempts} over {}", fmt_duration(waited)))
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

fn hash_id(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// A panic while another thread held the shared limiter: pacing can no
/// longer be trusted, so the export stops instead of running unpaced.
fn poisoned_limiter() -> Error {
    Error::internal("the shared rate limiter is unusable (a thread panicked while holding it)")
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

    #[test]
    fn every_pass_has_its_own_page_size_and_an_overlap() {
        for limit in 1..=100 {
            let sizes: Vec<u32> = (0..=DEFAULT_MAX_REREADS).map(|p| pass_page_size(limit, p)).collect();
            let distinct: HashSet<u32> = sizes.iter().copied().collect();
            assert_eq!(distinct.len(), sizes.len(), "limit {limit}: {sizes:?}");
            assert!(sizes.iter().all(|s| (1..=100).contains(s)), "limit {limit}: {sizes:?}");
            for p in 1..=DEFAULT_MAX_REREADS {
                let size = pass_page_size(limit, p);
                let overlap = pass_overlap(size, p);
                assert!(size >= 2 && overlap >= 1 && overlap < size, "limit {limit} pass {p}: {size}/{overlap}");
            }
        }
        assert_eq!(pass_overlap(100, 0), 0);
        assert_eq!((pass_page_size(100, 1), pass_overlap(99, 1)), (99, 24));
        assert_eq!(pass_overlap(98, 2), 49);
    }
}
