//! Keeping secrets out of what leaves the client: failure messages, the
//! exchange metadata, and through them logs, results and `Debug` output.
//!
//! Secrets are the token, the verification code and the two-step PIN (the
//! `appsecret_proof` travels only in a query string or form body, and query
//! strings are cut from every URL). Redaction is targeted, not a blind
//! substring replacement, which would mangle ordinary text when a secret is
//! short (a token `t` inside "path"):
//!
//! - wherever a token is written by convention (`access_token=…`,
//!   `Bearer …`, `Authorization: OAuth …`, as an echoed URL, form or header
//!   would hold it), the value that follows is redacted, whatever it is (a
//!   bare `OAuth` is left alone: Meta's messages use it as a word);
//! - elsewhere a secret is redacted only as a whole word: an occurrence with
//!   no letter, digit, `-` or `_` right before or after it. A token must also
//!   be at least [`MIN_BARE_TOKEN`] characters long for this: real tokens
//!   are long, and a short (test) token as a whole word is far likelier to be
//!   an ordinary word than an echo. Codes and PINs (6 digits) are always
//!   matched this way, also in their `123-456` form.

/// Shortest token redacted where it stands alone (see the module doc).
pub(crate) const MIN_BARE_TOKEN: usize = 8;

const MARK: &str = "[redacted]";

/// The secrets of one call.
#[derive(Clone, Copy)]
pub(crate) struct Secrets<'a> {
    pub token: &'a str,
    /// A code or a PIN sent with the call, if any.
    pub digits: Option<&'a str>,
}

impl Secrets<'_> {
    /// `s` with every URL's query string cut and the secrets redacted.
    pub(crate) fn clean(&self, s: &str) -> String {
        let mut out = strip_url_queries(s);
        for key in [
            "access_token=",
            "Bearer ",
            "bearer ",
            "Authorization: OAuth ",
        ] {
            out = redact_after(&out, key);
        }
        if self.token.len() >= MIN_BARE_TOKEN {
            out = redact_word(&out, self.token);
        }
        if let Some(d) = self.digits.filter(|d| !d.is_empty()) {
            out = redact_word(&out, d);
            if d.len() == 6 {
                out = redact_word(&out, &format!("{}-{}", &d[..3], &d[3..]));
            }
        }
        out
    }
}

/// A character that would continue a word (so a match next to it is part of
/// something longer, not the secret itself).
fn continues_word(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// Every whole-word occurrence of `secret` in `s` replaced by the mark.
fn redact_word(s: &str, secret: &str) -> String {
    if secret.is_empty() {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(secret) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + secret.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(continues_word) || after.is_some_and(continues_word) {
            out.push_str(secret);
        } else {
            out.push_str(MARK);
        }
        rest = &rest[i + secret.len()..];
    }
    out.push_str(rest);
    out
}

/// The value after each `key` (up to a space, `&`, a quote, `,`, `;`, `)` or
/// `>`) replaced by the mark.
fn redact_after(s: &str, key: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(key) {
        let start = i + key.len();
        out.push_str(&rest[..start]);
        let value_len = rest[start..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ',' | ';' | ')' | '>')
            })
            .unwrap_or(rest.len() - start);
        if value_len > 0 {
            out.push_str(MARK);
        }
        rest = &rest[start + value_len..];
    }
    out.push_str(rest);
    out
}

/// `see https://host/p?x=1 now` → `see https://host/p now`.
pub(crate) fn strip_url_queries(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("://") {
        let end_of_url = rest[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>'))
            .map_or(rest.len(), |i| start + i);
        let url = &rest[..end_of_url];
        match url.find('?') {
            Some(q) => out.push_str(&url[..q]),
            None => out.push_str(url),
        }
        rest = &rest[end_of_url..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(t: &str) -> Secrets<'_> {
        Secrets {
            token: t,
            digits: None,
        }
    }

    #[test]
    fn a_one_character_token_never_mangles_words() {
        let s = token("t");
        assert_eq!(
            s.clean("Unknown path components: /v25.0/t/phone_numbers"),
            "Unknown path components: /v25.0/t/phone_numbers"
        );
        assert_eq!(s.clean("can't stop"), "can't stop");
        // Where a token is written, it goes whatever its length.
        assert_eq!(
            s.clean("got Authorization: Bearer t and access_token=t&x=1"),
            "got Authorization: Bearer [redacted] and access_token=[redacted]&x=1"
        );
    }

    #[test]
    fn a_long_token_goes_as_a_whole_word_only() {
        let s = token("EAAtestTOKEN123");
        assert_eq!(
            s.clean("Invalid OAuth access token EAAtestTOKEN123."),
            "Invalid OAuth access token [redacted]."
        );
        assert_eq!(s.clean("(EAAtestTOKEN123)"), "([redacted])");
        assert_eq!(
            s.clean("Authorization: OAuth EAAtestTOKEN123x"),
            "Authorization: OAuth [redacted]"
        );
        // Part of something longer: not this token.
        assert_eq!(s.clean("xEAAtestTOKEN123"), "xEAAtestTOKEN123");
        assert_eq!(s.clean("EAAtestTOKEN1234"), "EAAtestTOKEN1234");
    }

    #[test]
    fn codes_and_pins_go_as_whole_numbers_and_dashed() {
        let s = Secrets {
            token: "t",
            digits: Some("123456"),
        };
        assert_eq!(
            s.clean("code 123456 is wrong; so is 123-456 and code=123456"),
            "code [redacted] is wrong; so is [redacted] and code=[redacted]"
        );
        // Inside a longer number (an id, a phone number) it is not the code.
        assert_eq!(
            s.clean("number 15551234567 id 9123456 (#133016)"),
            "number 15551234567 id 9123456 (#133016)"
        );
    }

    #[test]
    fn queries_are_stripped_from_urls() {
        assert_eq!(
            strip_url_queries(
                "error for url (http://h/v25.0/1/phone_numbers?appsecret_proof=abc): x"
            ),
            "error for url (http://h/v25.0/1/phone_numbers): x"
        );
        assert_eq!(strip_url_queries("no url here?"), "no url here?");
        assert_eq!(
            strip_url_queries("a https://x/p?q=1 b http://y/?z c"),
            "a https://x/p b http://y/ c"
        );
    }
}
