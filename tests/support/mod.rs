//! Helpers shared by the integration tests of both packages: a seeded PRNG, seeds from the
//! environment, finding ndctl (with the `NVDIMM_REQUIRE_NDCTL` rule), reading ndctl's JSON and
//! self-deleting temporary files. Root tests include it with
//! `#[path = "support/mod.rs"] mod support;`, cli tests with
//! `#[path = "../../tests/support/mod.rs"] mod support;`.

// Each test crate uses only part of this module; the rest would warn as dead code there.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use nvdimm_infoblock::InfoBlock;
use serde_json::Value;

/// splitmix64: a small seeded PRNG, so the random cases are the same on every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (one draw).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// Uniform in `0..n` (one draw).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// 16 random bytes (two draws, each stored little-endian), e.g. for `Uuid(..)`.
    pub fn uuid_bytes(&mut self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next().to_le_bytes());
        b[8..].copy_from_slice(&self.next().to_le_bytes());
        b
    }

    /// A random uuid as text, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (two draws, each read
    /// most significant digit first).
    pub fn uuid_string(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

/// The seed in environment variable `var` (decimal or 0x-hex), else `default`; panics on a
/// value that does not parse.
pub fn seed_from_env(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(s) => match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).expect(var),
            None => s.parse().expect(var),
        },
        Err(_) => default,
    }
}

/// The first `ndctl` file on PATH, if any.
pub fn ndctl_on_path() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("ndctl"))
            .find(|p| p.is_file())
    })
}

/// Whether `ndctl --version` runs and succeeds.
pub fn ndctl_runs() -> bool {
    Command::new("ndctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Reports that test `what` did not run for want of ndctl: a loud skip message, and a failure
/// when `NVDIMM_REQUIRE_NDCTL` is set (as in CI).
#[track_caller]
pub fn skip_without_ndctl(what: &str) {
    eprintln!();
    eprintln!("=====================================================================");
    eprintln!("skipped: ndctl not found on PATH; {what} did NOT run");
    eprintln!("(install it with `apt-get install -y ndctl`; CI does)");
    eprintln!("=====================================================================");
    assert!(
        std::env::var_os("NVDIMM_REQUIRE_NDCTL").is_none(),
        "NVDIMM_REQUIRE_NDCTL is set (as in CI) but ndctl is not on PATH"
    );
}

/// ndctl's path for test `what`, from [`ndctl_on_path`]; `None` (after
/// [`skip_without_ndctl`]) when there is none.
#[track_caller]
pub fn ndctl_or_skip(what: &str) -> Option<PathBuf> {
    let found = ndctl_on_path();
    if found.is_none() {
        skip_without_ndctl(what);
    }
    found
}

/// Whether test `what` can run ndctl, by [`ndctl_runs`]; false (after [`skip_without_ndctl`])
/// when it cannot.
#[track_caller]
pub fn ndctl_available(what: &str) -> bool {
    let ok = ndctl_runs();
    if !ok {
        skip_without_ndctl(what);
    }
    ok
}

/// The one object `ndctl read-infoblock -j -i FILE` prints (it must succeed and print one).
pub fn ndctl_read_json(ndctl: &Path, file: &Path) -> Value {
    let out = Command::new(ndctl)
        .args(["read-infoblock", "-j", "-i"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "read-infoblock: {out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 1, "{v}");
    arr[0].clone()
}

/// A file in the temporary directory, removed on drop.
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// Writes `bytes` to a new file named after `name` with the process id and a per-process
    /// counter before its extension ("x.img" -> "x-PID-N.img"), so that tests running at the
    /// same time never share a file.
    pub fn new(name: &str, bytes: &[u8]) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let (stem, ext) = name
            .rsplit_once('.')
            .map_or((name, String::new()), |(s, e)| (s, format!(".{e}")));
        let path = std::env::temp_dir().join(format!(
            "{stem}-{}-{}{ext}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, bytes).unwrap();
        Self(path)
    }

    /// The path as UTF-8 text, for command-line arguments.
    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A block's stored fields as `ndctl read-infoblock --json` prints them (numbers raw, `mode`
/// as a signed 32-bit integer, the signature up to its first NUL, the version as
/// "major.minor"): the 13 keys ndctl prints besides `file`.
pub fn stored_as_ndctl_json(block: &InfoBlock) -> [(&'static str, Value); 13] {
    let mode = i32::from_le_bytes(block.mode.get().to_le_bytes());
    [
        (
            "signature",
            Value::from(block.signature.as_str().expect("ASCII signature")),
        ),
        ("uuid", Value::from(block.uuid.to_string())),
        ("parent_uuid", Value::from(block.parent_uuid.to_string())),
        ("flags", Value::from(block.flags.get())),
        ("version", Value::from(block.version().to_string())),
        ("dataoff", Value::from(block.dataoff.get())),
        ("npfns", Value::from(block.npfns.get())),
        ("mode", Value::from(mode)),
        ("start_pad", Value::from(block.start_pad.get())),
        ("end_trunc", Value::from(block.end_trunc.get())),
        ("align", Value::from(block.align.get())),
        ("page_size", Value::from(block.page_size.get())),
        (
            "page_struct_size",
            Value::from(block.page_struct_size.get()),
        ),
    ]
}
