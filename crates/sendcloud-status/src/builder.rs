//! [`ClientBuilder`]: every setting of a [`Client`], with environment
//! fallbacks (`SENDCLOUD_API_USER`, `SENDCLOUD_API_KEY`, `SENDCLOUD_REGION`,
//! `SENDCLOUD_BASE_URL`, and the usual `HTTPS_PROXY`/`ALL_PROXY`).

use std::time::Duration;

use chrono::FixedOffset;
use sendcloud_status_core::{
    Credentials, Decoder, Encoder, Endpoint, Error, Method, RateLimit, RateLimiter, Region, Result, RetryPolicy,
    export::DEFAULT_EMAIL_ID_CHUNK,
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

/// Builds a [`Client`]. Unset credentials, region and base URL fall back to
/// the environment.
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
    rate_limit: Option<RateLimit>,
    utc_offset: FixedOffset,
    parallelism: usize,
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
            method: Method::Post,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            proxy: None,
            user_agent: None,
            retry: RetryPolicy::default(),
            rate_limit: Some(RateLimit::default()),
            utc_offset: Decoder::default().offset(),
            parallelism: 1,
            email_id_chunk: DEFAULT_EMAIL_ID_CHUNK,
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

    /// The window maximum of a custom base URL (default 3 days).
    pub fn max_window_days(mut self, days: u32) -> Self {
        self.max_window_days = Some(days);
        self
    }

    /// GET or POST (default POST: the key stays out of URLs).
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Connection timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whole-request timeout, connect to last body byte (default 30 s).
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

    /// The `User-Agent` header (default `sendcloud-status/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The full retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Retries per request after the first attempt (0 = never retry).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_attempts = retries.saturating_add(1);
        self
    }

    /// Client-side limit in requests per minute (default 3000, the
    /// documented account limit); `None` disables it.
    pub fn rate_limit_per_minute(mut self, per_minute: Option<u32>) -> Self {
        self.rate_limit = per_minute.map(|n| RateLimit::per_minute(n.max(1)).expect("n ≥ 1"));
        self
    }

    /// Client-side limit with an explicit burst.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// The server's UTC offset for times and "today" (default +08:00).
    pub fn server_utc_offset(mut self, offset: FixedOffset) -> Self {
        self.utc_offset = offset;
        self
    }

    /// Requests in flight at once during exports (default 1).
    pub fn parallelism(mut self, n: usize) -> Self {
        self.parallelism = n.max(1);
        self
    }

    /// Email ids per request when a query has many (default 20).
    pub fn email_id_chunk(mut self, n: usize) -> Self {
        self.email_id_chunk = n.max(1);
        self
    }

    /// Seed of the retry jitter (default: from the clock). Fix it for
    /// reproducible runs.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Builds the client. Fails with a validation error naming the setting
    /// (missing credentials, plain `http://` to a remote host, bad proxy).
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
        if self.request_timeout.is_zero() {
            return Err(Error::validation("timeout", "must be greater than zero"));
        }

        let loopback = Endpoint::custom(endpoint.base_url()).is_ok() && endpoint.base_url().starts_with("http://");
        let proxy = match self.proxy.clone() {
            Some(p) => p,
            None if loopback => ProxySetting::None,
            None => ProxySetting::FromEnv,
        };
        let transport = Transport::new(&TransportConfig {
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            proxy,
            max_idle_connections: self.parallelism * 2,
        })?;

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
            retry: self.retry,
            limiter: RateLimiter::new(self.rate_limit).shared(),
            parallelism: self.parallelism,
            email_id_chunk: self.email_id_chunk,
            jitter_seed,
        }))
    }
}
