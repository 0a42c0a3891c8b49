//! Resumable export position (version 2): the export's resolved date range,
//! then window, id chunk, pass and offset, bound by a fingerprint to the
//! query *and* to everything that shapes the plan.
//!
//! An export's plan depends on more than its filters: the window length of
//! the endpoint, the id chunk size and the page size decide which requests
//! exist, and a `days` query resolves to dates when the export starts. A
//! cursor taken under one plan and resumed under another would point at the
//! wrong rows, so the fingerprint covers all of it and a mismatch is a
//! validation error, never a silent skip.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::error::{Error, Result, ValidationReason};
use crate::query::Query;
use crate::request::wire_params;

/// Where an export stopped. Serializes to a short string such as
/// `sc2.20240517-20240519.0.0.0.300.9f86d081`; save it and pass it back to
/// resume after the last delivered record.
///
/// ```
/// use sendcloud_status_core::Cursor;
/// let c: Cursor = "sc2.20240511-20240519.2.0.1.300.9f86d081".parse().unwrap();
/// assert_eq!((c.window(), c.chunk(), c.pass(), c.offset()), (2, 0, 1, 300));
/// assert_eq!(c.dates().0.to_string(), "2024-05-11");
/// assert_eq!(c.to_string(), "sc2.20240511-20240519.2.0.1.300.9f86d081");
/// assert!("garbage".parse::<Cursor>().is_err());
/// // Cursors of version 0.1 cannot be resumed: their plan is unknown.
/// assert!("sc1.20240519.2.0.300.9f86d081".parse::<Cursor>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    /// First and last server day of the whole export, resolved at its start.
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
    pub(crate) window: u32,
    pub(crate) chunk: u32,
    pub(crate) pass: u32,
    pub(crate) offset: u32,
    pub(crate) fingerprint: u32,
}

impl Cursor {
    /// The date-window index.
    pub fn window(&self) -> u32 {
        self.window
    }
    /// The `emailIds` chunk index.
    pub fn chunk(&self) -> u32 {
        self.chunk
    }
    /// The read pass of that window and chunk: 0 for the first read, more
    /// while a result set that moved is read again.
    pub fn pass(&self) -> u32 {
        self.pass
    }
    /// The offset within that window, chunk and pass.
    pub fn offset(&self) -> u32 {
        self.offset
    }
    /// The inclusive server-day range of the whole export, fixed when it
    /// started (a `days` query keeps naming these dates after midnight).
    pub fn dates(&self) -> (NaiveDate, NaiveDate) {
        (self.start, self.end)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sc2.{}-{}.{}.{}.{}.{}.{:08x}",
            self.start.format("%Y%m%d"),
            self.end.format("%Y%m%d"),
            self.window,
            self.chunk,
            self.pass,
            self.offset,
            self.fingerprint
        )
    }
}

impl FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.starts_with("sc1.") {
            return Err(Error::invalid_value(
                "cursor",
                ValidationReason::Contradiction,
                "this cursor comes from version 0.1 (sc1), whose plan cannot be checked: start the export again",
            ));
        }
        let bad = || {
            Error::invalid_value(
                "cursor",
                ValidationReason::Malformed,
                format!("{s:?} is not a cursor from this library"),
            )
        };
        let parts: Vec<&str> = s.split('.').collect();
        let [version, dates, window, chunk, pass, offset, fp] = parts.as_slice() else { return Err(bad()) };
        if *version != "sc2" || fp.len() != 8 {
            return Err(bad());
        }
        let (start, end) = dates.split_once('-').ok_or_else(bad)?;
        let date = |d: &str| NaiveDate::parse_from_str(d, "%Y%m%d").map_err(|_| bad());
        let cursor = Cursor {
            start: date(start)?,
            end: date(end)?,
            window: window.parse().map_err(|_| bad())?,
            chunk: chunk.parse().map_err(|_| bad())?,
            pass: pass.parse().map_err(|_| bad())?,
            offset: offset.parse().map_err(|_| bad())?,
            fingerprint: u32::from_str_radix(fp, 16).map_err(|_| bad())?,
        };
        if cursor.start > cursor.end {
            return Err(bad());
        }
        Ok(cursor)
    }
}

/// Everything besides the filters that decides which requests an export
/// makes, and so what a cursor's numbers mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlanShape {
    /// The export's resolved server-day range.
    pub(crate) dates: (NaiveDate, NaiveDate),
    /// The endpoint's window maximum in days.
    pub(crate) max_window_days: u32,
    /// Email ids per request.
    pub(crate) email_id_chunk: usize,
    /// The first pass's page size (`limit`).
    pub(crate) page_size: u32,
}

/// A 32-bit FNV-1a hash of the query's filters and window as given (not
/// its `start`) and of the plan's shape, so a cursor is only accepted back
/// by the same query on an identically configured client.
pub(crate) fn fingerprint(query: &Query, plan: &PlanShape) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    for (param, value) in wire_params(query, query.window, &query.email_ids, 0, 0) {
        if matches!(param.wire_name(), "start" | "limit") {
            continue;
        }
        eat(param.wire_name().as_bytes());
        eat(b"=");
        eat(value.as_bytes());
        eat(b"&");
    }
    let (from, to) = plan.dates;
    let shape = format!(
        "plan:{from}..{to};window={};chunk={};limit={}",
        plan.max_window_days, plan.email_id_chunk, plan.page_size
    );
    eat(shape.as_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> PlanShape {
        PlanShape {
            dates: ("2024-05-18".parse().unwrap(), "2024-05-20".parse().unwrap()),
            max_window_days: 3,
            email_id_chunk: 20,
            page_size: 100,
        }
    }

    #[test]
    fn fingerprint_ignores_start_but_not_filters_or_plan() {
        let a = Query::builder().days(3).build().unwrap();
        let b = Query::builder().days(3).start(500).build().unwrap();
        let c = Query::builder().days(3).email("x@y.z").build().unwrap();
        assert_eq!(fingerprint(&a, &plan()), fingerprint(&b, &plan()));
        assert_ne!(fingerprint(&a, &plan()), fingerprint(&c, &plan()));
        let base = fingerprint(&a, &plan());
        for changed in [
            PlanShape { max_window_days: 30, ..plan() },
            PlanShape { email_id_chunk: 10, ..plan() },
            PlanShape { page_size: 50, ..plan() },
            PlanShape { dates: ("2024-05-19".parse().unwrap(), "2024-05-21".parse().unwrap()), ..plan() },
        ] {
            assert_ne!(fingerprint(&a, &changed), base, "{changed:?}");
        }
    }

    #[test]
    fn round_trip_and_malformed_cursors() {
        let c: Cursor = "sc2.20240518-20240520.1.2.3.400.0000abcd".parse().unwrap();
        assert_eq!(c.to_string(), "sc2.20240518-20240520.1.2.3.400.0000abcd");
        for s in [
            "",
            "sc2.2024.1.2.3.4.00000000",
            "sc2.20240520-20240518.0.0.0.0.00000000",
            "sc2.20240518-20240520.0.0.0.-1.00000000",
            "sc2.20240518-20240520.0.0.0.0.xyz",
            "sc3.20240518-20240520.0.0.0.0.00000000",
        ] {
            assert_eq!(s.parse::<Cursor>().unwrap_err().field(), Some("cursor"), "{s}");
        }
        let old = "sc1.20240101.0.0.0.00000000".parse::<Cursor>().unwrap_err();
        assert_eq!(old.field(), Some("cursor"));
        assert!(old.to_string().contains("sc1"), "{old}");
    }
}
