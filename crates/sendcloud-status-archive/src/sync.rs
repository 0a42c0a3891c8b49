//! [`Archive::sync`]: plan with the core's planner, read with the client's
//! exports, write each page in one transaction.
//!
//! Per page, one transaction holds the page's upserts and history rows, the
//! run's counters, and — when the page is the first of a new window — the
//! state of the days of the window that just ended (complete when the
//! export reports it exact). A run killed at any point therefore leaves
//! whole pages and only finished days marked; the next run reads every
//! unfinished day again, and re-seeing rows adds nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rusqlite::{Transaction, TransactionBehavior, params};
use sendcloud_status::chrono::{NaiveDate, NaiveDateTime};
use sendcloud_status::core::sync::{self, Segment, SyncPlan, SyncPolicy};
use sendcloud_status::{Client, ExportRequest, ExportStats, Query};

use crate::archive::{Archive, Scope};
use crate::days::{DayRead, mark_days};
use crate::error::{Context, Error, Result};
use crate::ingest::{Ingested, write_records};
use crate::lock::SyncLock;

/// Where a sync takes the server's time from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerClock {
    /// This machine's clock at the client's server offset.
    #[default]
    System,
    /// A server clock that read this at the start of the sync and runs with
    /// real time (a sandbox whose calendar is not the real one).
    At(NaiveDateTime),
    /// Only the server day is known: the plan is made at its 00:00, and
    /// exports do not judge changes by time (`--today`).
    Day(NaiveDate),
}

/// Settings of a sync.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SyncOptions {
    /// The planner's settings (since, lookback, rescan interval…).
    pub policy: SyncPolicy,
    /// The `apiUserList` to sync (empty: the calling apiUser only).
    pub api_users: Vec<String>,
    /// The server's time.
    pub clock: ServerClock,
    /// Stops the sync once set (see [`SyncOptions::cancel_flag`]).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl SyncOptions {
    /// Sets [`policy`](Self::policy).
    pub fn policy(mut self, policy: SyncPolicy) -> Self {
        self.policy = policy;
        self
    }
    /// Sets [`api_users`](Self::api_users).
    pub fn api_users<I: IntoIterator<Item = S>, S: Into<String>>(mut self, users: I) -> Self {
        self.api_users = users.into_iter().map(Into::into).collect();
        self
    }
    /// Sets [`clock`](Self::clock).
    pub fn clock(mut self, clock: ServerClock) -> Self {
        self.clock = clock;
        self
    }
    /// A flag that stops the sync once set, from any thread: the page being
    /// read is written, then [`Archive::sync`] fails with
    /// [`Error::Cancelled`] and records its run as `interrupted`. As after a
    /// crash, every whole page stays and the next sync reads the unfinished
    /// days again.
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }
}

/// Where a running sync stands, passed to the progress callback after
/// every page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncProgress {
    /// Days the plan reads.
    pub days_planned: usize,
    /// Days read to the end so far.
    pub days_done: usize,
    /// Requests sent so far (retries included).
    pub requests: u64,
    /// Records read so far.
    pub records_seen: u64,
    /// Emails new to the archive so far.
    pub inserted: u64,
    /// Emails whose state changed so far.
    pub changed: u64,
    /// The window being read.
    pub window: Option<(NaiveDate, NaiveDate)>,
}

/// What a sync did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncReport {
    /// The `sync_runs` row of the run.
    pub run_id: i64,
    /// The plan it carried out.
    pub plan: SyncPlan,
    /// Days read to the end.
    pub days_read: usize,
    /// Days whose results kept moving while they were read: not marked
    /// complete, read again by the next sync.
    pub inexact_days: Vec<NaiveDate>,
    /// Requests sent (retries included).
    pub requests: u64,
    /// Records read.
    pub records_seen: u64,
    /// What writing them did.
    pub ingested: Ingested,
    /// The exports' counters, merged.
    pub stats: ExportStats,
}

impl SyncReport {
    /// Every day read ended exactly.
    pub fn is_exact(&self) -> bool {
        self.inexact_days.is_empty()
    }
}

/// `12 days read, 143 requests, 14200 records seen, 230 new, 51 changed`.
impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} days read, {} requests, {} records seen, {} new, {} changed",
            self.days_read, self.requests, self.records_seen, self.ingested.inserted, self.ingested.changed
        )?;
        if !self.inexact_days.is_empty() {
            write!(f, ", {} days still moving (read again next run)", self.inexact_days.len())?;
        }
        Ok(())
    }
}

/// The running clock of one sync.
struct Clock<'a> {
    kind: ServerClock,
    base: NaiveDateTime,
    started: Instant,
    client: &'a Client,
}

impl Clock<'_> {
    fn now(&self) -> NaiveDateTime {
        match self.kind {
            ServerClock::System => self.client.server_now(),
            _ => self.base + self.started.elapsed(),
        }
    }

    fn export<'c>(&self, client: &'c Client, query: Query) -> ExportRequest<'c> {
        match self.kind {
            ServerClock::System => client.export(query),
            ServerClock::At(_) => client.export(query).server_now(self.now()),
            ServerClock::Day(day) => client.export(query).today(day),
        }
    }
}

/// One run in progress: its id, scope, counters.
struct Run<'a> {
    id: i64,
    scope: Scope,
    api_users: &'a [String],
    clock: Clock<'a>,
    read_at: String,
    progress: SyncProgress,
    ingested: Ingested,
    stats: ExportStats,
    inexact: Vec<NaiveDate>,
    cancel: Option<&'a AtomicBool>,
}

impl Archive {
    /// Brings the archive up to date with the server: plans which days to
    /// read ([`sync::plan`] on the archive's day states), reads them with
    /// `client`, and writes every page in one transaction. `progress` is
    /// called after each page.
    ///
    /// Only one sync runs on a file at a time: a second one fails at once
    /// with [`Error::Busy`]. The API key is neither stored nor logged.
    pub fn sync(
        &mut self,
        client: &Client,
        options: &SyncOptions,
        mut progress: impl FnMut(&SyncProgress),
    ) -> Result<SyncReport> {
        let _lock = if self.path.as_os_str() == ":memory:" { None } else { Some(SyncLock::acquire(&self.path)?) };
        let scope = match Scope::new(options.api_users.iter().cloned()) {
            Some(s) => s,
            None => Scope::new([client.api_user()]).ok_or_else(|| {
                Error::Api(sendcloud_status::Error::validation("api_user", "the client has no apiUser"))
            })?,
        };
        let base = match options.clock {
            ServerClock::System => client.server_now(),
            ServerClock::At(t) => t,
            ServerClock::Day(d) => d.and_time(NaiveDateTime::MIN.time()),
        };
        let clock = Clock { kind: options.clock, base, started: Instant::now(), client };
        let plan = sync::plan(&options.policy, &self.day_states(&scope)?, base)?;
        let read_at = self.stamp(base);
        let id = self.begin_run(&read_at, &scope)?;
        let mut run = Run {
            id,
            scope,
            api_users: &options.api_users,
            clock,
            read_at,
            progress: SyncProgress { days_planned: plan.days.len(), ..SyncProgress::default() },
            ingested: Ingested::default(),
            stats: ExportStats::default(),
            inexact: Vec::new(),
            cancel: options.cancel.as_deref(),
        };
        log::info!(
            "sync {}: {} days to read ({} read recently, skipped)",
            run.scope.key(),
            plan.days.len(),
            plan.skipped_recent.len()
        );
        for segment in plan.segments() {
            let result = match segment {
                _ if run.cancelled() => Err(Error::Cancelled),
                Segment::Full { start, end } => self.read_full(client, &mut run, start, end, &mut progress),
                Segment::SendingRows { day } => self.read_sending(client, &mut run, day, &mut progress),
                _ => Ok(()),
            };
            match result {
                Ok(()) => {}
                Err(Error::Cancelled) => {
                    self.end_run(&run, "interrupted", None);
                    return Err(Error::Cancelled);
                }
                Err(e) => {
                    self.end_run(&run, "failed", Some(&e.to_string()));
                    return Err(e);
                }
            }
        }
        let outcome = if run.inexact.is_empty() { "complete" } else { "inexact" };
        self.end_run(&run, outcome, None);
        Ok(SyncReport {
            run_id: run.id,
            days_read: run.progress.days_done,
            inexact_days: run.inexact,
            requests: run.progress.requests,
            records_seen: run.progress.records_seen,
            ingested: run.ingested,
            stats: run.stats,
            plan,
        })
    }

    /// Starts a `sync_runs` row; runs left `running` by a killed process
    /// become `interrupted` (this process holds the lock, so none is live).
    fn begin_run(&mut self, started_at: &str, scope: &Scope) -> Result<i64> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        tx.execute("UPDATE sync_runs SET outcome = 'interrupted' WHERE outcome = 'running'", []).at(&path)?;
        tx.execute(
            "INSERT INTO sync_runs (started_at, outcome, scope) VALUES (?1, 'running', ?2)",
            params![started_at, scope.key()],
        )
        .at(&path)?;
        let id = tx.last_insert_rowid();
        tx.commit().at(&path)?;
        Ok(id)
    }

    /// Ends the run row. Best effort when the run failed: the error being
    /// reported matters more than this row, which the next sync marks
    /// `interrupted` anyway.
    fn end_run(&mut self, run: &Run<'_>, outcome: &str, error: Option<&str>) {
        let finished = self.stamp(run.clock.now());
        let result = self.conn.execute(
            "UPDATE sync_runs SET finished_at = ?2, outcome = ?3, error = ?4 WHERE id = ?1",
            params![run.id, finished, outcome, error],
        );
        if let Err(e) = result {
            log::warn!("archive {}: cannot record the end of sync run {}: {e}", self.path.display(), run.id);
        }
    }

    /// One page in one transaction: rows, history, the days a finished
    /// window covers, the run's counters.
    fn commit_page(
        &mut self,
        run: &mut Run<'_>,
        records: &[sendcloud_status::Record],
        done: Option<Done>,
    ) -> Result<()> {
        let path = self.path.clone();
        let seen_at = self.stamp(run.clock.now());
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let ingested = write_records(&tx, records, &seen_at, Some(run.id)).at(&path)?;
        run.ingested.add(ingested);
        run.progress.records_seen += records.len() as u64;
        run.progress.inserted = run.ingested.inserted;
        run.progress.changed = run.ingested.changed;
        if let Some(done) = done {
            mark_days(&tx, &run.scope, done.days, done.read, &run.read_at, run.id).at(&path)?;
            let n = done.days.0.iter_days().take_while(|d| *d <= done.days.1).count();
            run.progress.days_done += n;
            if matches!(done.read, DayRead::Full { exact: false }) {
                run.inexact.extend(done.days.0.iter_days().take_while(|d| *d <= done.days.1));
            }
        }
        update_run(&tx, run).at(&path)?;
        tx.commit().at(&path)
    }

    fn read_full(
        &mut self,
        client: &Client,
        run: &mut Run<'_>,
        start: NaiveDate,
        end: NaiveDate,
        progress: &mut impl FnMut(&SyncProgress),
    ) -> Result<()> {
        let query = run.query(Query::builder().dates(start, end))?;
        let mut pages = run.clock.export(client, query).pages()?;
        let requests_before = run.progress.requests;
        let mut open: Option<(NaiveDate, NaiveDate)> = None;
        while let Some(page) = pages.next() {
            let page = page?;
            // The first page of a window: the window before it is over,
            // re-reads included, and the export knows whether it was exact.
            let done = match (open, page.window) {
                (Some(prev), Some(w)) if prev != w => Some(Done::full(prev, pages.stats())),
                _ => None,
            };
            open = page.window.or(open);
            run.progress.requests = requests_before + pages.stats().requests;
            run.progress.window = open;
            self.commit_page(run, &page.records, done)?;
            progress(&run.progress);
            if run.cancelled() {
                return Err(Error::Cancelled);
            }
        }
        run.progress.requests = requests_before + pages.stats().requests;
        let done = open.map(|w| Done::full(w, pages.stats()));
        self.commit_page(run, &[], done)?;
        run.stats.merge(pages.stats());
        progress(&run.progress);
        Ok(())
    }

    fn read_sending(
        &mut self,
        client: &Client,
        run: &mut Run<'_>,
        day: NaiveDate,
        progress: &mut impl FnMut(&SyncProgress),
    ) -> Result<()> {
        let ids = self.sending_ids(&run.scope, day)?;
        run.progress.window = Some((day, day));
        let mut exact = true;
        if !ids.is_empty() {
            let query = run.query(Query::builder().dates(day, day).email_ids(ids))?;
            let mut pages = run.clock.export(client, query).pages()?;
            let requests_before = run.progress.requests;
            while let Some(page) = pages.next() {
                let page = page?;
                run.progress.requests = requests_before + pages.stats().requests;
                self.commit_page(run, &page.records, None)?;
                progress(&run.progress);
                if run.cancelled() {
                    return Err(Error::Cancelled);
                }
            }
            run.progress.requests = requests_before + pages.stats().requests;
            exact = pages.stats().is_exact();
            run.stats.merge(pages.stats());
        }
        // Completeness stays what the last full read said; an inexact read
        // by ids is not counted as a read, so the next run tries again.
        let done = exact.then_some(Done { days: (day, day), read: DayRead::SendingRows });
        self.commit_page(run, &[], done)?;
        progress(&run.progress);
        Ok(())
    }
}

/// Days whose read ended, and how.
#[derive(Debug, Clone, Copy)]
struct Done {
    days: (NaiveDate, NaiveDate),
    read: DayRead,
}

impl Done {
    fn full(window: (NaiveDate, NaiveDate), stats: &ExportStats) -> Done {
        let unstable = stats.unstable_units.iter().any(|u| u.start <= window.1 && window.0 <= u.end);
        Done { days: window, read: DayRead::Full { exact: !unstable } }
    }
}

impl Run<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Acquire))
    }

    fn query(&self, builder: sendcloud_status::QueryBuilder) -> Result<Query> {
        let builder = if self.api_users.is_empty() { builder } else { builder.api_users(self.api_users.iter()) };
        Ok(builder.build()?)
    }
}

fn update_run(tx: &Transaction<'_>, run: &Run<'_>) -> rusqlite::Result<()> {
    let p = &run.progress;
    tx.prepare_cached(
        "UPDATE sync_runs SET days_read = ?2, requests = ?3, records_seen = ?4, inserted = ?5, changed = ?6
         WHERE id = ?1",
    )?
    .execute(params![
        run.id,
        p.days_done as i64,
        p.requests as i64,
        p.records_seen as i64,
        run.ingested.inserted as i64,
        run.ingested.changed as i64
    ])?;
    Ok(())
}
