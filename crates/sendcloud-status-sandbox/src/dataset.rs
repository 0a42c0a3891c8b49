//! The simulated account's records: generated deterministically, kept compact, sorted by time.
//!
//! A record is 24 bytes of integers; every string (emailId, recipient, texts) is derived on
//! demand from the record index and the seed. Records are generated already in order: record
//! `i` is sent at a strictly increasing millisecond, so ascending index is ascending
//! `(requestTime, emailId)` (the emailId starts with that millisecond), a date window is a
//! binary search, and no sort is needed at start-up.

use std::io;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::catalog::{self, API_USERS, DELIVERED, INVALID, INVALID_SUBS, LABELS, SENDING, SOFT_BOUNCE, SOFT_SUBS};
use crate::config::{DEMO_API_USER, Language};
use crate::rng::{hash, weighted};

const MS_PER_DAY: u64 = 86_400_000;
/// The server clock runs at UTC+8; emailIds carry real (UTC) epoch milliseconds.
const SERVER_OFFSET_MS: i64 = 8 * 3_600_000;

/// One record, compact. `sub == 0` means no sub-status.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rec {
    /// Milliseconds since `first_day` 00:00:00 server time.
    pub offset_ms: u64,
    /// `modifiedTime - requestTime`, seconds.
    pub modified_s: u32,
    /// Index into the recipient pool.
    pub recipient: u32,
    pub sub: u16,
    pub status: u8,
    /// Index into [`API_USERS`].
    pub api_user: u8,
    /// Index into [`LABELS`].
    pub label: u8,
}

/// Ground truth: every record the simulated account holds.
pub struct Dataset {
    seed: u64,
    today: NaiveDate,
    first_day: NaiveDate,
    /// UTC epoch milliseconds of `first_day` 00:00:00 at UTC+8.
    start_epoch_ms: i64,
    pool: u32,
    recs: Vec<Rec>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("records", &self.recs.len())
            .field("seed", &self.seed)
            .field("first_day", &self.first_day)
            .field("today", &self.today)
            .field("recipients", &self.pool)
            .finish()
    }
}

/// One record as the server would describe it (typed, language-neutral).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroundRecord {
    /// Position in the server's order (ascending `request_time`, then `email_id`).
    pub index: u64,
    /// Unique id as the send API returns it (holds `$`, `@`, `.`, `_`, `-`).
    pub email_id: String,
    /// 1 delivered, 4 invalid, 5 soft bounce, 18 sending.
    pub status_code: u8,
    /// 401–409 for status 4, 503/505–509 for status 5, `None` otherwise.
    pub sub_status: Option<u16>,
    /// The apiUser that sent it.
    pub api_user: String,
    /// The recipient address (the `recipients` field of a row).
    pub recipient: String,
    /// Label id.
    pub label_id: u64,
    /// Label name.
    pub label_name: String,
    /// Server-local (UTC+8) request time, whole seconds.
    pub request_time: NaiveDateTime,
    /// Server-local (UTC+8) last-modified time, whole seconds.
    pub modified_time: NaiveDateTime,
    /// The `sendLog` text.
    pub send_log: String,
}

impl GroundRecord {
    /// The `status` display text the server sends for this record.
    pub fn status_text(&self, language: Language) -> String {
        catalog::status_text(self.status_code, self.sub_status, language)
    }
    /// The `subStatusDesc` the server sends (empty for delivered/sending).
    pub fn sub_status_desc(&self, language: Language) -> &'static str {
        self.sub_status.map_or("", |s| catalog::sub_status_desc(s, language))
    }
}

/// A query over the ground truth, with the server's semantics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// First day (requestTime date, server time), inclusive.
    pub start_date: NaiveDate,
    /// Last day, inclusive. Any span is allowed here (the server limits it).
    pub end_date: NaiveDate,
    /// 1, 4, 5 or 18.
    pub status: Option<u8>,
    /// Any of these sub-statuses (empty: no constraint).
    pub sub_status: Vec<u16>,
    /// Exact recipient, case-insensitive.
    pub email: Option<String>,
    /// Any of these emailIds, exact (empty: no constraint).
    pub email_ids: Vec<String>,
    /// Exact label id; wins over `label_name`.
    pub label_id: Option<u64>,
    /// Case-insensitive substring of the label name (used when `label_id` is `None`).
    pub label_name: Option<String>,
    /// apiUsers to include. **Empty means the server's default: only the calling
    /// [`DEMO_API_USER`]**, as when no `apiUserList` is sent.
    pub api_users: Vec<String>,
}

impl Filter {
    /// Everything of the default apiUser between two dates (inclusive).
    pub fn dates(start_date: NaiveDate, end_date: NaiveDate) -> Filter {
        Filter { start_date, end_date, ..Filter::default() }
    }
    /// The window `days=N` means on `today`.
    pub fn days(today: NaiveDate, days: u32) -> Filter {
        let start = today - Duration::days(i64::from(days.max(1)) - 1);
        Filter::dates(start, today)
    }
    /// Sets `status`.
    pub fn with_status(mut self, status: u8) -> Self {
        self.status = Some(status);
        self
    }
    /// Sets `sub_status`.
    pub fn with_sub_status(mut self, subs: impl IntoIterator<Item = u16>) -> Self {
        self.sub_status = subs.into_iter().collect();
        self
    }
    /// Sets `email`.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
    /// Sets `email_ids`.
    pub fn with_email_ids<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.email_ids = ids.into_iter().map(Into::into).collect();
        self
    }
    /// Sets `label_id`.
    pub fn with_label_id(mut self, id: u64) -> Self {
        self.label_id = Some(id);
        self
    }
    /// Sets `label_name`.
    pub fn with_label_name(mut self, name: impl Into<String>) -> Self {
        self.label_name = Some(name.into());
        self
    }
    /// Sets `api_users`.
    pub fn with_api_users<S: Into<String>>(mut self, users: impl IntoIterator<Item = S>) -> Self {
        self.api_users = users.into_iter().map(Into::into).collect();
        self
    }
}

impl Dataset {
    /// Generates the dataset of (`records`, `seed`, `today`, `days_of_data`); same inputs, same
    /// records. Fails when `days_of_data` is 0 or there are more records than milliseconds.
    pub fn new(records: u64, seed: u64, today: NaiveDate, days_of_data: u32) -> io::Result<Dataset> {
        let invalid = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
        if days_of_data == 0 {
            return Err(invalid("days_of_data must be at least 1"));
        }
        let span_ms = u64::from(days_of_data) * MS_PER_DAY;
        if records > span_ms || records > u64::from(u32::MAX) {
            return Err(invalid("too many records for the time span (at most one per millisecond)"));
        }
        let first_day = today - Duration::days(i64::from(days_of_data) - 1);
        let start_epoch_ms = first_day.and_time(NaiveTime::MIN).and_utc().timestamp_millis() - SERVER_OFFSET_MS;

        // Recipient pool: ~5 mails per address. The first 8% are dead addresses (every mail to
        // them is invalid with the same sub-status), the next 5% flaky (they soft-bounce at
        // times); the rest deliver. So suppression and retry logic see repeats.
        let pool = (records / 5).max(20) as u32;
        let bad = (pool * 8 / 100).max(1);
        let flaky = (pool * 5 / 100).max(1);
        let healthy = u64::from(pool - bad);

        let api_weights = API_USERS.map(|u| u.1);
        let label_weights = LABELS.map(|l| l.2);
        let soft_weights = SOFT_SUBS.map(|s| s.weight);
        let n = u128::from(records);
        let mut recs = Vec::with_capacity(records as usize);
        let mut base = 0u64;
        for i in 0..records {
            // Millisecond slots: record i lands in [base_i, base_{i+1}), so times strictly increase.
            let next = ((u128::from(i + 1) * u128::from(span_ms)) / n) as u64;
            let width = (next - base).max(1);
            let h1 = hash(seed, i, 1);
            let h2 = hash(seed, i, 2);
            let offset_ms = base + h1 % width;
            base = next;

            let api_user = weighted(&api_weights, (h2 >> 20) % 100) as u8;
            let label = weighted(&label_weights, (h2 >> 30) % 100) as u8;
            let roll = h2 % 10_000;
            let pick = h1 >> 32;
            let (status, sub, recipient, modified_s) = if roll < 8_500 {
                (DELIVERED, 0, bad + (pick % healthy) as u32, 1 + (h2 >> 40) % 20)
            } else if roll < 9_300 {
                let r = (pick % u64::from(bad)) as u32;
                (INVALID, dead_sub_status(seed, r), r, 1 + (h2 >> 40) % 60)
            } else if roll < 9_800 {
                let s = SOFT_SUBS[weighted(&soft_weights, (h2 >> 40) % 100)].code;
                (SOFT_BOUNCE, s, bad + (pick % u64::from(flaky)) as u32, 60 + (h2 >> 48) % 3_600)
            } else {
                (SENDING, 0, bad + (pick % healthy) as u32, 0)
            };
            recs.push(Rec { offset_ms, modified_s: modified_s as u32, recipient, sub, status, api_user, label });
        }
        Ok(Dataset { seed, today, first_day, start_epoch_ms, pool, recs })
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        self.recs.len() as u64
    }
    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }
    /// The server's today (UTC+8).
    pub fn today(&self) -> NaiveDate {
        self.today
    }
    /// The oldest day holding records.
    pub fn first_day(&self) -> NaiveDate {
        self.first_day
    }
    /// The seed it was generated from.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Number of distinct recipient addresses in the pool.
    pub fn recipient_pool(&self) -> u32 {
        self.pool
    }
    /// apiUsers of the account (the first is [`DEMO_API_USER`]).
    pub fn api_users(&self) -> Vec<&'static str> {
        API_USERS.iter().map(|u| u.0).collect()
    }
    /// Labels of the account: `(labelId, labelName)`.
    pub fn labels(&self) -> Vec<(u64, &'static str)> {
        LABELS.iter().map(|l| (l.0, l.1)).collect()
    }

    /// Record `index` in server order.
    pub fn record(&self, index: u64) -> Option<GroundRecord> {
        let i = usize::try_from(index).ok()?;
        let r = self.recs.get(i)?;
        let request_time = self.local_time(r.offset_ms);
        let (label_id, label_name, _) = LABELS[r.label as usize];
        let sub_status = (r.sub != 0).then_some(r.sub);
        Some(GroundRecord {
            index,
            email_id: self.email_id(i),
            status_code: r.status,
            sub_status,
            api_user: API_USERS[r.api_user as usize].0.to_string(),
            recipient: catalog::recipient(r.recipient),
            label_id,
            label_name: label_name.to_string(),
            request_time,
            modified_time: request_time + Duration::seconds(i64::from(r.modified_s)),
            send_log: catalog::send_log(r.status, sub_status).to_string(),
        })
    }

    /// Ground truth for `filter`, in the order the server pages it.
    ///
    /// Deliberately a plain scan over typed records, independent of the server's binary search,
    /// index cache and id lookup, so tests comparing the two check both.
    pub fn query(&self, filter: &Filter) -> Vec<GroundRecord> {
        let email = filter.email.as_ref().map(|e| e.to_ascii_lowercase());
        let label_name = filter.label_name.as_ref().map(|n| n.to_lowercase());
        let users: Vec<&str> = if filter.api_users.is_empty() {
            vec![DEMO_API_USER]
        } else {
            filter.api_users.iter().map(String::as_str).collect()
        };
        let mut out = Vec::new();
        for i in 0..self.len() {
            let day = self.local_time(self.recs[i as usize].offset_ms).date();
            if day < filter.start_date || day > filter.end_date {
                continue;
            }
            let Some(g) = self.record(i) else { continue };
            let label_ok = match (filter.label_id, &label_name) {
                (Some(id), _) => g.label_id == id,
                (None, Some(name)) => g.label_name.to_lowercase().contains(name.as_str()),
                (None, None) => true,
            };
            if filter.status.is_none_or(|s| s == g.status_code)
                && (filter.sub_status.is_empty() || g.sub_status.is_some_and(|s| filter.sub_status.contains(&s)))
                && email.as_ref().is_none_or(|e| g.recipient.eq_ignore_ascii_case(e))
                && (filter.email_ids.is_empty() || filter.email_ids.contains(&g.email_id))
                && label_ok
                && users.contains(&g.api_user.as_str())
            {
                out.push(g);
            }
        }
        out
    }

    // ---- crate-internal fast paths used by the server ----

    pub(crate) fn rec(&self, i: usize) -> &Rec {
        &self.recs[i]
    }

    /// Index range of records whose requestTime date is in `[start, end]`.
    pub(crate) fn date_range(&self, start: NaiveDate, end: NaiveDate) -> std::ops::Range<usize> {
        let day_ms = |d: NaiveDate| (d - self.first_day).num_days().max(0) as u64 * MS_PER_DAY;
        let lo = self.recs.partition_point(|r| r.offset_ms < day_ms(start));
        let hi = self.recs.partition_point(|r| r.offset_ms < day_ms(end + Duration::days(1)));
        if end < self.first_day { 0..0 } else { lo..hi.max(lo) }
    }

    /// The pool index of a recipient address, if it is in the pool.
    pub(crate) fn recipient_index(&self, address: &str) -> Option<u32> {
        catalog::recipient_index(address, self.pool)
    }

    /// The record index of an emailId, found from its leading timestamp.
    pub(crate) fn locate_email_id(&self, id: &str) -> Option<usize> {
        let ms: i64 = id.split('_').next()?.parse().ok()?;
        let offset = u64::try_from(ms - self.start_epoch_ms).ok()?;
        let i = self.recs.partition_point(|r| r.offset_ms < offset);
        (self.recs.get(i)?.offset_ms == offset && self.email_id(i) == id).then_some(i)
    }

    fn local_time(&self, offset_ms: u64) -> NaiveDateTime {
        self.first_day.and_time(NaiveTime::MIN) + Duration::seconds((offset_ms / 1000) as i64)
    }

    /// `1425758592214_4576_32113_9310.sc-10_10_127_105-inbound0$ben@ifaxin.com` style; unique
    /// because the leading epoch millisecond is.
    fn email_id(&self, i: usize) -> String {
        let r = &self.recs[i];
        let h = hash(self.seed, i as u64, 4);
        format!(
            "{}_{}_{}_{}.sc-10_10_{}_{}-inbound{}${}",
            self.start_epoch_ms + r.offset_ms as i64,
            1000 + h % 9000,
            (h >> 14) % 100_000,
            (h >> 31) % 10_000,
            1 + (h >> 45) % 254,
            1 + (h >> 53) % 254,
            (h >> 61) % 4,
            catalog::recipient(r.recipient),
        )
    }
}

/// The fixed sub-status of a dead address: mail to it always fails the same way.
fn dead_sub_status(seed: u64, recipient: u32) -> u16 {
    let weights = INVALID_SUBS.map(|s| s.weight);
    INVALID_SUBS[weighted(&weights, hash(seed, u64::from(recipient), 7) % 100)].code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn deterministic_per_seed() {
        let a = Dataset::new(500, 7, day("2024-05-10"), 30).unwrap();
        let b = Dataset::new(500, 7, day("2024-05-10"), 30).unwrap();
        let c = Dataset::new(500, 8, day("2024-05-10"), 30).unwrap();
        let all = |d: &Dataset| (0..d.len()).map(|i| d.record(i).unwrap()).collect::<Vec<_>>();
        assert_eq!(all(&a), all(&b));
        assert_ne!(all(&a), all(&c));
    }

    #[test]
    fn ordered_unique_and_in_window() {
        let d = Dataset::new(5_000, 1, day("2024-05-10"), 30).unwrap();
        let all: Vec<_> = (0..d.len()).map(|i| d.record(i).unwrap()).collect();
        for w in all.windows(2) {
            assert!((&w[0].request_time, &w[0].email_id) < (&w[1].request_time, &w[1].email_id));
        }
        assert!(all[0].request_time.date() >= day("2024-04-11"));
        assert!(all.last().unwrap().request_time.date() <= day("2024-05-10"));
        for g in &all {
            assert!(g.modified_time >= g.request_time);
            for c in ['$', '@', '.', '_', '-'] {
                assert!(g.email_id.contains(c));
            }
            assert_eq!(d.locate_email_id(&g.email_id), Some(g.index as usize));
        }
    }

    #[test]
    fn realistic_mix_and_repeats() {
        let d = Dataset::new(20_000, 3, day("2024-05-10"), 30).unwrap();
        let mut counts = std::collections::HashMap::new();
        let mut addrs = std::collections::HashMap::new();
        for i in 0..d.len() {
            let r = d.rec(i as usize);
            *counts.entry(r.status).or_insert(0u32) += 1;
            if r.status == INVALID {
                *addrs.entry(r.recipient).or_insert(0u32) += 1;
            }
        }
        let pct = |s: u8| f64::from(counts[&s]) / 200.0;
        assert!((pct(1) - 85.0).abs() < 1.5, "{counts:?}");
        assert!((pct(4) - 8.0).abs() < 1.0, "{counts:?}");
        assert!((pct(5) - 5.0).abs() < 1.0, "{counts:?}");
        assert!((pct(18) - 2.0).abs() < 0.7, "{counts:?}");
        assert!(addrs.values().any(|&n| n > 2), "dead addresses repeat");
    }

    #[test]
    fn date_range_matches_scan() {
        let d = Dataset::new(3_000, 5, day("2024-05-10"), 10).unwrap();
        for (s, e) in [
            ("2024-05-01", "2024-05-01"),
            ("2024-05-03", "2024-05-05"),
            ("2024-04-01", "2024-04-30"),
            ("2024-05-10", "2024-05-20"),
        ] {
            let r = d.date_range(day(s), day(e));
            let scan: Vec<usize> = (0..d.recs.len())
                .filter(|&i| {
                    let t = d.local_time(d.recs[i].offset_ms).date();
                    t >= day(s) && t <= day(e)
                })
                .collect();
            assert_eq!(r.clone().collect::<Vec<_>>(), scan, "{s}..{e}");
        }
    }

    #[test]
    fn rejects_impossible_sizes() {
        assert!(Dataset::new(10, 1, day("2024-05-10"), 0).is_err());
        assert!(Dataset::new(86_400_001, 1, day("2024-05-10"), 1).is_err());
    }
}
