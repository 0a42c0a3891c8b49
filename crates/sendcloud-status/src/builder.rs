//! [`ClientBuilder`]: every setting of a [`Client`], with environment
//! fallbacks (`SENDCLOUD_API_USER`, `SENDCLOUD_API_KEY`, `SENDCLOUD_REGION`,
//! `SENDCLOUD_BASE_URL`, and the usual `HTTPS_PROXY`/`ALL_PROXY`).

use std::time::Duration;

use chrono::FixedOffset;
use sendcloud_status_core::settings::{self, DELAY, TIMEOUT};
use sendcloud_status_core::{
    Credentials, Decoder, Encoder, Endpoint, Error, Method, Parallelism, RateLimit, Region, Result, RetryPolicy,
    ValidationReason,
};

use crate::client::{Client, Inner};
use crate::transport::{ProxySetting, Transport, TransportConfig};

/// Environment variable holding the `apiUser`.
pub const ENV_API_USER: &str = "SENDCLOUD_API_USER";
/// Environment variable holding the `apiKey`.
pub const ENV_API_KEY: &str = "SENDCLOUD_API_KEY";
/// Environment variable naming a region preset.
pub const ENV_REGION: &str = "SENDCLOUD_REGION";
/// Environment variable holding a custom base URL.
pub const ENV_BASE_URL: &str = "SENDCLOUD_BASE_URL";

/// The most requests a client or an export may have in flight at once
/// ([`settings::PARALLEL`]).
pub const MAX_PARALLELISM: usize = sendcloud_status_core::MAX_PARALLELISM;
/// The most email ids one request may carry ([`settings::EMAIL_ID_CHUNK`]).
pub const MAX_EMAIL_ID_CHUNK: usize = settings::EMAIL_ID_CHUNK.max() as usize;
/// The longest timeout, retry wait or retry deadline a client accepts (one
/// day): longer values are mistakes, and past them clocks would overflow.
pub const MAX_TIMEOUT: Duration = settings::MAX_DURATION;

/// Builds a [`Client`]. Unset credentials, region and base URL fall back to
/// the environment. Setters only record values: [`ClientBuilder::build`]
/// checks every one of them.
///
/// ```no_run
/// use std::time::Duration;
/// use sendcloud_status::{Client, Region};
/// let client = Client::builder()
///     .credentials("my_api_user", "my_api_key")
///     .region(Region::AuroraUs)
///     .timeout(Duration::from_secs(20))
///     .max_retries(5)
///     .parallelism(4)
///     .build()?;
/// # Ok::<(), sendcloud_status::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    api_user: Option<String>,
    api_key: Option<String>,
    region: Option<Region>,
    base_url: Option<String>,
    max_window_days: Option<u32>,
    method: Method,
    connect_timeout: Duration,
    request_timeout: Duration,
    proxy: Option<ProxySetting>,
    user_agent: Option<String>,
    retry: RetryPolicy,
    /// `max_retries`, applied to `retry` by `build` after its bounds check.
    max_retries: Option<u32>,
    /// An error when `rate_limit_per_minute` got an invalid value (reported by `build`).
    rate_limit: Result<Option<RateLimit>>,
    utc_offset: FixedOffset,
    parallelism: Parallelism,
    email_id_chunk: usize,
    jitter_seed: Option<u64>,
    use_env: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            api_user: None,
            api_key: None,
            region: None,
            base_url: None,
            max_window_days: None,
            method: Method::default(),
            connect_timeout: settings::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: settings::DEFAULT_TIMEOUT,
            proxy: None,
            user_agent: None,
            retry: RetryPolicy::default(),
            max_retries: None,
            rate_limit: Ok(Some(RateLimit::default())),
            utc_offset: settings::DEFAULT_SERVER_UTC_OFFSET,
            parallelism: Parallelism::Auto,
            email_id_chunk: settings::DEFAULT_EMAIL_ID_CHUNK,
            jitter_seed: None,
            use_env: true,
        }
    }
}

impl ClientBuilder {
    /// `apiUser` and `apiKey`.
    pub fn credentials(mut self, api_user: impl Into<String>, api_key: impl Into<String>) -> Self {
        self.api_user = Some(api_user.into());
        self.api_key = Some(api_key.into());
        self
    }

    /// The `apiUser` alone (the key may come from the environment).
    pub fn api_user(mut self, api_user: impl Into<String>) -> Self {
        self.api_user = Some(api_user.into());
        self
    }

    /// The `apiKey` alone.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// Ignore `SENDCLOUD_*` variables (proxy variables still apply unless
    /// [`ClientBuilder::no_proxy`]).
    pub fn ignore_env(mut self) -> Self {
        self.use_env = false;
        self
    }

    /// A region preset (default `aurora-sg`).
    pub fn region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// A custom base URL (the endpoint is `base + "data/emailStatus"`);
    /// wins over the region. HTTPS unless the host is loopback.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The window maximum of a custom base URL (default 3 days; 1 to
    /// 3660).
    pub fn max_window_days(mut self, days: u32) -> Self {
        self.max_window_days = Some(days);
        self
    }

    /// GET or POST (default POST: the key stays out of URLs).
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Connection timeout (default 10 s; more than zero, at most
    /// [`MAX_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whole-request timeout, connect to last body byte (default 30 s; more
    /// than zero, at most [`MAX_TIMEOUT`]). It also bounds how long a
    /// cancelled export's threads may outlive it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// An HTTP/SOCKS proxy URL. By default the proxy comes from
    /// `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY` (honouring `NO_PROXY`),
    /// except for loopback endpoints.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(ProxySetting::Url(url.into()));
        self
    }

    /// Never use a proxy, whatever the environment says.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = Some(ProxySetting::None);
        self
    }

    /// The `User-Agent` header (default `sendcloud-status/<version>`). It
    /// must be a valid header value: not empty, no control characters (see
    /// [`validate_user_agent`](sendcloud_status_core::request::validate_user_agent)).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The full retry policy (at least one attempt; waits and deadline at
    /// most [`MAX_TIMEOUT`]). A [`max_retries`](Self::max_retries) given
    /// too, in any order, sets its attempt count.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Retries per request after the first attempt (default 7; 0 = never
    /// retry; at most 100, [`settings::MAX_RETRIES`]).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// Client-side limit in requests per minute (default 3000, the
    /// documented account limit). `Some(0)` and `None` both turn
    /// client-side pacing off: 0 means "off" everywhere (the CLI's
    /// `--rate-limit 0`, Python's and Node's `0`).
    pub fn rate_limit_per_minute(mut self, per_minute: Option<u32>) -> Self {
        self.rate_limit = per_minute.map(RateLimit::per_minute_or_off).transpose().map(Option::flatten);
        self
    }

    /// Client-side limit with an explicit burst.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = Ok(limit);
        self
    }

    /// The server's UTC offset for times and "today" (default +08:00; whole
    /// minutes).
    pub fn server_utc_offset(mut self, offset: FixedOffset) -> Self {
        self.utc_offset = offset;
        self
    }

    /// Requests in flight at once during exports: [`Parallelism::Auto`]
    /// (the default: as many as fill the rate limit at the latency the
    /// client observes, up to 32) or a fixed number from 1 to
    /// [`MAX_PARALLELISM`] (`.parallelism(4)`).
    pub fn parallelism(mut self, n: impl Into<Parallelism>) -> Self {
        self.parallelism = n.into();
        self
    }

    /// Email ids per request when a query has many (default 20; 1 to
    /// [`MAX_EMAIL_ID_CHUNK`]).
    pub fn email_id_chunk(mut self, n: usize) -> Self {
        self.email_id_chunk = n;
        self
    }

    /// Seed of the retry jitter (default: from the clock). Fix it for
    /// reproducible runs.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Builds the client. Every setting is checked here, before any request
    /// can be sent: a bad one is a [`Validation`](crate::ErrorKind::Validation)
    /// error naming it (`api_user`, `api_key`, `region`, `base_url`,
    /// `max_window_days`, `timeout`, `connect_timeout`, `proxy`,
    /// `user_agent`, `retry_policy`, `retry_base_delay`,
    /// `retry_rate_limit_delay`, `retry_max_delay`, `retry_deadline`,
    /// `rate_limit_per_minute`, `server_utc_offset`, `parallel`,
    /// `email_id_chunk`).
    ///
    /// ```
    /// use sendcloud_status::{Client, ErrorKind};
    /// let err = Client::builder().credentials("u", "k").user_agent("app/1\r\nX-Evil: 1").build().unwrap_err();
    /// assert_eq!((err.kind(), err.field()), (ErrorKind::Validation, Some("user_agent")));
    /// ```
    pub fn build(self) -> Result<Client> {
        let env =
            |name: &str| if self.use_env { std::env::var(name).ok().filter(|v| !v.trim().is_empty()) } else { None };
        let api_user = self.api_user.clone().or_else(|| env(ENV_API_USER)).ok_or_else(|| {
            Error::validation("api_user", format!("missing: pass it to the builder or set {ENV_API_USER}"))
        })?;
        let api_key = self.api_key.clone().or_else(|| env(ENV_API_KEY)).ok_or_else(|| {
            Error::validation("api_key", format!("missing: pass it to the builder or set {ENV_API_KEY}"))
        })?;
        let credentials = Credentials::new(api_user, api_key)?;

        // Explicit settings win over the environment; a base URL wins over a region.
        let endpoint = match (&self.base_url, self.region, env(ENV_BASE_URL), env(ENV_REGION)) {
            (Some(url), _, _, _) => Endpoint::custom(url)?,
            (None, Some(region), _, _) => Endpoint::preset(region),
            (None, None, Some(url), _) => Endpoint::custom(&url)?,
            (None, None, None, Some(name)) => Endpoint::preset(name.parse()?),
            (None, None, None, None) => Endpoint::default(),
        };
        let endpoint = match self.max_window_days {
            Some(days) => endpoint.with_max_window_days(days)?,
            None => endpoint,
        };
        TIMEOUT.check("timeout", self.request_timeout)?;
        TIMEOUT.check("connect_timeout", self.connect_timeout)?;
        let mut retry = self.retry.clone();
        if let Some(n) = self.max_retries {
            retry.max_attempts = settings::MAX_RETRIES.check_u32("max_retries", i64::from(n))? + 1;
        }
        check_retry_policy(&retry)?;
        let rate_limit = self.rate_limit.clone()?;
        settings::check_utc_offset(self.utc_offset)?;
        self.parallelism.check()?;
        settings::EMAIL_ID_CHUNK.check_unsigned("email_id_chunk", self.email_id_chunk as u64)?;

        // A sandbox or test server on this machine is never reached through a proxy.
        let proxy = match self.proxy.clone() {
            Some(p) => p,
            None if endpoint.is_loopback() => ProxySetting::None,
            None => ProxySetting::FromEnv,
        };
        let transport = Transport::new(&TransportConfig {
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            proxy,
            max_idle_connections: self.parallelism.max_in_flight() * 2,
        })?;

        let (endpoint_url, api_user) = (endpoint.url(), credentials.api_user().to_owned());
        let mut encoder = Encoder::new(endpoint, credentials).with_method(self.method);
        if let Some(ua) = &self.user_agent {
            encoder = encoder.with_user_agent(ua.clone())?;
        }
        let jitter_seed = self.jitter_seed.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
        });
        Ok(Client::from_inner(Inner {
            transport,
            encoder,
            decoder: Decoder::new(self.utc_offset),
            retry,
            // One budget per account in this process (see `accounts`).
            limiter: crate::accounts::limiter(&endpoint_url, &api_user, rate_limit),
            parallelism: self.parallelism,
            email_id_chunk: self.email_id_chunk,
            jitter_seed,
        }))
    }
}

fn check_retry_policy(p: &RetryPolicy) -> Result<()> {
    if p.max_attempts == 0 {
        return Err(Error::invalid_value(
            "retry_policy",
            ValidationReason::OutOfRange,
            "max_attempts must be at least 1 (the first attempt)",
        ));
    }
    DELAY.check("retry_base_delay", p.base_delay)?;
    DELAY.check("retry_rate_limit_delay", p.rate_limit_base_delay)?;
    DELAY.check("retry_max_delay", p.max_delay)?;
    DELAY.check("retry_deadline", p.deadline)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sendcloud_status_core::query::MAX_DAYS;
    use sendcloud_status_core::{ErrorKind, Query};

    use super::*;

    fn base() -> ClientBuilder {
        Client::builder().ignore_env().credentials("user", "key").base_url("http://127.0.0.1:9/api/")
    }

    fn field_of(b: ClientBuilder) -> Option<&'static str> {
        let e = b.build().expect_err("a bad setting is refused");
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        e.field()
    }

    #[test]
    fn defaults_build() {
        base().build().unwrap();
        base().user_agent("my-app/1.0 (ops@example.com)").proxy("http://proxy.example:3128").build().unwrap();
    }

    #[test]
    fn every_setting_is_checked_at_build() {
        let secs = Duration::from_secs;
        let offset = |s| FixedOffset::east_opt(s).unwrap();
        let cases: Vec<(&str, ClientBuilder, &str)> = vec![
            ("empty user", base().api_user(" "), "api_user"),
            ("empty key", base().api_key(""), "api_key"),
            ("remote http", base().base_url("http://example.com/api/"), "base_url"),
            ("no window", base().max_window_days(0), "max_window_days"),
            ("huge window", base().max_window_days(MAX_DAYS + 1), "max_window_days"),
            ("zero timeout", base().timeout(Duration::ZERO), "timeout"),
            ("endless timeout", base().timeout(MAX_TIMEOUT + secs(1)), "timeout"),
            ("zero connect timeout", base().connect_timeout(Duration::ZERO), "connect_timeout"),
            ("endless connect timeout", base().connect_timeout(Duration::MAX), "connect_timeout"),
            ("bad proxy", base().proxy("not a url"), "proxy"),
            ("newline user agent", base().user_agent("app/1.0\nX-Injected: 1"), "user_agent"),
            ("CR user agent", base().user_agent("app/1.0\r"), "user_agent"),
            ("empty user agent", base().user_agent(""), "user_agent"),
            ("NUL user agent", base().user_agent("app\0"), "user_agent"),
            (
                "no attempts",
                base().retry_policy(RetryPolicy { max_attempts: 0, ..RetryPolicy::default() }),
                "retry_policy",
            ),
            (
                "endless backoff",
                base().retry_policy(RetryPolicy { max_delay: Duration::MAX, ..RetryPolicy::default() }),
                "retry_max_delay",
            ),
            (
                "endless base delay",
                base().retry_policy(RetryPolicy { base_delay: secs(90_000), ..RetryPolicy::default() }),
                "retry_base_delay",
            ),
            (
                "endless rate-limit delay",
                base().retry_policy(RetryPolicy { rate_limit_base_delay: secs(90_000), ..RetryPolicy::default() }),
                "retry_rate_limit_delay",
            ),
            (
                "endless deadline",
                base().retry_policy(RetryPolicy { deadline: secs(90_000), ..RetryPolicy::default() }),
                "retry_deadline",
            ),
            ("too many retries", base().max_retries(101), "max_retries"),
            ("offset with seconds", base().server_utc_offset(offset(8 * 3600 + 30)), "server_utc_offset"),
            ("no parallelism", base().parallelism(0), "parallel"),
            ("too much parallelism", base().parallelism(MAX_PARALLELISM + 1), "parallel"),
            ("no id chunk", base().email_id_chunk(0), "email_id_chunk"),
            ("huge id chunk", base().email_id_chunk(MAX_EMAIL_ID_CHUNK + 1), "email_id_chunk"),
        ];
        for (name, builder, field) in cases {
            assert_eq!(field_of(builder), Some(field), "{name}");
        }
    }

    #[test]
    fn one_meaning_and_readable_bounds() {
        // 0 turns pacing off, as in the CLI and the bindings (not an error, not 1/min).
        base().rate_limit_per_minute(Some(0)).build().unwrap();
        assert_eq!(RateLimit::per_minute_or_off(0).unwrap(), None);
        let e = base().max_retries(101).build().unwrap_err();
        assert_eq!(e.message(), "invalid max_retries: must be from 0 to 100, got 101");
        let e = base().parallelism(65).build().unwrap_err();
        assert_eq!(e.explanation(), "must be \"auto\" or a whole number from 1 to 64, got 65");
        let e = base().email_id_chunk(0).build().unwrap_err();
        assert_eq!(e.explanation(), "must be from 1 to 10000, got 0");
        let e = base().timeout(Duration::ZERO).build().unwrap_err();
        assert_eq!(e.explanation(), "must be more than 0 and at most 86400 s, got 0 s");
        // `max_retries` sets the attempts of a policy given before or after it.
        let p = RetryPolicy { base_delay: Duration::from_millis(5), ..RetryPolicy::default() };
        base().max_retries(100).retry_policy(p).build().unwrap();
    }

    #[test]
    fn bounds_are_inclusive() {
        base()
            .max_window_days(MAX_DAYS)
            .timeout(MAX_TIMEOUT)
            .connect_timeout(Duration::from_millis(1))
            .parallelism(MAX_PARALLELISM)
            .email_id_chunk(MAX_EMAIL_ID_CHUNK)
            .rate_limit_per_minute(Some(1))
            .server_utc_offset(FixedOffset::west_opt(5 * 3600 + 30 * 60).unwrap())
            .retry_policy(RetryPolicy { max_attempts: 1, max_delay: MAX_TIMEOUT, ..RetryPolicy::none() })
            .build()
            .unwrap();
    }

    #[test]
    fn export_parallelism_is_checked_before_anything_runs() {
        let client = base().build().unwrap();
        for n in [0, MAX_PARALLELISM + 1] {
            let e = client.export(Query::last_days(1).unwrap()).parallel(n).pages().unwrap_err();
            assert_eq!((e.kind(), e.field()), (ErrorKind::Validation, Some("parallel")), "{n}");
        }
        client.export(Query::last_days(1).unwrap()).parallel(MAX_PARALLELISM).pages().unwrap();
    }
}
