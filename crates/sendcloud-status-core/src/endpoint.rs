//! Where requests go: the documented region presets (`docs/protocol.md` §1) and custom
//! base URLs, each with its maximum query window.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::error::{Error, Result, ValidationReason};
use crate::settings;

/// The path of this endpoint below a base URL.
pub const EMAIL_STATUS_PATH: &str = "data/emailStatus";

/// A documented deployment of the API. An account belongs to one region;
/// its credentials fail elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Region {
    /// Aurora SendCloud, Singapore (the default).
    #[default]
    AuroraSg,
    /// Aurora SendCloud, United States.
    AuroraUs,
    /// Aurora SendCloud, Hong Kong.
    AuroraHk,
    /// SendCloud international (`api2.sendcloud.net`).
    SendcloudIntl,
    /// SendCloud China, API v2 (`api.sendcloud.net/apiv2`), 30-day windows.
    SendcloudCn,
}

impl Region {
    /// Every preset, in documentation order.
    pub const ALL: [Region; 5] =
        [Region::AuroraSg, Region::AuroraUs, Region::AuroraHk, Region::SendcloudIntl, Region::SendcloudCn];

    /// The preset's name: `aurora-sg`, `aurora-us`, `aurora-hk`,
    /// `sendcloud-intl`, `sendcloud-cn`.
    pub fn name(self) -> &'static str {
        match self {
            Region::AuroraSg => "aurora-sg",
            Region::AuroraUs => "aurora-us",
            Region::AuroraHk => "aurora-hk",
            Region::SendcloudIntl => "sendcloud-intl",
            Region::SendcloudCn => "sendcloud-cn",
        }
    }

    /// The documented base URL (ends with `/`).
    pub fn base_url(self) -> &'static str {
        match self {
            Region::AuroraSg => "https://api.aurorasendcloud.com/api/",
            Region::AuroraUs => "https://api-us.aurorasendcloud.com/api/",
            Region::AuroraHk => "https://api-hk.aurorasendcloud.com/api/",
            Region::SendcloudIntl => "https://api2.sendcloud.net/api/",
            Region::SendcloudCn => "https://api.sendcloud.net/apiv2/",
        }
    }

    /// The longest window (inclusive calendar days) one request may span.
    pub fn max_window_days(self) -> u32 {
        match self {
            Region::SendcloudCn => 30,
            _ => 3,
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Region {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Region::ALL.into_iter().find(|r| r.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            let names: Vec<_> = Region::ALL.iter().map(|r| r.name()).collect();
            Error::invalid_value(
                "region",
                ValidationReason::UnknownName,
                format!("unknown region {s:?}; expected one of {}", names.join(", ")),
            )
        })
    }
}

/// A base URL plus its window maximum: everything that differs between
/// deployments.
///
/// ```
/// use sendcloud_status_core::{Endpoint, Region};
/// let e = Endpoint::preset(Region::SendcloudCn);
/// assert_eq!(e.url(), "https://api.sendcloud.net/apiv2/data/emailStatus");
/// assert_eq!(e.max_window_days(), 30);
/// assert!(Endpoint::custom("http://example.com/api/").is_err()); // plain HTTP off loopback
/// assert!(Endpoint::custom("http://127.0.0.1:8080/api").is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    base_url: String,
    region: Option<Region>,
    max_window_days: u32,
}

impl Endpoint {
    /// A documented region.
    pub fn preset(region: Region) -> Self {
        Endpoint {
            base_url: region.base_url().to_owned(),
            region: Some(region),
            max_window_days: region.max_window_days(),
        }
    }

    /// Any base URL (the endpoint is `base + "data/emailStatus"`), with a
    /// 3-day window unless changed by [`Endpoint::with_max_window_days`].
    ///
    /// HTTPS is required, except for loopback hosts (`127.0.0.0/8`, `::1`,
    /// `localhost`) used by tests and the sandbox: the key travels in the
    /// request and must not cross a network in clear text.
    pub fn custom(base_url: &str) -> Result<Self> {
        let uri: http::Uri = base_url.trim().parse().map_err(|e| {
            Error::invalid_value("base_url", ValidationReason::Malformed, format!("{base_url:?} is not a URL ({e})"))
        })?;
        let scheme = uri.scheme_str().unwrap_or("");
        let host = uri.host().ok_or_else(|| {
            Error::invalid_value("base_url", ValidationReason::Malformed, format!("{base_url:?} has no host"))
        })?;
        match scheme {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => {
                return Err(Error::invalid_value(
                    "base_url",
                    ValidationReason::Other,
                    format!("plain http:// is only allowed for loopback hosts, not {host:?}; use https://"),
                ));
            }
            other => {
                return Err(Error::invalid_value(
                    "base_url",
                    ValidationReason::Malformed,
                    format!("unsupported scheme {other:?}; use https://"),
                ));
            }
        }
        if uri.query().is_some() {
            return Err(Error::invalid_value(
                "base_url",
                ValidationReason::Malformed,
                "must not contain a query string",
            ));
        }
        let mut base = format!("{scheme}://{}{}", uri.authority().map(|a| a.as_str()).unwrap_or(host), uri.path());
        if !base.ends_with('/') {
            base.push('/');
        }
        let region = Region::ALL.into_iter().find(|r| r.base_url() == base);
        let max_window_days = region.map_or(settings::DEFAULT_MAX_WINDOW_DAYS, Region::max_window_days);
        Ok(Endpoint { base_url: base, region, max_window_days })
    }

    /// Overrides the window maximum ([`settings::MAX_WINDOW_DAYS`]: 1 to
    /// 3660 days).
    pub fn with_max_window_days(mut self, days: u32) -> Result<Self> {
        self.max_window_days = settings::MAX_WINDOW_DAYS.check_u32("max_window_days", i64::from(days))?;
        Ok(self)
    }

    /// The base URL, ending with `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The full URL of the `emailStatus` endpoint.
    pub fn url(&self) -> String {
        format!("{}{EMAIL_STATUS_PATH}", self.base_url)
    }

    /// The preset this endpoint is, if any.
    pub fn region(&self) -> Option<Region> {
        self.region
    }

    /// The longest window one request may span, in inclusive calendar days.
    pub fn max_window_days(&self) -> u32 {
        self.max_window_days
    }

    /// Whether the host is a loopback address (`127.0.0.0/8`, `::1`,
    /// `localhost`): a sandbox or a test server, not the vendor. The one
    /// rule for "plain HTTP is allowed" and "never through a proxy".
    pub fn is_loopback(&self) -> bool {
        self.base_url.parse::<http::Uri>().ok().and_then(|u| u.host().map(is_loopback)).unwrap_or(false)
    }

    /// A short description for error messages: region name and base URL.
    pub fn describe(&self) -> String {
        match self.region {
            Some(r) => format!("region {r} ({})", self.base_url),
            None => format!("custom base URL {}", self.base_url),
        }
    }
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint::preset(Region::default())
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_reference_table() {
        assert_eq!(Endpoint::default().url(), "https://api.aurorasendcloud.com/api/data/emailStatus");
        for r in Region::ALL {
            let e = Endpoint::preset(r);
            assert!(e.url().ends_with("/data/emailStatus"));
            assert_eq!(r.name().parse::<Region>().unwrap(), r);
        }
        assert_eq!(Endpoint::preset(Region::AuroraUs).max_window_days(), 3);
    }

    #[test]
    fn custom_urls_need_https_or_loopback() {
        for ok in ["https://example.com/api", "http://localhost:1/api/", "http://127.0.0.2/x/", "http://[::1]:9/api/"] {
            let e = Endpoint::custom(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(e.base_url().ends_with('/'));
        }
        for bad in ["http://10.0.0.1/api/", "http://example.com/", "ftp://127.0.0.1/", "not a url", "https://x/a?b=c"] {
            let err = Endpoint::custom(bad).unwrap_err();
            assert_eq!(err.field(), Some("base_url"), "{bad}");
        }
    }

    #[test]
    fn custom_url_equal_to_a_preset_keeps_its_window() {
        let e = Endpoint::custom("https://api.sendcloud.net/apiv2").unwrap();
        assert_eq!(e.region(), Some(Region::SendcloudCn));
        assert_eq!(e.max_window_days(), 30);
        assert_eq!(
            Endpoint::custom("http://127.0.0.1:5/api/").unwrap().with_max_window_days(7).unwrap().max_window_days(),
            7
        );
    }

    #[test]
    fn loopback_is_one_rule() {
        for (url, loopback) in [
            ("http://127.0.0.1:9/api/", true),
            ("http://127.8.9.10/api/", true),
            ("https://localhost/api/", true),
            ("http://[::1]:8080/", true),
            ("https://api.aurorasendcloud.com/api/", false),
            ("https://10.0.0.1/api/", false),
        ] {
            assert_eq!(Endpoint::custom(url).unwrap().is_loopback(), loopback, "{url}");
        }
        assert!(Region::ALL.iter().all(|&r| !Endpoint::preset(r).is_loopback()));
    }

    #[test]
    fn window_maximum_bounds() {
        let e = Endpoint::default().with_max_window_days(0).unwrap_err();
        assert_eq!(e.explanation(), "must be from 1 to 3660, got 0");
        assert!(Endpoint::default().with_max_window_days(3661).is_err());
        assert_eq!(Endpoint::default().with_max_window_days(3660).unwrap().max_window_days(), 3660);
    }

    #[test]
    fn unknown_region_names_the_choices() {
        let e = "mars".parse::<Region>().unwrap_err();
        assert!(e.message().contains("aurora-sg"));
    }
}
