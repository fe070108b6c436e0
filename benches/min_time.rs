//! Interleaved minimum-of-rounds timing, shared by the benches (`-- --min-ratio`).
//!
//! Each round times `inner` calls of every function back to back; the minimum over the
//! rounds filters out the time a shared machine takes away, so ratios between functions
//! measured in the same run are stable where criterion's means are not.

use std::hint::black_box;
use std::time::Instant;

/// Minimum nanoseconds per call of each function over `rounds` rounds of `inner` calls.
pub fn min_ns(
    fns: &mut [(&str, &mut dyn FnMut() -> u64)],
    rounds: usize,
    inner: usize,
) -> Vec<f64> {
    let mut best = vec![f64::MAX; fns.len()];
    for _ in 0..rounds {
        for (k, (_, f)) in fns.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..inner {
                black_box(f());
            }
            let ns = t.elapsed().as_secs_f64() * 1e9 / inner as f64;
            best[k] = best[k].min(ns);
        }
    }
    best
}
