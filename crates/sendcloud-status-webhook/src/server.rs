//! The HTTP side: accept loop, one task per connection, the request handler.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use sendcloud_status::chrono::{FixedOffset, Utc};
use sendcloud_status::core::webhook::{Verdict, Verifier, WebhookError};
use sendcloud_status_archive::EventWrite;
use serde_json::json;

use crate::tokens::RecentTokens;
use crate::writer::Writer;
use crate::{Counters, HEALTH_PATH, ReceiverConfig};

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct State {
    verifier: Verifier,
    path: String,
    max_body: usize,
    answer_budget: Duration,
    header_timeout: Duration,
    shutdown_grace: Duration,
    offset: FixedOffset,
    writer: Writer,
    counters: Arc<Counters>,
    tokens: RecentTokens,
}

impl State {
    pub fn new(config: &ReceiverConfig, writer: Writer, counters: Arc<Counters>) -> State {
        let tolerance_ms = i64::try_from(config.tolerance.as_millis()).unwrap_or(i64::MAX);
        State {
            verifier: Verifier::new(config.key.clone()).with_tolerance(config.tolerance),
            path: config.path.clone(),
            max_body: config.max_body,
            answer_budget: config.answer_budget,
            header_timeout: config.header_timeout,
            shutdown_grace: config.shutdown_grace,
            offset: config.server_offset,
            writer,
            counters,
            tokens: RecentTokens::new(tolerance_ms),
        }
    }
}

/// Serves until the shutdown flag turns true, then drains: requests in
/// progress finish (up to the grace), then the writer's queue.
pub(crate) fn run(
    rt: &tokio::runtime::Runtime,
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    rt.block_on(async {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                log::error!("webhook receiver: {e}");
                return;
            }
        };
        let graceful = GracefulShutdown::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let stream = match accepted {
                        Ok((stream, _)) => stream,
                        Err(e) => {
                            // Out of file descriptors and the like: back off a little.
                            log::warn!("webhook receiver: accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let st = Arc::clone(&state);
                    let service = service_fn(move |req| {
                        let st = Arc::clone(&st);
                        async move { Ok::<_, Infallible>(handle(&st, req).await) }
                    });
                    let mut builder = http1::Builder::new();
                    builder.timer(TokioTimer::new()).header_read_timeout(state.header_timeout).keep_alive(true);
                    let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            log::debug!("webhook connection: {e}");
                        }
                    });
                }
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
        drop(listener);
        log::info!("webhook receiver: stopping; {} connections open", graceful.count());
        if tokio::time::timeout(state.shutdown_grace, graceful.shutdown()).await.is_err() {
            log::warn!("webhook receiver: requests still in progress after the grace period were cut");
        }
    });
    // Every answer sent so far waited for its commit; commit what is queued.
    state.writer.close();
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, body: serde_json::Value) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn refused(status: StatusCode, kind: &str, message: impl std::fmt::Display) -> Answer {
    answer(status, json!({ "ok": false, "error": kind, "message": message.to_string() }))
}

async fn handle(st: &State, req: Request<Incoming>) -> Answer {
    let path = req.uri().path();
    if path == HEALTH_PATH {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return method_not_allowed("GET");
        }
        let s = st.counters.snapshot();
        return answer(
            StatusCode::OK,
            json!({
                "status": "ok",
                "path": st.path,
                "requests": s.requests,
                "stored": s.stored,
                "repeated": s.repeated,
                "bad_signature": s.bad_signature,
                "stale": s.stale,
                "malformed": s.malformed,
                "too_large": s.too_large,
                "failed": s.failed,
            }),
        );
    }
    if path != st.path {
        return refused(StatusCode::NOT_FOUND, "not_found", "no such path");
    }
    if req.method() != Method::POST {
        return method_not_allowed("POST");
    }
    Counters::bump(&st.counters.requests);
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > st.max_body as u64) {
        Counters::bump(&st.counters.too_large);
        return too_large(st.max_body);
    }
    let body = match tokio::time::timeout(st.header_timeout, Limited::new(req.into_body(), st.max_body).collect()).await
    {
        Err(_) => {
            Counters::bump(&st.counters.malformed);
            return refused(StatusCode::REQUEST_TIMEOUT, "timeout", "the body did not arrive in time");
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Counters::bump(&st.counters.too_large);
            return too_large(st.max_body);
        }
        Ok(Err(e)) => {
            Counters::bump(&st.counters.malformed);
            return refused(StatusCode::BAD_REQUEST, "malformed", format!("unreadable body: {e}"));
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let now = Utc::now();
    let event = match st.verifier.verify(&body, now, &st.tokens) {
        Ok(Verdict::New(event)) => event,
        Ok(Verdict::Repeated(event)) => {
            Counters::bump(&st.counters.repeated);
            log::debug!("webhook {} {}: repeated token", event.kind, event.email_id);
            return answer(StatusCode::OK, json!({ "ok": true, "stored": false, "repeat": "token" }));
        }
        Err(e) => {
            let counter = match e {
                WebhookError::BadSignature => &st.counters.bad_signature,
                WebhookError::Stale { .. } => &st.counters.stale,
                _ => &st.counters.malformed,
            };
            Counters::bump(counter);
            log::info!("webhook refused: {e}");
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            return refused(status, e.kind(), &e);
        }
    };
    let (token, event_ms) = (event.token.clone(), event.time.timestamp_millis());
    let received_at = now.with_timezone(&st.offset).naive_local();
    let Some(reply) = st.writer.submit(event, received_at) else {
        Counters::bump(&st.counters.failed);
        return refused(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the receiver is stopping; retry later");
    };
    match tokio::time::timeout(st.answer_budget, reply).await {
        Ok(Ok(Ok(write))) => {
            st.tokens.insert(&token, event_ms, now.timestamp_millis());
            if let EventWrite::Stored { .. } = write {
                Counters::bump(&st.counters.stored);
                answer(StatusCode::OK, json!({ "ok": true, "stored": true }))
            } else {
                Counters::bump(&st.counters.repeated);
                let repeat = if write == EventWrite::RepeatedToken { "token" } else { "event" };
                answer(StatusCode::OK, json!({ "ok": true, "stored": false, "repeat": repeat }))
            }
        }
        Ok(Ok(Err(e))) => {
            Counters::bump(&st.counters.failed);
            refused(StatusCode::INTERNAL_SERVER_ERROR, "storage", e)
        }
        Ok(Err(_)) => {
            Counters::bump(&st.counters.failed);
            refused(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the receiver is stopping; retry later")
        }
        Err(_) => {
            Counters::bump(&st.counters.failed);
            refused(StatusCode::SERVICE_UNAVAILABLE, "busy", "the archive is busy; retry later")
        }
    }
}

fn method_not_allowed(allow: &'static str) -> Answer {
    let mut r = refused(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("use {allow}"));
    r.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
    r
}

fn too_large(max: usize) -> Answer {
    refused(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the body is larger than {max} bytes"))
}
