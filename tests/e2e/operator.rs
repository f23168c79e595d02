//! End-to-end: what an operator trips over — a typo'd URL, a leftover
//! `WABA_GRAPH_URL`, a results path that is the manifest, missing
//! directories — found before any file is made, each with the fix.

use std::path::Path;

use crate::support::bin;

/// A small valid manifest in a fresh directory.
fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.csv");
    std::fs::write(&m, "waba_id,cc,phone_number\n111,44,7400000001\n").unwrap();
    (dir, m)
}

/// Every file in `dir` but the manifest: what a refused run left behind.
fn left_behind(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "m.csv")
        .collect();
    names.sort();
    names
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = bin()
        .args(args)
        .env("WABA_ACCESS_TOKEN", "tok")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_graph_url_without_scheme_or_with_a_version_is_refused_with_the_fix() {
    let (dir, m) = setup();
    let res = dir.path().join("r.csv");
    let (m, res) = (m.to_str().unwrap(), res.to_str().unwrap());
    let (code, err) = run(&[
        "run",
        m,
        "--results",
        res,
        "--graph-url",
        "graph.facebook.com",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("write it as https://graph.facebook.com"),
        "{err}"
    );
    let (code, err) = run(&[
        "run",
        m,
        "--results",
        res,
        "--graph-url",
        "https://graph.facebook.com/v25.0",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "give the base (https://graph.facebook.com) and the version with --api-version v25.0"
        ),
        "{err}"
    );
    assert!(
        left_behind(dir.path()).is_empty(),
        "{:?}",
        left_behind(dir.path())
    );
}

#[test]
fn the_run_says_where_it_sends_and_from_which_setting() {
    let (dir, m) = setup();
    let res = dir.path().join("r.csv");
    // Nothing listens on port 9: the point is the first line, not the run.
    let out = bin()
        .args([
            "run",
            m.to_str().unwrap(),
            "--results",
            res.to_str().unwrap(),
        ])
        .args(["--timeout", "1", "--max-attempts", "1"])
        .env("WABA_ACCESS_TOKEN", "tok")
        .env("WABA_GRAPH_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sending to http://127.0.0.1:9/v25.0 (from WABA_GRAPH_URL)"),
        "{err}"
    );
}

#[test]
fn results_naming_the_manifest_is_refused_even_with_force() {
    let (dir, m) = setup();
    let before = std::fs::read(&m).unwrap();
    let path = m.to_str().unwrap();
    let (code, err) = run(&[
        "run",
        path,
        "--results",
        path,
        "--force",
        "--graph-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is the manifest being read"), "{err}");
    assert_eq!(std::fs::read(&m).unwrap(), before);
    assert!(
        left_behind(dir.path()).is_empty(),
        "{:?}",
        left_behind(dir.path())
    );
}

#[test]
fn refusals_at_start_leave_no_file_behind() {
    let (dir, m) = setup();
    let m = m.to_str().unwrap();
    let res = dir.path().join("r.csv");
    let res = res.to_str().unwrap();
    let url = ["--graph-url", "http://127.0.0.1:9"];
    // A results directory that does not exist: named as typed.
    let missing = dir.path().join("nope/r.csv");
    let (code, err) = run(&[
        "run",
        m,
        "--results",
        missing.to_str().unwrap(),
        url[0],
        url[1],
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "cannot write the results file {}",
            missing.display()
        )),
        "{err}"
    );
    assert!(!err.contains(".lock"), "{err}");
    // A --summary-json directory that does not exist.
    let json = dir.path().join("nope/s.json");
    let (code, err) = run(&[
        "run",
        m,
        "--results",
        res,
        "--summary-json",
        json.to_str().unwrap(),
        url[0],
        url[1],
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--summary-json"), "{err}");
    // A missing token.
    let out = bin()
        .args(["run", m, "--results", res, url[0], url[1]])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        left_behind(dir.path()).is_empty(),
        "{:?}",
        left_behind(dir.path())
    );
}

#[test]
fn a_wrong_graph_url_stops_within_seconds_not_an_hour() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.csv");
    let mut csv = String::from("waba_id,cc,phone_number\n");
    for i in 0..300 {
        csv.push_str(&format!("{},44,74{:08}\n", 111 + i % 3, i));
    }
    std::fs::write(&m, csv).unwrap();
    let res = dir.path().join("r.csv");
    let out = bin()
        .args([
            "run",
            m.to_str().unwrap(),
            "--results",
            res.to_str().unwrap(),
        ])
        .args(["--graph-url", "http://127.0.0.1:9"])
        .env("WABA_ACCESS_TOKEN", "tok")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(
        err.matches("waba-provision: cannot connect to http://127.0.0.1:9")
            .count(),
        1,
        "{err}"
    );
    let lines = waba_provision::results::read_results(&res).unwrap();
    assert_eq!(lines.len(), 300, "every row is recorded");
    assert!(
        lines
            .iter()
            .all(|l| l.status == waba_provision::schema::Status::Skipped)
    );
    // The run stops itself (a stall would keep this test waiting on the 200/h
    // budget) and says how to carry on.
    assert!(
        lines[0].error_message.contains("--resume"),
        "{}",
        lines[0].error_message
    );
}

#[test]
fn retry_of_a_manifest_says_to_use_run() {
    let (dir, m) = setup();
    let res = dir.path().join("r.csv");
    let (code, err) = run(&[
        "retry",
        m.to_str().unwrap(),
        "--results",
        res.to_str().unwrap(),
        "--graph-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("is a manifest, not a results file: use `waba-provision run"),
        "{err}"
    );
    assert!(!err.contains("--force"), "{err}");
    assert!(
        left_behind(dir.path()).is_empty(),
        "{:?}",
        left_behind(dir.path())
    );
}

#[test]
fn a_secret_given_where_a_variable_name_is_expected_is_never_echoed() {
    let (dir, m) = setup();
    let res = dir.path().join("r.csv");
    let token = "EAABwzLixnjYBO1234567890abcdefghijkl";
    for flag in ["--token-env", "--pin-env", "--app-secret-env"] {
        let (code, err) = run(&[
            "run",
            m.to_str().unwrap(),
            "--results",
            res.to_str().unwrap(),
            flag,
            token,
        ]);
        assert_eq!(code, Some(2), "{flag}: {err}");
        assert!(
            !err.contains(token) && !err.contains("EAABwz"),
            "{flag}: {err}"
        );
        assert!(err.contains(flag), "{flag}: {err}");
    }
    let (code, err) = run(&["plan", m.to_str().unwrap(), "--token-env", token]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!err.contains("EAABwz"), "{err}");
    let (code, err) = run(&[
        "run",
        m.to_str().unwrap(),
        "--results",
        res.to_str().unwrap(),
        "--token-env",
        "$WABA_ACCESS_TOKEN",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("without `$`"), "{err}");
    let (code, err) = run(&["sandbox", "--app-secret-env", token]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!err.contains("EAABwz"), "{err}");
    assert!(
        left_behind(dir.path()).is_empty(),
        "{:?}",
        left_behind(dir.path())
    );
}

#[test]
fn an_agency_s_own_columns_are_carried_into_the_results_and_through_retry() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = rt
        .block_on(waba_provision::sandbox::Sandbox::start(Default::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.csv");
    // Excel in much of Europe: `;` between the cells.
    std::fs::write(
        &m,
        "waba_id;cc;phone_number;Client;Notes\n111;44;7400000001;Acme Ltd;\"call \"\"Bob\"\"; later\"\n111;44;74000x;Beta;\n",
    )
    .unwrap();
    let res = dir.path().join("r.csv");
    let url = sandbox.url();
    let (code, err) = run(&[
        "run",
        m.to_str().unwrap(),
        "--results",
        res.to_str().unwrap(),
        "--graph-url",
        &url,
        "--ignore-column",
        "Client",
        "--ignore-column",
        "Notes",
        "--skip-invalid",
    ]);
    assert_eq!(code, Some(1), "{err}");
    let text = std::fs::read_to_string(&res).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.ends_with(",data_localization_region,Client,Notes"),
        "{header}"
    );
    let lines = waba_provision::results::read_results(&res).unwrap();
    assert_eq!(lines[0].extra, ["Acme Ltd", "call \"Bob\"; later"]);
    assert_eq!(lines[1].extra, ["Beta", ""]);
    // retry of that file carries them again, without being told.
    let res2 = dir.path().join("r2.csv");
    let (code, err) = run(&[
        "retry",
        res.to_str().unwrap(),
        "--results",
        res2.to_str().unwrap(),
        "--graph-url",
        &url,
    ]);
    assert_eq!(code, Some(2), "the invalid row is still invalid: {err}");
    let (code, err) = run(&[
        "retry",
        res.to_str().unwrap(),
        "--results",
        res2.to_str().unwrap(),
        "--graph-url",
        &url,
        "--skip-invalid",
    ]);
    assert_eq!(code, Some(1), "{err}");
    let again = waba_provision::results::read_results(&res2).unwrap();
    assert_eq!(again[0].extra, ["Acme Ltd", "call \"Bob\"; later"]);
    // --resume with other carried columns is refused.
    let (code, err) = run(&[
        "run",
        m.to_str().unwrap(),
        "--results",
        res.to_str().unwrap(),
        "--graph-url",
        &url,
        "--ignore-column",
        "Client",
        "--ignore-column",
        "Notes",
        "--skip-invalid",
        "--resume",
    ]);
    assert_eq!(code, Some(1), "same columns resume: {err}");
    let (code, err) = run(&[
        "run",
        m.to_str().unwrap(),
        "--results",
        res.to_str().unwrap(),
        "--graph-url",
        &url,
        "--ignore-column",
        "Client",
        "--ignore-column",
        "Notes",
        "--delimiter",
        ";",
        "--skip-invalid",
        "--resume",
    ]);
    assert_eq!(code, Some(1), "{err}");
}

#[test]
fn an_existing_results_file_is_refused_before_the_sandbox_starts() {
    let (dir, m) = setup();
    let res = dir.path().join("demo.csv");
    std::fs::write(&res, "precious").unwrap();
    let out = bin()
        .arg("run")
        .arg(&m)
        .arg("--results")
        .arg(&res)
        .arg("--sandbox")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--resume"), "{err}");
    // Refused before anything was started: no "sending to" line.
    assert!(!err.contains("sending to"), "{err}");
    assert_eq!(std::fs::read_to_string(&res).unwrap(), "precious");
}
