//! What a sandbox serves and how it misbehaves: [`SandboxConfig`], [`LiveConfig`] and
//! [`FaultConfig`].

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

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
    /// Where the server clock starts (server-local, UTC+8, millisecond precision); it then runs
    /// with real time. No generated record is dated after it.
    pub now: NaiveDateTime,
    /// The server's "today" at start: must be the date of [`now`](Self::now) (the `with_*`
    /// methods keep them in step; [`Sandbox::start`](crate::Sandbox::start) refuses a mismatch).
    pub today: NaiveDate,
    /// Records' `requestTime` spreads from 00:00 of the `days_of_data - 1`-th day before
    /// `today` up to [`now`](Self::now).
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
    /// Each answer's added latency is drawn uniformly (seeded by [`seed`](Self::seed)) from
    /// `latency ± latency_jitter`, floored at zero.
    pub latency_jitter: Duration,
    /// Share (`0.0..=1.0`) of the account's rate limit used by another, simulated process on
    /// the same account: the limiter's bucket drains at `1 - share` of real time, so that share
    /// of every emission interval is reserved for the other process.
    pub competing_load: f64,
    /// A live account: new mail, settling rows, day changes, result order and cache model.
    pub live: LiveConfig,
    /// Injected faults.
    pub faults: FaultConfig,
    /// Worker threads answering requests.
    pub threads: usize,
    /// Push signed event webhooks for the mail a live account generates and settles (`None`:
    /// off). See [`WebhookPush`].
    pub webhook: Option<WebhookPush>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        let now = server_now();
        SandboxConfig {
            records: 10_000,
            seed: 42,
            now,
            today: now.date(),
            days_of_data: 30,
            language: Language::Chinese,
            status_code_key: StatusCodeKey::CamelCase,
            info_as_string: false,
            sub_status_format: SubStatusFormat::Number,
            max_window_days: 3,
            rate_limit_per_minute: Some(3000),
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            competing_load: 0.0,
            live: LiveConfig::default(),
            faults: FaultConfig::default(),
            threads: 16,
            webhook: None,
        }
    }
}

/// The current date at UTC+8, the server's time zone.
pub fn server_today() -> NaiveDate {
    server_now().date()
}

/// The current time at UTC+8, the server's time zone, to the millisecond.
pub fn server_now() -> NaiveDateTime {
    truncate_to_ms((chrono::Utc::now() + chrono::Duration::hours(8)).naive_utc())
}

/// The time of day [`SandboxConfig::with_today`] starts the clock at: fixed, so that one
/// configuration always generates the same records, and half a day before the date changes.
pub const TODAY_START_TIME: NaiveTime = match NaiveTime::from_hms_opt(12, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// Drops sub-millisecond digits (the server clock counts milliseconds).
pub(crate) fn truncate_to_ms(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(t)
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
    /// Sets [`today`](Self::today) and starts the clock on that date at
    /// [`TODAY_START_TIME`] (12:00:00), so the same configuration always serves the same data.
    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.now = today.and_time(TODAY_START_TIME);
        self.today = today;
        self
    }
    /// Sets [`now`](Self::now) (to the millisecond) and [`today`](Self::today) to its date.
    pub fn with_now(mut self, now: NaiveDateTime) -> Self {
        self.now = truncate_to_ms(now);
        self.today = now.date();
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
    /// Sets [`latency_jitter`](Self::latency_jitter).
    pub fn with_latency_jitter(mut self, jitter: Duration) -> Self {
        self.latency_jitter = jitter;
        self
    }
    /// Sets [`competing_load`](Self::competing_load) (clamped to `0.0..=1.0`; NaN is 0).
    pub fn with_competing_load(mut self, share: f64) -> Self {
        self.competing_load = if share.is_nan() { 0.0 } else { share.clamp(0.0, 1.0) };
        self
    }
    /// Sets [`live`](Self::live).
    pub fn with_live(mut self, live: LiveConfig) -> Self {
        self.live = live;
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
    /// Sets [`webhook`](Self::webhook).
    pub fn with_webhook(mut self, webhook: Option<WebhookPush>) -> Self {
        self.webhook = webhook;
        self
    }
}

/// Body format of pushed events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum WebhookFormat {
    /// `application/x-www-form-urlencoded` (the vendor's older pages).
    Form,
    /// JSON (the vendor's newer overview).
    Json,
    /// Each event either way (seeded draw).
    #[default]
    Mixed,
}

/// Event names of pushed events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum WebhookSpelling {
    /// `deliver`, `invalid` (the vendor's older pages).
    Old,
    /// `delivered`, `invalid_email` (the vendor's newer overview).
    New,
    /// Each event either way (seeded draw).
    #[default]
    Mixed,
}

/// Where and how the sandbox pushes event webhooks (see the crate doc, "Webhook push").
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookPush {
    /// The receiver's URL (`http://` or `https://`).
    pub url: String,
    /// The app key events are signed with (never printed).
    pub key: String,
    /// Body format.
    pub format: WebhookFormat,
    /// Event names.
    pub spelling: WebhookSpelling,
    /// The vendor's retry schedule, 1, 2, 4, 8 and 16 minutes, becomes 1, 2, 4, 8 and 16 times
    /// this (default 100 ms).
    pub retry_unit: Duration,
    /// Probability that an event is delivered a second time (default 0.1).
    pub duplicate: f64,
    /// Each delivery first waits a seeded random time up to this (default 50 ms), so events
    /// sometimes arrive out of order.
    pub max_delay: Duration,
    /// Seed of tokens, delays, duplicates and formats.
    pub seed: u64,
}

impl std::fmt::Debug for WebhookPush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookPush")
            .field("url", &self.url)
            .field("key", &"***")
            .field("format", &self.format)
            .field("spelling", &self.spelling)
            .field("retry_unit", &self.retry_unit)
            .field("duplicate", &self.duplicate)
            .field("max_delay", &self.max_delay)
            .field("seed", &self.seed)
            .finish()
    }
}

impl WebhookPush {
    /// Push to `url`, signing with `key`; mixed formats and spellings, retries every 100 ms × 2ⁿ,
    /// 10 % duplicates, up to 50 ms of delay.
    pub fn new(url: impl Into<String>, key: impl Into<String>) -> WebhookPush {
        WebhookPush {
            url: url.into(),
            key: key.into(),
            format: WebhookFormat::Mixed,
            spelling: WebhookSpelling::Mixed,
            retry_unit: Duration::from_millis(100),
            duplicate: 0.1,
            max_delay: Duration::from_millis(50),
            seed: 0,
        }
    }
    /// Sets [`format`](Self::format).
    pub fn with_format(mut self, format: WebhookFormat) -> Self {
        self.format = format;
        self
    }
    /// Sets [`spelling`](Self::spelling).
    pub fn with_spelling(mut self, spelling: WebhookSpelling) -> Self {
        self.spelling = spelling;
        self
    }
    /// Sets [`retry_unit`](Self::retry_unit).
    pub fn with_retry_unit(mut self, unit: Duration) -> Self {
        self.retry_unit = unit;
        self
    }
    /// Sets [`duplicate`](Self::duplicate) (clamped to `0.0..=1.0`).
    pub fn with_duplicate(mut self, p: f64) -> Self {
        self.duplicate = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        self
    }
    /// Sets [`max_delay`](Self::max_delay).
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }
    /// Sets [`seed`](Self::seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// The most arrivals per second: each new record gets its own millisecond (its emailId starts
/// with it, which keeps ids unique and the order total).
pub const MAX_ARRIVALS_PER_SECOND: f64 = 1000.0;

/// The most settles per second (one per nanosecond).
pub const MAX_SETTLES_PER_SECOND: f64 = 1e9;

/// The real server's cache lifetime of a parameter set's result.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(600);

/// How the account changes while the server runs. Everything is off by default: no new mail,
/// nothing settles, the date changes only with the real clock, oldest rows first, results
/// cached per parameter set for [`DEFAULT_CACHE_TTL`].
///
/// Event counts follow the rates and the real time elapsed since the configuration was set
/// ([`Sandbox::start`](crate::Sandbox::start) or [`Sandbox::set_live`](crate::Sandbox::set_live));
/// events are applied, in order, when a request or control call looks at the data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveConfig {
    /// New mails per second (status "sending", `requestTime` = the server clock), at most
    /// [`MAX_ARRIVALS_PER_SECOND`]; mostly sent by the demo apiUser.
    pub arrivals_per_second: f64,
    /// "Sending" rows per second that turn final (delivered, invalid or soft bounce), picked
    /// uniformly among all sending rows of any day.
    pub settle_per_second: f64,
    /// When the server clock jumps to the next midnight.
    pub day_advance: DayAdvance,
    /// Order of the rows a parameter set pages through.
    pub order: ResultOrder,
    /// What a page reads: a cached snapshot of the parameter set's result, or live data.
    pub cache: CacheModel,
}

impl LiveConfig {
    /// Nothing live (same as [`Default`]).
    pub fn off() -> Self {
        Self::default()
    }
    /// Sets [`arrivals_per_second`](Self::arrivals_per_second) (clamped to
    /// `0..=`[`MAX_ARRIVALS_PER_SECOND`]; NaN is 0).
    pub fn with_arrivals_per_second(mut self, rate: f64) -> Self {
        self.arrivals_per_second = clean_rate(rate).min(MAX_ARRIVALS_PER_SECOND);
        self
    }
    /// Sets [`settle_per_second`](Self::settle_per_second) (clamped to
    /// `0..=`[`MAX_SETTLES_PER_SECOND`]; NaN is 0).
    pub fn with_settle_per_second(mut self, rate: f64) -> Self {
        self.settle_per_second = clean_rate(rate).min(MAX_SETTLES_PER_SECOND);
        self
    }
    /// Sets [`day_advance`](Self::day_advance).
    pub fn with_day_advance(mut self, advance: DayAdvance) -> Self {
        self.day_advance = advance;
        self
    }
    /// Sets [`order`](Self::order).
    pub fn with_order(mut self, order: ResultOrder) -> Self {
        self.order = order;
        self
    }
    /// Sets [`cache`](Self::cache).
    pub fn with_cache(mut self, cache: CacheModel) -> Self {
        self.cache = cache;
        self
    }
    /// The same settings with rates in range (what the server runs with).
    pub(crate) fn normalized(self) -> Self {
        let (a, s) = (self.arrivals_per_second, self.settle_per_second);
        self.with_arrivals_per_second(a).with_settle_per_second(s)
    }
}

fn clean_rate(rate: f64) -> f64 {
    if rate > 0.0 { rate } else { 0.0 } // NaN is not > 0
}

/// When the server clock jumps to the next midnight (00:00:00.000) and keeps running from
/// there. It jumps once per [`LiveConfig`]; counting starts when the configuration is set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DayAdvance {
    /// Only the real clock moves the date.
    #[default]
    Never,
    /// Once this many API requests (any outcome) have been answered.
    AfterRequests(u64),
    /// Once this much real time has passed.
    AfterDuration(Duration),
}

/// The order of a parameter set's rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
#[non_exhaustive]
pub enum ResultOrder {
    /// Ascending `requestTime`, then `emailId`.
    #[default]
    OldestFirst,
    /// The exact reverse of [`OldestFirst`](Self::OldestFirst).
    NewestFirst,
}

impl ResultOrder {
    /// `"oldest-first"` or `"newest-first"`, as the flag and the control endpoint spell it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResultOrder::OldestFirst => "oldest-first",
            ResultOrder::NewestFirst => "newest-first",
        }
    }
}

/// What a page of a parameter set reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheModel {
    /// The documented behaviour of the real server: a parameter set's full result (everything
    /// but `start`/`limit`) is computed once, and every page of that set within `ttl` of it
    /// reads that snapshot, rows as they were then. After `ttl` the next page takes a new one.
    Snapshot {
        /// Lifetime of a snapshot, from when it was taken.
        ttl: Duration,
    },
    /// Nothing cached: every request reads the live data, so a live result moves under a
    /// paginator.
    PerRequest,
}

impl Default for CacheModel {
    fn default() -> Self {
        CacheModel::Snapshot { ttl: DEFAULT_CACHE_TTL }
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
