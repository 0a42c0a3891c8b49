//! The driver loop: poll the core's [`Export`], do what it says (send,
//! wait, hand out a page), feed results back. No protocol logic here.
//!
//! Threads: a parallel export runs its requests on a pool of workers, and a
//! read-ahead export runs the whole loop on a thread of its own. Neither can
//! hang the caller or outlive the export by more than one request: every
//! wait is on one condition variable that a cancel also wakes, the job
//! queue never holds more requests than there are workers, a panic while
//! sending is an error for the export, and dropping [`Pages`] or
//! [`Records`] cancels.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use sendcloud_status_core::{
    Action, Cursor, Error, Export, ExportStats, HttpRequest, Page, Parallelism, Record, RequestId, Result,
    TransportErrorKind,
};

use crate::transport::Outcome;

/// Sends one request: the transport, or a stand-in in tests.
pub(crate) trait Execute: Send + Sync + 'static {
    fn execute(&self, request: &HttpRequest) -> Outcome;
}

/// The pages of an export, fetched lazily. Iteration ends after the last
/// page or after the first error.
///
/// Dropping it (or [`Pages::close`]) cancels the export: no new request is
/// sent and its background threads, if any, end once the request they are
/// sending returns (within the client's timeout).
pub struct Pages {
    mode: Mode,
    shared: Arc<Shared>,
    /// Cursor and counters as of the last page handed out.
    cursor: Option<Cursor>,
    stats: ExportStats,
    ended: bool,
}

enum Mode {
    /// Pages are fetched when asked for, on the caller's thread.
    Inline(Driver),
    /// Set up for read-ahead; the thread starts at the first `next()`.
    Ahead(Option<Driver>),
    /// A thread fetches the next page while the caller works on this one.
    Running(ReadAhead),
    /// Closed: the driver and its threads are gone.
    Closed,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").field("stats", &self.stats).field("ended", &self.ended).finish()
    }
}

impl Pages {
    pub(crate) fn new(
        exec: Arc<dyn Execute>,
        export: Export,
        parallelism: impl Into<Parallelism>,
        read_ahead: bool,
    ) -> Self {
        let shared = Arc::new(Shared::default());
        let (cursor, stats) = (export.cursor(), export.stats().clone());
        let parallelism = parallelism.into().max_in_flight();
        let driver = Driver {
            exec,
            export,
            shared: shared.clone(),
            parallelism,
            pool: None,
            last_rate: None,
            noted_throttles: 0,
        };
        let mode = if read_ahead { Mode::Ahead(Some(driver)) } else { Mode::Inline(driver) };
        Pages { mode, shared, cursor, stats, ended: false }
    }

    /// Where to resume after the pages handed out so far (`None` once the
    /// export is complete). Save its string form; parse it back to resume.
    pub fn cursor(&self) -> Option<Cursor> {
        self.cursor
    }

    /// Requests, retries, rate-limit answers, records and duplicates as of
    /// the last page handed out.
    pub fn stats(&self) -> &ExportStats {
        &self.stats
    }

    /// Stops the export here: cancels its background work and ends the
    /// iteration (`next()` returns `None`). [`Pages::cursor`] still says
    /// where to resume. Dropping does the same.
    pub fn close(&mut self) {
        self.shared.cancel();
        self.ended = true;
        self.mode = Mode::Closed;
    }

    /// A handle that cancels this export from another thread, for example
    /// while this one is blocked fetching a page: the fetch then ends with
    /// an error at once, or, if a request is being sent on this thread, as
    /// soon as it returns.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { shared: self.shared.clone() }
    }

    fn step(&mut self) -> Result<Option<Page>> {
        self.shared.check()?;
        let fetched = match &mut self.mode {
            Mode::Inline(driver) => {
                let next = driver.step();
                Fetched { next, position: Some((driver.export.cursor(), driver.export.stats().clone())) }
            }
            Mode::Ahead(driver) => {
                let driver = driver.take().ok_or_else(|| internal("the read-ahead thread was started twice"))?;
                self.mode = Mode::Running(ReadAhead::start(driver));
                return self.step();
            }
            Mode::Running(ahead) => ahead.recv(&self.shared),
            Mode::Closed => return Ok(None),
        };
        // A failed step may have no position: keep the last one, so the
        // cursor still resumes after what was handed out.
        if let Some((cursor, stats)) = fetched.position {
            self.cursor = cursor;
            self.stats = stats;
        }
        fetched.next
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        self.shared.cancel();
    }
}

impl Iterator for Pages {
    type Item = Result<Page>;
    fn next(&mut self) -> Option<Result<Page>> {
        if self.ended {
            return None;
        }
        let next = self.step().transpose();
        if !matches!(next, Some(Ok(_))) {
            // Nothing more will be fetched: free the driver and its threads.
            self.ended = true;
            self.mode = Mode::Closed;
        }
        next
    }
}

/// Cancels an export from anywhere: another thread, a watchdog, a
/// language binding's finalizer. Cheap to clone; outlives the export.
#[derive(Clone)]
pub struct CancelHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelHandle")
            .field("cancelled", &self.is_cancelled())
            .field("running_threads", &self.running_threads())
            .finish()
    }
}

impl CancelHandle {
    /// Cancels the export: nothing more is sent, waits (retry backoff, rate
    /// limit) end at once, and a fetch in progress ends with a
    /// [`Transport`](crate::ErrorKind::Transport) error saying so. Idempotent.
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// Whether the export was cancelled (or closed, or dropped).
    pub fn is_cancelled(&self) -> bool {
        self.shared.is_cancelled()
    }

    /// Background threads of the export still running: the read-ahead
    /// thread and the workers of a parallel export. Once the export is
    /// dropped, closed or has ended (its last page, or an error such as
    /// the one a cancel causes), it falls to 0 as soon as the requests
    /// being sent return (within the client's timeout). Idle workers of a
    /// cancelled export that is neither advanced nor dropped wait for that.
    pub fn running_threads(&self) -> usize {
        self.shared.threads.load(Ordering::Acquire)
    }
}

/// One step of an export, with the export's position right after it
/// (`None` when the step failed before one was known).
struct Fetched {
    next: Result<Option<Page>>,
    position: Option<(Option<Cursor>, ExportStats)>,
}

/// The export machine, its transport and (for parallel exports) its pool.
struct Driver {
    exec: Arc<dyn Execute>,
    export: Export,
    shared: Arc<Shared>,
    /// The most requests in flight (the export machine decides how many
    /// up to this: all of them, or what its throughput controller allows).
    parallelism: usize,
    /// Started at the first request of a parallel export; its workers start
    /// as the machine first keeps that many requests in flight.
    pool: Option<Pool>,
    /// The pacing rate last logged, requests per minute.
    last_rate: Option<f64>,
    /// Throttled answers already mentioned in a warning.
    noted_throttles: u64,
}

/// Waits this long or longer after throttling are worth a warning.
const LONG_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Driver {
    fn step(&mut self) -> Result<Option<Page>> {
        loop {
            self.shared.check()?;
            let now = Instant::now();
            match self.export.poll(now)? {
                Action::Send(id, request) => self.send(id, request)?,
                Action::WaitUntil(until) => {
                    self.note_long_throttle_wait(until.saturating_duration_since(now));
                    self.wait(Some(until))?
                }
                Action::AwaitResponse => {
                    if self.in_flight() == 0 {
                        // Waiting would be forever.
                        return Err(internal("the export awaits an answer but no request is in flight"));
                    }
                    self.wait(None)?;
                }
                Action::Page(page) => return Ok(Some(page)),
                Action::Done => return Ok(None),
                other => return Err(Error::internal(format!("unsupported action {other:?}"))),
            }
        }
    }

    fn send(&mut self, id: RequestId, request: HttpRequest) -> Result<()> {
        if self.parallelism <= 1 {
            let outcome = execute_guarded(&*self.exec, &request);
            return feed(&mut self.export, id, outcome);
        }
        if self.pool.is_none() {
            self.pool = Some(Pool::start(&self.exec, &self.shared, self.parallelism)?);
        }
        // The machine forgets requests whose answers it no longer needs (a
        // window ended early), so it may ask for more than the pool has free
        // workers: take answers until one is free.
        while self.pool.as_ref().is_some_and(Pool::is_full) {
            self.wait(None)?;
        }
        match &mut self.pool {
            Some(pool) => {
                pool.submit(id, request)?;
                #[cfg(test)]
                self.shared.peak.fetch_max(pool.in_flight, Ordering::Relaxed);
                Ok(())
            }
            None => Err(internal("the export's worker pool is missing")),
        }
    }

    fn in_flight(&self) -> usize {
        self.pool.as_ref().map_or(0, |p| p.in_flight)
    }

    /// Waits until `deadline` (forever for `None`) or the next answer from
    /// the pool, which is fed to the machine. A cancel ends the wait with
    /// an error.
    fn wait(&mut self, deadline: Option<Instant>) -> Result<()> {
        if let Some((id, outcome)) = self.shared.wait(deadline, self.in_flight())? {
            if let Some(pool) = &mut self.pool {
                pool.in_flight = pool.in_flight.saturating_sub(1);
            }
            feed(&mut self.export, id, outcome)?;
            self.log_rate_change();
        }
        Ok(())
    }

    /// A warning when a wait of several seconds follows `50000` answers, so
    /// that a throttled run is not silent (once per new refusal).
    fn note_long_throttle_wait(&mut self, wait: std::time::Duration) {
        let throttled = self.export.stats().rate_limited;
        if wait >= LONG_WAIT && throttled > self.noted_throttles {
            self.noted_throttles = throttled;
            log::warn!(
                "the account is rate limited ({throttled} `50000` answers so far, another job may share it): \
                 waiting {:.0} s before retrying",
                wait.as_secs_f64()
            );
        }
    }

    /// A debug line whenever the controller moves the pacing rate by a
    /// tenth or more (throttles, recovery).
    fn log_rate_change(&mut self) {
        let Some(state) = self.export.throughput(Instant::now()) else { return };
        let rate = state.rate_per_minute;
        let moved = match (self.last_rate, rate) {
            (Some(old), Some(new)) => (new - old).abs() >= 0.1 * old,
            (old, new) => old.is_some() != new.is_some(),
        };
        if moved {
            match rate {
                Some(r) => log::debug!(
                    "pacing at {r:.0} requests/min, up to {} in flight ({} throttled answers so far)",
                    state.in_flight_limit,
                    state.throttles
                ),
                None => log::debug!("not paced, up to {} in flight", state.in_flight_limit),
            }
            self.last_rate = rate;
        }
    }
}

/// Runs a [`Driver`] on its own thread, one page ahead of the consumer:
/// while the caller works through a page, the next one is being fetched.
/// Dropping it closes the channel; the thread ends after its current step
/// (which a cancel cuts short).
struct ReadAhead {
    pages: Receiver<Fetched>,
}

impl ReadAhead {
    fn start(mut driver: Driver) -> Self {
        // A rendezvous channel: the thread fetches one page, then waits until
        // the consumer takes it — never more than one page ahead.
        let (tx, rx) = mpsc::sync_channel::<Fetched>(0);
        let shared = driver.shared.clone();
        let spawned = spawn(&shared, "sendcloud-status-read-ahead".into(), false, move |live| {
            while !live.shared.is_cancelled() {
                // A panic (a bug) must not leave the consumer waiting forever.
                let fetched = catch_unwind(AssertUnwindSafe(|| {
                    let next = driver.step();
                    Fetched { next, position: Some((driver.export.cursor(), driver.export.stats().clone())) }
                }))
                .unwrap_or_else(|panic| Fetched { next: Err(panicked("fetching a page", &*panic)), position: None });
                let last = !matches!(fetched.next, Ok(Some(_)));
                if tx.send(fetched).is_err() || last {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            let (tx, rx) = mpsc::sync_channel(1);
            let _ = tx.send(Fetched { next: Err(e), position: None });
            return ReadAhead { pages: rx };
        }
        ReadAhead { pages: rx }
    }

    fn recv(&self, shared: &Shared) -> Fetched {
        self.pages.recv().unwrap_or_else(|_| {
            let e = if shared.is_cancelled() {
                cancelled()
            } else {
                internal("the read-ahead thread stopped unexpectedly")
            };
            Fetched { next: Err(e), position: None }
        })
    }
}

/// Turns an answer into machine input. A request that could not be sent
/// fails the export (a fatal transport error, not retried) and the
/// request's own error is returned.
fn feed(export: &mut Export, id: RequestId, outcome: Outcome) -> Result<()> {
    let now = Instant::now();
    match outcome {
        Outcome::Response { status, body } => export.handle_response(id, status, &body, now),
        Outcome::Failed { kind } => export.handle_transport_error(id, kind, now),
        Outcome::Unsendable(e) => {
            export.handle_transport_error(id, TransportErrorKind::Fatal, now);
            return Err(e);
        }
    }
    Ok(())
}

/// Sends one request; a panic while sending becomes an error for it.
fn execute_guarded(exec: &dyn Execute, request: &HttpRequest) -> Outcome {
    catch_unwind(AssertUnwindSafe(|| exec.execute(request)))
        .unwrap_or_else(|panic| Outcome::Unsendable(panicked("sending a request", &*panic)))
}

fn internal(message: &str) -> Error {
    Error::internal(message)
}

fn cancelled() -> Error {
    Error::transport("the export was cancelled")
}

fn panicked(doing: &str, payload: &(dyn std::any::Any + Send)) -> Error {
    // Only a literal message is repeated: a formatted one could quote a
    // request, key included. (The panic hook has printed it anyway.)
    match payload.downcast_ref::<&'static str>() {
        Some(text) => internal(&format!("{doing} panicked: {text}")),
        None => internal(&format!("{doing} panicked")),
    }
}

/// The records of an export, fetched lazily page by page. Dropping it (or
/// [`Records::close`]) cancels the export, as for [`Pages`].
#[derive(Debug)]
pub struct Records {
    pages: Pages,
    /// The page being handed out, its records moved into `buffer`.
    current: Option<Page>,
    buffer: std::vec::IntoIter<Record>,
    taken: usize,
    closed: bool,
}

impl Records {
    pub(crate) fn new(pages: Pages) -> Self {
        Records { pages, current: None, buffer: Vec::new().into_iter(), taken: 0, closed: false }
    }

    /// Where to resume after the records handed out so far: the next
    /// record is the first one a resumed export delivers. `None` once the
    /// export is complete.
    pub fn cursor(&self) -> Option<Cursor> {
        Page::resume_point(self.current.as_ref(), self.taken, self.pages.cursor())
    }

    /// Counters so far.
    pub fn stats(&self) -> &ExportStats {
        self.pages.stats()
    }

    /// Stops the export here: cancels its background work and ends the
    /// iteration, records already fetched included. [`Records::cursor`]
    /// still resumes at the next record not handed out.
    pub fn close(&mut self) {
        self.closed = true;
        self.pages.close();
    }

    /// A handle that cancels this export from another thread (see
    /// [`Pages::cancel_handle`]).
    pub fn cancel_handle(&self) -> CancelHandle {
        self.pages.cancel_handle()
    }
}

impl Iterator for Records {
    type Item = Result<Record>;
    fn next(&mut self) -> Option<Result<Record>> {
        if self.closed {
            return None;
        }
        loop {
            if let Some(r) = self.buffer.next() {
                self.taken += 1;
                return Some(Ok(r));
            }
            match self.pages.next()? {
                Ok(mut page) => {
                    self.buffer = std::mem::take(&mut page.records).into_iter();
                    self.taken = 0;
                    self.current = Some(page);
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// What an export's threads share. Answers from the pool and the cancel
/// flag sit behind one lock with one condition variable, so a waiting
/// driver wakes for either.
#[derive(Default)]
struct Shared {
    cancelled: AtomicBool,
    state: Mutex<State>,
    changed: Condvar,
    /// Background threads alive (workers and read-ahead).
    threads: AtomicUsize,
    /// The most requests ever in the pool at once (tests check the bound).
    #[cfg(test)]
    peak: AtomicUsize,
}

#[derive(Default)]
struct State {
    /// Answers not yet taken by the driver.
    answers: VecDeque<(RequestId, Outcome)>,
    /// Pool workers alive.
    workers: usize,
}

impl Shared {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        // Taken (poisoned or not) so that no waiter misses the wake-up
        // between its check of the flag and its wait.
        let _held = self.state.lock();
        self.changed.notify_all();
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    fn check(&self) -> Result<()> {
        if self.is_cancelled() { Err(cancelled()) } else { Ok(()) }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| internal("a lock of the export was poisoned"))
    }

    /// The next answer, waiting until `deadline` (forever for `None`).
    /// `Ok(None)` at the deadline; an error on cancel, when answers are due
    /// but every worker is gone, or on a poisoned lock.
    fn wait(&self, deadline: Option<Instant>, in_flight: usize) -> Result<Option<(RequestId, Outcome)>> {
        let mut state = self.lock()?;
        loop {
            self.check()?;
            if let Some(answer) = state.answers.pop_front() {
                return Ok(Some(answer));
            }
            if in_flight > 0 && state.workers == 0 {
                return Err(internal("the export's worker threads stopped"));
            }
            state = match deadline {
                None => self.changed.wait(state).map_err(|_| internal("a lock of the export was poisoned"))?,
                Some(t) => {
                    let now = Instant::now();
                    if now >= t {
                        return Ok(None);
                    }
                    self.changed
                        .wait_timeout(state, t - now)
                        .map_err(|_| internal("a lock of the export was poisoned"))?
                        .0
                }
            };
        }
    }

    fn answer(&self, id: RequestId, outcome: Outcome) -> Result<()> {
        self.lock()?.answers.push_back((id, outcome));
        self.changed.notify_all();
        Ok(())
    }
}

/// A background thread's membership in its export, from spawn to exit
/// (unwinding included): counts it, and answers for a request it dies with.
struct Live {
    shared: Arc<Shared>,
    worker: bool,
    /// The request a worker is sending.
    job: Option<RequestId>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.shared.threads.fetch_sub(1, Ordering::AcqRel);
        // A poisoned lock here is reported by the driver's next wait.
        if let Ok(mut state) = self.shared.state.lock() {
            if self.worker {
                state.workers = state.workers.saturating_sub(1);
            }
            if let Some(id) = self.job.take() {
                state.answers.push_back((id, Outcome::Unsendable(internal("a worker thread stopped mid-request"))));
            }
        }
        self.shared.changed.notify_all();
    }
}

/// Spawns a counted background thread of the export.
fn spawn(
    shared: &Arc<Shared>,
    name: String,
    worker: bool,
    body: impl FnOnce(Live) + Send + 'static,
) -> Result<std::thread::JoinHandle<()>> {
    // Counted before the thread exists, so the counts are never low; if the
    // spawn fails, `live` is dropped with the closure and uncounts itself.
    if worker {
        shared.lock()?.workers += 1;
    }
    shared.threads.fetch_add(1, Ordering::AcqRel);
    let live = Live { shared: shared.clone(), worker, job: None };
    std::thread::Builder::new()
        .name(name)
        .spawn(move || body(live))
        .map_err(|e| Error::internal(format!("could not start a thread for the export: {e}")))
}

/// Worker threads for parallel exports. The job queue holds at most one
/// request per worker, and the driver submits only to a free worker.
/// Dropping the pool closes the queue: idle workers exit at once, busy ones
/// after their request.
struct Pool {
    jobs: SyncSender<(RequestId, HttpRequest)>,
    queue: Arc<Mutex<Receiver<(RequestId, HttpRequest)>>>,
    exec: Arc<dyn Execute>,
    shared: Arc<Shared>,
    size: usize,
    /// Workers started so far (an automatic export starts few).
    started: usize,
    /// Submitted and not yet answered.
    in_flight: usize,
}

impl Pool {
    fn start(exec: &Arc<dyn Execute>, shared: &Arc<Shared>, size: usize) -> Result<Self> {
        let (jobs, queue) = mpsc::sync_channel::<(RequestId, HttpRequest)>(size);
        let queue = Arc::new(Mutex::new(queue));
        Ok(Pool { jobs, queue, exec: exec.clone(), shared: shared.clone(), size, started: 0, in_flight: 0 })
    }

    /// Starts one more worker when every started one is busy.
    fn grow(&mut self) -> Result<()> {
        if self.in_flight < self.started || self.started >= self.size {
            return Ok(());
        }
        let (exec, queue) = (self.exec.clone(), self.queue.clone());
        spawn(&self.shared, format!("sendcloud-status-{}", self.started), true, move |live| {
            work(live, &*exec, &queue)
        })?;
        self.started += 1;
        Ok(())
    }

    fn is_full(&self) -> bool {
        self.in_flight >= self.size
    }

    fn submit(&mut self, id: RequestId, request: HttpRequest) -> Result<()> {
        if self.is_full() {
            return Err(internal("more requests than workers"));
        }
        self.grow()?;
        // Never blocks: the queue has room for one job per worker.
        match self.jobs.try_send((id, request)) {
            Ok(()) => {
                self.in_flight += 1;
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(internal("more requests than workers")),
            Err(TrySendError::Disconnected(_)) => Err(internal("the export's worker threads stopped")),
        }
    }
}

fn work(mut live: Live, exec: &dyn Execute, queue: &Mutex<Receiver<(RequestId, HttpRequest)>>) {
    loop {
        // A poisoned queue lock ends the worker; the driver notices.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        // Closed: the export is gone.
        let Ok((id, request)) = job else { return };
        if live.shared.is_cancelled() {
            return;
        }
        live.job = Some(id);
        let outcome = execute_guarded(exec, &request);
        live.job = None;
        if live.shared.answer(id, outcome).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use sendcloud_status_core::{Credentials, Encoder, Endpoint, ErrorKind, ExportConfig, Query, RateLimiter};

    use super::*;

    /// A stand-in transport: answers from a closure, counting calls.
    struct Fake {
        answer: Box<dyn Fn(&Params) -> Outcome + Send + Sync>,
        calls: AtomicUsize,
        log: Mutex<Vec<(String, u32)>>,
    }

    type Params = HashMap<String, String>;

    impl Execute for Fake {
        fn execute(&self, request: &HttpRequest) -> Outcome {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let body = String::from_utf8_lossy(request.body()).into_owned();
            let params: Params = body
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            self.log.lock().unwrap().push((window(&params), offset(&params)));
            (self.answer)(&params)
        }
    }

    fn fake(answer: impl Fn(&Params) -> Outcome + Send + Sync + 'static) -> Arc<Fake> {
        Arc::new(Fake { answer: Box::new(answer), calls: AtomicUsize::new(0), log: Mutex::new(Vec::new()) })
    }

    fn window(p: &Params) -> String {
        p.get("startDate").or(p.get("days")).cloned().unwrap_or_default()
    }

    fn offset(p: &Params) -> u32 {
        p["start"].parse().unwrap()
    }

    /// A page of rows `from..to` of a window whose `total` the server
    /// claims, ids `<window>#<row>`.
    fn rows(p: &Params, have: u32, total: u32) -> Outcome {
        let (from, limit) = (offset(p), p["limit"].parse::<u32>().unwrap());
        let to = (from + limit).min(have);
        let list: Vec<String> = (from..to)
            .map(|i| format!(r#"{{"emailId":"{}#{i}","status":"投递成功","recipients":"a@b.com"}}"#, window(p)))
            .collect();
        let body = format!(
            r#"{{"result":true,"statusCode":200,"message":"请求成功","info":{{"total":"{total}","voListSize":{},"voList":[{}]}}}}"#,
            list.len(),
            list.join(",")
        );
        Outcome::Response { status: 200, body: body.into_bytes() }
    }

    fn rate_limited() -> Outcome {
        let body = r#"{"result":false,"statuscode":50000,"message":"interface frequency limited","info":{}}"#;
        Outcome::Response { status: 200, body: body.as_bytes().to_vec() }
    }

    /// Nine days in three windows of three, pages of `limit` rows.
    fn export(parallelism: usize, retry: sendcloud_status_core::RetryPolicy, limit: u32) -> Export {
        let endpoint = Endpoint::custom("http://127.0.0.1:9/api/").unwrap();
        let mut config = ExportConfig::new(Encoder::new(endpoint, Credentials::new("u", "k").unwrap()));
        config.parallelism = Parallelism::Fixed(parallelism);
        config.retry = retry;
        config.limiter = RateLimiter::new(None).shared();
        let query = Query::builder().date_strings("2024-05-01", "2024-05-09").limit(limit).build().unwrap();
        Export::new(config, query, "2024-05-20".parse().unwrap(), None).unwrap()
    }

    fn fast_retry() -> sendcloud_status_core::RetryPolicy {
        sendcloud_status_core::RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            rate_limit_base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            deadline: Duration::from_secs(5),
        }
    }

    /// Backoff after a rate-limit answer of at least a minute.
    fn slow_retry() -> sendcloud_status_core::RetryPolicy {
        sendcloud_status_core::RetryPolicy {
            max_attempts: 5,
            rate_limit_base_delay: Duration::from_secs(120),
            max_delay: Duration::from_secs(120),
            deadline: Duration::from_secs(3600),
            ..fast_retry()
        }
    }

    /// Runs `f` on a thread and fails the test if it has not returned after
    /// `secs` (a hang would be forever).
    fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(secs)).unwrap_or_else(|_| panic!("still running after {secs} s: hung"))
    }

    /// Polls `cond` until it holds, failing after `secs`.
    fn eventually(secs: u64, what: &str, cond: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(secs);
        while !cond() {
            assert!(Instant::now() < until, "after {secs} s: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn ids(pages: impl Iterator<Item = Result<Page>>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for page in pages {
            out.extend(page?.records.into_iter().map(|r| r.email_id.unwrap()));
        }
        Ok(out)
    }

    fn expected(sizes: [u32; 3]) -> Vec<String> {
        let starts = ["2024-05-01", "2024-05-04", "2024-05-07"];
        starts.iter().zip(sizes).flat_map(|(w, n)| (0..n).map(move |i| format!("{w}#{i}"))).collect()
    }

    fn sized(p: &Params) -> Outcome {
        let have = match window(p).as_str() {
            "2024-05-01" => 5,
            "2024-05-04" => 0,
            _ => 7,
        };
        rows(p, have, have)
    }

    #[test]
    fn every_mode_hands_out_every_page_in_order() {
        for (parallelism, read_ahead) in [(1, false), (1, true), (3, false), (3, true)] {
            let exec = fake(sized);
            let pages = Pages::new(exec.clone(), export(parallelism, fast_retry(), 2), parallelism, read_ahead);
            let got = within(10, move || ids(pages)).unwrap();
            assert_eq!(got, expected([5, 0, 7]), "parallel {parallelism}, read-ahead {read_ahead}");
        }
    }

    #[test]
    fn the_job_queue_holds_at_most_one_request_per_worker() {
        let gate = Arc::new(Mutex::new(()));
        let held = gate.lock().unwrap();
        let exec: Arc<dyn Execute> = {
            let gate = gate.clone();
            fake(move |p| {
                drop(gate.lock());
                rows(p, 1, 1)
            })
        };
        let shared = Arc::new(Shared::default());
        let mut pool = Pool::start(&exec, &shared, 2).unwrap();
        // The machine may have three requests out, the pool two workers.
        let mut ex = export(3, fast_retry(), 2);
        let mut requests = std::iter::from_fn(|| match ex.poll(Instant::now()).unwrap() {
            Action::Send(id, r) => Some((id, r)),
            other => panic!("{other:?}"),
        });
        for _ in 0..2 {
            let (id, r) = requests.next().unwrap();
            pool.submit(id, r).unwrap();
        }
        assert!(pool.is_full());
        // Both workers are blocked; a third job is refused, not queued, and
        // refusing it does not block.
        let (id, r) = requests.next().unwrap();
        let e = pool.submit(id, r).unwrap_err();
        assert!(e.message().contains("more requests than workers"), "{e}");
        assert_eq!(pool.in_flight, 2);
        drop(held);
        assert!(shared.wait(None, 2).unwrap().is_some());
    }

    #[test]
    fn requests_the_export_forgot_still_count_against_the_pool() {
        // Window 1 claims 10 rows but has 3: its page at offset 2 comes back
        // short and ends the window while the pages at 4 and 6 (slow) are
        // still being sent. The machine forgets them and asks for more
        // requests than the pool has free workers.
        let exec = fake(|p| match (window(p).as_str(), offset(p)) {
            ("2024-05-01", 2) => {
                std::thread::sleep(Duration::from_millis(100));
                rows(p, 3, 10)
            }
            ("2024-05-01", o) if o >= 4 => {
                std::thread::sleep(Duration::from_millis(400));
                rows(p, 3, 10)
            }
            ("2024-05-01", _) => rows(p, 3, 10),
            ("2024-05-04", _) => rows(p, 10, 10),
            _ => rows(p, 4, 4),
        });
        let mut pages = Pages::new(exec.clone(), export(2, fast_retry(), 2), 2, false);
        let got = within(10, move || (ids(pages.by_ref()), pages.shared.peak.load(Ordering::Relaxed)));
        assert_eq!(got.0.unwrap(), expected([3, 10, 4]));
        let forgotten = exec.log.lock().unwrap().iter().filter(|(w, o)| w == "2024-05-01" && *o >= 4).count();
        assert!(forgotten > 0, "the scenario makes the machine forget requests: {:?}", exec.log.lock().unwrap());
        assert_eq!(got.1, 2, "never more requests than workers");
    }

    #[test]
    fn a_panic_while_sending_is_an_error_for_the_export() {
        // (The panics are printed on stderr: the hook is global, tests share it.)
        for (parallelism, read_ahead) in [(1, false), (1, true), (2, false), (2, true)] {
            for formatted in [false, true] {
                let exec = fake(move |p| {
                    if formatted {
                        panic!("boom: apiKey={}", p["apiKey"]);
                    }
                    panic!("boom")
                });
                let mut pages = Pages::new(exec, export(parallelism, fast_retry(), 2), parallelism, read_ahead);
                let (first, second) = within(10, move || (pages.next(), pages.next()));
                let e = first.unwrap().unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Internal);
                assert!(e.message().contains("sending a request panicked"), "{e}");
                assert_eq!(e.message().contains("boom"), !formatted, "only literal messages are repeated: {e}");
                assert!(!e.message().contains("apiKey"), "{e}");
                assert!(second.is_none(), "the export ends after the error");
            }
        }
    }

    #[test]
    fn a_request_that_cannot_be_sent_fails_the_export_without_retry() {
        for (parallelism, read_ahead) in [(1, false), (2, true)] {
            let exec = fake(|_| Outcome::Unsendable(Error::validation("user_agent", "not a header value")));
            let mut pages = Pages::new(exec.clone(), export(parallelism, slow_retry(), 2), parallelism, read_ahead);
            let (first, second) = within(10, move || (pages.next(), pages.next()));
            let e = first.unwrap().unwrap_err();
            assert_eq!((e.kind(), e.field()), (ErrorKind::Validation, Some("user_agent")));
            assert!(second.is_none());
            // One attempt per request in flight, none repeated.
            assert!(exec.calls.load(Ordering::SeqCst) <= parallelism, "parallel {parallelism}");
        }
    }

    #[test]
    fn dropping_a_parallel_export_stops_its_requests_and_threads() {
        for read_ahead in [false, true] {
            let exec = fake(|p| {
                std::thread::sleep(Duration::from_millis(50));
                rows(p, 1000, 1000)
            });
            let mut pages = Pages::new(exec.clone(), export(4, fast_retry(), 2), 4, read_ahead);
            let handle = pages.cancel_handle();
            within(10, move || {
                pages.next().unwrap().unwrap();
                drop(pages);
            });
            assert!(handle.is_cancelled());
            eventually(10, "every thread of the export exits", || handle.running_threads() == 0);
            let calls = exec.calls.load(Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(200));
            assert_eq!(exec.calls.load(Ordering::SeqCst), calls, "no request after the threads ended");
            assert!(calls < 20, "read-ahead {read_ahead}: {calls} requests for a page or two");
        }
    }

    #[test]
    fn cancel_cuts_a_retry_backoff_short() {
        // A rate-limit answer makes the machine wait at least a minute.
        for (parallelism, read_ahead) in [(1, false), (1, true), (2, false), (2, true)] {
            let exec = fake(|_| rate_limited());
            let mut pages = Pages::new(exec.clone(), export(parallelism, slow_retry(), 2), parallelism, read_ahead);
            let handle = pages.cancel_handle();
            let canceller = handle.clone();
            let exec2 = exec.clone();
            std::thread::spawn(move || {
                eventually(10, "the first request is answered", || exec2.calls.load(Ordering::SeqCst) > 0);
                std::thread::sleep(Duration::from_millis(50));
                canceller.cancel();
            });
            let (first, second) = within(30, move || (pages.next(), pages.next()));
            let e = first.unwrap().unwrap_err();
            assert!(e.message().contains("cancelled"), "{e}");
            assert!(second.is_none());
            eventually(10, "every thread of the export exits", || handle.running_threads() == 0);
        }
    }

    #[test]
    fn dropping_a_waiting_read_ahead_export_ends_its_thread() {
        let exec = fake(|_| rate_limited());
        let mut pages = Pages::new(exec.clone(), export(2, slow_retry(), 2), 2, true);
        let handle = pages.cancel_handle();
        // Start the read-ahead thread, which then sits in a long backoff.
        let canceller = handle.clone();
        let waiter = std::thread::spawn(move || {
            let first = pages.next();
            (first, pages)
        });
        eventually(10, "the first requests are answered", || exec.calls.load(Ordering::SeqCst) >= 1);
        assert!(handle.running_threads() >= 1);
        canceller.cancel();
        let (first, pages) = within(10, move || waiter.join().unwrap());
        assert!(first.unwrap().is_err());
        drop(pages);
        eventually(10, "the read-ahead thread and the workers exit", || handle.running_threads() == 0);
    }

    #[test]
    fn an_ended_export_frees_its_threads() {
        for read_ahead in [false, true] {
            let pages = Pages::new(fake(sized), export(3, fast_retry(), 2), 3, read_ahead);
            let handle = pages.cancel_handle();
            // Kept alive (not dropped) after its last page.
            let pages = within(10, move || {
                let mut pages = pages;
                assert_eq!(ids(pages.by_ref()).unwrap(), expected([5, 0, 7]));
                pages
            });
            eventually(10, "the threads of a finished export exit", || handle.running_threads() == 0);
            assert!(!handle.is_cancelled());
            drop(pages);
        }
    }

    #[test]
    fn close_ends_quietly_and_keeps_the_cursor() {
        let exec = fake(sized);
        let mut pages = Pages::new(exec, export(1, fast_retry(), 2), 1, true);
        let first = pages.next().unwrap().unwrap();
        assert_eq!(first.records.len(), 2);
        let cursor = pages.cursor();
        pages.close();
        assert!(pages.next().is_none());
        assert_eq!(pages.cursor(), cursor);
        assert!(pages.cancel_handle().is_cancelled());

        let exec = fake(sized);
        let mut records = Records::new(Pages::new(exec, export(1, fast_retry(), 2), 1, false));
        records.next().unwrap().unwrap();
        let cursor = records.cursor();
        records.close();
        assert!(records.next().is_none(), "records already fetched are not handed out");
        assert_eq!(records.cursor(), cursor, "resuming starts at the next record not handed out");
    }

    #[test]
    fn a_poisoned_lock_is_an_error() {
        let shared = Arc::new(Shared::default());
        let poisoner = shared.clone();
        let _ = std::thread::spawn(move || {
            let _held = poisoner.state.lock();
            panic!("poisoning the lock on purpose");
        })
        .join();
        let e = shared.wait(Some(Instant::now()), 0).unwrap_err();
        assert!(e.message().contains("poisoned"), "{e}");
        let Action::Send(id, _) = export(1, fast_retry(), 2).poll(Instant::now()).unwrap() else { unreachable!() };
        assert!(shared.answer(id, Outcome::Failed { kind: TransportErrorKind::Other }).is_err());
    }
}
