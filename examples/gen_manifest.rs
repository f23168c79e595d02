//! Generate a large valid manifest for benchmarks and memory measurements:
//! numbers that are valid per libphonenumber across six countries, spread over
//! 50 WABAs and 5 token variables.
//!
//!     cargo run --release --example gen_manifest -- 100000 csv /tmp/100k.csv
//!     cargo run --release --example gen_manifest -- 100000 yaml /tmp/100k.yaml
//!
//! `benches/validate.rs` includes this file for the same generator.

use std::fmt::Write as _;

/// (cc, valid national prefix, digits to append): every number built this way
/// is valid for its country.
const COUNTRIES: [(&str, &str, usize); 6] = [
    ("1", "650", 7),  // US: 650 + exchange + line
    ("44", "79", 8),  // GB mobile
    ("33", "6", 8),   // FR mobile
    ("49", "151", 8), // DE mobile
    ("55", "119", 8), // BR São Paulo mobile
    ("91", "98", 8),  // IN mobile
];
pub const WABAS: usize = 50;
const TOKENS: usize = 5;

/// Row `i`'s (waba index, cc, national number); unique for every `i`.
fn number(i: usize) -> (usize, &'static str, String) {
    let (cc, prefix, digits) = COUNTRIES[i % COUNTRIES.len()];
    let serial = i / COUNTRIES.len();
    let mut national = format!("{prefix}{serial:0digits$}");
    if cc == "1" {
        // A NANP exchange cannot start with 0 or 1.
        national.replace_range(3..4, "5");
    }
    (i % WABAS, cc, national)
}

fn waba_id(w: usize) -> String {
    format!("10229012934{w:04}")
}

pub fn csv(rows: usize) -> String {
    let mut s = String::with_capacity(rows * 80);
    s.push_str("waba_id,cc,phone_number,migrate_phone_number,verified_name,token_env\n");
    for i in 0..rows {
        let (w, cc, national) = number(i);
        let _ = writeln!(
            s,
            "{},{cc},{national},false,Client {w} Support,CLIENT_{}_TOKEN",
            waba_id(w),
            w % TOKENS
        );
    }
    s
}

pub fn yaml(rows: usize) -> String {
    let mut by_waba: Vec<Vec<(&str, String)>> = vec![Vec::new(); WABAS];
    for i in 0..rows {
        let (w, cc, national) = number(i);
        by_waba[w].push((cc, national));
    }
    let mut s = String::with_capacity(rows * 80);
    s.push_str("version: 1\ndefaults:\n  migrate_phone_number: false\nwabas:\n");
    for (w, numbers) in by_waba.iter().enumerate().filter(|(_, n)| !n.is_empty()) {
        let _ = write!(
            s,
            "  - waba_id: \"{}\"\n    token_env: CLIENT_{}_TOKEN\n    numbers:\n",
            waba_id(w),
            w % TOKENS
        );
        for (cc, national) in numbers {
            let _ = writeln!(
                s,
                "      - {{ cc: \"{cc}\", phone_number: \"{national}\", verified_name: \"Client {w} Support\" }}"
            );
        }
    }
    s
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(rows), Some(format), Some(out)) = (
        args.get(1).and_then(|r| r.parse::<usize>().ok()),
        args.get(2),
        args.get(3),
    ) else {
        eprintln!("usage: gen_manifest ROWS csv|yaml OUT");
        std::process::exit(2);
    };
    let text = if format == "yaml" {
        yaml(rows)
    } else {
        csv(rows)
    };
    if let Err(e) = std::fs::write(out, text) {
        eprintln!("gen_manifest: {out}: {e}");
        std::process::exit(2);
    }
}
