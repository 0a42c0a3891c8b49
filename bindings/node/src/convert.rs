//! Core values → plain JS objects (camelCase fields). Built on the worker
//! thread where possible: these are ordinary Rust structs until napi turns
//! them into JS values on the main thread.

use napi_derive::napi;
use sendcloud_status::chrono::{DateTime, FixedOffset};
use sendcloud_status::core::report::{Summary, Suppression, SuppressionReason};
use sendcloud_status::{Category, Endpoint, ExportStats, Page, Record, ServerTime};

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// One email's delivery status.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct EmailRecord {
    /// `emailId` from the send API.
    pub email_id: Option<String>,
    /// `status` exactly as the server wrote it (display text).
    pub status: Option<String>,
    /// `delivered`, `invalid`, `soft_bounce`, `sending` or `unknown`.
    pub category: String,
    /// The bounce sub-status code.
    pub sub_status: Option<u32>,
    /// The server's description of the sub-status, else the documented one.
    pub sub_status_description: Option<String>,
    /// The apiUser that sent the email.
    pub api_user: Option<String>,
    /// The recipient address.
    pub recipient: Option<String>,
    /// `requestTime` with the server's offset applied.
    pub request_time: Option<DateTime<FixedOffset>>,
    /// `requestTime` as received.
    pub request_time_raw: Option<String>,
    /// `modifiedTime` with the server's offset applied.
    pub modified_time: Option<DateTime<FixedOffset>>,
    /// `modifiedTime` as received.
    pub modified_time_raw: Option<String>,
    /// The receiving server's answer.
    pub send_log: Option<String>,
    /// A permanent failure: stop mailing the recipient.
    pub should_suppress: bool,
    /// Row fields the library does not model, kept as received.
    pub extra: serde_json::Value,
}

impl From<Record> for EmailRecord {
    fn from(r: Record) -> Self {
        let should_suppress = r.should_suppress();
        let time = |t: &Option<ServerTime>| t.as_ref().and_then(ServerTime::datetime);
        let raw = |t: Option<ServerTime>| t.map(|t| t.raw().into_owned());
        EmailRecord {
            request_time: time(&r.request_time),
            modified_time: time(&r.modified_time),
            request_time_raw: raw(r.request_time),
            modified_time_raw: raw(r.modified_time),
            email_id: r.email_id,
            status: r.status,
            category: r.category.name().to_owned(),
            sub_status: r.sub_status.map(|s| u32::from(s.code())),
            sub_status_description: r.sub_status_description,
            api_user: r.api_user,
            recipient: r.recipient,
            send_log: r.send_log,
            should_suppress,
            extra: serde_json::Value::Object(r.extra.into_iter().collect()),
        }
    }
}

/// The date range of a page's window.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct DateRange {
    /// First day, `yyyy-MM-dd`.
    pub start_date: String,
    /// Last day, inclusive.
    pub end_date: String,
}

/// One page of results.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct PageResult {
    /// `info.total`: rows matching the request, when the server said.
    pub total: Option<i64>,
    /// The records.
    pub records: Vec<EmailRecord>,
    /// Rows the server returned.
    pub rows_received: i64,
    /// The window of the page when known (`null` for `days` sent as is).
    pub window: Option<DateRange>,
}

impl From<Page> for PageResult {
    fn from(mut p: Page) -> Self {
        let records = std::mem::take(&mut p.records).into_iter().map(EmailRecord::from).collect();
        PageResult {
            total: p.total.map(count),
            records,
            rows_received: i64::try_from(p.rows_received).unwrap_or(i64::MAX),
            window: p.window.map(|(s, e)| DateRange { start_date: s.to_string(), end_date: e.to_string() }),
        }
    }
}

/// A decoded body (`decodePage`).
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct DecodedPage {
    /// `info.total`.
    pub total: Option<i64>,
    /// `info.voListSize`.
    pub list_size: Option<i64>,
    /// The rows.
    pub records: Vec<EmailRecord>,
}

/// A window × `emailIds` chunk whose results were still moving after the
/// last re-read.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct UnstableUnit {
    /// First server day of the window, `yyyy-MM-dd`.
    pub start: String,
    /// Last server day of the window (inclusive).
    pub end: String,
    /// Index of the `emailIds` chunk (0 without `emailIds`).
    pub chunk: u32,
}

/// Counters of an export.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Requests sent, retries included.
    pub requests: i64,
    /// Requests that were retries.
    pub retries: i64,
    /// Rate-limit answers received.
    pub rate_limited: i64,
    /// Failed attempts of any kind.
    pub failures: i64,
    /// Records delivered.
    pub records: i64,
    /// Rows skipped as duplicates.
    pub duplicates: i64,
    /// Pages delivered.
    pub pages: i64,
    /// Passes over windows × chunks: one per unit read, plus every re-read.
    pub passes: i64,
    /// Windows × chunks read again because their results moved.
    pub units_reread: i64,
    /// How far `total` moved, summed over passes.
    pub total_drift: i64,
    /// Non-empty pages shorter than the page size while `total` said more remained.
    pub short_pages: i64,
    /// Empty pages while `total` said more remained.
    pub empty_pages: i64,
    /// Windows × chunks still moving after the last re-read (empty: exact).
    pub unstable_units: Vec<UnstableUnit>,
}

impl From<&ExportStats> for Stats {
    fn from(s: &ExportStats) -> Self {
        Stats {
            requests: count(s.requests),
            retries: count(s.retries),
            rate_limited: count(s.rate_limited),
            failures: count(s.failures),
            records: count(s.records),
            duplicates: count(s.duplicates),
            pages: count(s.pages),
            passes: count(s.passes),
            units_reread: count(s.units_reread),
            total_drift: count(s.total_drift),
            short_pages: count(s.short_pages),
            empty_pages: count(s.empty_pages),
            unstable_units: s
                .unstable_units
                .iter()
                .map(|u| UnstableUnit { start: u.start.to_string(), end: u.end.to_string(), chunk: u.chunk })
                .collect(),
        }
    }
}

/// Where requests go.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct EndpointInfo {
    /// The base URL, ending with `/`.
    pub base_url: String,
    /// The full URL of `data/emailStatus`.
    pub url: String,
    /// The longest window one request may span.
    pub max_window_days: u32,
    /// The region preset, `null` for custom URLs.
    pub region: Option<String>,
}

impl From<&Endpoint> for EndpointInfo {
    fn from(e: &Endpoint) -> Self {
        EndpointInfo {
            base_url: e.base_url().to_owned(),
            url: e.url(),
            max_window_days: e.max_window_days(),
            region: e.region().map(|r| r.name().to_owned()),
        }
    }
}

/// Counts per category.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct CategoryLine {
    /// The category.
    pub category: String,
    /// Records in it.
    pub count: i64,
    /// Share of all records (0..1).
    pub share: f64,
}

/// One sub-status line.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct SubStatusLine {
    /// The code.
    pub code: u32,
    /// English description.
    pub description: String,
    /// `permanent` or `temporary`.
    pub class: String,
    /// Records with it.
    pub count: i64,
    /// Share of all records.
    pub share: f64,
}

/// One server-local day.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct DayLine {
    /// `yyyy-MM-dd`.
    pub date: String,
    /// Records that day.
    pub total: i64,
    /// Delivered.
    pub delivered: i64,
    /// Invalid.
    pub invalid: i64,
    /// Soft bounces.
    pub soft_bounce: i64,
    /// Still sending.
    pub sending: i64,
    /// Unknown status.
    pub unknown: i64,
    /// Delivered ÷ (delivered + invalid + soft bounce).
    pub deliverability_rate: Option<f64>,
}

/// The deliverability summary (`report::Summary`).
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct SummaryResult {
    /// Records counted.
    pub total: i64,
    /// Delivered ÷ (delivered + invalid + soft bounce); `null` when none.
    pub deliverability_rate: Option<f64>,
    /// One line per category, in a fixed order.
    pub categories: Vec<CategoryLine>,
    /// Sub-statuses, most frequent first.
    pub sub_statuses: Vec<SubStatusLine>,
    /// Per day, oldest first.
    pub days: Vec<DayLine>,
    /// Records without a parseable request time.
    pub undated: i64,
}

impl From<&Summary> for SummaryResult {
    fn from(s: &Summary) -> Self {
        let counts = s.counts();
        SummaryResult {
            total: count(counts.total),
            deliverability_rate: counts.deliverability_rate(),
            categories: Category::ALL
                .iter()
                .map(|&c| CategoryLine {
                    category: c.name().to_owned(),
                    count: count(counts.get(c)),
                    share: s.share(c),
                })
                .collect(),
            sub_statuses: s
                .sub_statuses()
                .into_iter()
                .map(|l| SubStatusLine {
                    code: u32::from(l.code),
                    description: l.description,
                    class: l.class.to_owned(),
                    count: count(l.count),
                    share: l.share,
                })
                .collect(),
            days: s
                .days()
                .into_iter()
                .map(|d| DayLine {
                    date: d.date.to_string(),
                    total: count(d.counts.total),
                    delivered: count(d.counts.delivered),
                    invalid: count(d.counts.invalid),
                    soft_bounce: count(d.counts.soft_bounce),
                    sending: count(d.counts.sending),
                    unknown: count(d.counts.unknown),
                    deliverability_rate: d.deliverability_rate,
                })
                .collect(),
            undated: count(s.undated()),
        }
    }
}

/// One address to stop mailing (`report::Suppression`).
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct SuppressionEntry {
    /// The address, as the server wrote it.
    pub address: String,
    /// `permanent` or `repeated_soft_bounces`.
    pub reason: String,
    /// The latest sub-status code seen for it.
    pub code: Option<u32>,
    /// Its description.
    pub description: String,
    /// Failing records seen for the address.
    pub failures: i64,
    /// The latest failure, RFC 3339 with the server's offset (or as received).
    pub last_seen: Option<String>,
}

impl From<Suppression> for SuppressionEntry {
    fn from(s: Suppression) -> Self {
        SuppressionEntry {
            address: s.address,
            reason: match s.reason {
                SuppressionReason::RepeatedSoftBounces => "repeated_soft_bounces",
                _ => "permanent",
            }
            .to_owned(),
            code: s.code.map(u32::from),
            description: s.description,
            failures: count(s.failures),
            last_seen: s.last_seen,
        }
    }
}
