//! The only place that touches the network: one ureq `Agent` (rustls,
//! keep-alive) that sends an encoded request and returns status and body.

use std::time::Duration;

use log::{debug, trace};
use sendcloud_status_core::{Error, HttpRequest, TransportErrorKind};

/// What came back for one request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// An HTTP answer, whatever its status (error statuses carry bodies).
    Response { status: u16, body: Vec<u8> },
    /// No usable answer.
    Failed { kind: TransportErrorKind },
    /// The request could not be sent at all (it cannot be turned into HTTP,
    /// or sending it panicked). Not retried: the same request would fail the
    /// same way.
    Unsendable(Error),
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    /// `None`: no proxy. `Some(None)`: from the environment. `Some(Some(url))`: that proxy.
    pub(crate) proxy: ProxySetting,
    pub(crate) max_idle_connections: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProxySetting {
    None,
    FromEnv,
    Url(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Transport {
    agent: ureq::Agent,
}

impl Transport {
    pub(crate) fn new(config: &TransportConfig) -> Result<Self, Error> {
        let proxy = match &config.proxy {
            ProxySetting::None => None,
            ProxySetting::FromEnv => ureq::Proxy::try_from_env(),
            // ureq's message does not echo the URL (which may hold a password).
            ProxySetting::Url(url) => Some(
                ureq::Proxy::new(url)
                    .map_err(|e| Error::validation("proxy", format!("not a usable proxy URL: {e}")))?,
            ),
        };
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.request_timeout))
            .max_idle_connections(config.max_idle_connections.max(2))
            .max_idle_connections_per_host(config.max_idle_connections.max(2))
            .max_redirects(0)
            .proxy(proxy)
            // The encoder sets User-Agent and Accept.
            .user_agent(ureq::config::AutoHeaderValue::None)
            .accept(ureq::config::AutoHeaderValue::None)
            .build();
        Ok(Transport { agent: ureq::Agent::new_with_config(agent_config) })
    }

    /// Sends one request. Failures are logged (key redacted) and classified.
    pub(crate) fn execute(&self, request: &HttpRequest) -> Outcome {
        debug!("{} {}", request.method(), request.redacted_url());
        trace!("request body: {}", request.redacted_body());
        let http = match request.to_http() {
            Ok(http) => http,
            Err(e) => {
                debug!("{} {} not sent: {e}", request.method(), request.redacted_url());
                return Outcome::Unsendable(e);
            }
        };
        let mut response = match self.agent.run(http) {
            Ok(r) => r,
            Err(e) => {
                let kind = classify(&e, false);
                debug!("{} {} failed: {kind:?}: {}", request.method(), request.redacted_url(), describe(&e));
                return Outcome::Failed { kind };
            }
        };
        let status = response.status().as_u16();
        match response.body_mut().with_config().limit(64 * 1024 * 1024).read_to_vec() {
            Ok(body) => {
                debug!("HTTP {status}, {} bytes", body.len());
                Outcome::Response { status, body }
            }
            Err(e) => {
                let kind = classify(&e, true);
                debug!("HTTP {status}, body read failed: {kind:?}: {}", describe(&e));
                Outcome::Failed { kind }
            }
        }
    }
}

/// Maps ureq's errors onto the core's transport kinds (what to retry).
fn classify(e: &ureq::Error, reading_body: bool) -> TransportErrorKind {
    use std::io::ErrorKind as Io;
    use ureq::Error as E;
    match e {
        E::Timeout(_) | E::BodyStalled => TransportErrorKind::Timeout,
        E::HostNotFound => TransportErrorKind::Dns,
        E::ConnectionFailed | E::ConnectProxyFailed(_) => TransportErrorKind::Connect,
        E::Io(io) => match io.kind() {
            Io::TimedOut | Io::WouldBlock => TransportErrorKind::Timeout,
            Io::ConnectionRefused => TransportErrorKind::Refused,
            Io::AddrNotAvailable | Io::NotConnected => TransportErrorKind::Connect,
            Io::UnexpectedEof if reading_body => TransportErrorKind::BodyIncomplete,
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => {
                TransportErrorKind::ConnectionReset
            }
            _ if reading_body => TransportErrorKind::BodyIncomplete,
            _ => TransportErrorKind::Other,
        },
        E::Protocol(_) if reading_body => TransportErrorKind::BodyIncomplete,
        E::Protocol(_) => TransportErrorKind::ConnectionReset,
        E::Tls(_) | E::Rustls(_) | E::Pem(_) | E::TlsRequired => TransportErrorKind::Tls,
        E::BadUri(_) | E::Http(_) | E::InvalidProxyUrl => TransportErrorKind::Fatal,
        E::RequireHttpsOnly(_) | E::BodyExceedsLimit(_) | E::TooManyRedirects | E::RedirectFailed => {
            TransportErrorKind::Fatal
        }
        _ if reading_body => TransportErrorKind::BodyIncomplete,
        _ => TransportErrorKind::Other,
    }
}

/// ureq's message, which holds no request parameters (the key travels in
/// the POST body or, for GET, in a URL ureq does not echo).
fn describe(e: &ureq::Error) -> String {
    sendcloud_status_core::request::redact_form(&e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;
    use TransportErrorKind::*;

    fn io(kind: io::ErrorKind) -> ureq::Error {
        ureq::Error::Io(io::Error::new(kind, "test"))
    }

    fn http_error() -> ureq::Error {
        ureq::Error::Http(http::Request::builder().uri("\n").body(()).unwrap_err())
    }

    /// Every ureq error this client can meet, with its class while waiting
    /// for the answer and while reading the body.
    #[test]
    fn every_ureq_error_has_a_retry_class() {
        use io::ErrorKind as Io;
        use ureq::Error as E;
        let cases: Vec<(&str, ureq::Error, TransportErrorKind, TransportErrorKind)> = vec![
            ("global timeout", E::Timeout(ureq::Timeout::Global), Timeout, Timeout),
            ("connect timeout", E::Timeout(ureq::Timeout::Connect), Timeout, Timeout),
            ("per-read timeout", E::Timeout(ureq::Timeout::PerRead), Timeout, Timeout),
            ("body stalled", E::BodyStalled, Timeout, Timeout),
            ("host not found", E::HostNotFound, Dns, Dns),
            ("connection failed", E::ConnectionFailed, Connect, Connect),
            ("proxy CONNECT failed", E::ConnectProxyFailed("502".into()), Connect, Connect),
            ("io timed out", io(Io::TimedOut), Timeout, Timeout),
            ("io would block", io(Io::WouldBlock), Timeout, Timeout),
            ("io refused", io(Io::ConnectionRefused), Refused, Refused),
            ("io address not available", io(Io::AddrNotAvailable), Connect, Connect),
            ("io not connected", io(Io::NotConnected), Connect, Connect),
            ("io reset", io(Io::ConnectionReset), ConnectionReset, ConnectionReset),
            ("io aborted", io(Io::ConnectionAborted), ConnectionReset, ConnectionReset),
            ("io broken pipe", io(Io::BrokenPipe), ConnectionReset, ConnectionReset),
            ("io eof", io(Io::UnexpectedEof), ConnectionReset, BodyIncomplete),
            ("io other", io(Io::Other), Other, BodyIncomplete),
            ("decompress", E::Decompress("gzip", io::Error::other("bad")), Other, BodyIncomplete),
            ("large header", E::LargeResponseHeader(100_000, 64_000), Other, BodyIncomplete),
            ("boxed other", E::Other("odd".into()), Other, BodyIncomplete),
            ("status as error", E::StatusCode(500), Other, BodyIncomplete),
            ("tls", E::Tls("bad certificate"), Tls, Tls),
            ("tls required", E::TlsRequired, Tls, Tls),
            ("bad uri", E::BadUri("x".into()), Fatal, Fatal),
            ("http crate", http_error(), Fatal, Fatal),
            ("invalid proxy", E::InvalidProxyUrl, Fatal, Fatal),
            ("https only", E::RequireHttpsOnly("http://x".into()), Fatal, Fatal),
            ("body limit", E::BodyExceedsLimit(64), Fatal, Fatal),
            ("too many redirects", E::TooManyRedirects, Fatal, Fatal),
            ("redirect failed", E::RedirectFailed, Fatal, Fatal),
        ];
        for (name, e, waiting, reading) in cases {
            assert_eq!(classify(&e, false), waiting, "{name}, waiting for the answer");
            assert_eq!(classify(&e, true), reading, "{name}, reading the body");
        }
    }

    #[test]
    fn descriptions_redact_form_keys() {
        let e = ureq::Error::BadUri("http://h/?apiUser=u&apiKey=SECRET&days=1".into());
        let text = describe(&e);
        assert!(!text.contains("SECRET") && text.contains("apiKey=***"), "{text}");
    }

    #[test]
    fn unusable_proxies_are_validation_errors() {
        for bad in ["", "not a url", "ftp://proxy.example:21", "http://user:%ff@proxy.example:3128"] {
            let config = TransportConfig {
                connect_timeout: Duration::from_secs(1),
                request_timeout: Duration::from_secs(1),
                proxy: ProxySetting::Url(bad.into()),
                max_idle_connections: 2,
            };
            let e = Transport::new(&config).unwrap_err();
            assert_eq!((e.kind(), e.field()), (sendcloud_status_core::ErrorKind::Validation, Some("proxy")), "{bad:?}");
            assert!(!e.message().contains("%ff"), "{e}");
        }
    }
}
