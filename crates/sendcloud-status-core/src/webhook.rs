//! Event webhooks: parse a delivery the vendor POSTs, verify its signature
//! and age, and tell a repeat from a new event. Pure functions: the body,
//! the time now and the set of tokens already seen come in as arguments.
//!
//! # What the vendor sends, and what this module decides
//!
//! The vendor POSTs one event per request to a URL configured in the
//! account and retries (about 1, 2, 4, 8 and 16 minutes later) until it
//! gets HTTP 200 within 3 seconds. Its pages disagree on several points;
//! the decisions here:
//!
//! | point | the vendor's pages | decided |
//! |---|---|---|
//! | body | `application/x-www-form-urlencoded` (older pages) or JSON (newer overview) | both: a body whose first non-blank byte is `{` is JSON, anything else a form |
//! | event names | `deliver` / `delivered`, `invalid` / `invalid_email`, `report_spam` / `spam-report` | both spellings, any case, `-` or `_`; also the status codes `1`, `4`, `5`, `18` |
//! | sub-status | in `subStat`-like fields, names vary | `subStatus`, `subStat`, `sub_status` or `substatus` |
//! | `timestamp` | Unix milliseconds in the examples | digits only; below 10¹¹ it is read as seconds |
//! | signature check | samples compare with `==` | constant time ([`hmac::Mac::verify_slice`]) |
//! | retries | fresh timestamp and token, or the original? not documented | the default [`tolerance`](DEFAULT_TOLERANCE) (35 min) covers a retry 31 minutes after the first attempt carrying the original timestamp |
//!
//! The signature is `hex(HMAC-SHA256(app key, timestamp + token))`: the
//! two fields concatenated as text, exactly as received (after form
//! decoding; a JSON number as written). Hex is accepted in either case.
//!
//! # Checks, in order
//!
//! 1. **Parse** ([`WebhookEvent::parse`]): `event`, `emailId`,
//!    `timestamp`, `token` and `signature` present and non-empty, no signed
//!    field given twice → else [`WebhookError::Malformed`]. Unknown fields
//!    are kept in [`WebhookEvent::extra`].
//! 2. **Signature** → else [`WebhookError::BadSignature`]. Checked before
//!    the age, so an unsigned body never learns anything about the clock.
//! 3. **Age**: `|now − timestamp| ≤ tolerance` → else
//!    [`WebhookError::Stale`] (a replay, or a clock far off).
//! 4. **Repeat**: a token in the caller's [`SeenTokens`] gives
//!    [`Verdict::Repeated`]: acknowledge it (HTTP 200) and store nothing.
//!    Only tokens younger than the tolerance need remembering: an older
//!    one fails step 3.
//!
//! The app key is a [`AppKey`]: redacted in every `Debug` and `Display`,
//! and never part of an error.
//!
//! ```
//! use sendcloud_status_core::chrono::{TimeZone, Utc};
//! use sendcloud_status_core::webhook::{sign, AppKey, EventKind, Verdict, Verifier, WebhookError};
//! use std::collections::HashSet;
//!
//! let key = AppKey::new("app-key").unwrap();
//! let (timestamp, token) = ("1716170000000", "t0k3n-50-random-characters");
//! let body = format!(
//!     "event=deliver&emailId=1716169999000_1_2_3.sc-1-inbound0%24a%40b.com&recipient=a%40b.com\
//!      &timestamp={timestamp}&token={token}&signature={}&outIp=1.2.3.4",
//!     sign(&key, timestamp, token)
//! );
//! let now = Utc.timestamp_millis_opt(1_716_170_004_000).unwrap();
//! let verifier = Verifier::new(key);
//!
//! let mut seen: HashSet<String> = HashSet::new();
//! let Verdict::New(event) = verifier.verify(body.as_bytes(), now, &seen).unwrap() else { panic!() };
//! assert_eq!(event.kind, EventKind::Delivered);
//! assert_eq!(event.extra["outIp"], "1.2.3.4"); // unknown fields are kept
//! seen.insert(event.token.clone());
//! assert!(matches!(verifier.verify(body.as_bytes(), now, &seen), Ok(Verdict::Repeated(_))));
//!
//! // The token and the timestamp are signed: changing either fails.
//! let forged = body.replace(token, "another-token");
//! assert_eq!(verifier.verify(forged.as_bytes(), now, &seen), Err(WebhookError::BadSignature));
//! ```
//!
//! **What the signature does not cover.** It proves who chose the
//! timestamp and the token, nothing else: the vendor signs no other field,
//! so a body altered on the way (another `event` or `emailId` beside a
//! genuine timestamp, token and signature) still verifies. Two things
//! limit that: a replayed token is a [`Verdict::Repeated`] (nothing is
//! stored), and a receiver reachable only over HTTPS leaves nobody on the
//! way to alter a first delivery.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::hash::BuildHasher;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use sha2::Sha256;

use crate::error::{Error, Result, ValidationReason};
use crate::record::{Record, ServerTime};
use crate::status::{Category, Language, SubStatus};

/// How far an event's `timestamp` may be from now (either way): the
/// vendor's retries come about 1, 2, 4, 8 and 16 minutes apart — the last
/// one 31 minutes after the first attempt, maybe with the original
/// timestamp — plus a few minutes for clock differences.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(35 * 60);

/// A `timestamp` below this is in seconds, not milliseconds (10¹¹ ms is
/// 1973; 10¹¹ s is the year 5138).
const SECONDS_BELOW: i64 = 100_000_000_000;

type HmacSha256 = Hmac<Sha256>;

/// The account's webhook app key. Formats as `***` everywhere; read it with
/// [`AppKey::expose`] only to compute a signature.
#[derive(Clone, PartialEq, Eq)]
pub struct AppKey(String);

impl AppKey {
    /// Wraps a key. Empty keys are refused (a validation error on
    /// `app_key`).
    pub fn new(key: impl Into<String>) -> Result<AppKey> {
        let key = key.into();
        if key.trim().is_empty() {
            return Err(Error::invalid_value("app_key", ValidationReason::Missing, "must not be empty"));
        }
        Ok(AppKey(key))
    }

    /// The key itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length.
        HmacSha256::new_from_slice(self.0.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppKey(***)")
    }
}

impl fmt::Display for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `hex(HMAC-SHA256(key, timestamp + token))`, lower case: what the vendor
/// puts in `signature` (for senders, tests and simulators).
pub fn sign(key: &AppKey, timestamp: &str, token: &str) -> String {
    let mut mac = key.mac();
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// What an event reports, both spellings folded into one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EventKind {
    /// `request` (code 18): the send request was accepted — "sending".
    Request,
    /// `deliver` / `delivered` (code 1).
    Delivered,
    /// `invalid` / `invalid_email` (code 4): a permanent failure.
    Invalid,
    /// `soft_bounce` (code 5): a temporary failure; the vendor may retry.
    SoftBounce,
    /// `open`.
    Open,
    /// `click`.
    Click,
    /// `unsubscribe`.
    Unsubscribe,
    /// `report_spam` / `spam-report`.
    SpamReport,
    /// `route`.
    Route,
    /// Any other name, lower-cased, `-` folded to `_`.
    Other(String),
}

impl EventKind {
    /// The kind of an event name (any case, `-` or `_`) or status code.
    pub fn parse(name: &str) -> EventKind {
        let norm = name.trim().to_ascii_lowercase().replace('-', "_");
        match norm.as_str() {
            "request" | "requested" | "18" => EventKind::Request,
            "deliver" | "delivered" | "1" => EventKind::Delivered,
            "invalid" | "invalid_email" | "4" => EventKind::Invalid,
            "soft_bounce" | "softbounce" | "5" => EventKind::SoftBounce,
            "open" | "opened" => EventKind::Open,
            "click" | "clicked" => EventKind::Click,
            "unsubscribe" | "unsubscribed" => EventKind::Unsubscribe,
            "report_spam" | "spam_report" | "spamreport" => EventKind::SpamReport,
            "route" => EventKind::Route,
            _ => EventKind::Other(norm),
        }
    }

    /// The one spelling this crate (and the archive) uses: `request`,
    /// `delivered`, `invalid`, `soft_bounce`, `open`, `click`,
    /// `unsubscribe`, `spam_report`, `route`, or the normalised name.
    pub fn name(&self) -> &str {
        match self {
            EventKind::Request => "request",
            EventKind::Delivered => "delivered",
            EventKind::Invalid => "invalid",
            EventKind::SoftBounce => "soft_bounce",
            EventKind::Open => "open",
            EventKind::Click => "click",
            EventKind::Unsubscribe => "unsubscribe",
            EventKind::SpamReport => "spam_report",
            EventKind::Route => "route",
            EventKind::Other(name) => name,
        }
    }

    /// The `emailStatus` category a status event reports (request →
    /// sending, delivered, invalid, soft bounce); `None` for engagement
    /// and other events.
    pub fn category(&self) -> Option<Category> {
        match self {
            EventKind::Request => Some(Category::Sending),
            EventKind::Delivered => Some(Category::Delivered),
            EventKind::Invalid => Some(Category::Invalid),
            EventKind::SoftBounce => Some(Category::SoftBounce),
            _ => None,
        }
    }

    /// Whether the event reports a delivery status ([`category`](Self::category) is some).
    pub fn is_status(&self) -> bool {
        self.category().is_some()
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// One parsed event. Parsing checks the shape only; [`Verifier::verify`]
/// checks who sent it and when.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The kind, both spellings folded.
    pub kind: EventKind,
    /// `event` exactly as received (`deliver`, `delivered`, …).
    pub event: String,
    /// `emailId`.
    pub email_id: String,
    /// `recipient`.
    pub recipient: Option<String>,
    /// `apiUser`.
    pub api_user: Option<String>,
    /// `labelId`, when numeric (otherwise it stays in [`extra`](Self::extra)).
    pub label_id: Option<u64>,
    /// `labelName`.
    pub label_name: Option<String>,
    /// `timestamp` exactly as received: the signed text.
    pub timestamp: String,
    /// The timestamp as a time (milliseconds, or seconds below 10¹¹).
    pub time: DateTime<Utc>,
    /// `token`: a random string, unique per event (and per delivery, if
    /// the vendor's retries carry fresh ones).
    pub token: String,
    /// `signature` as received (hex).
    pub signature: String,
    /// The bounce sub-status (`subStatus`, `subStat`, `sub_status` or
    /// `substatus`), when present and numeric.
    pub sub_status: Option<SubStatus>,
    /// `message`: text, such as the receiving server's answer.
    pub message: Option<String>,
    /// Every other field, as received (form values as strings; JSON values
    /// as they were), including custom headers such as `SC-Custom-*`.
    pub extra: BTreeMap<String, Value>,
}

/// The field names the parser consumes (first spelling is the canonical one).
const SUB_STATUS_KEYS: [&str; 4] = ["subStatus", "subStat", "sub_status", "substatus"];

impl WebhookEvent {
    /// Parses a body: JSON when its first non-blank byte is `{` (or `[`), else a
    /// form. See the [module doc](self) for the rules.
    pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        let fields = if matches!(first, Some(b'{' | b'[')) { json_fields(body)? } else { form_fields(body)? };
        WebhookEvent::from_fields(fields)
    }

    fn from_fields(mut fields: BTreeMap<String, Value>) -> Result<WebhookEvent, WebhookError> {
        let mut required = |name: &str| -> Result<String, WebhookError> {
            match fields.remove(name) {
                Some(v) => match text(&v) {
                    Some(t) if !t.trim().is_empty() => Ok(t),
                    Some(_) => Err(WebhookError::malformed(format!("{name} is empty"))),
                    None => Err(WebhookError::malformed(format!("{name} is not text"))),
                },
                None => Err(WebhookError::malformed(format!("no {name}"))),
            }
        };
        let event = required("event")?;
        let email_id = required("emailId")?;
        let timestamp = required("timestamp")?;
        let token = required("token")?;
        let signature = required("signature")?;
        let time = parse_timestamp(&timestamp)
            .ok_or_else(|| WebhookError::malformed("timestamp is not a Unix time in milliseconds or seconds"))?;
        let mut optional = |name: &str| -> Option<String> {
            match fields.get(name).map(text) {
                Some(Some(t)) => {
                    fields.remove(name);
                    Some(t).filter(|t| !t.is_empty())
                }
                _ => None, // absent, or not text: kept in `extra` as it was
            }
        };
        let recipient = optional("recipient");
        let api_user = optional("apiUser");
        let label_name = optional("labelName");
        let message = optional("message");
        let label_id = match fields.get("labelId").and_then(text).map(|t| t.trim().parse::<u64>()) {
            Some(Ok(id)) => {
                fields.remove("labelId");
                Some(id)
            }
            _ => None,
        };
        let mut sub_status = None;
        for key in SUB_STATUS_KEYS {
            if let Some(Ok(code)) = fields.get(key).and_then(text).map(|t| t.trim().parse::<u16>()) {
                fields.remove(key);
                sub_status.get_or_insert(SubStatus::from_code(code));
            }
        }
        Ok(WebhookEvent {
            kind: EventKind::parse(&event),
            event,
            email_id: email_id.trim().to_owned(),
            recipient,
            api_user,
            label_id,
            label_name,
            timestamp,
            time,
            token,
            signature,
            sub_status,
            message,
            extra: fields,
        })
    }

    /// The `emailStatus` category of a status event (see [`EventKind::category`]).
    pub fn category(&self) -> Option<Category> {
        self.kind.category()
    }

    /// The event's time with the server's UTC offset (as the archive and the
    /// CLI write times).
    pub fn time_at(&self, offset: FixedOffset) -> DateTime<FixedOffset> {
        self.time.with_timezone(&offset)
    }

    /// A status event as the [`Record`] an `emailStatus` row of that state
    /// would be: the email id, recipient, apiUser, category and sub-status
    /// (with its documented description), `modified_time` = the event time;
    /// `status` is the event name as received (the webhook carries no
    /// display text). `None` for events that are not a status.
    pub fn to_record(&self, offset: FixedOffset) -> Option<Record> {
        let category = self.category()?;
        // A sub-status only belongs to the bounce it describes.
        let sub_status = self.sub_status.filter(|s| match category {
            Category::Invalid => s.code() / 100 == 4,
            Category::SoftBounce => s.code() / 100 == 5,
            _ => false,
        });
        Some(Record {
            email_id: Some(self.email_id.clone()),
            status: Some(self.event.clone()),
            category,
            sub_status,
            sub_status_description: sub_status.map(|s| s.describe(Language::English)),
            api_user: self.api_user.clone(),
            recipient: self.recipient.clone(),
            request_time: None,
            modified_time: Some(ServerTime::from_datetime(self.time_at(offset))),
            send_log: self.message.clone(),
            extra: BTreeMap::new(),
        })
    }
}

/// Every field received, by its wire name, as JSON (`signature` included;
/// no key is ever part of an event).
impl Serialize for WebhookEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("event", &self.event)?;
        m.serialize_entry("emailId", &self.email_id)?;
        for (k, v) in [
            ("recipient", &self.recipient),
            ("apiUser", &self.api_user),
            ("labelName", &self.label_name),
            ("message", &self.message),
        ] {
            if let Some(v) = v {
                m.serialize_entry(k, v)?;
            }
        }
        if let Some(id) = self.label_id {
            m.serialize_entry("labelId", &id)?;
        }
        if let Some(s) = self.sub_status {
            m.serialize_entry("subStatus", &s.code())?;
        }
        m.serialize_entry("timestamp", &self.timestamp)?;
        m.serialize_entry("token", &self.token)?;
        m.serialize_entry("signature", &self.signature)?;
        for (k, v) in &self.extra {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// A JSON value as text: strings as they are, numbers as written; `None`
/// for anything else.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Digits only; milliseconds, or seconds below 10¹¹.
fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = s.parse().ok()?;
    let ms = if n < SECONDS_BELOW { n.checked_mul(1000)? } else { n };
    Utc.timestamp_millis_opt(ms).single()
}

/// The fields whose repetition is refused: the signed ones and what
/// identifies the event.
const SINGLE: [&str; 5] = ["event", "emailId", "timestamp", "token", "signature"];

fn form_fields(body: &[u8]) -> Result<BTreeMap<String, Value>, WebhookError> {
    if std::str::from_utf8(body).is_err() {
        return Err(WebhookError::malformed("the form body is not UTF-8"));
    }
    let mut fields: BTreeMap<String, Value> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        insert(&mut fields, k.into_owned(), Value::String(v.into_owned()))?;
    }
    if fields.is_empty() {
        return Err(WebhookError::malformed("empty body"));
    }
    Ok(fields)
}

fn json_fields(body: &[u8]) -> Result<BTreeMap<String, Value>, WebhookError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| WebhookError::malformed(format!("not JSON: {e}")))?;
    let Value::Object(map) = value else { return Err(WebhookError::malformed("the JSON body is not an object")) };
    Ok(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
}

/// Adds a form field; a repeated signed field is malformed, other repeats
/// become a list.
fn insert(fields: &mut BTreeMap<String, Value>, key: String, value: Value) -> Result<(), WebhookError> {
    match fields.get_mut(&key) {
        None => {
            fields.insert(key, value);
        }
        Some(_) if SINGLE.contains(&key.as_str()) => {
            return Err(WebhookError::malformed(format!("{key} given twice")));
        }
        Some(Value::Array(list)) => list.push(value),
        Some(previous) => {
            let first = previous.take();
            *previous = Value::Array(vec![first, value]);
        }
    }
    Ok(())
}

/// Why a delivery is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// Not an event: unreadable body, a required field missing or empty, a
    /// timestamp that is not a Unix time, a signed field given twice.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// The signature does not match `HMAC-SHA256(app key, timestamp + token)`.
    #[error("bad signature")]
    BadSignature,
    /// The timestamp is further from now than the tolerance.
    #[error("stale event: its timestamp is {} from now (tolerance {} s)", fmt_skew(*skew_ms), tolerance.as_secs())]
    Stale {
        /// `now − timestamp`, in milliseconds (negative: in the future).
        skew_ms: i64,
        /// The tolerance in force.
        tolerance: Duration,
    },
}

fn fmt_skew(ms: i64) -> String {
    let (sign, ms) = if ms < 0 { ("+", ms.unsigned_abs()) } else { ("-", ms.unsigned_abs()) };
    format!("{sign}{:.1} s", ms as f64 / 1000.0)
}

impl WebhookError {
    fn malformed(reason: impl Into<String>) -> WebhookError {
        WebhookError::Malformed(reason.into())
    }

    /// `malformed`, `bad_signature` or `stale`.
    pub fn kind(&self) -> &'static str {
        match self {
            WebhookError::Malformed(_) => "malformed",
            WebhookError::BadSignature => "bad_signature",
            WebhookError::Stale { .. } => "stale",
        }
    }

    /// The HTTP status a receiver answers: 400 for a malformed body, 403 for
    /// a bad signature or a stale timestamp (the sender could not prove it
    /// is the vendor, now).
    pub fn http_status(&self) -> u16 {
        match self {
            WebhookError::Malformed(_) => 400,
            WebhookError::BadSignature | WebhookError::Stale { .. } => 403,
        }
    }
}

/// The tokens a receiver has seen: the caller keeps them (in memory, in a
/// database); the verifier only asks.
pub trait SeenTokens {
    /// Whether `token` was seen before.
    fn contains_token(&self, token: &str) -> bool;
}

impl<S: BuildHasher> SeenTokens for HashSet<String, S> {
    fn contains_token(&self, token: &str) -> bool {
        self.contains(token)
    }
}

impl SeenTokens for BTreeSet<String> {
    fn contains_token(&self, token: &str) -> bool {
        self.contains(token)
    }
}

impl<F: Fn(&str) -> bool> SeenTokens for F {
    fn contains_token(&self, token: &str) -> bool {
        self(token)
    }
}

/// A verified event: new, or a repeat of a token seen before (acknowledge
/// it, store nothing).
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A token not seen before.
    New(WebhookEvent),
    /// A token seen before: a vendor retry or a replay.
    Repeated(WebhookEvent),
}

impl Verdict {
    /// The event, either way.
    pub fn event(&self) -> &WebhookEvent {
        match self {
            Verdict::New(e) | Verdict::Repeated(e) => e,
        }
    }

    /// The event, either way.
    pub fn into_event(self) -> WebhookEvent {
        match self {
            Verdict::New(e) | Verdict::Repeated(e) => e,
        }
    }

    /// Whether the token was seen before.
    pub fn is_repeat(&self) -> bool {
        matches!(self, Verdict::Repeated(_))
    }
}

/// Checks deliveries against one app key. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Verifier {
    key: AppKey,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier with the [default tolerance](DEFAULT_TOLERANCE).
    pub fn new(key: AppKey) -> Verifier {
        Verifier { key, tolerance: DEFAULT_TOLERANCE }
    }

    /// Sets how far a timestamp may be from now, either way.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Verifier {
        self.tolerance = tolerance;
        self
    }

    /// The tolerance in force.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Parses and checks a body (see the [module doc](self) for the order
    /// of the checks).
    pub fn verify(
        &self,
        body: &[u8],
        now: DateTime<Utc>,
        seen: &(impl SeenTokens + ?Sized),
    ) -> Result<Verdict, WebhookError> {
        self.verify_event(WebhookEvent::parse(body)?, now, seen)
    }

    /// Checks an event parsed already.
    pub fn verify_event(
        &self,
        event: WebhookEvent,
        now: DateTime<Utc>,
        seen: &(impl SeenTokens + ?Sized),
    ) -> Result<Verdict, WebhookError> {
        if !self.signature_matches(&event.timestamp, &event.token, &event.signature) {
            return Err(WebhookError::BadSignature);
        }
        let skew_ms = (now - event.time).num_milliseconds();
        let tolerance_ms = i64::try_from(self.tolerance.as_millis()).unwrap_or(i64::MAX);
        if skew_ms.unsigned_abs() > tolerance_ms.unsigned_abs() {
            return Err(WebhookError::Stale { skew_ms, tolerance: self.tolerance });
        }
        if seen.contains_token(&event.token) {
            return Ok(Verdict::Repeated(event));
        }
        Ok(Verdict::New(event))
    }

    /// Whether `signature` (hex, any case) is the HMAC of `timestamp +
    /// token`, compared in constant time.
    pub fn signature_matches(&self, timestamp: &str, token: &str, signature: &str) -> bool {
        let Some(bytes) = decode_hex(signature.trim()) else { return false };
        let mut mac = self.key.mac();
        mac.update(timestamp.as_bytes());
        mac.update(token.as_bytes());
        mac.verify_slice(&bytes).is_ok()
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    s.as_bytes().chunks(2).map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: i64 = 1_716_170_000_000;

    fn key() -> AppKey {
        AppKey::new("SENTINEL-APP-KEY").unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(NOW_MS).unwrap()
    }

    fn form(event: &str, ts: &str, token: &str) -> String {
        let sig = sign(&key(), ts, token);
        format!(
            "event={event}&emailId=1716169990000_77_1.sc-10_10-inbound0%24x%40y.com&recipient=x%40y.com&apiUser=u1\
             &labelId=12&labelName=News&timestamp={ts}&token={token}&signature={sig}&subStatus=406&message=550+no&Foo=bar"
        )
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_and_token() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let k = AppKey::new("Jefe").unwrap();
        assert_eq!(
            sign(&k, "what do ya want ", "for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn form_and_json_parse_to_the_same_event() {
        let ts = NOW_MS.to_string();
        let f = WebhookEvent::parse(form("deliver", &ts, "tok1").as_bytes()).unwrap();
        let sig = sign(&key(), &ts, "tok1");
        let json = format!(
            r#" {{"event":"delivered","emailId":"1716169990000_77_1.sc-10_10-inbound0$x@y.com","recipient":"x@y.com",
                "apiUser":"u1","labelId":12,"labelName":"News","timestamp":{ts},"token":"tok1","signature":"{sig}",
                "subStatus":"406","message":"550 no","Foo":"bar","nothing":null}}"#
        );
        let j = WebhookEvent::parse(json.as_bytes()).unwrap();
        assert_eq!(f.kind, EventKind::Delivered);
        assert_eq!((f.event.as_str(), j.event.as_str()), ("deliver", "delivered"));
        assert_eq!(WebhookEvent { event: j.event.clone(), ..f.clone() }, j);
        assert_eq!(f.email_id, "1716169990000_77_1.sc-10_10-inbound0$x@y.com");
        assert_eq!((f.label_id, f.sub_status), (Some(12), Some(SubStatus::AddressNotExist)));
        assert_eq!(f.extra, BTreeMap::from([("Foo".to_owned(), Value::from("bar"))]));
        assert_eq!(f.time, now());
    }

    #[test]
    fn both_spellings_and_codes() {
        for (names, kind) in [
            (&["deliver", "delivered", "DELIVERED", "1"][..], EventKind::Delivered),
            (&["invalid", "invalid_email", "invalid-email", "4"], EventKind::Invalid),
            (&["soft_bounce", "soft-bounce", "5"], EventKind::SoftBounce),
            (&["request", "18"], EventKind::Request),
            (&["report_spam", "spam-report"], EventKind::SpamReport),
        ] {
            for n in names {
                assert_eq!(EventKind::parse(n), kind, "{n}");
            }
        }
        assert_eq!(EventKind::parse("Bounce-X"), EventKind::Other("bounce_x".into()));
        assert_eq!(EventKind::Invalid.category(), Some(Category::Invalid));
        assert_eq!(EventKind::Open.category(), None);
    }

    #[test]
    fn verification_order_and_errors() {
        let v = Verifier::new(key());
        let ts = NOW_MS.to_string();
        let none = |_: &str| false;
        let ok = form("invalid_email", &ts, "tok2");
        assert!(matches!(v.verify(ok.as_bytes(), now(), &none), Ok(Verdict::New(e)) if e.kind == EventKind::Invalid));
        // Tampered signed field, uppercase hex still fine.
        assert_eq!(v.verify(ok.replace("tok2", "tok3").as_bytes(), now(), &none), Err(WebhookError::BadSignature));
        let sig = sign(&key(), &ts, "tok2");
        let upper = ok.replace(&sig, &sig.to_uppercase());
        assert!(v.verify(upper.as_bytes(), now(), &none).is_ok());
        assert_eq!(v.verify(ok.replace(&sig, "zz").as_bytes(), now(), &none), Err(WebhookError::BadSignature));
        // Another key.
        let other = Verifier::new(AppKey::new("other").unwrap());
        assert_eq!(other.verify(ok.as_bytes(), now(), &none), Err(WebhookError::BadSignature));
        // Stale either way; a bad signature wins over staleness.
        let late = now() + chrono::Duration::minutes(36);
        assert!(matches!(v.verify(ok.as_bytes(), late, &none), Err(WebhookError::Stale { skew_ms: 2_160_000, .. })));
        let early = now() - chrono::Duration::minutes(36);
        assert!(matches!(v.verify(ok.as_bytes(), early, &none), Err(WebhookError::Stale { skew_ms: -2_160_000, .. })));
        assert!(v.verify(ok.as_bytes(), now() + chrono::Duration::minutes(31), &none).is_ok());
        let forged_old = ok.replace("tok2", "tok9");
        assert_eq!(v.verify(forged_old.as_bytes(), late, &none), Err(WebhookError::BadSignature));
        // Seen tokens.
        let seen: HashSet<String> = ["tok2".to_owned()].into();
        assert!(v.verify(ok.as_bytes(), now(), &seen).unwrap().is_repeat());
        let tree: BTreeSet<String> = ["tok2".to_owned()].into();
        assert!(v.verify(ok.as_bytes(), now(), &tree).unwrap().is_repeat());
        // Seconds are accepted too.
        let secs = (NOW_MS / 1000).to_string();
        let in_seconds = form("open", &secs, "tok4");
        assert_eq!(v.verify(in_seconds.as_bytes(), now(), &none).unwrap().event().time, now());
    }

    #[test]
    fn malformed_bodies() {
        let ts = NOW_MS.to_string();
        let good = form("deliver", &ts, "tok");
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty body"),
            ("{".into(), "not JSON"),
            ("[1,2]".into(), "not an object"),
            (good.replace("event=deliver&", ""), "no event"),
            (good.replace("token=tok&", "token=&"), "token is empty"),
            (good.replace(&format!("timestamp={ts}"), "timestamp=yesterday"), "timestamp is not"),
            (format!("{good}&token=again"), "token given twice"),
            (
                r#"{"event":"deliver","emailId":["a"],"timestamp":1,"token":"t","signature":"s"}"#.into(),
                "emailId is not text",
            ),
        ];
        for (body, why) in cases {
            match WebhookEvent::parse(body.as_bytes()) {
                Err(WebhookError::Malformed(m)) => assert!(m.contains(why), "{body}: {m}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(WebhookEvent::parse(&[0xff, b'=', 0xfe]).is_err());
        // Repeated unknown fields become a list.
        let e = WebhookEvent::parse(format!("{good}&tag=a&tag=b").as_bytes()).unwrap();
        assert_eq!(e.extra["tag"], serde_json::json!(["a", "b"]));
    }

    #[test]
    fn the_key_is_never_formatted() {
        let v = Verifier::new(key());
        for s in [format!("{:?}", key()), format!("{}", key()), format!("{v:?}")] {
            assert!(!s.contains("SENTINEL"), "{s}");
        }
        let errors = [
            WebhookError::BadSignature,
            WebhookError::Stale { skew_ms: 5, tolerance: DEFAULT_TOLERANCE },
            WebhookError::Malformed("x".into()),
        ];
        for e in errors {
            assert!(!format!("{e} {e:?}").contains("SENTINEL"));
        }
        assert_eq!(AppKey::new(" ").unwrap_err().field(), Some("app_key"));
    }

    #[test]
    fn status_events_become_records() {
        let ts = NOW_MS.to_string();
        let e = WebhookEvent::parse(form("invalid", &ts, "t").as_bytes()).unwrap();
        let off = FixedOffset::east_opt(8 * 3600).unwrap();
        let r = e.to_record(off).unwrap();
        assert_eq!(r.category, Category::Invalid);
        assert_eq!(r.sub_status, Some(SubStatus::AddressNotExist));
        assert_eq!(r.modified_time.unwrap().to_rfc3339_or_raw(), "2024-05-20T09:53:20+08:00");
        assert_eq!(r.status.as_deref(), Some("invalid"));
        // A 4xx code on a delivered event is not kept.
        let d = WebhookEvent::parse(form("deliver", &ts, "t").as_bytes()).unwrap().to_record(off).unwrap();
        assert_eq!(d.sub_status, None);
        assert!(WebhookEvent::parse(form("click", &ts, "t").as_bytes()).unwrap().to_record(off).is_none());
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["event"], "invalid");
        assert_eq!(json["Foo"], "bar");
        assert_eq!(json["subStatus"], 406);
    }
}
