//! Running the `infoblock` binary from the CLI's integration tests: one copy of the helpers
//! every test file used to define for itself. Each test file includes it with `mod common;`.

// Each test crate uses only part of this module; the rest would warn as dead code there.
#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_infoblock");

/// Runs `infoblock ARGS` and waits for it.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run infoblock")
}

/// Its standard output as text (lossy UTF-8).
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Its standard error as text (lossy UTF-8).
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Its standard output parsed as one JSON value; the panic shows both streams.
pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Its standard error, which must be exactly one line (the rule for every non-zero exit).
pub fn stderr_line(o: &Output) -> String {
    let text = stderr(o);
    assert_eq!(
        text.lines().count(),
        1,
        "one stderr line expected: {text:?}"
    );
    text
}
