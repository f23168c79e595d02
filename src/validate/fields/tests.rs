//! Unit tests of the single-field checks: what passes, what fails, and why.

use super::*;
use crate::manifest::Source;
use crate::validate::Diagnostic;

fn raw(text: &str) -> RawValue {
    RawValue {
        text: text.into(),
        from_integer: false,
    }
}

/// Run one check on `v`; the clean value and the messages reported. The
/// value is leaked, so what the check borrows from it outlives the call.
fn run<T>(
    v: Option<RawValue>,
    check: impl FnOnce(Option<&'static RawValue>, &mut Findings) -> T,
) -> (T, Vec<String>) {
    let src = Source {
        file: "m".into(),
        line: 1,
    };
    let mut diags: Vec<Diagnostic> = Vec::new();
    let v: Option<&'static RawValue> = v.map(|v| &*Box::leak(Box::new(v)));
    let out = check(v, &mut Findings::new(&src, &mut diags));
    (out, diags.into_iter().map(|d| d.to_string()).collect())
}

#[test]
fn waba_id_digits_only_and_required() {
    let (id, d) = run(Some(raw("102290129340398")), waba_id);
    assert_eq!(id, Some("102290129340398"));
    assert!(d.is_empty());
    let (id, d) = run(None, waba_id);
    assert!(id.is_none());
    assert_eq!(d, ["m:1: error: waba_id: required"]);
    for bad in ["12a", "-5", "1 2", "１２"] {
        let (id, d) = run(Some(raw(bad)), waba_id);
        assert!(id.is_none(), "{bad}");
        assert_eq!(d.len(), 1);
    }
}

#[test]
fn yaml_numbers_get_a_hint_when_they_fail() {
    let v = RawValue {
        text: "1.5e3".into(),
        from_integer: true,
    };
    let (_, d) = run(Some(v), waba_id);
    assert!(d[0].contains("YAML read it as a number"), "{d:?}");
    let v = RawValue {
        text: "15".into(),
        from_integer: true,
    };
    assert!(
        run(Some(v), waba_id).0.is_some(),
        "an integer's digits are fine"
    );
}

#[test]
fn cc_is_one_to_three_digits() {
    for good in ["1", "44", "358"] {
        assert_eq!(run(Some(raw(good)), cc).0, Some(good));
    }
    let cases = [
        (
            "+44",
            "m:1: error: cc: `+44`: write the country code without `+` (`44`)",
        ),
        (
            "4a",
            "m:1: error: cc: `4a` is not a country code: 1 to 3 digits",
        ),
        (
            "1234",
            "m:1: error: cc: `1234` is not a country code: 1 to 3 digits, got 4",
        ),
        (
            "044",
            "m:1: error: cc: `044` is not a country code: none starts with 0",
        ),
    ];
    for (bad, msg) in cases {
        let (out, d) = run(Some(raw(bad)), cc);
        assert_eq!(out, None);
        assert_eq!(d, [msg]);
    }
    assert_eq!(run(None, cc).1, ["m:1: error: cc: required"]);
}

#[test]
fn phone_number_strips_punctuation_only() {
    for (given, digits) in [
        ("7700900123", "7700900123"),
        ("7700 900123", "7700900123"),
        ("(770) 090-0.123", "7700900123"),
    ] {
        let (out, d) = run(Some(raw(given)), phone_number);
        assert_eq!(out.as_deref(), Some(digits));
        assert!(d.is_empty());
    }
    let (out, d) = run(Some(raw("+44 7700 900123")), phone_number);
    assert_eq!(out, None);
    assert_eq!(
        d,
        [
            "m:1: error: phone_number: `+44 7700 900123` contains `+`: give the national number here and the country code in `cc`"
        ]
    );
    let (_, d) = run(Some(raw("1-800-FLOWERS")), phone_number);
    assert!(
        d[0].contains("`F`, `L`, `O`, `W`, `E`, `R`, `S` (only"),
        "{d:?}"
    );
    let (_, d) = run(
        Some(raw("call us: abcdefghijklmnopqrstuvwxyz")),
        phone_number,
    );
    assert!(
        d[0].contains("`c`, `a`, `l`, `u`, `s`, `:`, `b`, `d`, … (only"),
        "{d:?}"
    );
    let (_, d) = run(Some(raw("7700/900123")), phone_number);
    assert!(d[0].contains("`/` (only digits"), "{d:?}");
    let (_, d) = run(Some(raw("- ( )")), phone_number);
    assert_eq!(d, ["m:1: error: phone_number: `- ( )` has no digits"]);
    assert_eq!(
        run(None, phone_number).1,
        ["m:1: error: phone_number: required"]
    );
}

#[test]
fn booleans() {
    let b = |v: Option<RawValue>| run(v, |v, f| boolean(v, Field::MigratePhoneNumber, f));
    for (t, want) in [
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("Yes", true),
        ("false", false),
        ("0", false),
        ("no", false),
        ("False", false),
    ] {
        assert_eq!(b(Some(raw(t))).0, Some(want), "{t}");
    }
    assert_eq!(b(None).0, Some(false), "absent = false");
    let (out, d) = b(Some(raw("maybe")));
    assert_eq!(out, None);
    assert_eq!(
        d,
        ["m:1: error: migrate_phone_number: `maybe` is not a boolean: true/false, 1/0 or yes/no"]
    );
}

#[test]
fn preverified_id_is_optional_digits() {
    assert_eq!(run(None, preverified_id).0, Some(None));
    assert_eq!(run(Some(raw("987")), preverified_id).0, Some(Some("987")));
    assert_eq!(run(Some(raw("abc")), preverified_id).0, None);
}

#[test]
fn token_env_is_a_variable_name() {
    for good in ["CLIENT_A_TOKEN", "_x", "a1"] {
        let (out, d) = run(Some(raw(good)), token_env);
        assert_eq!(out, Some(Some(good)));
        assert!(d.is_empty());
    }
    assert_eq!(run(None, token_env).0, Some(None));
    for bad in ["1ABC", "MY-TOKEN", "A B", "TOKÉN"] {
        let (out, d) = run(Some(raw(bad)), token_env);
        assert_eq!(out, None, "{bad}");
        assert!(d[0].contains(&format!("`{bad}` is not a valid")), "{d:?}");
    }
}

#[test]
fn a_pasted_token_is_never_echoed() {
    let secret = "EAAGm0PX4ZCpsBAKZCdG3uqWZBZAsecretsecretsecret";
    let (out, d) = run(Some(raw(secret)), token_env);
    assert_eq!(out, None);
    assert!(!d[0].contains(secret));
    assert!(!d[0].contains("EAAG"));
    assert!(d[0].contains("looks like an access token"), "{d:?}");
}

#[test]
fn ids_never_start_with_zero() {
    for check in [
        |v: Option<&RawValue>, f: &mut Findings| waba_id(v, f).is_some(),
        |v: Option<&RawValue>, f: &mut Findings| preverified_id(v, f).is_some(),
    ] {
        let (ok, d) = run(Some(raw("0102290129340398")), check);
        assert!(!ok);
        assert!(
            d[0].ends_with(
                "`0102290129340398` is not an id: Meta ids never start with 0 (a typo, or a spreadsheet that padded it)"
            ),
            "{d:?}"
        );
        assert!(run(Some(raw("0")), check).1[0].contains("never start with 0"));
        assert!(run(Some(raw("102290129340398")), check).0);
    }
}

#[test]
fn blank_values_are_absent_except_where_required() {
    assert_eq!(run(Some(raw("")), preverified_id).0, Some(None));
    assert_eq!(run(Some(raw("")), token_env).0, Some(None));
    let b = run(Some(raw("")), |v, f| {
        boolean(v, Field::MigratePhoneNumber, f)
    });
    assert_eq!(b.0, Some(false));
    assert_eq!(
        run(Some(raw("")), waba_id).1,
        ["m:1: error: waba_id: required"]
    );
    assert_eq!(run(Some(raw("")), cc).1, ["m:1: error: cc: required"]);
}

#[test]
fn spreadsheet_notation_gets_spreadsheet_advice() {
    let advice = "by a spreadsheet: format the column as Text and export again";
    type Check = fn(Option<&RawValue>, &mut Findings) -> bool;
    let cases: [(&str, Check, &str); 6] = [
        (
            "4.47700900123E+11",
            |v, f| phone_number(v, f).is_some(),
            "scientific",
        ),
        (
            "7700900125.0",
            |v, f| phone_number(v, f).is_some(),
            "decimal",
        ),
        ("1.0229E+14", |v, f| waba_id(v, f).is_some(), "scientific"),
        (
            "102290129340398.00",
            |v, f| waba_id(v, f).is_some(),
            "decimal",
        ),
        ("44.0", |v, f| cc(v, f).is_some(), "decimal"),
        (
            "9.87e5",
            |v, f| preverified_id(v, f).is_some(),
            "scientific",
        ),
    ];
    for (given, check, kind) in cases {
        let (ok, d) = run(Some(raw(given)), check);
        assert!(!ok, "{given}");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].ends_with(&format!(
                "`{given}` is a number turned into {kind} notation {advice}"
            )),
            "{d:?}"
        );
    }
    // Dots as separators are a phone number's own punctuation.
    for fine in ["7946.0000", "020.7946.0000", "7700.900.123"] {
        assert!(run(Some(raw(fine)), phone_number).0.is_some(), "{fine}");
    }
    // Unquoted in YAML, the advice is YAML's.
    let yaml = RawValue {
        text: "4.47700900123E+11".into(),
        from_integer: true,
    };
    assert!(run(Some(yaml), phone_number).1[0].contains("put the value in quotes"));
}
