//! Benchmark of `validate`, for speed and for memory:
//!
//! - the real binary on a generated 1,000,000-row manifest, CSV and YAML,
//!   under `/usr/bin/time`: seconds, rows/s and peak resident memory, in all
//!   and per row (the figure that decides whether a large migration fits);
//! - criterion: read and validate a generated 100,000-row manifest in
//!   process, CSV and YAML (rows/s as elements/s).
//!
//! ```text
//! cargo bench --bench validate
//! cargo bench --bench validate -- memory                 # the memory run only
//! WABA_BENCH_ROWS=200000 cargo bench --bench validate  # a smaller memory run
//! ```
//!
//! The memory run happens only under `cargo bench` (not `cargo test`).

use criterion::{Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use waba_provision::validate::{ValidateOptions, load_and_validate};

#[path = "../examples/gen_manifest.rs"]
#[allow(dead_code)]
mod generator;

const ROWS: usize = 100_000;
const MEMORY_ROWS: usize = 1_000_000;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("load_and_validate");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(ROWS as u64));
    for (name, text) in [
        ("100k.csv", generator::csv(ROWS)),
        ("100k.yaml", generator::yaml(ROWS)),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write manifest");
        let opts = ValidateOptions::default();
        // The generated numbers are all valid: a benchmark of the happy path.
        let v = load_and_validate(&path, &opts).expect("readable");
        assert!(
            v.is_valid() && v.rows.len() == ROWS,
            "{:?}",
            v.diagnostics.first()
        );
        group.bench_function(name, |b| {
            b.iter(|| load_and_validate(black_box(&path), &opts).expect("readable"))
        });
    }
    group.finish();
}

/// `validate` on a generated manifest of `rows` rows, in a process of its
/// own so that its peak resident memory is its alone.
fn memory(rows: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (format, text) in [
        ("csv", generator::csv(rows)),
        ("yaml", generator::yaml(rows)),
    ] {
        let path = dir.path().join(format!("m.{format}"));
        std::fs::write(&path, &text).expect("write manifest");
        let size = text.len();
        drop(text);
        match timed_validate(&path) {
            Ok((secs, kib)) => {
                #[allow(clippy::cast_precision_loss)]
                let (per_row, rate) = (kib as f64 * 1024.0 / rows as f64, rows as f64 / secs);
                println!(
                    "validate {rows} rows {format} ({:.1} MB): {secs:.2} s, {rate:.0} rows/s, peak {kib} KiB = {per_row:.0} bytes/row",
                    size as f64 / 1e6
                );
            }
            Err(e) => println!("validate {rows} rows {format}: not measured ({e})"),
        }
    }
}

/// (seconds, peak KiB) of `waba-provision validate path`, by `/usr/bin/time`.
fn timed_validate(path: &Path) -> Result<(f64, u64), String> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%e %M"])
        .arg(env!("CARGO_BIN_EXE_waba-provision"))
        .arg("validate")
        .arg(path)
        .output()
        .map_err(|e| format!("/usr/bin/time: {e}"))?;
    if !out.status.success() {
        return Err(format!("exit {:?}", out.status.code()));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    let mut fields = last.split_whitespace();
    let secs = fields.next().and_then(|s| s.parse().ok());
    let kib = fields.next().and_then(|s| s.parse().ok());
    secs.zip(kib).ok_or_else(|| format!("unexpected: {last}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if benching && (filters.is_empty() || filters.iter().any(|f| f.as_str() == "memory")) {
        let rows = std::env::var("WABA_BENCH_ROWS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(MEMORY_ROWS);
        memory(rows);
    }
    if filters.iter().any(|f| f.as_str() == "memory") {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
