//! Resumable export position: window, id chunk and offset, bound to the
//! query (by a fingerprint) and to the "today" its windows were planned on.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::query::Query;
use crate::request::wire_params;

/// Where an export stopped. Serializes to a short string such as
/// `sc1.20240519.2.0.300.9f86d081`; save it and pass it back to resume
/// after the last delivered record.
///
/// ```
/// use sendcloud_status_core::Cursor;
/// let c: Cursor = "sc1.20240519.2.0.300.9f86d081".parse().unwrap();
/// assert_eq!((c.window(), c.chunk(), c.offset()), (2, 0, 300));
/// assert_eq!(c.to_string(), "sc1.20240519.2.0.300.9f86d081");
/// assert!("garbage".parse::<Cursor>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub(crate) today: NaiveDate,
    pub(crate) window: u32,
    pub(crate) chunk: u32,
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
    /// The offset within that window and chunk.
    pub fn offset(&self) -> u32 {
        self.offset
    }
    /// The server-local day the export's windows were planned on.
    pub fn today(&self) -> NaiveDate {
        self.today
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sc1.{}.{}.{}.{}.{:08x}",
            self.today.format("%Y%m%d"),
            self.window,
            self.chunk,
            self.offset,
            self.fingerprint
        )
    }
}

impl FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::validation("cursor", format!("{s:?} is not a cursor from this library"));
        let parts: Vec<&str> = s.trim().split('.').collect();
        let [version, today, window, chunk, offset, fp] = parts.as_slice() else { return Err(bad()) };
        if *version != "sc1" {
            return Err(bad());
        }
        Ok(Cursor {
            today: NaiveDate::parse_from_str(today, "%Y%m%d").map_err(|_| bad())?,
            window: window.parse().map_err(|_| bad())?,
            chunk: chunk.parse().map_err(|_| bad())?,
            offset: offset.parse().map_err(|_| bad())?,
            fingerprint: u32::from_str_radix(fp, 16).map_err(|_| bad())?,
        })
    }
}

/// A 32-bit FNV-1a hash of the query's filters and window (not its `start`
/// or `limit`), so a cursor is only accepted back by the query it came from.
pub(crate) fn fingerprint(query: &Query) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for (param, value) in wire_params(query, query.window, &query.email_ids, 0, 0) {
        for b in param.wire_name().bytes().chain([b'=']).chain(value.bytes()).chain([b'&']) {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_paging_but_not_filters() {
        let a = Query::builder().days(3).build().unwrap();
        let b = Query::builder().days(3).start(500).limit(10).build().unwrap();
        let c = Query::builder().days(3).email("x@y.z").build().unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn malformed_cursors_are_validation_errors() {
        for s in ["", "sc1.2024.1.2.3.x", "sc2.20240101.0.0.0.00000000", "sc1.20240101.0.0.-1.00000000"] {
            assert_eq!(s.parse::<Cursor>().unwrap_err().field(), Some("cursor"), "{s}");
        }
    }
}
