//! Property tests: whatever the bytes, reading (and validating) a manifest
//! returns a value or one error, and never panics.

use super::{Format, ReadOptions, read_manifest_bytes};
use crate::text::{CLIP_CHARS, clip};
use crate::validate::{ValidateOptions, validate};
use proptest::prelude::*;

fn never_panics(bytes: &[u8], format: Format) {
    never_panics_with(bytes, format, &ReadOptions::default());
}

fn never_panics_with(bytes: &[u8], format: Format, options: &ReadOptions) {
    if let Ok(m) = read_manifest_bytes("p", bytes, format, options) {
        let v = validate(&m, &ValidateOptions::default());
        assert_eq!(v.rows.len(), m.rows.len());
        for row in &m.rows {
            assert_eq!(row.extra.len(), m.extra_columns.len());
        }
        // Every value a message quotes is clipped: no line runs away.
        for d in &v.diagnostics {
            assert!(!d.to_string().contains('\n'), "{d}");
        }
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
    "\t",
    "Client",
    "created",
    "4.47700900123E+11",
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

    #[test]
    fn manifestish_csv_with_any_reading_options(
        text in manifestish(CSV_PIECES),
        delimiter in prop::option::of(prop::sample::select(vec![b',', b';', b'\t', b'|'])),
        ignore in prop::collection::vec(prop::sample::select(vec!["client", "x", "cc", "Client"]), 0..3),
    ) {
        let options = ReadOptions {
            delimiter,
            ignore_columns: ignore.into_iter().map(String::from).collect(),
        };
        never_panics_with(text.as_bytes(), Format::Csv, &options);
        never_panics_with(text.as_bytes(), Format::Yaml, &options);
    }

    #[test]
    fn clipped_values_are_short_and_one_line(value in "\\PC{0,300}|[\\x00-\\x1f]{0,100}") {
        let shown = clip(&value);
        prop_assert!(shown.chars().count() <= CLIP_CHARS + 1, "{}", shown);
        prop_assert!(!shown.chars().any(char::is_control), "{:?}", shown);
    }
}
