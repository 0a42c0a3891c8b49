//! Event webhooks: `verifyWebhook`, a thin call of the core's
//! [`Verifier::verify`](sendcloud_status::core::webhook::Verifier::verify).
//! Pure and fast (no I/O), so it runs on the calling thread. Whether the
//! token was seen before is the JS wrapper's last step (`seen.has(token)`),
//! exactly where the core checks it: after the parse, the signature and the
//! age.

use std::collections::HashSet;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sendcloud_status::chrono::{TimeZone, Utc};
use sendcloud_status::core::webhook::{AppKey, DEFAULT_TOLERANCE, Verifier, WebhookError};

use crate::error::{guard, js_error};

/// One parsed, verified event, before the JS wrapper adds `time` (a `Date`)
/// and `repeated`.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct NativeWebhookEvent {
    /// One spelling per kind (`delivered`, `invalid`, …, or the normalised name).
    pub kind: String,
    /// `event` as received.
    pub event: String,
    /// `sending`, `delivered`, `invalid` or `soft_bounce` for status events.
    pub category: Option<String>,
    /// `emailId`.
    pub email_id: String,
    /// `recipient`.
    pub recipient: Option<String>,
    /// `apiUser`.
    pub api_user: Option<String>,
    /// `labelId`, when numeric.
    pub label_id: Option<f64>,
    /// `labelName`.
    pub label_name: Option<String>,
    /// `timestamp` as received (the signed text).
    pub timestamp: String,
    /// The time it means, Unix milliseconds.
    pub time_ms: f64,
    /// `token`.
    pub token: String,
    /// `signature` as received.
    pub signature: String,
    /// The bounce sub-status code.
    pub sub_status: Option<u32>,
    /// `message`.
    pub message: Option<String>,
    /// Every other field, as received.
    pub extra: serde_json::Value,
}

/// The core's default tolerance, in milliseconds.
#[napi]
pub fn default_webhook_tolerance_ms() -> f64 {
    DEFAULT_TOLERANCE.as_millis() as f64
}

/// The `code` of a refused delivery. Stable strings.
pub(crate) fn webhook_code(e: &WebhookError) -> &'static str {
    match e {
        WebhookError::Malformed(_) => "WEBHOOK_MALFORMED",
        WebhookError::BadSignature => "WEBHOOK_SIGNATURE",
        WebhookError::Stale { .. } => "WEBHOOK_STALE",
        _ => "WEBHOOK",
    }
}

fn webhook_js_error(env: &Env, e: &WebhookError) -> napi::Error {
    build(env, e).unwrap_or_else(|fallback| fallback)
}

fn build(env: &Env, e: &WebhookError) -> Result<napi::Error> {
    // The core's messages never hold the app key.
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.to_string()))?;
    obj.set_named_property("name", "SendCloudError")?;
    obj.set_named_property("code", webhook_code(e))?;
    obj.set_named_property("apiCode", Option::<f64>::None)?;
    obj.set_named_property("field", Option::<&str>::None)?;
    obj.set_named_property("httpStatus", u32::from(e.http_status()))?;
    obj.set_named_property("retryable", false)?;
    if let WebhookError::Stale { skew_ms, tolerance } = e {
        obj.set_named_property("skewMs", *skew_ms as f64)?;
        obj.set_named_property("toleranceMs", tolerance.as_millis() as f64)?;
    }
    Ok(napi::Error::from(obj.to_unknown()))
}

/// Parses and checks one delivery (parse → signature → age); the event, or
/// a `SendCloudError` thrown with code `WEBHOOK_MALFORMED`,
/// `WEBHOOK_SIGNATURE` or `WEBHOOK_STALE` (`VALIDATION` for an empty key).
#[napi(ts_args_type = "body: string | Buffer, appKey: string, nowMs?: number | null, toleranceMs?: number | null")]
pub fn verify_webhook(
    env: Env,
    body: Either<String, Buffer>,
    app_key: String,
    now_ms: Option<f64>,
    tolerance_ms: Option<f64>,
) -> Result<NativeWebhookEvent> {
    let bytes: &[u8] = match &body {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    };
    let key = AppKey::new(app_key).map_err(|e| js_error(&env, &e))?;
    let now = match now_ms {
        None => Utc::now(),
        Some(ms) => Utc
            .timestamp_millis_opt(ms as i64)
            .single()
            .ok_or_else(|| js_error(&env, &sendcloud_status::Error::validation("now", "is out of range")))?,
    };
    let tolerance = tolerance_ms.map_or(DEFAULT_TOLERANCE, |ms| Duration::from_millis(ms.max(0.0) as u64));
    let verifier = Verifier::new(key).with_tolerance(tolerance);
    let event = guard(|| verifier.verify(bytes, now, &HashSet::<String>::new()))?
        .map_err(|e| webhook_js_error(&env, &e))?
        .into_event();
    Ok(NativeWebhookEvent {
        kind: event.kind.name().to_owned(),
        category: event.category().map(|c| c.name().to_owned()),
        event: event.event,
        email_id: event.email_id,
        recipient: event.recipient,
        api_user: event.api_user,
        label_id: event.label_id.map(|id| id as f64),
        label_name: event.label_name,
        timestamp: event.timestamp,
        time_ms: event.time.timestamp_millis() as f64,
        token: event.token,
        signature: event.signature,
        sub_status: event.sub_status.map(|s| u32::from(s.code())),
        message: event.message,
        extra: serde_json::Value::Object(event.extra.into_iter().collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(webhook_code(&WebhookError::BadSignature), "WEBHOOK_SIGNATURE");
        assert_eq!(webhook_code(&WebhookError::Malformed("x".into())), "WEBHOOK_MALFORMED");
        let stale = WebhookError::Stale { skew_ms: 1, tolerance: Duration::from_secs(1) };
        assert_eq!(webhook_code(&stale), "WEBHOOK_STALE");
    }
}
