//! The checked values a [`super::ValidRow`] is made of. Each is built only by
//! validation (or, for the enums, is valid by construction), so code further
//! down the pipeline never re-checks a field.

use std::fmt;

/// A WABA id: digits only, no leading zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WabaId(String);

impl WabaId {
    /// Only validation (and tests) construct ids.
    pub(crate) fn new_unchecked(s: impl Into<String>) -> Self {
        WabaId(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WabaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number that passed validation: `cc` 1–3 digits, national number digits
/// only, at most 15 digits together, possible for its country.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    cc: String,
    national: String,
}

impl PhoneNumber {
    pub(crate) fn new_unchecked(cc: impl Into<String>, national: impl Into<String>) -> Self {
        PhoneNumber {
            cc: cc.into(),
            national: national.into(),
        }
    }
    pub fn cc(&self) -> &str {
        &self.cc
    }
    pub fn national(&self) -> &str {
        &self.national
    }
    /// `cc` followed by the national number: the key for duplicates and reconciliation.
    pub fn e164_digits(&self) -> String {
        format!("{}{}", self.cc, self.national)
    }
}

/// A valid environment variable name (`[A-Za-z_][A-Za-z0-9_]*`) that does not
/// look like a secret pasted in its place. Built by validation of a manifest's
/// `token_env` / `pin_env`, or by [`EnvVarName::parse_flag`] for a command-line
/// option.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvVarName(String);

impl EnvVarName {
    pub(crate) fn new_unchecked(s: impl Into<String>) -> Self {
        EnvVarName(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvVarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How Meta sends the verification code (SPEC 7): `SMS` unless the manifest
/// says `VOICE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CodeMethod {
    #[default]
    Sms,
    Voice,
}

impl CodeMethod {
    /// The form field's value, as Meta spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeMethod::Sms => "SMS",
            CodeMethod::Voice => "VOICE",
        }
    }

    /// `SMS` or `VOICE`, any case.
    pub(crate) fn parse(s: &str) -> Option<CodeMethod> {
        [CodeMethod::Sms, CodeMethod::Voice]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for CodeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Meta locale for the verification message, `language_COUNTRY`
/// (`^[a-z]{2,3}_[A-Z]{2}$`), e.g. `en_US`, `pt_BR`. Held inline: at most six
/// ASCII bytes, so a million rows carry no allocation for it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Language {
    bytes: [u8; 6],
    len: u8,
}

impl Language {
    /// Meta's default, and the manifest's.
    pub const EN_US: Language = Language {
        bytes: *b"en_US\0",
        len: 5,
    };

    /// The locale when `s` has the exact form, else `None`.
    pub(crate) fn parse(s: &str) -> Option<Language> {
        let (lang, country) = s.split_once('_')?;
        let ok = (2..=3).contains(&lang.len())
            && lang.bytes().all(|b| b.is_ascii_lowercase())
            && country.len() == 2
            && country.bytes().all(|b| b.is_ascii_uppercase());
        if !ok {
            return None;
        }
        let mut bytes = [0; 6];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(Language {
            bytes,
            len: u8::try_from(s.len()).ok()?,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (see `parse`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("en_US")
    }
}

impl Default for Language {
    fn default() -> Self {
        Language::EN_US
    }
}

impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Language({})", self.as_str())
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Meta's data localization regions for Cloud API numbers (SPEC 7): where the
/// number's messages are stored at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    Au,
    Id,
    In,
    Jp,
    Sg,
    Kr,
    De,
    Ch,
    Gb,
    Br,
    Bh,
    Za,
    Ae,
    Ca,
}

impl Region {
    pub const ALL: [Region; 14] = [
        Region::Au,
        Region::Id,
        Region::In,
        Region::Jp,
        Region::Sg,
        Region::Kr,
        Region::De,
        Region::Ch,
        Region::Gb,
        Region::Br,
        Region::Bh,
        Region::Za,
        Region::Ae,
        Region::Ca,
    ];

    /// The two-letter code Meta expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Au => "AU",
            Region::Id => "ID",
            Region::In => "IN",
            Region::Jp => "JP",
            Region::Sg => "SG",
            Region::Kr => "KR",
            Region::De => "DE",
            Region::Ch => "CH",
            Region::Gb => "GB",
            Region::Br => "BR",
            Region::Bh => "BH",
            Region::Za => "ZA",
            Region::Ae => "AE",
            Region::Ca => "CA",
        }
    }

    /// The code, any case.
    pub(crate) fn parse(s: &str) -> Option<Region> {
        Region::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_methods_in_any_case() {
        assert_eq!(CodeMethod::parse("sms"), Some(CodeMethod::Sms));
        assert_eq!(CodeMethod::parse("Voice"), Some(CodeMethod::Voice));
        assert_eq!(CodeMethod::parse("call"), None);
        assert_eq!(CodeMethod::default().as_str(), "SMS");
    }

    #[test]
    fn languages_have_the_exact_form() {
        for good in ["en_US", "pt_BR", "fil_PH"] {
            assert_eq!(Language::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "en", "en-US", "en_us", "EN_US", "engl_US", "e_US", "en_USA", "", "_", "é_US",
        ] {
            assert_eq!(Language::parse(bad), None, "{bad}");
        }
        assert_eq!(Language::default().as_str(), "en_US");
        assert_eq!(format!("{:?}", Language::EN_US), "Language(en_US)");
    }

    #[test]
    fn regions_are_meta_s_list() {
        for r in Region::ALL {
            assert_eq!(Region::parse(r.as_str()), Some(r));
            assert_eq!(Region::parse(&r.as_str().to_lowercase()), Some(r));
        }
        assert_eq!(Region::parse("FR"), None);
        assert_eq!(Region::parse("UK"), None);
    }
}
