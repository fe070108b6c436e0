//! `infoblock check PATH --ns-start ADDR [--ns-size BYTES] [--parent-uuid UUID]
//! [--kernel PROFILE] [--json]`: predicts what a kernel does with a namespace image.

use std::fs::File;
use std::io::Read;
use std::process::ExitCode;

use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath};
use nvdimm_infoblock::{InfoBlock, Profile, Uuid};

use crate::args::{parse_kernel, parse_size, parse_uuid, Args, UsageError};
use crate::json::Json;
use crate::CmdResult;

/// Usage line of the subcommand.
pub const USAGE: &str = "check PATH --ns-start ADDR [--ns-size BYTES] [--parent-uuid UUID] \
                         [--kernel PROFILE] [--json]";

/// Runs `check` with the arguments after the subcommand name.
pub fn run(argv: Vec<String>) -> CmdResult {
    let mut args = Args::new(argv);
    let json = args.flag("--json");
    let ns_start = args
        .value("--ns-start")?
        .ok_or_else(|| UsageError(format!("check needs --ns-start\nusage: infoblock {USAGE}")))?;
    let ns_start = parse_size(&ns_start)?;
    let ns_size = args
        .value("--ns-size")?
        .map(|s| parse_size(&s))
        .transpose()?;
    let parent = args
        .value("--parent-uuid")?
        .map(|s| parse_uuid(&s))
        .transpose()?
        .unwrap_or(Uuid::NIL);
    let profile = match args.value("--kernel")? {
        Some(k) => parse_kernel(&k)?,
        None => Profile::NEWEST_X86_64,
    };
    let paths = args.finish()?;
    let [path] = paths.as_slice() else {
        return Err(UsageError(format!(
            "check takes exactly one PATH\nusage: infoblock {USAGE}"
        )));
    };

    let mut file = File::open(path).map_err(|e| UsageError(format!("cannot open {path}: {e}")))?;
    let file_size = file
        .metadata()
        .map_err(|e| UsageError(format!("cannot stat {path}: {e}")))?
        .len();
    let mut head = Vec::with_capacity(InfoBlock::HEAD_SIZE);
    (&mut file)
        .take(InfoBlock::HEAD_SIZE as u64)
        .read_to_end(&mut head)
        .map_err(|e| UsageError(format!("cannot read {path}: {e}")))?;
    let block = InfoBlock::from_namespace_head(&head).map_err(|_| {
        UsageError(format!(
            "{path}: {} bytes is too short for a namespace head (the block is at 4096..8192)",
            head.len()
        ))
    })?;
    let ns = Namespace {
        start: ns_start,
        size: ns_size.unwrap_or(file_size),
        uuid: parent,
    };
    let outcome = check(block, &ns, &ProbePath::Probe, &profile)
        .map_err(|e| UsageError(format!("{path}: {e}")))?;

    if json {
        println!("{}", to_json(&outcome, &ns, &profile).pretty());
    } else {
        print!("{}", human(path, &outcome, &ns, &profile));
    }
    Ok(match outcome {
        Outcome::Enabled(_) => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

/// The JSON object of an outcome (keys documented in docs/cli.md).
pub fn to_json(outcome: &Outcome, ns: &Namespace, profile: &Profile) -> Json {
    let enabled = outcome.enabled();
    let rejected_reason = match outcome {
        Outcome::Rejected { reason, .. } => Some(*reason),
        _ => None,
    };
    let raw_reason = match outcome {
        Outcome::Raw { reason, .. } => Some(*reason),
        _ => None,
    };
    Json::obj()
        .with("verdict", outcome.verdict())
        .with("stage", outcome.stage().map(|s| s.name()))
        .with("reason", rejected_reason.map(|r| r.token()))
        .with("raw_reason", raw_reason.map(|r| r.token()))
        .with("errno", outcome.errno().map(|e| e.code()))
        .with("message", outcome.reason().map(|r| r.message().to_string()))
        .with("detail", outcome.reason().map(|r| r.to_string()))
        .with("dev_size", enabled.map(|e| e.dev_size))
        .with("dev_resource", enabled.map(|e| e.dev_resource))
        .with("dev_align", enabled.map(|e| e.dev_align))
        .with("npfns", enabled.map(|e| e.npfns))
        .with("npfns_truncated", enabled.map(|e| e.npfns_truncated))
        .with("map", enabled.map(|e| e.map()))
        .with("data_start", enabled.map(|e| e.dev_resource))
        .with("dataoff", enabled.map(|e| e.dataoff))
        .with("start_pad", enabled.map(|e| e.start_pad))
        .with("end_trunc", enabled.map(|e| e.end_trunc))
        .with("ns_start", ns.start)
        .with("ns_size", ns.size)
        .with("parent_uuid", ns.uuid.to_string())
        .with("profile", profile.name().to_string())
}

fn human(path: &str, outcome: &Outcome, ns: &Namespace, profile: &Profile) -> String {
    let mut out = format!(
        "{path}: namespace {:#x}+{:#x} under {}\n",
        ns.start,
        ns.size,
        profile.name()
    );
    match outcome {
        Outcome::Enabled(e) => {
            out += &format!(
                "verdict: {} (map={}): the kernel enables the device\n",
                e.kind,
                e.map()
            );
            out += &format!("  size      {} ({:#x})\n", e.dev_size, e.dev_size);
            out += &format!("  resource  {:#x} (data start)\n", e.dev_resource);
            out += &format!("  align     {} ({:#x})\n", e.dev_align, e.dev_align);
            out += &format!("  npfns     {}", e.npfns);
            if e.npfns_truncated {
                out +=
                    " (the block's npfns is larger: the kernel logs \"number of pfns truncated\")";
            }
            out += "\n";
        }
        Outcome::Raw { reason, errno } => {
            out += &format!(
                "verdict: raw: the kernel ignores the block and uses the namespace raw\n  \
                 reason  {} ({reason})\n  validate returns {errno}\n",
                reason.token()
            );
        }
        Outcome::Rejected {
            stage,
            reason,
            errno,
        } => {
            out += &format!(
                "verdict: rejected at {stage}: the namespace gets no usable device\n  \
                 reason  {} ({reason})\n  kernel log \"{}\", returns {errno}\n",
                reason.token(),
                reason.message()
            );
        }
    }
    out
}
