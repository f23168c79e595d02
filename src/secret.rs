//! Tokens and app secrets: read only from environment variables, printed only
//! as `[redacted]`, exposed only to build the `Authorization` header and the
//! `appsecret_proof`.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::fmt;

/// An access token. `Debug`/`Display` never show it.
#[derive(Clone)]
pub struct Token(SecretString);

/// A two-step verification PIN (six digits), for `register` only: read from
/// an environment variable like a token, never printed.
#[derive(Clone)]
pub struct Pin(SecretString);

/// An app secret, used only to compute `appsecret_proof`.
#[derive(Clone)]
pub struct AppSecret(SecretString);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("environment variable {0} is not set")]
    Unset(String),
    #[error("environment variable {0} is empty")]
    Empty(String),
    #[error("environment variable {0} is not valid UTF-8")]
    NotUnicode(String),
    #[error(
        "environment variable {0} does not hold a two-step PIN: it must be exactly 6 digits (value not shown)"
    )]
    NotAPin(String),
}

fn from_env(name: &str) -> Result<SecretString, SecretError> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Err(SecretError::Empty(name.to_string())),
        Ok(v) => Ok(SecretString::from(v.trim().to_string())),
        Err(std::env::VarError::NotPresent) => Err(SecretError::Unset(name.to_string())),
        Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode(name.to_string())),
    }
}

impl Token {
    pub fn from_env(name: &str) -> Result<Self, SecretError> {
        from_env(name).map(Token)
    }
    /// For tests and the sandbox demo.
    pub fn new(value: impl Into<String>) -> Self {
        Token(SecretString::from(value.into()))
    }
    /// The raw value, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl Pin {
    pub fn from_env(name: &str) -> Result<Self, SecretError> {
        let pin = from_env(name)?;
        let digits = pin.expose_secret();
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Pin(pin))
        } else {
            Err(SecretError::NotAPin(name.to_string()))
        }
    }
    /// For tests and the sandbox demo.
    pub fn new(value: impl Into<String>) -> Self {
        Pin(SecretString::from(value.into()))
    }
    /// The digits, for the register call's form body only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin([redacted])")
    }
}

impl AppSecret {
    pub fn from_env(name: &str) -> Result<Self, SecretError> {
        from_env(name).map(AppSecret)
    }
    pub fn new(value: impl Into<String>) -> Self {
        AppSecret(SecretString::from(value.into()))
    }
    /// Meta's `appsecret_proof`: lowercase hex of HMAC-SHA256 keyed with the app
    /// secret over the token.
    pub fn proof(&self, token: &Token) -> String {
        appsecret_proof(self.0.expose_secret(), token.expose())
    }
}

/// HMAC-SHA256(key = app secret, message = token), lowercase hex.
pub fn appsecret_proof(app_secret: &str, token: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}
impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_matches_known_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            appsecret_proof("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn token_never_prints() {
        let t = Token::new("EAAsecret123");
        assert!(!format!("{t:?}").contains("EAAsecret123"));
        assert!(!format!("{t}").contains("EAAsecret123"));
    }
}
