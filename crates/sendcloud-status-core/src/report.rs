//! What the vendor's guide asks users to do with the data, as aggregates any
//! front end can fill record by record: a deliverability [`Summary`], a
//! [`Suppressions`] list of addresses to stop mailing, and [`SoftBounces`]
//! with the next retry time.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::advice::{RetryAdvice, RetrySchedule};
use crate::record::{Record, ServerTime};
use crate::status::{BounceClass, Category, Language, SubStatus, Wording};

/// Counts per category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryCounts {
    /// Records counted.
    pub total: u64,
    /// Delivered.
    pub delivered: u64,
    /// Invalid (permanent failure).
    pub invalid: u64,
    /// Soft bounce (temporary failure).
    pub soft_bounce: u64,
    /// Still sending.
    pub sending: u64,
    /// Unknown status.
    pub unknown: u64,
}

impl CategoryCounts {
    fn add(&mut self, c: Category) {
        self.total += 1;
        *self.slot(c) += 1;
    }

    fn slot(&mut self, c: Category) -> &mut u64 {
        match c {
            Category::Delivered => &mut self.delivered,
            Category::Invalid => &mut self.invalid,
            Category::SoftBounce => &mut self.soft_bounce,
            Category::Sending => &mut self.sending,
            _ => &mut self.unknown,
        }
    }

    /// The count of one category.
    pub fn get(&self, c: Category) -> u64 {
        match c {
            Category::Delivered => self.delivered,
            Category::Invalid => self.invalid,
            Category::SoftBounce => self.soft_bounce,
            Category::Sending => self.sending,
            _ => self.unknown,
        }
    }

    /// Delivered ÷ (delivered + invalid + soft bounce): the share of emails
    /// with a final outcome that arrived. Emails still sending and unknown
    /// statuses are left out. `None` when nothing has an outcome yet.
    pub fn deliverability_rate(&self) -> Option<f64> {
        let decided = self.delivered + self.invalid + self.soft_bounce;
        (decided > 0).then(|| self.delivered as f64 / decided as f64)
    }
}

/// One sub-status line of a summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubStatusCount {
    /// The code.
    pub code: u16,
    /// Description (English unless [`Summary::with_language`] says otherwise).
    pub description: String,
    /// `permanent` or `temporary`.
    pub class: &'static str,
    /// Records with this sub-status.
    pub count: u64,
    /// Share of all records.
    pub share: f64,
}

/// One day of a summary (server-local calendar day of the request time).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySummary {
    /// The day.
    pub date: NaiveDate,
    /// Counts per category.
    #[serde(flatten)]
    pub counts: CategoryCounts,
    /// Deliverability of the day.
    pub deliverability_rate: Option<f64>,
}

/// Deliverability at a glance: counts and shares by category and
/// sub-status, per day.
///
/// ```
/// # use sendcloud_status_core::{Decoder, report::Summary};
/// let body = r#"{"result":true,"statusCode":200,"info":{"voList":[
///   {"status":"投递成功","requestTime":"2024-05-01 10:00:00"},
///   {"status":"无效邮件-地址不存在","subStatus":406,"requestTime":"2024-05-01 11:00:00"}]}}"#;
/// let mut s = Summary::default();
/// for r in &Decoder::default().decode(200, body.as_bytes()).unwrap().records { s.add(r); }
/// assert_eq!(s.counts().total, 2);
/// assert_eq!(s.counts().deliverability_rate(), Some(0.5));
/// assert_eq!(s.sub_statuses()[0].code, 406);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Summary {
    counts: CategoryCounts,
    sub_status: BTreeMap<SubStatus, u64>,
    days: BTreeMap<NaiveDate, CategoryCounts>,
    undated: u64,
    language: Language,
}

impl Summary {
    /// Describes the sub-statuses in `lang` (default English). A count holds
    /// codes, not the server's words, so there is no server wording here.
    pub fn with_language(mut self, lang: Language) -> Self {
        self.language = lang;
        self
    }

    /// Counts one record.
    pub fn add(&mut self, record: &Record) {
        self.counts.add(record.category);
        if let Some(s) = record.sub_status {
            *self.sub_status.entry(s).or_default() += 1;
        }
        match record.request_time.as_ref().and_then(ServerTime::date) {
            Some(day) => self.days.entry(day).or_default().add(record.category),
            None => self.undated += 1,
        }
    }

    /// Totals per category.
    pub fn counts(&self) -> &CategoryCounts {
        &self.counts
    }

    /// Share of all records in a category (0 when empty).
    pub fn share(&self, c: Category) -> f64 {
        share(self.counts.get(c), self.counts.total)
    }

    /// Sub-statuses, most frequent first (described in English unless
    /// [`with_language`](Self::with_language) says otherwise).
    pub fn sub_statuses(&self) -> Vec<SubStatusCount> {
        let mut v: Vec<SubStatusCount> = self
            .sub_status
            .iter()
            .map(|(&s, &count)| SubStatusCount {
                code: s.code(),
                description: s.describe(self.language),
                class: match s.class() {
                    Some(BounceClass::Permanent) => "permanent",
                    Some(BounceClass::Temporary) => "temporary",
                    _ => "unknown",
                },
                count,
                share: share(count, self.counts.total),
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
        v
    }

    /// Per day, oldest first.
    pub fn days(&self) -> Vec<DaySummary> {
        self.days
            .iter()
            .map(|(&date, counts)| DaySummary {
                date,
                deliverability_rate: counts.deliverability_rate(),
                counts: counts.clone(),
            })
            .collect()
    }

    /// Records without a parseable request time (not in any day).
    pub fn undated(&self) -> u64 {
        self.undated
    }
}

/// `{total, deliverability_rate, categories: [{category, count, share}],
/// sub_statuses: [...], days: [...]}`.
impl Serialize for Summary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Line {
            category: &'static str,
            count: u64,
            share: f64,
        }
        #[derive(Serialize)]
        struct Out {
            total: u64,
            deliverability_rate: Option<f64>,
            categories: Vec<Line>,
            sub_statuses: Vec<SubStatusCount>,
            days: Vec<DaySummary>,
        }
        Out {
            total: self.counts.total,
            deliverability_rate: self.counts.deliverability_rate(),
            categories: Category::ALL
                .iter()
                .map(|&c| Line { category: c.name(), count: self.counts.get(c), share: self.share(c) })
                .collect(),
            sub_statuses: self.sub_statuses(),
            days: self.days(),
        }
        .serialize(s)
    }
}

fn share(n: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { n as f64 / total as f64 }
}

/// Why an address is on the suppression list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SuppressionReason {
    /// A permanent failure (invalid email, 4xx).
    Permanent,
    /// Soft bounces at least the configured number of times.
    RepeatedSoftBounces,
}

/// One address to stop mailing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppression {
    /// The address (as the server wrote it; matched case-insensitively).
    pub address: String,
    /// Why.
    pub reason: SuppressionReason,
    /// The latest sub-status code seen for it, when any.
    pub code: Option<u16>,
    /// The description of that code (or the raw status text).
    pub description: String,
    /// How many failing records were seen for the address.
    pub failures: u64,
    /// The latest failure's time, RFC 3339 (or as received).
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone)]
struct Failures {
    address: String,
    permanent: bool,
    soft: u64,
    hard: u64,
    last: Option<(Option<ServerTime>, Option<SubStatus>, Option<String>)>,
}

/// The unique addresses that should no longer be mailed: every permanent
/// failure, and optionally addresses that soft-bounced repeatedly.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    soft_bounce_threshold: Option<u64>,
    wording: Wording,
    by_address: HashMap<String, Failures>,
}

impl Suppressions {
    /// Permanent failures only.
    pub fn new() -> Self {
        Suppressions::default()
    }

    /// How the entries' descriptions are worded (default: the documented English).
    pub fn with_wording(mut self, wording: Wording) -> Self {
        self.wording = wording;
        self
    }

    /// Also list addresses with at least `n` soft bounces (n ≥ 1).
    pub fn with_soft_bounce_threshold(mut self, n: u64) -> Self {
        self.soft_bounce_threshold = Some(n.max(1));
        self
    }

    /// Takes one record into account.
    pub fn add(&mut self, record: &Record) {
        let hard = record.should_suppress();
        if !hard && !record.is_soft_bounce() {
            return;
        }
        let Some(address) = record.recipient.as_deref().map(str::trim).filter(|a| !a.is_empty()) else { return };
        let entry = self.by_address.entry(address.to_lowercase()).or_insert_with(|| Failures {
            address: address.to_owned(),
            permanent: false,
            soft: 0,
            hard: 0,
            last: None,
        });
        if hard {
            entry.hard += 1;
        } else {
            entry.soft += 1;
        }
        // Keep the latest failure; a permanent one wins over soft ones.
        let newer = match (&entry.last, &record.modified_time.clone().or(record.request_time.clone())) {
            (Some((Some(a), _, _)), Some(b)) => b.datetime() >= a.datetime(),
            _ => true,
        };
        if (hard && !entry.permanent) || (newer && hard == entry.permanent) {
            entry.last = Some((
                record.modified_time.clone().or(record.request_time.clone()),
                record.sub_status,
                server_text(record),
            ));
        }
        entry.permanent |= hard;
    }

    /// The list, sorted by address.
    pub fn entries(&self) -> Vec<Suppression> {
        let mut out: Vec<Suppression> = self
            .by_address
            .values()
            .filter_map(|f| {
                let reason = if f.permanent {
                    SuppressionReason::Permanent
                } else if self.soft_bounce_threshold.is_some_and(|n| f.soft >= n) {
                    SuppressionReason::RepeatedSoftBounces
                } else {
                    return None;
                };
                let (time, sub, text) = f.last.clone().unwrap_or((None, None, None));
                Some(Suppression {
                    address: f.address.clone(),
                    reason,
                    code: sub.map(SubStatus::code),
                    description: describe(sub, text, self.wording),
                    failures: f.hard + f.soft,
                    last_seen: time.map(|t| t.to_rfc3339_or_raw()),
                })
            })
            .collect();
        out.sort_by_key(|s| s.address.to_lowercase());
        out
    }
}

/// One soft-bounced address and when to retry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoftBounce {
    /// The address.
    pub address: String,
    /// Soft bounces seen for it.
    pub bounces: u64,
    /// The latest sub-status code.
    pub code: Option<u16>,
    /// Its description.
    pub description: String,
    /// The latest bounce time, RFC 3339.
    pub last_bounce: Option<String>,
    /// `retry` or `give_up`.
    pub advice: &'static str,
    /// When to retry (RFC 3339), for `retry`.
    pub retry_at: Option<String>,
    /// Seconds to wait after the latest bounce, for `retry`.
    pub retry_after_seconds: Option<u64>,
}

/// Soft-bounced addresses with the next retry time from a
/// [`RetrySchedule`]: the earlier bounces of an address count as retries
/// already made.
#[derive(Debug, Clone, Default)]
pub struct SoftBounces {
    schedule: RetrySchedule,
    wording: Wording,
    by_address: HashMap<String, (u64, Record)>,
}

impl SoftBounces {
    /// With this schedule.
    pub fn new(schedule: RetrySchedule) -> Self {
        SoftBounces { schedule, wording: Wording::default(), by_address: HashMap::new() }
    }

    /// How the entries' descriptions are worded (default: the documented English).
    pub fn with_wording(mut self, wording: Wording) -> Self {
        self.wording = wording;
        self
    }

    /// Takes one record into account (others than soft bounces are ignored).
    pub fn add(&mut self, record: &Record) {
        if !record.is_soft_bounce() {
            return;
        }
        let Some(address) = record.recipient.as_deref().map(str::trim).filter(|a| !a.is_empty()) else { return };
        let time = |r: &Record| r.modified_time.as_ref().or(r.request_time.as_ref()).and_then(ServerTime::datetime);
        match self.by_address.get_mut(&address.to_lowercase()) {
            Some((n, last)) => {
                *n += 1;
                if time(record) >= time(last) {
                    *last = record.clone();
                }
            }
            None => {
                self.by_address.insert(address.to_lowercase(), (1, record.clone()));
            }
        }
    }

    /// The addresses, sorted, with advice.
    pub fn entries(&self) -> Vec<SoftBounce> {
        let mut out: Vec<SoftBounce> = self
            .by_address
            .values()
            .map(|(n, last)| {
                let advice = self.schedule.advise(last, u32::try_from(n - 1).unwrap_or(u32::MAX));
                let (word, at, after) = match advice {
                    RetryAdvice::Retry { after, at } => ("retry", at.map(|t| t.to_rfc3339()), Some(after.as_secs())),
                    _ => ("give_up", None, None),
                };
                SoftBounce {
                    address: last.recipient.clone().unwrap_or_default(),
                    bounces: *n,
                    code: last.sub_status.map(SubStatus::code),
                    description: describe(last.sub_status, server_text(last), self.wording),
                    last_bounce: last
                        .modified_time
                        .as_ref()
                        .or(last.request_time.as_ref())
                        .map(ServerTime::to_rfc3339_or_raw),
                    advice: word,
                    retry_at: at,
                    retry_after_seconds: after,
                }
            })
            .collect();
        out.sort_by_key(|s| s.address.to_lowercase());
        out
    }
}

/// The server's own words for a record: its sub-status text, else its status text.
fn server_text(record: &Record) -> Option<String> {
    record.sub_status_description.clone().or_else(|| record.status.clone())
}

/// A report entry's description: the documented text of its sub-status in
/// the chosen language, or the server's words — each the fallback of the other.
fn describe(sub: Option<SubStatus>, server_text: Option<String>, wording: Wording) -> String {
    let documented = |lang| sub.map(|s| s.describe(lang));
    match wording {
        Wording::Documented(lang) => documented(lang).or(server_text),
        _ => server_text.or_else(|| documented(Language::English)),
    }
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Decoder;

    fn rows(json_rows: &str) -> Vec<Record> {
        let body = format!(r#"{{"result":true,"statusCode":200,"info":{{"voList":[{json_rows}]}}}}"#);
        Decoder::default().decode(200, body.as_bytes()).unwrap().records
    }

    #[test]
    fn summary_counts_shares_and_days() {
        let records = rows(
            r#"{"status":"投递成功","requestTime":"2024-05-01 10:00:00"},
               {"status":"投递成功","requestTime":"2024-05-02 10:00:00"},
               {"status":"x","subStatus":503,"requestTime":"2024-05-02 11:00:00"},
               {"status":"请求中","requestTime":"2024-05-02 12:00:00"},
               {"status":"???"}"#,
        );
        let mut s = Summary::default();
        records.iter().for_each(|r| s.add(r));
        assert_eq!(s.counts().total, 5);
        assert_eq!(s.counts().deliverability_rate(), Some(2.0 / 3.0));
        assert_eq!(s.share(Category::Unknown), 0.2);
        let days = s.days();
        assert_eq!(days.len(), 2);
        assert_eq!((days[1].counts.total, days[1].counts.soft_bounce), (3, 1));
        assert_eq!(days[1].deliverability_rate, Some(0.5));
        assert_eq!(s.undated(), 1);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["categories"][0]["category"], "delivered");
        assert_eq!(json["sub_statuses"][0]["class"], "temporary");
        assert_eq!(json["days"][0]["delivered"], 1);
    }

    #[test]
    fn report_descriptions_follow_the_chosen_wording() {
        let records = rows(
            r#"{"recipients":"a@x.com","status":"软退信","subStatus":506,"subStatusDesc":"mailbox gone (server)",
                "modifiedTime":"2024-05-01 10:00:00"},
               {"recipients":"b@x.com","status":"无效邮件","subStatus":406,"modifiedTime":"2024-05-01 11:00:00"}"#,
        );
        let zh = Wording::Documented(Language::Chinese);
        let (en_506, zh_506) = (
            SubStatus::from_code(506).describe(Language::English),
            SubStatus::from_code(506).describe(Language::Chinese),
        );
        assert_ne!(en_506, zh_506);

        let mut soft = SoftBounces::new(RetrySchedule::default()).with_wording(zh);
        let mut soft_server = SoftBounces::new(RetrySchedule::default()).with_wording(Wording::Server);
        let mut soft_en = SoftBounces::new(RetrySchedule::default());
        let mut sup = Suppressions::new().with_soft_bounce_threshold(1).with_wording(Wording::Server);
        let mut summary = Summary::default();
        for r in &records {
            soft.add(r);
            soft_server.add(r);
            soft_en.add(r);
            sup.add(r);
            summary.add(r);
        }
        assert_eq!(soft.entries()[0].description, zh_506);
        assert_eq!(soft_en.entries()[0].description, en_506);
        assert_eq!(soft_server.entries()[0].description, "mailbox gone (server)");
        // The server's words; where it sent none, the decoder filled in the documented English.
        let by_address: Vec<(String, String)> = sup.entries().into_iter().map(|e| (e.address, e.description)).collect();
        let en_406 = SubStatus::from_code(406).describe(Language::English);
        assert_eq!(
            by_address,
            [("a@x.com".to_owned(), "mailbox gone (server)".to_owned()), ("b@x.com".to_owned(), en_406)]
        );
        assert!(summary.sub_statuses().iter().any(|c| c.description == en_506));
        let summary = summary.with_language(Language::Chinese);
        assert!(summary.sub_statuses().iter().any(|c| c.description == zh_506));
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["sub_statuses"][0]["description"], summary.sub_statuses()[0].description.as_str());
    }

    #[test]
    fn suppressions_are_unique_and_optionally_include_soft_repeats() {
        let records = rows(
            r#"{"recipients":"A@x.com","subStatus":406,"modifiedTime":"2024-05-01 10:00:00"},
               {"recipients":"a@x.com","subStatus":401,"modifiedTime":"2024-05-02 10:00:00"},
               {"recipients":"b@x.com","subStatus":503},
               {"recipients":"b@x.com","subStatus":509},
               {"recipients":"c@x.com","subStatus":503},
               {"recipients":"d@x.com","status":"投递成功"}"#,
        );
        let mut hard = Suppressions::new();
        let mut both = Suppressions::new().with_soft_bounce_threshold(2);
        for r in &records {
            hard.add(r);
            both.add(r);
        }
        let h = hard.entries();
        assert_eq!(h.len(), 1);
        assert_eq!((h[0].code, h[0].failures, h[0].reason), (Some(401), 2, SuppressionReason::Permanent));
        let b = both.entries();
        assert_eq!(b.iter().map(|s| s.address.as_str()).collect::<Vec<_>>(), ["A@x.com", "b@x.com"]);
        assert_eq!(b[1].reason, SuppressionReason::RepeatedSoftBounces);
    }

    #[test]
    fn soft_bounces_count_earlier_bounces_as_retries() {
        let records = rows(
            r#"{"recipients":"b@x.com","subStatus":503,"modifiedTime":"2024-05-01 10:00:00"},
               {"recipients":"b@x.com","subStatus":509,"modifiedTime":"2024-05-01 12:00:00"},
               {"recipients":"c@x.com","subStatus":506,"modifiedTime":"2024-05-01 10:00:00"},
               {"recipients":"c@x.com","subStatus":506,"modifiedTime":"2024-05-01 11:00:00"},
               {"recipients":"d@x.com","subStatus":406}"#,
        );
        let mut s = SoftBounces::default();
        records.iter().for_each(|r| s.add(r));
        let e = s.entries();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].bounces, e[0].code, e[0].advice), (2, Some(509), "retry"));
        assert_eq!(e[0].retry_at.as_deref(), Some("2024-05-01T16:00:00+08:00")); // second retry: +4 h
        assert_eq!(e[1].advice, "give_up"); // 506 gets one retry only
    }
}
