//! What a decoded page holds: [`Record`]s (one per email) and the [`Page`]
//! around them.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::cursor::Cursor;
use crate::status::{BounceClass, Category, SubStatus, Wording};

/// A time as the server wrote it (`yyyy-MM-dd HH:mm:ss`, server-local) and,
/// when it parses, that time with the server's UTC offset attached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerTime {
    /// The text, kept only when it is not the canonical rendering of
    /// `datetime` (decoding then allocates nothing for the usual case).
    raw: Option<String>,
    datetime: Option<DateTime<FixedOffset>>,
}

/// The documented form: what `raw()` rebuilds when no text was kept.
const CANONICAL: &str = "%Y-%m-%d %H:%M:%S";

impl ServerTime {
    /// Parses a server time in the given offset; unparsable text is kept raw.
    pub fn parse(raw: &str, offset: FixedOffset) -> ServerTime {
        if let Some(naive) = parse_canonical(raw) {
            let datetime = offset.from_local_datetime(&naive).single();
            return ServerTime { raw: datetime.is_none().then(|| raw.to_owned()), datetime };
        }
        let datetime = parse_other(raw).and_then(|n| offset.from_local_datetime(&n).single());
        ServerTime { raw: Some(raw.to_owned()), datetime }
    }

    /// The text exactly as received.
    pub fn raw(&self) -> Cow<'_, str> {
        match (&self.raw, self.datetime) {
            (Some(raw), _) => Cow::Borrowed(raw),
            (None, Some(d)) => Cow::Owned(d.format(CANONICAL).to_string()),
            (None, None) => Cow::Borrowed(""),
        }
    }

    /// The time with the server's offset, if the text parsed.
    pub fn datetime(&self) -> Option<DateTime<FixedOffset>> {
        self.datetime
    }

    /// The server-local calendar day, if the text parsed.
    pub fn date(&self) -> Option<NaiveDate> {
        self.datetime.map(|d| d.date_naive())
    }

    /// A time known with its offset (as an archive stores it): `raw()`
    /// renders it as the server writes times, `yyyy-MM-dd HH:mm:ss`.
    pub fn from_datetime(datetime: DateTime<FixedOffset>) -> ServerTime {
        ServerTime { raw: None, datetime: Some(datetime) }
    }

    /// RFC 3339 with the offset when parsed, else the raw text.
    pub fn to_rfc3339_or_raw(&self) -> String {
        self.datetime.map_or_else(|| self.raw().into_owned(), |d| d.to_rfc3339())
    }
}

impl fmt::Display for ServerTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_or_raw())
    }
}

/// Exactly `yyyy-MM-dd HH:mm:ss`, the documented form, without chrono's
/// format parser.
fn parse_canonical(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
    date.and_hms_opt(digits(11..13)?, digits(14..16)?, digits(17..19)?)
}

/// Tolerated variants: a `T` separator, fractional seconds.
fn parse_other(s: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(s.trim(), fmt).ok())
}

/// One email's delivery status.
///
/// Every field the server may omit is an `Option`; fields this crate does
/// not know are kept in [`Record::extra`], never dropped.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// `emailId`: the id the send API returned (holds `$`, `@`, `.`).
    pub email_id: Option<String>,
    /// `status` as the server wrote it (display text, not a code).
    pub status: Option<String>,
    /// The category derived from the sub-status, then the status text.
    pub category: Category,
    /// `subStatus`, when the row has one.
    pub sub_status: Option<SubStatus>,
    /// `subStatusDesc` from the server, else the documented English text.
    pub sub_status_description: Option<String>,
    /// `apiUser` that sent the email.
    pub api_user: Option<String>,
    /// `recipients`: the recipient address.
    pub recipient: Option<String>,
    /// `requestTime`: when the send was requested.
    pub request_time: Option<ServerTime>,
    /// `modifiedTime`: when the status last changed.
    pub modified_time: Option<ServerTime>,
    /// `sendLog`: the receiving server's answer.
    pub send_log: Option<String>,
    /// Row fields this crate does not model, and values of known fields
    /// whose type was unexpected, as JSON.
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// An empty record: no field known, category `unknown`. Fields are public:
/// set them one by one to build a record from stored data.
impl Default for Record {
    fn default() -> Self {
        Record {
            email_id: None,
            status: None,
            category: Category::Unknown,
            sub_status: None,
            sub_status_description: None,
            api_user: None,
            recipient: None,
            request_time: None,
            modified_time: None,
            send_log: None,
            extra: BTreeMap::new(),
        }
    }
}

impl Record {
    /// A permanent failure (invalid email, 4xx): the address should be
    /// removed.
    pub fn is_hard_bounce(&self) -> bool {
        self.category == Category::Invalid
    }

    /// A temporary failure (soft bounce, 5xx): retry later.
    pub fn is_soft_bounce(&self) -> bool {
        self.category == Category::SoftBounce
    }

    /// Whether the recipient should no longer be mailed: a permanent
    /// failure, including an unsubscribe or a blacklisting.
    pub fn should_suppress(&self) -> bool {
        self.is_hard_bounce() || self.sub_status.and_then(SubStatus::class) == Some(BounceClass::Permanent)
    }
}

/// A key of the canonical record form, in [`Record::FIELDS`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordField {
    /// `email_id`.
    EmailId,
    /// `status`: the server's display text.
    Status,
    /// `category`: its [`Category::name`].
    Category,
    /// `sub_status`: the code.
    SubStatus,
    /// `sub_status_description`.
    SubStatusDescription,
    /// `api_user`.
    ApiUser,
    /// `recipient`.
    Recipient,
    /// `request_time`: RFC 3339 with the server offset, or the raw text.
    RequestTime,
    /// `modified_time`: likewise.
    ModifiedTime,
    /// `send_log`.
    SendLog,
    /// `extra`: present only when the record has unmodelled fields.
    Extra,
}

impl RecordField {
    /// Every field, in order.
    pub const ALL: [RecordField; 11] = [
        RecordField::EmailId,
        RecordField::Status,
        RecordField::Category,
        RecordField::SubStatus,
        RecordField::SubStatusDescription,
        RecordField::ApiUser,
        RecordField::Recipient,
        RecordField::RequestTime,
        RecordField::ModifiedTime,
        RecordField::SendLog,
        RecordField::Extra,
    ];

    /// The key, `snake_case`.
    pub const fn name(self) -> &'static str {
        match self {
            RecordField::EmailId => "email_id",
            RecordField::Status => "status",
            RecordField::Category => "category",
            RecordField::SubStatus => "sub_status",
            RecordField::SubStatusDescription => "sub_status_description",
            RecordField::ApiUser => "api_user",
            RecordField::Recipient => "recipient",
            RecordField::RequestTime => "request_time",
            RecordField::ModifiedTime => "modified_time",
            RecordField::SendLog => "send_log",
            RecordField::Extra => "extra",
        }
    }
}

impl Record {
    /// The keys of the canonical form, in order: the JSON keys, the CSV
    /// columns, and the field lists of the bindings all come from here.
    pub const FIELDS: [&'static str; 11] = {
        let mut names = [""; 11];
        let mut i = 0;
        while i < names.len() {
            names[i] = RecordField::ALL[i].name();
            i += 1;
        }
        names
    };

    /// What happened to the email, in words: the documented description
    /// of its sub-status (or the name of its category) in a language, or
    /// the server's own text (`subStatusDesc`, else `status`).
    pub fn describe(&self, wording: Wording) -> String {
        match wording {
            Wording::Documented(lang) => match self.sub_status {
                Some(sub) => sub.describe(lang),
                None => self.category.label(lang).to_owned(),
            },
            Wording::Server => {
                self.sub_status_description.as_deref().or(self.status.as_deref()).unwrap_or_default().to_owned()
            }
        }
    }

    fn serialize_field<M: SerializeMap>(&self, m: &mut M, field: RecordField) -> Result<(), M::Error> {
        let key = field.name();
        let time = |t: &Option<ServerTime>| t.as_ref().map(ServerTime::to_rfc3339_or_raw);
        match field {
            RecordField::EmailId => m.serialize_entry(key, &self.email_id),
            RecordField::Status => m.serialize_entry(key, &self.status),
            RecordField::Category => m.serialize_entry(key, self.category.name()),
            RecordField::SubStatus => m.serialize_entry(key, &self.sub_status.map(SubStatus::code)),
            RecordField::SubStatusDescription => m.serialize_entry(key, &self.sub_status_description),
            RecordField::ApiUser => m.serialize_entry(key, &self.api_user),
            RecordField::Recipient => m.serialize_entry(key, &self.recipient),
            RecordField::RequestTime => m.serialize_entry(key, &time(&self.request_time)),
            RecordField::ModifiedTime => m.serialize_entry(key, &time(&self.modified_time)),
            RecordField::SendLog => m.serialize_entry(key, &self.send_log),
            RecordField::Extra if self.extra.is_empty() => Ok(()),
            RecordField::Extra => m.serialize_entry(key, &self.extra),
        }
    }
}

/// The JSON form shared by the CLI and the bindings: the keys of
/// [`Record::FIELDS`] in order, times in RFC 3339 with the server offset,
/// and `extra` only when non-empty.
impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for field in RecordField::ALL {
            self.serialize_field(&mut m, field)?;
        }
        m.end()
    }
}

/// Where a page sits in an export: which window, which email-id chunk,
/// which offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Position {
    /// Index of the date window (0 for unsplit queries).
    pub window: u32,
    /// Index of the `emailIds` chunk (0 without ids).
    pub chunk: u32,
    /// The `start` offset of the page.
    pub offset: u32,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page {
    /// `info.total`: rows matching this request's window and chunk, when
    /// the server said.
    pub total: Option<u64>,
    /// The records of the page. In an export: after de-duplication and the
    /// `max_records` cut.
    pub records: Vec<Record>,
    /// Where the page sits.
    pub position: Position,
    /// The read pass of its window and chunk: 0 for the first read, more
    /// when the result set moved and the unit is read again (such pages
    /// hold only rows the earlier passes had not emitted).
    pub pass: u32,
    /// The inclusive date range of the window the page belongs to (`None`
    /// only for a single page of a `days` query, sent as is).
    pub window: Option<(NaiveDate, NaiveDate)>,
    /// Rows the server returned for this page, before de-duplication.
    pub rows_received: usize,
    /// For pages of an export: the cursor of this page's first row, and the
    /// row index of each record (rows skipped as duplicates have none).
    pub(crate) resume: Option<(Cursor, Vec<u32>)>,
}

impl Page {
    /// A cursor that resumes the export at `records[i]` (delivering it
    /// and everything after it again), for callers that stop mid-page.
    /// `None` for pages not produced by an export, or `i` past the end.
    pub fn cursor_at(&self, i: usize) -> Option<Cursor> {
        let (start, rows) = self.resume.as_ref()?;
        let row = *rows.get(i)?;
        Some(Cursor { offset: start.offset + row, ..*start })
    }

    /// Where an export resumes once `handed_out` records of `current` (the
    /// page being handed out; `None` before the first) were handed out:
    /// at the next record of that page, else at `after` (the export's
    /// cursor after it). The one rule every record iterator (Rust, Python,
    /// Node) uses for its `cursor`.
    pub fn resume_point(current: Option<&Page>, handed_out: usize, after: Option<Cursor>) -> Option<Cursor> {
        current.and_then(|page| page.cursor_at(handed_out)).or(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        let off = FixedOffset::east_opt(8 * 3600).unwrap();
        Record {
            email_id: Some("1$a@b.com".into()),
            status: Some("软退信".into()),
            category: Category::SoftBounce,
            sub_status: Some(SubStatus::from_code(503)),
            sub_status_description: Some("软退信-服务不可达".into()),
            api_user: Some("u".into()),
            recipient: Some("a@b.com".into()),
            request_time: Some(ServerTime::parse("2024-05-20 10:00:00", off)),
            modified_time: Some(ServerTime::parse("not a time", off)),
            send_log: Some("421".into()),
            extra: BTreeMap::from([("labelId".to_owned(), serde_json::json!(7))]),
        }
    }

    #[test]
    fn fields_are_the_serialized_keys_in_order() {
        let json = serde_json::to_string(&sample()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = Record::FIELDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(keys, sorted, "serde_json's map is sorted: the same set");
        // The text itself keeps FIELDS order.
        let positions: Vec<usize> = Record::FIELDS.iter().map(|k| json.find(&format!("\"{k}\":")).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert_eq!(value["request_time"], "2024-05-20T10:00:00+08:00");
        assert_eq!(value["modified_time"], "not a time");
        // `extra` is left out when empty.
        let plain = serde_json::to_value(Record { extra: BTreeMap::new(), ..sample() }).unwrap();
        assert_eq!(plain.as_object().unwrap().len(), Record::FIELDS.len() - 1);
        assert!(plain.get("extra").is_none());
        assert_eq!(RecordField::ALL.map(RecordField::name), Record::FIELDS);
    }

    #[test]
    fn descriptions_in_a_language_or_the_server_words() {
        use crate::status::Language;
        let r = sample();
        assert_eq!(r.describe(Wording::default()), "Soft bounce — server unreachable");
        assert_eq!(r.describe(Wording::Documented(Language::Chinese)), "软退信-服务不可达");
        assert_eq!(r.describe(Wording::Server), "软退信-服务不可达");
        let delivered =
            Record { category: Category::Delivered, status: Some("投递成功".into()), ..Record::default() };
        assert_eq!(delivered.describe(Wording::default()), "Delivered");
        assert_eq!(delivered.describe(Wording::Server), "投递成功");
        assert_eq!(Record::default().describe(Wording::Server), "");
    }

    #[test]
    fn the_resume_point_is_the_next_record_or_after_the_page() {
        let start: Cursor = "sc2.20240518-20240520.0.0.0.100.0000abcd".parse().unwrap();
        let after: Cursor = "sc2.20240518-20240520.0.0.0.200.0000abcd".parse().unwrap();
        let page = Page {
            total: None,
            records: Vec::new(), // moved out, as the iterators do
            position: Position::default(),
            pass: 0,
            window: None,
            rows_received: 4,
            // Row 1 was a duplicate: records are rows 0, 2, 3.
            resume: Some((start, vec![0, 2, 3])),
        };
        let at = |n, current: Option<&Page>| Page::resume_point(current, n, Some(after)).map(|c| c.offset());
        assert_eq!(at(0, Some(&page)), Some(100));
        assert_eq!(at(1, Some(&page)), Some(102));
        assert_eq!(at(2, Some(&page)), Some(103));
        assert_eq!(at(3, Some(&page)), Some(200), "all handed out: after the page");
        assert_eq!(at(0, None), Some(200), "before the first page: the export's cursor");
        assert_eq!(Page::resume_point(Some(&page), 3, None), None, "a complete export has none");
    }

    #[test]
    fn server_time_parses_documented_and_tolerated_forms() {
        let off = FixedOffset::east_opt(8 * 3600).unwrap();
        let t = ServerTime::parse("2016-10-18 09:31:59", off);
        assert_eq!(t.raw(), "2016-10-18 09:31:59");
        assert_eq!(t.to_rfc3339_or_raw(), "2016-10-18T09:31:59+08:00");
        assert_eq!(t.date(), NaiveDate::from_ymd_opt(2016, 10, 18));
        let t = ServerTime::parse("2016-10-18T09:31:59.250", off);
        assert!(t.datetime().is_some());
        assert_eq!(t.raw(), "2016-10-18T09:31:59.250");
        let d = ServerTime::parse("2016-10-18 09:31:59", off).datetime().unwrap();
        let t = ServerTime::from_datetime(d);
        assert_eq!(
            (t.raw(), t.to_rfc3339_or_raw()),
            ("2016-10-18 09:31:59".into(), "2016-10-18T09:31:59+08:00".into())
        );
        assert_eq!(t, ServerTime::parse("2016-10-18 09:31:59", off));
        for bad in ["", "2016-13-18 09:31:59", "yesterday", "2016-10-18 25:00:00"] {
            let t = ServerTime::parse(bad, off);
            assert_eq!(t.datetime(), None, "{bad}");
            assert_eq!(t.raw(), bad);
        }
    }
}
