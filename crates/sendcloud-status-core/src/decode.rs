//! Lenient response decoding (`docs/protocol.md` §5) and error
//! classification (§7).
//!
//! Rules: try the body whatever the HTTP status; `statusCode` or
//! `statuscode`; `info` as an object, a JSON string, `null` or `{}`;
//! numbers as numbers, numeric strings, empty strings or null; every row
//! field optional; unknown fields kept. Never panics, on any bytes.

use std::collections::BTreeMap;
use std::fmt;

use chrono::FixedOffset;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Error, ErrorKind, Result};
use crate::record::{Record, ServerTime};
use crate::status::{Category, Language, SubStatus};

/// Decoding settings: the server's UTC offset (default +08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    offset: FixedOffset,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder { offset: crate::settings::DEFAULT_SERVER_UTC_OFFSET }
    }
}

/// A decoded success body.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PageBody {
    /// `info.total`, when present and numeric.
    pub total: Option<u64>,
    /// `info.voListSize`, when present and numeric.
    pub list_size: Option<u64>,
    /// The rows.
    pub records: Vec<Record>,
}

impl Decoder {
    /// A decoder for a server at this UTC offset.
    pub fn new(offset: FixedOffset) -> Self {
        Decoder { offset }
    }

    /// The server's UTC offset.
    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// Decodes one answer: a page, or the error it carries.
    ///
    /// ```
    /// use sendcloud_status_core::{Decoder, ErrorKind, Category};
    /// let d = Decoder::default();
    /// let body = r#"{"result":true,"statusCode":200,"message":"ok",
    ///     "info":{"total":"1","voListSize":1,"voList":[{"emailId":"1$a@b","status":"软退信-服务不可达","subStatus":"503"}]}}"#;
    /// let page = d.decode(200, body.as_bytes()).unwrap();
    /// assert_eq!(page.total, Some(1));
    /// assert_eq!(page.records[0].category, Category::SoftBounce);
    ///
    /// let err = d.decode(200, br#"{"result": false, "statuscode": 50000, "message": "interface frequency limited", "info": {}}"#).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::RateLimited);
    /// ```
    pub fn decode(&self, http_status: u16, body: &[u8]) -> Result<PageBody> {
        // One pass over the bytes: `info` is decoded where it stands, whatever
        // the order of the envelope's keys.
        let mut de = serde_json::Deserializer::from_slice(body);
        let seed = EnvelopeSeed { offset: self.offset };
        let envelope = match seed.deserialize(&mut de).and_then(|e| de.end().map(|()| e)) {
            Ok(e) => e,
            Err(e) => return Err(self.classify_malformed(http_status, body, &e)),
        };
        let code = envelope.status_code.and_then(|s| s.as_i64());
        if !is_success(envelope.result, code) {
            let message = envelope.message.and_then(Scalar::into_string).unwrap_or_default();
            return Err(classify(http_status, code, &message));
        }
        if !(200..300).contains(&http_status) {
            // A success envelope under an error status: trust the status.
            return Err(classify(http_status, None, "success body under an HTTP error status"));
        }
        let info = envelope.info.unwrap_or_default();
        Ok(PageBody { total: info.total, list_size: info.list_size, records: info.records })
    }

    /// The body did not decode as a whole. It may still be a readable error
    /// envelope with an odd `info`, which must be classified by its code.
    fn classify_malformed(&self, http_status: u16, body: &[u8], e: &serde_json::Error) -> Error {
        match serde_json::from_slice::<BareEnvelope>(body) {
            Ok(bare) => {
                let code = bare.status_code.and_then(|s| s.as_i64());
                if is_success(bare.result, code) {
                    decode_error(http_status, e)
                } else {
                    let message = bare.message.and_then(Scalar::into_string).unwrap_or_default();
                    classify(http_status, code, &message)
                }
            }
            Err(_) => classify_unparsed(http_status, body, e),
        }
    }
}

/// `result:false` is an error even with code 200; a missing `result` defers
/// to the code.
fn is_success(result: Option<bool>, code: Option<i64>) -> bool {
    result.unwrap_or(code == Some(200)) && code.is_none_or(|c| c == 200)
}

fn decode_error(http_status: u16, e: &serde_json::Error) -> Error {
    Error::new(ErrorKind::Decode, format!("could not decode the response body: {e}")).with_http_status(http_status)
}

/// Classifies an API error by `statusCode` (when present), else by the HTTP
/// status. Never by message text.
pub fn classify(http_status: u16, code: Option<i64>, message: &str) -> Error {
    let message = message.trim();
    let (kind, field, what) = match code {
        Some(c) => classify_code(c),
        None => match http_status {
            401 | 403 => (ErrorKind::Auth, None, "authentication failed"),
            429 => (ErrorKind::RateLimited, None, "rate limited"),
            500..=599 => (ErrorKind::Server, None, "server error"),
            200..=299 => (ErrorKind::Api, None, "the API reported a failure"),
            _ => (ErrorKind::Api, None, "unexpected HTTP status"),
        },
    };
    let mut text = match code {
        Some(c) => format!("{what} (API code {c}"),
        None => format!("{what} (HTTP {http_status}"),
    };
    if !message.is_empty() {
        text.push_str(": ");
        text.push_str(message);
    }
    text.push(')');
    let mut err = Error::new(kind, text).with_http_status(http_status);
    if let Some(c) = code {
        err = err.with_api_code(c);
    }
    if kind == ErrorKind::Validation {
        err = err.rejected_by_server(field);
    }
    err
}

fn classify_code(code: i64) -> (ErrorKind, Option<&'static str>, &'static str) {
    use ErrorKind::*;
    match code {
        40005 => (Auth, None, "authentication failed"),
        40301 => (Auth, None, "user does not exist"),
        6001 => (Auth, None, "no permission"),
        50000 => (RateLimited, None, "interface frequency limited"),
        40913 => (Quota, None, "request quota exceeded"),
        501 => (Server, None, "server exception"),
        40001 | 40002 => (Validation, Some("start"), "the server rejected start"),
        40003 | 40004 => (Validation, Some("limit"), "the server rejected limit"),
        40006 => (Validation, Some("days"), "the server rejected days"),
        40007 => (Validation, Some("start_date"), "the server rejected startDate"),
        40008 => (Validation, Some("end_date"), "the server rejected endDate"),
        40010 | 40016 => (Validation, Some("api_users"), "the server rejected apiUserList"),
        40011 | 40012 => (Validation, Some("email"), "the server rejected email"),
        40014 | 40015 | 40103 | 40106 => (Validation, Some("label_id"), "the server rejected labelId"),
        40000..=40299 => (Validation, None, "the server rejected a parameter"),
        500..=599 => (Server, None, "server error"),
        _ => (Api, None, "API error"),
    }
}

/// A body that is not JSON: a truncated answer, an HTML error page.
fn classify_unparsed(http_status: u16, body: &[u8], e: &serde_json::Error) -> Error {
    if (200..300).contains(&http_status) {
        let what = if e.is_eof() { "truncated response body" } else { "response body is not the documented JSON" };
        return Error::new(ErrorKind::Decode, format!("{what} ({} bytes): {e}", body.len()))
            .with_http_status(http_status);
    }
    classify(http_status, None, "")
}

/// The envelope without `info`, to classify bodies whose `info` is broken.
#[derive(Deserialize)]
struct BareEnvelope {
    #[serde(default, deserialize_with = "lenient_bool")]
    result: Option<bool>,
    #[serde(default, rename = "statusCode", alias = "statuscode")]
    status_code: Option<Scalar>,
    #[serde(default)]
    message: Option<Scalar>,
}

struct Envelope {
    result: Option<bool>,
    status_code: Option<Scalar>,
    message: Option<Scalar>,
    info: Option<InfoBody>,
}

struct EnvelopeSeed {
    offset: FixedOffset,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed {
    type Value = Envelope;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Envelope, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed {
    type Value = Envelope;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response envelope object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
        let mut env = Envelope { result: None, status_code: None, message: None, info: None };
        while let Some(key) = map.next_key::<EnvelopeKey>()? {
            match key {
                EnvelopeKey::Result => env.result = map.next_value_seed(LenientBool)?,
                EnvelopeKey::StatusCode => env.status_code = Some(map.next_value()?),
                EnvelopeKey::Message => env.message = Some(map.next_value()?),
                EnvelopeKey::Info => env.info = Some(map.next_value_seed(InfoSeed { offset: self.offset })?),
                EnvelopeKey::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(env)
    }
}

enum EnvelopeKey {
    Result,
    StatusCode,
    Message,
    Info,
    Other,
}

impl<'de> Deserialize<'de> for EnvelopeKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = EnvelopeKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, k: &str) -> Result<EnvelopeKey, E> {
                Ok(match k {
                    "result" => EnvelopeKey::Result,
                    "statusCode" | "statuscode" => EnvelopeKey::StatusCode,
                    "message" => EnvelopeKey::Message,
                    "info" => EnvelopeKey::Info,
                    _ => EnvelopeKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

struct LenientBool;

impl<'de> DeserializeSeed<'de> for LenientBool {
    type Value = Option<bool>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<bool>, D::Error> {
        lenient_bool(d)
    }
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Scalar::deserialize(d)? {
        Scalar::Bool(b) => Some(b),
        Scalar::Str(s) => match s.trim() {
            "true" | "TRUE" | "True" => Some(true),
            "false" | "FALSE" | "False" => Some(false),
            _ => None,
        },
        Scalar::Int(i) => Some(i != 0),
        _ => None,
    })
}

#[derive(Default)]
struct InfoBody {
    total: Option<u64>,
    list_size: Option<u64>,
    records: Vec<Record>,
}

struct InfoSeed {
    offset: FixedOffset,
}

impl<'de> DeserializeSeed<'de> for InfoSeed {
    type Value = InfoBody;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<InfoBody, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for InfoSeed {
    type Value = InfoBody;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an info object, a JSON string of one, or null")
    }
    fn visit_unit<E>(self) -> Result<InfoBody, E> {
        Ok(InfoBody::default())
    }
    fn visit_none<E>(self) -> Result<InfoBody, E> {
        Ok(InfoBody::default())
    }
    // Any other shape carries no rows: an empty page, not an error.
    fn visit_bool<E>(self, _: bool) -> Result<InfoBody, E> {
        Ok(InfoBody::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<InfoBody, E> {
        Ok(InfoBody::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<InfoBody, E> {
        Ok(InfoBody::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<InfoBody, E> {
        Ok(InfoBody::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<InfoBody, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(InfoBody::default())
    }
    /// `info` sent as a JSON-encoded string.
    fn visit_str<E: de::Error>(self, s: &str) -> Result<InfoBody, E> {
        if s.trim().is_empty() {
            return Ok(InfoBody::default());
        }
        let mut de = serde_json::Deserializer::from_str(s);
        let info = self.deserialize(&mut de).map_err(E::custom)?;
        de.end().map_err(E::custom)?;
        Ok(info)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<InfoBody, A::Error> {
        let mut info = InfoBody::default();
        while let Some(key) = map.next_key::<InfoKey>()? {
            match key {
                InfoKey::Total => info.total = map.next_value::<Scalar>()?.as_u64(),
                InfoKey::VoListSize => info.list_size = map.next_value::<Scalar>()?.as_u64(),
                InfoKey::VoList => info.records = map.next_value_seed(RowsSeed { offset: self.offset })?,
                InfoKey::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(info)
    }
}

enum InfoKey {
    Total,
    VoListSize,
    VoList,
    Other,
}

impl<'de> Deserialize<'de> for InfoKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = InfoKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, k: &str) -> Result<InfoKey, E> {
                Ok(match k {
                    "total" => InfoKey::Total,
                    "voListSize" => InfoKey::VoListSize,
                    "voList" => InfoKey::VoList,
                    _ => InfoKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

struct RowsSeed {
    offset: FixedOffset,
}

impl<'de> DeserializeSeed<'de> for RowsSeed {
    type Value = Vec<Record>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Record>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed {
    type Value = Vec<Record>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of rows or null")
    }
    fn visit_unit<E>(self) -> Result<Vec<Record>, E> {
        Ok(Vec::new())
    }
    fn visit_none<E>(self) -> Result<Vec<Record>, E> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Record>, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(100).min(1000));
        while let Some(row) = seq.next_element_seed(RowSeed { offset: self.offset })? {
            rows.push(row);
        }
        Ok(rows)
    }
}

struct RowSeed {
    offset: FixedOffset,
}

impl<'de> DeserializeSeed<'de> for RowSeed {
    type Value = Record;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Record, D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Clone, Copy)]
enum RowKey {
    EmailId,
    Status,
    SubStatus,
    SubStatusDesc,
    ApiUser,
    Recipients,
    RequestTime,
    ModifiedTime,
    SendLog,
}

impl RowKey {
    fn of(key: &str) -> Option<RowKey> {
        Some(match key {
            "emailId" => RowKey::EmailId,
            "status" => RowKey::Status,
            "subStatus" => RowKey::SubStatus,
            "subStatusDesc" => RowKey::SubStatusDesc,
            "apiUser" => RowKey::ApiUser,
            "recipients" => RowKey::Recipients,
            "requestTime" => RowKey::RequestTime,
            "modifiedTime" => RowKey::ModifiedTime,
            "sendLog" => RowKey::SendLog,
            _ => return None,
        })
    }
}

/// A row key: known ones without allocating, unknown ones kept by name.
enum Key {
    Known(RowKey),
    Unknown(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E>(self, k: &str) -> Result<Key, E> {
                Ok(RowKey::of(k).map_or_else(|| Key::Unknown(k.to_owned()), Key::Known))
            }
        }
        d.deserialize_identifier(V)
    }
}

impl<'de> Visitor<'de> for RowSeed {
    type Value = Record;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let mut extra = BTreeMap::new();
        let mut text: [Option<String>; 9] = Default::default();
        let mut sub_status = None;
        let (mut request_time, mut modified_time) = (None, None);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Unknown(name) => {
                    extra.insert(name, map.next_value::<serde_json::Value>()?);
                }
                Key::Known(RowKey::SubStatus) => match map.next_value::<Scalar>()? {
                    Scalar::Null => {}
                    Scalar::Str(s) if s.trim().is_empty() => {}
                    v => match v.as_u64().and_then(|c| u16::try_from(c).ok()) {
                        Some(code) => sub_status = Some(SubStatus::from_code(code)),
                        None => {
                            extra.insert("subStatus".to_owned(), v.into_json());
                        }
                    },
                },
                Key::Known(k @ (RowKey::RequestTime | RowKey::ModifiedTime)) => {
                    // Parsed from the borrowed text: no copy of the usual form.
                    match map.next_value_seed(TimeSeed { offset: self.offset })? {
                        TimeValue::Null => {}
                        TimeValue::Time(t) if matches!(k, RowKey::RequestTime) => request_time = Some(t),
                        TimeValue::Time(t) => modified_time = Some(t),
                        TimeValue::Other(json) => {
                            extra.insert(key_name(k).to_owned(), json);
                        }
                    }
                }
                Key::Known(k) => {
                    let v = map.next_value::<Scalar>()?;
                    match v {
                        Scalar::Null => {}
                        Scalar::Other(json) => {
                            extra.insert(key_name(k).to_owned(), json);
                        }
                        v => text[k as usize] = v.into_string(),
                    }
                }
            }
        }
        let [email_id, status, _, desc, api_user, recipient, _, _, send_log] = text;
        let category = Category::derive(status.as_deref(), sub_status);
        let sub_status_description =
            desc.filter(|d| !d.trim().is_empty()).or_else(|| sub_status.map(|s| s.describe(Language::English)));
        Ok(Record {
            email_id,
            status,
            category,
            sub_status,
            sub_status_description,
            api_user,
            recipient,
            request_time,
            modified_time,
            send_log,
            extra,
        })
    }
}

/// A time field: text (parsed in place), null, or an unexpected shape kept as JSON.
enum TimeValue {
    Null,
    Time(ServerTime),
    Other(serde_json::Value),
}

struct TimeSeed {
    offset: FixedOffset,
}

impl<'de> DeserializeSeed<'de> for TimeSeed {
    type Value = TimeValue;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<TimeValue, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TimeSeed {
    type Value = TimeValue;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a time")
    }
    fn visit_str<E>(self, s: &str) -> Result<TimeValue, E> {
        Ok(TimeValue::Time(ServerTime::parse(s, self.offset)))
    }
    fn visit_unit<E>(self) -> Result<TimeValue, E> {
        Ok(TimeValue::Null)
    }
    fn visit_none<E>(self) -> Result<TimeValue, E> {
        Ok(TimeValue::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<TimeValue, E> {
        Ok(TimeValue::Time(ServerTime::parse(&b.to_string(), self.offset)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<TimeValue, E> {
        Ok(TimeValue::Time(ServerTime::parse(&i.to_string(), self.offset)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<TimeValue, E> {
        Ok(TimeValue::Time(ServerTime::parse(&u.to_string(), self.offset)))
    }
    fn visit_f64<E>(self, f: f64) -> Result<TimeValue, E> {
        Ok(TimeValue::Time(ServerTime::parse(&f.to_string(), self.offset)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<TimeValue, A::Error> {
        serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(TimeValue::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TimeValue, A::Error> {
        serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(TimeValue::Other)
    }
}

fn key_name(k: RowKey) -> &'static str {
    match k {
        RowKey::EmailId => "emailId",
        RowKey::Status => "status",
        RowKey::SubStatus => "subStatus",
        RowKey::SubStatusDesc => "subStatusDesc",
        RowKey::ApiUser => "apiUser",
        RowKey::Recipients => "recipients",
        RowKey::RequestTime => "requestTime",
        RowKey::ModifiedTime => "modifiedTime",
        RowKey::SendLog => "sendLog",
    }
}

/// Any JSON value, with scalars kept cheaply.
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Other(serde_json::Value),
}

impl Scalar {
    fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::Int(i) => Some(*i),
            Scalar::UInt(u) => i64::try_from(*u).ok(),
            Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some(*f as i64),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn as_u64(&self) -> Option<u64> {
        self.as_i64().and_then(|i| u64::try_from(i).ok())
    }

    fn into_string(self) -> Option<String> {
        match self {
            Scalar::Null => None,
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Int(i) => Some(i.to_string()),
            Scalar::UInt(u) => Some(u.to_string()),
            Scalar::Float(f) => Some(f.to_string()),
            Scalar::Str(s) => Some(s),
            Scalar::Other(v) => Some(v.to_string()),
        }
    }

    fn into_json(self) -> serde_json::Value {
        match self {
            Scalar::Null => serde_json::Value::Null,
            Scalar::Bool(b) => b.into(),
            Scalar::Int(i) => i.into(),
            Scalar::UInt(u) => u.into(),
            Scalar::Float(f) => f.into(),
            Scalar::Str(s) => s.into(),
            Scalar::Other(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Scalar, E> {
                Ok(Scalar::UInt(u))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
                serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
                serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(body: &str) -> Result<PageBody> {
        Decoder::default().decode(200, body.as_bytes())
    }

    #[test]
    fn lenient_numbers_and_keys() {
        for total in [r#""5""#, "5", "5.0"] {
            let p =
                dec(&format!(r#"{{"result":true,"statusCode":200,"info":{{"total":{total},"voList":[]}}}}"#)).unwrap();
            assert_eq!(p.total, Some(5), "{total}");
        }
        for total in [r#""""#, "null", r#""abc""#, "-1"] {
            let p = dec(&format!(r#"{{"result":true,"statuscode":200,"info":{{"total":{total}}}}}"#)).unwrap();
            assert_eq!(p.total, None, "{total}");
        }
    }

    #[test]
    fn info_shapes() {
        let inner = r#"{\"total\":\"1\",\"voListSize\":1,\"voList\":[{\"emailId\":\"x\"}]}"#;
        let p = dec(&format!(r#"{{"result":true,"statusCode":200,"info":"{inner}"}}"#)).unwrap();
        assert_eq!(p.records.len(), 1);
        for info in ["null", "{}", r#""""#] {
            let p = dec(&format!(r#"{{"result":true,"statusCode":200,"info":{info}}}"#)).unwrap();
            assert!(p.records.is_empty());
        }
        assert!(dec(r#"{"result":true,"statusCode":200}"#).unwrap().records.is_empty());
    }

    #[test]
    fn rows_keep_unknown_and_mistyped_fields() {
        let p = dec(r#"{"result":true,"statusCode":200,"info":{"voList":[
            {"emailId":123,"status":"Invalid Mail - Spam","subStatus":"abc","labelId":7,"sendLog":{"a":1},"recipients":null}]}}"#)
        .unwrap();
        let r = &p.records[0];
        assert_eq!(r.email_id.as_deref(), Some("123"));
        assert_eq!(r.category, Category::Invalid);
        assert_eq!(r.sub_status, None);
        assert_eq!(r.extra["subStatus"], "abc");
        assert_eq!(r.extra["labelId"], 7);
        assert_eq!(r.extra["sendLog"]["a"], 1);
        assert_eq!(r.send_log, None);
        assert_eq!(r.recipient, None);
    }

    #[test]
    fn sub_status_forms() {
        for (v, want) in
            [("406", Some(406)), (r#""406""#, Some(406)), ("null", None), (r#""""#, None), ("777", Some(777))]
        {
            let p = dec(&format!(r#"{{"result":true,"statusCode":200,"info":{{"voList":[{{"subStatus":{v}}}]}}}}"#))
                .unwrap();
            assert_eq!(p.records[0].sub_status.map(|s| s.code()), want, "{v}");
        }
    }

    #[test]
    fn errors_classify_by_code_not_text() {
        let kind = |status: u16, body: &str| Decoder::default().decode(status, body.as_bytes()).unwrap_err().kind();
        assert_eq!(kind(200, r#"{"result":false,"statusCode":40005,"message":"whatever"}"#), ErrorKind::Auth);
        assert_eq!(
            kind(200, r#"{"result":false,"statusCode":50000,"message":"authentication failed"}"#),
            ErrorKind::RateLimited
        );
        assert_eq!(kind(200, r#"{"result":false,"statusCode":40913}"#), ErrorKind::Quota);
        assert_eq!(kind(200, r#"{"result":false,"statusCode":501}"#), ErrorKind::Server);
        assert_eq!(kind(200, r#"{"result":false,"statusCode":40012}"#), ErrorKind::Validation);
        assert_eq!(kind(200, r#"{"result":false,"statusCode":200}"#), ErrorKind::Api);
        assert_eq!(kind(200, r#"{"result":true,"statusCode":40005}"#), ErrorKind::Auth);
        assert_eq!(kind(200, r#"{"result":false,"statusCode":99999}"#), ErrorKind::Api);
        assert_eq!(kind(502, "<html><title>502 Bad Gateway</title></html>"), ErrorKind::Server);
        assert_eq!(kind(401, ""), ErrorKind::Auth);
        assert_eq!(kind(429, "slow down"), ErrorKind::RateLimited);
        assert_eq!(kind(200, r#"{"result":true,"statusCode":200,"info":{"voList":[{"emailId":"#), ErrorKind::Decode);
        assert_eq!(kind(200, "<html>"), ErrorKind::Decode);
        assert_eq!(kind(500, r#"{"result":true,"statusCode":200}"#), ErrorKind::Server);
        let e = Decoder::default()
            .decode(200, br#"{"result":false,"statusCode":40012,"message":"email invalid"}"#)
            .unwrap_err();
        assert_eq!((e.api_code(), e.field()), (Some(40012), Some("email")));
        assert_eq!(e.message(), "the server rejected email (API code 40012: email invalid)");
    }
}
