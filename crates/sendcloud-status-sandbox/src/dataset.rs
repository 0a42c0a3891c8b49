//! The simulated account's records: generated deterministically, kept compact, sorted by time.
//!
//! A record is 24 bytes of integers; every string (emailId, recipient, texts) is derived on
//! demand from the record index and the seed. Records are generated already in order: record
//! `i` is sent at a strictly increasing millisecond, so ascending index is ascending
//! `(requestTime, emailId)` (the emailId starts with that millisecond), a date window is a
//! binary search, and no sort is needed at start-up. New mail (a live account) is appended at
//! later milliseconds, so the order holds. Records live in a copy-on-write [`Store`], so a
//! [`Dataset`] is a cheap snapshot of a changing account.

use std::io;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::catalog::{
    self, API_USERS, ARRIVAL_API_USER_WEIGHTS, DELIVERED, INVALID, INVALID_SUBS, LABELS, SENDING, SOFT_BOUNCE,
    SOFT_SUBS,
};
use crate::config::{DEMO_API_USER, Language, ResultOrder, TODAY_START_TIME};
use crate::rng::{hash, weighted};
use crate::store::Store;

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

// A million records stay about 24 MB.
const _: () = assert!(std::mem::size_of::<Rec>() == 24);

/// Ground truth: every record the simulated account holds (at one moment, for a live account).
///
/// Cloning is cheap (records are shared until one changes).
#[derive(Clone)]
pub struct Dataset {
    seed: u64,
    today: NaiveDate,
    first_day: NaiveDate,
    /// UTC epoch milliseconds of `first_day` 00:00:00 at UTC+8.
    start_epoch_ms: i64,
    pool: u32,
    order: ResultOrder,
    recs: Store<Rec>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("records", &self.recs.len())
            .field("seed", &self.seed)
            .field("first_day", &self.first_day)
            .field("today", &self.today)
            .field("recipients", &self.pool)
            .field("order", &self.order)
            .finish()
    }
}

/// One record as the server would describe it (typed, language-neutral).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroundRecord {
    /// Position in the account, oldest first (ascending `request_time`, then `email_id`),
    /// whatever the [`ResultOrder`]; [`Dataset::record`] takes it.
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
    /// The category a client derives from a record with this status code
    /// (a record's `status_code`, a [`Change`](crate::Change)'s), as our
    /// clients name it: `delivered`, `invalid`, `soft_bounce`, `sending`
    /// (`unknown` for any other code). What tests compare output with.
    pub fn category_name(status_code: u8) -> &'static str {
        match status_code {
            catalog::DELIVERED => "delivered",
            catalog::INVALID => "invalid",
            catalog::SOFT_BOUNCE => "soft_bounce",
            catalog::SENDING => "sending",
            _ => "unknown",
        }
    }
    /// A server-local time of this record (`request_time`, `modified_time`)
    /// as RFC 3339 at the server's offset, as our clients write it:
    /// `2024-05-20T10:02:31+08:00`.
    pub fn rfc3339(time: NaiveDateTime) -> String {
        time.format("%Y-%m-%dT%H:%M:%S+08:00").to_string()
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
    /// Generates the dataset of (`records`, `seed`, `today`, `days_of_data`) with the clock at
    /// `today` [`TODAY_START_TIME`], as [`SandboxConfig::with_today`](crate::SandboxConfig::with_today)
    /// does; see [`generate`](Self::generate).
    pub fn new(records: u64, seed: u64, today: NaiveDate, days_of_data: u32) -> io::Result<Dataset> {
        Self::generate(records, seed, today.and_time(TODAY_START_TIME), days_of_data)
    }

    /// Generates the dataset of (`records`, `seed`, `now`, `days_of_data`); same inputs, same
    /// records. `requestTime`s spread from 00:00 of the `days_of_data - 1`-th day before `now`'s
    /// date up to (and never after) `now`; no `modifiedTime` is after `now` either. Fails when `days_of_data` is 0 or there are more
    /// records than milliseconds in that span.
    pub fn generate(records: u64, seed: u64, now: NaiveDateTime, days_of_data: u32) -> io::Result<Dataset> {
        let invalid = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
        if days_of_data == 0 {
            return Err(invalid("days_of_data must be at least 1"));
        }
        let today = now.date();
        let first_day = today - Duration::days(i64::from(days_of_data) - 1);
        let start = first_day.and_time(NaiveTime::MIN);
        let span_ms = u64::try_from((now - start).num_milliseconds()).unwrap_or(0);
        if records > span_ms || records > u64::from(u32::MAX) {
            return Err(invalid(
                "too many records for the time span (at most one per millisecond from the first day up to now)",
            ));
        }
        let start_epoch_ms = start.and_utc().timestamp_millis() - SERVER_OFFSET_MS;

        // Recipient pool: ~5 mails per address. The first 8% are dead addresses (every mail to
        // them is invalid with the same sub-status), the next 5% flaky (they soft-bounce at
        // times); the rest deliver. So suppression and retry logic see repeats.
        let pool = (records / 5).max(20) as u32;
        let (bad, flaky) = pool_parts(pool);
        let healthy = u64::from(pool - bad);

        let api_weights = API_USERS.map(|u| u.1);
        let label_weights = LABELS.map(|l| l.2);
        let soft_weights = SOFT_SUBS.map(|s| s.weight);
        let n = u128::from(records);
        let mut base = 0u64;
        let recs = (0..records)
            .map(|i| {
                // Millisecond slots: record i lands in [base_i, base_{i+1}) ⊂ [0, span), so times
                // strictly increase and stay before `now`.
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
                // Nothing was modified after `now` either.
                let modified_s = modified_s.min(span_ms / 1000 - offset_ms / 1000) as u32;
                Rec { offset_ms, modified_s, recipient, sub, status, api_user, label }
            })
            .collect();
        Ok(Dataset { seed, today, first_day, start_epoch_ms, pool, order: ResultOrder::OldestFirst, recs })
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        self.recs.len() as u64
    }
    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.recs.len() == 0
    }
    /// The server's today (UTC+8) when this snapshot was taken.
    pub fn today(&self) -> NaiveDate {
        self.today
    }
    /// The order [`query`](Self::query) returns and the server pages.
    pub fn order(&self) -> ResultOrder {
        self.order
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
        let r = *self.recs.get(i)?;
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

    /// Ground truth for `filter`, in the order the server pages it (see [`order`](Self::order)).
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
            let Some(r) = self.recs.get(i as usize) else { continue };
            let day = self.local_time(r.offset_ms).date();
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
        if self.order == ResultOrder::NewestFirst {
            out.reverse();
        }
        out
    }

    // ---- crate-internal fast paths used by the server ----

    pub(crate) fn rec(&self, i: usize) -> &Rec {
        self.recs.get(i).expect("record index in range")
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

    // ---- crate-internal changes of a live account ----

    /// Milliseconds from `first_day` 00:00 to `t` (negative before it).
    pub(crate) fn offset_of(&self, t: NaiveDateTime) -> i64 {
        (t - self.first_day.and_time(NaiveTime::MIN)).num_milliseconds()
    }

    /// The millisecond of the newest record, if any.
    pub(crate) fn last_offset(&self) -> Option<u64> {
        self.recs.last().map(|r| r.offset_ms)
    }

    pub(crate) fn set_today(&mut self, today: NaiveDate) {
        self.today = today;
    }

    pub(crate) fn set_order(&mut self, order: ResultOrder) {
        self.order = order;
    }

    /// Appends a new "sending" record at `offset_ms` (after every other record), drawn from
    /// `h` like generated mail but mostly from the demo apiUser; returns its index.
    pub(crate) fn arrive(&mut self, offset_ms: u64, h: u64) -> usize {
        debug_assert!(self.last_offset().is_none_or(|last| offset_ms > last));
        let (bad, _) = pool_parts(self.pool);
        let healthy = u64::from(self.pool - bad);
        let label_weights = LABELS.map(|l| l.2);
        self.recs.push(Rec {
            offset_ms,
            modified_s: 0,
            recipient: bad + ((h >> 32) % healthy) as u32,
            sub: 0,
            status: SENDING,
            api_user: weighted(&ARRIVAL_API_USER_WEIGHTS, h % 100) as u8,
            label: weighted(&label_weights, (h >> 8) % 100) as u8,
        });
        self.recs.len() - 1
    }

    /// Gives record `i` its final `status` and `sub` (0: none), modified at `at`.
    pub(crate) fn settle(&mut self, i: usize, status: u8, sub: u16, at: NaiveDateTime) {
        let at_s = u64::try_from(self.offset_of(at)).unwrap_or(0) / 1000;
        if let Some(r) = self.recs.get_mut(i) {
            r.status = status;
            r.sub = sub;
            r.modified_s = u32::try_from(at_s.saturating_sub(r.offset_ms / 1000)).unwrap_or(u32::MAX);
        }
    }

    /// The emailId of record `i` (empty when out of range).
    pub(crate) fn email_id_of(&self, i: usize) -> String {
        if i < self.recs.len() { self.email_id(i) } else { String::new() }
    }

    /// `1425758592214_4576_32113_9310.sc-10_10_127_105-inbound0$ben@ifaxin.com` style; unique
    /// because the leading epoch millisecond is.
    fn email_id(&self, i: usize) -> String {
        let r = self.rec(i);
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

/// How many of a pool's addresses are dead and how many flaky (the rest are healthy).
fn pool_parts(pool: u32) -> (u32, u32) {
    ((pool * 8 / 100).max(1), (pool * 5 / 100).max(1))
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
                    let t = d.local_time(d.rec(i).offset_ms).date();
                    t >= day(s) && t <= day(e)
                })
                .collect();
            assert_eq!(r.clone().collect::<Vec<_>>(), scan, "{s}..{e}");
        }
    }

    #[test]
    fn rejects_impossible_sizes() {
        assert!(Dataset::new(10, 1, day("2024-05-10"), 0).is_err());
        // with_today's clock is at noon: half a day of milliseconds on a one-day account
        assert!(Dataset::new(43_200_001, 1, day("2024-05-10"), 1).is_err());
        // one second after midnight: a thousand milliseconds
        let now: NaiveDateTime = "2024-05-10T00:00:01".parse().unwrap();
        assert!(Dataset::generate(1_001, 1, now, 1).is_err());
        let full = Dataset::generate(1_000, 1, now, 1).unwrap();
        assert!(full.record(999).unwrap().request_time < now);
    }

    #[test]
    fn never_dated_after_now() {
        let now: NaiveDateTime = "2024-05-10T08:40:00".parse().unwrap();
        let d = Dataset::generate(20_000, 9, now, 3).unwrap();
        let last = d.record(d.len() - 1).unwrap();
        assert!(last.request_time <= now, "{}", last.request_time);
        assert!((0..d.len()).all(|i| d.record(i).unwrap().modified_time <= now));
        assert!(last.request_time > now - Duration::minutes(5), "the span ends at now: {}", last.request_time);
        assert_eq!(d.first_day(), day("2024-05-08"));
        assert_eq!(d.record(0).unwrap().request_time.date(), day("2024-05-08"));
        assert_eq!(d.today(), day("2024-05-10"));
        let again = Dataset::generate(20_000, 9, now, 3).unwrap();
        assert_eq!(d.record(1234), again.record(1234));
    }

    #[test]
    fn arrivals_append_and_settles_change_in_place() {
        let now: NaiveDateTime = "2024-05-10T08:40:00".parse().unwrap();
        let mut d = Dataset::generate(1_000, 9, now, 2).unwrap();
        let snapshot = d.clone();
        let at = now + Duration::seconds(5);
        let i = d.arrive(d.offset_of(at) as u64, 77);
        assert_eq!(i as u64, snapshot.len());
        let g = d.record(i as u64).unwrap();
        assert_eq!((g.status_code, g.request_time, g.modified_time), (SENDING, at, at));
        assert_eq!(d.locate_email_id(&g.email_id), Some(i));
        assert!(g.email_id.starts_with(&(d.start_epoch_ms + d.offset_of(at)).to_string()));
        d.settle(i, INVALID, 406, at + Duration::seconds(61));
        let g = d.record(i as u64).unwrap();
        assert_eq!((g.status_code, g.sub_status), (INVALID, Some(406)));
        assert_eq!(g.modified_time, at + Duration::seconds(61));
        assert_eq!(snapshot.record(i as u64), None, "the snapshot does not see the change");
        d.set_order(ResultOrder::NewestFirst);
        let f = Filter::days(day("2024-05-10"), 2).with_api_users(d.api_users());
        let newest = d.query(&f);
        assert_eq!(newest[0].index, i as u64);
        let mut oldest = newest.clone();
        oldest.reverse();
        d.set_order(ResultOrder::OldestFirst);
        assert_eq!(d.query(&f), oldest);
    }
}
