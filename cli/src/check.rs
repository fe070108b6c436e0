//! `infoblock check`: predicts what a kernel does with a namespace image.

use std::path::PathBuf;

use nvdimm_infoblock::btt::arena::{check_info, read_info};
use nvdimm_infoblock::btt::error::Invalid;
use nvdimm_infoblock::probe::{self, Attempt, ClaimClass, Probe, Verdict, Why};
use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath};
use nvdimm_infoblock::{InfoBlock, Profile, Uuid};
use serde::Serialize;

use crate::args::{parse_kernel, parse_size, parse_uuid};
use crate::btt::invalid_token;
use crate::image::Image;
use crate::nsarg::{self, ClaimArg};
use crate::sysfs::{self, View};
use crate::{output, Ctx, Failure};

const AFTER_HELP: &str = "\
The namespace is given by --ns-start [--ns-size] [--parent-uuid], or read from sysfs: with
--namespace NAME, or when PATH is /dev/pmemN of a raw namespace. A fsdax /dev/pmemN, a
/dev/pmemNs or a /dev/daxX.Y shows the device's data, not the namespace's info-block: pass
an image of the namespace with --namespace NAME instead.

A BTT is looked for first (v1.1 at byte 4096; v2.0 at byte 0 with --claim btt2), as the
kernel does: a valid one gives the verdict sector, with dev_size the btt device's size.

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
    /// The claim class of the namespace's label (default: sysfs holder_class, else none).
    #[arg(long, value_name = "CLASS", value_enum)]
    pub claim: Option<ClaimArg>,
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
    let claim = match args.claim {
        Some(c) => c.class(),
        None => nsarg::refine_btt(claim_class(&args), &mut image, ns.uuid),
    };
    if let Some(result) = btt_or_claim(&args, &path, &mut image, &ns, claim, &profile)? {
        return result;
    }
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

/// The claim class: `--claim`, else the sysfs `holder_class` of `--namespace` (or of the
/// namespace under a device node), else none.
fn claim_class(args: &CheckArgs) -> ClaimClass {
    if let Some(c) = args.claim {
        return c.class();
    }
    let name = match &args.namespace {
        Some(n) => Some(n.clone()),
        None if args.ns_start.is_none() => sysfs::resolve_device(&args.sysfs_root, &args.path)
            .ok()
            .flatten()
            .map(|d| d.namespace.name),
        None => None,
    };
    name.and_then(|n| nsarg::read_sys_namespace(&args.sysfs_root, &n).ok())
        .and_then(|s| s.claim)
        .unwrap_or(ClaimClass::None)
}

/// The kernel's probe order: when the BTT claims the namespace, or the claim class keeps the
/// pfn/dax drivers from the block, the answer is reported here (`Some`); otherwise `None`
/// and the pfn/dax check runs as it always did.
fn btt_or_claim(
    args: &CheckArgs,
    path: &str,
    image: &mut Image,
    ns: &Namespace,
    claim: ClaimClass,
    profile: &Profile,
) -> Result<Option<Result<(), Failure>>, Failure> {
    let pns = probe::Namespace {
        start: ns.start,
        size: ns.size,
        uuid: ns.uuid,
        claim,
        force_raw: false,
    };
    let answer = match probe::probe(image, &pns, profile) {
        Ok(a) => a,
        Err(e) => {
            // A read the BTT needs failed (a short image): an error only when a valid BTT
            // info block is there, so that the BTT would claim the namespace.
            let version = nsarg::version_of(claim);
            let btt_valid = claim != ClaimClass::Pfn
                && claim != ClaimClass::Dax
                && read_info(image, version.info_offset())
                    .ok()
                    .is_some_and(|sb| check_info(&sb, 0, &ns.uuid).is_ok());
            if btt_valid {
                return Err(Failure::usage(format!("check: {path}: {e}")));
            }
            return Ok(None);
        }
    };
    let btt_reason = match answer.btt {
        Attempt::Passed(Why::Btt(i)) if !matches!(i, Invalid::BadSignature { .. }) => Some(i),
        _ => None,
    };
    let btt_claimed = answer.btt == Attempt::Claimed;
    // The claim class kept the pfn/dax drivers away from a block they would have judged.
    let claim_blocks = claim != ClaimClass::None
        && matches!(answer.verdict, Verdict::Raw { .. })
        && [answer.pfn, answer.dax]
            .iter()
            .all(|a| matches!(a, Attempt::Passed(Why::ClaimClass(_) | Why::ForceRaw)));
    if !btt_claimed && !claim_blocks && btt_reason.is_none() {
        return Ok(None);
    }
    if !btt_claimed && !claim_blocks {
        // A BTT signature with a bad block: the kernel ignores the BTT; the pfn/dax answer
        // follows, with the BTT's reason added.
        return Ok(Some(pfn_with_btt_reason(
            args, path, image, ns, profile, btt_reason,
        )));
    }
    let json = CheckJson::from_probe(&answer, ns, profile, claim, btt_reason);
    if args.json {
        output::json(&json)?;
    } else {
        output::text(&human_probe(path, &answer, ns, profile, claim));
    }
    Ok(Some(match answer.verdict {
        Verdict::Sector(_) | Verdict::Enabled(_) => Ok(()),
        Verdict::SectorUnchecked { why, .. } => Err(Failure::negative(format!(
            "check: {path}: sector, but the BTT breaks a rule the kernel does not check: {why} \
             (its size and reads are not predicted; see btt check)"
        ))),
        Verdict::Raw { .. } => Err(Failure::negative(format!(
            "check: {path}: the claim class {claim} keeps the pfn and dax drivers away: the \
             kernel uses the namespace raw"
        ))),
        Verdict::Rejected { driver, stage, why } => Err(Failure::negative(format!(
            "check: {path}: rejected: {driver} at {}: {}",
            stage.name(),
            why_token(&why)
        ))),
    }))
}

/// Today's pfn/dax answer for a namespace whose BTT info block is bad, with `btt_reason`.
fn pfn_with_btt_reason(
    args: &CheckArgs,
    path: &str,
    image: &mut Image,
    ns: &Namespace,
    profile: &Profile,
    btt_reason: Option<Invalid>,
) -> Result<(), Failure> {
    let mut head = vec![0u8; InfoBlock::HEAD_SIZE];
    nvdimm_infoblock::io::ReadAt::read_at(image, 0, &mut head)
        .map_err(|e| Failure::usage(format!("check: cannot read {path}: {e}")))?;
    let block = InfoBlock::from_namespace_head(&head)
        .map_err(|e| Failure::usage(format!("check: {path}: {e}")))?;
    let outcome = check(block, ns, &ProbePath::Probe, profile)
        .map_err(|e| Failure::usage(format!("check: {path}: {e}")))?;
    let mut json = CheckJson::new(&outcome, ns, profile);
    json.btt_reason = btt_reason.map(|i| invalid_token(&i).to_owned());
    json.btt_detail = btt_reason.map(|i| i.to_string());
    if args.json {
        output::json(&json)?;
    } else {
        let mut text = human(path, &outcome, ns, profile);
        if let Some(i) = btt_reason {
            text += &format!(
                "  the BTT info block is ignored: {} ({i})\n",
                invalid_token(&i)
            );
        }
        output::text(&text);
    }
    match (outcome, btt_reason) {
        (Outcome::Enabled(_), _) => Ok(()),
        (Outcome::Raw { .. }, Some(i)) => Err(Failure::negative(format!(
            "check: {path}: the kernel ignores the BTT ({}: {i}) and uses the namespace raw",
            invalid_token(&i)
        ))),
        (Outcome::Raw { reason, errno }, None) => Err(Failure::negative(format!(
            "check: {path}: the kernel ignores the block and uses the namespace raw: {}, \
             validate returns {errno}",
            reason.token()
        ))),
        (
            Outcome::Rejected {
                stage,
                reason,
                errno,
            },
            _,
        ) => Err(Failure::negative(format!(
            "check: {path}: rejected at {stage}: {}, returns {errno}: \"{}\"",
            reason.token(),
            reason.message()
        ))),
    }
}

fn why_token(why: &Why) -> String {
    match why {
        Why::Btt(i) => format!("{} ({i})", invalid_token(i)),
        Why::Pfn(r) => format!("{} ({r})", r.token()),
        other => other.to_string(),
    }
}

fn human_probe(
    path: &str,
    p: &Probe,
    ns: &Namespace,
    profile: &Profile,
    claim: ClaimClass,
) -> String {
    let mut out = format!(
        "{path}: namespace {:#x}+{:#x} under {} (claim class {claim})\n",
        ns.start,
        ns.size,
        profile.name()
    );
    match &p.verdict {
        Verdict::Sector(s) => {
            out += &format!(
                "verdict: sector: the kernel attaches the BTT {} (/dev/pmemNs)\n",
                s.version
            );
            out += &format!("  size         {} ({:#x})\n", s.dev_size(), s.dev_size());
            out += &format!("  sector_size  {}\n", s.btt.sector_size);
            out += &format!("  nlba         {}\n", s.btt.nlba);
            out += &format!("  arenas       {}\n", s.btt.arena_count);
        }
        Verdict::SectorUnchecked { version, why } => {
            out += &format!(
                "verdict: sector: the kernel attaches the BTT {version}, which breaks a rule it \
                 does not check: {why}\n  size and reads are not predicted (see btt check)\n"
            );
        }
        Verdict::Rejected { driver, stage, why } => {
            out += &format!(
                "verdict: rejected at {}: {driver} claims the namespace and fails\n  reason  {}\n",
                stage.name(),
                why_token(why)
            );
        }
        Verdict::Raw { .. } => {
            out += &format!(
                "verdict: raw: the claim class {claim} keeps the pfn and dax drivers away\n"
            );
        }
        Verdict::Enabled(e) => {
            out += &format!("verdict: {}\n", e.kind);
        }
    }
    out
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
    /// BTT only (absent for pfn/dax answers): the btt device's logical block size.
    #[serde(skip_serializing_if = "Option::is_none")]
    sector_size: Option<u32>,
    /// BTT only: the BTT version (placement).
    #[serde(skip_serializing_if = "Option::is_none")]
    btt_version: Option<String>,
    /// BTT only: the btt device's blocks.
    #[serde(skip_serializing_if = "Option::is_none")]
    nlba: Option<u64>,
    /// A BTT info block the kernel ignores: why (token).
    #[serde(skip_serializing_if = "Option::is_none")]
    btt_reason: Option<String>,
    /// A BTT info block the kernel ignores: the sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    btt_detail: Option<String>,
    /// The claim class, when not none.
    #[serde(skip_serializing_if = "Option::is_none")]
    claim: Option<String>,
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
            sector_size: None,
            btt_version: None,
            nlba: None,
            btt_reason: None,
            btt_detail: None,
            claim: None,
        }
    }

    /// The object for a probe answer the pfn/dax path does not give: the BTT claimed the
    /// namespace, or the claim class kept the pfn/dax drivers away.
    fn from_probe(
        p: &Probe,
        ns: &Namespace,
        profile: &Profile,
        claim: ClaimClass,
        btt_reason: Option<Invalid>,
    ) -> Self {
        let (stage, reason, message) = match &p.verdict {
            Verdict::Rejected { stage, why, .. } => (
                Some(stage.name().to_string()),
                Some(match why {
                    Why::Btt(i) => invalid_token(i).to_owned(),
                    Why::Pfn(r) => r.token().to_owned(),
                    _ => "other".to_owned(),
                }),
                Some(why.to_string()),
            ),
            Verdict::Raw { .. } => (None, None, Some(format!("claim class {claim}"))),
            Verdict::SectorUnchecked { why, .. } => (
                None,
                Some(invalid_token(why).to_owned()),
                Some(why.to_string()),
            ),
            _ => (None, None, None),
        };
        let sector = match &p.verdict {
            Verdict::Sector(s) => Some(*s),
            _ => None,
        };
        let raw_reason = match &p.verdict {
            Verdict::Raw { .. } => Some("claim_class".to_owned()),
            _ => None,
        };
        Self {
            verdict: p.verdict.name().to_string(),
            stage,
            reason,
            raw_reason,
            errno: None,
            message: message.clone(),
            detail: message,
            dev_size: sector.map(|s| s.dev_size()),
            dev_resource: None,
            dev_align: None,
            npfns: None,
            npfns_truncated: None,
            map: None,
            data_start: None,
            dataoff: None,
            start_pad: None,
            end_trunc: None,
            ns_start: ns.start,
            ns_size: ns.size,
            parent_uuid: ns.uuid.to_string(),
            profile: profile.name().to_string(),
            sector_size: sector.map(|s| s.btt.sector_size),
            btt_version: sector.map(|s| s.version.to_string()),
            nlba: sector.map(|s| s.btt.nlba),
            btt_reason: btt_reason.map(|i| invalid_token(&i).to_owned()),
            btt_detail: btt_reason.map(|i| i.to_string()),
            claim: (claim != ClaimClass::None).then(|| claim.name().to_owned()),
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
