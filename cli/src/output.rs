//! Standard output: text and JSON, written so that a closed stdout (piped into `head`) ends
//! the output quietly instead of panicking on the broken pipe.

use std::io::Write as _;

use serde::Serialize;

/// Writes `text` as is.
pub fn text(text: &str) {
    // A closed stdout is not an error of the command; the exit code still says the verdict.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes `line` and a newline.
pub fn line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(line.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"));
}

/// Writes `value` as pretty JSON (two-space indentation, keys in declaration order) and a
/// newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), crate::Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::Failure::usage(format!("internal: cannot write JSON: {e}")))?;
    line(&text);
    Ok(())
}
