//! The onboarding fields of a row (SPEC 7): `code_method`, `language`,
//! `data_localization_region` (`pin_env` is a variable name, checked with
//! `token_env` in `fields.rs`), and the warning when SMS is asked for a number
//! that cannot receive one.

use super::fields::given;
use super::findings::Findings;
use super::telephony::NumberKind;
use super::{CodeMethod, Language, PhoneNumber, Region};
use crate::manifest::{Field, RawValue};
use crate::text::clip;

/// The code method, and whether the manifest gave it (for the warning's wording).
pub(super) fn code_method(v: Option<&RawValue>, f: &mut Findings) -> Option<(CodeMethod, bool)> {
    let Some(v) = given(v) else {
        return Some((CodeMethod::default(), false));
    };
    match CodeMethod::parse(&v.text) {
        Some(m) => Some((m, true)),
        None => {
            f.error(
                Field::CodeMethod,
                format!("`{}` is not a code method: SMS or VOICE", clip(&v.text)),
            );
            None
        }
    }
}

/// A Meta locale, `language_COUNTRY`; `en_US` when absent.
pub(super) fn language(v: Option<&RawValue>, f: &mut Findings) -> Option<Language> {
    let Some(v) = given(v) else {
        return Some(Language::default());
    };
    if let Some(l) = Language::parse(&v.text) {
        return Some(l);
    }
    // `en-us`, `EN_US`: the right locale in another spelling.
    let fixed = v.text.replace('-', "_");
    let fixed = match fixed.split_once('_') {
        Some((lang, country)) => format!("{}_{}", lang.to_lowercase(), country.to_uppercase()),
        None => fixed,
    };
    let message = match Language::parse(&fixed) {
        Some(l) => format!("`{}`: write Meta's locale as `{l}`", clip(&v.text)),
        None => format!(
            "`{}` is not a Meta locale: language_COUNTRY, like en_US or pt_BR",
            clip(&v.text)
        ),
    };
    f.error(Field::Language, message);
    None
}

/// One of Meta's data localization regions, or absent.
pub(super) fn region(v: Option<&RawValue>, f: &mut Findings) -> Option<Option<Region>> {
    let Some(v) = given(v) else {
        return Some(None);
    };
    if let Some(r) = Region::parse(&v.text) {
        return Some(Some(r));
    }
    let list: Vec<&str> = Region::ALL.iter().map(|r| r.as_str()).collect();
    let hint = if v.text.eq_ignore_ascii_case("UK") {
        " (the United Kingdom is GB)"
    } else {
        ""
    };
    f.error(
        Field::DataLocalizationRegion,
        format!(
            "`{}` is not a region Meta stores data in: one of {}{hint}",
            clip(&v.text),
            list.join(", ")
        ),
    );
    None
}

/// SMS asked for (or left as the default) on a number whose numbering-plan
/// type cannot receive texts: a warning, since Meta will refuse the request.
pub(super) fn sms_reachable(
    method: CodeMethod,
    explicit: bool,
    kind: NumberKind,
    phone: &PhoneNumber,
    f: &mut Findings,
) {
    let what = match (method, kind) {
        (CodeMethod::Sms, NumberKind::FixedLine) => "a fixed-line number",
        (CodeMethod::Sms, NumberKind::TollFree) => "a toll-free number",
        (CodeMethod::Sms, NumberKind::Voip) => "a VoIP number",
        _ => return,
    };
    let default = if explicit {
        ""
    } else {
        " (SMS is the default)"
    };
    // About this number, even when `code_method` comes from `defaults`.
    f.row_warning(
        Field::CodeMethod,
        format!(
            "+{} {} is {what} in the numbering plan, which cannot receive the code by SMS{default}: set code_method to VOICE",
            phone.cc(),
            phone.national()
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Source;
    use crate::validate::Diagnostic;

    fn raw(text: &str) -> RawValue {
        RawValue {
            text: text.into(),
            from_integer: false,
        }
    }

    fn run<T>(
        v: Option<&str>,
        check: impl FnOnce(Option<&RawValue>, &mut Findings) -> T,
    ) -> (T, Vec<String>) {
        let src = Source {
            file: "m".into(),
            line: 1,
        };
        let mut diags: Vec<Diagnostic> = Vec::new();
        let v = v.map(raw);
        let out = check(v.as_ref(), &mut Findings::new(&src, &mut diags));
        (out, diags.into_iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn code_method_defaults_to_sms() {
        assert_eq!(run(None, code_method).0, Some((CodeMethod::Sms, false)));
        assert_eq!(run(Some(""), code_method).0, Some((CodeMethod::Sms, false)));
        assert_eq!(
            run(Some("voice"), code_method).0,
            Some((CodeMethod::Voice, true))
        );
        assert_eq!(
            run(Some("call"), code_method).1,
            ["m:1: error: code_method: `call` is not a code method: SMS or VOICE"]
        );
    }

    #[test]
    fn language_defaults_to_en_us_and_suggests_the_spelling() {
        assert_eq!(run(None, language).0, Some(Language::EN_US));
        assert_eq!(run(Some("pt_BR"), language).0.unwrap().as_str(), "pt_BR");
        assert_eq!(
            run(Some("en-us"), language).1,
            ["m:1: error: language: `en-us`: write Meta's locale as `en_US`"]
        );
        assert_eq!(
            run(Some("English"), language).1,
            [
                "m:1: error: language: `English` is not a Meta locale: language_COUNTRY, like en_US or pt_BR"
            ]
        );
    }

    #[test]
    fn regions_are_checked() {
        assert_eq!(run(None, region).0, Some(None));
        assert_eq!(run(Some("de"), region).0, Some(Some(Region::De)));
        let (out, d) = run(Some("UK"), region);
        assert_eq!(out, None);
        assert!(d[0].ends_with("one of AU, ID, IN, JP, SG, KR, DE, CH, GB, BR, BH, ZA, AE, CA (the United Kingdom is GB)"), "{d:?}");
    }

    #[test]
    fn sms_to_a_landline_is_a_warning() {
        let warn = |method, explicit, kind| {
            let phone = PhoneNumber::new_unchecked("44", "2079460000");
            run(None, |_, f| {
                sms_reachable(method, explicit, kind, &phone, f)
            })
            .1
        };
        assert_eq!(
            warn(CodeMethod::Sms, false, NumberKind::FixedLine),
            [
                "m:1: warning: code_method: +44 2079460000 is a fixed-line number in the numbering plan, which cannot receive the code by SMS (SMS is the default): set code_method to VOICE"
            ]
        );
        assert_eq!(warn(CodeMethod::Sms, true, NumberKind::TollFree).len(), 1);
        assert_eq!(warn(CodeMethod::Sms, true, NumberKind::Voip).len(), 1);
        assert!(warn(CodeMethod::Voice, true, NumberKind::FixedLine).is_empty());
        assert!(warn(CodeMethod::Sms, false, NumberKind::Mobile).is_empty());
        assert!(warn(CodeMethod::Sms, false, NumberKind::FixedLineOrMobile).is_empty());
        assert!(warn(CodeMethod::Sms, false, NumberKind::Other).is_empty());
    }
}
