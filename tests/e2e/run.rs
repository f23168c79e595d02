//! End-to-end: the real binary's `run`/`retry` against the in-process sandbox.
//!
//! The sandbox runs on a tokio runtime owned by the test; the binary is a child
//! process pointed at it with `--graph-url`, so these tests see exactly what a
//! user would: exit codes, the results file, and what reached "Meta".

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use waba_provision::limits::Rate;
use waba_provision::results::read_results;
use waba_provision::sandbox::{FaultRates, Sandbox, SandboxConfig, SandboxSecret, TokenGrants};
use waba_provision::schema::{ResultRecord, Status};

use crate::support::bin;

struct Env {
    rt: tokio::runtime::Runtime,
    sandbox: Option<Sandbox>,
    dir: tempfile::TempDir,
}

impl Env {
    fn new(config: SandboxConfig) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = rt.block_on(Sandbox::start(config)).unwrap();
        Env {
            rt,
            sandbox: Some(sandbox),
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().unwrap()
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// A CSV manifest: (waba, national UK mobile number, token_env).
    fn manifest(&self, name: &str, rows: &[(&str, String, &str)]) -> PathBuf {
        let mut s = String::from("waba_id,cc,phone_number,verified_name,token_env\n");
        for (waba, national, tok) in rows {
            s.push_str(&format!("{waba},44,{national},Acme Support,{tok}\n"));
        }
        let p = self.path(name);
        std::fs::write(&p, s).unwrap();
        p
    }
    /// `run MANIFEST --results RESULTS --graph-url SANDBOX` plus `extra`.
    fn run(&self, manifest: &Path, results: &Path, extra: &[&str]) -> std::process::Output {
        self.run_env(manifest, results, extra, &[])
    }
    fn run_env(
        &self,
        manifest: &Path,
        results: &Path,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> std::process::Output {
        let mut cmd = bin();
        cmd.arg("run")
            .arg(manifest)
            .arg("--results")
            .arg(results)
            .arg("--graph-url")
            .arg(self.sandbox().url())
            .args(["--rate-per-waba", "100000/s", "--timeout", "2"])
            .args(extra)
            .env("WABA_ACCESS_TOKEN", "good-token")
            .envs(envs.iter().copied());
        cmd.output().unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(s) = self.sandbox.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

fn numbers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("74000{:05}", i)).collect()
}

fn rows<'a>(wabas: &[&'a str], per_waba: usize, tok: &'a str) -> Vec<(&'a str, String, &'a str)> {
    let nums = numbers(wabas.len() * per_waba);
    let mut out = vec![];
    for (i, n) in nums.into_iter().enumerate() {
        out.push((wabas[i % wabas.len()], n, tok));
    }
    out
}

/// The results, checked well-formed with every row exactly once.
fn results_once(path: &Path, expected_rows: usize) -> HashMap<u32, ResultRecord> {
    let lines = read_results(path).unwrap();
    let mut by_row = HashMap::new();
    for l in lines {
        assert!(
            by_row.insert(l.row, l).is_none(),
            "a row appears twice in {}",
            path.display()
        );
    }
    assert_eq!(by_row.len(), expected_rows, "rows in {}", path.display());
    for r in 1..=expected_rows as u32 {
        assert!(by_row.contains_key(&r), "row {r} missing");
    }
    by_row
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ledger_unique(sb: &Sandbox) {
    let ledger = sb.ledger();
    let unique: HashSet<_> = ledger
        .iter()
        .map(|e| format!("{}{}", e.cc, e.phone_number))
        .collect();
    assert_eq!(unique.len(), ledger.len(), "a number was created twice");
}

#[test]
fn every_row_created_and_no_token_outside_the_header() {
    let env = Env::new(SandboxConfig::default());
    let m = env.manifest("m.csv", &rows(&["111", "222", "333"], 10, ""));
    let res = env.path("r.csv");
    let out = env.run_env(
        &m,
        &res,
        &["--summary-json", env.path("s.json").to_str().unwrap()],
        &[("WABA_LOG", "debug")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let by_row = results_once(&res, 30);
    assert!(
        by_row
            .values()
            .all(|r| r.status == Status::Created && !r.phone_number_id.is_empty())
    );
    assert_eq!(env.sandbox().ledger().len(), 30);
    for req in env.sandbox().requests() {
        assert!(req.had_bearer, "{req:?}");
        assert!(!req.token_in_url && !req.token_in_body, "{req:?}");
    }
    let all = format!(
        "{}{}{}",
        stderr(&out),
        String::from_utf8_lossy(&out.stdout),
        std::fs::read_to_string(&res).unwrap()
    );
    assert!(!all.contains("good-token"));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path("s.json")).unwrap()).unwrap();
    assert_eq!(summary["created"], 30);
    assert_eq!(summary["exit_code"], 0);
    // The journal is gone after a finished run.
    assert!(!env.path("r.csv.journal").exists());
}

#[test]
fn transient_faults_still_end_all_created_with_retries_recorded() {
    let config = SandboxConfig {
        faults: FaultRates {
            transient: 0.1,
            html_503: 0.05,
            ..FaultRates::default()
        },
        seed: 42,
        ..SandboxConfig::default()
    };
    let env = Env::new(config);
    let m = env.manifest("m.csv", &rows(&["111", "222"], 40, ""));
    let res = env.path("r.csv");
    let out = env.run(&m, &res, &["--max-attempts", "8"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let by_row = results_once(&res, 80);
    assert!(by_row.values().all(|r| r.status == Status::Created));
    assert!(
        by_row.values().any(|r| r.attempts > 1),
        "faults should have caused retries"
    );
    assert_ledger_unique(env.sandbox());
}

#[test]
fn dropped_connection_after_create_is_reconciled_not_duplicated() {
    let config = SandboxConfig {
        faults: FaultRates {
            drop_after_create: 0.3,
            ..FaultRates::default()
        },
        seed: 7,
        ..SandboxConfig::default()
    };
    let env = Env::new(config);
    let m = env.manifest("m.csv", &rows(&["111", "222"], 15, ""));
    let res = env.path("r.csv");
    let out = env.run(&m, &res, &["--max-attempts", "8"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let by_row = results_once(&res, 30);
    assert!(by_row.values().all(|r| r.status == Status::Created));
    assert!(
        by_row
            .values()
            .any(|r| r.error_message.contains("reconciled"))
    );
    assert_eq!(env.sandbox().ledger().len(), 30);
    assert_ledger_unique(env.sandbox());
    // Each row's id is the one the ledger holds for its number.
    let ids: HashMap<String, String> = env
        .sandbox()
        .ledger()
        .into_iter()
        .map(|e| (format!("{}{}", e.cc, e.phone_number), e.id))
        .collect();
    for r in by_row.values() {
        assert_eq!(
            ids[&format!("{}{}", r.cc, r.phone_number)],
            r.phone_number_id
        );
    }
}

#[test]
fn invalid_parameter_is_not_retried() {
    // A wrong app secret: every call is refused with code 100.
    let config = SandboxConfig {
        app_secret: Some(SandboxSecret("right".into())),
        ..SandboxConfig::default()
    };
    let env = Env::new(config);
    let m = env.manifest("m.csv", &rows(&["111"], 3, ""));
    let res = env.path("r.csv");
    let out = env.run_env(
        &m,
        &res,
        &["--app-secret-env", "APP_SECRET"],
        &[("APP_SECRET", "wrong")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let by_row = results_once(&res, 3);
    for r in by_row.values() {
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.error_code, "100");
        assert_eq!(r.attempts, 1);
    }
    assert_eq!(env.sandbox().requests().len(), 3);
}

#[test]
fn appsecret_proof_is_sent_and_correct() {
    let config = SandboxConfig {
        app_secret: Some(SandboxSecret("s3cret".into())),
        ..SandboxConfig::default()
    };
    let env = Env::new(config);
    let m = env.manifest("m.csv", &rows(&["111"], 4, ""));
    let res = env.path("r.csv");
    let out = env.run_env(
        &m,
        &res,
        &["--app-secret-env", "APP_SECRET_TEST"],
        &[("APP_SECRET_TEST", "s3cret")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reqs = env.sandbox().requests();
    assert!(!reqs.is_empty());
    assert!(
        reqs.iter()
            .all(|r| r.appsecret_proof_sent && r.appsecret_proof_valid == Some(true)),
        "{reqs:?}"
    );
    assert!(!stderr(&out).contains("s3cret"));
}

#[test]
fn a_missing_app_secret_variable_is_a_usage_error() {
    let env = Env::new(SandboxConfig::default());
    let m = env.manifest("m.csv", &rows(&["111"], 1, ""));
    let res = env.path("r.csv");
    let out = env.run(&m, &res, &["--app-secret-env", "NOT_SET_ANYWHERE"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(env.sandbox().requests().is_empty());
}

#[test]
fn throttled_waba_pauses_while_the_others_finish() {
    let config = SandboxConfig {
        waba_budget: Some(Rate {
            count: 3,
            per: Duration::from_secs(2),
        }),
        retry_after: true,
        ..SandboxConfig::default()
    };
    let env = Env::new(config);
    let mut r = rows(&["999"], 8, "");
    r.extend(
        rows(&["111", "222", "333"], 1, "")
            .into_iter()
            .map(|(w, n, t)| (w, format!("75{}", &n[2..]), t)),
    );
    let m = env.manifest("m.csv", &r);
    let res = env.path("r.csv");
    let out = env.run(&m, &res, &["--concurrency", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    results_once(&res, 11);
    let reqs = env.sandbox().requests();
    let throttled: Vec<_> = reqs
        .iter()
        .filter(|r| r.error_code == Some(80008))
        .collect();
    assert!(
        !throttled.is_empty(),
        "the big WABA should have met its budget"
    );
    assert!(
        throttled
            .iter()
            .all(|r| r.waba_id.as_deref() == Some("999"))
    );
    // The small WABAs were done before the big one's last call.
    let last_small = reqs
        .iter()
        .filter(|r| r.waba_id.as_deref() != Some("999"))
        .map(|r| r.at_ms)
        .max()
        .unwrap();
    let last_big = reqs
        .iter()
        .filter(|r| r.waba_id.as_deref() == Some("999"))
        .map(|r| r.at_ms)
        .max()
        .unwrap();
    assert!(last_small < last_big);
    // Obeyed, not hammered: after an 80008 only the calls already in flight
    // (at most --concurrency) and then one probe at a time reach the WABA, so
    // in the order the sandbox saw them no more than 4 answers in a row are
    // 80008s. A runner that re-sent on each 80008 would make long runs of them.
    let mut streak = 0;
    for r in reqs.iter().filter(|r| r.waba_id.as_deref() == Some("999")) {
        streak = if r.error_code == Some(80008) {
            streak + 1
        } else {
            0
        };
        assert!(streak <= 4, "{streak} answers 80008 in a row: hammered");
    }
}

#[test]
fn a_refused_token_stops_its_rows_and_others_carry_on() {
    let mut grants = std::collections::BTreeMap::new();
    grants.insert("good-token".to_string(), vec!["*".to_string()]);
    let config = SandboxConfig {
        tokens: TokenGrants(grants),
        ..SandboxConfig::default()
    };
    let env = Env::new(config);
    let mut r = rows(&["111"], 5, "BAD_TOKEN");
    r.extend(
        rows(&["222"], 5, "")
            .into_iter()
            .map(|(w, n, t)| (w, format!("75{}", &n[2..]), t)),
    );
    let m = env.manifest("m.csv", &r);
    let res = env.path("r.csv");
    let out = env.run_env(
        &m,
        &res,
        &["--concurrency", "1"],
        &[("BAD_TOKEN", "revoked-token")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let by_row = results_once(&res, 10);
    let bad: Vec<_> = by_row
        .values()
        .filter(|r| r.token_env == "BAD_TOKEN")
        .collect();
    assert!(
        bad.iter()
            .all(|r| r.status == Status::Failed && r.error_code == "190")
    );
    let good: Vec<_> = by_row
        .values()
        .filter(|r| r.token_env != "BAD_TOKEN")
        .collect();
    assert!(good.iter().all(|r| r.status == Status::Created));
    let sent_bad = env
        .sandbox()
        .requests()
        .iter()
        .filter(|r| r.waba_id.as_deref() == Some("111"))
        .count();
    assert_eq!(
        sent_bad, 1,
        "only the first row of the refused token was sent"
    );
}

#[test]
fn every_token_refused_aborts_with_exit_3() {
    let mut grants = std::collections::BTreeMap::new();
    grants.insert("other".to_string(), vec!["*".to_string()]);
    let env = Env::new(SandboxConfig {
        tokens: TokenGrants(grants),
        ..SandboxConfig::default()
    });
    let m = env.manifest("m.csv", &rows(&["111", "222"], 3, ""));
    let res = env.path("r.csv");
    let out = env.run(&m, &res, &["--concurrency", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let by_row = results_once(&res, 6);
    assert!(by_row.values().all(|r| r.status == Status::Failed));
}

#[test]
fn an_existing_results_file_is_refused_and_left_alone() {
    let env = Env::new(SandboxConfig::default());
    let m = env.manifest("m.csv", &rows(&["111"], 2, ""));
    let res = env.path("r.csv");
    std::fs::write(&res, "precious").unwrap();
    let out = env.run(&m, &res, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--resume"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&res).unwrap(), "precious");
    assert!(env.sandbox().requests().is_empty());
    // --force keeps the old file beside it.
    let out = env.run(&m, &res, &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(env.path("r.csv.bak")).unwrap(),
        "precious"
    );
}

#[test]
fn an_invalid_manifest_sends_nothing_unless_skip_invalid() {
    let env = Env::new(SandboxConfig::default());
    let p = env.path("m.csv");
    std::fs::write(
        &p,
        "waba_id,cc,phone_number\n111,44,7400000001\n111,44,12x\n111,44,7400000002\n",
    )
    .unwrap();
    let res = env.path("r.csv");
    let out = env.run(&p, &res, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("m.csv:3"), "{}", stderr(&out));
    assert!(env.sandbox().requests().is_empty());
    assert!(!res.exists());
    let out = env.run(&p, &res, &["--skip-invalid"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let by_row = results_once(&res, 3);
    assert_eq!(by_row[&2].status, Status::Invalid);
    assert!(!by_row[&2].error_message.is_empty());
    assert_eq!(by_row[&1].status, Status::Created);
    assert_eq!(env.sandbox().ledger().len(), 2);
}

#[test]
fn retry_recreates_only_the_rows_not_created() {
    let env = Env::new(SandboxConfig {
        forbidden_wabas: vec!["222".into()],
        ..SandboxConfig::default()
    });
    let m = env.manifest("m.csv", &rows(&["111", "222"], 3, ""));
    let first = env.path("r1.csv");
    let out = env.run(&m, &first, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let before = results_once(&first, 6);
    assert_eq!(
        before
            .values()
            .filter(|r| r.status == Status::Failed)
            .count(),
        3
    );

    // The WABA is fixed on Meta's side: a second sandbox without the ban.
    let env2 = Env::new(SandboxConfig::default());
    let second = env.path("r2.csv");
    let mut cmd = bin();
    let out = cmd
        .args([
            "retry",
            first.to_str().unwrap(),
            "--results",
            second.to_str().unwrap(),
            "--graph-url",
        ])
        .arg(env2.sandbox().url())
        .env("WABA_ACCESS_TOKEN", "good-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = results_once(&second, 6);
    assert!(after.values().all(|r| r.status == Status::Created));
    // Identity kept; created rows copied, not sent.
    for (row, rec) in &after {
        assert_eq!(rec.source, before[row].source);
        if before[row].status == Status::Created {
            assert_eq!(rec.phone_number_id, before[row].phone_number_id);
        }
    }
    let posted: Vec<_> = env2
        .sandbox()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posted.len(), 3);
    assert!(posted.iter().all(|r| r.waba_id.as_deref() == Some("222")));
}

/// Wait (bounded) until the results file holds at least `n` lines.
fn wait_for_lines(path: &Path, n: usize, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lines = std::fs::read_to_string(path)
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if lines > n {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the run ended early: {status}");
        }
        assert!(Instant::now() < deadline, "the run made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn_run(env: &Env, m: &Path, res: &Path) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("waba-provision"))
        .args([
            "run",
            m.to_str().unwrap(),
            "--results",
            res.to_str().unwrap(),
            "--rate",
            "40/s",
            "--graph-url",
        ])
        .arg(env.sandbox().url())
        .env("WABA_ACCESS_TOKEN", "good-token")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn kill_9_then_resume_sends_no_row_twice() {
    let config = SandboxConfig {
        latency_ms: 20,
        ..SandboxConfig::default()
    };
    let env = Env::new(config);
    let m = env.manifest("m.csv", &rows(&["111", "222", "333"], 20, ""));
    let res = env.path("r.csv");
    let mut child = spawn_run(&env, &m, &res);
    wait_for_lines(&res, 10, &mut child);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let created_before = env.sandbox().ledger().len();
    assert!(created_before < 60, "the run should have been cut short");

    let out = env.run(&m, &res, &["--resume"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let by_row = results_once(&res, 60);
    assert!(by_row.values().all(|r| r.status == Status::Created));
    assert_eq!(env.sandbox().ledger().len(), 60);
    assert_ledger_unique(env.sandbox());
}

#[test]
fn sigint_skips_the_rest_and_resume_completes() {
    let env = Env::new(SandboxConfig {
        latency_ms: 10,
        ..SandboxConfig::default()
    });
    let m = env.manifest("m.csv", &rows(&["111", "222"], 30, ""));
    let res = env.path("r.csv");
    let mut child = spawn_run(&env, &m, &res);
    wait_for_lines(&res, 5, &mut child);
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let by_row = results_once(&res, 60);
    assert!(by_row.values().any(|r| r.status == Status::Skipped));
    assert!(
        by_row
            .values()
            .all(|r| matches!(r.status, Status::Created | Status::Skipped))
    );

    let out = env.run(&m, &res, &["--resume"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let by_row = results_once(&res, 60);
    assert!(by_row.values().all(|r| r.status == Status::Created));
    assert_ledger_unique(env.sandbox());
    assert_eq!(env.sandbox().ledger().len(), 60);
}

#[test]
fn a_second_run_on_the_same_results_file_is_refused_while_the_first_holds_it() {
    // Answers take 5 s, so the first run holds the file however loaded the
    // machine is; it is interrupted once the second has been refused.
    let env = Env::new(SandboxConfig {
        latency_ms: 5000,
        ..SandboxConfig::default()
    });
    let m = env.manifest("m.csv", &rows(&["111"], 40, ""));
    let res = env.path("r.csv");
    let mut first = spawn_run(&env, &m, &res);
    wait_for_lines(&res, 0, &mut first);
    let second = env.run(&m, &res, &["--resume"]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("in use by another run"),
        "{}",
        stderr(&second)
    );
    let pid = first.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    results_once(&res, 40);
}

#[test]
fn answers_slower_than_the_timeout_are_reconciled_then_resent() {
    let config = SandboxConfig {
        faults: FaultRates {
            slow: 0.15,
            slow_ms: 3000,
            ..FaultRates::default()
        },
        seed: 11,
        ..SandboxConfig::default()
    };
    let env = Env::new(config);
    let m = env.manifest("m.csv", &rows(&["111", "222"], 10, ""));
    let res = env.path("r.csv");
    let out = env.run(&m, &res, &["--max-attempts", "8", "--concurrency", "20"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let by_row = results_once(&res, 20);
    assert!(by_row.values().all(|r| r.status == Status::Created));
    assert!(
        by_row.values().any(|r| r.attempts > 1),
        "some answers should have timed out"
    );
    // Each timed-out create was looked up before being sent again.
    let reqs = env.sandbox().requests();
    let slow = reqs.iter().filter(|r| r.fault.is_some()).count();
    let lists = reqs.iter().filter(|r| r.method == "GET").count();
    assert!(lists >= slow, "{lists} listings for {slow} slow answers");
    assert_eq!(env.sandbox().ledger().len(), 20);
    assert_ledger_unique(env.sandbox());
}
