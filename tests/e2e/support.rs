//! Shared helpers for the end-to-end tests.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::PathBuf;

/// The binary under test, with a clean environment for the variables it reads.
pub fn bin() -> Command {
    let mut cmd = Command::cargo_bin("waba-provision").expect("binary built");
    for var in [
        "WABA_ACCESS_TOKEN",
        "WABA_GRAPH_URL",
        "WABA_API_VERSION",
        "WABA_AUDIT_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A file under tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

// --- A sandbox in the test process, the binary pointed at it -------------------

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};
use waba_provision::results::read_results;
use waba_provision::sandbox::{Sandbox, SandboxConfig};
use waba_provision::schema::ResultRecord;

/// The access token the onboarding tests send (a value to grep for).
pub const TOKEN: &str = "tok-e2e-Zq7VwX3k";
/// The two-step PIN they register with (`WABA_REGISTER_PIN`).
pub const PIN: &str = "864209";

/// A sandbox on its own runtime, a temporary directory, and the binary
/// pointed at the sandbox (`--graph-url`) with [`TOKEN`] and [`PIN`] set.
pub struct SandboxEnv {
    pub rt: tokio::runtime::Runtime,
    sandbox: Option<Sandbox>,
    dir: tempfile::TempDir,
}

impl SandboxEnv {
    pub fn new(config: SandboxConfig) -> SandboxEnv {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = rt.block_on(Sandbox::start(config)).unwrap();
        SandboxEnv {
            rt,
            sandbox: Some(sandbox),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write `text` to `name` in the directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The binary with `args`, then `--graph-url SANDBOX`, a per-WABA budget
    /// out of the way and a short timeout; the token and PIN in the
    /// environment (nothing else of the caller's leaks in).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = bin();
        cmd.env_remove("WABA_REGISTER_PIN")
            .env_remove("WABA_LOG")
            .args(args)
            .arg("--graph-url")
            .arg(self.sandbox().url())
            .args(["--rate-per-waba", "100000/s", "--timeout", "5"])
            .env("WABA_ACCESS_TOKEN", TOKEN)
            .env("WABA_REGISTER_PIN", PIN);
        cmd
    }

    /// `run MANIFEST --results RESULTS` plus `extra`.
    pub fn run(&self, manifest: &Path, results: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["run", s(manifest), "--results", s(results)];
        args.extend_from_slice(extra);
        self.cmd(&args).output().unwrap()
    }

    /// `retry PREVIOUS --results RESULTS` plus `extra`.
    pub fn retry(&self, previous: &Path, results: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["retry", s(previous), "--results", s(results)];
        args.extend_from_slice(extra);
        self.cmd(&args).output().unwrap()
    }

    /// A `--codes` file keyed by `phone_number_id`, with the code the sandbox
    /// last sent to each number of `results` that has one (what the holders
    /// of the numbers received), changed by `edit` (to make a wrong one).
    pub fn codes_file(&self, name: &str, results: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
        let mut text = String::from("phone_number_id,code\n");
        let mut any = false;
        for rec in read_results(results).unwrap() {
            if let Some(code) = self.sandbox().code_for(&rec.phone_number_id) {
                text.push_str(&format!("{},{}\n", rec.phone_number_id, edit(&code)));
                any = true;
            }
        }
        assert!(any, "no number of {} has a code", results.display());
        self.write(name, &text)
    }
}

impl Drop for SandboxEnv {
    fn drop(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            self.rt.block_on(sb.shutdown());
        }
    }
}

/// A path as `&str` (the temporary directories are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Assert the exit code, showing stderr when it differs.
#[track_caller]
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code; stderr:\n{}",
        stderr(o)
    );
}

/// The results file, checked well-formed with rows 1..=n each exactly once.
#[track_caller]
pub fn results_once(path: &Path, n: usize) -> HashMap<u32, ResultRecord> {
    let mut by_row = HashMap::new();
    for line in read_results(path).unwrap() {
        let row = line.row;
        assert!(
            by_row.insert(row, line).is_none(),
            "row {row} twice in {}",
            path.display()
        );
    }
    assert_eq!(by_row.len(), n, "rows in {}", path.display());
    for r in 1..=n as u32 {
        assert!(by_row.contains_key(&r), "row {r} missing");
    }
    by_row
}

/// Poll `ready` every few milliseconds until it holds; panics after
/// `within` with `what` (a state to wait for, never a sleep standing in for one).
#[track_caller]
pub fn wait_until(within: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}
