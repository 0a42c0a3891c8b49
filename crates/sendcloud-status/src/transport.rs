//! The only place that touches the network: one ureq `Agent` (rustls,
//! keep-alive) that sends an encoded request and returns status and body.

use std::time::Duration;

use log::{debug, trace};
use sendcloud_status_core::{HttpRequest, TransportErrorKind};

/// What came back for one request.
pub(crate) enum Outcome {
    /// An HTTP answer, whatever its status (error statuses carry bodies).
    Response { status: u16, body: Vec<u8> },
    /// No usable answer.
    Failed { kind: TransportErrorKind },
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
    pub(crate) fn new(config: &TransportConfig) -> Result<Self, sendcloud_status_core::Error> {
        let proxy = match &config.proxy {
            ProxySetting::None => None,
            ProxySetting::FromEnv => ureq::Proxy::try_from_env(),
            ProxySetting::Url(url) => Some(ureq::Proxy::new(url).map_err(|e| {
                sendcloud_status_core::Error::validation("proxy", format!("not a usable proxy URL: {e}"))
            })?),
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
        let mut response = match self.agent.run(request.to_http()) {
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
        E::HostNotFound | E::ConnectionFailed => TransportErrorKind::Connect,
        E::Io(io) => match io.kind() {
            Io::TimedOut | Io::WouldBlock => TransportErrorKind::Timeout,
            Io::ConnectionRefused | Io::AddrNotAvailable | Io::NotConnected => TransportErrorKind::Connect,
            Io::UnexpectedEof if reading_body => TransportErrorKind::BodyIncomplete,
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => {
                TransportErrorKind::ConnectionReset
            }
            _ if reading_body => TransportErrorKind::BodyIncomplete,
            _ => TransportErrorKind::Other,
        },
        E::Protocol(_) if reading_body => TransportErrorKind::BodyIncomplete,
        E::Protocol(_) => TransportErrorKind::ConnectionReset,
        E::Tls(_) | E::Rustls(_) | E::Pem(_) | E::TlsRequired | E::BadUri(_) | E::Http(_) | E::InvalidProxyUrl => {
            TransportErrorKind::Fatal
        }
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
