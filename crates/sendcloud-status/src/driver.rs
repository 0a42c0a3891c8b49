//! The driver loop: poll the core's [`Export`], do what it says (send,
//! sleep, hand out a page), feed results back. No protocol logic here.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use sendcloud_status_core::{
    Action, Cursor, Error, Export, ExportStats, HttpRequest, Page, Record, RequestId, Result, TransportErrorKind,
};

use crate::client::Inner;
use crate::transport::Outcome;

/// The pages of an export, fetched lazily. Iteration ends after the last
/// page or after the first error.
pub struct Pages {
    mode: Mode,
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
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").field("stats", &self.stats).field("ended", &self.ended).finish()
    }
}

impl Pages {
    pub(crate) fn new(inner: Arc<Inner>, export: Export, parallelism: usize, read_ahead: bool) -> Self {
        let pool = (parallelism > 1).then(|| Pool::new(inner.clone(), parallelism));
        let (cursor, stats) = (export.cursor(), export.stats().clone());
        let driver = Driver { inner, export, pool };
        let mode = if read_ahead { Mode::Ahead(Some(driver)) } else { Mode::Inline(driver) };
        Pages { mode, cursor, stats, ended: false }
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

    fn step(&mut self) -> Result<Option<Page>> {
        let fetched = match &mut self.mode {
            Mode::Inline(driver) => {
                let next = driver.step();
                Fetched { next, cursor: driver.export.cursor(), stats: driver.export.stats().clone() }
            }
            Mode::Ahead(driver) => {
                let driver = driver.take().expect("read-ahead starts once");
                self.mode = Mode::Running(ReadAhead::start(driver));
                return self.step();
            }
            Mode::Running(ahead) => ahead.recv(),
        };
        self.cursor = fetched.cursor;
        self.stats = fetched.stats;
        fetched.next
    }
}

/// One step of an export, with the export's position right after it.
struct Fetched {
    next: Result<Option<Page>>,
    cursor: Option<Cursor>,
    stats: ExportStats,
}

/// The export machine, its transport and (for parallel exports) its pool.
struct Driver {
    inner: Arc<Inner>,
    export: Export,
    pool: Option<Pool>,
}

impl Driver {
    fn step(&mut self) -> Result<Option<Page>> {
        loop {
            let now = Instant::now();
            match self.export.poll(now)? {
                Action::Send(id, request) => match &self.pool {
                    Some(pool) => pool.submit(id, request),
                    None => {
                        let outcome = self.inner.transport.execute(&request);
                        feed(&mut self.export, id, outcome)?;
                    }
                },
                Action::WaitUntil(until) => {
                    let wait = until.saturating_duration_since(now);
                    match &self.pool {
                        Some(pool) => {
                            if let Some((id, outcome)) = pool.recv(Some(wait))? {
                                feed(&mut self.export, id, outcome)?;
                            }
                        }
                        None => std::thread::sleep(wait),
                    }
                }
                Action::AwaitResponse => {
                    let pool = self.pool.as_ref().expect("only parallel exports have requests in flight");
                    if let Some((id, outcome)) = pool.recv(None)? {
                        feed(&mut self.export, id, outcome)?;
                    }
                }
                Action::Page(page) => return Ok(Some(page)),
                Action::Done => return Ok(None),
                other => return Err(Error::transport(format!("unsupported action {other:?}"))),
            }
        }
    }
}

/// Runs a [`Driver`] on its own thread, one page ahead of the consumer:
/// while the caller works through a page, the next one is being fetched.
/// Dropping it closes the channel; the thread ends after its current step.
struct ReadAhead {
    pages: Receiver<Fetched>,
}

impl ReadAhead {
    fn start(mut driver: Driver) -> Self {
        // A rendezvous channel: the thread fetches one page, then waits until
        // the consumer takes it — never more than one page ahead.
        let (tx, rx) = mpsc::sync_channel::<Fetched>(0);
        let spawned = std::thread::Builder::new().name("sendcloud-status-read-ahead".into()).spawn(move || {
            loop {
                let next = driver.step();
                let last = !matches!(next, Ok(Some(_)));
                let fetched = Fetched { next, cursor: driver.export.cursor(), stats: driver.export.stats().clone() };
                if tx.send(fetched).is_err() || last {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            let (tx, rx) = mpsc::sync_channel(1);
            let _ = tx.send(Fetched {
                next: Err(Error::transport(format!("could not start the read-ahead thread: {e}"))),
                cursor: None,
                stats: ExportStats::default(),
            });
            return ReadAhead { pages: rx };
        }
        ReadAhead { pages: rx }
    }

    fn recv(&self) -> Fetched {
        self.pages.recv().unwrap_or_else(|_| Fetched {
            next: Err(Error::transport("the read-ahead thread stopped unexpectedly")),
            cursor: None,
            stats: ExportStats::default(),
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

impl Iterator for Pages {
    type Item = Result<Page>;
    fn next(&mut self) -> Option<Result<Page>> {
        if self.ended {
            return None;
        }
        match self.step() {
            Ok(Some(page)) => Some(Ok(page)),
            Ok(None) => {
                self.ended = true;
                None
            }
            Err(e) => {
                self.ended = true;
                Some(Err(e))
            }
        }
    }
}

/// The records of an export, fetched lazily page by page.
#[derive(Debug)]
pub struct Records {
    pages: Pages,
    /// The page being handed out, its records moved into `buffer`.
    current: Option<Page>,
    buffer: std::vec::IntoIter<Record>,
    taken: usize,
}

impl Records {
    pub(crate) fn new(pages: Pages) -> Self {
        Records { pages, current: None, buffer: Vec::new().into_iter(), taken: 0 }
    }

    /// Where to resume after the records handed out so far: the next
    /// record is the first one a resumed export delivers. `None` once the
    /// export is complete.
    pub fn cursor(&self) -> Option<Cursor> {
        match &self.current {
            Some(page) if self.buffer.len() > 0 => page.cursor_at(self.taken),
            _ => self.pages.cursor(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &ExportStats {
        self.pages.stats()
    }
}

impl Iterator for Records {
    type Item = Result<Record>;
    fn next(&mut self) -> Option<Result<Record>> {
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

/// Worker threads for parallel exports. Dropping the pool closes the job
/// queue; workers finish their current request and exit.
struct Pool {
    jobs: Option<Sender<(RequestId, HttpRequest)>>,
    results: Receiver<(RequestId, Outcome)>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    fn new(inner: Arc<Inner>, size: usize) -> Self {
        let (job_tx, job_rx) = mpsc::channel::<(RequestId, HttpRequest)>();
        let (result_tx, result_rx) = mpsc::channel();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let workers = (0..size)
            .map(|i| {
                let job_rx = job_rx.clone();
                let result_tx = result_tx.clone();
                let inner = inner.clone();
                std::thread::Builder::new()
                    .name(format!("sendcloud-status-{i}"))
                    .spawn(move || {
                        loop {
                            let job = match job_rx.lock() {
                                Ok(rx) => rx.recv(),
                                Err(_) => return,
                            };
                            let Ok((id, request)) = job else { return };
                            let outcome = inner.transport.execute(&request);
                            if result_tx.send((id, outcome)).is_err() {
                                return;
                            }
                        }
                    })
                    .expect("spawning an export worker thread")
            })
            .collect();
        Pool { jobs: Some(job_tx), results: result_rx, workers }
    }

    fn submit(&self, id: RequestId, request: HttpRequest) {
        if let Some(jobs) = &self.jobs {
            // Workers outlive the sender, so this only fails during drop.
            let _ = jobs.send((id, request));
        }
    }

    /// The next finished request, waiting at most `timeout` (forever for
    /// `None`).
    fn recv(&self, timeout: Option<std::time::Duration>) -> Result<Option<(RequestId, Outcome)>> {
        let lost = || Error::transport("an export worker thread stopped unexpectedly");
        match timeout {
            None => self.results.recv().map(Some).map_err(|_| lost()),
            Some(t) => match self.results.recv_timeout(t) {
                Ok(r) => Ok(Some(r)),
                Err(RecvTimeoutError::Timeout) => Ok(None),
                Err(RecvTimeoutError::Disconnected) => Err(lost()),
            },
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.jobs.take();
        // Workers exit once their current request ends (bounded by the
        // request timeout); don't block the caller on them.
        for worker in self.workers.drain(..) {
            drop(worker);
        }
    }
}
