//! The status model: the `status` filter codes, the derived [`Category`] of a
//! record, and the [`SubStatus`] table of `docs/protocol.md` §6.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result, ValidationReason};

/// The values of the `status` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// `1`: delivered.
    Delivered,
    /// `4`: invalid email (permanent failure).
    Invalid,
    /// `5`: soft bounce (temporary failure).
    SoftBounce,
    /// `18`: sending / requesting.
    Sending,
}

impl Status {
    /// Every filterable status.
    pub const ALL: [Status; 4] = [Status::Delivered, Status::Invalid, Status::SoftBounce, Status::Sending];

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            Status::Delivered => 1,
            Status::Invalid => 4,
            Status::SoftBounce => 5,
            Status::Sending => 18,
        }
    }

    /// The status for a wire code.
    pub fn from_code(code: u8) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// `delivered`, `invalid`, `soft_bounce` or `sending`.
    pub fn name(self) -> &'static str {
        Category::from(self).name()
    }
}

impl FromStr for Status {
    type Err = Error;
    /// Accepts the names (`soft_bounce`, `soft-bounce`, any case) and codes.
    fn from_str(s: &str) -> Result<Self> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        let found = match norm.as_str() {
            "delivered" | "1" => Some(Status::Delivered),
            "invalid" | "4" => Some(Status::Invalid),
            "soft_bounce" | "5" => Some(Status::SoftBounce),
            "sending" | "18" => Some(Status::Sending),
            _ => None,
        };
        found.ok_or_else(|| {
            Error::invalid_value(
                "status",
                ValidationReason::UnknownName,
                format!("{s:?} is not one of delivered, invalid, soft_bounce (or soft-bounce), sending"),
            )
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// What happened to an email, derived from a record (`docs/protocol.md` §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Category {
    /// Accepted by the recipient's server.
    Delivered,
    /// Permanent failure: stop mailing the address.
    Invalid,
    /// Temporary failure: retry later.
    SoftBounce,
    /// Still being sent.
    Sending,
    /// The status text and sub-status matched nothing known.
    Unknown,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 5] =
        [Category::Delivered, Category::Invalid, Category::SoftBounce, Category::Sending, Category::Unknown];

    /// `delivered`, `invalid`, `soft_bounce`, `sending` or `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            Category::Delivered => "delivered",
            Category::Invalid => "invalid",
            Category::SoftBounce => "soft_bounce",
            Category::Sending => "sending",
            Category::Unknown => "unknown",
        }
    }

    /// A short label for people: `Delivered`, `Invalid`, `Soft bounce`,
    /// `Sending`, `Unknown` (or the vendor console's Chinese words).
    pub fn label(self, lang: Language) -> &'static str {
        match (self, lang) {
            (Category::Delivered, Language::English) => "Delivered",
            (Category::Invalid, Language::English) => "Invalid",
            (Category::SoftBounce, Language::English) => "Soft bounce",
            (Category::Sending, Language::English) => "Sending",
            (Category::Unknown, Language::English) => "Unknown",
            (Category::Delivered, Language::Chinese) => "送达",
            (Category::Invalid, Language::Chinese) => "无效邮件",
            (Category::SoftBounce, Language::Chinese) => "软退信",
            (Category::Sending, Language::Chinese) => "请求中",
            (Category::Unknown, Language::Chinese) => "未知",
        }
    }

    /// The category of a [`name`](Category::name) (`soft_bounce`…), as
    /// JSON output and the archive spell it.
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Derives the category: first from the sub-status (4xx invalid, 5xx
    /// soft bounce), then from the known prefixes of the display text in
    /// Chinese and English. Never fails.
    pub fn derive(status_text: Option<&str>, sub_status: Option<SubStatus>) -> Category {
        if let Some(class) = sub_status.and_then(SubStatus::class) {
            return match class {
                BounceClass::Permanent => Category::Invalid,
                BounceClass::Temporary => Category::SoftBounce,
            };
        }
        status_text.map_or(Category::Unknown, Category::from_text)
    }

    /// The category of a display text such as `投递成功`,
    /// `无效邮件-地址不存在` or `Soft Bounce - Server Unreachable`.
    pub fn from_text(text: &str) -> Category {
        const PREFIXES: &[(&str, Category)] = &[
            ("送达", Category::Delivered),
            ("投递成功", Category::Delivered),
            ("delivered", Category::Delivered),
            ("请求中", Category::Sending),
            ("发送中", Category::Sending),
            ("sending", Category::Sending),
            ("requesting", Category::Sending),
            ("无效邮件", Category::Invalid),
            ("invalid", Category::Invalid),
            ("软退信", Category::SoftBounce),
            ("soft bounce", Category::SoftBounce),
            ("soft_bounce", Category::SoftBounce),
            ("soft-bounce", Category::SoftBounce),
        ];
        let text = text.trim();
        PREFIXES
            .iter()
            .find(|(prefix, _)| text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix)))
            .map_or(Category::Unknown, |&(_, c)| c)
    }
}

impl From<Status> for Category {
    fn from(s: Status) -> Self {
        match s {
            Status::Delivered => Category::Delivered,
            Status::Invalid => Category::Invalid,
            Status::SoftBounce => Category::SoftBounce,
            Status::Sending => Category::Sending,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Whether a bounce is permanent (4xx) or temporary (5xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BounceClass {
    /// 4xx: the address will not accept mail; remove it.
    Permanent,
    /// 5xx: try again later.
    Temporary,
}

/// Language of descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Language {
    /// English (default).
    #[default]
    English,
    /// Simplified Chinese, as the vendor's console writes it.
    Chinese,
}

impl Language {
    /// `en` or `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh",
        }
    }
}

/// Whose words describe what happened to an email (a record's
/// [`describe`](crate::Record::describe)): the documented table in a
/// language (English by default), or the server's own text, as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Wording {
    /// The documented descriptions, in this language.
    Documented(Language),
    /// The server's text: `subStatusDesc`, else the `status` display text.
    /// (Where a row has a sub-status but the server sent no `subStatusDesc`,
    /// the decoder filled in the documented English: that is what shows.)
    Server,
}

impl Default for Wording {
    fn default() -> Self {
        Wording::Documented(Language::English)
    }
}

/// `en`, `zh` or `server` (any case).
impl FromStr for Wording {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Wording::Documented(Language::English)),
            "zh" | "chinese" => Ok(Wording::Documented(Language::Chinese)),
            "server" => Ok(Wording::Server),
            _ => Err(Error::invalid_value(
                "language",
                ValidationReason::UnknownName,
                format!("{s:?} is not one of en, zh, server"),
            )),
        }
    }
}

macro_rules! sub_statuses {
    ($($variant:ident = $code:literal, $en:literal, $zh:literal;)*) => {
        /// A bounce sub-status (`docs/protocol.md` §6). Unknown codes are kept as
        /// [`SubStatus::Other`], classed by their hundreds digit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum SubStatus {
            $(#[doc = concat!("`", stringify!($code), "`: ", $en, ".")] $variant,)*
            /// A code not in the documented table.
            Other(u16),
        }

        impl SubStatus {
            /// Every documented sub-status, in code order.
            pub const KNOWN: &'static [SubStatus] = &[$(SubStatus::$variant),*];

            /// The wire code.
            pub fn code(self) -> u16 {
                match self { $(SubStatus::$variant => $code,)* SubStatus::Other(c) => c }
            }

            /// The sub-status for a code; undocumented codes become `Other`.
            pub fn from_code(code: u16) -> SubStatus {
                match code { $($code => SubStatus::$variant,)* c => SubStatus::Other(c) }
            }

            /// The documented description, `None` for `Other`.
            pub fn description(self, lang: Language) -> Option<&'static str> {
                match (self, lang) {
                    $((SubStatus::$variant, Language::English) => Some($en),
                      (SubStatus::$variant, Language::Chinese) => Some($zh),)*
                    (SubStatus::Other(_), _) => None,
                }
            }
        }
    };
}

sub_statuses! {
    Blacklisted = 401, "Invalid — platform blacklist", "无效邮件-SendCloud黑名单中";
    Unsubscribed = 402, "Invalid — unsubscribed", "无效邮件-取消订阅";
    ServerUnreachable = 403, "Invalid — server unreachable", "无效邮件-服务器不可达";
    AddressFormatError = 404, "Invalid — address format error", "无效邮件-地址格式错误";
    IpDomainRejected = 405, "Invalid — IP/domain rejected", "无效邮件-IP、域名被拒";
    AddressNotExist = 406, "Invalid — address does not exist", "无效邮件-地址不存在";
    Spam = 407, "Invalid — spam", "无效邮件-垃圾邮件";
    SenderRecipientRejected = 408, "Invalid — sender/recipient rejected", "无效邮件-发件人/收件人被拒";
    InvalidOther = 409, "Invalid — other", "无效邮件-其他";
    SoftServerUnreachable = 503, "Soft bounce — server unreachable", "软退信-服务不可达";
    SoftIpDomainRejected = 505, "Soft bounce — IP/domain rejected", "软退信-IP、域名被拒";
    SoftAddressNotExist = 506, "Soft bounce — address does not exist", "软退信-邮箱地址不存在";
    SoftSpamRejected = 507, "Soft bounce — spam rejection", "软退信-反垃圾邮件被拒";
    SoftSenderRecipientRejected = 508, "Soft bounce — sender/recipient rejected", "软退信-发件人/收件人被拒";
    SoftOther = 509, "Soft bounce — other", "软退信-其他";
}

impl SubStatus {
    /// Permanent for 4xx, temporary for 5xx, `None` for anything else.
    pub fn class(self) -> Option<BounceClass> {
        match self.code() / 100 {
            4 => Some(BounceClass::Permanent),
            5 => Some(BounceClass::Temporary),
            _ => None,
        }
    }

    /// The description, or a generic one naming the code for `Other`.
    pub fn describe(self, lang: Language) -> String {
        match self.description(lang) {
            Some(d) => d.to_owned(),
            None => match (self.class(), lang) {
                (Some(BounceClass::Permanent), Language::English) => format!("Invalid — code {}", self.code()),
                (Some(BounceClass::Temporary), Language::English) => format!("Soft bounce — code {}", self.code()),
                (_, Language::English) => format!("Sub-status {}", self.code()),
                (Some(BounceClass::Permanent), Language::Chinese) => format!("无效邮件-{}", self.code()),
                (Some(BounceClass::Temporary), Language::Chinese) => format!("软退信-{}", self.code()),
                (_, Language::Chinese) => format!("子状态{}", self.code()),
            },
        }
    }

    /// The `status` filter value this sub-status belongs to.
    pub fn status(self) -> Option<Status> {
        match self.class()? {
            BounceClass::Permanent => Some(Status::Invalid),
            BounceClass::Temporary => Some(Status::SoftBounce),
        }
    }
}

impl fmt::Display for SubStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl From<u16> for SubStatus {
    fn from(code: u16) -> Self {
        SubStatus::from_code(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_honour_width_and_alignment_in_tables() {
        assert_eq!(format!("[{:<12}]", Category::SoftBounce), "[soft_bounce ]");
        assert_eq!(format!("[{:>10}]", Status::Invalid), "[   invalid]");
        assert_eq!(format!("[{:^9}]", Category::Sending), "[ sending ]");
    }

    #[test]
    fn table_round_trips_and_classes() {
        assert_eq!(SubStatus::KNOWN.len(), 15);
        for &s in SubStatus::KNOWN {
            assert_eq!(SubStatus::from_code(s.code()), s);
            assert!(s.description(Language::Chinese).is_some());
            let expected = if s.code() < 500 { BounceClass::Permanent } else { BounceClass::Temporary };
            assert_eq!(s.class(), Some(expected));
        }
        assert_eq!(SubStatus::from_code(406), SubStatus::AddressNotExist);
        assert_eq!(SubStatus::from_code(510), SubStatus::Other(510));
        assert_eq!(SubStatus::Other(410).class(), Some(BounceClass::Permanent));
        assert_eq!(SubStatus::Other(200).class(), None);
        assert_eq!(SubStatus::Other(511).describe(Language::English), "Soft bounce — code 511");
    }

    #[test]
    fn category_from_sub_status_wins_over_text() {
        assert_eq!(Category::derive(Some("投递成功"), Some(SubStatus::from_code(406))), Category::Invalid);
        assert_eq!(Category::derive(Some("whatever"), Some(SubStatus::from_code(503))), Category::SoftBounce);
        assert_eq!(Category::derive(None, None), Category::Unknown);
    }

    #[test]
    fn category_names_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::from_name(c.name()), Some(c));
        }
        assert_eq!(Category::from_name("soft-bounce"), None);
    }

    #[test]
    fn category_from_display_text() {
        let cases = [
            ("投递成功", Category::Delivered),
            ("送达", Category::Delivered),
            ("Delivered", Category::Delivered),
            ("请求中", Category::Sending),
            ("Sending", Category::Sending),
            ("无效邮件-地址不存在", Category::Invalid),
            ("Invalid Mail - Address Does Not Exist", Category::Invalid),
            ("软退信-服务不可达", Category::SoftBounce),
            ("Soft Bounce - Server Unreachable", Category::SoftBounce),
            ("", Category::Unknown),
            ("已打开", Category::Unknown),
        ];
        for (text, cat) in cases {
            assert_eq!(Category::from_text(text), cat, "{text}");
        }
    }

    #[test]
    fn status_parses_names_and_codes() {
        assert_eq!("soft-bounce".parse::<Status>().unwrap(), Status::SoftBounce);
        assert_eq!("SOFT_BOUNCE".parse::<Status>().unwrap().code(), 5);
        assert_eq!("18".parse::<Status>().unwrap(), Status::Sending);
        assert_eq!("bounced".parse::<Status>().unwrap_err().field(), Some("status"));
    }

    #[test]
    fn both_spellings_in_one_canonical_out() {
        for spelling in ["soft_bounce", "soft-bounce", " Soft-Bounce ", "5"] {
            let s: Status = spelling.parse().unwrap();
            assert_eq!(s.name(), "soft_bounce", "{spelling}");
            assert_eq!(s.to_string(), "soft_bounce");
        }
        let e = "bounced".parse::<Status>().unwrap_err();
        assert_eq!(e.validation_reason(), Some(crate::ValidationReason::UnknownName));
    }

    #[test]
    fn wording_names_and_labels() {
        assert_eq!(Wording::default(), Wording::Documented(Language::English));
        assert_eq!("zh".parse::<Wording>().unwrap(), Wording::Documented(Language::Chinese));
        assert_eq!("SERVER".parse::<Wording>().unwrap(), Wording::Server);
        assert_eq!("fr".parse::<Wording>().unwrap_err().field(), Some("language"));
        for c in Category::ALL {
            assert!(!c.label(Language::English).is_empty() && !c.label(Language::Chinese).is_empty());
            // A Chinese label reads back as its category (Unknown aside).
            if c != Category::Unknown {
                assert_eq!(Category::from_text(c.label(Language::Chinese)), c);
                assert_eq!(Category::from_text(c.label(Language::English)), c);
            }
        }
        assert_eq!(Language::Chinese.code(), "zh");
    }
}
