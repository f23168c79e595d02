//! Benchmark: read and validate a generated 100,000-row manifest, as CSV and as
//! YAML (SPEC target: well under 2 s). Criterion reports rows/s as elements/s.
//!
//!     cargo bench --bench validate

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use waba_provision::validate::{ValidateOptions, load_and_validate};

#[path = "../examples/gen_manifest.rs"]
#[allow(dead_code)]
mod generator;

const ROWS: usize = 100_000;

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

criterion_group!(benches, bench);
criterion_main!(benches);
