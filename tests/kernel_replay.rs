//! Replays the real-kernel answers recorded by `tests/kernel/run-suite.sh --record` (Linux
//! 6.1 and 6.12 under QEMU, see tests/kernel/rig and docs/rig.md) against the validator, without
//! qemu.
//!
//! For every case of `tests/kernel/suite.json`, the head (bytes 0..8192, block at 4096) is
//! checked for a label-less namespace at 0x100000000 of `ns_size` bytes with the 6.1 profile
//! and the newest profile, and the verdict, stage, dev_size, dev_resource and dev_align must
//! equal what the kernel did. For validate-stage rejections the kernel's log line (the
//! harness's `reason` token) must also equal the validator's [`Reason::message`], and for
//! enable-stage rejections the errno of "probe failed with error -N".

use std::path::{Path, PathBuf};

use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath, Stage};
use nvdimm_infoblock::{InfoBlock, Profile};
use serde_json::Value;

fn kernel_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel")
}

fn load(name: &str) -> Value {
    let path = kernel_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The profile the validator uses for a recorded kernel ("6.1", "6.12").
fn profile_for(kernel: &str) -> Profile {
    match kernel {
        // 6.12 is the newest era (6.5+): the default of the tools.
        "6.12" => Profile::NEWEST_X86_64,
        other => Profile::x86_64_for_release(other)
            .unwrap_or_else(|| panic!("no profile for kernel {other}")),
    }
}

/// The harness's reason token (verdict.py): every run of characters other than word
/// characters, `.`, `:` and `-` becomes one `_`, trimmed at both ends.
fn token(message: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in message.chars() {
        if c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '-') {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

fn opt_u64(v: &Value) -> Option<u64> {
    v.as_u64()
}

#[test]
fn validator_agrees_with_recorded_kernels() {
    let suite = load("suite.json");
    let recorded = load("recorded.json");
    let ns_start = suite["ns_start"].as_u64().expect("ns_start");
    assert_eq!(ns_start, 0x1_0000_0000, "the harness namespace is at 4 GiB");
    let cases = suite["cases"].as_array().expect("cases");
    let mut compared = 0usize;
    let mut failures = Vec::new();
    let mut kernels_seen = std::collections::BTreeSet::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let size = case["ns_size"].as_u64().expect("ns_size");
        let head_path = kernel_dir().join(case["head"].as_str().expect("head"));
        let head = std::fs::read(&head_path).expect("case head");
        let block = InfoBlock::from_namespace_head(&head).expect("8 KiB head");
        let ns = Namespace::labelless(ns_start, size);
        let Some(answers) = recorded["cases"][name].as_object() else {
            failures.push(format!("{name}: no recorded kernel answer"));
            continue;
        };
        for (kernel, want) in answers {
            kernels_seen.insert(kernel.clone());
            let profile = profile_for(kernel);
            let got = check(block, &ns, &ProbePath::Probe, &profile).expect("namespace is valid");
            let enabled = got.enabled();
            let mut diffs = Vec::new();
            let mut cmp = |key: &str, g: Value| {
                if g != want[key] {
                    diffs.push(format!("{key}: validator {g}, kernel {}", want[key]));
                }
            };
            cmp("verdict", Value::from(got.verdict()));
            cmp("stage", got.stage().map(Stage::name).into());
            cmp("dev_size", enabled.map(|e| e.dev_size).into());
            cmp("dev_resource", enabled.map(|e| e.dev_resource).into());
            cmp("dev_align", enabled.map(|e| e.dev_align).into());
            if let Outcome::Rejected {
                stage,
                reason,
                errno,
            } = got
            {
                let kernel_reason = want["reason"].as_str().unwrap_or("");
                match stage {
                    Stage::Validate => {
                        let mine = token(&reason.message().to_string());
                        if mine != kernel_reason {
                            diffs.push(format!(
                                "reason: validator logs {mine:?}, kernel {kernel_reason:?}"
                            ));
                        }
                    }
                    Stage::Enable => {
                        let probe = format!("probe_failed_{}", errno.code());
                        let ok = kernel_reason == probe
                            || token(&reason.message().to_string()) == kernel_reason;
                        if !ok {
                            diffs.push(format!(
                                "reason: validator {} ({probe}), kernel {kernel_reason:?}",
                                reason.token()
                            ));
                        }
                    }
                }
            }
            if let (Some(e), Some(npfns)) = (enabled, want["npfns"]["kernel"].as_u64()) {
                // The kernel logs "number of pfns truncated from X to Y" with its runtime npfns.
                if !(e.npfns_truncated && e.npfns == npfns) {
                    diffs.push(format!(
                        "npfns: validator {} (truncated {}), kernel logged {npfns}",
                        e.npfns, e.npfns_truncated
                    ));
                }
            } else if let Some(e) = enabled {
                if e.npfns_truncated && opt_u64(&want["npfns"]["kernel"]).is_none() {
                    diffs
                        .push("npfns: validator predicts a truncation message, kernel none".into());
                }
            }
            compared += 1;
            if !diffs.is_empty() {
                failures.push(format!("{name} on {kernel}: {}", diffs.join("; ")));
            }
        }
    }
    assert!(
        kernels_seen.contains("6.1") && kernels_seen.contains("6.12"),
        "recorded.json must hold both kernels, has {kernels_seen:?}"
    );
    assert!(compared >= 80, "only {compared} answers compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} kernel answers differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
