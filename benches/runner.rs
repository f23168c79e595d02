//! Runner benchmarks (issue 4): the real binary against the in-process sandbox,
//! timed from the sandbox's own request log (what "Meta" observed).
//!
//!     cargo bench --bench runner               # all scenarios
//!     cargo bench --bench runner -- rate       # one scenario by name
//!
//! Scenarios: `skew` (scheduling makespan vs the lower bound), `rate` (global
//! rate accuracy), `latency` (latency hiding), `overhead` (rows/s with no
//! latency, to compare with a load generator on the same endpoint), `rss`
//! (peak RSS of a 100,000-row run, via /usr/bin/time), `register` (SPEC 7:
//! 10,000 rows taken to `registered`, beside the same rows created only).
//!
//! `register`, run on its own with
//!
//!     cargo bench --bench runner -- register
//!
//! first times `run --through create` of 10,000 rows (10 WABAs of 1,000, no
//! latency, concurrency 64) against a fresh in-process sandbox, then the same
//! manifest to `registered` against another: `run --through request-code`,
//! a `--codes` file written from the codes the sandbox issued (what the
//! holders would receive), then `retry --through register --codes FILE`. It
//! prints rows/s over the wall time of the processes (validation and start-up
//! included) and calls per row from the sandbox's request log, for both.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use waba_provision::sandbox::{Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_waba-provision");

struct Bench {
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

/// (waba, rows) → a CSV manifest of valid UK mobile numbers.
fn manifest(dir: &Path, name: &str, wabas: &[(String, usize)]) -> std::path::PathBuf {
    let mut s = String::from("waba_id,cc,phone_number\n");
    let mut n = 0u64;
    for (waba, rows) in wabas {
        for _ in 0..*rows {
            s.push_str(&format!("{waba},44,74{:08}\n", n));
            n += 1;
        }
    }
    let p = dir.join(name);
    std::fs::write(&p, s).unwrap();
    p
}

impl Bench {
    fn new() -> Bench {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        Bench {
            rt,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Run the binary; returns the sandbox's request times (ms) and the wall time.
    fn run(
        &self,
        config: SandboxConfig,
        m: &Path,
        args: &[&str],
        wrap: Option<&[&str]>,
    ) -> (Vec<u64>, Duration, String) {
        let sandbox = self.rt.block_on(Sandbox::start(config)).unwrap();
        let res = self.dir.path().join(format!("r{}.csv", rand_suffix()));
        let mut cmd = match wrap {
            Some(w) => {
                let mut c = Command::new(w[0]);
                c.args(&w[1..]).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        cmd.arg("run")
            .arg(m)
            .arg("--results")
            .arg(&res)
            .arg("--graph-url")
            .arg(sandbox.url())
            .args(args);
        cmd.env("WABA_ACCESS_TOKEN", "bench-token");
        let start = Instant::now();
        let out = cmd.output().unwrap();
        let wall = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "run failed: {stderr}");
        let times: Vec<u64> = sandbox.requests().iter().map(|r| r.at_ms).collect();
        self.rt.block_on(sandbox.shutdown());
        (times, wall, stderr)
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn span_secs(times: &[u64]) -> f64 {
    let (min, max) = (times.iter().min().unwrap(), times.iter().max().unwrap());
    (max - min) as f64 / 1000.0
}

fn skew(b: &Bench) {
    let mut wabas = vec![("900000000000001".to_string(), 200)];
    for i in 0..60 {
        wabas.push((format!("8000000000{:05}", i), 1 + i % 5));
    }
    let rows: usize = wabas.iter().map(|w| w.1).sum();
    let m = manifest(b.dir.path(), "skew.csv", &wabas);
    let (times, wall, _) = b.run(
        SandboxConfig::default(),
        &m,
        &["--rate-per-waba", "20/s", "--concurrency", "64"],
        None,
    );
    // Lower bound: the largest WABA at its budget. A rolling window lets the first
    // 20 go at once, so the strict bound is (200 - 20) / 20 s.
    let bound = (200.0 - 20.0) / 20.0;
    let makespan = span_secs(&times);
    println!(
        "skew: {rows} rows over 61 WABAs at 20/s per WABA: makespan {makespan:.2} s (sandbox-observed), bound {bound:.2} s, ratio {:.3}; wall {:.2} s",
        makespan / bound,
        wall.as_secs_f64()
    );
}

fn rate(b: &Bench) {
    let m = manifest(
        b.dir.path(),
        "rate.csv",
        &[("1".into(), 1000), ("2".into(), 1000)],
    );
    let (mut times, _, _) = b.run(
        SandboxConfig::default(),
        &m,
        &[
            "--rate",
            "200/s",
            "--rate-per-waba",
            "1000000/h",
            "--concurrency",
            "64",
        ],
        None,
    );
    times.sort_unstable();
    let achieved = (times.len() - 1) as f64 / span_secs(&times);
    let mut max_window = 0;
    let mut j = 0;
    for i in 0..times.len() {
        while times[i] - times[j] >= 1000 {
            j += 1;
        }
        max_window = max_window.max(i - j + 1);
    }
    println!(
        "rate: --rate 200/s over {} requests: achieved {achieved:.1}/s ({:.1} % of 200), max in any 1 s window {max_window}",
        times.len(),
        achieved / 2.0
    );
}

fn latency(b: &Bench) {
    let m = manifest(
        b.dir.path(),
        "lat.csv",
        &[("1".into(), 1000), ("2".into(), 1000)],
    );
    let config = SandboxConfig {
        latency_ms: 50,
        ..SandboxConfig::default()
    };
    let (times, wall, _) = b.run(
        config,
        &m,
        &["--rate-per-waba", "1000000/h", "--concurrency", "32"],
        None,
    );
    let tput = times.len() as f64 / (span_secs(&times) + 0.05);
    let ideal = 32.0 / 0.050;
    println!(
        "latency: 50 ms, concurrency 32, {} rows: {tput:.0} rows/s = {:.1} % of concurrency/latency ({ideal:.0}/s); wall {:.2} s",
        times.len(),
        100.0 * tput / ideal,
        wall.as_secs_f64()
    );
}

fn overhead(b: &Bench) {
    let m = manifest(
        b.dir.path(),
        "over.csv",
        &(0..10)
            .map(|i| (format!("{}", i + 1), 2000))
            .collect::<Vec<_>>(),
    );
    let (times, wall, _) = b.run(
        SandboxConfig::default(),
        &m,
        &["--rate-per-waba", "1000000/h", "--concurrency", "64"],
        None,
    );
    println!(
        "overhead: no latency, concurrency 64, {} rows: {:.0} rows/s (sandbox-observed span {:.2} s; wall incl. validation and start-up {:.2} s = {:.0} rows/s)",
        times.len(),
        times.len() as f64 / span_secs(&times),
        span_secs(&times),
        wall.as_secs_f64(),
        times.len() as f64 / wall.as_secs_f64()
    );
}

fn rss(b: &Bench) {
    if !Path::new("/usr/bin/time").exists() {
        println!("rss: /usr/bin/time not found; skipped");
        return;
    }
    let m = manifest(
        b.dir.path(),
        "big.csv",
        &(0..100)
            .map(|i| (format!("{}", i + 1), 1000))
            .collect::<Vec<_>>(),
    );
    let (times, wall, stderr) = b.run(
        SandboxConfig::default(),
        &m,
        &["--rate-per-waba", "1000000/h", "--concurrency", "64"],
        Some(&["/usr/bin/time", "-f", "peak-rss-kb %M"]),
    );
    let kb = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kb "))
        .unwrap_or("?");
    let per_row = kb
        .parse::<f64>()
        .map(|k| format!("{:.0} bytes/row", k * 1024.0 / 100_000.0))
        .unwrap_or_default();
    println!(
        "rss: 100,000-row run: peak RSS {kb} KiB of the runner process ({per_row}); {} requests in {:.2} s wall = {:.0} rows/s",
        times.len(),
        wall.as_secs_f64(),
        100_000.0 / wall.as_secs_f64()
    );
}

/// The binary's wall time and stderr (it must succeed).
fn timed(cmd: &mut Command) -> (Duration, String) {
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "run failed: {stderr}");
    (wall, stderr)
}

fn register(b: &Bench) {
    const ROWS: usize = 10_000;
    let m = manifest(
        b.dir.path(),
        "register.csv",
        &(0..10)
            .map(|i| (format!("{}", i + 1), ROWS / 10))
            .collect::<Vec<_>>(),
    );
    let limits = ["--rate-per-waba", "1000000/h", "--concurrency", "64"];
    let (created, create_wall, _) = b.run(SandboxConfig::default(), &m, &limits, None);

    let sandbox =
        b.rt.block_on(Sandbox::start(SandboxConfig::default()))
            .unwrap();
    let (r1, r2, codes) = (
        b.dir.path().join("register-1.csv"),
        b.dir.path().join("register-2.csv"),
        b.dir.path().join("register-codes.csv"),
    );
    let send = |cmd: &mut Command| {
        cmd.arg("--graph-url")
            .arg(sandbox.url())
            .args(limits)
            .env("WABA_ACCESS_TOKEN", "bench-token")
            .env("WABA_REGISTER_PIN", "246810");
    };
    let mut first = Command::new(BIN);
    first.arg("run").arg(&m).arg("--results").arg(&r1);
    first.args(["--through", "request-code"]);
    send(&mut first);
    let (wall_1, _) = timed(&mut first);
    // What the holders of the numbers received, keyed by phone_number_id.
    let mut text = String::from("phone_number_id,code\n");
    for (id, issued) in sandbox.codes() {
        text.push_str(&format!("{id},{}\n", issued.code));
    }
    std::fs::write(&codes, text).unwrap();
    let mut second = Command::new(BIN);
    second.arg("retry").arg(&r1).arg("--results").arg(&r2);
    second
        .args(["--through", "register", "--codes"])
        .arg(&codes);
    send(&mut second);
    let (wall_2, _) = timed(&mut second);
    let calls = sandbox.requests().len();
    let registered = sandbox.ledger().iter().filter(|n| n.connected()).count();
    b.rt.block_on(sandbox.shutdown());
    assert_eq!(registered, ROWS, "every number registered");

    let wall = wall_1 + wall_2;
    println!(
        "register: {ROWS} rows, no latency, concurrency 64: create only {:.0} rows/s ({:.2} calls/row, wall {:.2} s); through register {:.0} rows/s ({:.2} calls/row, wall {:.2} s = run --through request-code {:.2} s + retry --through register --codes {:.2} s), {:.1}x the time of create only",
        ROWS as f64 / create_wall.as_secs_f64(),
        created.len() as f64 / ROWS as f64,
        create_wall.as_secs_f64(),
        ROWS as f64 / wall.as_secs_f64(),
        calls as f64 / ROWS as f64,
        wall.as_secs_f64(),
        wall_1.as_secs_f64(),
        wall_2.as_secs_f64(),
        wall.as_secs_f64() / create_wall.as_secs_f64()
    );
}

type Scenario = (&'static str, fn(&Bench));

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let b = Bench::new();
    let scenarios: [Scenario; 6] = [
        ("skew", skew),
        ("rate", rate),
        ("latency", latency),
        ("overhead", overhead),
        ("rss", rss),
        ("register", register),
    ];
    for (name, f) in scenarios {
        if filter.is_empty() || filter.iter().any(|x| name.contains(x.as_str())) {
            f(&b);
        }
    }
}
