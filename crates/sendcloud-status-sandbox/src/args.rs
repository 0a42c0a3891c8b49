//! Command-line flags of the sandbox, reusable by any CLI through `#[command(flatten)]`.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};

use crate::config::{
    CacheModel, DayAdvance, FaultConfig, Language, LiveConfig, ResultOrder, SandboxConfig, StatusCodeKey,
    SubStatusFormat, WebhookFormat, WebhookPush, WebhookSpelling,
};

/// Flags that build a [`SandboxConfig`].
#[derive(Clone, Debug, clap::Args)]
#[non_exhaustive]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Number of records in the dataset.
    #[arg(long, default_value_t = 10_000)]
    pub records: u64,
    /// Dataset seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The server's today, yyyy-MM-dd; the clock starts at 12:00:00 that day (default: the
    /// current date and time at UTC+8).
    #[arg(long, value_parser = parse_date)]
    pub today: Option<NaiveDate>,
    /// Where the server clock starts, "yyyy-MM-dd HH:mm:ss" at UTC+8 (default: the current time).
    #[arg(long, value_parser = parse_date_time, conflicts_with = "today")]
    pub now: Option<NaiveDateTime>,
    /// Days of data ending today.
    #[arg(long, default_value_t = 30)]
    pub days_of_data: u32,
    /// Language of messages and status texts.
    #[arg(long, value_enum, default_value = "zh")]
    pub language: Language,
    /// Spell the code key `statuscode` instead of `statusCode`.
    #[arg(long)]
    pub lowercase_statuscode: bool,
    /// Send `info` as a JSON-encoded string.
    #[arg(long)]
    pub info_as_string: bool,
    /// Encoding of `subStatus`.
    #[arg(long, value_enum, default_value = "number")]
    pub sub_status_format: SubStatusFormat,
    /// Longest query window in calendar days.
    #[arg(long, default_value_t = 3)]
    pub max_window_days: u32,
    /// Calls per minute (0: no limit).
    #[arg(long, default_value_t = 3000)]
    pub rate_limit: u32,
    /// Latency added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Each answer's latency is uniform in latency ± this many milliseconds (seeded).
    #[arg(long, default_value_t = 0)]
    pub latency_jitter_ms: u64,
    /// Share (0.0 to 1.0) of the rate limit used by a simulated other process on the account.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub competing_load: f64,
    /// Live account: new mails per second (at most 1000).
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub arrivals_per_second: f64,
    /// Live account: "sending" rows per second that turn final.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub settle_per_second: f64,
    /// Live account: jump the clock to the next midnight after N API requests.
    #[arg(long, value_name = "N", conflicts_with = "day_advance_after_secs")]
    pub day_advance_after_requests: Option<u64>,
    /// Live account: jump the clock to the next midnight after S seconds.
    #[arg(long, value_name = "S", value_parser = parse_rate)]
    pub day_advance_after_secs: Option<f64>,
    /// Order of the rows of a parameter set.
    #[arg(long, value_enum, default_value = "oldest-first")]
    pub order: ResultOrder,
    /// What pages read: a snapshot of the parameter set's result kept for --cache-ttl-secs (the
    /// real server's behaviour), or the live data on every request.
    #[arg(long, default_value = "snapshot", value_parser = ["snapshot", "per-request"])]
    pub cache: String,
    /// Lifetime of a snapshot with --cache snapshot, in seconds.
    #[arg(long, value_name = "S", default_value_t = 600.0, value_parser = parse_rate)]
    pub cache_ttl_secs: f64,
    /// Worker threads (answers in progress at once).
    #[arg(long, default_value_t = 16)]
    pub threads: usize,
    /// Probability of a fake 50000 "interface frequency limited" answer.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_rate_limited: f64,
    /// Probability of an HTTP 502 HTML answer.
    #[arg(long = "fault-502", default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_http_502: f64,
    /// Probability of closing the connection without an answer.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_reset: f64,
    /// Probability of a body cut in half.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_truncated: f64,
    /// Probability of a slow answer.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_slow: f64,
    /// Delay of a slow answer, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    pub fault_slow_ms: u64,
    /// Seed of the fault draws.
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
    /// Push signed event webhooks (request, deliver, invalid, soft_bounce) for the mail the live
    /// account generates and settles to this URL (needs --webhook-key).
    #[arg(long, value_name = "URL", requires = "webhook_key", help_heading = "Webhook push")]
    pub webhook_url: Option<String>,
    /// The app key pushed events are signed with (never printed).
    #[arg(
        long,
        value_name = "KEY",
        env = "SENDCLOUD_WEBHOOK_KEY",
        hide_env_values = true,
        allow_hyphen_values = true,
        help_heading = "Webhook push"
    )]
    pub webhook_key: Option<WebhookKey>,
    /// Body format of pushed events.
    #[arg(long, value_enum, default_value = "mixed", help_heading = "Webhook push")]
    pub webhook_format: WebhookFormat,
    /// Event names: deliver/invalid (old), delivered/invalid_email (new), or either.
    #[arg(long, value_enum, default_value = "mixed", help_heading = "Webhook push")]
    pub webhook_spelling: WebhookSpelling,
    /// The vendor's retries after 1, 2, 4, 8 and 16 minutes come after 1, 2, 4, 8 and 16 times this
    /// many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100, help_heading = "Webhook push")]
    pub webhook_retry_ms: u64,
    /// Probability that an event is delivered twice.
    #[arg(long, value_name = "P", default_value_t = 0.1, value_parser = parse_probability, help_heading = "Webhook push")]
    pub webhook_duplicate: f64,
    /// Each delivery first waits a random time up to this many milliseconds (so some arrive out of
    /// order).
    #[arg(long, value_name = "MS", default_value_t = 50, help_heading = "Webhook push")]
    pub webhook_delay_ms: u64,
}

/// The webhook key of `--webhook-key`: kept out of `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookKey(pub String);

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(***)")
    }
}

impl std::str::FromStr for WebhookKey {
    type Err = String;
    /// Any text; an empty key turns the push off (see [`SandboxArgs::to_config`]).
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(WebhookKey(s.to_owned()))
    }
}

impl SandboxArgs {
    /// The configuration these flags describe (a webhook URL with an empty key pushes nothing).
    pub fn to_config(&self) -> SandboxConfig {
        let base = match (self.now, self.today) {
            (Some(now), _) => SandboxConfig::default().with_now(now),
            (None, Some(today)) => SandboxConfig::default().with_today(today),
            (None, None) => SandboxConfig::default(),
        };
        let day_advance = match (self.day_advance_after_requests, self.day_advance_after_secs) {
            (Some(n), _) => DayAdvance::AfterRequests(n),
            (None, Some(s)) => DayAdvance::AfterDuration(Duration::from_secs_f64(s)),
            (None, None) => DayAdvance::Never,
        };
        let cache = if self.cache == "per-request" {
            CacheModel::PerRequest
        } else {
            CacheModel::Snapshot { ttl: Duration::from_secs_f64(self.cache_ttl_secs) }
        };
        SandboxConfig {
            records: self.records,
            seed: self.seed,
            now: base.now,
            today: base.today,
            days_of_data: self.days_of_data,
            language: self.language,
            status_code_key: if self.lowercase_statuscode {
                StatusCodeKey::LowerCase
            } else {
                StatusCodeKey::CamelCase
            },
            info_as_string: self.info_as_string,
            sub_status_format: self.sub_status_format,
            max_window_days: self.max_window_days,
            rate_limit_per_minute: (self.rate_limit > 0).then_some(self.rate_limit),
            latency: Duration::from_millis(self.latency_ms),
            latency_jitter: Duration::from_millis(self.latency_jitter_ms),
            competing_load: self.competing_load,
            live: LiveConfig::off()
                .with_arrivals_per_second(self.arrivals_per_second)
                .with_settle_per_second(self.settle_per_second)
                .with_day_advance(day_advance)
                .with_order(self.order)
                .with_cache(cache),
            faults: FaultConfig {
                seed: self.fault_seed,
                rate_limited: self.fault_rate_limited,
                http_502: self.fault_http_502,
                reset: self.fault_reset,
                truncated: self.fault_truncated,
                slow: self.fault_slow,
                slow_delay: Duration::from_millis(self.fault_slow_ms),
            },
            threads: self.threads,
            webhook: self.webhook_url.as_ref().zip(self.webhook_key.as_ref().filter(|k| !k.0.trim().is_empty())).map(
                |(url, key)| {
                    WebhookPush::new(url.clone(), key.0.clone())
                        .with_format(self.webhook_format)
                        .with_spelling(self.webhook_spelling)
                        .with_retry_unit(Duration::from_millis(self.webhook_retry_ms))
                        .with_duplicate(self.webhook_duplicate)
                        .with_max_delay(Duration::from_millis(self.webhook_delay_ms))
                        .with_seed(self.seed)
                },
            ),
        }
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("expected yyyy-MM-dd: {e}"))
}

fn parse_date_time(s: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").map_err(|e| format!("expected \"yyyy-MM-dd HH:mm:ss\": {e}"))
}

/// A finite number ≥ 0 (rates, seconds); large enough values are clamped where they are used.
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..1e15).contains(&r) => Ok(r),
        _ => Err("expected a number ≥ 0".to_string()),
    }
}

fn parse_probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err("expected a probability between 0 and 1".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sandbox: SandboxArgs,
    }

    #[test]
    fn flags_map_to_config() {
        let cli = Cli::try_parse_from([
            "x",
            "--port",
            "8080",
            "--records",
            "77",
            "--today",
            "2024-05-10",
            "--language",
            "en",
            "--lowercase-statuscode",
            "--info-as-string",
            "--sub-status-format",
            "string",
            "--rate-limit",
            "0",
            "--latency-ms",
            "5",
            "--fault-502",
            "0.5",
            "--fault-seed",
            "3",
        ])
        .unwrap();
        let c = cli.sandbox.to_config();
        assert_eq!(cli.sandbox.addr().port(), 8080);
        assert_eq!(c.records, 77);
        assert_eq!(c.today.to_string(), "2024-05-10");
        assert_eq!(c.language, Language::English);
        assert_eq!(c.status_code_key, StatusCodeKey::LowerCase);
        assert!(c.info_as_string);
        assert_eq!(c.sub_status_format, SubStatusFormat::String);
        assert_eq!(c.rate_limit_per_minute, None);
        assert_eq!(c.latency, Duration::from_millis(5));
        assert_eq!(c.faults.http_502, 0.5);
        assert_eq!(c.faults.seed, 3);
        assert!(Cli::try_parse_from(["x", "--fault-reset", "1.5"]).is_err());
        assert_eq!(c.now.to_string(), "2024-05-10 12:00:00");
        let d = Cli::try_parse_from(["x"]).unwrap().sandbox.to_config();
        assert_eq!(d.rate_limit_per_minute, Some(3000));
        assert_eq!(d.language, Language::Chinese);
        assert_eq!(d.live, LiveConfig::off());
        assert_eq!((d.latency_jitter, d.competing_load), (Duration::ZERO, 0.0));
        assert_eq!(d.today, d.now.date());
    }

    #[test]
    fn live_flags_map_to_config() {
        let cli = Cli::try_parse_from([
            "x",
            "--now",
            "2024-05-10 08:40:00",
            "--arrivals-per-second",
            "5",
            "--settle-per-second",
            "2.5",
            "--day-advance-after-requests",
            "7",
            "--order",
            "newest-first",
            "--cache",
            "per-request",
            "--latency-jitter-ms",
            "20",
            "--competing-load",
            "0.25",
        ])
        .unwrap();
        let c = cli.sandbox.to_config();
        assert_eq!(c.now.to_string(), "2024-05-10 08:40:00");
        assert_eq!(c.today.to_string(), "2024-05-10");
        let want = LiveConfig::off()
            .with_arrivals_per_second(5.0)
            .with_settle_per_second(2.5)
            .with_day_advance(DayAdvance::AfterRequests(7))
            .with_order(ResultOrder::NewestFirst)
            .with_cache(CacheModel::PerRequest);
        assert_eq!(c.live, want);
        assert_eq!(c.latency_jitter, Duration::from_millis(20));
        assert_eq!(c.competing_load, 0.25);

        let c = Cli::try_parse_from(["x", "--day-advance-after-secs", "1.5", "--cache-ttl-secs", "0.25"])
            .unwrap()
            .sandbox
            .to_config();
        assert_eq!(c.live.day_advance, DayAdvance::AfterDuration(Duration::from_millis(1500)));
        assert_eq!(c.live.cache, CacheModel::Snapshot { ttl: Duration::from_millis(250) });

        let c = Cli::try_parse_from([
            "x",
            "--webhook-url",
            "http://127.0.0.1:9/hook",
            "--webhook-key",
            "k-SENTINEL",
            "--webhook-format",
            "json",
            "--webhook-spelling",
            "old",
            "--webhook-retry-ms",
            "5",
            "--webhook-duplicate",
            "0.5",
        ])
        .unwrap();
        assert!(!format!("{:?}", c.sandbox).contains("SENTINEL"));
        let w = c.sandbox.to_config().webhook.unwrap();
        assert_eq!((w.url.as_str(), w.key.as_str()), ("http://127.0.0.1:9/hook", "k-SENTINEL"));
        assert_eq!(
            (w.format, w.spelling, w.retry_unit, w.duplicate),
            (WebhookFormat::Json, WebhookSpelling::Old, Duration::from_millis(5), 0.5)
        );
        assert!(!format!("{w:?}").contains("SENTINEL"));

        for bad in [
            &["x", "--now", "2024-05-10"][..],
            &["x", "--now", "2024-05-10 08:40:00", "--today", "2024-05-10"],
            &["x", "--order", "random"],
            &["x", "--cache", "none"],
            &["x", "--competing-load", "1.5"],
            &["x", "--arrivals-per-second", "-1"],
            &["x", "--day-advance-after-requests", "1", "--day-advance-after-secs", "1"],
        ] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
