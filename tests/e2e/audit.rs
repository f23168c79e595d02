//! End-to-end: `--audit-log` records every HTTP exchange of a run once, with
//! what support asks for, and never a secret.

use waba_provision::audit::{Outcome, assert_no_secrets, read_entries};
use waba_provision::sandbox::{FaultRates, Sandbox, SandboxConfig};

use crate::support::bin;

#[test]
fn every_request_is_audited_once_and_no_secret_is() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let config = SandboxConfig {
        seed: 5,
        faults: FaultRates {
            transient: 0.2,
            ..FaultRates::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = rt.block_on(Sandbox::start(config)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.csv");
    let mut csv = String::from("waba_id,cc,phone_number\n");
    for i in 0..12 {
        csv.push_str(&format!("111,44,74000000{i:02}\n"));
    }
    std::fs::write(&m, csv).unwrap();
    let res = dir.path().join("r.csv");
    let audit = dir.path().join("audit.ndjson");
    let (token, secret, pin) = ("tok-audit-4242", "app-secret-4242", "864213");
    let out = bin()
        .args([
            "run",
            m.to_str().unwrap(),
            "--results",
            res.to_str().unwrap(),
        ])
        .args(["--graph-url", &sandbox.url(), "--rate-per-waba", "1000/s"])
        .args([
            "--audit-log",
            audit.to_str().unwrap(),
            "--through",
            "register",
        ])
        .args(["--app-secret-env", "APP_SECRET"])
        .env("WABA_ACCESS_TOKEN", token)
        .env("APP_SECRET", secret)
        .env("WABA_REGISTER_PIN", pin)
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "{out:?}");
    let text = std::fs::read_to_string(&audit).unwrap();
    let entries = read_entries(&text).unwrap();
    let requests = sandbox.requests();
    assert_eq!(
        entries.len(),
        requests.len(),
        "one line per request the sandbox saw"
    );
    assert!(
        entries.iter().any(|e| e.outcome == Outcome::Retry),
        "the faults show"
    );
    assert!(entries.iter().any(|e| e.outcome == Outcome::Created));
    for e in &entries {
        assert!(!e.path.contains('?'), "{}", e.path);
        assert!(e.http_status.is_some());
    }
    let proof = waba_provision::secret::appsecret_proof(secret, token);
    let codes: Vec<String> = sandbox.codes().into_values().map(|c| c.code).collect();
    let mut secrets = vec![token, secret, pin, proof.as_str()];
    secrets.extend(codes.iter().map(String::as_str));
    assert_no_secrets(&text, &secrets);
}
