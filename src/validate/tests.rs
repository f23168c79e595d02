//! Tests of whole-manifest validation: rows, every problem at once, numbering
//! plan, duplicates, ordering, results-file identity.

use super::*;
use crate::manifest::{Format, ReadOptions, read_manifest_bytes};

fn validate_csv(text: &str, strict: bool) -> Validation {
    let m = read_manifest_bytes(
        "m.csv",
        text.as_bytes(),
        Format::Csv,
        &ReadOptions::default(),
    )
    .unwrap();
    validate(
        &m,
        &ValidateOptions {
            strict_numbers: strict,
            ..ValidateOptions::default()
        },
    )
}

fn lines(v: &Validation) -> Vec<String> {
    v.diagnostics.iter().map(|d| d.to_string()).collect()
}

const HEADER: &str =
    "waba_id,cc,phone_number,migrate_phone_number,preverified_id,verified_name,token_env\n";

#[test]
fn a_good_row_becomes_a_valid_row() {
    let v = validate_csv(
        &format!("{HEADER}102290129340398,44,7912 345678,yes,42, Acme Support ,CLIENT_A_TOKEN\n"),
        false,
    );
    assert_eq!(lines(&v), Vec::<String>::new());
    assert!(v.is_valid());
    let CheckedRow::Valid(r) = &v.rows[0] else {
        panic!("{:?}", v.rows[0]);
    };
    assert_eq!(
        r.id,
        RowId {
            row: 1,
            source: "m.csv:2".into()
        }
    );
    assert_eq!(r.waba_id.as_str(), "102290129340398");
    assert_eq!((r.phone.cc(), r.phone.national()), ("44", "7912345678"));
    assert_eq!(r.phone.e164_digits(), "447912345678");
    assert!(r.migrate_phone_number);
    assert_eq!(r.preverified_id.as_deref(), Some("42"));
    assert_eq!(r.verified_name.as_deref(), Some("Acme Support"));
    assert_eq!(r.token_env.as_ref().unwrap().as_str(), "CLIENT_A_TOKEN");
}

#[test]
fn every_problem_of_a_row_is_reported() {
    let v = validate_csv(&format!("{HEADER}12x,+44,77-00/12,maybe,,A,1BAD\n"), false);
    assert_eq!(
        lines(&v),
        [
            "m.csv:2: error: waba_id: `12x` is not an id: digits only",
            "m.csv:2: error: cc: `+44`: write the country code without `+` (`44`)",
            "m.csv:2: error: phone_number: `77-00/12` contains `/` (only digits, spaces, - . ( ) are allowed)",
            "m.csv:2: error: migrate_phone_number: `maybe` is not a boolean: true/false, 1/0 or yes/no",
            "m.csv:2: error: verified_name: `A` is 1 character long; Meta accepts 2 to 75",
            "m.csv:2: error: token_env: `1BAD` is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
        ]
    );
    let CheckedRow::Invalid(r) = &v.rows[0] else {
        panic!()
    };
    assert_eq!(r.reasons.len(), 6);
    assert!(r.reasons[0].starts_with("waba_id: `12x`"));
    assert_eq!(r.fields.cc.as_ref().unwrap().text, "+44", "kept as written");
    assert_eq!(v.error_count(), 6);
    assert!(!v.is_valid());
}

#[test]
fn e164_bound_is_fifteen_digits() {
    let v = validate_csv(
        "waba_id,cc,phone_number\n1,44,79123456789012\n1,44,791234567890\n",
        false,
    );
    assert_eq!(
        v.diagnostics[0].to_string(),
        "m.csv:2: error: phone_number: +44 79123456789012 has 16 digits with the country code; E.164 allows at most 15"
    );
    // 14 digits: within E.164, but not a possible GB length.
    assert!(
        v.diagnostics[1]
            .message
            .contains("not a possible number for +44 (GB)")
    );
    assert_eq!(v.error_count(), 2);
}

#[test]
fn numbering_plan_errors_and_warnings() {
    let csv = "waba_id,cc,phone_number\n1,1,5550100001\n1,44,07912345678\n1,999,12345678\n1,1,2530000\n1,1,6502530000\n";
    let v = validate_csv(csv, false);
    assert_eq!(
        lines(&v),
        [
            "m.csv:2: warning: phone_number: +1 5550100001 has a possible length but is not a valid number in +1 (US) (an unassigned range, or one reserved for fiction and tests?)",
            "m.csv:3: error: phone_number: +44 07912345678 is not a possible number for +44 (GB): it has 11 digits after the country code, numbers there have 7, 9 or 10 (drop the leading trunk prefix 0)",
            "m.csv:4: error: cc: `999` is not a country calling code in use",
            "m.csv:5: error: phone_number: +1 2530000 is only a local number in US: the area code is missing",
        ]
    );
    assert!(
        matches!(v.rows[0], CheckedRow::Valid(_)),
        "a warning keeps the row"
    );
    assert!(matches!(v.rows[4], CheckedRow::Valid(_)));
    assert_eq!((v.error_count(), v.warning_count()), (3, 1));

    let strict = validate_csv(csv, true);
    assert!(matches!(strict.rows[0], CheckedRow::Invalid(_)));
    assert_eq!(strict.diagnostics[0].severity, Severity::Error);
    assert!(
        strict.diagnostics[0]
            .message
            .ends_with("; --strict-numbers")
    );
}

#[test]
fn duplicates_are_errors_on_every_later_row() {
    let csv = "waba_id,cc,phone_number\n1,44,7912345678\n2,44,7912 345 679\n3,44,(7912) 345678\n4,4,47912345678\n";
    let v = validate_csv(csv, false);
    assert!(
        matches!(v.rows[0], CheckedRow::Valid(_)),
        "the first stays valid"
    );
    assert!(matches!(v.rows[1], CheckedRow::Valid(_)));
    let dup = |line| {
        format!(
            "m.csv:{line}: error: phone_number: +44 7912345678 is already at m.csv:2: a number belongs to one account"
        )
    };
    assert_eq!(lines(&v)[0], dup(4));
    // `4` + `47912345678` is the same E.164 number.
    assert!(lines(&v).iter().any(|l| {
        l.starts_with("m.csv:5: error: phone_number: +4 47912345678 is already at m.csv:2")
    }));
    assert!(matches!(v.rows[2], CheckedRow::Invalid(_)));
}

#[test]
fn file_level_problems_sort_first_and_mark_the_file() {
    let v = validate_csv(
        "waba_id,cc,phone_number,colour\n1,44,7912345678,red\n1,44,79x\n",
        false,
    );
    assert_eq!(
        lines(&v),
        [
            "m.csv:1: error: colour: unknown column (a column of your own? carry it into the results with --ignore-column 'colour')",
            "m.csv:3: error: record: has 3 fields but the header has 4 columns (a missing or extra comma?)",
            "m.csv:3: error: phone_number: `79x` contains `x` (only digits, spaces, - . ( ) are allowed)",
        ]
    );
    assert!(v.has_file_errors());
    assert!(matches!(v.rows[0], CheckedRow::Valid(_)));
    let CheckedRow::Invalid(r) = &v.rows[1] else {
        panic!()
    };
    assert_eq!(r.reasons.len(), 2, "{:?}", r.reasons);
    assert!(
        r.reasons
            .iter()
            .any(|r| r.starts_with("record: has 3 fields"))
    );
}

/// A results file of the current version with these lines (cells by column
/// name, the rest empty).
fn results_csv(lines: &[&[(&str, &str)]]) -> String {
    let mut csv = crate::schema::COLUMNS.join(",");
    csv.push('\n');
    for cells in lines {
        let mut line = vec![""; crate::schema::COLUMNS.len()];
        for (name, value) in *cells {
            let i = crate::schema::COLUMNS
                .iter()
                .position(|c| c == name)
                .unwrap();
            line[i] = value;
        }
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    csv
}

#[test]
fn results_file_rows_keep_their_original_identity_and_prior_line() {
    let csv = results_csv(&[
        &[
            ("row", "17"),
            ("source", "orig.yaml:40"),
            ("waba_id", "1"),
            ("cc", "44"),
            ("phone_number", "7912345678"),
            ("status", "failed"),
            ("step", "register"),
            ("phone_number_id", "555"),
            ("register_calls", "2026-01-01T00:00:00Z"),
            ("attempts", "3"),
        ],
        &[
            ("row", "18"),
            ("waba_id", "1"),
            ("cc", "44"),
            ("phone_number", "79x"),
            ("status", "invalid"),
            ("attempts", "0"),
        ],
    ]);
    let v = validate_csv(&csv, false);
    assert!(v.is_results_file());
    assert!(!v.has_file_errors());
    let CheckedRow::Valid(r) = &v.rows[0] else {
        panic!("{:?}", v.rows[0])
    };
    assert_eq!(
        r.id,
        RowId {
            row: 17,
            source: "orig.yaml:40".into()
        }
    );
    let p = r.prior.as_deref().unwrap();
    assert_eq!(
        (p.status, p.step),
        (crate::schema::Status::Failed, crate::schema::Step::Register)
    );
    assert_eq!(
        p.phone_number_id.as_ref().map(PhoneNumberId::as_str),
        Some("555")
    );
    assert_eq!(p.register_calls.len(), 1);
    assert_eq!(p.record.attempts, 3);
    let CheckedRow::Invalid(i) = &v.rows[1] else {
        panic!()
    };
    assert_eq!(
        i.id,
        RowId {
            row: 18,
            source: "m.csv:3".into()
        },
        "no source: here"
    );
    assert_eq!(
        i.prior.as_ref().unwrap().row,
        18,
        "an invalid row keeps its line too"
    );
    assert!(!validate_csv("waba_id,cc,phone_number\n1,44,7912345678\n", false).is_results_file());
}

#[test]
fn bad_prior_columns_make_the_row_invalid() {
    let csv = results_csv(&[&[
        ("row", "5"),
        ("waba_id", "1"),
        ("cc", "44"),
        ("phone_number", "7912345678"),
        ("status", "created"),
        ("phone_number_id", "x1"),
        ("attempts", "1"),
    ]]);
    let v = validate_csv(&csv, false);
    assert_eq!(
        lines(&v),
        ["m.csv:2: error: phone_number_id: `x1` is not a phone number id: digits only"]
    );
    let CheckedRow::Invalid(i) = &v.rows[0] else {
        panic!()
    };
    assert_eq!(i.id.row, 5);
}

#[test]
fn yaml_rows_validate_the_same_way() {
    let yaml = "version: 1\nwabas:\n  - waba_id: 102290129340398\n    numbers:\n      - {cc: 44, phone_number: 7912345678}\n      - {cc: 44, phone_number: 7912345678}\n      - {cc: 1, phone_number: 1.5e3}\n";
    let m = read_manifest_bytes(
        "m.yaml",
        yaml.as_bytes(),
        Format::Yaml,
        &ReadOptions::default(),
    )
    .unwrap();
    let v = validate(&m, &ValidateOptions::default());
    assert_eq!(
        lines(&v),
        [
            "m.yaml:6: error: phone_number: +44 7912345678 is already at m.yaml:5: a number belongs to one account",
            "m.yaml:7: error: phone_number: YAML reads `1.5e3` as a number, not as digits: put the value in quotes",
        ]
    );
}

#[test]
fn a_token_pasted_into_token_env_never_reaches_the_results() {
    let secret = "EAAGm0PX4ZCpsBAKZCdG3uqWZBZAsecretsecretsecret";
    let v = validate_csv(
        &format!("waba_id,cc,phone_number,token_env\n1,44,7912345678,{secret}\n"),
        false,
    );
    let CheckedRow::Invalid(r) = &v.rows[0] else {
        panic!()
    };
    assert_eq!(r.fields.token_env.as_ref().unwrap().text, "[redacted]");
    assert!(!format!("{r:?}").contains("secret"));
    assert!(!lines(&v).concat().contains("secret"));
    assert!(v.diagnostics[0].message.contains(VALUE_NOT_SHOWN));
}

/// The longest one-line diagnostic a huge value may produce (the value itself
/// is clipped to [`crate::text::CLIP_CHARS`]; the rest is the message).
const LINE_BOUND: usize = 240;

#[test]
fn a_ten_megabyte_cell_gives_short_diagnostics() {
    let huge = "7".repeat(10_000_000);
    let name = "Acme ".repeat(2_000_000);
    let csv = format!(
        "waba_id,cc,phone_number,verified_name,token_env,{huge}x\n{huge}x,{huge},{huge},{name},{huge}x,\n1,44,{huge},Acme,T,\n"
    );
    let v = validate_csv(&csv, false);
    let lines = lines(&v);
    // Row 2's number is not checked as a whole: its cc is already wrong.
    assert_eq!(lines.len(), 6, "{lines:?}");
    for l in &lines {
        assert!(
            l.len() < LINE_BOUND,
            "{} chars: {}",
            l.len(),
            &l[..300.min(l.len())]
        );
    }
    let sized = lines.iter().filter(|l| l.contains("(10.0 MB)")).count();
    // The pasted "token" is not shown at all.
    assert_eq!(sized, 5, "each other line quotes a 10 MB value: {lines:?}");
    for row in v.invalid_rows() {
        for reason in &row.reasons {
            assert!(reason.len() < LINE_BOUND, "{reason}");
        }
    }
}

#[test]
fn a_huge_yaml_key_or_value_gives_short_diagnostics() {
    // YAML limits a plain key to 1024 characters; values have no limit.
    let key = "k".repeat(1000);
    let huge = "v".repeat(3_000_000);
    let yaml = format!(
        "version: 1\n{key}: 1\nwabas:\n- waba_id: '1'\n  numbers:\n  - {{cc: '44', phone_number: '7912345678', {key}: 2, verified_name: '{huge}'}}\n"
    );
    let m = read_manifest_bytes(
        "m.yaml",
        yaml.as_bytes(),
        Format::Yaml,
        &ReadOptions::default(),
    )
    .unwrap();
    let v = validate(&m, &ValidateOptions::default());
    assert_eq!(v.diagnostics.len(), 3, "{:?}", lines(&v));
    for l in lines(&v) {
        assert!(l.len() < LINE_BOUND, "{}", &l[..300.min(l.len())]);
    }
}

#[test]
fn a_blank_verified_name_is_an_error_not_dropped() {
    let v = validate_csv(
        "waba_id,cc,phone_number,verified_name\n1,44,7912345678,   \n1,44,7912345679,\n",
        false,
    );
    assert_eq!(
        lines(&v),
        [
            "m.csv:2: error: verified_name: is blank; Meta accepts 2 to 75 characters: give a display name or leave the field out"
        ]
    );
    assert!(
        matches!(v.rows[1], CheckedRow::Valid(_)),
        "an empty cell is absent"
    );
    let yaml = "version: 1\ndefaults: {verified_name: Acme}\nwabas:\n- waba_id: '1'\n  numbers:\n  - {cc: '44', phone_number: '7912345678', verified_name: ''}\n  - {cc: '44', phone_number: '7912345679', verified_name: ~}\n";
    let m = read_manifest_bytes(
        "m.yaml",
        yaml.as_bytes(),
        Format::Yaml,
        &ReadOptions::default(),
    )
    .unwrap();
    let v = validate(&m, &ValidateOptions::default());
    assert_eq!(v.error_count(), 1, "{:?}", lines(&v));
    assert!(lines(&v)[0].starts_with("m.yaml:6: error: verified_name: is blank"));
    let CheckedRow::Valid(r) = &v.rows[1] else {
        panic!()
    };
    assert_eq!(
        r.verified_name.as_deref(),
        None,
        "`~` is no name, not the default's"
    );
}

#[test]
fn ids_with_a_leading_zero_are_refused() {
    let v = validate_csv(
        "waba_id,cc,phone_number,preverified_id\n0102290129340398,44,7912345678,00123\n",
        false,
    );
    assert_eq!(v.error_count(), 2, "{:?}", lines(&v));
    assert!(
        lines(&v)
            .iter()
            .all(|l| l.contains("Meta ids never start with 0"))
    );
}

#[test]
fn onboarding_fields_are_typed() {
    let v = validate_csv(
        "waba_id,cc,phone_number,code_method,language,pin_env,data_localization_region\n\
         1,44,7912345678,voice,pt_BR,CLIENT_PIN,de\n\
         1,44,7912345679,,,,\n",
        false,
    );
    assert_eq!(lines(&v), Vec::<String>::new());
    let rows: Vec<&ValidRow> = v.valid_rows().collect();
    let a = rows[0];
    assert_eq!(a.code_method, CodeMethod::Voice);
    assert_eq!(a.language.as_str(), "pt_BR");
    assert_eq!(
        a.pin_env.as_ref().map(EnvVarName::as_str),
        Some("CLIENT_PIN")
    );
    assert_eq!(a.data_localization_region, Some(Region::De));
    let defaults = ValidRow::fixture(2, "7912345679").pin_env(None);
    let b = rows[1];
    assert_eq!(
        (
            b.code_method,
            b.language,
            &b.pin_env,
            b.data_localization_region
        ),
        (
            defaults.code_method,
            defaults.language,
            &defaults.pin_env,
            defaults.data_localization_region
        )
    );
}

#[test]
fn onboarding_field_errors_and_a_pasted_pin() {
    let v = validate_csv(
        "waba_id,cc,phone_number,code_method,language,pin_env,data_localization_region\n\
         1,44,7912345678,text,english,123456,FR\n",
        false,
    );
    let fields: Vec<&str> = v.diagnostics.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "code_method",
            "language",
            "pin_env",
            "data_localization_region"
        ]
    );
    assert!(!lines(&v).concat().contains("123456"), "{:?}", lines(&v));
    let CheckedRow::Invalid(r) = &v.rows[0] else {
        panic!()
    };
    assert_eq!(r.fields.pin_env.as_ref().unwrap().text, "[redacted]");
    assert!(!r.reasons.concat().contains("123456"));
}

#[test]
fn sms_to_a_landline_warns_at_the_row() {
    let v = validate_csv(
        "waba_id,cc,phone_number,code_method\n1,44,2079460000,\n1,44,2079460001,VOICE\n1,44,7912345678,SMS\n",
        false,
    );
    assert_eq!(
        lines(&v),
        [
            "m.csv:2: warning: code_method: +44 2079460000 is a fixed-line number in the numbering plan, which cannot receive the code by SMS (SMS is the default): set code_method to VOICE"
        ]
    );
    assert!(v.is_valid());
}

#[test]
fn yaml_onboarding_fields_at_number_waba_and_defaults() {
    let yaml = r"version: 1
defaults: {language: fr_FR, code_method: VOICE, pin_env: DEFAULT_PIN}
wabas:
- waba_id: '1'
  pin_env: WABA_PIN
  data_localization_region: GB
  numbers:
  - {cc: '44', phone_number: '7912345678', language: en_GB}
  - {cc: '44', phone_number: '7912345679', code_method: SMS, pin_env: OWN_PIN}
- waba_id: '2'
  numbers:
  - {cc: '44', phone_number: '7912345670'}
";
    let m = read_manifest_bytes(
        "m.yaml",
        yaml.as_bytes(),
        Format::Yaml,
        &ReadOptions::default(),
    )
    .unwrap();
    let v = validate(&m, &ValidateOptions::default());
    assert_eq!(lines(&v), Vec::<String>::new());
    let got: Vec<(String, &str, &str, Option<Region>)> = v
        .valid_rows()
        .map(|r| {
            (
                r.language.to_string(),
                r.code_method.as_str(),
                r.pin_env.as_ref().map_or("", EnvVarName::as_str),
                r.data_localization_region,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("en_GB".to_string(), "VOICE", "WABA_PIN", Some(Region::Gb)),
            ("fr_FR".to_string(), "SMS", "OWN_PIN", Some(Region::Gb)),
            ("fr_FR".to_string(), "VOICE", "DEFAULT_PIN", None),
        ]
    );
}

#[test]
fn carried_columns_reach_valid_and_invalid_rows() {
    let m = read_manifest_bytes(
        "m.csv",
        b"Client;waba_id;cc;phone_number\nAcme;1;44;7912345678\nBella;1;44;79x\n",
        Format::Csv,
        &ReadOptions {
            ignore_columns: vec!["client".into()],
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let v = validate(&m, &ValidateOptions::default());
    assert_eq!(v.extra_columns, ["Client"]);
    let CheckedRow::Valid(a) = &v.rows[0] else {
        panic!("{:?}", v.rows[0])
    };
    assert_eq!(&*a.extra, [Box::from("Acme")]);
    let CheckedRow::Invalid(b) = &v.rows[1] else {
        panic!()
    };
    assert_eq!(&*b.extra, [Box::from("Bella")]);
}

#[test]
fn a_bad_waba_or_defaults_value_is_reported_once_at_its_key() {
    let yaml = r"version: 1
defaults:
  token_env: 1BAD
  verified_name: A
wabas:
- waba_id: 1022x
  numbers:
  - {cc: '44', phone_number: '7912345678'}
  - {cc: '44', phone_number: '7912345679', token_env: OWN, verified_name: Acme}
- waba_id: '2'
  numbers:
  - {cc: '44', phone_number: '7912345670'}
";
    let m = read_manifest_bytes(
        "m.yaml",
        yaml.as_bytes(),
        Format::Yaml,
        &ReadOptions::default(),
    )
    .unwrap();
    let v = validate(&m, &ValidateOptions::default());
    assert_eq!(
        lines(&v),
        [
            "m.yaml:3: error: token_env: `1BAD` is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
            "m.yaml:4: error: verified_name: `A` is 1 character long; Meta accepts 2 to 75",
            "m.yaml:6: error: waba_id: `1022x` is not an id: digits only",
        ]
    );
    // Every row below stays invalid, and says why.
    let reasons: Vec<Vec<&str>> = v
        .invalid_rows()
        .map(|r| {
            r.reasons
                .iter()
                .map(|s| s.split(':').next().unwrap_or(""))
                .collect()
        })
        .collect();
    assert_eq!(
        reasons,
        [
            vec!["waba_id", "verified_name", "token_env"],
            vec!["waba_id"],
            vec!["verified_name", "token_env"],
        ]
    );
}

/// A million rows are held at once: every byte here is a megabyte there
/// (interned strings, the phone number inline, carried columns and a prior
/// line behind one pointer each).
#[cfg(target_pointer_width = "64")]
#[test]
fn rows_stay_compact() {
    assert!(std::mem::size_of::<ValidRow>() <= 160);
    assert!(std::mem::size_of::<CheckedRow>() <= 160);
}
