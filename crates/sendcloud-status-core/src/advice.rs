//! Soft-bounce retry advice: given a soft-bounced record and how often it
//! was already retried, when to send again — or to stop trying.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};

use crate::record::Record;
use crate::status::SubStatus;

/// When to retry soft bounces: the wait after the bounce before each retry.
///
/// The default waits 1 h, 4 h, 12 h, then 24 h, and gives up after that;
/// a soft "address does not exist" (506) gets a single retry, since it
/// usually turns permanent (`docs/protocol.md` §12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
    single_retry: Vec<SubStatus>,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        let h = |n: u64| Duration::from_secs(n * 3600);
        RetrySchedule { delays: vec![h(1), h(4), h(12), h(24)], single_retry: vec![SubStatus::SoftAddressNotExist] }
    }
}

/// The advice for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryAdvice {
    /// Send again after `after` (counted from the bounce); `at` is that
    /// time when the record's time parsed.
    Retry {
        /// Wait after the bounce.
        after: Duration,
        /// The bounce time plus the wait, in the server's offset.
        at: Option<DateTime<FixedOffset>>,
    },
    /// The schedule is used up: treat the address as failing and consider
    /// suppressing it.
    GiveUp,
    /// The record is not a soft bounce.
    NotSoftBounce,
}

impl RetrySchedule {
    /// A schedule with these waits (retry n waits `delays[n]`).
    pub fn new(delays: Vec<Duration>) -> Self {
        RetrySchedule { delays, single_retry: Vec::new() }
    }

    /// The waits.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// Advice for `record` after `retries_done` earlier retries.
    ///
    /// ```
    /// # use sendcloud_status_core::{Decoder, RetrySchedule, RetryAdvice};
    /// let body = r#"{"result":true,"statusCode":200,"info":{"voList":[
    ///   {"emailId":"1$a@b.c","status":"软退信-服务不可达","subStatus":503,"modifiedTime":"2024-05-01 10:00:00"}]}}"#;
    /// let page = Decoder::default().decode(200, body.as_bytes()).unwrap();
    /// let advice = RetrySchedule::default().advise(&page.records[0], 0);
    /// let RetryAdvice::Retry { at: Some(at), .. } = advice else { panic!() };
    /// assert_eq!(at.to_rfc3339(), "2024-05-01T11:00:00+08:00");
    /// assert_eq!(RetrySchedule::default().advise(&page.records[0], 4), RetryAdvice::GiveUp);
    /// ```
    pub fn advise(&self, record: &Record, retries_done: u32) -> RetryAdvice {
        if !record.is_soft_bounce() {
            return RetryAdvice::NotSoftBounce;
        }
        let allowed = match record.sub_status {
            Some(s) if self.single_retry.contains(&s) => self.delays.len().min(1),
            _ => self.delays.len(),
        };
        let Some(&after) = self.delays.get(retries_done as usize).filter(|_| (retries_done as usize) < allowed) else {
            return RetryAdvice::GiveUp;
        };
        let bounced = record.modified_time.as_ref().or(record.request_time.as_ref()).and_then(|t| t.datetime());
        let at = bounced.and_then(|t| chrono::Duration::from_std(after).ok().and_then(|d| t.checked_add_signed(d)));
        RetryAdvice::Retry { after, at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Decoder;

    fn record(status: &str, sub: &str) -> Record {
        let body = format!(
            r#"{{"result":true,"statusCode":200,"info":{{"voList":[{{"status":"{status}","subStatus":{sub},"requestTime":"2024-05-01 10:00:00"}}]}}}}"#
        );
        Decoder::default().decode(200, body.as_bytes()).unwrap().records.remove(0)
    }

    #[test]
    fn follows_the_schedule_then_gives_up() {
        let r = record("软退信-其他", "509");
        let s = RetrySchedule::default();
        let afters: Vec<_> = (0..5)
            .map(|n| match s.advise(&r, n) {
                RetryAdvice::Retry { after, .. } => Some(after.as_secs() / 3600),
                _ => None,
            })
            .collect();
        assert_eq!(afters, [Some(1), Some(4), Some(12), Some(24), None]);
        // Falls back to the request time when there is no modified time.
        let RetryAdvice::Retry { at: Some(at), .. } = s.advise(&r, 1) else { panic!() };
        assert_eq!(at.to_rfc3339(), "2024-05-01T14:00:00+08:00");
    }

    #[test]
    fn soft_not_exist_gets_one_retry_and_others_none() {
        let s = RetrySchedule::default();
        assert!(matches!(s.advise(&record("x", "506"), 0), RetryAdvice::Retry { .. }));
        assert_eq!(s.advise(&record("x", "506"), 1), RetryAdvice::GiveUp);
        assert_eq!(s.advise(&record("无效邮件-地址不存在", "406"), 0), RetryAdvice::NotSoftBounce);
        assert_eq!(s.advise(&record("投递成功", "null"), 0), RetryAdvice::NotSoftBounce);
        assert_eq!(RetrySchedule::new(vec![]).advise(&record("x", "503"), 0), RetryAdvice::GiveUp);
    }
}
