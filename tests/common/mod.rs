//! What the end-to-end tests share: running the binary and reading its output.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the debug binary in the C locale, with no database password inherited.
pub fn perfdiag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfdiag"))
        .args(args)
        .env("LANG", "C")
        .env_remove("PGPASSWORD")
        .output()
        .expect("perfdiag runs")
}

/// Stdout of a run that succeeded (exit 0, or 3: written but a probe failed).
pub fn ok(output: &Output) -> String {
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
