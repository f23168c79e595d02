//! End-to-end: `status RESULTS` reads each created number from the sandbox
//! into a CSV, with counts by status and name_status.

use waba_provision::sandbox::{Sandbox, SandboxConfig};

use crate::support::bin;

#[test]
fn status_reads_every_created_number_into_a_csv() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = rt
        .block_on(Sandbox::start(SandboxConfig::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.csv");
    std::fs::write(
        &m,
        "waba_id,cc,phone_number,verified_name\n111,44,7400000001,Acme Support\n111,44,7400000002,Acme Two\n222,44,74000x,Bad\n",
    )
    .unwrap();
    let res = dir.path().join("r.csv");
    let run = |args: &[&str]| {
        bin()
            .args(args)
            .args(["--graph-url", &sandbox.url()])
            .env("WABA_ACCESS_TOKEN", "tok")
            .output()
            .unwrap()
    };
    let out = run(&[
        "run",
        m.to_str().unwrap(),
        "--results",
        res.to_str().unwrap(),
        "--skip-invalid",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let csv = dir.path().join("status.csv");
    let out = run(&[
        "status",
        res.to_str().unwrap(),
        "--results",
        csv.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("status: 2 PENDING"), "{err}");
    assert!(err.contains("name_status: 2 PENDING_REVIEW"), "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with(
        "row,source,waba_id,phone_number_id,display_phone_number,verified_name,status"
    ));
    assert_eq!(
        lines.len(),
        3,
        "the invalid row has no number to read: {text}"
    );
    let ids: Vec<String> = sandbox.ledger().iter().map(|e| e.id.clone()).collect();
    for id in &ids {
        assert!(text.contains(id.as_str()), "{text}");
    }
    assert!(
        text.contains("+44 7400 000001,Acme Support,PENDING,NOT_VERIFIED,PENDING_REVIEW"),
        "{text}"
    );
    // Read-only: only GETs reached the sandbox after the run.
    let reads = sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(reads, 2);
    // An existing file is not replaced without --force; a manifest is not a results file.
    let out = run(&[
        "status",
        res.to_str().unwrap(),
        "--results",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["status", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a results file"));
}
