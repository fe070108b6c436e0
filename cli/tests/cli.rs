//! The command line as a whole: help for every command, unknown options named in the
//! error, completions, and the one-line rule for every non-zero exit.

use std::path::Path;

#[path = "../../tests/support/mod.rs"]
mod support;
use support::TempFile;

mod common;
#[allow(unused_imports)]
use common::*;

const COMMANDS: [&str; 10] = [
    "inspect",
    "check",
    "plan",
    "create",
    "compat",
    "upgrade",
    "labels",
    "probe",
    "btt",
    "completions",
];

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/ndctl")
        .join(rel)
        .display()
        .to_string()
}

/// `--help`, `-h` and `help NAME` of every command: exit 0, the usage line on stdout,
/// nothing on stderr, and the exit codes explained.
#[test]
fn help_for_every_command() {
    for name in COMMANDS {
        for args in [vec![name, "--help"], vec![name, "-h"], vec!["help", name]] {
            let o = run(&args);
            assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
            let text = stdout(&o);
            assert!(
                text.contains(&format!("Usage: infoblock {name}")),
                "{args:?}: {text}"
            );
            assert!(o.stderr.is_empty(), "{args:?}: {}", stderr(&o));
        }
        let text = stdout(&run(&[name, "--help"]));
        assert!(text.to_lowercase().contains("exit codes"), "{name}: {text}");
    }
    let top = stdout(&run(&["--help"]));
    for name in COMMANDS {
        assert!(top.contains(name), "{name} missing from --help: {top}");
    }
    assert!(top.contains("--quiet"), "{top}");
}

/// An unknown option is named in the (one-line) error of every command, with the command,
/// wherever it stands: `check --bogus x` used to complain about a missing --ns-start.
#[test]
fn unknown_option_is_named() {
    for name in COMMANDS {
        let mut forms = vec![vec![name, "--bogus-flag", "x"], vec![name, "--bogus-flag"]];
        // (A group such as btt or labels takes a subcommand, not a PATH: "btt x" is an unknown
        // command.)
        if name != "plan" && name != "completions" && name != "labels" && name != "btt" {
            // After a positional PATH too.
            forms.push(vec![name, "x", "--bogus-flag"]);
        }
        for args in forms {
            let o = run(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            let err = stderr(&o);
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(
                err.starts_with(&format!("infoblock: {name}: unknown option --bogus-flag")),
                "{args:?}: {err}"
            );
        }
    }
    // A group's subcommand is named too, after its positional argument.
    let o = run(&["labels", "list", "x", "--bogus-flag"]);
    assert_eq!(
        stderr(&o),
        "infoblock: labels list: unknown option --bogus-flag\n"
    );
    let o = run(&["check", "--bogus", "x"]);
    assert_eq!(stderr(&o), "infoblock: check: unknown option --bogus\n");
    // A near miss gets a suggestion.
    assert!(stderr(&run(&["check", "x", "--jsn"])).contains("did you mean --json?"));
}

/// Every shell's script is non-empty; bash's (and zsh's, fish's) name every command.
#[test]
fn completions() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(!text.trim().is_empty(), "{shell}");
        if shell != "elvish" && shell != "powershell" {
            for name in COMMANDS {
                assert!(text.contains(name), "{shell}: {name} missing");
            }
        }
    }
    let bash = stdout(&run(&["completions", "bash"]));
    for flag in ["--ns-start", "--namespace", "--sysfs-root", "--quiet"] {
        assert!(bash.contains(flag), "bash completion lacks {flag}");
    }
}

/// Every non-zero exit, usage errors (2) and negative answers (1) of every command, prints
/// exactly one line on stderr, starting `infoblock: `.
#[test]
fn every_failure_is_one_stderr_line() {
    let missing = "/nonexistent/infoblock-cli-test.img";
    let dir = std::env::temp_dir().display().to_string();
    let bad_sig = data("bad/sig-wrong.bin");
    let bad_sum = data("bad/csum-flip-lsb.bin");
    let good = data("fsdax-1G-default.bin");
    let legacy = legacy_image();
    let short = TempFile::new("infoblock-cli-short.img", &[0u8; 100]);
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["frobnicate"], 2),
        (vec!["--bogus"], 2),
        (vec!["inspect", missing], 2),
        (vec!["inspect", missing, missing, &good], 2),
        (vec!["inspect", &dir], 2),
        (vec!["inspect", "--page-size", "3000"], 2),
        (vec!["inspect", &bad_sig], 1),
        (vec!["inspect", &bad_sum, &bad_sig, &good], 1),
        (vec!["inspect", "--json", &bad_sum], 1),
        (vec!["check"], 2),
        (vec!["check", &good], 2),
        (vec!["check", missing, "--ns-start", "0"], 2),
        (vec!["check", short.path(), "--ns-start", "0"], 2),
        (
            vec![
                "check",
                &good,
                "--ns-start",
                "0x100000000",
                "--ns-size",
                "0",
            ],
            2,
        ),
        (vec!["check", &bad_sum, "--ns-start", "0x100000000"], 1),
        (
            vec!["check", &bad_sum, "--ns-start", "0x100000000", "--json"],
            1,
        ),
        (vec!["check", &good, "--ns-start", "0x100000000"], 1), // 8 KiB: small namespace
        (vec!["plan"], 2),
        (vec!["plan", "--size", "2147471360", "--align", "1G"], 1),
        (vec!["plan", "--size", "1G", "--granule", "4K"], 2),
        (vec!["create", missing], 2),
        (vec!["compat"], 2),
        (vec!["compat", missing], 2),
        (vec!["compat", &bad_sig], 1),
        (vec!["upgrade", &good], 2),
        (vec!["upgrade", &good, "--to", "9.9"], 2),
        (
            vec![
                "upgrade",
                legacy.path(),
                "--to",
                "1.0",
                "--ns-start",
                "0x103c000000",
                "--ns-size",
                "1G",
            ],
            1,
        ),
        (
            vec![
                "upgrade",
                legacy.path(),
                "--to",
                "1.0",
                "--ns-start",
                "0x103c000000",
                "--ns-size",
                "1G",
                "--json",
            ],
            1,
        ),
        (vec!["completions", "tcsh"], 2),
        (vec!["probe", missing], 2),
        (vec!["probe", &bad_sig, "--ns-start", "0x100000000"], 1), // no signature: raw
        (vec!["btt"], 2),
        (vec!["btt", "read", missing, "--lba", "0"], 2),
        (vec!["btt", "read", &good, "--lba", "0"], 1), // no BTT in an 8 KiB pfn head
        (vec!["btt", "check", missing], 2),
        (vec!["btt", "check", &good], 1),
        (vec!["btt", "create", missing, "--sector-size", "512"], 2),
        (
            vec!["btt", "create", short.path(), "--sector-size", "512"],
            2,
        ),
    ];
    for (args, code) in cases {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("infoblock: "), "{args:?}: {err}");
        assert!(err.ends_with('\n'), "{args:?}: {err:?}");
    }
}

/// A v1.2 block with start_pad 64 MiB (FORMAT.md §2.3 vector D): going to v1.0 would drop
/// start_pad and move the data, so `upgrade --to 1.0` refuses it.
fn legacy_image() -> TempFile {
    use nvdimm_infoblock::{DeviceKind, Mode, PfnInfo, Uuid, Version};
    let info = PfnInfo {
        kind: DeviceKind::Fsdax,
        uuid: Uuid([0x11; 16]),
        parent_uuid: Uuid::NIL,
        flags: 0,
        version: Version::V1_2,
        dataoff: 0x120_0000,
        npfns: 0x3_ae00,
        mode: Mode::PMEM,
        start_pad: 0x400_0000,
        end_trunc: 0,
        align: 0x20_0000,
        page_size: 4096,
        page_struct_size: 64,
        min_version: None,
    };
    let mut bytes = vec![0u8; 8192];
    bytes[4096..].copy_from_slice(zerocopy::IntoBytes::as_bytes(&info.to_block().unwrap()));
    TempFile::new("infoblock-cli-legacy.img", &bytes)
}

/// Old spellings still work: `--flag=value`, the dialect aliases, `linux-` kernel names,
/// `latest`, a repeated flag (the last one wins).
#[test]
fn old_spellings() {
    let sample_2019 = data("bad/v1.3.bin");
    for dialect in ["2019", "min-version", "2019-min-version"] {
        let o = run(&["inspect", "--json", "--dialect", dialect, &sample_2019]);
        assert_eq!(o.status.code(), Some(0), "{dialect}: {}", stderr(&o));
        assert!(stdout(&o).contains("min_version"), "{dialect}");
    }
    let a = run(&["plan", "--size=1G", "--kernel=linux-6.1", "--json"]);
    let b = run(&["plan", "--size", "1G", "--kernel", "6.1", "--json"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    let a = run(&["plan", "--size", "1G", "--kernel", "latest", "--json"]);
    let b = run(&["plan", "--size", "1G", "--json", "--json"]);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    // No command at all is `inspect` of the sample; `--quiet` goes before or after a command.
    assert_eq!(run(&[]).stdout, run(&["inspect"]).stdout);
    assert_eq!(run(&["-q"]).stdout, run(&["inspect", "--quiet"]).stdout);
}
