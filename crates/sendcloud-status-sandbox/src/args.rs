//! Command-line flags of the sandbox, reusable by any CLI through `#[command(flatten)]`.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::NaiveDate;

use crate::config::{FaultConfig, Language, SandboxConfig, StatusCodeKey, SubStatusFormat};

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
    /// The server's today, yyyy-MM-dd (default: the current date at UTC+8).
    #[arg(long, value_parser = parse_date)]
    pub today: Option<NaiveDate>,
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
    /// Worker threads.
    #[arg(long, default_value_t = 4)]
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
}

impl SandboxArgs {
    /// The configuration these flags describe.
    pub fn to_config(&self) -> SandboxConfig {
        let base = SandboxConfig::default();
        SandboxConfig {
            records: self.records,
            seed: self.seed,
            today: self.today.unwrap_or(base.today),
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
        let d = Cli::try_parse_from(["x"]).unwrap().sandbox.to_config();
        assert_eq!(d.rate_limit_per_minute, Some(3000));
        assert_eq!(d.language, Language::Chinese);
    }
}
