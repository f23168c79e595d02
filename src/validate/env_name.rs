//! Names of environment variables, wherever they are given: a manifest's
//! `token_env` / `pin_env`, or a command-line option (`--token-env`,
//! `--pin-env`, `--app-secret-env`). Tokens and PINs travel only through the
//! environment, so the usual mistake is to paste the secret itself where its
//! variable's name belongs: such a value is refused and never echoed back.

use super::EnvVarName;
use crate::text::clip;

/// Every message that withholds a value says so with these words (renderers
/// that would draw the source line look for them and draw nothing).
pub const VALUE_NOT_SHOWN: &str = "(value not shown)";

/// What a pasted secret looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Secret {
    /// A Meta access token (`EAA…`), or anything as long as one.
    AccessToken,
    /// `Bearer …`: the whole Authorization header.
    Bearer,
    /// Only digits: a PIN (or some other number), never a name.
    Pin,
    /// Random-looking text: an app secret (hex), another kind of token.
    Other,
}

impl Secret {
    fn what(self) -> &'static str {
        match self {
            Secret::AccessToken => "an access token itself",
            Secret::Bearer => "an Authorization header (`Bearer …`)",
            Secret::Pin => "a PIN or another number",
            Secret::Other => "a secret itself",
        }
    }
}

/// Why a text is not a variable name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NameProblem {
    /// It looks like a secret: explain without showing it.
    Secret(Secret),
    /// `$NAME` / `${NAME}`: a shell reference, where the name itself belongs.
    Dollar { given: String, name: String },
    /// Anything else; safe to show (clipped).
    Invalid(String),
}

impl NameProblem {
    /// The explanation, without the field or option it is about.
    pub(super) fn message(&self) -> String {
        match self {
            NameProblem::Secret(s) => format!(
                "looks like {} {VALUE_NOT_SHOWN}: give the NAME of the environment variable that holds it",
                s.what()
            ),
            NameProblem::Dollar { given, name } => {
                format!("`{given}`: write the variable's name without `$` (`{name}`)")
            }
            NameProblem::Invalid(text) => format!(
                "`{}` is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
                clip(text)
            ),
        }
    }

    /// The problem is a pasted secret: the value must not be written anywhere.
    pub(super) fn is_secret(&self) -> bool {
        matches!(self, NameProblem::Secret(_))
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Meta tokens start with `EAA` and are long, and they are alphanumeric, so
/// they would pass as a name: these are refused even though they "are" names.
fn looks_like_token(s: &str) -> bool {
    (s.starts_with("EAA") && s.len() >= 20) || s.len() > 64
}

/// A value that is not a name anyway, and looks like some secret: not shown.
fn secret_kind(s: &str) -> Option<Secret> {
    let has = |f: fn(&char) -> bool| s.chars().any(|c| f(&c));
    if s.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    {
        Some(Secret::Bearer)
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        Some(Secret::Pin)
    } else if s.len() >= 16 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        // An app secret is 32 hex digits.
        Some(Secret::Other)
    } else if s.len() >= 20
        && !s.contains(char::is_whitespace)
        && has(char::is_ascii_digit)
        && has(char::is_ascii_lowercase)
    {
        // Long, no spaces, digits among lower-case letters: random, not a name
        // (variable names are words, conventionally in capitals).
        Some(Secret::Other)
    } else {
        None
    }
}

/// Check a text meant to name an environment variable.
pub(super) fn check(text: &str) -> Result<EnvVarName, NameProblem> {
    check_text(text).map(|()| EnvVarName::new_unchecked(text))
}

/// [`check`], without making the name (the validator shares one copy of
/// each name among its rows).
pub(super) fn check_text(text: &str) -> Result<(), NameProblem> {
    if looks_like_token(text) {
        return Err(NameProblem::Secret(Secret::AccessToken));
    }
    if is_name(text) {
        return Ok(());
    }
    if let Some(rest) = text.strip_prefix('$') {
        let inner = rest
            .strip_prefix('{')
            .and_then(|r| r.strip_suffix('}'))
            .unwrap_or(rest);
        if is_name(inner) && !looks_like_token(inner) {
            return Err(NameProblem::Dollar {
                given: text.to_string(),
                name: inner.to_string(),
            });
        }
    }
    // A secret wrapped in shell syntax or quotes is still a secret.
    let core =
        text.trim_matches(|c: char| matches!(c, '$' | '{' | '}' | '"' | '\'') || c.is_whitespace());
    if looks_like_token(core) {
        return Err(NameProblem::Secret(Secret::AccessToken));
    }
    match secret_kind(text).or_else(|| secret_kind(core)) {
        Some(s) => Err(NameProblem::Secret(s)),
        None => Err(NameProblem::Invalid(text.to_string())),
    }
}

/// The text is a secret pasted where a name belongs: the results file shows
/// `[redacted]` in its place.
pub(super) fn is_pasted_secret(text: &str) -> bool {
    check_text(text).is_err_and(|p| p.is_secret())
}

impl EnvVarName {
    /// The variable named by a command-line option (`--token-env NAME`). The
    /// error names the option and explains; it never contains a value that
    /// looks like a secret (a token, a PIN, `Bearer …`), and nothing is
    /// silently stripped (`$NAME` is refused with "write NAME without `$`").
    pub fn parse_flag(flag: &str, value: &str) -> Result<EnvVarName, String> {
        check(value).map_err(|p| format!("{flag}: {}", p.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_pass() {
        for good in ["WABA_ACCESS_TOKEN", "_x", "a1", "CLIENT_A_TOKEN", "PIN"] {
            assert_eq!(
                EnvVarName::parse_flag("--token-env", good)
                    .unwrap()
                    .as_str(),
                good
            );
        }
    }

    #[test]
    fn secrets_are_explained_not_shown() {
        let cases = [
            ("EAAGm0PX4ZCpsBAKZCdG3uqWZBZA", "an access token itself"),
            ("Bearer EAAGm0PX4ZCpsBAKZCdG3", "an Authorization header"),
            ("bearer abc.def", "an Authorization header"),
            ("123456", "a PIN"),
            ("012345", "a PIN"),
            ("3f5b9c0e1a2d4b6c8e0f1a2b3c4d5e6f", "a secret itself"),
            ("sk-live-9fa8d7c6b5a4z3y2x1w0", "a secret itself"),
            ("$EAAGm0PX4ZCpsBAKZCdG3uqWZBZA", "an access token itself"),
        ];
        for (value, what) in cases {
            let e = EnvVarName::parse_flag("--pin-env", value).unwrap_err();
            assert!(e.starts_with("--pin-env: looks like "), "{e}");
            assert!(e.contains(what), "{value}: {e}");
            assert!(e.contains(VALUE_NOT_SHOWN), "{e}");
            assert!(e.contains("give the NAME"), "{e}");
            assert!(!e.contains(value), "{e}");
            assert!(!e.contains("EAAG") && !e.contains("3456"), "{e}");
        }
    }

    #[test]
    fn dollar_is_refused_with_the_name_to_write() {
        for given in ["$WABA_ACCESS_TOKEN", "${WABA_ACCESS_TOKEN}"] {
            assert_eq!(
                EnvVarName::parse_flag("--token-env", given).unwrap_err(),
                format!(
                    "--token-env: `{given}`: write the variable's name without `$` (`WABA_ACCESS_TOKEN`)"
                )
            );
        }
        let e = EnvVarName::parse_flag("--token-env", "$1").unwrap_err();
        assert!(e.contains("a PIN or another number"), "{e}");
        let e = EnvVarName::parse_flag("--token-env", "$A-B").unwrap_err();
        assert!(e.contains("`$A-B` is not a valid"), "{e}");
    }

    #[test]
    fn other_mistakes_are_shown_clipped() {
        assert_eq!(
            EnvVarName::parse_flag("--token-env", "MY-TOKEN").unwrap_err(),
            "--token-env: `MY-TOKEN` is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
        );
        let e = EnvVarName::parse_flag("--token-env", "").unwrap_err();
        assert!(e.contains("`` is not a valid"), "{e}");
        let long = "A B ".repeat(1000);
        assert!(
            EnvVarName::parse_flag("--token-env", &long)
                .unwrap_err()
                .len()
                < 200
        );
    }

    #[test]
    fn pasted_secrets_are_redacted_in_results() {
        assert!(is_pasted_secret("EAAGm0PX4ZCpsBAKZCdG3uqWZBZA"));
        assert!(is_pasted_secret("123456"));
        assert!(!is_pasted_secret("MY-TOKEN"));
        assert!(!is_pasted_secret("CLIENT_A_TOKEN"));
    }

    proptest! {
        /// Whatever is given, an error never repeats a digit run of a PIN's
        /// length or an `EAA` token, and never panics.
        #[test]
        fn errors_never_echo_pins_or_tokens(
            pin in "[0-9]{4,8}",
            token in "EAA[A-Za-z0-9]{17,60}",
            prefix in "(\\$|\\$\\{|Bearer |)",
        ) {
            for value in [format!("{prefix}{pin}"), format!("{prefix}{token}")] {
                if let Err(e) = EnvVarName::parse_flag("--x", &value) {
                    prop_assert!(!e.contains(&pin), "{}", e);
                    prop_assert!(!e.contains(&token), "{}", e);
                }
            }
        }

        #[test]
        fn any_text_gives_a_name_or_a_short_error(text in "\\PC{0,200}") {
            match EnvVarName::parse_flag("--x", &text) {
                Ok(n) => prop_assert!(is_name(n.as_str())),
                Err(e) => prop_assert!(e.chars().count() < 200, "{}", e),
            }
        }
    }
}
