//! The server clock: naive UTC+8 wall time that starts at a configured instant, runs with
//! real time (millisecond resolution) and can only jump forward, to the next midnight.

use std::time::Instant;

use chrono::{Days, NaiveDateTime, NaiveTime};

/// Server time as a function of real time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// What the clock showed at `base_instant`.
    base: NaiveDateTime,
    base_instant: Instant,
}

impl Clock {
    /// A clock showing `start` at the real instant `at`.
    pub fn new(start: NaiveDateTime, at: Instant) -> Clock {
        Clock { base: start, base_instant: at }
    }

    /// The server time at the real instant `at`, to the millisecond. Instants before the last
    /// jump read as the jump's target (the clock never goes back).
    pub fn at(&self, at: Instant) -> NaiveDateTime {
        let ms = at.saturating_duration_since(self.base_instant).as_millis();
        chrono::TimeDelta::try_milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
            .and_then(|d| self.base.checked_add_signed(d))
            .unwrap_or(NaiveDateTime::MAX)
    }

    /// At the real instant `at`, jumps to 00:00:00.000 of the day after the one shown then.
    pub fn jump_to_next_midnight(&mut self, at: Instant) {
        let at = at.max(self.base_instant);
        let shown = self.at(at);
        let next = shown.date().checked_add_days(Days::new(1)).unwrap_or(shown.date());
        *self = Clock { base: next.and_time(NaiveTime::MIN), base_instant: at };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn runs_and_jumps_forward() {
        let t0 = Instant::now();
        let start: NaiveDateTime = "2024-05-10T23:59:59.500".parse().unwrap();
        let mut c = Clock::new(start, t0);
        assert_eq!(c.at(t0), start);
        assert_eq!(c.at(t0 + Duration::from_micros(1_999)), start + chrono::Duration::milliseconds(1));
        assert_eq!(c.at(t0 + Duration::from_secs(1)).to_string(), "2024-05-11 00:00:00.500");
        c.jump_to_next_midnight(t0 + Duration::from_secs(1));
        assert_eq!(c.at(t0 + Duration::from_secs(1)).to_string(), "2024-05-12 00:00:00");
        assert_eq!(c.at(t0 + Duration::from_secs(3)).to_string(), "2024-05-12 00:00:02");
        // before the jump reads as the jump's target
        assert_eq!(c.at(t0).to_string(), "2024-05-12 00:00:00");
    }
}
