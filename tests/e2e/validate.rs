//! End-to-end tests of `validate` and `plan`: the real binary on fixture
//! manifests (tests/fixtures/manifests) and on the examples.

use crate::support::{bin, fixture};
use assert_cmd::Command;

/// `waba-provision ARGS` run inside tests/fixtures/manifests, so the paths it
/// prints are the short fixture names.
fn in_fixtures(args: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.current_dir(fixture("manifests")).args(args);
    clear_tokens(&mut cmd);
    cmd
}

/// The token variables the fixtures and examples name: unset, whatever the
/// developer's shell has, so "set"/"NOT SET" is deterministic.
fn clear_tokens(cmd: &mut Command) {
    for var in [
        "CLIENT_A_TOKEN",
        "AGENCY_TOKEN",
        "CLIENT_LUMIERE_TOKEN",
        "CLIENT_LOJA_TOKEN",
        "CLIENT_SOL_TOKEN",
    ] {
        cmd.env_remove(var);
    }
}

/// Exit code, stdout, stderr lines.
fn run(args: &[&str]) -> (i32, String, Vec<String>) {
    let out = in_fixtures(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect();
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// The `FILE:LINE: severity` prefixes of the diagnostics printed.
fn located(stderr: &[String]) -> Vec<String> {
    stderr
        .iter()
        .filter(|l| l.contains(": error: ") || l.contains(": warning: "))
        .map(|l| {
            let mut parts = l.splitn(4, ": ");
            let loc = parts.next().unwrap_or("");
            let sev = parts.next().unwrap_or("");
            let field = parts.next().unwrap_or("");
            format!("{loc} {sev} {field}")
        })
        .collect()
}

/// Each line with runs of spaces squeezed to one (table columns are padded).
fn squeezed(s: &str) -> Vec<String> {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn good_manifests_are_valid_and_quiet() {
    for f in ["good.csv", "good.yaml", "good_results.csv"] {
        let (code, _, err) = run(&["validate", f]);
        assert_eq!(code, 0, "{f}: {err:?}");
        assert_eq!(located(&err), Vec::<String>::new(), "{f}");
        assert_eq!(
            err.last().map(String::as_str),
            Some("no problems; 3 of 3 rows valid; manifest valid")
        );
    }
}

#[test]
fn bad_csv_rows_are_reported_at_their_lines() {
    let (code, _, err) = run(&["validate", "bad_rows.csv"]);
    assert_eq!(code, 2);
    assert_eq!(
        located(&err),
        [
            "bad_rows.csv:3 error waba_id",
            // A record over two lines (quoted newline) is reported where it starts.
            "bad_rows.csv:4 error token_env",
            "bad_rows.csv:7 error cc",
            "bad_rows.csv:7 error migrate_phone_number",
            "bad_rows.csv:8 error phone_number",
            "bad_rows.csv:9 error phone_number",
        ]
    );
    assert!(err.iter().any(|l| l == "bad_rows.csv:8: error: phone_number: +44 7912345678 is already at bad_rows.csv:2: a number belongs to one account"), "{err:?}");
    assert!(
        !err.iter()
            .any(|l| l.starts_with("bad_rows.csv:2:") || l.starts_with("bad_rows.csv:6:")),
        "good rows stay silent"
    );
    assert_eq!(
        err.last().unwrap(),
        "6 errors, 0 warnings; 2 of 7 rows valid; manifest INVALID"
    );
}

#[test]
fn bad_yaml_rows_are_reported_at_their_entries() {
    let (code, _, err) = run(&["validate", "bad_rows.yaml"]);
    assert_eq!(code, 2);
    assert_eq!(
        located(&err),
        [
            "bad_rows.yaml:6 error phone_number",
            "bad_rows.yaml:7 error phone_number",
            "bad_rows.yaml:8 error phone_numbr",
            "bad_rows.yaml:9 error cc",
            "bad_rows.yaml:11 error verified_name",
            // The WABA's own bad id: once, at its key, not at its numbers.
            "bad_rows.yaml:13 error waba_id",
        ]
    );
    assert!(
        err.iter().any(|l| l
            == "bad_rows.yaml:8: error: phone_numbr: unknown key (did you mean `phone_number`?)")
    );
}

#[test]
fn bom_and_crlf_keep_line_numbers() {
    let (code, _, err) = run(&["validate", "crlf_bom.csv"]);
    assert_eq!(code, 2);
    assert_eq!(located(&err), ["crlf_bom.csv:4 error phone_number"]);
}

#[test]
fn warnings_pass_unless_strict() {
    let (code, _, err) = run(&["validate", "warnings.csv"]);
    assert_eq!(code, 0);
    assert_eq!(
        located(&err),
        [
            "warnings.csv:2 warning phone_number",
            "warnings.csv:2 warning verified_name",
            "warnings.csv:3 warning phone_number",
            "warnings.csv:3 warning verified_name",
        ]
    );
    let (code, _, err) = run(&["validate", "warnings.csv", "--strict-numbers"]);
    assert_eq!(code, 2);
    assert_eq!(located(&err)[0], "warnings.csv:2 error phone_number");
}

#[test]
fn bad_files_give_one_clear_error() {
    let cases = [
        (
            "not_utf8.csv",
            "not_utf8.csv:2: the file is not valid UTF-8",
        ),
        ("binary.csv", "binary.csv: this looks like a binary file"),
        ("empty.csv", "empty.csv: the file is empty"),
        (
            "header_only.csv",
            "header_only.csv: the CSV has a header but no rows",
        ),
        (
            "broken.csv",
            "broken.csv:2: broken CSV: a quoted field opens here and is never closed",
        ),
        ("broken.yaml", "broken.yaml:3: broken YAML:"),
        (
            "deep.yaml",
            "deep.yaml:2: refusing this YAML: nested more than",
        ),
        (
            "alias_bomb.yaml",
            "refusing this YAML: aliases (`*name`) expand to far more data",
        ),
        ("no_such_file.csv", "no_such_file.csv: cannot read:"),
    ];
    for (file, want) in cases {
        let (code, out, err) = run(&["validate", file]);
        assert_eq!(code, 2, "{file}");
        assert!(out.is_empty(), "{file}");
        assert_eq!(err.len(), 1, "{file}: {err:?}");
        assert!(
            err[0].starts_with("waba-provision: error: "),
            "{file}: {err:?}"
        );
        assert!(err[0].contains(want), "{file}: {err:?}");
    }
}

#[test]
fn plan_shows_each_waba_and_never_a_token_value() {
    let mut cmd = bin();
    clear_tokens(&mut cmd);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["plan", "examples/agency.yaml", "--rate-per-waba", "2/h"])
        .env("CLIENT_LUMIERE_TOKEN", "EAAsupersecretvalue123");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stdout.contains("supersecret") && !stderr.contains("supersecret"));
    let lines = squeezed(&stdout);
    // 3 rows at 2/h: a burst of 2, then one more an hour later.
    assert!(
        lines.contains(&"105937261840233 3 3 0 1h 0m CLIENT_LUMIERE_TOKEN (set)".to_string()),
        "{stdout}"
    );
    assert!(
        lines.contains(&"102290129340398 3 3 0 1h 0m AGENCY_TOKEN (NOT SET)".to_string()),
        "{stdout}"
    );
    assert!(
        lines.contains(
            &"Total: 37 rows to send to 12 WABAs in 37 calls, 0 skipped (already as far as asked)"
                .to_string()
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Estimated time: 1h 0m (bound by the per-WABA budget of WABA 102290129340398)"
        ),
        "{stdout}"
    );
}

/// The plan of good.csv's three rows skips the two that good_results.csv has
/// as `created` (one in each WABA), whether that file is `--resume`d or is
/// itself the manifest.
fn assert_skips_good_results_created_rows(out: &str) {
    assert!(
        squeezed(out).contains(&"104851937262514 0 0 1 - -".to_string()),
        "{out}"
    );
    assert!(
        out.contains("Total: 1 row to send to 2 WABAs in 1 call, 2 skipped"),
        "{out}"
    );
}

#[test]
fn plan_resume_skips_what_run_resume_would_keep() {
    // As `run --resume`: rows final in the file (created, and failed too)
    // are kept; retry is what carries failed rows on.
    let (code, out, err) = run(&["plan", "good.csv", "--resume", "good_results.csv"]);
    assert_eq!(code, 0, "{err:?}");
    assert!(
        out.contains("Total: 0 rows to send to 2 WABAs in 0 calls, 3 skipped"),
        "{out}"
    );
    // Going further than the file went: the created rows need their next steps.
    let (code, out, err) = run(&[
        "plan",
        "good.csv",
        "--resume",
        "good_results.csv",
        "--through",
        "request-code",
    ]);
    assert_eq!(code, 0, "{err:?}");
    assert!(
        out.contains("Total: 2 rows to send to 2 WABAs in 2 calls, 1 skipped"),
        "{out}"
    );
}

#[test]
fn plan_refuses_invalid_manifests_and_non_results_files() {
    let (code, out, err) = run(&["plan", "bad_rows.csv"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.iter().any(|l| l.starts_with("bad_rows.csv:3: error:")));
    let (code, _, err) = run(&["plan", "good.csv", "--resume", "good.csv"]);
    assert_eq!(code, 2);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(
        err[0].starts_with(
            "waba-provision: error: --resume: good.csv is not a waba-provision results file"
        ),
        "{err:?}"
    );
    let (code, _, err) = run(&["plan", "good.csv", "--rate", "fast"]);
    assert_eq!(code, 2);
    assert!(
        err[0].starts_with("waba-provision: error: --rate:"),
        "{err:?}"
    );
}

#[test]
fn plan_counts_the_calls_through_implies_and_says_where_a_run_would_send() {
    let (code, out, err) = run(&["plan", "good.csv", "--through", "register"]);
    assert_eq!(code, 0, "{err:?}");
    assert!(
        out.contains("Total: 3 rows to send to 2 WABAs in 12 calls"),
        "{out}"
    );
    assert!(
        out.contains("A run would send to https://graph.facebook.com/v25.0 (from the default)"),
        "{out}"
    );
    // Rows created already need three calls more each; the other one four.
    let (code, out, err) = run(&["plan", "good_results.csv", "--through", "register"]);
    assert_eq!(code, 0, "{err:?}");
    assert!(out.contains("in 10 calls, 0 skipped"), "{out}");
}

#[test]
fn plan_of_a_results_file_skips_its_created_rows_as_retry_would() {
    let (code, out, err) = run(&["plan", "good_results.csv"]);
    assert_eq!(code, 0, "{err:?}");
    assert_skips_good_results_created_rows(&out);
}

#[test]
fn a_ten_megabyte_cell_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    let name = "Acme ".repeat(2_000_000);
    std::fs::write(
        &path,
        format!("waba_id,cc,phone_number,verified_name\n1,44,7912345678,{name}\n"),
    )
    .unwrap();
    let out = bin().arg("validate").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.len() < 1000, "{} bytes on stderr", stderr.len());
    let line = stderr
        .lines()
        .find(|l| l.contains(": error: verified_name: "))
        .expect("the error is reported");
    assert!(line.len() < 200, "{line}");
    assert!(line.contains("… (10.0 MB)"), "{line}");
}

#[test]
fn a_european_excel_export_is_read_and_its_artefacts_explained() {
    let (code, _, err) = run(&["validate", "excel_semicolon.csv"]);
    assert_eq!(code, 2);
    assert_eq!(
        err[0],
        "excel_semicolon.csv:1: error: Client: unknown column (a column of your own? carry it into the results with --ignore-column 'Client')"
    );
    let (code, _, err) = run(&[
        "validate",
        "excel_semicolon.csv",
        "--ignore-column",
        "Client",
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        located(&err),
        [
            "excel_semicolon.csv:2 error phone_number",
            "excel_semicolon.csv:4 error waba_id",
            "excel_semicolon.csv:5 error cc",
            "excel_semicolon.csv:5 error phone_number",
        ]
    );
    let spreadsheet = "by a spreadsheet: format the column as Text and export again";
    assert!(
        err.iter()
            .filter(|l| l.contains(": error: "))
            .all(|l| l.ends_with(spreadsheet)),
        "{err:?}"
    );
    assert_eq!(
        err.last().unwrap(),
        "4 errors, 0 warnings; 1 of 4 rows valid; manifest INVALID"
    );
}

#[test]
fn delimiter_flag_reads_other_separators() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipes.csv");
    std::fs::write(
        &path,
        "waba_id|cc|phone_number\n102290129340398|44|7912345678\n",
    )
    .unwrap();
    let out = bin()
        .args(["validate", "--delimiter", "|"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = bin()
        .args(["validate", "--delimiter", "ab"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not one character"));
}

#[test]
fn the_same_mistake_on_thousands_of_rows_is_grouped_after_twenty_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plus.csv");
    let mut csv = String::from("waba_id,cc,phone_number\n");
    for i in 0..3000 {
        csv.push_str(&format!("102290129340398,+44,79{i:08}\n"));
    }
    std::fs::write(&path, csv).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["validate", "plus.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(err.len(), 22, "{err:#?}");
    assert_eq!(
        err[0],
        "plus.csv:2: error: cc: `+44`: write the country code without `+` (`44`)"
    );
    assert!(
        err[19].starts_with("plus.csv:21: error: cc: "),
        "{}",
        err[19]
    );
    assert_eq!(
        err[20],
        "plus.csv: … and 2,980 more rows with the same error: cc: `+44`: write the country code without `+` (`44`)"
    );
    assert_eq!(
        err[21],
        "3000 errors, 0 warnings; 0 of 3000 rows valid; manifest INVALID"
    );
}

#[test]
fn a_bad_waba_key_is_reported_once_for_all_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from(
        "version: 1\nwabas:\n  - waba_id: \"102290129340398\"\n    token_env: $CLIENT_TOKEN\n    numbers:\n",
    );
    for i in 0..50 {
        yaml.push_str(&format!(
            "      - {{ cc: \"44\", phone_number: \"79{i:08}\" }}\n"
        ));
    }
    std::fs::write(dir.path().join("waba.yaml"), yaml).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["validate", "waba.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        err,
        [
            "waba.yaml:4: error: token_env: `$CLIENT_TOKEN`: write the variable's name without `$` (`CLIENT_TOKEN`)",
            "1 error, 0 warnings; 0 of 50 rows valid; manifest INVALID",
        ]
    );
}

#[test]
fn the_onboarding_and_spreadsheet_examples_are_valid() {
    let root = env!("CARGO_MANIFEST_DIR");
    for args in [
        &["validate", "examples/onboarding.yaml"][..],
        &[
            "validate",
            "examples/agency_semicolon.csv",
            "--ignore-column",
            "Client",
            "--ignore-column",
            "Notes",
        ][..],
    ] {
        let out = bin().current_dir(root).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.starts_with("no problems;"), "{args:?}: {stderr}");
    }
}
