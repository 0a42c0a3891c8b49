//! Shared by the integration tests: the fake `emailStatus` server that
//! `tests/vectors/README.md` specifies, and a driver that runs an [`Export`]
//! against it on a virtual clock.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use sendcloud_status_core::chrono::{Days, NaiveDate};
use sendcloud_status_core::{Action, Error, Export, HttpRequest, Method, Page, RequestId, TransportErrorKind};

/// One row of the fake server's dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub email_id: String,
    pub date: NaiveDate,
    /// Sent as `modifiedTime` when set (`yyyy-MM-dd HH:mm:ss`).
    pub modified: Option<String>,
}

impl Row {
    pub fn new(email_id: impl Into<String>, date: NaiveDate) -> Self {
        Row { email_id: email_id.into(), date, modified: None }
    }

    /// A row last changed at `modified` (server-local `yyyy-MM-dd HH:mm:ss`).
    pub fn modified_at(mut self, modified: impl Into<String>) -> Self {
        self.modified = Some(modified.into());
        self
    }
}

/// A fault the server injects instead of answering a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// HTTP 200, `{"result": false, "statuscode": 50000, ...}`.
    RateLimited,
    /// HTTP 429, a text body.
    Http429,
    /// HTTP 502, an HTML body.
    Http502,
    /// HTTP 200, `{"result": false, "statusCode": 501, ...}`.
    Server501,
    /// HTTP 200, the first half of the normal answer.
    Truncated,
    /// The connection is reset: no answer.
    Reset,
    /// No answer within the client's timeout.
    Timeout,
    /// HTTP 200, `{"result": false, "statusCode": 40005, ...}` (not retried).
    Auth,
    /// HTTP 200, `{"result": false, "statusCode": 40913, ...}` (not retried).
    Quota,
}

impl Fault {
    /// The faults a retry recovers from.
    pub const RETRYABLE: [Fault; 7] = [
        Fault::RateLimited,
        Fault::Http429,
        Fault::Http502,
        Fault::Server501,
        Fault::Truncated,
        Fault::Reset,
        Fault::Timeout,
    ];

    pub fn parse(s: &str) -> Option<Fault> {
        Some(match s {
            "rate_limited" => Fault::RateLimited,
            "http_429" => Fault::Http429,
            "http_502" => Fault::Http502,
            "server_501" => Fault::Server501,
            "truncated" => Fault::Truncated,
            "reset" => Fault::Reset,
            "timeout" => Fault::Timeout,
            "auth" => Fault::Auth,
            "quota" => Fault::Quota,
            _ => return None,
        })
    }
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Http { status: u16, body: Vec<u8> },
    Transport(TransportErrorKind),
}

/// A parameter set without `start`/`limit`: window and `emailIds`.
type ParamSet = (NaiveDate, NaiveDate, Option<String>);

/// A change to the fake server's rows, as on a live account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The row leaves every result (for example a "sending" row that
    /// settled, under a `status=sending` query).
    Remove(String),
    /// A row arrives at this index of the dataset order (clamped to the end).
    Insert(usize, Row),
}

/// How the fake server caches results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheModel {
    /// One result per parameter set without `start`/`limit`, computed on
    /// first use and kept for `ttl` requests (`None`: for good — the
    /// documented 10 minutes outlast most tests).
    Snapshot { ttl: Option<usize> },
    /// Every request sees the rows as they are now.
    PerRequest,
}

/// The fake server of `tests/vectors/README.md`: filters its rows by the
/// request's window (`days` relative to `today`, or `startDate`..=`endDate`)
/// and `emailIds`, keeps dataset order, pages by `start`/`limit`, answers
/// `total` as a string, and injects faults by request index. Live-account
/// changes apply before the request of their index.
#[derive(Debug)]
pub struct FakeServer {
    pub today: NaiveDate,
    pub rows: Vec<Row>,
    /// Request index → changes applied before that request is handled.
    pub changes: BTreeMap<usize, Vec<Change>>,
    /// Snapshot (default) or per-request results.
    pub cache_model: CacheModel,
    /// The server's day moves on by one before this request index.
    pub advance_day_at: Option<usize>,
    /// Every email id ever removed by a change.
    pub changed: HashSet<String>,
    /// Request index (0-based, every request received counts) → fault.
    pub faults: BTreeMap<usize, Fault>,
    /// Leave `total` out of every answer.
    pub omit_total: bool,
    /// Added to the true `total` in every answer.
    pub total_bias: u64,
    /// Rows sent beyond `limit` in every page (a misbehaving server).
    pub oversize: usize,
    /// The export's page size: a request with another `limit` (a re-read)
    /// names it in the log.
    pub page_size: Option<u32>,
    /// Requests received so far.
    pub received: usize,
    /// One line per request received: `days=N start=S [ids=K]` or
    /// `YYYY-MM-DD..YYYY-MM-DD start=S [ids=K]`.
    pub log: Vec<String>,
    /// Requests that broke the protocol (answered with HTTP 400).
    pub violations: Vec<String>,
    /// Parameter set → (request count when computed, rows).
    cache: HashMap<ParamSet, (usize, Vec<Row>)>,
}

impl FakeServer {
    pub fn new(today: NaiveDate, rows: Vec<Row>) -> Self {
        FakeServer {
            today,
            rows,
            faults: BTreeMap::new(),
            omit_total: false,
            total_bias: 0,
            oversize: 0,
            page_size: None,
            changes: BTreeMap::new(),
            cache_model: CacheModel::Snapshot { ttl: None },
            advance_day_at: None,
            changed: HashSet::new(),
            received: 0,
            log: Vec::new(),
            violations: Vec::new(),
            cache: HashMap::new(),
        }
    }

    pub fn with_faults(mut self, faults: impl IntoIterator<Item = (usize, Fault)>) -> Self {
        self.faults.extend(faults);
        self
    }

    /// Answers one request.
    pub fn handle(&mut self, req: &HttpRequest) -> Reply {
        let index = self.received;
        self.received += 1;
        if self.advance_day_at == Some(index) {
            self.today = self.today + Days::new(1);
        }
        for change in self.changes.remove(&index).unwrap_or_default() {
            match change {
                Change::Remove(id) => {
                    self.rows.retain(|r| r.email_id != id);
                    self.changed.insert(id);
                }
                Change::Insert(at, row) => {
                    let at = at.min(self.rows.len());
                    self.rows.insert(at, row);
                }
            }
        }
        let params = request_params(req);
        match self.parse(&params) {
            Ok(parsed) => self.answer(index, parsed),
            Err(why) => {
                self.log.push(format!("invalid: {why}"));
                self.violations.push(format!("request {index}: {why}"));
                Reply::Http { status: 400, body: b"bad request".to_vec() }
            }
        }
    }

    fn parse(&self, params: &[(String, String)]) -> Result<Parsed, String> {
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        for (name, value) in params {
            if value.is_empty() {
                return Err(format!("empty parameter {name}"));
            }
            if params.iter().filter(|(n, _)| n == name).count() > 1 {
                return Err(format!("repeated parameter {name}"));
            }
        }
        if get("apiUser").is_none() || get("apiKey").is_none() {
            return Err("missing credentials".into());
        }
        let date = |k: &str| -> Result<NaiveDate, String> {
            let v = get(k).ok_or_else(|| format!("missing {k}"))?;
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| format!("bad {k} {v:?}"))
        };
        let (from, to, window) = match get("days") {
            Some(d) => {
                if get("startDate").is_some() || get("endDate").is_some() {
                    return Err("days together with startDate/endDate".into());
                }
                let n: u64 = d.parse().map_err(|_| format!("bad days {d:?}"))?;
                if n == 0 {
                    return Err("days=0".into());
                }
                (self.today - Days::new(n - 1), self.today, format!("days={n}"))
            }
            None => {
                let (s, e) = (date("startDate")?, date("endDate")?);
                if s > e {
                    return Err("startDate after endDate".into());
                }
                (s, e, format!("{s}..{e}"))
            }
        };
        let num = |k: &str| -> Result<usize, String> {
            let v = get(k).ok_or_else(|| format!("missing {k}"))?;
            v.parse().map_err(|_| format!("bad {k} {v:?}"))
        };
        let (start, limit) = (num("start")?, num("limit")?);
        if !(1..=100).contains(&limit) {
            return Err(format!("limit {limit} out of 1..=100"));
        }
        let ids = get("emailIds").map(str::to_owned);
        let mut line = format!("{window} start={start}");
        if self.page_size.is_some_and(|want| limit != want as usize) {
            line.push_str(&format!(" limit={limit}"));
        }
        if let Some(ids) = &ids {
            line.push_str(&format!(" ids={}", ids.split(';').count()));
        }
        Ok(Parsed { from, to, ids, start, limit, line })
    }

    fn matching(&mut self, from: NaiveDate, to: NaiveDate, ids: Option<String>) -> Vec<Row> {
        let rows = &self.rows;
        let compute = |(from, to, ids): &ParamSet| -> Vec<Row> {
            let wanted: Option<HashSet<&str>> = ids.as_deref().map(|s| s.split(';').collect());
            rows.iter()
                .filter(|r| r.date >= *from && r.date <= *to)
                .filter(|r| wanted.as_ref().is_none_or(|w| w.contains(r.email_id.as_str())))
                .cloned()
                .collect()
        };
        let now = self.received;
        match self.cache_model {
            CacheModel::Snapshot { ttl } => {
                let key = (from, to, ids);
                let fresh = |at: usize| ttl.is_none_or(|ttl| now < at + ttl);
                match self.cache.get(&key) {
                    Some((at, rows)) if fresh(*at) => rows.clone(),
                    _ => {
                        let rows = compute(&key);
                        self.cache.insert(key, (now, rows.clone()));
                        rows
                    }
                }
            }
            CacheModel::PerRequest => compute(&(from, to, ids)),
        }
    }

    fn answer(&mut self, index: usize, p: Parsed) -> Reply {
        self.log.push(p.line.clone());
        let fault = self.faults.get(&index).copied();
        let error = |code: u32, key: &str, message: &str| Reply::Http {
            status: 200,
            body: format!(r#"{{"result": false, "{key}": {code}, "message": "{message}", "info": {{}}}}"#).into_bytes(),
        };
        match fault {
            Some(Fault::RateLimited) => return error(50000, "statuscode", "interface frequency limited"),
            Some(Fault::Server501) => return error(501, "statusCode", "server exception"),
            Some(Fault::Auth) => return error(40005, "statusCode", "authentication failed"),
            Some(Fault::Quota) => return error(40913, "statusCode", "request quota exceeded"),
            Some(Fault::Http429) => return Reply::Http { status: 429, body: b"Too Many Requests".to_vec() },
            Some(Fault::Http502) => {
                return Reply::Http {
                    status: 502,
                    body: b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
                        .to_vec(),
                };
            }
            Some(Fault::Reset) => return Reply::Transport(TransportErrorKind::ConnectionReset),
            Some(Fault::Timeout) => return Reply::Transport(TransportErrorKind::Timeout),
            Some(Fault::Truncated) | None => {}
        }
        let (omit_total, bias) = (self.omit_total, self.total_bias);
        let matching = self.matching(p.from, p.to, p.ids);
        let end = p.start.saturating_add(p.limit + self.oversize).min(matching.len());
        let page = &matching[p.start.min(matching.len())..end];
        let list: Vec<serde_json::Value> = page
            .iter()
            .map(|r| {
                let mut row = serde_json::json!({
                    "emailId": r.email_id,
                    "status": "送达",
                    "requestTime": format!("{} 10:00:00", r.date),
                });
                if let Some(m) = &r.modified {
                    row["modifiedTime"] = m.as_str().into();
                }
                row
            })
            .collect();
        let mut info = serde_json::json!({ "voListSize": list.len(), "voList": list });
        if !omit_total {
            info["total"] = (matching.len() as u64 + bias).to_string().into();
        }
        let body = serde_json::json!({ "result": true, "statusCode": 200, "message": "请求成功", "info": info });
        let mut body = serde_json::to_vec(&body).expect("serializable");
        if fault == Some(Fault::Truncated) {
            body.truncate(body.len() / 2);
        }
        Reply::Http { status: 200, body }
    }
}

struct Parsed {
    from: NaiveDate,
    to: NaiveDate,
    ids: Option<String>,
    start: usize,
    limit: usize,
    line: String,
}

/// The form parameters of a request: the body for POST, the URL's query
/// for GET, in order.
pub fn request_params(req: &HttpRequest) -> Vec<(String, String)> {
    let raw: &[u8] = match req.method() {
        Method::Get => req.url().split_once('?').map_or(&b""[..], |(_, q)| q.as_bytes()),
        _ => req.body(),
    };
    form_urlencoded::parse(raw).into_owned().collect()
}

/// In which order the driver answers requests it holds in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first.
    Fifo,
    /// Newest first.
    Lifo,
    /// Pseudo-random, and sometimes let time pass before answering.
    Shuffle(u64),
}

/// How a drive ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// `Action::Done`.
    Done,
    /// The page callback asked to stop.
    Stopped,
}

/// Runs exports on a virtual clock: `Instant::now()` once as the base, then
/// the clock only moves to the instants `WaitUntil` names. Never sleeps.
#[derive(Debug)]
pub struct Driver {
    pub base: Instant,
    pub now: Instant,
    pub order: Order,
    rng: u64,
    /// Most requests held in flight at once.
    pub max_in_flight: usize,
    /// The instant of every `Send`.
    pub send_times: Vec<Instant>,
    /// Safety net against a machine that never finishes.
    pub max_steps: usize,
}

impl Driver {
    pub fn new(order: Order) -> Self {
        let base = Instant::now();
        let rng = match order {
            Order::Shuffle(seed) => seed ^ 0x5DEE_CE66_D1CE_4E5B,
            _ => 0,
        };
        Driver { base, now: base, order, rng, max_in_flight: 0, send_times: Vec::new(), max_steps: 2_000_000 }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Drives `export` against `server` until `Done`, an export error, or
    /// `on_page` returning `false`. A machine misbehaving towards the driver
    /// (awaiting with nothing in flight, waiting for the past, never ending)
    /// panics.
    pub fn run(
        &mut self,
        export: &mut Export,
        server: &mut FakeServer,
        mut on_page: impl FnMut(Page, &Export) -> bool,
    ) -> Result<End, Error> {
        let mut in_flight: Vec<(RequestId, Reply)> = Vec::new();
        for _ in 0..self.max_steps {
            match export.poll(self.now)? {
                Action::Send(id, request) => {
                    self.send_times.push(self.now);
                    let reply = server.handle(&request);
                    in_flight.push((id, reply));
                    self.max_in_flight = self.max_in_flight.max(in_flight.len());
                }
                Action::Page(page) => {
                    if !on_page(page, export) {
                        return Ok(End::Stopped);
                    }
                }
                Action::Done => return Ok(End::Done),
                Action::AwaitResponse => {
                    assert!(!in_flight.is_empty(), "AwaitResponse with nothing in flight");
                    self.answer_one(export, &mut in_flight);
                }
                Action::WaitUntil(t) => {
                    assert!(t > self.now, "WaitUntil({:?}) is not in the future", t - self.base);
                    let answer_first = match self.order {
                        Order::Shuffle(_) => !self.next_random().is_multiple_of(4),
                        _ => true,
                    };
                    if !in_flight.is_empty() && answer_first {
                        self.answer_one(export, &mut in_flight);
                    } else {
                        self.now = t;
                    }
                }
                other => panic!("unexpected action {other:?}"),
            }
        }
        panic!("export did not finish within {} steps", self.max_steps);
    }

    fn answer_one(&mut self, export: &mut Export, in_flight: &mut Vec<(RequestId, Reply)>) {
        let i = match self.order {
            Order::Fifo => 0,
            Order::Lifo => in_flight.len() - 1,
            Order::Shuffle(_) => (self.next_random() % in_flight.len() as u64) as usize,
        };
        let (id, reply) = in_flight.remove(i);
        match reply {
            Reply::Http { status, body } => export.handle_response(id, status, &body, self.now),
            Reply::Transport(kind) => export.handle_transport_error(id, kind, self.now),
        }
    }

    /// Drives to the end and collects the email ids of every emitted record.
    pub fn collect(&mut self, export: &mut Export, server: &mut FakeServer) -> (Vec<String>, Result<End, Error>) {
        let mut ids = Vec::new();
        let end = self.run(export, server, |page, _| {
            ids.extend(page.records.into_iter().map(|r| r.email_id.unwrap_or_default()));
            true
        });
        (ids, end)
    }
}

/// The rows an export must emit, computed from the spec rather than from
/// the machine: windows oldest first (consecutive blocks of `max_days` from
/// `from`), then id chunks in list order, then dataset order; each email id
/// once per window and chunk (a real server lists an email in the one window
/// of its request time; de-duplication is scoped to a unit so memory stays
/// flat).
pub fn ground_truth(
    rows: &[Row],
    (from, to): (NaiveDate, NaiveDate),
    max_days: u32,
    id_chunks: Option<&[Vec<String>]>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut lo = from;
    while lo <= to {
        let hi = (lo + Days::new(u64::from(max_days) - 1)).min(to);
        let chunks: Vec<Option<&Vec<String>>> = match id_chunks {
            None => vec![None],
            Some(c) => c.iter().map(Some).collect(),
        };
        for chunk in chunks {
            let mut seen = HashSet::new();
            for r in rows {
                if r.date >= lo
                    && r.date <= hi
                    && chunk.is_none_or(|c| c.contains(&r.email_id))
                    && seen.insert(r.email_id.clone())
                {
                    out.push(r.email_id.clone());
                }
            }
        }
        lo = hi + Days::new(1);
    }
    out
}
