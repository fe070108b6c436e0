//! Fuzz-target bodies, shared with the stable replay test `tests/fuzz_corpus.rs`
//! (which includes `bodies.rs` with `#[path]`).

#![forbid(unsafe_code)]

#[path = "bodies.rs"]
pub mod bodies;

#[path = "btt_check.rs"]
pub mod btt_check;
