//! `infoblock check`: predicts what a kernel does with a namespace image.

use std::path::PathBuf;

use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath};
use nvdimm_infoblock::{InfoBlock, Profile, Uuid};
use serde::Serialize;

use crate::args::{parse_kernel, parse_size, parse_uuid};
use crate::image::Image;
use crate::sysfs::{self, View};
use crate::{output, Ctx, Failure};

const AFTER_HELP: &str = "\
The namespace is given by --ns-start [--ns-size] [--parent-uuid], or read from sysfs: with
--namespace NAME, or when PATH is /dev/pmemN of a raw namespace. A fsdax /dev/pmemN, a
/dev/pmemNs or a /dev/daxX.Y shows the device's data, not the namespace's info-block: pass
an image of the namespace with --namespace NAME instead.

Exit codes: 0 the kernel enables the device; 1 it uses the namespace raw or refuses the
block (one line on stderr says which); 2 a usage or I/O error.";

/// Arguments of `infoblock check`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct CheckArgs {
    /// The namespace image (the info-block at byte 4096), or a raw namespace's /dev/pmemN.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// The namespace's physical start (sysfs `resource`): decimal, 0x hex, or 4K/2M/1G/1T.
    #[arg(long, value_name = "ADDR", value_parser = parse_size)]
    pub ns_start: Option<u64>,
    /// The namespace size (default: the size of PATH).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub ns_size: Option<u64>,
    /// The namespace uuid the block's parent_uuid must equal (default: nil, label-less).
    #[arg(long, value_name = "UUID", value_parser = parse_uuid)]
    pub parent_uuid: Option<Uuid>,
    /// Read start, size and uuid of this namespace (e.g. namespace0.0) from sysfs.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["ns_start", "ns_size", "parent_uuid"]
    )]
    pub namespace: Option<String>,
    /// The sysfs root to read namespaces from (a recorded tree).
    #[arg(long, value_name = "DIR", default_value = "/sys")]
    pub sysfs_root: PathBuf,
    /// The kernel: a release (6.12, 6.1, 5.4, 4.19, ...) or newest.
    #[arg(long, value_name = "PROFILE", value_parser = parse_kernel)]
    pub kernel: Option<Profile>,
    /// Print a JSON object (keys in docs/cli.md).
    #[arg(long)]
    pub json: bool,
}

/// The namespace to check against: from sysfs (`--namespace`, or PATH a device node) or from
/// the flags. `size: None` means the size of PATH.
struct NamespaceSpec {
    start: u64,
    size: Option<u64>,
    uuid: Uuid,
}

/// Works out the namespace before PATH is opened (so that a device node that cannot show
/// the namespace is refused with the reason, whether or not it exists here).
fn namespace(args: &CheckArgs) -> Result<NamespaceSpec, Failure> {
    let path = &args.path;
    let fail = |m: String| Failure::usage(format!("check: {m}"));
    // A device node: resolve it unless the namespace is given by hand.
    let device = if args.ns_start.is_none() {
        sysfs::resolve_device(&args.sysfs_root, path).map_err(fail)?
    } else {
        None
    };
    if let Some(dev) = &device {
        if dev.view != View::Namespace {
            return Err(fail(format!(
                "{path} shows {}, not {ns}: the info-block is not visible through it; pass an \
                 image of {ns} as PATH with --namespace {ns}",
                dev.view.describe(),
                ns = dev.namespace.name
            )));
        }
    }
    let info = match (&args.namespace, device) {
        (Some(name), dev) => {
            let name = name.rsplit('/').next().unwrap_or(name);
            let info = sysfs::read_namespace(&args.sysfs_root, name).map_err(fail)?;
            if let Some(dev) = dev {
                if dev.namespace.name != info.name {
                    return Err(fail(format!(
                        "{path} belongs to {}, not to {}",
                        dev.namespace.name, info.name
                    )));
                }
            }
            Some(info)
        }
        (None, Some(dev)) => Some(dev.namespace),
        (None, None) => None,
    };
    Ok(match info {
        Some(info) => NamespaceSpec {
            start: info.start,
            size: Some(info.size),
            uuid: info.uuid.unwrap_or(Uuid::NIL),
        },
        None => NamespaceSpec {
            start: args.ns_start.ok_or_else(|| {
                fail(format!(
                    "{path}: the namespace start is needed: give --ns-start ADDR or --namespace \
                     NAME (or a raw namespace's /dev/pmemN as PATH)"
                ))
            })?,
            size: args.ns_size,
            uuid: args.parent_uuid.unwrap_or(Uuid::NIL),
        },
    })
}

/// Runs `check`.
pub fn run(args: CheckArgs, ctx: &Ctx) -> Result<(), Failure> {
    let path = args.path.clone();
    let profile = args.kernel.unwrap_or(Profile::NEWEST_X86_64);
    let spec = namespace(&args)?;
    let mut image =
        Image::open(&path).map_err(|f| Failure::usage(format!("check: {}", f.message)))?;
    let ns = Namespace {
        start: spec.start,
        size: spec.size.unwrap_or(image.len),
        uuid: spec.uuid,
    };
    let head = image.read_prefix(InfoBlock::HEAD_SIZE as u64, ctx)?;
    let block = InfoBlock::from_namespace_head(&head).map_err(|_| {
        Failure::usage(format!(
            "check: {path}: {} bytes is too short for a namespace head (the block is at 4096..8192)",
            head.len()
        ))
    })?;
    let outcome = check(block, &ns, &ProbePath::Probe, &profile)
        .map_err(|e| Failure::usage(format!("check: {path}: {e}")))?;

    if args.json {
        output::json(&CheckJson::new(&outcome, &ns, &profile))?;
    } else {
        output::text(&human(&path, &outcome, &ns, &profile));
    }
    match outcome {
        Outcome::Enabled(_) => Ok(()),
        Outcome::Raw { reason, errno } => Err(Failure::negative(format!(
            "check: {path}: the kernel ignores the block and uses the namespace raw: {}, \
             validate returns {errno}",
            reason.token()
        ))),
        Outcome::Rejected {
            stage,
            reason,
            errno,
        } => Err(Failure::negative(format!(
            "check: {path}: rejected at {stage}: {}, returns {errno}: \"{}\"",
            reason.token(),
            reason.message()
        ))),
    }
}

/// The JSON object of an outcome (keys documented in docs/cli.md, in this order).
#[derive(Debug, Serialize)]
pub struct CheckJson {
    verdict: String,
    stage: Option<String>,
    reason: Option<String>,
    raw_reason: Option<String>,
    errno: Option<i32>,
    message: Option<String>,
    detail: Option<String>,
    dev_size: Option<u64>,
    dev_resource: Option<u64>,
    dev_align: Option<u64>,
    npfns: Option<u64>,
    npfns_truncated: Option<bool>,
    map: Option<String>,
    data_start: Option<u64>,
    dataoff: Option<u64>,
    start_pad: Option<u64>,
    end_trunc: Option<u64>,
    ns_start: u64,
    ns_size: u64,
    parent_uuid: String,
    profile: String,
}

impl CheckJson {
    /// The object for `outcome` of namespace `ns` under `profile`.
    pub fn new(outcome: &Outcome, ns: &Namespace, profile: &Profile) -> Self {
        let enabled = outcome.enabled();
        let rejected_reason = match outcome {
            Outcome::Rejected { reason, .. } => Some(*reason),
            _ => None,
        };
        let raw_reason = match outcome {
            Outcome::Raw { reason, .. } => Some(*reason),
            _ => None,
        };
        Self {
            verdict: outcome.verdict().to_string(),
            stage: outcome.stage().map(|s| s.name().to_string()),
            reason: rejected_reason.map(|r| r.token().to_string()),
            raw_reason: raw_reason.map(|r| r.token().to_string()),
            errno: outcome.errno().map(|e| e.code()),
            message: outcome.reason().map(|r| r.message().to_string()),
            detail: outcome.reason().map(|r| r.to_string()),
            dev_size: enabled.map(|e| e.dev_size),
            dev_resource: enabled.map(|e| e.dev_resource),
            dev_align: enabled.map(|e| e.dev_align),
            npfns: enabled.map(|e| e.npfns),
            npfns_truncated: enabled.map(|e| e.npfns_truncated),
            map: enabled.map(|e| e.map().to_string()),
            data_start: enabled.map(|e| e.dev_resource),
            dataoff: enabled.map(|e| e.dataoff),
            start_pad: enabled.map(|e| e.start_pad.into()),
            end_trunc: enabled.map(|e| e.end_trunc.into()),
            ns_start: ns.start,
            ns_size: ns.size,
            parent_uuid: ns.uuid.to_string(),
            profile: profile.name().to_string(),
        }
    }
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
