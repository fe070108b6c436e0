//! `infoblock probe`: what the kernel makes of a namespace (BTT, then pfn, then dax, else
//! raw), what each driver did and why, and where the data is
//! ([`nvdimm_infoblock::probe::probe`]).

use std::path::PathBuf;

use nvdimm_infoblock::probe::{self, Attempt, ClaimClass, Driver, Probe, Verdict, Why};
use nvdimm_infoblock::{Profile, Uuid};
use serde::Serialize;

use crate::args::{parse_kernel, parse_size, parse_uuid};
use crate::image::{io_text, Image};
use crate::nsarg::{self, ClaimArg};
use crate::{output, Ctx, Failure};

const AFTER_HELP: &str = "\
TARGET is a namespace image, a raw namespace's /dev/pmemN, or namespaceX.Y (its start, size,
uuid, claim class and force_raw from sysfs; its bytes from its raw /dev/pmemN). A namespace
claimed by a btt, pfn or dax device shows no node with its own bytes: pass an image of it
with --namespace NAME. Without sysfs, the namespace starts at --ns-start (default 0) and is
as large as the image.

Exit codes: 0 the kernel creates a device (sector, fsdax, devdax); 1 it uses the namespace
raw or refuses it (one line on stderr says why); 2 a usage or I/O error.";

/// Arguments of `infoblock probe`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct ProbeArgs {
    /// A namespace image, a raw namespace's /dev/pmemN, or namespaceX.Y.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// The namespace's physical start (sysfs `resource`; default 0, or sysfs).
    #[arg(long, value_name = "ADDR", value_parser = parse_size)]
    pub ns_start: Option<u64>,
    /// The namespace size (default: sysfs, else the size of TARGET).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub ns_size: Option<u64>,
    /// The namespace uuid (default: sysfs, else nil for a label-less namespace).
    #[arg(long, value_name = "UUID", value_parser = parse_uuid)]
    pub parent_uuid: Option<Uuid>,
    /// Read the namespace (start, size, uuid, claim class) from sysfs; TARGET is its image.
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// The claim class of the namespace's label (default: sysfs holder_class, else none).
    #[arg(long, value_name = "CLASS", value_enum)]
    pub claim: Option<ClaimArg>,
    /// The kernel: a release (6.12, 6.1, 5.4, 4.19, ...) or newest.
    #[arg(long, value_name = "PROFILE", value_parser = parse_kernel)]
    pub kernel: Option<Profile>,
    /// The sysfs root to read namespaces from (a recorded tree).
    #[arg(long, value_name = "DIR", default_value = "/sys")]
    pub sysfs_root: PathBuf,
    /// Print a JSON object (keys in docs/cli.md).
    #[arg(long)]
    pub json: bool,
}

/// One driver in the JSON.
#[derive(Debug, Serialize)]
pub struct DriverJson {
    result: &'static str,
    reason: Option<String>,
}

/// The BTT the kernel attaches.
#[derive(Debug, Serialize)]
pub struct BttJson {
    version: String,
    uuid: String,
    arenas: u32,
    nlba: u64,
    external_lbasize: u32,
    error_flag: bool,
}

/// The data range, namespace offsets.
#[derive(Debug, Serialize)]
pub struct DataJson {
    start: u64,
    end: u64,
}

/// The drivers.
#[derive(Debug, Serialize)]
pub struct DriversJson {
    btt: DriverJson,
    pfn: DriverJson,
    dax: DriverJson,
}

/// The JSON object (keys documented in docs/cli.md, in this order).
#[derive(Debug, Serialize)]
pub struct ProbeJson {
    verdict: &'static str,
    reason: Option<String>,
    dev_size: Option<u64>,
    sector_size: Option<u32>,
    data: Option<DataJson>,
    btt: Option<BttJson>,
    drivers: DriversJson,
    ns_start: u64,
    ns_size: u64,
    parent_uuid: String,
    claim: &'static str,
    force_raw: bool,
    profile: String,
}

fn attempt_json(a: Attempt, driver: Driver, verdict: &Verdict) -> DriverJson {
    match a {
        Attempt::Passed(why) => DriverJson {
            result: "passed",
            reason: Some(why.to_string()),
        },
        Attempt::Claimed => DriverJson {
            result: "claimed",
            reason: match verdict {
                Verdict::Rejected { driver: d, why, .. } if *d == driver => Some(why.to_string()),
                _ => None,
            },
        },
        Attempt::Refused => DriverJson {
            result: "refused",
            reason: match verdict {
                Verdict::Rejected { why, .. } => Some(why.to_string()),
                _ => None,
            },
        },
    }
}

/// The verdict's reason: why it is raw (the reasons the drivers passed) or rejected.
pub fn verdict_reason(p: &Probe) -> Option<String> {
    match p.verdict {
        Verdict::Rejected { driver, stage, why } => {
            Some(format!("{driver} refused at {}: {why}", stage.name()))
        }
        Verdict::SectorUnchecked { why, .. } => Some(format!(
            "the BTT breaks a rule the kernel does not check: {why}"
        )),
        Verdict::Raw { .. } => {
            let why = |a: Attempt| match a {
                Attempt::Passed(w) => w.to_string(),
                _ => String::new(),
            };
            Some(format!(
                "btt: {}; pfn: {}; dax: {}",
                why(p.btt),
                why(p.pfn),
                why(p.dax)
            ))
        }
        _ => None,
    }
}

impl ProbeJson {
    /// The object for probe answer `p` of namespace `ns` under `profile`.
    pub fn new(p: &Probe, ns: &probe::Namespace, profile: &Profile) -> Self {
        let v = &p.verdict;
        let (sector_size, btt) = match v {
            Verdict::Sector(s) => (
                Some(s.btt.sector_size),
                Some(BttJson {
                    version: s.version.to_string(),
                    uuid: s.btt.uuid.to_string(),
                    arenas: s.btt.arena_count,
                    nlba: s.btt.nlba,
                    external_lbasize: s.btt.external_lbasize,
                    error_flag: s.btt.error_flag,
                }),
            ),
            _ => (None, None),
        };
        Self {
            verdict: v.name(),
            reason: verdict_reason(p),
            dev_size: v.dev_size(),
            sector_size,
            data: v.data().map(|r| DataJson {
                start: r.start,
                end: r.end,
            }),
            btt,
            drivers: DriversJson {
                btt: attempt_json(p.btt, Driver::Btt, v),
                pfn: attempt_json(p.pfn, Driver::Pfn, v),
                dax: attempt_json(p.dax, Driver::Dax, v),
            },
            ns_start: ns.start,
            ns_size: ns.size,
            parent_uuid: ns.uuid.to_string(),
            claim: ns.claim.name(),
            force_raw: ns.force_raw,
            profile: profile.name().to_string(),
        }
    }
}

fn human(path: &str, p: &Probe, ns: &probe::Namespace, profile: &Profile) -> String {
    let mut out = format!(
        "{path}: namespace {:#x}+{:#x} (uuid {}, claim class {}{}) under {}\n",
        ns.start,
        ns.size,
        ns.uuid,
        ns.claim,
        if ns.force_raw { ", force_raw" } else { "" },
        profile.name()
    );
    let v = &p.verdict;
    out += &format!("verdict: {}\n", v.name());
    match v {
        Verdict::Sector(s) => {
            out += &format!(
                "  data      through the BTT {} ({} arena(s)): {} logical blocks of {} bytes = {} bytes (/dev/pmemNs)\n",
                s.version, s.btt.arena_count, s.btt.nlba, s.btt.sector_size, s.dev_size()
            );
            if s.btt.error_flag {
                out += "  an arena has IB_FLAG_ERROR: the kernel refuses writes to it\n";
            }
        }
        Verdict::Enabled(_) | Verdict::Raw { .. } => {
            if let (Some(r), Some(size)) = (v.data(), v.dev_size()) {
                out += &format!(
                    "  data      namespace bytes {:#x}..{:#x} ({} bytes; address {:#x})\n",
                    r.start,
                    r.end,
                    size,
                    ns.start.saturating_add(r.start)
                );
            }
        }
        Verdict::Rejected { .. } => {
            out += "  data      none: no device is created\n";
        }
        Verdict::SectorUnchecked { version, .. } => {
            out += &format!(
                "  data      through the BTT {version}, whose size and reads are not predicted\n"
            );
        }
    }
    if let Some(r) = verdict_reason(p) {
        if !matches!(v, Verdict::Raw { .. }) {
            out += &format!("  reason    {r}\n");
        }
    }
    for (name, a, d) in [
        ("btt", p.btt, Driver::Btt),
        ("pfn", p.pfn, Driver::Pfn),
        ("dax", p.dax, Driver::Dax),
    ] {
        let j = attempt_json(a, d, v);
        let line = format!(
            "  {name:<4}{:<8}{}",
            j.result,
            j.reason.map(|r| format!(": {r}")).unwrap_or_default()
        );
        out += line.trim_end();
        out += "\n";
    }
    out
}

/// Runs `probe`.
pub fn run(args: ProbeArgs, _ctx: &Ctx) -> Result<(), Failure> {
    let cmd = "probe";
    let profile = args.kernel.unwrap_or(Profile::NEWEST_X86_64);
    let target = nsarg::target(
        cmd,
        &args.target,
        args.namespace.as_deref(),
        &args.sysfs_root,
    )?;
    let mut image =
        Image::open(&target.path).map_err(|f| Failure::usage(format!("{cmd}: {}", f.message)))?;
    let sys = target.sys.as_ref();
    let claim = match args.claim {
        Some(c) => c.class(),
        None => nsarg::refine_btt(
            sys.and_then(|s| s.claim).unwrap_or(ClaimClass::None),
            &mut image,
            nsarg::parent_uuid(args.parent_uuid, sys),
        ),
    };
    let ns = probe::Namespace {
        start: args
            .ns_start
            .or_else(|| sys.map(|s| s.info.start))
            .unwrap_or(0),
        size: args
            .ns_size
            .or_else(|| sys.map(|s| s.info.size))
            .unwrap_or(image.len),
        uuid: nsarg::parent_uuid(args.parent_uuid, sys),
        claim,
        force_raw: sys.is_some_and(|s| s.force_raw),
    };
    let path = target.path.clone();
    let answer = probe::probe(&mut image, &ns, &profile).map_err(|e| match e {
        probe::ProbeError::Io {
            offset,
            len,
            source,
        } => Failure::usage(format!(
            "{cmd}: {path}: cannot read {len} bytes at {offset:#x}: {}",
            io_text(&source)
        )),
        other => Failure::usage(format!("{cmd}: {path}: {other}")),
    })?;
    if args.json {
        output::json(&ProbeJson::new(&answer, &ns, &profile))?;
    } else {
        output::text(&human(&path, &answer, &ns, &profile));
    }
    match answer.verdict {
        Verdict::Sector(_) | Verdict::Enabled(_) => Ok(()),
        Verdict::SectorUnchecked { why, .. } => Err(Failure::negative(format!(
            "{cmd}: {path}: sector, but the BTT breaks a rule the kernel does not check: {why}"
        ))),
        Verdict::Raw { .. } => Err(Failure::negative(format!(
            "{cmd}: {path}: raw: no driver claims the namespace ({})",
            verdict_reason(&answer).unwrap_or_default()
        ))),
        Verdict::Rejected { driver, stage, why } => Err(Failure::negative(format!(
            "{cmd}: {path}: rejected: {driver} refused at {}: {}",
            stage.name(),
            reason_line(&why)
        ))),
    }
}

fn reason_line(why: &Why) -> String {
    why.to_string()
}
