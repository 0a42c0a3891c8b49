//! What a sandbox serves and how it misbehaves: [`SandboxConfig`] and [`FaultConfig`].

use std::time::Duration;

use chrono::NaiveDate;

/// The only `apiUser` the sandbox authenticates.
pub const DEMO_API_USER: &str = "sandbox_user";
/// The only `apiKey` the sandbox accepts; any other key answers 40005.
pub const DEMO_API_KEY: &str = "sandbox-demo-key";

/// Language of `message` and of the row `status` display text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum Language {
    /// `请求成功`, `投递成功`, `无效邮件-地址不存在` (sendcloud.net style).
    #[default]
    #[value(name = "zh")]
    Chinese,
    /// `success`, `Delivered`, `Invalid Mail - Address Does Not Exist` (Aurora style).
    #[value(name = "en")]
    English,
}

/// Spelling of the envelope's code key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusCodeKey {
    /// `"statusCode"`, as in the documented success body.
    #[default]
    CamelCase,
    /// `"statuscode"`, as in the documented rate-limit body.
    LowerCase,
}

/// How a row's `subStatus` is encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum SubStatusFormat {
    /// `"subStatus": 406` on bounce rows; the key is omitted on delivered/sending rows.
    #[default]
    Number,
    /// `"subStatus": "406"` on bounce rows; omitted on delivered/sending rows.
    String,
    /// `"subStatus": null` on every row (the client must fall back to the status text).
    Null,
}

/// Everything a [`Sandbox`](crate::Sandbox) serves. Build with [`Default`] and the `with_*` methods.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Number of records in the dataset.
    pub records: u64,
    /// Seed of the dataset.
    pub seed: u64,
    /// The server's "today" (its time zone is UTC+8); `days=1` means this date.
    pub today: NaiveDate,
    /// Records' `requestTime` spreads over `today` and the `days_of_data - 1` days before.
    pub days_of_data: u32,
    /// Language of messages and status texts.
    pub language: Language,
    /// Spelling of the `statusCode` key.
    pub status_code_key: StatusCodeKey,
    /// Send `info` as a JSON-encoded string instead of an object.
    pub info_as_string: bool,
    /// Encoding of `subStatus`.
    pub sub_status_format: SubStatusFormat,
    /// Longest query window in calendar days, inclusive (3 on Aurora, 30 on sendcloud.net v2).
    pub max_window_days: u32,
    /// Calls per minute for the account; `None` disables the limiter.
    pub rate_limit_per_minute: Option<u32>,
    /// Added to every answer.
    pub latency: Duration,
    /// Injected faults.
    pub faults: FaultConfig,
    /// Worker threads answering requests.
    pub threads: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            records: 10_000,
            seed: 42,
            today: server_today(),
            days_of_data: 30,
            language: Language::Chinese,
            status_code_key: StatusCodeKey::CamelCase,
            info_as_string: false,
            sub_status_format: SubStatusFormat::Number,
            max_window_days: 3,
            rate_limit_per_minute: Some(3000),
            latency: Duration::ZERO,
            faults: FaultConfig::default(),
            threads: 4,
        }
    }
}

/// The current date at UTC+8, the server's time zone.
pub fn server_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

impl SandboxConfig {
    /// Sets [`records`](Self::records).
    pub fn with_records(mut self, records: u64) -> Self {
        self.records = records;
        self
    }
    /// Sets [`seed`](Self::seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets [`today`](Self::today).
    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.today = today;
        self
    }
    /// Sets [`days_of_data`](Self::days_of_data).
    pub fn with_days_of_data(mut self, days: u32) -> Self {
        self.days_of_data = days;
        self
    }
    /// Sets [`language`](Self::language).
    pub fn with_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }
    /// Sets [`status_code_key`](Self::status_code_key).
    pub fn with_status_code_key(mut self, key: StatusCodeKey) -> Self {
        self.status_code_key = key;
        self
    }
    /// Sets [`info_as_string`](Self::info_as_string).
    pub fn with_info_as_string(mut self, on: bool) -> Self {
        self.info_as_string = on;
        self
    }
    /// Sets [`sub_status_format`](Self::sub_status_format).
    pub fn with_sub_status_format(mut self, format: SubStatusFormat) -> Self {
        self.sub_status_format = format;
        self
    }
    /// Sets [`max_window_days`](Self::max_window_days).
    pub fn with_max_window_days(mut self, days: u32) -> Self {
        self.max_window_days = days;
        self
    }
    /// Sets [`rate_limit_per_minute`](Self::rate_limit_per_minute).
    pub fn with_rate_limit(mut self, per_minute: Option<u32>) -> Self {
        self.rate_limit_per_minute = per_minute;
        self
    }
    /// Sets [`latency`](Self::latency).
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
    /// Sets [`faults`](Self::faults).
    pub fn with_faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }
    /// Sets [`threads`](Self::threads).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }
}

/// Per-request fault probabilities (each in `0.0..=1.0`; at most one fault hits a request,
/// drawn in field order from one seeded uniform number).
#[derive(Clone, Debug)]
pub struct FaultConfig {
    /// Seed of the fault draws; the n-th request after [`Sandbox::set_faults`](crate::Sandbox::set_faults)
    /// (or start) always gets the same draw.
    pub seed: u64,
    /// Answer the documented 50000 body although the limiter has room.
    pub rate_limited: f64,
    /// Answer HTTP 502 with an nginx-style HTML page.
    pub http_502: f64,
    /// Close the connection without any response.
    pub reset: f64,
    /// Send the real answer with its full `Content-Length` but only half the body, then close.
    pub truncated: f64,
    /// Wait [`slow_delay`](Self::slow_delay) before answering normally.
    pub slow: f64,
    /// Delay of a `slow` fault.
    pub slow_delay: Duration,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            seed: 0,
            rate_limited: 0.0,
            http_502: 0.0,
            reset: 0.0,
            truncated: 0.0,
            slow: 0.0,
            slow_delay: Duration::from_secs(3),
        }
    }
}

impl FaultConfig {
    /// No faults at all (same as [`Default`]).
    pub fn none() -> Self {
        Self::default()
    }
    /// True when no fault can fire.
    pub fn is_none(&self) -> bool {
        self.rate_limited <= 0.0
            && self.http_502 <= 0.0
            && self.reset <= 0.0
            && self.truncated <= 0.0
            && self.slow <= 0.0
    }
    /// Sets [`seed`](Self::seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets [`rate_limited`](Self::rate_limited).
    pub fn with_rate_limited(mut self, p: f64) -> Self {
        self.rate_limited = p;
        self
    }
    /// Sets [`http_502`](Self::http_502).
    pub fn with_http_502(mut self, p: f64) -> Self {
        self.http_502 = p;
        self
    }
    /// Sets [`reset`](Self::reset).
    pub fn with_reset(mut self, p: f64) -> Self {
        self.reset = p;
        self
    }
    /// Sets [`truncated`](Self::truncated).
    pub fn with_truncated(mut self, p: f64) -> Self {
        self.truncated = p;
        self
    }
    /// Sets [`slow`](Self::slow) and [`slow_delay`](Self::slow_delay).
    pub fn with_slow(mut self, p: f64, delay: Duration) -> Self {
        self.slow = p;
        self.slow_delay = delay;
        self
    }
}
