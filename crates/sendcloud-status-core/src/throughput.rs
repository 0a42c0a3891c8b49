//! The throughput controller: how fast to send and how many requests to
//! keep in flight, learned from the answers, so that the default reaches the
//! account's limit at any latency without tuning.
//!
//! The account allows 3000 requests a minute; that rate is the only speed a
//! user feels. One request in flight at 150 ms latency reaches 6.7 a second
//! — an eighth of it. The controller keeps enough requests in flight to fill
//! the rate at the latency it observes, and backs the rate off when the
//! server answers `50000` (another job on the same account, or a lower real
//! limit), recovering the way AWS SDKs' adaptive retry mode does (CUBIC).
//!
//! ```text
//!               first answers: in flight = rate × p90 latency × 1.2, in [1, 32]
//!   start ──► rate = ceiling (3000/min by default), 2 in flight ─────────────┐
//!                  ▲                                                         │
//!                  │ CUBIC recovery: rate(t) = C·(t − K)³ + Wmax,            ▼
//!                  │ back to Wmax after K s, then probing up to      ┌──────────────┐
//!                  │ the ceiling (or 2 × the measured rate)          │   steady     │
//!                  │                                                  └──────┬───────┘
//!             ┌────┴───────────────┐   `50000` from a request sent after     │
//!             │ Wmax = rate,        │◄─ the last cut (at most one cut per ────┘
//!             │ rate = 0.7 × Wmax   │   round trip)
//!             └────────────────────┘
//! ```
//!
//! Without a ceiling (`rate_limit = 0`: no client pacing) nothing is paced
//! until the first throttle; the in-flight limit grows by one per round trip
//! (AIMD, as Netflix's concurrency limits) and halves on a throttle. The
//! rate never exceeds the ceiling. The controller is sans-IO: the caller
//! passes the instants in.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::error::{Error, Result, ValidationReason};
use crate::settings;

/// The most requests an automatic export keeps in flight.
pub const MAX_AUTO_IN_FLIGHT: usize = 32;
/// In flight before any latency is known.
const INITIAL_IN_FLIGHT: usize = 2;
/// Latency samples kept for the percentile.
const LATENCY_SAMPLES: usize = 64;
/// CUBIC's multiplicative decrease and scaling constant (AWS SDKs' values).
const BETA: f64 = 0.7;
const CUBIC_C: f64 = 0.4;
/// The window over which the achieved rate is measured.
const MEASURE_WINDOW: Duration = Duration::from_secs(2);
/// Headroom over rate × latency, so that latency spread does not leave the
/// rate unfilled.
const HEADROOM: f64 = 1.2;
/// Cuts come at most this often, however short the round trip: a burst of
/// refusals is one signal, and CUBIC needs time to probe between cuts.
const MIN_CUT_SPACING: Duration = Duration::from_millis(500);
/// Answers needed before the admitted rate is trusted over the pacing rate.
const MIN_RATE_SAMPLES: usize = 20;
/// The rate never drops below this (requests per second): a lone refusal
/// among many answers should not stall an export.
const MIN_RATE: f64 = 1.0;

/// How many requests an export keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Parallelism {
    /// As many as fill the rate at the observed latency (the default).
    #[default]
    Auto,
    /// Exactly this many at most (1 = one request at a time).
    Fixed(usize),
}

/// The most requests a client or an export may keep in flight.
pub const MAX_PARALLELISM: usize = settings::PARALLEL.max() as usize;

impl Parallelism {
    /// `n` requests in flight at most, checked against
    /// [`settings::PARALLEL`] (1 to [`MAX_PARALLELISM`]).
    pub fn fixed(n: i64) -> Result<Parallelism> {
        if settings::PARALLEL.contains(n) { Ok(Parallelism::Fixed(n as usize)) } else { Err(Parallelism::invalid(n)) }
    }

    /// `"auto"` (any case, spaces around ignored): the one word a setting
    /// may give instead of a number.
    pub fn from_name(name: &str) -> Result<Parallelism> {
        if name.trim().eq_ignore_ascii_case("auto") {
            Ok(Parallelism::Auto)
        } else {
            Err(Parallelism::invalid(format_args!("{name:?}")))
        }
    }

    /// This setting, if within bounds (a `Fixed` built directly may not be).
    pub fn check(self) -> Result<Parallelism> {
        match self {
            Parallelism::Fixed(n) => Parallelism::fixed(i64::try_from(n).unwrap_or(i64::MAX)),
            auto => Ok(auto),
        }
    }

    /// The error for a `parallel` value that is neither `"auto"` nor a
    /// count in bounds; `got` describes it (a value, or a type name).
    pub fn invalid(got: impl fmt::Display) -> Error {
        Error::invalid_value(
            "parallel",
            ValidationReason::OutOfRange,
            format!("must be \"auto\" or a whole number {}, got {got}", settings::PARALLEL),
        )
    }

    /// The most requests this setting may have in flight.
    pub fn max_in_flight(self) -> usize {
        match self {
            Parallelism::Auto => MAX_AUTO_IN_FLIGHT,
            Parallelism::Fixed(n) => n.max(1),
        }
    }
}

/// A fixed number of requests in flight.
impl From<usize> for Parallelism {
    fn from(n: usize) -> Self {
        Parallelism::Fixed(n)
    }
}

impl fmt::Display for Parallelism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Parallelism::Auto => f.write_str("auto"),
            Parallelism::Fixed(n) => write!(f, "{n}"),
        }
    }
}

/// `auto`, or a whole number from 1 to [`MAX_PARALLELISM`] (command
/// lines; the bindings take numbers as numbers).
impl FromStr for Parallelism {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().parse::<i64>() {
            Ok(n) => Parallelism::fixed(n),
            Err(_) => Parallelism::from_name(s),
        }
    }
}

/// How an answered request went, for the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// A page (or any answer that was not a refusal).
    Ok,
    /// `50000` or HTTP 429: the account is over its limit.
    Throttled,
    /// A fault (5xx, reset, timeout): says nothing about the rate.
    Fault,
}

/// What the controller decided, for logs, stats and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ThroughputState {
    /// The pacing rate now, requests per minute (`None`: not paced).
    pub rate_per_minute: Option<f64>,
    /// The configured ceiling, requests per minute (`None`: none).
    pub ceiling_per_minute: Option<f64>,
    /// Requests an automatic export may keep in flight now.
    pub in_flight_limit: usize,
    /// Throttled answers seen.
    pub throttles: u64,
    /// Rate cuts made (at most one per round trip).
    pub cuts: u64,
    /// The 90th percentile of recent latencies.
    pub p90_latency: Option<Duration>,
}

/// The controller. See the module doc.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// Requests per second the client may never exceed.
    ceiling: Option<f64>,
    /// The last cut: when, and the rate just before it.
    cut: Option<(Instant, f64)>,
    /// Recent latencies, oldest first.
    latencies: VecDeque<Duration>,
    /// Instants of answers that were not refusals, within
    /// [`MEASURE_WINDOW`], oldest first: what the server admits.
    completions: VecDeque<Instant>,
    /// The AIMD in-flight window used while no rate is known.
    window: f64,
    throttles: u64,
    cuts: u64,
}

impl Throughput {
    /// A controller with a ceiling in requests per minute (`None`: no
    /// client pacing until the server throttles).
    pub fn new(ceiling_per_minute: Option<u32>) -> Self {
        Throughput {
            ceiling: ceiling_per_minute.map(|n| f64::from(n) / 60.0),
            cut: None,
            latencies: VecDeque::with_capacity(LATENCY_SAMPLES),
            completions: VecDeque::new(),
            window: INITIAL_IN_FLIGHT as f64,
            throttles: 0,
            cuts: 0,
        }
    }

    /// The pacing rate at `now`, requests per second (`None`: unpaced).
    pub fn rate_per_second(&self, now: Instant) -> Option<f64> {
        let Some((at, w_max)) = self.cut else { return self.ceiling };
        // CUBIC: concave back to Wmax in K seconds, then convex beyond it.
        let k = (w_max * (1.0 - BETA) / CUBIC_C).cbrt();
        let t = now.saturating_duration_since(at).as_secs_f64();
        let rate = CUBIC_C * (t - k).powi(3) + w_max;
        // Never above the ceiling; without one, never above twice what
        // was achieved before the cut (as AWS SDKs cap it).
        let cap = self.ceiling.unwrap_or(2.0 * w_max);
        Some(rate.clamp(MIN_RATE.min(cap), cap))
    }

    /// Requests an automatic export may keep in flight at `now`: enough to
    /// fill the rate at the 90th-percentile latency, with headroom.
    pub fn in_flight_limit(&self, now: Instant) -> usize {
        let limit = match (self.rate_per_second(now), self.fill_latency()) {
            (Some(rate), Some(latency)) => (rate * latency.as_secs_f64() * HEADROOM).ceil() as usize,
            (Some(_), None) => INITIAL_IN_FLIGHT,
            (None, _) => self.window.floor() as usize,
        };
        limit.clamp(1, MAX_AUTO_IN_FLIGHT)
    }

    /// Records an answer: the request went out at `sent` and came back at
    /// `now`.
    pub fn observe(&mut self, sent: Instant, now: Instant, outcome: Outcome) {
        let latency = now.saturating_duration_since(sent);
        if self.latencies.len() == LATENCY_SAMPLES {
            self.latencies.pop_front();
        }
        self.latencies.push_back(latency);
        while self.completions.front().is_some_and(|&t| now.saturating_duration_since(t) > MEASURE_WINDOW) {
            self.completions.pop_front();
        }
        if outcome != Outcome::Throttled {
            self.completions.push_back(now);
        }
        match outcome {
            Outcome::Ok if self.queueing() => {
                // The server queues what it gets: more in flight would only
                // lengthen the queue (Netflix's gradient limit backs off too).
                self.window = (self.window - 1.0 / self.window).max(INITIAL_IN_FLIGHT as f64);
            }
            Outcome::Ok => {
                // Additive increase: about one more request per round trip.
                self.window = (self.window + 1.0 / self.window).min(MAX_AUTO_IN_FLIGHT as f64);
            }
            Outcome::Throttled => {
                self.throttles += 1;
                // One cut per round trip: a refusal of a request sent before
                // the last cut tells nothing new.
                if self.cut.is_none_or(|(at, _)| sent > at && now.saturating_duration_since(at) >= MIN_CUT_SPACING) {
                    // Wmax: the rate the server admitted, when it is known
                    // and below the pacing rate (another job takes the rest),
                    // so that recovery levels off where the refusals began.
                    let admitted = self.measured_rate();
                    let w_max = match self.rate_per_second(now) {
                        Some(rate) if self.completions.len() >= MIN_RATE_SAMPLES => rate.min(admitted),
                        Some(rate) => rate,
                        None => admitted,
                    };
                    // The cut itself: CUBIC at t = 0 is BETA × Wmax.
                    self.cut = Some((now, w_max));
                    self.cuts += 1;
                    self.window = (self.window / 2.0).max(1.0);
                }
            }
            Outcome::Fault => {}
        }
    }

    /// Requests answered (not refused) per second over the last couple of
    /// seconds.
    fn measured_rate(&self) -> f64 {
        let (Some(first), Some(last)) = (self.completions.front(), self.completions.back()) else { return 1.0 };
        // Few answers over a short span still say how fast the server
        // answers; the floor only keeps one answer from meaning "infinite".
        let span = last.saturating_duration_since(*first).as_secs_f64().max(0.01);
        (self.completions.len() as f64 / span).max(MIN_RATE)
    }

    /// The `tenths`-tenth percentile of recent latencies.
    fn percentile(&self, tenths: usize) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut sorted: Vec<Duration> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        Some(sorted[(sorted.len() * tenths).div_ceil(10).saturating_sub(1)])
    }

    fn p90(&self) -> Option<Duration> {
        self.percentile(9)
    }

    /// The latency to fill the rate at: the 90th percentile, but at most
    /// twice the 10th. Beyond that the extra latency is the server queueing
    /// our own requests, and answering it with more requests in flight would
    /// feed the queue.
    fn fill_latency(&self) -> Option<Duration> {
        Some(self.p90()?.min(self.percentile(1)? * 2))
    }

    /// Whether recent latencies show the server queueing (p90 over twice
    /// the p10, with enough samples to tell).
    fn queueing(&self) -> bool {
        self.latencies.len() >= 16 && self.fill_latency() < self.p90()
    }

    /// What the controller decided, at `now`.
    pub fn state(&self, now: Instant) -> ThroughputState {
        ThroughputState {
            rate_per_minute: self.rate_per_second(now).map(|r| r * 60.0),
            ceiling_per_minute: self.ceiling.map(|r| r * 60.0),
            in_flight_limit: self.in_flight_limit(now),
            throttles: self.throttles,
            cuts: self.cuts,
            p90_latency: self.p90(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Answers `n` requests of `latency`, one every `gap`, from `t`.
    fn answer(c: &mut Throughput, t: &mut Instant, n: usize, latency: Duration, gap: Duration, outcome: Outcome) {
        for _ in 0..n {
            c.observe(*t, *t + latency, outcome);
            *t += gap;
        }
    }

    #[test]
    fn parallelism_parses_auto_and_numbers() {
        assert_eq!("auto".parse::<Parallelism>().unwrap(), Parallelism::Auto);
        assert_eq!(" AUTO ".parse::<Parallelism>().unwrap(), Parallelism::Auto);
        assert_eq!("8".parse::<Parallelism>().unwrap(), Parallelism::Fixed(8));
        for bad in ["0", "-1", "many", "", "1.5", "65"] {
            assert_eq!(bad.parse::<Parallelism>().unwrap_err().field(), Some("parallel"), "{bad}");
        }
        assert_eq!(Parallelism::fixed(64).unwrap(), Parallelism::Fixed(64));
        let e = Parallelism::fixed(65).unwrap_err();
        assert_eq!(e.explanation(), "must be \"auto\" or a whole number from 1 to 64, got 65");
        assert!(Parallelism::from_name("4").is_err(), "a count is a number, not a name");
        assert!(Parallelism::Fixed(0).check().is_err() && Parallelism::Fixed(MAX_PARALLELISM + 1).check().is_err());
        assert_eq!(Parallelism::Auto.check().unwrap(), Parallelism::Auto);
        assert_eq!(Parallelism::default().to_string(), "auto");
        assert_eq!((Parallelism::Auto.max_in_flight(), Parallelism::Fixed(3).max_in_flight()), (32, 3));
    }

    #[test]
    fn ramps_from_two_to_fill_the_ceiling_at_the_observed_latency() {
        let t0 = Instant::now();
        for (latency_ms, want) in [(20, 2), (150, 9), (400, 24)] {
            let mut c = Throughput::new(Some(3000));
            assert_eq!(c.in_flight_limit(t0), 2, "before any answer");
            let mut t = t0;
            answer(&mut c, &mut t, 20, latency_ms * MS, 20 * MS, Outcome::Ok);
            // 50 requests/s × latency × 1.2, rounded up.
            assert_eq!(c.in_flight_limit(t), want, "{latency_ms} ms");
            assert_eq!(c.rate_per_second(t), Some(50.0));
        }
        // Never more than 32, whatever the latency.
        let mut c = Throughput::new(Some(3000));
        let mut t = t0;
        answer(&mut c, &mut t, 10, Duration::from_secs(3), 20 * MS, Outcome::Ok);
        assert_eq!(c.in_flight_limit(t), MAX_AUTO_IN_FLIGHT);
    }

    #[test]
    fn a_throttle_cuts_once_per_round_trip_and_recovers_without_passing_the_ceiling() {
        let t0 = Instant::now();
        let mut c = Throughput::new(Some(3000));
        let mut t = t0;
        answer(&mut c, &mut t, 30, 100 * MS, 20 * MS, Outcome::Ok);
        let before = c.rate_per_second(t).unwrap();
        assert_eq!(before, 50.0);
        // Three refusals of requests sent before the first cut: one cut.
        c.observe(t - 100 * MS, t, Outcome::Throttled);
        let cut_at = t;
        for i in 1..=3 {
            c.observe(t - 50 * MS, t + i * MS, Outcome::Throttled);
        }
        let s = c.state(t + 3 * MS);
        assert_eq!((s.throttles, s.cuts), (4, 1));
        // Refusals every half second wear the rate down, but never below
        // one request a second.
        let mut worn = c.clone();
        for i in 1..=200u64 {
            let at = t + Duration::from_millis(500 * i);
            worn.observe(at, at, Outcome::Throttled);
        }
        let low = worn.rate_per_second(t + Duration::from_millis(100_000)).unwrap();
        assert!((1.0..10.0).contains(&low), "{low}");
        let after = c.rate_per_second(cut_at).unwrap();
        assert!((after - 0.7 * before).abs() < 1e-9, "{after}");
        // A refusal of a request sent after the cut, half a second or more
        // after it, cuts again; one sooner does not.
        c.observe(cut_at + 10 * MS, cut_at + 110 * MS, Outcome::Throttled);
        assert_eq!(c.state(cut_at + 110 * MS).cuts, 1);
        c.observe(cut_at + 500 * MS, cut_at + 600 * MS, Outcome::Throttled);
        assert_eq!(c.state(cut_at + 600 * MS).cuts, 2);
        let w_max = c.rate_per_second(cut_at + 600 * MS).unwrap() / 0.7;

        // Recovery: concave, back near Wmax after K seconds, then capped at the ceiling.
        let cut2 = cut_at + 600 * MS;
        let k = (w_max * 0.3 / 0.4).cbrt();
        let mut last = 0.0;
        for tenth in 0..=200 {
            let now = cut2 + Duration::from_millis(100 * tenth);
            let rate = c.rate_per_second(now).unwrap();
            assert!(rate >= last - 1e-9, "monotonic recovery");
            assert!(rate <= 50.0 + 1e-9, "never above the ceiling: {rate}");
            last = rate;
        }
        let at_k = c.rate_per_second(cut2 + Duration::from_secs_f64(k)).unwrap();
        assert!((at_k - w_max).abs() < 1e-6, "{at_k} vs {w_max}");
        assert_eq!(c.rate_per_second(cut2 + Duration::from_secs(20)), Some(50.0));
    }

    #[test]
    fn without_a_ceiling_concurrency_grows_until_throttled_then_paces() {
        let t0 = Instant::now();
        let mut c = Throughput::new(None);
        let mut t = t0;
        assert_eq!((c.rate_per_second(t), c.in_flight_limit(t)), (None, 2));
        answer(&mut c, &mut t, 200, 50 * MS, 5 * MS, Outcome::Ok);
        let grown = c.in_flight_limit(t);
        assert!(grown > 10, "additive increase: {grown}");
        // The first throttle starts pacing below the measured rate (200/s here).
        c.observe(t - 50 * MS, t, Outcome::Throttled);
        let rate = c.rate_per_second(t).unwrap();
        assert!((130.0..=150.0).contains(&rate), "{rate}");
        // Recovery is capped at twice the rate achieved before the cut.
        let w_max = rate / 0.7;
        let later = c.rate_per_second(t + Duration::from_secs(60)).unwrap();
        assert!((later - 2.0 * w_max).abs() < 1e-6, "{later} vs 2 × {w_max}");
        // Faults say nothing about the rate.
        let s = c.state(t);
        c.observe(t, t + 10 * MS, Outcome::Fault);
        assert_eq!(c.state(t).cuts, s.cuts);
    }
}

#[cfg(test)]
mod queueing_tests {
    use super::*;

    #[test]
    fn latency_that_grows_with_load_does_not_raise_concurrency() {
        let t0 = Instant::now();
        // A server that answers in 2 ms when it is free, and queues the
        // rest: half the answers take 2 ms, the others up to 60 ms.
        let latency = |i: u64| Duration::from_millis(if i.is_multiple_of(2) { 2 } else { 2 + i % 60 });
        let mut c = Throughput::new(Some(100_000));
        for i in 0..64u64 {
            let t = t0 + Duration::from_millis(i);
            c.observe(t, t + latency(i), Outcome::Ok);
        }
        // Filled at twice the unloaded latency (4 ms), not at the p90 (~55 ms).
        assert!(c.p90().unwrap() > Duration::from_millis(40));
        let rate = 100_000.0 / 60.0;
        assert_eq!(c.in_flight_limit(t0), (rate * 0.004 * 1.2_f64).ceil() as usize);
        // Unpaced, the window stops growing and shrinks back.
        let mut u = Throughput::new(None);
        for i in 0..400u64 {
            let t = t0 + Duration::from_millis(i);
            u.observe(t, t + latency(i), Outcome::Ok);
        }
        assert_eq!(u.in_flight_limit(t0), INITIAL_IN_FLIGHT);
    }
}
