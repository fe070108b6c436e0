//! `infoblock plan` and `infoblock create`: the layout solver on the command line.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::FileExt as _;

use nvdimm_infoblock::layout::{
    min_size_for_usable, solve, Collisions, DataoffReading, Layout, LayoutRequest, Padding,
};
use nvdimm_infoblock::{DeviceKind, Mode, Platform, Profile, Uuid, Version};
use serde::Serialize;
use zerocopy::IntoBytes as _;

use crate::args::{parse_kernel, parse_platform, parse_size, parse_uuid};
use crate::image::io_text;
use crate::{output, Ctx, Failure};

const PLAN_AFTER_HELP: &str = "\
Sizes and addresses: decimal, 0x hex, or with a K/M/G/T suffix.
Exit codes: 0 the layout is valid; 1 the kernel would refuse it (one line on stderr says
why); 2 a usage error.";

const CREATE_AFTER_HELP: &str = "\
Writes the 4096-byte block at offset 4096 of PATH and changes no other byte.
Exit codes: 0 written; 1 the layout is invalid; 2 a usage or I/O error, a file shorter than
the namespace, or a valid block already there (without --force). One line on stderr.";

/// `--mode`: the device kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// nd_pfn: a /dev/pmemN block device with struct pages.
    #[default]
    Fsdax,
    /// nd_dax: a /dev/daxX.Y character device.
    Devdax,
}

/// `--map`: where the memmap lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MapArg {
    /// In the namespace, between the block and dataoff (mode 2, PMEM).
    #[default]
    Dev,
    /// In system RAM (mode 1, RAM).
    Mem,
}

/// The options `plan` and `create` share.
#[derive(Debug, clap::Args)]
pub struct PlanOpts {
    /// The namespace size (create: default the file size).
    #[arg(long, value_name = "S", value_parser = parse_size)]
    pub size: Option<u64>,
    /// The requested alignment (default: the profile's, the PMD size).
    #[arg(long, value_name = "A", value_parser = parse_size)]
    pub align: Option<u64>,
    /// fsdax or devdax.
    #[arg(long, value_name = "MODE", value_enum, default_value_t)]
    pub mode: KindArg,
    /// dev (memmap in the namespace) or mem (memmap in RAM).
    #[arg(long, value_name = "MAP", value_enum, default_value_t)]
    pub map: MapArg,
    /// The namespace's physical start.
    #[arg(long, value_name = "ADDR", value_parser = parse_size, default_value = "0")]
    pub ns_start: u64,
    /// The kernel: a release (6.12, 6.1, 5.4, 4.19, ...) or newest.
    #[arg(long, value_name = "PROFILE", value_parser = parse_kernel)]
    pub kernel: Option<Profile>,
    /// The platform: x86_64, ppc64-hash, ppc64-radix, arm64-4k, arm64-64k.
    #[arg(long, value_name = "NAME", value_parser = parse_platform)]
    pub platform: Option<Platform>,
    /// Find the smallest namespace size with at least N usable bytes.
    #[arg(long, value_name = "N", value_parser = parse_size, conflicts_with = "size")]
    pub usable: Option<u64>,
    /// With --usable: the size granule (default: the page size).
    #[arg(long, value_name = "G", value_parser = parse_size, requires = "usable")]
    pub granule: Option<u64>,
    /// The first section is shared with System RAM or another region (4.6-5.2 pad it).
    #[arg(long, conflicts_with_all = ["start_pad", "end_trunc"])]
    pub start_collides: bool,
    /// The last section is shared (4.6-5.2 truncate it).
    #[arg(long, conflicts_with_all = ["start_pad", "end_trunc"])]
    pub end_collides: bool,
    /// Explicit start_pad (instead of the era's policy).
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub start_pad: Option<u64>,
    /// Explicit end_trunc (instead of the era's policy).
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub end_trunc: Option<u64>,
    /// Print a JSON object (keys in docs/cli.md).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `infoblock plan`.
#[derive(Debug, clap::Args)]
#[command(after_help = PLAN_AFTER_HELP)]
pub struct PlanArgs {
    /// The layout options.
    #[command(flatten)]
    pub plan: PlanOpts,
}

/// Arguments of `infoblock create`.
#[derive(Debug, clap::Args)]
#[command(after_help = CREATE_AFTER_HELP)]
pub struct CreateArgs {
    /// The namespace image or device to write the block into (at offset 4096).
    #[arg(value_name = "PATH")]
    pub path: String,
    /// The layout options.
    #[command(flatten)]
    pub plan: PlanOpts,
    /// The block's uuid (default: a random v4 uuid).
    #[arg(long, value_name = "U", value_parser = parse_uuid)]
    pub uuid: Option<Uuid>,
    /// The parent (namespace) uuid (default: nil, label-less).
    #[arg(long, value_name = "U", value_parser = parse_uuid)]
    pub parent_uuid: Option<Uuid>,
    /// The version to write, 1.0 .. 1.4 (default: the kernel profile's).
    #[arg(long, value_name = "V", value_parser = parse_version)]
    pub version: Option<Version>,
    /// Overwrite valid metadata already there (a pfn/dax block at 4096, a BTT at 0 or 4096).
    #[arg(long)]
    pub force: bool,
}

impl PlanOpts {
    fn request(&self) -> LayoutRequest {
        let kind = match self.mode {
            KindArg::Fsdax => DeviceKind::Fsdax,
            KindArg::Devdax => DeviceKind::Devdax,
        };
        let mode = match self.map {
            MapArg::Dev => Mode::PMEM,
            MapArg::Mem => Mode::RAM,
        };
        let mut profile = self.kernel.unwrap_or(Profile::NEWEST_X86_64);
        if let Some(platform) = self.platform {
            profile = Profile::new(profile.era, platform);
        }
        let padding = match (self.start_pad, self.end_trunc) {
            (None, None) => Padding::Policy(Collisions {
                start: self.start_collides,
                end: self.end_collides,
            }),
            (sp, et) => Padding::Explicit {
                start_pad: sp.unwrap_or(0),
                end_trunc: et.unwrap_or(0),
            },
        };
        LayoutRequest::new(profile, self.size.unwrap_or(0), kind, mode)
            .with_start(self.ns_start)
            .with_align(self.align)
            .with_padding(padding)
    }
}

/// Solves the plan: the layout for `--size` (or `default_size`), or the smallest for
/// `--usable`. A refusal is exit 1 with the solver's reason.
fn solve_plan(plan: &PlanOpts, default_size: Option<u64>) -> Result<Layout, Failure> {
    let request = plan.request();
    if plan.granule.is_some() && plan.usable.is_none() {
        // clap's `requires` is not checked when --size (which conflicts with --usable) is given.
        return Err(Failure::usage("plan: --granule only applies with --usable"));
    }
    if let Some(n) = plan.usable {
        let granule = plan.granule.unwrap_or(request.profile.platform.page_size);
        return min_size_for_usable(&request, n, granule).map_err(|e| {
            Failure::negative(format!("no namespace size gives {n} usable bytes: {e}"))
        });
    }
    let size = plan
        .size
        .or(default_size)
        .ok_or_else(|| Failure::usage("plan: --size is required (or --usable N)"))?;
    solve(&request.with_size(size)).map_err(|e| Failure::negative(format!("invalid layout: {e}")))
}

/// `infoblock plan`: prints the layout the kernel would write, and what it would expose.
pub fn plan(args: PlanArgs, _ctx: &Ctx) -> Result<(), Failure> {
    let plan = args.plan;
    let layout = solve_plan(&plan, None)?;
    if plan.json {
        output::json(&PlanJson {
            layout: LayoutJson::new(&layout),
            usable_requested: plan.usable,
        })?;
    } else {
        let mut out = String::new();
        if let Some(n) = plan.usable {
            out += &format!(
                "{:<18}{} ({}) for at least {} usable bytes\n",
                "ns_size needed",
                hex(layout.request.ns_size),
                human(layout.request.ns_size),
                n
            );
        }
        out += &layout_text(&layout);
        output::text(&out);
    }
    Ok(())
}

fn parse_version(text: &str) -> Result<Version, String> {
    let err = || format!("invalid version {text:?} (expected 1.0 .. 1.4)");
    let (major, minor) = text.split_once('.').ok_or_else(err)?;
    let major: u16 = major.parse().map_err(|_| err())?;
    let minor: u16 = minor.parse().map_err(|_| err())?;
    Ok(Version::new(major, minor))
}

fn random_uuid() -> Result<Uuid, Failure> {
    let mut b = [0u8; 16];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| Failure::usage(format!("cannot read /dev/urandom: {}", io_text(&e))))?;
    // RFC 4122 version 4, variant 1 (as libuuid's uuid_generate_random).
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Ok(Uuid(b))
}

/// `infoblock create PATH`: writes the block at offset 4096 of PATH, and nothing else.
pub fn create(args: CreateArgs, _ctx: &Ctx) -> Result<(), Failure> {
    let path = &args.path;
    let parent = args.parent_uuid.unwrap_or(Uuid::NIL);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Failure::usage(format!("cannot open {path}: {}", io_text(&e))))?;
    // The size by seeking to the end: right for regular files and block devices (whose
    // metadata length is 0).
    let file_len = (&file)
        .seek(SeekFrom::End(0))
        .map_err(|e| Failure::usage(format!("cannot find the size of {path}: {}", io_text(&e))))?;
    let layout = solve_plan(&args.plan, Some(file_len))?;
    let ns_size = layout.request.ns_size;
    if file_len < ns_size {
        return Err(Failure::usage(format!(
            "{path} is {file_len} bytes, shorter than the namespace size {ns_size}"
        )));
    }
    // A pfn/dax block, or a BTT at either placement: refused without --force.
    if !args.force {
        if let Some(what) = crate::image::existing_metadata(&file) {
            return Err(Failure::usage(format!(
                "{path} already holds {what} (use --force to overwrite)"
            )));
        }
    }
    let uuid = match args.uuid {
        Some(u) => u,
        None => random_uuid()?,
    };
    let info = match args.version {
        None => layout.to_info(uuid, parent),
        Some(v) => layout
            .to_info_with_version(uuid, parent, v)
            .map_err(|e| Failure::negative(format!("invalid layout: {e}")))?,
    };
    let block = info
        .to_block()
        .map_err(|e| Failure::usage(format!("cannot build the block: {e}")))?;
    file.write_all_at(block.as_bytes(), 4096)
        .and_then(|()| file.sync_data())
        .map_err(|e| Failure::usage(format!("cannot write {path}: {}", io_text(&e))))?;
    if args.plan.json {
        let mut layout_json = LayoutJson::new(&layout);
        // The version written may be older than the layout's (--version).
        layout_json.version = info.version.to_string();
        output::json(&CreateJson {
            layout: layout_json,
            path: path.clone(),
            uuid: uuid.to_string(),
            parent_uuid: parent.to_string(),
            checksum: format!("{:#018x}", block.checksum.get()),
        })?;
    } else {
        let mut out = format!(
            "wrote {} v{} info-block at offset 4096 of {path}\n",
            info.kind.signature().as_str().unwrap_or("?"),
            info.version
        );
        out += &format!("{:<18}{uuid}\n", "uuid");
        out += &format!("{:<18}{parent}\n", "parent_uuid");
        out += &layout_text(&layout);
        output::text(&out);
    }
    Ok(())
}

fn hex(n: u64) -> String {
    format!("{n:#x}")
}

/// `n` in the largest binary unit that divides it, else with one decimal.
fn human(n: u64) -> String {
    const UNITS: [(&str, u32); 5] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10), ("B", 0)];
    for (name, shift) in UNITS {
        let unit = 1u64 << shift;
        if n >= unit && n % unit == 0 {
            return format!("{} {name}", n >> shift);
        }
    }
    for (name, shift) in UNITS {
        let unit = 1u64 << shift;
        if n >= unit {
            return format!("{:.1} {name}", n as f64 / unit as f64);
        }
    }
    format!("{n} B")
}

fn requested_align(l: &Layout) -> u64 {
    l.request.align.unwrap_or(l.request.profile.default_align())
}

/// The layout as aligned text lines.
pub fn layout_text(l: &Layout) -> String {
    let r = &l.request;
    let p = &r.profile;
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<18}{v}\n"));
    line(
        "kernel",
        format!(
            "{} ({}: {}-byte pages, {}-byte struct page)",
            p.name(),
            p.platform.name,
            p.platform.page_size,
            l.page_struct_size
        ),
    );
    line(
        "namespace",
        format!(
            "start {} size {} ({})",
            hex(r.ns_start),
            hex(r.ns_size),
            human(r.ns_size)
        ),
    );
    line(
        "device",
        format!(
            "{}, map={} (mode {})",
            r.kind,
            r.mode.map_name().unwrap_or("?"),
            r.mode.0
        ),
    );
    line(
        "align",
        format!(
            "{} requested, {} stored, {} effective",
            hex(requested_align(l)),
            hex(u64::from(l.align)),
            hex(l.effective_align)
        ),
    );
    line("version", l.version.to_string());
    line(
        "dataoff",
        format!("{} ({})", hex(l.dataoff), human(l.dataoff)),
    );
    line(
        "npfns",
        format!(
            "{} ({}, unit {} bytes)",
            l.npfns,
            hex(l.npfns),
            l.npfns_unit()
        ),
    );
    line("start_pad", hex(u64::from(l.start_pad)));
    line("end_trunc", hex(u64::from(l.end_trunc)));
    line("page_size", l.page_size.to_string());
    line("page_struct_size", l.page_struct_size.to_string());
    match l.memmap {
        Some(m) => line(
            "memmap",
            format!(
                "{}..{} ({} needed of {})",
                hex(m.start),
                hex(m.end),
                hex(l.memmap_bytes),
                hex(m.len())
            ),
        ),
        None => line("memmap", "in system RAM (map=mem)".to_owned()),
    }
    line(
        "data",
        format!("{}..{}", hex(l.data.start), hex(l.data.end)),
    );
    line(
        "dev_size",
        format!("{} ({})", l.dev_size, human(l.dev_size)),
    );
    line("dev_resource", hex(l.dev_resource));
    match l.blk_bytes {
        Some(b) => line("blk_bytes", format!("{b} ({} sectors)", b / 512)),
        None => line("blk_bytes", "none (devdax has no block device)".to_owned()),
    }
    if l.start_pad == 0 {
        line(
            "dataoff readings",
            "start_pad 0: legacy and 2019 agree".to_owned(),
        );
    } else {
        let reading = |name: &str, rd: &nvdimm_infoblock::layout::DataoffReading| {
            format!(
                "{name}: data at {} (map_base {}, map_offset {})",
                hex(rd.data_start),
                hex(rd.map_base),
                rd.map_offset
                    .map_or("none (before map_base)".to_owned(), hex)
            )
        };
        line("dataoff readings", reading("legacy", &l.legacy));
        line("", reading("2019 v1.3", &l.v2019));
        match l.legacy.dax_misdirect() {
            Some(0) | None => line("", "legacy DAX path maps the right pfn".to_owned()),
            Some(n) => line(
                "",
                format!(
                    "legacy fsdax DAX path maps {} ({n} bytes) below the block-I/O data",
                    hex(n)
                ),
            ),
        }
        if l.legacy.dax_outside_map() {
            line(
                "",
                "  ...before map_base, where no struct page exists: the kernel disables DAX"
                    .to_owned(),
            );
        }
    }
    if l.below_claim_minimum {
        line(
            "note",
            format!(
                "below the {} the kernel needs to create a pfn/dax device",
                human(p.min_namespace_size())
            ),
        );
    }
    out
}

/// The layout as a JSON object (keys documented in docs/cli.md, in this order).
#[derive(Debug, Serialize)]
pub struct LayoutJson {
    profile: String,
    platform: String,
    ns_start: u64,
    ns_size: u64,
    kind: String,
    map: Option<String>,
    mode: u32,
    requested_align: u64,
    align: u32,
    effective_align: u64,
    version: String,
    dataoff: u64,
    npfns: u64,
    npfns_unit: u64,
    start_pad: u32,
    end_trunc: u32,
    page_size: u32,
    page_struct_size: u16,
    memmap_start: Option<u64>,
    memmap_end: Option<u64>,
    memmap_bytes: u64,
    data_start: u64,
    data_end: u64,
    dev_size: u64,
    dev_resource: u64,
    blk_bytes: Option<u64>,
    below_claim_minimum: bool,
    legacy_dataoff_base: u64,
    legacy_data_start: u64,
    legacy_map_base: u64,
    legacy_map_offset: Option<u64>,
    legacy_dax_start: Option<u64>,
    legacy_dax_misdirect: Option<u64>,
    legacy_dax_outside_map: bool,
    v2019_dataoff_base: u64,
    v2019_data_start: u64,
    v2019_map_base: u64,
    v2019_map_offset: Option<u64>,
    v2019_dax_start: Option<u64>,
    v2019_dax_misdirect: Option<u64>,
    v2019_dax_outside_map: bool,
}

impl LayoutJson {
    /// The object of `l`.
    pub fn new(l: &Layout) -> Self {
        let r = &l.request;
        let (lg, v9): (&DataoffReading, &DataoffReading) = (&l.legacy, &l.v2019);
        Self {
            profile: r.profile.name().to_string(),
            platform: r.profile.platform.name.to_owned(),
            ns_start: r.ns_start,
            ns_size: r.ns_size,
            kind: r.kind.name().to_owned(),
            map: r.mode.map_name().map(str::to_owned),
            mode: r.mode.0,
            requested_align: requested_align(l),
            align: l.align,
            effective_align: l.effective_align,
            version: l.version.to_string(),
            dataoff: l.dataoff,
            npfns: l.npfns,
            npfns_unit: l.npfns_unit(),
            start_pad: l.start_pad,
            end_trunc: l.end_trunc,
            page_size: l.page_size,
            page_struct_size: l.page_struct_size,
            memmap_start: l.memmap.map(|m| m.start),
            memmap_end: l.memmap.map(|m| m.end),
            memmap_bytes: l.memmap_bytes,
            data_start: l.data.start,
            data_end: l.data.end,
            dev_size: l.dev_size,
            dev_resource: l.dev_resource,
            blk_bytes: l.blk_bytes,
            below_claim_minimum: l.below_claim_minimum,
            legacy_dataoff_base: lg.dataoff_base,
            legacy_data_start: lg.data_start,
            legacy_map_base: lg.map_base,
            legacy_map_offset: lg.map_offset,
            legacy_dax_start: lg.dax_start,
            legacy_dax_misdirect: lg.dax_misdirect(),
            legacy_dax_outside_map: lg.dax_outside_map(),
            v2019_dataoff_base: v9.dataoff_base,
            v2019_data_start: v9.data_start,
            v2019_map_base: v9.map_base,
            v2019_map_offset: v9.map_offset,
            v2019_dax_start: v9.dax_start,
            v2019_dax_misdirect: v9.dax_misdirect(),
            v2019_dax_outside_map: v9.dax_outside_map(),
        }
    }
}

/// `plan --json`: the layout, and `usable_requested` with `--usable`.
#[derive(Debug, Serialize)]
struct PlanJson {
    #[serde(flatten)]
    layout: LayoutJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    usable_requested: Option<u64>,
}

/// `create --json`: the layout, then what was written.
#[derive(Debug, Serialize)]
struct CreateJson {
    #[serde(flatten)]
    layout: LayoutJson,
    path: String,
    uuid: String,
    parent_uuid: String,
    checksum: String,
}
