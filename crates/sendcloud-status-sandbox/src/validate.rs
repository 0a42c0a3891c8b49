//! Request parameters → a checked [`Query`] or the API error the server answers.
//!
//! Checks run in this order; the first failure answers. Codes marked *sandbox* are not
//! documented by the vendor for this case; the sandbox picked them.
//!
//! | check | code |
//! |---|---|
//! | `start` empty / not an integer ≥ 0 | 40001 / 40002 |
//! | `limit` empty / not in 1..=100 | 40003 / 40004 |
//! | `days` empty or not an integer > 0; `days` together with `startDate`/`endDate`; neither `days` nor any date (*sandbox*) | 40006 |
//! | `startDate` missing (only `endDate` sent), empty or not `yyyy-MM-dd` | 40007 |
//! | `endDate` missing (only `startDate` sent), empty or not `yyyy-MM-dd` | 40008 |
//! | `startDate > endDate`; span over the window (`endDate − startDate > max − 1`); `days > max` (*sandbox*) | 40008 |
//! | `apiUserList` empty / names an apiUser not in the account | 40010 / 40016 |
//! | `email` empty / without `@` | 40011 / 40012 |
//! | `emailIds` empty (or only `;`) (*sandbox*) | 40009 |
//! | `labelId` empty / not an integer / unknown | 40014 / 40015 / 40103 |
//! | `labelName` empty, when sent without `labelId` (*sandbox*) | 40014 |
//! | `status` empty or not 1, 4, 5, 18 (*sandbox*) | 40013 |
//! | `subStatus` empty or a part not an integer (*sandbox*) | 40017 |
//!
//! `labelId` wins over `labelName`: with a valid `labelId`, `labelName` is not even checked.
//! Unknown parameters are ignored. `;`-joined lists skip empty parts.

use chrono::NaiveDate;

use crate::catalog::{API_USERS, LABELS};

/// Merged request parameters (URL query first, then form body; the last occurrence wins).
#[derive(Debug, Default)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// An API error: code and message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub code: i64,
    pub en: String,
    pub zh: String,
}

fn err(code: i64, en: impl Into<String>, zh: impl Into<String>) -> ApiError {
    ApiError { code, en: en.into(), zh: zh.into() }
}

/// How the label is constrained.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum LabelSel {
    Any,
    /// Bit mask of label indices (from an exact id or a fuzzy name).
    Mask(u8),
}

/// A validated query.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub start: u64,
    pub limit: u64,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub status: Option<u8>,
    pub subs: Vec<u16>,
    pub email: Option<String>,
    pub email_ids: Vec<String>,
    pub label: LabelSel,
    /// Bit mask of apiUser indices.
    pub users: u8,
}

/// The authentication check, kept apart because it runs before the rate limiter.
pub(crate) fn authenticate(p: &Params) -> Result<(), ApiError> {
    let user_ok = p.get("apiUser") == Some(crate::DEMO_API_USER);
    let key_ok = p.get("apiKey") == Some(crate::DEMO_API_KEY);
    if user_ok && key_ok { Ok(()) } else { Err(err(40005, "authentication failed", "认证失败")) }
}

/// Checks everything but credentials.
pub(crate) fn validate(p: &Params, today: NaiveDate, max_window: u32) -> Result<Query, ApiError> {
    let start = match p.get("start") {
        None => 0,
        Some("") => return Err(err(40001, "start cannot be empty", "start不能为空")),
        Some(v) => parse_uint(v).ok_or_else(|| err(40002, "start is invalid", "start格式错误"))?,
    };
    let limit = match p.get("limit") {
        None => 100,
        Some("") => return Err(err(40003, "limit cannot be empty", "limit不能为空")),
        Some(v) => parse_uint(v)
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| err(40004, "limit is invalid, it must be 1-100", "limit格式错误, 取值1-100"))?,
    };
    let (first, last) = window(p, today, max_window)?;

    let users = match p.get("apiUserList") {
        None => 1, // the calling apiUser only
        Some(v) => {
            let names: Vec<&str> = split_list(v);
            if names.is_empty() {
                return Err(err(40010, "apiUserList cannot be empty", "apiUserList不能为空"));
            }
            let mut mask = 0u8;
            for name in names {
                let i = API_USERS
                    .iter()
                    .position(|u| u.0 == name)
                    .ok_or_else(|| err(40016, "apiUserList is invalid", "apiUserList无效"))?;
                mask |= 1 << i;
            }
            mask
        }
    };
    let email = match p.get("email") {
        None => None,
        Some("") => return Err(err(40011, "email cannot be empty", "email不能为空")),
        Some(v) if !v.contains('@') => return Err(err(40012, "email is invalid", "email格式错误")),
        Some(v) => Some(v.to_string()),
    };
    let email_ids = match p.get("emailIds") {
        None => Vec::new(),
        Some(v) => {
            let ids: Vec<String> = split_list(v).into_iter().map(str::to_string).collect();
            if ids.is_empty() {
                return Err(err(40009, "emailIds cannot be empty", "emailIds不能为空"));
            }
            ids
        }
    };
    let label = label(p)?;
    let status = match p.get("status") {
        None => None,
        Some(v) => Some(
            v.parse::<u8>()
                .ok()
                .filter(|s| [1, 4, 5, 18].contains(s))
                .ok_or_else(|| err(40013, "status is invalid, it must be 1, 4, 5 or 18", "status格式错误"))?,
        ),
    };
    let subs = match p.get("subStatus") {
        None => Vec::new(),
        Some(v) => {
            let bad = || err(40017, "subStatus is invalid", "subStatus格式错误");
            let parts = split_list(v);
            if parts.is_empty() {
                return Err(bad());
            }
            parts.iter().map(|s| s.parse::<u16>().map_err(|_| bad())).collect::<Result<Vec<_>, _>>()?
        }
    };
    Ok(Query { start, limit, first, last, status, subs, email, email_ids, label, users })
}

/// `days` or `startDate`+`endDate` → inclusive first and last day.
fn window(p: &Params, today: NaiveDate, max_window: u32) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let span_err = || {
        err(
            40008,
            format!("the time span cannot exceed {max_window} days, and startDate must not be after endDate"),
            format!("时间跨度不能超过{max_window}天, 且startDate不能晚于endDate"),
        )
    };
    let (sd, ed) = (p.get("startDate"), p.get("endDate"));
    if let Some(days) = p.get("days") {
        let days = parse_uint(days)
            .filter(|&d| d > 0)
            .ok_or_else(|| err(40006, "days must be an integer greater than 0", "days必须为大于0的整数"))?;
        if sd.is_some() || ed.is_some() {
            return Err(err(
                40006,
                "send either days or startDate and endDate, not both",
                "days与startDate/endDate只能选其一",
            ));
        }
        if days > u64::from(max_window) {
            return Err(span_err());
        }
        return Ok((today - chrono::Duration::days(days as i64 - 1), today));
    }
    if sd.is_none() && ed.is_none() {
        return Err(err(40006, "days or startDate and endDate is required", "days或startDate与endDate必须提供其一"));
    }
    let first = sd.and_then(parse_date).ok_or_else(|| {
        err(40007, "startDate is invalid, the format is like 2013-03-19", "startDate格式错误, 格式如2013-03-19")
    })?;
    let last = ed.and_then(parse_date).ok_or_else(|| {
        err(40008, "endDate is invalid, the format is like 2013-03-19", "endDate格式错误, 格式如2013-03-19")
    })?;
    if first > last || (last - first).num_days() > i64::from(max_window) - 1 {
        return Err(span_err());
    }
    Ok((first, last))
}

fn label(p: &Params) -> Result<LabelSel, ApiError> {
    if let Some(v) = p.get("labelId") {
        if v.is_empty() {
            return Err(err(40014, "labelId cannot be empty", "labelId不能为空"));
        }
        let id = parse_uint(v).ok_or_else(|| err(40015, "labelId is invalid", "labelId格式错误"))?;
        let i =
            LABELS.iter().position(|l| l.0 == id).ok_or_else(|| err(40103, "label does not exist", "标签不存在"))?;
        return Ok(LabelSel::Mask(1 << i));
    }
    match p.get("labelName") {
        None => Ok(LabelSel::Any),
        Some("") => Err(err(40014, "labelName cannot be empty", "labelName不能为空")),
        Some(name) => {
            let name = name.to_lowercase();
            let mask = LABELS
                .iter()
                .enumerate()
                .filter(|(_, l)| l.1.to_lowercase().contains(&name))
                .fold(0u8, |m, (i, _)| m | 1 << i);
            Ok(LabelSel::Mask(mask))
        }
    }
}

/// Digits only: no sign, no spaces, no fraction.
fn parse_uint(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Exactly `yyyy-MM-dd`.
fn parse_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()
}

fn split_list(v: &str) -> Vec<&str> {
    v.split(';').filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }
    fn code(pairs: &[(&str, &str)]) -> i64 {
        let today: NaiveDate = "2024-05-10".parse().unwrap();
        match validate(&params(pairs), today, 3) {
            Ok(_) => 200,
            Err(e) => e.code,
        }
    }

    #[test]
    fn codes() {
        assert_eq!(code(&[("days", "1")]), 200);
        assert_eq!(code(&[("days", "1"), ("start", "")]), 40001);
        assert_eq!(code(&[("days", "1"), ("start", "-1")]), 40002);
        assert_eq!(code(&[("days", "1"), ("limit", "")]), 40003);
        assert_eq!(code(&[("days", "1"), ("limit", "0")]), 40004);
        assert_eq!(code(&[("days", "1"), ("limit", "101")]), 40004);
        assert_eq!(code(&[("days", "0")]), 40006);
        assert_eq!(code(&[("days", "x")]), 40006);
        assert_eq!(code(&[]), 40006);
        assert_eq!(code(&[("days", "1"), ("startDate", "2024-05-10")]), 40006);
        assert_eq!(code(&[("days", "4")]), 40008);
        assert_eq!(code(&[("startDate", "2024-5-1"), ("endDate", "2024-05-01")]), 40007);
        assert_eq!(code(&[("endDate", "2024-05-01")]), 40007);
        assert_eq!(code(&[("startDate", "2024-05-01")]), 40008);
        assert_eq!(code(&[("startDate", "2024-05-01"), ("endDate", "2024-02-30")]), 40008);
        assert_eq!(code(&[("startDate", "2024-05-01"), ("endDate", "2024-05-03")]), 200);
        assert_eq!(code(&[("startDate", "2024-05-01"), ("endDate", "2024-05-04")]), 40008);
        assert_eq!(code(&[("startDate", "2024-05-02"), ("endDate", "2024-05-01")]), 40008);
        assert_eq!(code(&[("days", "1"), ("apiUserList", ";")]), 40010);
        assert_eq!(code(&[("days", "1"), ("apiUserList", "sandbox_mkt;nobody")]), 40016);
        assert_eq!(code(&[("days", "1"), ("email", "")]), 40011);
        assert_eq!(code(&[("days", "1"), ("email", "x")]), 40012);
        assert_eq!(code(&[("days", "1"), ("emailIds", "")]), 40009);
        assert_eq!(code(&[("days", "1"), ("labelId", "")]), 40014);
        assert_eq!(code(&[("days", "1"), ("labelId", "x")]), 40015);
        assert_eq!(code(&[("days", "1"), ("labelId", "9")]), 40103);
        assert_eq!(code(&[("days", "1"), ("labelId", "1001"), ("labelName", "")]), 200);
        assert_eq!(code(&[("days", "1"), ("labelName", "")]), 40014);
        assert_eq!(code(&[("days", "1"), ("status", "2")]), 40013);
        assert_eq!(code(&[("days", "1"), ("subStatus", "40x")]), 40017);
        assert_eq!(code(&[("days", "1"), ("ignored", "")]), 200);
    }

    #[test]
    fn last_occurrence_wins_and_auth() {
        let p = params(&[("apiUser", "x"), ("apiUser", crate::DEMO_API_USER), ("apiKey", crate::DEMO_API_KEY)]);
        assert!(authenticate(&p).is_ok());
        assert_eq!(authenticate(&params(&[("apiUser", crate::DEMO_API_USER)])).unwrap_err().code, 40005);
    }
}
