//! What a [`GraphClient`](super::GraphClient) is built from: a checked API
//! version, the endpoint and connection settings, and the credentials of one
//! token (its `Authorization` header and `appsecret_proof` computed once, not
//! per request).

use crate::secret::{AppSecret, Token};
use reqwest::header::HeaderValue;
use std::fmt;
use std::time::Duration;

/// Why the client could not be set up (bad flags, TLS backend failure).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GraphSetupError {
    #[error("invalid API version {0:?}: expected vN.N, like v25.0")]
    ApiVersion(String),
    #[error("invalid Graph URL {url:?}: {reason}")]
    GraphUrl { url: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// A Graph API version as it appears in the path: `v25.0` (`^v\d+\.\d+$`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiVersion(String);

impl ApiVersion {
    pub fn parse(s: &str) -> Result<ApiVersion, GraphSetupError> {
        let bad = || GraphSetupError::ApiVersion(s.to_owned());
        let rest = s.strip_prefix('v').ok_or_else(bad)?;
        let (major, minor) = rest.split_once('.').ok_or_else(bad)?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if digits(major) && digits(minor) {
            Ok(ApiVersion(s.to_owned()))
        } else {
            Err(bad())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Endpoint and connection settings shared by every call.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://graph.facebook.com`, or the sandbox's `http://127.0.0.1:PORT`.
    pub graph_url: String,
    pub api_version: ApiVersion,
    /// Whole-request timeout (connect, send, answer, body).
    pub timeout: Duration,
    /// Idle connections kept per host: at least the run's concurrency, so
    /// concurrent calls reuse connections instead of reconnecting.
    pub max_connections: usize,
}

/// One token and, when an app secret is configured, its `appsecret_proof`.
/// `Debug` shows neither.
#[derive(Clone)]
pub struct Credentials {
    token: Token,
    /// `Bearer <token>`, marked sensitive; `None` when the token cannot be a
    /// header value (the client then lets reqwest refuse the request).
    authorization: Option<HeaderValue>,
    appsecret_proof: Option<String>,
}

impl Credentials {
    pub fn new(token: Token, app_secret: Option<&AppSecret>) -> Self {
        let appsecret_proof = app_secret.map(|s| s.proof(&token));
        let authorization = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .ok()
            .map(|mut value| {
                value.set_sensitive(true);
                value
            });
        Credentials {
            token,
            authorization,
            appsecret_proof,
        }
    }
    pub(crate) fn token(&self) -> &Token {
        &self.token
    }
    pub(crate) fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }
    pub(crate) fn appsecret_proof(&self) -> Option<&str> {
        self.appsecret_proof.as_deref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proof = if self.appsecret_proof.is_some() {
            "[set]"
        } else {
            "[none]"
        };
        write!(
            f,
            "Credentials {{ token: [redacted], appsecret_proof: {proof} }}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        for ok in ["v25.0", "v2.12", "v100.0"] {
            assert_eq!(ApiVersion::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "", "v", "25.0", "v25", "v25.", "v.0", "V25.0", "v25.0.1", "v25.0 ", " v25.0", "v2a.0",
            "v25.0/", "v25,0", "v+1.0",
        ] {
            assert_eq!(
                ApiVersion::parse(bad),
                Err(GraphSetupError::ApiVersion(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn credentials_debug_does_not_leak() {
        let secret = AppSecret::new("appsecret-xyz");
        let c = Credentials::new(Token::new("EAAtoken-abc"), Some(&secret));
        let proof = c.appsecret_proof().unwrap().to_owned();
        let shown = format!("{c:?}");
        assert!(!shown.contains("EAAtoken-abc"), "{shown}");
        assert!(!shown.contains("appsecret-xyz"), "{shown}");
        assert!(!shown.contains(&proof), "{shown}");
        assert!(shown.contains("[set]"));
        let c = Credentials::new(Token::new("EAAtoken-abc"), None);
        assert!(format!("{c:?}").contains("[none]"));
    }

    #[test]
    fn proof_is_hmac_of_the_token() {
        let c = Credentials::new(Token::new("tok"), Some(&AppSecret::new("sec")));
        assert_eq!(
            c.appsecret_proof(),
            Some(crate::secret::appsecret_proof("sec", "tok").as_str())
        );
    }
}
