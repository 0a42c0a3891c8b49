//! API credentials. The key is kept in a newtype whose `Debug` and `Display`
//! never print it.

use std::fmt;

use crate::error::{Error, Result, ValidationReason};

/// The secret `apiKey`. Formats as `***` everywhere; read it with
/// [`ApiKey::expose`] only to put it on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key. Empty keys are refused.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        if key.trim().is_empty() {
            return Err(Error::invalid_value("api_key", ValidationReason::Missing, "must not be empty"));
        }
        Ok(ApiKey(key))
    }

    /// The key itself, for request encoding.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// An `apiUser` and its `apiKey`.
///
/// ```
/// use sendcloud_status_core::Credentials;
/// let c = Credentials::new("my_user", "s3cret-key").unwrap();
/// assert_eq!(format!("{c:?}"), r#"Credentials { api_user: "my_user", api_key: *** }"#);
/// assert!(!format!("{c}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    api_user: String,
    api_key: ApiKey,
}

impl Credentials {
    /// Both parts must be non-empty.
    pub fn new(api_user: impl Into<String>, api_key: impl Into<String>) -> Result<Self> {
        let api_user = api_user.into();
        if api_user.trim().is_empty() {
            return Err(Error::invalid_value("api_user", ValidationReason::Missing, "must not be empty"));
        }
        Ok(Credentials { api_user, api_key: ApiKey::new(api_key)? })
    }

    /// The `apiUser`.
    pub fn api_user(&self) -> &str {
        &self.api_user
    }

    /// The `apiKey` (redacted when formatted).
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials {{ api_user: {:?}, api_key: *** }}", self.api_user)
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:***", self.api_user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_redacted_in_every_format() {
        let c = Credentials::new("u", "SENTINEL-KEY-123").unwrap();
        for s in [
            format!("{c:?}"),
            format!("{c}"),
            format!("{:?}", c.api_key()),
            format!("{}", c.api_key()),
            format!("{c:#?}"),
        ] {
            assert!(!s.contains("SENTINEL"), "{s}");
        }
        assert_eq!(c.api_key().expose(), "SENTINEL-KEY-123");
    }

    #[test]
    fn empty_parts_are_validation_errors() {
        assert_eq!(Credentials::new("", "k").unwrap_err().field(), Some("api_user"));
        assert_eq!(Credentials::new("u", " ").unwrap_err().field(), Some("api_key"));
    }
}
