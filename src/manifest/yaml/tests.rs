//! Unit tests of the YAML reader: flattening, lines, keys, bad files.

use super::super::{Format, ManifestError, ReadOptions, read_manifest_bytes};
use super::*;

fn read_str(text: &str) -> Manifest {
    read_manifest_bytes(
        "m.yaml",
        text.as_bytes(),
        Format::Yaml,
        &ReadOptions::default(),
    )
    .unwrap()
}

fn err(text: &str) -> ManifestError {
    read_manifest_bytes(
        "m.yaml",
        text.as_bytes(),
        Format::Yaml,
        &ReadOptions::default(),
    )
    .unwrap_err()
}

fn text(v: &Option<RawValue>) -> &str {
    v.as_ref().map_or("", |v| v.text.as_str())
}

fn diags(m: &Manifest) -> Vec<String> {
    let mut d: Vec<String> = m.diagnostics.iter().map(|d| d.to_string()).collect();
    d.extend(m.row_diagnostics.iter().map(|d| d.to_string()));
    d
}

const SPEC_EXAMPLE: &str = r#"version: 1
defaults:                       # optional, applied to every number unless it overrides
  migrate_phone_number: false
wabas:
  - waba_id: "102290129340398"
    token_env: CLIENT_A_TOKEN   # optional
    numbers:
      - { cc: "1", phone_number: "5550100001", verified_name: "Acme Support" }
      - cc: "44"
        phone_number: "7700 900123"
        migrate_phone_number: true
"#;

#[test]
fn flattens_the_spec_example_with_lines() {
    let m = read_str(SPEC_EXAMPLE);
    assert_eq!(diags(&m), Vec::<String>::new());
    assert_eq!(m.rows.len(), 2);
    let (a, b) = (&m.rows[0], &m.rows[1]);
    assert_eq!((a.row, a.source.to_string()), (1, "m.yaml:8".to_string()));
    assert_eq!((b.row, b.source.to_string()), (2, "m.yaml:9".to_string()));
    assert_eq!(text(&a.fields.waba_id), "102290129340398");
    assert_eq!(text(&a.fields.token_env), "CLIENT_A_TOKEN");
    assert_eq!(
        text(&a.fields.migrate_phone_number),
        "false",
        "from defaults"
    );
    assert_eq!(text(&a.fields.verified_name), "Acme Support");
    assert_eq!(text(&b.fields.phone_number), "7700 900123");
    assert_eq!(
        text(&b.fields.migrate_phone_number),
        "true",
        "overrides defaults"
    );
    assert_eq!(b.fields.verified_name, None);
}

#[test]
fn precedence_number_then_waba_then_defaults() {
    let m = read_str(
        "version: 1\ndefaults: {token_env: D, verified_name: Def}\nwabas:\n\
         - waba_id: 1\n  numbers: [{cc: 1, phone_number: 2}]\n\
         - waba_id: 2\n  token_env: W\n  numbers: [{cc: 1, phone_number: 3, token_env: N}, {cc: 1, phone_number: 4}]\n",
    );
    let tokens: Vec<&str> = m.rows.iter().map(|r| text(&r.fields.token_env)).collect();
    assert_eq!(tokens, ["D", "N", "W"]);
    assert!(
        m.rows
            .iter()
            .all(|r| text(&r.fields.verified_name) == "Def")
    );
    let lines: Vec<u32> = m.rows.iter().map(|r| r.source.line).collect();
    assert_eq!(lines, [5, 8, 8]);
}

#[test]
fn integers_become_digits_and_keep_leading_zeros() {
    let m = read_str(
        "version: 1\nwabas:\n  - waba_id: 102290129340398\n    numbers:\n      - cc: 44\n        phone_number: 07700900123\n      - cc: 1\n        phone_number: 1.5e3\n",
    );
    let a = &m.rows[0].fields;
    assert_eq!(
        a.waba_id,
        Some(RawValue {
            text: "102290129340398".into(),
            from_integer: true
        })
    );
    assert_eq!(
        a.phone_number,
        Some(RawValue {
            text: "07700900123".into(),
            from_integer: true
        }),
        "the digits as written, zero included"
    );
    let b = &m.rows[1].fields;
    assert_eq!(text(&b.phone_number), "1.5e3", "a float keeps its spelling");
    assert!(b.phone_number.as_ref().unwrap().from_integer);
}

#[test]
fn yes_no_reach_validation_as_text() {
    let m = read_str(
        "version: 1\nwabas:\n- waba_id: '1'\n  numbers:\n  - {cc: '1', phone_number: '2', migrate_phone_number: yes}\n",
    );
    assert_eq!(text(&m.rows[0].fields.migrate_phone_number), "yes");
}

#[test]
fn unknown_keys_are_errors_at_their_line() {
    let m = read_str(
        "version: 1\n\
         wabaz: []\n\
         defaults:\n  verfied_name: X\n  cc: '1'\n\
         wabas:\n\
         - waba_id: '1'\n  tokn_env: T\n  numbers:\n  - cc: '1'\n    phone_numbr: '2'\n  - {cc: '1', phone_number: '3', waba_id: '9'}\n",
    );
    assert_eq!(
        diags(&m),
        [
            "m.yaml:2: error: wabaz: unknown key (did you mean `wabas`?)",
            "m.yaml:4: error: verfied_name: unknown key (did you mean `verified_name`?)",
            "m.yaml:5: error: cc: cannot have a default: give `cc` on each number",
            "m.yaml:8: error: tokn_env: unknown key (did you mean `token_env`?)",
            "m.yaml:11: error: phone_numbr: unknown key (did you mean `phone_number`?)",
            "m.yaml:12: error: waba_id: goes on the WABA entry, not on a number",
        ]
    );
    // The WABA-level problem makes both of its rows invalid; the number-level
    // ones only their own row.
    let problems: Vec<usize> = m.rows.iter().map(|r| r.problems.len()).collect();
    assert_eq!(problems, [2, 2]);
    assert_eq!(
        m.rows[0].problems[0],
        "tokn_env: unknown key (did you mean `token_env`?)"
    );
}

#[test]
fn duplicate_keys_are_reported() {
    let m = read_str(
        "version: 1\nwabas:\n- waba_id: '1'\n  numbers:\n  - cc: '1'\n    cc: '2'\n    phone_number: '3'\n",
    );
    assert_eq!(
        diags(&m),
        ["m.yaml:6: error: cc: given twice (first at line 5)"]
    );
    assert_eq!(text(&m.rows[0].fields.cc), "1");
}

#[test]
fn structure_problems() {
    let m = read_str(
        "wabas:\n- waba_id: '1'\n  numbers:\n  - '5550100001'\n  - cc: [1]\n    phone_number: '2'\n",
    );
    assert_eq!(
        diags(&m),
        [
            "m.yaml:1: error: version: required: start the manifest with `version: 1`",
            "m.yaml:4: error: numbers: each number must be a mapping like `{ cc: \"44\", phone_number: \"7700900123\" }`, found a string",
            "m.yaml:5: error: cc: expected a single value, found a list",
        ]
    );
    assert_eq!(
        m.rows.len(),
        2,
        "bad entries are still rows, so they are mapped"
    );

    let m = read_str("version: 2\nwabas:\n- waba_id: '1'\n  numbers: []\n- 5\n- waba_id: '2'\n");
    assert_eq!(
        diags(&m),
        [
            "m.yaml:1: error: version: `2` is not a version this tool reads: write `version: 1`",
            "m.yaml:4: warning: numbers: this WABA lists no numbers",
            "m.yaml:5: error: wabas: each WABA entry must be a mapping with `waba_id` and `numbers`, found an integer",
            "m.yaml:6: error: numbers: required: the list of this WABA's numbers",
        ]
    );
}

#[test]
fn bad_files_are_one_error() {
    assert!(matches!(
        err("# only a comment\n"),
        ManifestError::Empty { .. }
    ));
    assert!(matches!(
        err("- a\n- b\n"),
        ManifestError::NotAManifest { line: 1, .. }
    ));
    assert!(matches!(
        err("version: 1\nwabas: []\n"),
        ManifestError::NoRows { .. }
    ));
    let e = err("version: 1\nwabas:\n  - waba_id: [1\n    numbers: x\n");
    assert!(matches!(e, ManifestError::Yaml { .. }), "{e}");
    let e = err("version: 1\n---\nversion: 1\n");
    assert!(e.to_string().contains("more than one YAML document"), "{e}");
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!(
        "version: 1\nwabas: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let e = err(&deep);
    assert!(matches!(e, ManifestError::TooComplex { .. }), "{e}");
    let mut block = String::from("version: 1\nwabas:\n");
    for i in 0..200 {
        block.push_str(&" ".repeat(i * 2 + 2));
        block.push_str("- \n");
    }
    let e = err(&block);
    assert!(
        matches!(
            e,
            ManifestError::TooComplex { .. } | ManifestError::Yaml { .. }
        ),
        "{e}"
    );
}

#[test]
fn alias_bomb_is_refused() {
    let mut bomb = String::from("version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    bomb.push_str("wabas: *a11\n");
    let e = err(&bomb);
    assert!(matches!(e, ManifestError::TooComplex { .. }), "{e}");
    assert!(e.to_string().contains("alias bomb"), "{e}");
}

#[test]
fn modest_aliases_are_fine() {
    let m = read_str(
        "version: 1\nwabas:\n- waba_id: '1'\n  numbers:\n  - &n {cc: '44', phone_number: '7700900123'}\n  - *n\n",
    );
    assert_eq!(m.rows.len(), 2);
    assert_eq!(m.rows[1].source.line, 6, "an alias row points at the alias");
}

#[test]
fn ignored_keys_are_carried_with_the_fields_precedence() {
    let options = ReadOptions {
        ignore_columns: vec!["client".into(), "Notes".into()],
        ..ReadOptions::default()
    };
    let yaml = r"version: 1
defaults: {notes: default note}
wabas:
- waba_id: '1'
  Client: Acme
  numbers:
  - {cc: '44', phone_number: '7700900123'}
  - {cc: '44', phone_number: '7700900124', notes: own, client: [x]}
";
    let m = read_manifest_bytes("m.yaml", yaml.as_bytes(), Format::Yaml, &options).unwrap();
    assert_eq!(m.extra_columns, ["client", "Notes"]);
    assert_eq!(
        diags(&m),
        ["m.yaml:8: error: client: expected a single value, found a list"]
    );
    let extra: Vec<Vec<&str>> = m
        .rows
        .iter()
        .map(|r| r.extra.iter().map(|v| &**v).collect())
        .collect();
    assert_eq!(extra, [vec!["Acme", "default note"], vec!["Acme", "own"]]);
    assert_eq!(
        m.rows[1].problems.len(),
        1,
        "the bad value makes its row invalid"
    );
    // Without the option, the same key is an unknown key.
    let plain = read_str(yaml);
    assert!(
        diags(&plain)
            .iter()
            .any(|d| d.contains("Client: unknown key"))
    );
}
