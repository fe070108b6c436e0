//! `infoblock plan` and `infoblock create`: the layout solver on the command line.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::FileExt as _;
use std::process::ExitCode;

use nvdimm_infoblock::layout::{
    min_size_for_usable, solve, Collisions, Layout, LayoutRequest, Padding,
};
use nvdimm_infoblock::{parse, DeviceKind, Mode, ParseOptions, Platform, Profile, Uuid, Version};
use zerocopy::IntoBytes as _;

use crate::args::{parse_kernel, parse_size, parse_uuid, Args, UsageError};
use crate::json::Json;
use crate::CmdResult;

/// The options `plan` and `create` share.
struct Plan {
    request: LayoutRequest,
    size: Option<u64>,
    usable: Option<u64>,
    granule: Option<u64>,
    json: bool,
}

fn usage(text: impl Into<String>) -> UsageError {
    UsageError(text.into())
}

fn parse_platform(name: &str) -> Result<Platform, UsageError> {
    Platform::ALL
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Platform::ALL.iter().map(|p| p.name).collect();
            usage(format!(
                "unknown platform {name:?} (expected one of {})",
                names.join(", ")
            ))
        })
}

fn parse_plan(args: &mut Args) -> Result<Plan, UsageError> {
    let size = args.value("--size")?.map(|s| parse_size(&s)).transpose()?;
    let align = args.value("--align")?.map(|s| parse_size(&s)).transpose()?;
    let kind = match args.value("--mode")?.as_deref() {
        None | Some("fsdax") => DeviceKind::Fsdax,
        Some("devdax") => DeviceKind::Devdax,
        Some(other) => return Err(usage(format!("--mode {other:?}: expected fsdax or devdax"))),
    };
    let mode = match args.value("--map")?.as_deref() {
        None | Some("dev") => Mode::PMEM,
        Some("mem") => Mode::RAM,
        Some(other) => return Err(usage(format!("--map {other:?}: expected dev or mem"))),
    };
    let ns_start = args
        .value("--ns-start")?
        .map(|s| parse_size(&s))
        .transpose()?
        .unwrap_or(0);
    let mut profile = match args.value("--kernel")? {
        Some(k) => parse_kernel(&k)?,
        None => Profile::NEWEST_X86_64,
    };
    if let Some(name) = args.value("--platform")? {
        profile = Profile::new(profile.era, parse_platform(&name)?);
    }
    let collisions = Collisions {
        start: args.flag("--start-collides"),
        end: args.flag("--end-collides"),
    };
    let start_pad = args
        .value("--start-pad")?
        .map(|s| parse_size(&s))
        .transpose()?;
    let end_trunc = args
        .value("--end-trunc")?
        .map(|s| parse_size(&s))
        .transpose()?;
    let padding = match (start_pad, end_trunc) {
        (None, None) => Padding::Policy(collisions),
        (sp, et) => {
            if collisions != Collisions::default() {
                return Err(usage(
                    "--start-pad/--end-trunc and --start-collides/--end-collides exclude each other",
                ));
            }
            Padding::Explicit {
                start_pad: sp.unwrap_or(0),
                end_trunc: et.unwrap_or(0),
            }
        }
    };
    let usable = args
        .value("--usable")?
        .map(|s| parse_size(&s))
        .transpose()?;
    let granule = args
        .value("--granule")?
        .map(|s| parse_size(&s))
        .transpose()?;
    if usable.is_some() && size.is_some() {
        return Err(usage("give either --size or --usable, not both"));
    }
    if granule.is_some() && usable.is_none() {
        return Err(usage("--granule only applies with --usable"));
    }
    let json = args.flag("--json");
    let request = LayoutRequest::new(profile, size.unwrap_or(0), kind, mode)
        .with_start(ns_start)
        .with_align(align)
        .with_padding(padding);
    Ok(Plan {
        request,
        size,
        usable,
        granule,
        json,
    })
}

/// Solves the plan: the layout for `--size` (or `default_size`), or the smallest for
/// `--usable`. `Err(Ok(code))` is a refusal already reported.
fn solve_plan(
    plan: &Plan,
    default_size: Option<u64>,
) -> Result<Result<Layout, String>, UsageError> {
    if let Some(n) = plan.usable {
        let granule = plan
            .granule
            .unwrap_or(plan.request.profile.platform.page_size);
        return Ok(min_size_for_usable(&plan.request, n, granule)
            .map_err(|e| format!("no namespace size gives {n} usable bytes: {e}")));
    }
    let size = plan
        .size
        .or(default_size)
        .ok_or_else(|| usage("--size is required (or --usable N)"))?;
    let request = plan.request.with_size(size);
    Ok(solve(&request).map_err(|e| format!("invalid layout: {e}")))
}

/// `infoblock plan`: prints the layout the kernel would write, and what it would expose.
pub fn plan(mut args: Args) -> CmdResult {
    let plan = parse_plan(&mut args)?;
    let rest = args.finish()?;
    if !rest.is_empty() {
        return Err(usage(format!(
            "plan takes no positional argument ({rest:?})"
        )));
    }
    let layout = match solve_plan(&plan, None)? {
        Ok(layout) => layout,
        Err(message) => {
            eprintln!("infoblock: {message}");
            return Ok(ExitCode::from(1));
        }
    };
    if plan.json {
        let mut j = layout_json(&layout);
        if let Some(n) = plan.usable {
            j.set("usable_requested", n);
        }
        println!("{}", j.pretty());
    } else {
        if let Some(n) = plan.usable {
            println!(
                "{:<18}{} ({}) for at least {} usable bytes",
                "ns_size needed",
                hex(layout.request.ns_size),
                human(layout.request.ns_size),
                n
            );
        }
        print!("{}", layout_text(&layout));
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_version(text: &str) -> Result<Version, UsageError> {
    let err = || usage(format!("invalid --version {text:?} (expected 1.0 .. 1.4)"));
    let (major, minor) = text.split_once('.').ok_or_else(err)?;
    let major: u16 = major.parse().map_err(|_| err())?;
    let minor: u16 = minor.parse().map_err(|_| err())?;
    Ok(Version::new(major, minor))
}

fn random_uuid() -> Result<Uuid, UsageError> {
    let mut b = [0u8; 16];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| usage(format!("cannot read /dev/urandom: {e}")))?;
    // RFC 4122 version 4, variant 1 (as libuuid's uuid_generate_random).
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Ok(Uuid(b))
}

/// `infoblock create PATH`: writes the block at offset 4096 of PATH, and nothing else.
pub fn create(mut args: Args) -> CmdResult {
    let plan = parse_plan(&mut args)?;
    let uuid = args.value("--uuid")?.map(|u| parse_uuid(&u)).transpose()?;
    let parent = args
        .value("--parent-uuid")?
        .map(|u| parse_uuid(&u))
        .transpose()?
        .unwrap_or(Uuid::NIL);
    let version = args
        .value("--version")?
        .map(|v| parse_version(&v))
        .transpose()?;
    let force = args.flag("--force");
    let rest = args.finish()?;
    let [path] = rest.as_slice() else {
        return Err(usage("create needs exactly one PATH"));
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| usage(format!("cannot open {path}: {e}")))?;
    // The size by seeking to the end: right for regular files and block devices (whose
    // metadata length is 0).
    let file_len = (&file)
        .seek(SeekFrom::End(0))
        .map_err(|e| usage(format!("cannot find the size of {path}: {e}")))?;
    let layout = match solve_plan(&plan, Some(file_len))? {
        Ok(layout) => layout,
        Err(message) => {
            eprintln!("infoblock: {message}");
            return Ok(ExitCode::from(1));
        }
    };
    let ns_size = layout.request.ns_size;
    if file_len < ns_size {
        return Err(usage(format!(
            "{path} is {file_len} bytes, shorter than the namespace size {ns_size}"
        )));
    }
    let mut existing = [0u8; 4096];
    if file.read_exact_at(&mut existing, 4096).is_ok()
        && parse(&existing, &ParseOptions::DEFAULT).is_ok()
        && !force
    {
        let sig = String::from_utf8_lossy(&existing[..15]).into_owned();
        return Err(usage(format!(
            "{path} already holds a valid {sig} info-block at 4096 (use --force to overwrite)"
        )));
    }
    let uuid = match uuid {
        Some(u) => u,
        None => random_uuid()?,
    };
    let info = match version {
        None => layout.to_info(uuid, parent),
        Some(v) => match layout.to_info_with_version(uuid, parent, v) {
            Ok(info) => info,
            Err(e) => {
                eprintln!("infoblock: invalid layout: {e}");
                return Ok(ExitCode::from(1));
            }
        },
    };
    let block = info
        .to_block()
        .map_err(|e| usage(format!("cannot build the block: {e}")))?;
    file.write_all_at(block.as_bytes(), 4096)
        .and_then(|()| file.sync_data())
        .map_err(|e| usage(format!("cannot write {path}: {e}")))?;
    if plan.json {
        let mut j = layout_json(&layout);
        // The version written may be older than the layout's (--version).
        if let Json::Obj(fields) = &mut j {
            for (key, value) in fields.iter_mut() {
                if key == "version" {
                    *value = Json::from(info.version.to_string());
                }
            }
        }
        j.set("path", path.as_str())
            .set("uuid", uuid.to_string())
            .set("parent_uuid", parent.to_string())
            .set("checksum", format!("{:#018x}", block.checksum.get()));
        println!("{}", j.pretty());
    } else {
        println!(
            "wrote {} v{} info-block at offset 4096 of {path}",
            info.kind.signature().as_str().unwrap_or("?"),
            info.version
        );
        println!("{:<18}{uuid}", "uuid");
        println!("{:<18}{parent}", "parent_uuid");
        print!("{}", layout_text(&layout));
    }
    Ok(ExitCode::SUCCESS)
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

/// The layout as a JSON object (keys documented in docs/cli.md).
pub fn layout_json(l: &Layout) -> Json {
    let r = &l.request;
    let reading = |j: &mut Json, prefix: &str, rd: &nvdimm_infoblock::layout::DataoffReading| {
        j.set(&format!("{prefix}_dataoff_base"), rd.dataoff_base)
            .set(&format!("{prefix}_data_start"), rd.data_start)
            .set(&format!("{prefix}_map_base"), rd.map_base)
            .set(&format!("{prefix}_map_offset"), rd.map_offset)
            .set(&format!("{prefix}_dax_start"), rd.dax_start)
            .set(&format!("{prefix}_dax_misdirect"), rd.dax_misdirect())
            .set(&format!("{prefix}_dax_outside_map"), rd.dax_outside_map());
    };
    let mut j = Json::obj()
        .with("profile", r.profile.name().to_string())
        .with("platform", r.profile.platform.name)
        .with("ns_start", r.ns_start)
        .with("ns_size", r.ns_size)
        .with("kind", r.kind.name())
        .with("map", r.mode.map_name())
        .with("mode", r.mode.0)
        .with("requested_align", requested_align(l))
        .with("align", l.align)
        .with("effective_align", l.effective_align)
        .with("version", l.version.to_string())
        .with("dataoff", l.dataoff)
        .with("npfns", l.npfns)
        .with("npfns_unit", l.npfns_unit())
        .with("start_pad", l.start_pad)
        .with("end_trunc", l.end_trunc)
        .with("page_size", l.page_size)
        .with("page_struct_size", l.page_struct_size)
        .with("memmap_start", l.memmap.map(|m| m.start))
        .with("memmap_end", l.memmap.map(|m| m.end))
        .with("memmap_bytes", l.memmap_bytes)
        .with("data_start", l.data.start)
        .with("data_end", l.data.end)
        .with("dev_size", l.dev_size)
        .with("dev_resource", l.dev_resource)
        .with("blk_bytes", l.blk_bytes)
        .with("below_claim_minimum", l.below_claim_minimum);
    reading(&mut j, "legacy", &l.legacy);
    reading(&mut j, "v2019", &l.v2019);
    j
}
