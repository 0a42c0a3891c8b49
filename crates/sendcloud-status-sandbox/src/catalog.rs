//! Fixed vocabulary of the simulated account: apiUsers, labels, status texts, address parts.

use crate::config::Language;

/// apiUsers of the simulated account, with their share of the traffic (percent).
pub(crate) const API_USERS: [(&str, u32); 4] =
    [(crate::config::DEMO_API_USER, 50), ("sandbox_mkt", 25), ("sandbox_tx", 20), ("sandbox_ops", 5)];

/// Shares (percent, in [`API_USERS`] order) of the apiUsers sending new mail on a live account:
/// mostly the demo user, so a query without `apiUserList` sees most of it.
pub(crate) const ARRIVAL_API_USER_WEIGHTS: [u32; 4] = [70, 15, 10, 5];

/// Labels of the account: id, name, share of the traffic (percent).
pub(crate) const LABELS: [(u64, &str, u32); 6] = [
    (1001, "newsletter", 30),
    (1002, "password-reset", 15),
    (1003, "order-confirmation", 20),
    (1004, "weekly-digest", 15),
    (1005, "promo-spring-sale", 10),
    (1006, "account-alert", 10),
];

/// Status codes as the `status` request parameter spells them.
pub(crate) const DELIVERED: u8 = 1;
pub(crate) const INVALID: u8 = 4;
pub(crate) const SOFT_BOUNCE: u8 = 5;
pub(crate) const SENDING: u8 = 18;

/// One sub-status: code, weight among its class (percent), English status text, English
/// description, Chinese description (the Chinese status text is the class prefix + this),
/// and an SMTP-like send log.
pub(crate) struct SubStatus {
    pub code: u16,
    pub weight: u32,
    pub en_status: &'static str,
    pub en_desc: &'static str,
    pub zh_desc: &'static str,
    pub send_log: &'static str,
}

const fn sub(
    code: u16,
    weight: u32,
    en_status: &'static str,
    en_desc: &'static str,
    zh_desc: &'static str,
    send_log: &'static str,
) -> SubStatus {
    SubStatus { code, weight, en_status, en_desc, zh_desc, send_log }
}

/// Status 4 (invalid email), docs/protocol.md §6; 406/404/401 are the commonest.
#[rustfmt::skip]
pub(crate) const INVALID_SUBS: [SubStatus; 9] = [
    sub(401, 15, "Invalid Mail - Platform Blacklist", "SendCloud Blacklist", "SendCloud黑名单中", "recipient is on the SendCloud blacklist"),
    sub(402, 8, "Invalid Mail - Unsubscribe", "Unsubscribe", "取消订阅", "recipient has unsubscribed"),
    sub(403, 6, "Invalid Mail - Server Unreachable", "Server Unreachable", "服务器不可达", "550 unable to connect to the recipient's mail server"),
    sub(404, 18, "Invalid Mail - Address Format Error", "Address Format Error", "地址格式错误", "501 5.1.3 bad recipient address syntax"),
    sub(405, 5, "Invalid Mail - IP/Domain Rejected", "IP, Domain Name Rejected", "IP、域名被拒", "554 5.7.1 client host rejected"),
    sub(406, 35, "Invalid Mail - Address Does Not Exist", "Address Does Not Exist", "地址不存在", "550 5.1.1 recipient address rejected: user unknown"),
    sub(407, 6, "Invalid Mail - Spam", "Spam", "垃圾邮件", "554 5.7.1 message rejected as spam"),
    sub(408, 4, "Invalid Mail - Sender/Recipient Rejected", "Sender/Recipient Rejected", "发件人/收件人被拒", "553 5.7.1 sender address rejected"),
    sub(409, 3, "Invalid Mail - Other", "Other", "其他", "550 5.0.0 rejected"),
];

/// Status 5 (soft bounce), docs/protocol.md §6.
#[rustfmt::skip]
pub(crate) const SOFT_SUBS: [SubStatus; 6] = [
    sub(503, 30, "Soft Bounce - Server Unreachable", "Server Unreachable", "服务不可达", "421 4.4.0 recipient mail server unreachable, will retry"),
    sub(505, 10, "Soft Bounce - IP/Domain Rejected", "IP, Domain Name Rejected", "IP、域名被拒", "451 4.7.1 client host temporarily rejected"),
    sub(506, 15, "Soft Bounce - Address Does Not Exist", "Address Does Not Exist", "邮箱地址不存在", "450 4.1.1 mailbox temporarily unavailable"),
    sub(507, 20, "Soft Bounce - Spam Rejection", "Spam Rejection", "反垃圾邮件被拒", "451 4.7.0 temporarily deferred as suspected spam"),
    sub(508, 10, "Soft Bounce - Sender/Recipient Rejected", "Sender/Recipient Rejected", "发件人/收件人被拒", "450 4.7.1 sender temporarily rejected"),
    sub(509, 15, "Soft Bounce - Other", "Other", "其他", "451 4.3.0 temporary failure"),
];

/// The table row of a sub-status code, if it is one of docs/protocol.md §6.
pub(crate) fn sub_status(code: u16) -> Option<&'static SubStatus> {
    INVALID_SUBS.iter().chain(SOFT_SUBS.iter()).find(|s| s.code == code)
}

/// The `status` display text of a row.
pub(crate) fn status_text(status: u8, sub: Option<u16>, lang: Language) -> String {
    let zh = lang == Language::Chinese;
    match (status, sub.and_then(sub_status)) {
        (INVALID, Some(s)) | (SOFT_BOUNCE, Some(s)) if !zh => s.en_status.to_string(),
        (INVALID, Some(s)) => format!("无效邮件-{}", s.zh_desc),
        (SOFT_BOUNCE, Some(s)) => format!("软退信-{}", s.zh_desc),
        (DELIVERED, _) if zh => "投递成功".to_string(),
        (DELIVERED, _) => "Delivered".to_string(),
        (SENDING, _) if zh => "请求中".to_string(),
        (SENDING, _) => "Sending".to_string(),
        (INVALID, None) if zh => "无效邮件".to_string(),
        (INVALID, None) => "Invalid Mail".to_string(),
        (_, None) if zh => "软退信".to_string(),
        _ => "Soft Bounce".to_string(),
    }
}

/// The `subStatusDesc` of a bounce row.
pub(crate) fn sub_status_desc(sub: u16, lang: Language) -> &'static str {
    match (sub_status(sub), lang) {
        (Some(s), Language::Chinese) => s.zh_desc,
        (Some(s), _) => s.en_desc,
        (None, _) => "",
    }
}

/// The `sendLog` of a row.
pub(crate) fn send_log(status: u8, sub: Option<u16>) -> &'static str {
    match (status, sub.and_then(sub_status)) {
        (DELIVERED, _) => "successfully delivered",
        (SENDING, _) => "",
        (_, Some(s)) => s.send_log,
        _ => "",
    }
}

/// Local parts of recipients; the pool index is appended so every address is unique. Some hold
/// `.`, `_`, `-` and `+` (which a client must percent-encode in a query string).
pub(crate) const NAMES: [&str; 10] =
    ["alice", "bob", "chen.wei", "li_na", "user", "zhang.san", "info+news", "o.brien", "wang-fang", "support"];

/// Domains of recipients (all reserved for documentation).
pub(crate) const DOMAINS: [&str; 5] =
    ["example.com", "example.net", "example.org", "mail.example.com", "mx.example.org"];

/// The address of recipient `r` of the pool.
pub(crate) fn recipient(r: u32) -> String {
    let r = r as usize;
    format!("{}{}@{}", NAMES[r % NAMES.len()], r, DOMAINS[(r / NAMES.len()) % DOMAINS.len()])
}

/// The pool index of an address (case-insensitive), if it is one [`recipient`] makes.
pub(crate) fn recipient_index(address: &str, pool: u32) -> Option<u32> {
    let lower = address.to_ascii_lowercase();
    let (local, _domain) = lower.split_once('@')?;
    let name = local.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &local[name.len()..];
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    let r: u32 = digits.parse().ok()?;
    (r < pool && recipient(r) == lower).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_round_trip() {
        for r in [0, 1, 9, 10, 57, 1234] {
            let a = recipient(r);
            assert_eq!(recipient_index(&a, 2000), Some(r));
            assert_eq!(recipient_index(&a.to_uppercase(), 2000), Some(r));
        }
        assert_eq!(recipient_index("alice0@example.com", 0), None);
        assert_eq!(recipient_index("alice00@example.com", 10), None);
        assert_eq!(recipient_index("alice1@example.com", 10), None); // 1 is bob
        assert_eq!(recipient_index("nobody", 10), None);
    }

    #[test]
    fn weights_are_percent() {
        assert_eq!(INVALID_SUBS.iter().map(|s| s.weight).sum::<u32>(), 100);
        assert_eq!(SOFT_SUBS.iter().map(|s| s.weight).sum::<u32>(), 100);
        assert_eq!(API_USERS.iter().map(|u| u.1).sum::<u32>(), 100);
        assert_eq!(ARRIVAL_API_USER_WEIGHTS.iter().sum::<u32>(), 100);
        assert_eq!(LABELS.iter().map(|l| l.2).sum::<u32>(), 100);
    }

    #[test]
    fn texts() {
        assert_eq!(status_text(4, Some(406), Language::Chinese), "无效邮件-地址不存在");
        assert_eq!(status_text(5, Some(503), Language::Chinese), "软退信-服务不可达");
        assert_eq!(status_text(4, Some(406), Language::English), "Invalid Mail - Address Does Not Exist");
        assert_eq!(status_text(5, Some(503), Language::English), "Soft Bounce - Server Unreachable");
        assert_eq!(status_text(1, None, Language::Chinese), "投递成功");
        assert_eq!(status_text(18, None, Language::English), "Sending");
    }
}
