//! A receiver for SendCloud / Aurora SendCloud event webhooks: every event
//! the vendor POSTs is verified and stored once in the
//! [`sendcloud-status-archive`](sendcloud_status_archive) file, before the
//! answer.
//!
//! ```
//! use sendcloud_status::core::webhook::{sign, AppKey};
//! use sendcloud_status_webhook::{Receiver, ReceiverConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let key = AppKey::new("the account's app key")?;
//! let config = ReceiverConfig::new("127.0.0.1:0".parse()?, dir.path().join("status.db"), key.clone());
//! let receiver = Receiver::start(config)?;
//!
//! // What the vendor sends: a form (or JSON) body, signed with the app key.
//! let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis().to_string();
//! let body = format!(
//!     "event=deliver&emailId=1716170000000_1_1%24a%40b.com&recipient=a%40b.com&timestamp={ts}&token=abc&signature={}",
//!     sign(&key, &ts, "abc")
//! );
//! let answer = sendcloud_status_webhook::load::post(receiver.addr(), "/", "application/x-www-form-urlencoded", body.as_bytes())?;
//! assert_eq!(answer.status, 200);
//! assert_eq!(receiver.stats().stored, 1);
//! receiver.shutdown();
//! # Ok(())
//! # }
//! ```
//!
//! # Answers
//!
//! | request | answer |
//! |---|---|
//! | `POST` to the event path (default `/`), verified, new | `200` once the event is committed |
//! | the same, its token or `(emailId, event, timestamp)` stored already | `200`, nothing written |
//! | a bad signature, or a timestamp outside the tolerance | `403` |
//! | an unreadable body, a required field missing | `400` |
//! | a body over [`max_body`](ReceiverConfig::max_body) | `413` |
//! | the archive failed, or did not answer within [`answer_budget`](ReceiverConfig::answer_budget) | `500` / `503`: the vendor retries, and a late commit makes the retry a repeat |
//! | `GET /healthz` | `200` and counters as JSON |
//! | another path / method | `404` / `405` |
//!
//! Verification is [`sendcloud_status::core::webhook::Verifier`]: constant-time
//! HMAC-SHA256 of `timestamp + token` with the app key, the timestamp within
//! [`tolerance`](ReceiverConfig::tolerance) of now (35 minutes by default:
//! the vendor's retries span 31), tokens seen before answered 200 without a
//! write. The app key is never printed.
//!
//! # Design
//!
//! - **HTTP:** hyper 1 (HTTP/1.1, keep-alive) on a small tokio runtime:
//!   every connection is its own task, so a slow or idle client never holds
//!   up another (tiny_http's pool can park a new connection behind a busy
//!   keep-alive one). Request headers must arrive within
//!   [`header_timeout`](ReceiverConfig::header_timeout), bodies within the
//!   same time, and a body is read only up to `max_body`.
//! - **Writes:** one writer thread owns the archive connection (SQLite
//!   takes one writer at a time): handlers verify, hand the event over and
//!   wait for its commit. Each event is one transaction
//!   ([`Archive::record_event`](sendcloud_status_archive::Archive::record_event)).
//! - **Repeats:** a set of the tokens stored recently (younger than the
//!   tolerance: older ones fail the age check anyway) answers most repeats
//!   without the writer; the archive's unique keys catch the rest, even
//!   when two deliveries of one event race.
//! - **Shutdown** ([`Receiver::shutdown`], or SIGTERM / Ctrl-C with
//!   [`Receiver::shutdown_on_signals`]): stop accepting, let the requests in
//!   progress finish (up to [`shutdown_grace`](ReceiverConfig::shutdown_grace)),
//!   then let the writer finish its queue. An event answered 200 was
//!   committed before the answer, so none is lost.

mod server;
mod tokens;
mod writer;

pub mod load;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use sendcloud_status::chrono::FixedOffset;
use sendcloud_status::core::Decoder;
use sendcloud_status::core::webhook::{AppKey, DEFAULT_TOLERANCE};

/// Default largest body read (the vendor's events are a few hundred bytes).
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;
/// Default time the archive has to commit an event before the answer is 503
/// (the vendor waits 3 seconds).
pub const DEFAULT_ANSWER_BUDGET: Duration = Duration::from_millis(2500);
/// The health endpoint.
pub const HEALTH_PATH: &str = "/healthz";

/// Where and how a [`Receiver`] listens. [`ReceiverConfig::new`] holds the
/// defaults.
#[derive(Clone)]
#[non_exhaustive]
pub struct ReceiverConfig {
    /// The address to bind (port 0: any free port).
    pub listen: SocketAddr,
    /// The path events are POSTed to (default `/`).
    pub path: String,
    /// The account's webhook app key.
    pub key: AppKey,
    /// How far an event's timestamp may be from now.
    pub tolerance: Duration,
    /// The largest body read; larger ones are refused with 413.
    pub max_body: usize,
    /// The archive file (created when missing).
    pub db: PathBuf,
    /// The server's UTC offset, for the times the archive writes.
    pub server_offset: FixedOffset,
    /// Time the archive has to commit an event before the answer is 503.
    pub answer_budget: Duration,
    /// Time a client has to send a request's headers, and its body.
    pub header_timeout: Duration,
    /// How long a shutdown waits for the requests in progress.
    pub shutdown_grace: Duration,
    /// Threads of the HTTP runtime.
    pub threads: usize,
}

impl std::fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("listen", &self.listen)
            .field("path", &self.path)
            .field("key", &self.key)
            .field("tolerance", &self.tolerance)
            .field("max_body", &self.max_body)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl ReceiverConfig {
    /// Listens on `listen`, stores into `db`, verifies with `key`; events
    /// at `/`, the default tolerance (35 minutes), 64 KiB bodies.
    pub fn new(listen: SocketAddr, db: impl Into<PathBuf>, key: AppKey) -> ReceiverConfig {
        ReceiverConfig {
            listen,
            path: "/".to_owned(),
            key,
            tolerance: DEFAULT_TOLERANCE,
            max_body: DEFAULT_MAX_BODY,
            db: db.into(),
            server_offset: Decoder::default().offset(),
            answer_budget: DEFAULT_ANSWER_BUDGET,
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            threads: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4)),
        }
    }
    /// Sets [`path`](Self::path) (a leading `/` is added when missing).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.path = if path.starts_with('/') { path } else { format!("/{path}") };
        self
    }
    /// Sets [`tolerance`](Self::tolerance).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }
    /// Sets [`max_body`](Self::max_body).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
    /// Sets [`server_offset`](Self::server_offset).
    pub fn server_offset(mut self, offset: FixedOffset) -> Self {
        self.server_offset = offset;
        self
    }
    /// Sets [`answer_budget`](Self::answer_budget).
    pub fn answer_budget(mut self, budget: Duration) -> Self {
        self.answer_budget = budget;
        self
    }
    /// Sets [`header_timeout`](Self::header_timeout).
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }
    /// Sets [`shutdown_grace`](Self::shutdown_grace).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// Why a receiver could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is unusable (for example the event path is the health path).
    #[error("{0}")]
    Config(String),
    /// The archive could not be opened.
    #[error(transparent)]
    Archive(#[from] sendcloud_status_archive::Error),
    /// The address could not be bound, or a thread not started.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Counters of a receiver, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverStats {
    /// Event requests answered (any outcome).
    pub requests: u64,
    /// New events stored.
    pub stored: u64,
    /// Verified repeats answered 200 without a write (token or event seen).
    pub repeated: u64,
    /// Refused: bad signature.
    pub bad_signature: u64,
    /// Refused: timestamp outside the tolerance.
    pub stale: u64,
    /// Refused: malformed body.
    pub malformed: u64,
    /// Refused: body too large.
    pub too_large: u64,
    /// Answered 500/503: the archive failed or was too slow.
    pub failed: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub stored: AtomicU64,
    pub repeated: AtomicU64,
    pub bad_signature: AtomicU64,
    pub stale: AtomicU64,
    pub malformed: AtomicU64,
    pub too_large: AtomicU64,
    pub failed: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ReceiverStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ReceiverStats {
            requests: g(&self.requests),
            stored: g(&self.stored),
            repeated: g(&self.repeated),
            bad_signature: g(&self.bad_signature),
            stale: g(&self.stale),
            malformed: g(&self.malformed),
            too_large: g(&self.too_large),
            failed: g(&self.failed),
        }
    }
}

/// Stops a receiver from any thread (a signal handler, a test).
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    tx: Arc<tokio::sync::watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Asks the receiver to stop: no new connection is accepted, the
    /// requests in progress finish. Returns at once.
    pub fn shutdown(&self) {
        let _ = self.tx.send(true);
    }
}

/// A running receiver. Dropping it shuts it down gracefully.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    path: String,
    shutdown: ShutdownHandle,
    counters: Arc<Counters>,
    runtime: Option<Arc<tokio::runtime::Runtime>>,
    server: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Opens the archive (creating it), binds the address and starts
    /// serving. Fails at once, with nothing served, when the archive or the
    /// address is unusable.
    pub fn start(config: ReceiverConfig) -> Result<Receiver, Error> {
        if config.path == HEALTH_PATH {
            return Err(Error::Config(format!("the event path cannot be the health endpoint {HEALTH_PATH}")));
        }
        if config.max_body == 0 {
            return Err(Error::Config("the body limit must be at least 1 byte".into()));
        }
        let archive = sendcloud_status_archive::Archive::open(&config.db)?.with_server_offset(config.server_offset);
        let listen_err = |source| Error::Listen { addr: config.listen, source };
        let listener = std::net::TcpListener::bind(config.listen).map_err(listen_err)?;
        let addr = listener.local_addr().map_err(listen_err)?;
        listener.set_nonblocking(true).map_err(listen_err)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.threads.max(1))
            .thread_name("webhook-http")
            .enable_io()
            .enable_time()
            .build()
            .map_err(listen_err)?;
        let runtime = Arc::new(runtime);
        let (tx, rx) = tokio::sync::watch::channel(false);
        let shutdown = ShutdownHandle { tx: Arc::new(tx) };
        let counters = Arc::new(Counters::default());
        let writer = writer::Writer::start(archive).map_err(listen_err)?;
        let state = Arc::new(server::State::new(&config, writer, Arc::clone(&counters)));
        let rt = Arc::clone(&runtime);
        let server = std::thread::Builder::new()
            .name("webhook-accept".into())
            .spawn(move || server::run(&rt, listener, state, rx))
            .map_err(listen_err)?;
        log::info!("webhook receiver listening on http://{addr}{}", config.path);
        Ok(Receiver { addr, path: config.path, shutdown, counters, runtime: Some(runtime), server: Some(server) })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/PATH`: where events go.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.path)
    }

    /// The counters so far.
    pub fn stats(&self) -> ReceiverStats {
        self.counters.snapshot()
    }

    /// A handle that stops the receiver from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Shuts down on SIGTERM or Ctrl-C (SIGINT): installs the handlers on
    /// the receiver's runtime. Call it from a program, not a library.
    pub fn shutdown_on_signals(&self) -> std::io::Result<()> {
        let Some(rt) = &self.runtime else { return Ok(()) };
        let handle = self.shutdown.clone();
        let _guard = rt.enter();
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        rt.spawn(async move {
            #[cfg(unix)]
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
            log::info!("signal received: shutting down");
            handle.shutdown();
        });
        Ok(())
    }

    /// Blocks until the receiver has stopped (after a
    /// [`ShutdownHandle::shutdown`] or a signal), every request in progress
    /// answered and every accepted event committed. Returns the counters.
    pub fn wait(mut self) -> ReceiverStats {
        self.join();
        self.counters.snapshot()
    }

    /// Stops the receiver and waits for it (see [`Receiver::wait`]).
    pub fn shutdown(self) -> ReceiverStats {
        self.shutdown.shutdown();
        self.wait()
    }

    fn join(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
        if let Some(rt) = self.runtime.take() {
            // The server thread held the other reference; this is the last.
            if let Ok(rt) = Arc::try_unwrap(rt) {
                rt.shutdown_timeout(Duration::from_secs(1));
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shutdown.shutdown();
        self.join();
    }
}
