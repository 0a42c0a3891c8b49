//! The bounds and defaults of every setting and query number, and the
//! parsers of the values every surface takes as text (UTC offsets, server
//! times). One rule each: the query builder, the client builder, the CLI
//! and the bindings call these instead of restating them, and errors print
//! bounds the way people say them ("from 1 to 64", "at least 1"), never as
//! the range of a machine type.
//!
//! ```
//! use sendcloud_status_core::settings::{self, PARALLEL};
//! assert_eq!(PARALLEL.to_string(), "from 1 to 64");
//! let err = settings::MAX_RECORDS.check("max_records", 0).unwrap_err();
//! assert_eq!(err.explanation(), "must be at least 1, got 0");
//! assert_eq!(settings::parse_utc_offset("-05:30").unwrap().local_minus_utc(), -(5 * 3600 + 1800));
//! ```

use std::fmt;
use std::time::Duration;

use chrono::{FixedOffset, NaiveDateTime};

use crate::error::{Error, Result, ValidationReason};

/// An inclusive range of whole numbers a value accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bounds {
    min: i64,
    max: i64,
    /// Only `min` is a rule; `max` is what the value's type holds, named in
    /// messages only once a value passes it.
    open_ended: bool,
}

impl Bounds {
    /// From `min` to `max`, inclusive.
    pub const fn new(min: i64, max: i64) -> Bounds {
        Bounds { min, max, open_ended: false }
    }

    /// `min` or more, up to `limit`, the most the value's type holds.
    pub const fn at_least(min: i64, limit: i64) -> Bounds {
        Bounds { min, max: limit, open_ended: true }
    }

    /// The least value accepted.
    pub const fn min(self) -> i64 {
        self.min
    }

    /// The greatest value accepted.
    pub const fn max(self) -> i64 {
        self.max
    }

    /// Whether `n` is accepted.
    pub const fn contains(self, n: i64) -> bool {
        self.min <= n && n <= self.max
    }

    /// `n`, or an [`OutOfRange`](ValidationReason::OutOfRange) error about
    /// `field`.
    pub fn check(self, field: &'static str, n: i64) -> Result<i64> {
        if self.contains(n) {
            Ok(n)
        } else if n > self.max {
            Err(self.too_big(field, n))
        } else {
            Err(Error::out_of_range(field, self, n))
        }
    }

    fn too_big(self, field: &'static str, got: impl fmt::Display) -> Error {
        if self.open_ended {
            Error::invalid_value(
                field,
                ValidationReason::OutOfRange,
                format!("must be at most {}, got {got}", self.max),
            )
        } else {
            Error::out_of_range(field, self, got)
        }
    }

    /// [`Bounds::check`] for a value held as `u32` (bounds within `u32`).
    pub fn check_u32(self, field: &'static str, n: i64) -> Result<u32> {
        self.check(field, n).map(|n| u32::try_from(n).expect("bounds within u32"))
    }

    /// [`Bounds::check`] for a value held as `u64` (bounds within `u64`).
    pub fn check_u64(self, field: &'static str, n: i64) -> Result<u64> {
        self.check(field, n).map(|n| u64::try_from(n).expect("bounds within u64"))
    }

    /// [`Bounds::check`] for a value held as `usize` (bounds within `usize`).
    pub fn check_usize(self, field: &'static str, n: i64) -> Result<usize> {
        self.check(field, n).map(|n| usize::try_from(n).expect("bounds within usize"))
    }

    /// [`Bounds::check`] for a value a Rust caller gave unsigned.
    pub fn check_unsigned(self, field: &'static str, n: u64) -> Result<u64> {
        match i64::try_from(n) {
            Ok(signed) => self.check(field, signed).map(|_| n),
            Err(_) => Err(self.too_big(field, n)),
        }
    }
}

/// "from 1 to 64", or "at least 1".
impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.open_ended {
            write!(f, "at least {}", self.min)
        } else {
            write!(f, "from {} to {}", self.min, self.max)
        }
    }
}

/// `days`: today and up to ten years back (data is kept six months: more
/// is a typo, not a query).
pub const DAYS: Bounds = Bounds::new(1, 3660);
/// `limit`: rows per page (the API serves at most 100).
pub const PAGE_SIZE: Bounds = Bounds::new(1, 100);
/// `start`: the first offset.
pub const START: Bounds = Bounds::at_least(0, u32::MAX as i64);
/// `label_id`.
pub const LABEL_ID: Bounds = Bounds::at_least(1, i64::MAX);
/// `max_window_days` of a custom endpoint.
pub const MAX_WINDOW_DAYS: Bounds = Bounds::new(1, 3660);
/// `parallel`: requests in flight at once, when not `auto`.
pub const PARALLEL: Bounds = Bounds::new(1, 64);
/// `max_retries`: retries per request after the first attempt.
pub const MAX_RETRIES: Bounds = Bounds::new(0, 100);
/// `rate_limit_per_minute`: 0 turns client-side pacing off.
pub const RATE_LIMIT_PER_MINUTE: Bounds = Bounds::at_least(0, u32::MAX as i64);
/// `email_id_chunk`: email ids per request.
pub const EMAIL_ID_CHUNK: Bounds = Bounds::new(1, 10_000);
/// `max_records`: an export stops after this many records.
pub const MAX_RECORDS: Bounds = Bounds::at_least(1, i64::MAX);
/// `soft_bounces`: suppress addresses that soft-bounced at least this often.
pub const SOFT_BOUNCES: Bounds = Bounds::at_least(1, i64::MAX);
/// `jitter_seed`.
pub const JITTER_SEED: Bounds = Bounds::at_least(0, i64::MAX);

/// The longest timeout, retry wait or retry deadline (a day): longer values
/// are mistakes, and past them clocks would overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// The unit a caller gave a duration in, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeUnit {
    /// Seconds (Rust, Python, the CLI).
    Seconds,
    /// Milliseconds (Node).
    Millis,
}

impl TimeUnit {
    fn amount(self, d: Duration) -> String {
        match self {
            TimeUnit::Seconds => format!("{} s", d.as_secs_f64()),
            TimeUnit::Millis => format!("{} ms", d.as_millis()),
        }
    }
}

/// The durations a setting accepts: up to [`MAX_DURATION`], zero or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationBounds {
    zero_allowed: bool,
}

/// Timeouts: more than zero, at most a day.
pub const TIMEOUT: DurationBounds = DurationBounds { zero_allowed: false };
/// Retry waits and the retry deadline: zero to a day.
pub const DELAY: DurationBounds = DurationBounds { zero_allowed: true };

impl DurationBounds {
    fn explain(self, unit: TimeUnit, got: &str) -> String {
        let max = unit.amount(MAX_DURATION);
        if self.zero_allowed {
            format!("must be from 0 to {max}, got {got}")
        } else {
            format!("must be more than 0 and at most {max}, got {got}")
        }
    }

    fn accepts(self, d: Duration) -> bool {
        (self.zero_allowed || !d.is_zero()) && d <= MAX_DURATION
    }

    /// `d`, or an out-of-range error about `field`.
    pub fn check(self, field: &'static str, d: Duration) -> Result<Duration> {
        if self.accepts(d) {
            return Ok(d);
        }
        let got = TimeUnit::Seconds.amount(d);
        Err(Error::invalid_value(field, ValidationReason::OutOfRange, self.explain(TimeUnit::Seconds, &got)))
    }

    /// A number of seconds or milliseconds from another language, checked.
    pub fn from_number(self, field: &'static str, n: f64, unit: TimeUnit) -> Result<Duration> {
        let secs = match unit {
            TimeUnit::Seconds => n,
            TimeUnit::Millis => n / 1000.0,
        };
        match Duration::try_from_secs_f64(secs) {
            Ok(d) if self.accepts(d) => Ok(d),
            _ => {
                let got = match unit {
                    TimeUnit::Seconds => format!("{n} s"),
                    TimeUnit::Millis => format!("{n} ms"),
                };
                Err(Error::invalid_value(field, ValidationReason::OutOfRange, self.explain(unit, &got)))
            }
        }
    }
}

/// Whole-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries per request after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 7;
/// Page size.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Email ids per request.
pub const DEFAULT_EMAIL_ID_CHUNK: usize = 20;
/// The window maximum of a custom endpoint.
pub const DEFAULT_MAX_WINDOW_DAYS: u32 = 3;
/// The documented account limit: 3000 calls per minute.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 3000;
/// The server's calendar: China Standard Time, `+08:00`.
pub const DEFAULT_SERVER_UTC_OFFSET: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

/// What a UTC offset setting accepts, for messages.
const OFFSET_FORMS: &str = "a UTC offset like +08:00, -05:30, +0800, +08 or Z";

fn offset_error(got: impl fmt::Display) -> Error {
    Error::invalid_value("server_utc_offset", ValidationReason::Malformed, format!("must be {OFFSET_FORMS}, got {got}"))
}

/// Parses a UTC offset: `+08:00`, `-05:30`, `+0800`, `+08`, `Z` or `UTC`
/// (any case; surrounding spaces ignored). Hours 0 to 23, minutes 0 to 59.
pub fn parse_utc_offset(s: &str) -> Result<FixedOffset> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(FixedOffset::east_opt(0).expect("zero is a valid offset"));
    }
    let bad = || offset_error(format!("{s:?}"));
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let digits = |d: &str| d.len() == 2 && d.bytes().all(|b| b.is_ascii_digit());
    let (hours, minutes) = match (rest.len(), rest.split_once(':')) {
        (5, Some((h, m))) if digits(h) && digits(m) => (h, m),
        (4, None) if digits(&rest[..2]) && digits(&rest[2..]) => (&rest[..2], &rest[2..]),
        (2, None) if digits(rest) => (rest, "00"),
        _ => return Err(bad()),
    };
    let (hours, minutes): (i32, i32) = (hours.parse().map_err(|_| bad())?, minutes.parse().map_err(|_| bad())?);
    if hours > 23 || minutes > 59 {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(bad)
}

/// A UTC offset given as seconds east of UTC: whole minutes, less than a
/// day either way.
pub fn utc_offset_from_seconds(seconds: i64) -> Result<FixedOffset> {
    i32::try_from(seconds)
        .ok()
        .filter(|s| s % 60 == 0)
        .and_then(FixedOffset::east_opt)
        .ok_or_else(|| offset_error(format!("{seconds} seconds (whole minutes, less than a day)")))
}

/// A UTC offset built elsewhere (a `chrono` value), checked like the
/// parsed ones: whole minutes.
pub fn check_utc_offset(offset: FixedOffset) -> Result<FixedOffset> {
    utc_offset_from_seconds(i64::from(offset.local_minus_utc()))
}

/// Parses a server-local time as the API writes times: `yyyy-MM-dd
/// HH:mm:ss`, or with a `T`, optionally with fractions of a second.
pub fn parse_server_time(field: &'static str, s: &str) -> Result<NaiveDateTime> {
    let t = s.trim();
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .ok_or_else(|| {
            Error::invalid_value(
                field,
                ValidationReason::Malformed,
                format!("{s:?} is not a server time like \"2024-05-20 15:00:00\""),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_print_as_people_say_them() {
        assert_eq!(PARALLEL.to_string(), "from 1 to 64");
        assert_eq!(MAX_RECORDS.to_string(), "at least 1");
        let msg = |b: Bounds, n: i64| b.check("x", n).unwrap_err().explanation().to_owned();
        assert_eq!(msg(PARALLEL, 65), "must be from 1 to 64, got 65");
        assert_eq!(msg(MAX_RECORDS, 0), "must be at least 1, got 0");
        assert_eq!(msg(START, -1), "must be at least 0, got -1");
        assert_eq!(msg(START, 1 << 40), "must be at most 4294967295, got 1099511627776");
        for bad in [msg(MAX_RECORDS, 0), msg(RATE_LIMIT_PER_MINUTE, -1), msg(LABEL_ID, 0)] {
            assert!(!bad.contains(&i64::MAX.to_string()) && !bad.contains(".."), "{bad}");
        }
        let e = MAX_RETRIES.check("max_retries", 101).unwrap_err();
        assert_eq!((e.field(), e.validation_reason()), (Some("max_retries"), Some(ValidationReason::OutOfRange)));
    }

    #[test]
    fn bounds_are_inclusive_and_typed_checks_convert() {
        assert_eq!(PARALLEL.check_usize("parallel", 64).unwrap(), 64);
        assert_eq!(MAX_RETRIES.check_u32("max_retries", 0).unwrap(), 0);
        assert_eq!(RATE_LIMIT_PER_MINUTE.check_u32("r", i64::from(u32::MAX)).unwrap(), u32::MAX);
        assert!(RATE_LIMIT_PER_MINUTE.check_u32("r", i64::from(u32::MAX) + 1).is_err());
        assert_eq!(MAX_RECORDS.check_unsigned("max_records", 5).unwrap(), 5);
        assert!(MAX_RECORDS.check_unsigned("max_records", 0).is_err());
        assert!(EMAIL_ID_CHUNK.check_unsigned("email_id_chunk", u64::MAX).is_err());
    }

    #[test]
    fn durations_are_checked_in_the_unit_given() {
        assert_eq!(TIMEOUT.check("timeout", Duration::from_millis(1)).unwrap(), Duration::from_millis(1));
        assert!(TIMEOUT.check("timeout", Duration::ZERO).is_err());
        assert!(DELAY.check("retry_max_delay", Duration::ZERO).is_ok());
        assert!(DELAY.check("retry_max_delay", MAX_DURATION + Duration::from_secs(1)).is_err());
        let ms = TIMEOUT.from_number("timeout_ms", 1500.0, TimeUnit::Millis).unwrap();
        assert_eq!(ms, Duration::from_millis(1500));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 86_400_001.0] {
            let e = TIMEOUT.from_number("timeout_ms", bad, TimeUnit::Millis).unwrap_err();
            assert!(e.explanation().starts_with("must be more than 0 and at most 86400000 ms"), "{e}");
        }
        let e = DELAY.from_number("retry_deadline", -0.5, TimeUnit::Seconds).unwrap_err();
        assert_eq!(e.explanation(), "must be from 0 to 86400 s, got -0.5 s");
    }

    #[test]
    fn one_utc_offset_parser() {
        let secs = |s: &str| parse_utc_offset(s).map(|o| o.local_minus_utc());
        assert_eq!(secs("+08:00").unwrap(), 8 * 3600);
        assert_eq!(secs(" -05:30 ").unwrap(), -(5 * 3600 + 1800));
        assert_eq!(secs("+0800").unwrap(), 8 * 3600);
        assert_eq!(secs("+09").unwrap(), 9 * 3600);
        assert_eq!(secs("Z").unwrap(), 0);
        assert_eq!(secs("utc").unwrap(), 0);
        assert_eq!(secs("+23:59").unwrap(), 23 * 3600 + 59 * 60);
        for bad in ["", "8", "+8", "+8:00", "+24:00", "+08:60", "+08:00:00", "08:00", "+0a:00", "+08:0", "+0:800"] {
            let e = parse_utc_offset(bad).unwrap_err();
            assert_eq!(e.field(), Some("server_utc_offset"), "{bad}");
            assert_eq!(e.validation_reason(), Some(ValidationReason::Malformed), "{bad}");
        }
        assert_eq!(utc_offset_from_seconds(-3600).unwrap().local_minus_utc(), -3600);
        for bad in [30, 86_400, i64::MAX] {
            assert_eq!(utc_offset_from_seconds(bad).unwrap_err().field(), Some("server_utc_offset"), "{bad}");
        }
        assert_eq!(DEFAULT_SERVER_UTC_OFFSET.to_string(), "+08:00");
    }

    #[test]
    fn server_times() {
        let t = |s: &str| parse_server_time("server_now", s).map(|t| t.to_string()).ok();
        assert_eq!(t("2024-05-20 15:00:00").as_deref(), Some("2024-05-20 15:00:00"));
        assert_eq!(t(" 2024-05-20T15:00:00.250 ").as_deref(), Some("2024-05-20 15:00:00.250"));
        for bad in ["", "2024-05-20", "2024-05-20 25:00:00", "20/05/2024 15:00:00", "2024-05-20 15:00"] {
            assert_eq!(t(bad), None, "{bad}");
        }
        assert_eq!(parse_server_time("server_now", "x").unwrap_err().field(), Some("server_now"));
    }
}
