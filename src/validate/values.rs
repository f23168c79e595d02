//! The checked values a [`super::ValidRow`] is made of. Each is built only by
//! validation (or, for the enums, is valid by construction), so code further
//! down the pipeline never re-checks a field.

use std::fmt;
use std::sync::Arc;

/// A WABA id: digits only, no leading zero. Interned: the rows of one WABA
/// share one allocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WabaId(Arc<str>);

impl WabaId {
    /// Only validation (and tests) construct ids.
    pub(crate) fn new_unchecked(s: impl Into<Arc<str>>) -> Self {
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

/// E.164 allows at most 15 digits, country code included.
pub(crate) const E164_MAX_DIGITS: usize = 15;

/// A phone number that passed validation: `cc` 1–3 digits, national number digits
/// only, at most 15 digits together, possible for its country. Held inline (the
/// digits as ASCII, then zeros): a million rows carry no allocation for it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    digits: [u8; E164_MAX_DIGITS],
    cc_len: u8,
}

impl PhoneNumber {
    /// `cc` and `national` are digits, at most 15 together (validation
    /// checks it first; anything beyond is cut off).
    pub(crate) fn new_unchecked(cc: &str, national: &str) -> Self {
        debug_assert!(cc.len() + national.len() <= E164_MAX_DIGITS);
        let mut digits = [0; E164_MAX_DIGITS];
        for (slot, b) in digits.iter_mut().zip(cc.bytes().chain(national.bytes())) {
            *slot = b;
        }
        PhoneNumber {
            digits,
            cc_len: u8::try_from(cc.len().min(E164_MAX_DIGITS)).unwrap_or(0),
        }
    }
    /// `cc` followed by the national number.
    pub fn e164(&self) -> &str {
        let len = self
            .digits
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(E164_MAX_DIGITS);
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.digits[..len]).unwrap_or("")
    }
    pub fn cc(&self) -> &str {
        self.e164().get(..usize::from(self.cc_len)).unwrap_or("")
    }
    pub fn national(&self) -> &str {
        self.e164().get(usize::from(self.cc_len)..).unwrap_or("")
    }
    /// `cc` followed by the national number: the key for duplicates and reconciliation.
    pub fn e164_digits(&self) -> String {
        self.e164().to_string()
    }
    /// The number as a number: no calling code starts with 0, so two
    /// numbers are the same exactly when these are.
    pub(crate) fn e164_value(&self) -> u64 {
        self.e164()
            .bytes()
            .fold(0, |n, b| n * 10 + u64::from(b - b'0'))
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber(+{} {})", self.cc(), self.national())
    }
}

/// A valid environment variable name (`[A-Za-z_][A-Za-z0-9_]*`) that does not
/// look like a secret pasted in its place. Built by validation of a manifest's
/// `token_env` / `pin_env`, or by [`EnvVarName::parse_flag`] for a command-line
/// option. Interned like [`WabaId`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvVarName(Arc<str>);

impl EnvVarName {
    pub(crate) fn new_unchecked(s: impl Into<Arc<str>>) -> Self {
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
    fn phone_numbers_are_inline_digits() {
        let p = PhoneNumber::new_unchecked("44", "7912345678");
        assert_eq!(
            (p.cc(), p.national(), p.e164()),
            ("44", "7912345678", "447912345678")
        );
        assert_eq!(p.e164_value(), 447_912_345_678);
        let longest = PhoneNumber::new_unchecked("358", "123456789012");
        assert_eq!(longest.e164(), "358123456789012");
        assert_eq!(longest.national(), "123456789012");
        assert_eq!(
            PhoneNumber::new_unchecked("4", "47912345678").e164_value(),
            p.e164_value(),
            "the same E.164 number"
        );
        assert_eq!(format!("{p:?}"), "PhoneNumber(+44 7912345678)");
        assert_eq!(std::mem::size_of::<PhoneNumber>(), 16);
    }

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
