//! Options objects from JS, turned into the client's builder, a core
//! [`Query`] and export settings. Every rule is the core's (bounds,
//! defaults, parsers: `sendcloud_status::settings`): this module only moves
//! values across. JS numbers arrive as `f64` and must be integers, so `1.5`
//! or `-1` become validation errors instead of being truncated or wrapped
//! on the way in.

use std::time::Duration;

use napi::Either;
use napi_derive::napi;
use sendcloud_status::chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use sendcloud_status::core::query::parse_date;
use sendcloud_status::core::{Credentials, Encoder, Endpoint};
use sendcloud_status::settings::{self, Bounds, DELAY, DurationBounds, TIMEOUT, TimeUnit};
use sendcloud_status::{
    Client, ClientBuilder, Cursor, Error as CoreError, Method, Parallelism, Query, Region, RetryPolicy, Status,
    ValidationReason,
};

pub(crate) type CoreResult<T> = std::result::Result<T, CoreError>;

/// An integer from a JS number (range checks are the core's).
fn integer(field: &'static str, v: f64) -> CoreResult<i64> {
    if !v.is_finite() || v.fract() != 0.0 {
        return Err(CoreError::invalid_value(
            field,
            ValidationReason::Malformed,
            format!("must be an integer, got {v}"),
        ));
    }
    Ok(v as i64)
}

/// An integer within the core's `bounds` for this setting.
pub(crate) fn bounded(field: &'static str, v: f64, bounds: Bounds) -> CoreResult<i64> {
    bounds.check(field, integer(field, v)?)
}

fn millis(bounds: DurationBounds, field: &'static str, v: f64) -> CoreResult<Duration> {
    bounds.from_number(field, v, TimeUnit::Millis)
}

/// `parallel`: `'auto'` or a number (not a numeric string); which names and
/// counts are valid is the core's rule.
pub(crate) fn parallelism(v: &Either<f64, String>) -> CoreResult<Parallelism> {
    match v {
        Either::B(s) => Parallelism::from_name(s),
        Either::A(n) if n.is_finite() && n.fract() == 0.0 => Parallelism::fixed(*n as i64),
        Either::A(n) => Err(Parallelism::invalid(n)),
    }
}

/// `parallel` as JS shows it: `'auto'` or the number.
pub(crate) fn parallel_value(p: Parallelism) -> Either<u32, String> {
    match p {
        Parallelism::Fixed(n) => Either::A(u32::try_from(n).unwrap_or(u32::MAX)),
        other => Either::B(other.to_string()),
    }
}

/// `+08:00`, `-05:30`, `+0800`, `+08`, `Z` or `UTC` (the core's parser).
pub(crate) fn utc_offset(s: &str) -> CoreResult<FixedOffset> {
    settings::parse_utc_offset(s)
}

/// A server-local time, `yyyy-MM-dd HH:mm:ss` (the core's parser).
pub(crate) fn server_time(s: &str) -> CoreResult<NaiveDateTime> {
    settings::parse_server_time("server_now", s)
}

/// Settings of `new Client(options)`. Unset credentials, region and base
/// URL fall back to `SENDCLOUD_API_USER`, `SENDCLOUD_API_KEY`,
/// `SENDCLOUD_REGION` and `SENDCLOUD_BASE_URL`.
#[napi(object, object_to_js = false)]
#[derive(Default, Clone)]
pub struct ClientOptions {
    /// The `apiUser`.
    pub api_user: Option<String>,
    /// The `apiKey` (never printed).
    pub api_key: Option<String>,
    /// A region preset: `aurora-sg` (default), `aurora-us`, `aurora-hk`, `sendcloud-intl`, `sendcloud-cn`.
    pub region: Option<String>,
    /// A custom base URL (HTTPS, or plain HTTP on loopback); wins over `region`.
    pub base_url: Option<String>,
    /// The window maximum of a custom base URL (default 3).
    pub max_window_days: Option<f64>,
    /// `POST` (default) or `GET`.
    pub method: Option<String>,
    /// Whole-request timeout in milliseconds (default 30000).
    pub timeout_ms: Option<f64>,
    /// Connect timeout in milliseconds (default 10000).
    pub connect_timeout_ms: Option<f64>,
    /// Retries per request after the first attempt (default 7).
    pub max_retries: Option<f64>,
    /// Client-side rate limit (default 3000); 0 disables it.
    pub rate_limit_per_minute: Option<f64>,
    /// Requests in flight at once during exports: `'auto'` (the default) or 1 to 64.
    pub parallel: Option<Either<f64, String>>,
    /// The server's UTC offset, like `+08:00` (the default).
    pub server_utc_offset: Option<String>,
    /// Email ids per request for long `emailIds` lists (default 20).
    pub email_id_chunk: Option<f64>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// An HTTP or SOCKS proxy URL (default: from `HTTPS_PROXY`/`ALL_PROXY`).
    pub proxy: Option<String>,
    /// Backoff base after server and transport faults, ms (default 200).
    pub retry_base_delay_ms: Option<f64>,
    /// Backoff base after a rate-limit answer, ms (default 1000).
    pub retry_rate_limit_delay_ms: Option<f64>,
    /// The longest single wait between attempts, ms (default 30000).
    pub retry_max_delay_ms: Option<f64>,
    /// Give up on a request this long after its first attempt, ms (default 300000).
    pub retry_deadline_ms: Option<f64>,
    /// Seed of the retry jitter (default: from the clock), for reproducible runs.
    pub jitter_seed: Option<f64>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("api_user", &self.api_user)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// The parallelism these options ask for (default `Auto`).
    pub(crate) fn parallelism(&self) -> CoreResult<Parallelism> {
        self.parallel.as_ref().map_or(Ok(Parallelism::default()), parallelism)
    }

    /// The server's UTC offset these options ask for (default `+08:00`).
    pub(crate) fn offset(&self) -> CoreResult<FixedOffset> {
        self.server_utc_offset.as_deref().map_or(Ok(settings::DEFAULT_SERVER_UTC_OFFSET), utc_offset)
    }

    /// The method these options ask for.
    pub(crate) fn method(&self) -> CoreResult<Method> {
        self.method.as_deref().map_or(Ok(Method::default()), str::parse)
    }

    /// Builds the client (environment fallbacks are the builder's).
    pub(crate) fn build(&self) -> CoreResult<Client> {
        let mut b: ClientBuilder = Client::builder().method(self.method()?);
        if let Some(u) = &self.api_user {
            b = b.api_user(u.as_str());
        }
        if let Some(k) = &self.api_key {
            b = b.api_key(k.as_str());
        }
        if let Some(r) = &self.region {
            b = b.region(r.parse::<Region>()?);
        }
        if let Some(u) = &self.base_url {
            b = b.base_url(u.as_str());
        }
        if let Some(d) = self.max_window_days {
            b = b.max_window_days(bounded("max_window_days", d, settings::MAX_WINDOW_DAYS)? as u32);
        }
        if let Some(ms) = self.timeout_ms {
            b = b.timeout(millis(TIMEOUT, "timeout_ms", ms)?);
        }
        if let Some(ms) = self.connect_timeout_ms {
            b = b.connect_timeout(millis(TIMEOUT, "connect_timeout_ms", ms)?);
        }
        let mut retry = RetryPolicy::default();
        for (field, value, slot) in [
            ("retry_base_delay_ms", self.retry_base_delay_ms, &mut retry.base_delay),
            ("retry_rate_limit_delay_ms", self.retry_rate_limit_delay_ms, &mut retry.rate_limit_base_delay),
            ("retry_max_delay_ms", self.retry_max_delay_ms, &mut retry.max_delay),
            ("retry_deadline_ms", self.retry_deadline_ms, &mut retry.deadline),
        ] {
            if let Some(ms) = value {
                *slot = millis(DELAY, field, ms)?;
            }
        }
        b = b.retry_policy(retry);
        if let Some(n) = self.max_retries {
            b = b.max_retries(bounded("max_retries", n, settings::MAX_RETRIES)? as u32);
        }
        if let Some(seed) = self.jitter_seed {
            b = b.jitter_seed(bounded("jitter_seed", seed, settings::JITTER_SEED)? as u64);
        }
        if let Some(n) = self.rate_limit_per_minute {
            // 0 turns pacing off: the builder's (the core's) meaning.
            b = b.rate_limit_per_minute(Some(
                bounded("rate_limit_per_minute", n, settings::RATE_LIMIT_PER_MINUTE)? as u32
            ));
        }
        b = b.parallelism(self.parallelism()?);
        if let Some(o) = &self.server_utc_offset {
            b = b.server_utc_offset(utc_offset(o)?);
        }
        if let Some(n) = self.email_id_chunk {
            b = b.email_id_chunk(bounded("email_id_chunk", n, settings::EMAIL_ID_CHUNK)? as usize);
        }
        if let Some(ua) = &self.user_agent {
            b = b.user_agent(ua.as_str());
        }
        if let Some(p) = &self.proxy {
            b = b.proxy(p.as_str());
        }
        b.build()
    }
}

/// Filters of a query plus the options of the methods that take them
/// (`maxRecords`, `cursor`, `softBounces`). The JS wrapper rejects options a
/// method does not take before they get here.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default, Clone)]
pub struct QueryOptions {
    /// The last N days (`1` = today, server time).
    pub days: Option<f64>,
    /// First day, `yyyy-MM-dd` (with `endDate`).
    pub start_date: Option<String>,
    /// Last day, inclusive, `yyyy-MM-dd` (with `startDate`).
    pub end_date: Option<String>,
    /// One recipient address.
    pub email: Option<String>,
    /// Email ids returned by the send API.
    pub email_ids: Option<Vec<String>>,
    /// A label id.
    pub label_id: Option<f64>,
    /// A label name (fuzzy when sent without a label id).
    pub label_name: Option<String>,
    /// apiUsers of the account (`apiUserList`).
    pub api_users: Option<Vec<String>>,
    /// `delivered`, `invalid`, `soft_bounce` or `sending`.
    pub status: Option<String>,
    /// Sub-status codes (4xx, 5xx).
    pub sub_status: Option<Vec<f64>>,
    /// First offset (default 0).
    pub start: Option<f64>,
    /// Page size 1..=100 (default 100).
    pub limit: Option<f64>,
    /// Stop an export after this many records.
    pub max_records: Option<f64>,
    /// Resume an export from a saved cursor.
    pub cursor: Option<String>,
    /// Suppressions: also list addresses with at least this many soft bounces.
    pub soft_bounces: Option<f64>,
    /// Exports: requests in flight at once, `'auto'` or 1 to 64 (default: the client's).
    pub parallel: Option<Either<f64, String>>,
    /// Exports: the server-local day (`yyyy-MM-dd`) that anchors `days`
    /// windows, instead of today.
    pub today: Option<String>,
    /// Exports: plan as if the server's clock read this time
    /// (`yyyy-MM-dd HH:mm:ss`, server-local) instead of this machine's.
    pub server_now: Option<String>,
}

impl QueryOptions {
    /// The validated query (every rule is `Query::builder()`'s).
    pub(crate) fn query(&self) -> CoreResult<Query> {
        let mut b = Query::builder();
        if let Some(d) = self.days {
            b = b.days(integer("days", d)?);
        }
        // "Both or neither" is the builder's check.
        if let Some(s) = &self.start_date {
            b = b.start_date_str(s);
        }
        if let Some(e) = &self.end_date {
            b = b.end_date_str(e);
        }
        if let Some(e) = &self.email {
            b = b.email(e.as_str());
        }
        if let Some(ids) = &self.email_ids {
            b = b.email_ids(ids.iter().map(String::as_str));
        }
        if let Some(id) = self.label_id {
            b = b.label_id(integer("label_id", id)?);
        }
        if let Some(n) = &self.label_name {
            b = b.label_name(n.as_str());
        }
        if let Some(users) = &self.api_users {
            b = b.api_users(users.iter().map(String::as_str));
        }
        if let Some(s) = &self.status {
            b = b.status(s.parse::<Status>()?);
        }
        if let Some(codes) = &self.sub_status {
            let codes: Vec<i64> = codes.iter().map(|&c| integer("sub_status", c)).collect::<CoreResult<_>>()?;
            b = b.sub_status(codes);
        }
        if let Some(s) = self.start {
            b = b.start(integer("start", s)?);
        }
        if let Some(l) = self.limit {
            b = b.limit(integer("limit", l)?);
        }
        b.build()
    }

    pub(crate) fn max_records(&self) -> CoreResult<Option<u64>> {
        self.max_records.map(|n| bounded("max_records", n, settings::MAX_RECORDS).map(|n| n as u64)).transpose()
    }

    pub(crate) fn cursor(&self) -> CoreResult<Option<Cursor>> {
        self.cursor.as_deref().map(str::parse).transpose()
    }

    pub(crate) fn today(&self) -> CoreResult<Option<NaiveDate>> {
        self.today.as_deref().map(|d| parse_date("today", d)).transpose()
    }

    /// `serverNow` (giving `today` too is refused by the export request).
    pub(crate) fn server_now(&self) -> CoreResult<Option<NaiveDateTime>> {
        self.server_now.as_deref().map(server_time).transpose()
    }

    pub(crate) fn parallel(&self) -> CoreResult<Option<Parallelism>> {
        self.parallel.as_ref().map(parallelism).transpose()
    }

    pub(crate) fn soft_bounces(&self) -> CoreResult<Option<u64>> {
        self.soft_bounces.map(|n| bounded("soft_bounces", n, settings::SOFT_BOUNCES).map(|n| n as u64)).transpose()
    }
}

/// Where `encodeRequest` sends: credentials, endpoint and method. Nothing
/// falls back to the environment.
#[napi(object, object_to_js = false)]
#[derive(Default, Clone)]
pub struct EncodeOptions {
    /// The `apiUser`.
    pub api_user: Option<String>,
    /// The `apiKey`.
    pub api_key: Option<String>,
    /// A region preset.
    pub region: Option<String>,
    /// A custom base URL (wins over `region`).
    pub base_url: Option<String>,
    /// The window maximum of the endpoint.
    pub max_window_days: Option<f64>,
    /// `POST` (default) or `GET`.
    pub method: Option<String>,
}

impl std::fmt::Debug for EncodeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodeOptions")
            .field("api_user", &self.api_user)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl EncodeOptions {
    pub(crate) fn encoder(&self) -> CoreResult<Encoder> {
        let endpoint = match (&self.base_url, &self.region) {
            (Some(url), _) => Endpoint::custom(url)?,
            (None, Some(region)) => Endpoint::preset(region.parse()?),
            (None, None) => Endpoint::default(),
        };
        let endpoint = match self.max_window_days {
            Some(d) => {
                endpoint.with_max_window_days(bounded("max_window_days", d, settings::MAX_WINDOW_DAYS)? as u32)?
            }
            None => endpoint,
        };
        let api_user = self.api_user.clone().ok_or_else(|| CoreError::validation("api_user", "missing"))?;
        let api_key = self.api_key.clone().ok_or_else(|| CoreError::validation("api_key", "missing"))?;
        let credentials = Credentials::new(api_user, api_key)?;
        let method = self.method.as_deref().map_or(Ok(Method::default()), str::parse)?;
        Ok(Encoder::new(endpoint, credentials).with_method(method))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_must_be_integers() {
        let q = QueryOptions { days: Some(1.5), ..Default::default() };
        assert_eq!(q.query().unwrap_err().field(), Some("days"));
        let q = QueryOptions { days: Some(2.0), limit: Some(f64::NAN), ..Default::default() };
        assert_eq!(q.query().unwrap_err().field(), Some("limit"));
        let q = QueryOptions { days: Some(-1.0), ..Default::default() };
        assert_eq!(q.query().unwrap_err().field(), Some("days"));
    }

    #[test]
    fn server_now_is_a_server_time() {
        let q = QueryOptions { server_now: Some("2024-05-20T15:00:00.5".into()), ..Default::default() };
        assert_eq!(q.server_now().unwrap().unwrap().to_string(), "2024-05-20 15:00:00.500");
        let q = QueryOptions { server_now: Some("15:00:00".into()), ..Default::default() };
        assert_eq!(q.server_now().unwrap_err().field(), Some("server_now"));
    }

    #[test]
    fn settings_take_the_cores_bounds() {
        let build = |o: ClientOptions| o.build().map(|_| ()).map_err(|e| (e.field(), e.explanation().to_owned()));
        let base = || ClientOptions {
            api_user: Some("u".into()),
            api_key: Some("k".into()),
            base_url: Some("http://127.0.0.1:9/api/".into()),
            ..Default::default()
        };
        assert_eq!(
            build(ClientOptions { max_retries: Some(101.0), ..base() }),
            Err((Some("max_retries"), "must be from 0 to 100, got 101".into()))
        );
        assert_eq!(
            build(ClientOptions { timeout_ms: Some(0.0), ..base() }),
            Err((Some("timeout_ms"), "must be more than 0 and at most 86400000 ms, got 0 ms".into()))
        );
        assert_eq!(build(ClientOptions { rate_limit_per_minute: Some(0.0), ..base() }), Ok(()), "0 is off");
        assert_eq!(build(ClientOptions { retry_base_delay_ms: Some(0.0), ..base() }), Ok(()), "no wait is a wait");
    }

    #[test]
    fn half_a_date_range_is_a_window_error() {
        let q = QueryOptions { start_date: Some("2024-01-01".into()), ..Default::default() };
        assert_eq!(q.query().unwrap_err().field(), Some("window"));
    }

    #[test]
    fn parallel_is_auto_or_a_count() {
        let p = |v: Either<f64, String>| parallelism(&v).map_err(|e| e.field());
        assert_eq!(p(Either::B(" Auto ".into())), Ok(Parallelism::Auto));
        assert_eq!(p(Either::A(1.0)), Ok(Parallelism::Fixed(1)));
        assert_eq!(p(Either::A(64.0)), Ok(Parallelism::Fixed(64)));
        for bad in [Either::A(0.0), Either::A(-1.0), Either::A(65.0), Either::A(1.5), Either::A(f64::NAN)] {
            assert_eq!(p(bad), Err(Some("parallel")));
        }
        let e = parallelism(&Either::A(65.0)).unwrap_err();
        assert_eq!(e.explanation(), "must be \"auto\" or a whole number from 1 to 64, got 65");
        for bad in ["4", "fast", ""] {
            assert_eq!(p(Either::B(bad.into())), Err(Some("parallel")), "{bad}");
        }
        assert_eq!(ClientOptions::default().parallelism().unwrap(), Parallelism::Auto);
    }

    #[test]
    fn debug_hides_the_key() {
        let o = ClientOptions { api_key: Some("s3cret".into()), ..Default::default() };
        assert!(!format!("{o:?}").contains("s3cret"));
    }
}
