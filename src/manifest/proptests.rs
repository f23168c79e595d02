//! Property tests: whatever the bytes, reading (and validating) a manifest
//! returns a value or one error, and never panics.

use super::{Format, ReadOptions, read_manifest_bytes};
use crate::validate::{ValidateOptions, validate};
use proptest::prelude::*;

fn never_panics(bytes: &[u8], format: Format) {
    if let Ok(m) = read_manifest_bytes("p", bytes, format, &ReadOptions::default()) {
        let v = validate(&m, &ValidateOptions::default());
        assert_eq!(v.rows.len(), m.rows.len());
    }
}

/// Text made of manifest-ish pieces, so the readers get past their first checks.
fn manifestish(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(pieces), 0..60).prop_map(|v| v.concat())
}

const CSV_PIECES: &[&str] = &[
    "waba_id,cc,phone_number\n",
    "row,status,source,",
    "1",
    "44",
    ",",
    "\n",
    "\r\n",
    "\"",
    "\"\"",
    "7912345678",
    "+",
    "é",
    " ",
    "verified_name",
    "\u{feff}",
    "x,y",
    ";",
];

const YAML_PIECES: &[&str] = &[
    "version: 1\n",
    "wabas:\n",
    "  - waba_id: ",
    "    numbers:\n",
    "      - ",
    "{ cc: ",
    "phone_number: ",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "\"44\"",
    "7912345678",
    "1.5e3",
    "-",
    "\n",
    "  ",
    ": ",
    "defaults:",
    "token_env: T",
    "~",
    "'",
    "\"",
    "#",
    "---\n",
    "<<: *a\n",
    "!!binary ",
    "? ",
    "|\n",
    "é",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_as_csv(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        never_panics(&bytes, Format::Csv);
    }

    #[test]
    fn arbitrary_bytes_as_yaml(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        never_panics(&bytes, Format::Yaml);
    }

    #[test]
    fn manifestish_csv(text in manifestish(CSV_PIECES)) {
        never_panics(text.as_bytes(), Format::Csv);
    }

    #[test]
    fn manifestish_yaml(text in manifestish(YAML_PIECES)) {
        never_panics(text.as_bytes(), Format::Yaml);
    }
}
