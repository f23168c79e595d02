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
