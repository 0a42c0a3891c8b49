//! The running sandbox: tiny_http behind the relay, a few workers, one handler per request.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use tiny_http::{Header, Method, Request, Response};

use crate::account::{Account, View};
use crate::config::{FaultConfig, LiveConfig, SandboxConfig};
use crate::control;
use crate::dataset::Dataset;
use crate::faults::{FaultKind, Faults};
use crate::limiter::Limiter;
use crate::live::Change;
use crate::query::QueryCache;
use crate::relay::Relay;
use crate::render::{BAD_GATEWAY_HTML, RATE_LIMITED_BODY, Style};
use crate::reqlog::{LoggedRequest, REDACTED, RequestLog};
use crate::rng::{hash, unit};
use crate::validate::{self, Params};

/// Request bodies beyond this are cut (the API only takes short forms).
const MAX_BODY: u64 = 1 << 20;
const JSON: &str = "application/json;charset=UTF-8";
const SALT_LATENCY: u64 = 0x1A7E;

/// A running simulator on loopback. Dropping it stops the server, joins its threads and frees
/// the port.
pub struct Sandbox {
    state: Arc<State>,
    relay: Relay,
    http: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
}

/// Everything the workers and the control endpoints share.
pub(crate) struct State {
    pub config: SandboxConfig,
    /// The records, the clock and the live events.
    pub account: Arc<Account>,
    /// Webhook push of the live changes.
    pub pusher: crate::push::Pusher,
    style: Style,
    cache: QueryCache,
    limiter: Limiter,
    pub faults: Faults,
    pub log: RequestLog,
    stop: Stop,
    /// Ends a relayed connection (workers do not own the relay).
    end_conn: RelayCtl,
    /// Numbers API requests for the latency jitter draws.
    latency_seq: AtomicU64,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("config", &self.config).field("account", &self.account).finish_non_exhaustive()
    }
}

impl State {
    /// New live settings; snapshots taken under the old ones are dropped (and a request racing
    /// this cannot store one for later: see the cache key's epoch).
    pub fn set_live(&self, live: LiveConfig) {
        self.account.set_live(live);
        self.cache.clear();
    }

    /// The latency of the next API answer: `latency ± latency_jitter`, seeded, at least zero.
    fn latency(&self) -> Duration {
        let (base, jitter) = (self.config.latency, self.config.latency_jitter);
        if jitter.is_zero() {
            return base;
        }
        let n = self.latency_seq.fetch_add(1, Ordering::Relaxed);
        jittered(base, jitter, unit(hash(self.config.seed, n, SALT_LATENCY)))
    }
}

/// `base ± jitter`, uniform as `u` runs over `[0, 1)`, floored at zero.
fn jittered(base: Duration, jitter: Duration, u: f64) -> Duration {
    let secs = base.as_secs_f64() + jitter.as_secs_f64() * (2.0 * u - 1.0);
    Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(base)
}

/// Lets a worker end a relayed connection without owning the relay.
type RelayCtl = Arc<dyn Fn(u16) + Send + Sync>;

/// A stop flag whose sleeps wake up at shutdown.
#[derive(Debug, Default)]
struct Stop {
    flag: Mutex<bool>,
    cv: Condvar,
    fast: AtomicBool,
}

impl Stop {
    fn set(&self) {
        *self.flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.fast.store(true, Ordering::SeqCst);
        self.cv.notify_all();
    }
    fn is_set(&self) -> bool {
        self.fast.load(Ordering::SeqCst)
    }
    fn sleep(&self, d: Duration) {
        if d.is_zero() || self.fast.load(Ordering::SeqCst) {
            return;
        }
        let g = self.flag.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.cv.wait_timeout_while(g, d, |stopped| !*stopped);
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("addr", &self.addr()).field("state", &self.state).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts on `127.0.0.1` at a free port.
    pub fn start(config: SandboxConfig) -> io::Result<Sandbox> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config)
    }

    /// Starts on `addr` (port 0: any free port).
    ///
    /// Fails when `config.today` is not the date of `config.now`, or the dataset cannot be
    /// generated (see [`Dataset::generate`]), or the port cannot be bound.
    pub fn start_on(addr: SocketAddr, config: SandboxConfig) -> io::Result<Sandbox> {
        if config.today != config.now.date() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("today ({}) must be the date of now ({})", config.today, config.now),
            ));
        }
        let dataset = Dataset::generate(config.records, config.seed, config.now, config.days_of_data)?;
        let account = Arc::new(Account::new(dataset, config.now, config.live.clone(), config.seed));
        let pusher = crate::push::Pusher::start(Arc::clone(&account), config.webhook.clone(), config.language)?;
        let listener = TcpListener::bind(addr)?;
        let http = tiny_http::Server::from_listener(backend_listener()?, None).map_err(io::Error::other)?;
        let backend =
            http.server_addr().to_ip().ok_or_else(|| io::Error::other("tiny_http did not bind an IP address"))?;
        let http = Arc::new(http);
        let relay = Relay::start(listener, backend)?;
        let state = Arc::new(State {
            style: Style {
                language: config.language,
                key: config.status_code_key,
                info_as_string: config.info_as_string,
                sub_format: config.sub_status_format,
            },
            cache: QueryCache::default(),
            limiter: Limiter::new(config.rate_limit_per_minute, config.competing_load),
            faults: Faults::new(config.faults.clone()),
            log: RequestLog::default(),
            stop: Stop::default(),
            end_conn: relay.controller(),
            latency_seq: AtomicU64::new(0),
            account,
            pusher,
            config,
        });
        let mut workers = Vec::new();
        for n in 0..state.config.threads.max(1) {
            let (s, h) = (Arc::clone(&state), Arc::clone(&http));
            let spawned = std::thread::Builder::new().name(format!("sandbox-worker-{n}")).spawn(move || {
                while let Ok(rq) = h.recv() {
                    handle(&s, rq);
                }
            });
            match spawned {
                Ok(w) => workers.push(w),
                Err(e) => {
                    let partial = Sandbox { state, relay, http, workers };
                    drop(partial);
                    return Err(e);
                }
            }
        }
        let sandbox = Sandbox { state, relay, http, workers };
        log::info!("sandbox listening on {}", sandbox.base_url());
        Ok(sandbox)
    }

    /// `http://127.0.0.1:PORT/api/` — append `data/emailStatus`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/", self.addr())
    }
    /// `http://127.0.0.1:PORT/apiv2/` — the sendcloud.net v2 path.
    pub fn base_url_v2(&self) -> String {
        format!("http://{}/apiv2/", self.addr())
    }
    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.relay.addr()
    }
    /// The configuration it was started with (faults and live settings as at start; see
    /// [`live`](Self::live)).
    pub fn config(&self) -> &SandboxConfig {
        &self.state.config
    }
    /// Every request so far (the latest [`REQUEST_LOG_CAPACITY`](crate::REQUEST_LOG_CAPACITY)).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.state.log.snapshot()
    }
    /// Empties the request log.
    pub fn clear_log(&self) {
        self.state.log.clear();
    }
    /// The ground truth it serves now: a snapshot of the current live state (changes due so
    /// far applied; later ones do not show in it). Pages of a parameter set read the snapshot
    /// the server took for that set (see [`CacheModel`](crate::CacheModel)), which may be older.
    /// On a live account, holding a snapshot keeps the records it shares alive: the server
    /// copies what it then changes, so drop snapshots when done.
    pub fn dataset(&self) -> Arc<Dataset> {
        self.state.account.tick(false).dataset
    }
    /// The server clock (UTC+8, naive, to the millisecond).
    pub fn now(&self) -> NaiveDateTime {
        self.state.account.tick(false).now
    }
    /// The live settings in force.
    pub fn live(&self) -> LiveConfig {
        self.state.account.tick(false).live
    }
    /// Replaces the live settings at run time: rates, request counts and durations count from
    /// now, and cached snapshots are dropped. Changes due under the old settings are applied
    /// first.
    pub fn set_live(&self, live: LiveConfig) {
        self.state.set_live(live);
    }
    /// Every change so far (arrivals and settles), in order.
    pub fn changes(&self) -> Vec<Change> {
        self.state.account.changes(0)
    }
    /// How each "sending" row of `apiUser` ends once it settles, by email id
    /// (the final status code), for a sandbox started with `config` whose live
    /// settings settle rows: settles are drawn from the seed in a fixed order, so
    /// this twin shows what a sandbox with the same `config` will do. It runs the
    /// twin until its change log stops growing. For tests that must know the
    /// outcome in advance (a watch that should end "failed", say).
    pub fn settle_outcomes(
        config: SandboxConfig,
        api_user: &str,
    ) -> io::Result<std::collections::BTreeMap<String, u8>> {
        let twin = Sandbox::start(config)?;
        let ds = twin.dataset();
        let mine: std::collections::HashSet<String> = ds
            .query(&crate::Filter::dates(ds.first_day(), ds.today()).with_api_users([api_user]))
            .into_iter()
            .map(|g| g.email_id)
            .collect();
        let mut seen = 0;
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let changes = twin.changes();
            if !changes.is_empty() && changes.len() == seen {
                return Ok(changes
                    .into_iter()
                    .filter(|c| mine.contains(&c.email_id))
                    .map(|c| (c.email_id, c.status_code))
                    .collect());
            }
            seen = changes.len();
        }
    }

    /// The changes after sequence number `seq` (`0`: all).
    pub fn changes_since(&self, seq: u64) -> Vec<Change> {
        self.state.account.changes(seq)
    }
    /// Jumps the server clock to the next midnight (00:00:00) now; it keeps running from
    /// there and `days=N` counts from the new date. Returns the new server time.
    pub fn advance_day(&self) -> NaiveDateTime {
        self.state.account.advance_day()
    }
    /// Replaces the fault configuration; the seeded draw sequence restarts.
    pub fn set_faults(&self, faults: FaultConfig) {
        self.state.faults.set(faults);
    }
    /// Replaces the webhook push target (`None`: no new events are pushed; those queued are
    /// still delivered). Changes from now on are pushed.
    pub fn set_webhook(&self, webhook: Option<crate::WebhookPush>) {
        self.state.pusher.set(webhook);
    }
    /// The webhook push target in force.
    pub fn webhook(&self) -> Option<crate::WebhookPush> {
        self.state.pusher.config()
    }
    /// Every webhook delivery attempt so far, in the order they were answered.
    pub fn webhook_log(&self) -> Vec<crate::WebhookDelivery> {
        self.state.pusher.log()
    }
    /// Webhook deliveries queued, in progress or waiting for a retry.
    pub fn webhook_pending(&self) -> usize {
        self.state.pusher.pending()
    }
    /// Replaces the rate limit (`None`: off) and forgets past calls.
    pub fn set_rate_limit(&self, per_minute: Option<u32>) {
        self.state.limiter.set_rate(per_minute);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.state.pusher.stop();
        self.state.stop.set();
        self.relay.stop();
        for _ in 0..self.workers.len() {
            self.http.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// tiny_http's loopback listener, with `TCP_NODELAY` set so that the
/// connections it accepts inherit it: tiny_http writes headers and body
/// separately, and with Nagle on, every keep-alive answer after the first
/// waits ~40 ms for the relay's delayed ACK.
fn backend_listener() -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

/// One request, start to finish.
fn handle(s: &State, mut rq: Request) {
    if rq.url().starts_with(control::PREFIX) {
        control::handle(rq, s);
        return;
    }
    let received = Instant::now();
    let (fault, slow_delay) = s.faults.draw();
    let method = rq.method().to_string();
    let url = rq.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let url_params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let key_in_url = url_params.iter().any(|(k, _)| k == "apiKey");
    let mut params = url_params;
    if is_form(&rq) {
        let mut body = Vec::new();
        let _ = rq.as_reader().take(MAX_BODY).read_to_end(&mut body);
        params.extend(form_urlencoded::parse(&body).into_owned());
    }
    let params = Params(params);
    let port = rq.remote_addr().map(SocketAddr::port);

    s.stop.sleep(s.latency());
    if fault == Some(FaultKind::Slow) {
        s.stop.sleep(slow_delay);
    }
    if s.stop.is_set() {
        // Shutting down mid-delay: answer nothing, the relay is closing the connection anyway.
        drop(rq.into_writer());
        return;
    }

    // The account as of this answer; every request on the API paths counts (day advance).
    let view = s.account.tick(is_api_path(path));
    // Decide the answer, log it, then send it: whoever has the response can already see its
    // log entry.
    let outcome = match fault {
        Some(FaultKind::RateLimited) => Outcome::Json(50000, 200, RATE_LIMITED_BODY.to_string()),
        Some(FaultKind::Http502) => Outcome::BadGateway,
        Some(FaultKind::Reset) => Outcome::Reset,
        Some(FaultKind::Truncated) => {
            let (_, status, body) = answer(s, &view, &method, path, &params);
            Outcome::Truncated(status, body)
        }
        None | Some(FaultKind::Slow) => {
            let (code, status, body) = answer(s, &view, &method, path, &params);
            Outcome::Json(code, status, body)
        }
    };
    let (status_code, http_status) = match &outcome {
        Outcome::Json(code, status, _) => (*code, *status),
        Outcome::BadGateway => (0, 502),
        Outcome::Reset => (0, 0),
        Outcome::Truncated(status, _) => (0, *status),
    };
    let redacted = params
        .0
        .into_iter()
        .map(|(k, v)| if k == "apiKey" { (k, REDACTED.to_string()) } else { (k, v) })
        .collect::<Vec<_>>();
    s.log.push(LoggedRequest {
        method,
        path: path.to_string(),
        param_names: redacted.iter().map(|(k, _)| k.clone()).collect(),
        params: redacted,
        key_in_url,
        status_code,
        http_status,
        fault,
        received,
    });

    match outcome {
        Outcome::Json(_, status, body) => {
            let _ = rq.respond(json(status, body));
        }
        Outcome::BadGateway => {
            let html = content_type("text/html");
            let _ = rq.respond(Response::from_string(BAD_GATEWAY_HTML).with_status_code(502).with_header(html));
        }
        Outcome::Reset => {
            drop(rq.into_writer()); // nothing written; no 500 from tiny_http's Drop either
            end_connection(s, port);
        }
        Outcome::Truncated(status, body) => {
            let full = body.len();
            let mut half = body.into_bytes();
            half.truncate(full / 2);
            let resp = Response::new(status.into(), vec![content_type(JSON)], io::Cursor::new(half), Some(full), None);
            let _ = rq.respond(resp);
            end_connection(s, port);
        }
    }
}

/// What a request gets.
enum Outcome {
    /// `(statusCode, HTTP status, body)`.
    Json(i64, u16, String),
    BadGateway,
    Reset,
    /// HTTP status and the full body, of which half is sent.
    Truncated(u16, String),
}

/// Route, authenticate, rate-limit, validate, query: `(statusCode, HTTP status, body)`.
fn answer(s: &State, view: &View, method: &str, path: &str, params: &Params) -> (i64, u16, String) {
    if !is_api_path(path) {
        return (404, 404, s.style.error(404, "not found", "接口不存在"));
    }
    if method != "GET" && method != "POST" {
        return (405, 405, s.style.error(405, "method not allowed", "请求方法不支持"));
    }
    if let Err(e) = validate::authenticate(params) {
        return (e.code, 200, s.style.error(e.code, &e.en, &e.zh));
    }
    if !s.limiter.admit(Instant::now()) {
        return (50000, 200, RATE_LIMITED_BODY.to_string());
    }
    let q = match validate::validate(params, view.now.date(), s.config.max_window_days) {
        Ok(q) => q,
        Err(e) => return (e.code, 200, s.style.error(e.code, &e.en, &e.zh)),
    };
    let found = s.cache.run(view, &q, Instant::now());
    let page = found.hits.page(q.start, q.limit, found.dataset.order());
    (200, 200, s.style.success(&found.dataset, found.hits.len(), &page))
}

fn is_api_path(path: &str) -> bool {
    path == "/api/data/emailStatus" || path == "/apiv2/data/emailStatus"
}

/// Asks the relay to close this request's connection once tiny_http has flushed it.
fn end_connection(s: &State, port: Option<u16>) {
    if let Some(port) = port {
        (s.end_conn)(port);
    }
}

fn is_form(rq: &Request) -> bool {
    if *rq.method() == Method::Get || *rq.method() == Method::Head {
        return false;
    }
    match rq.headers().iter().find(|h| h.field.equiv("Content-Type")) {
        None => true,
        Some(h) => h.value.as_str().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"),
    }
}

fn content_type(v: &str) -> Header {
    Header::from_bytes(&b"Content-Type"[..], v.as_bytes()).expect("static header")
}

fn json(status: u16, body: String) -> Response<io::Cursor<Vec<u8>>> {
    Response::from_string(body).with_status_code(status).with_header(content_type(JSON))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_jitter_is_uniform_around_the_latency_and_never_negative() {
        let ms = Duration::from_millis;
        assert_eq!(jittered(ms(100), ms(20), 0.0), ms(80));
        assert_eq!(jittered(ms(100), ms(20), 0.5), ms(100));
        assert!(jittered(ms(100), ms(20), 0.999_999) <= ms(120));
        assert_eq!(jittered(ms(5), ms(20), 0.0), Duration::ZERO);
        let draws: Vec<Duration> =
            (0..1000).map(|n| jittered(ms(50), ms(10), unit(hash(42, n, SALT_LATENCY)))).collect();
        let mean = draws.iter().sum::<Duration>() / 1000;
        assert!(draws.iter().all(|d| (ms(40)..=ms(60)).contains(d)));
        assert!((ms(49)..=ms(51)).contains(&mean), "{mean:?}");
    }
}
