//! The namespace a BTT or probe command works on: its bytes (an image, or the raw
//! namespace's device node) and what the kernel knows about it (start, size, uuid, claim
//! class, `force_raw`), from flags or from sysfs.
//!
//! Attributes read besides those of [`crate::sysfs`] (drivers/nvdimm/namespace_devs.c):
//! `holder_class` (`""` for no claim class, `btt` for both the BTT and the BTT2 class,
//! `pfn`, `dax`, `<unknown>`) and `force_raw` (`0`/`1`). The label-less `nd_namespace_io`
//! has no `holder_class` file: claim class none.

use std::fs;
use std::path::Path;

use nvdimm_infoblock::btt::arena::BttVersion;
use nvdimm_infoblock::probe::ClaimClass;
use nvdimm_infoblock::Uuid;

use crate::sysfs::{self, NamespaceInfo, View};
use crate::Failure;

/// `--claim`: the claim class of the namespace's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ClaimArg {
    /// No claim class (label-less namespaces, v1.1 labels without the BTT flag).
    None,
    /// BTT v1.1 (info block at byte 4096).
    Btt,
    /// BTT v2.0 (info block at byte 0; v1.2 labels with the BTT abstraction GUID).
    Btt2,
    /// fsdax only.
    Pfn,
    /// devdax only.
    Dax,
}

impl ClaimArg {
    /// The library's class.
    pub fn class(self) -> ClaimClass {
        match self {
            Self::None => ClaimClass::None,
            Self::Btt => ClaimClass::Btt,
            Self::Btt2 => ClaimClass::Btt2,
            Self::Pfn => ClaimClass::Pfn,
            Self::Dax => ClaimClass::Dax,
        }
    }
}

/// `--version` of a BTT: `1.1` or `2.0`.
pub fn parse_btt_version(text: &str) -> Result<BttVersion, String> {
    match text {
        "1.1" => Ok(BttVersion::V1_1),
        "2.0" | "2" => Ok(BttVersion::V2_0),
        _ => Err(format!(
            "unknown BTT version {text:?} (expected 1.1 or 2.0)"
        )),
    }
}

/// The BTT placement of a claim class: 2.0 for `btt2`, 1.1 otherwise.
pub fn version_of(claim: ClaimClass) -> BttVersion {
    if claim == ClaimClass::Btt2 {
        BttVersion::V2_0
    } else {
        BttVersion::V1_1
    }
}

/// A namespace read from sysfs, with the attributes the probe needs.
#[derive(Clone, Debug)]
pub struct SysNamespace {
    /// start, size, uuid, mode, holder.
    pub info: NamespaceInfo,
    /// `holder_class`, `None` when the file is absent (label-less) or empty.
    pub claim: Option<ClaimClass>,
    /// `force_raw`.
    pub force_raw: bool,
}

/// Reads `name` (e.g. `namespace0.0`) with its claim class and `force_raw`.
pub fn read_sys_namespace(root: &Path, name: &str) -> Result<SysNamespace, String> {
    let name = name.rsplit('/').next().unwrap_or(name);
    let info = sysfs::read_namespace(root, name)?;
    let dir = root.join("bus/nd/devices").join(name);
    let read = |attr: &str| -> Option<String> {
        fs::read_to_string(dir.join(attr))
            .ok()
            .map(|t| t.trim().to_owned())
    };
    let claim = match read("holder_class").as_deref() {
        None | Some("") => None,
        Some("btt") => Some(ClaimClass::Btt),
        Some("pfn") => Some(ClaimClass::Pfn),
        Some("dax") => Some(ClaimClass::Dax),
        // "unknown": sysfs does not show the GUID, which no driver claims anyway.
        Some(_) => Some(ClaimClass::Unknown(nvdimm_infoblock::label::Guid::NULL)),
    };
    let force_raw = read("force_raw").is_some_and(|t| t == "1" || t == "Y");
    Ok(SysNamespace {
        info,
        claim,
        force_raw,
    })
}

/// The `/dev/pmemN` whose disk is namespace `name` itself (a raw namespace), found through
/// `ROOT/block/pmem*/device` links.
pub fn raw_node(root: &Path, name: &str) -> Option<String> {
    let entries = fs::read_dir(root.join("block")).ok()?;
    let mut found: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let disk = e.file_name().to_str()?.to_owned();
            if !disk.starts_with("pmem") || disk.ends_with('s') {
                return None;
            }
            let target = fs::read_link(e.path().join("device")).ok()?;
            (target.file_name()?.to_str()? == name).then(|| format!("/dev/{disk}"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// What a command works on: the path to read, and the namespace from sysfs if any.
#[derive(Clone, Debug)]
pub struct Target {
    /// The file or device node to read (offset 0 = the namespace's first byte).
    pub path: String,
    /// The namespace from sysfs (`--namespace`, a raw `/dev/pmemN`, or `namespaceX.Y`).
    pub sys: Option<SysNamespace>,
}

/// Works out what to read for `path` (an image, a device node or `namespaceX.Y`) and
/// `--namespace`, under the sysfs tree `root`. `cmd` prefixes the messages.
pub fn target(
    cmd: &str,
    path: &str,
    namespace: Option<&str>,
    root: &Path,
) -> Result<Target, Failure> {
    let fail = |m: String| Failure::usage(format!("{cmd}: {m}"));
    // namespaceX.Y (not a file here): the namespace's raw bytes are its raw /dev/pmemN.
    if path.starts_with("namespace") && !Path::new(path).exists() {
        let sys = read_sys_namespace(root, path).map_err(fail)?;
        let name = sys.info.name.clone();
        if let Some(holder) = &sys.info.holder {
            return Err(fail(format!(
                "{name} is claimed by {holder} (mode {}): no device node shows its raw bytes; \
                 pass an image of {name} (taken while it was raw) as PATH with --namespace {name}",
                sys.info.mode
            )));
        }
        let node = raw_node(root, &name).ok_or_else(|| {
            fail(format!(
                "{name} has no /dev/pmemN in {} (the namespace is not enabled raw); pass an \
                 image of {name} as PATH with --namespace {name}",
                root.join("block").display()
            ))
        })?;
        return Ok(Target {
            path: node,
            sys: Some(sys),
        });
    }
    let device = sysfs::resolve_device(root, path).map_err(fail)?;
    if let Some(dev) = &device {
        if dev.view != View::Namespace {
            return Err(fail(format!(
                "{path} shows {}, not {ns}: the namespace's own bytes are not visible through \
                 it; pass an image of {ns} as PATH with --namespace {ns}",
                dev.view.describe(),
                ns = dev.namespace.name
            )));
        }
    }
    let sys = match (namespace, device) {
        (Some(name), dev) => {
            let sys = read_sys_namespace(root, name).map_err(fail)?;
            if let Some(dev) = dev {
                if dev.namespace.name != sys.info.name {
                    return Err(fail(format!(
                        "{path} belongs to {}, not to {}",
                        dev.namespace.name, sys.info.name
                    )));
                }
            }
            Some(sys)
        }
        (None, Some(dev)) => Some(read_sys_namespace(root, &dev.namespace.name).map_err(fail)?),
        (None, None) => None,
    };
    Ok(Target {
        path: path.to_owned(),
        sys,
    })
}

/// The uuid a block's `parent_uuid` must equal: `--parent-uuid`, else the sysfs uuid, else
/// nil.
pub fn parent_uuid(flag: Option<Uuid>, sys: Option<&SysNamespace>) -> Uuid {
    flag.or_else(|| sys.and_then(|s| s.info.uuid))
        .unwrap_or(Uuid::NIL)
}

/// The claim class sysfs calls `btt`, made exact: `holder_class` shows "btt" for both BTT
/// classes (`holder_class_show` in namespace_devs.c), so on a labelled namespace (`uuid` not
/// nil) an info block at byte 0 that the kernel accepts as BTT 2.0 means BTT2; otherwise the
/// class stays BTT (v1.1 at byte 4096). Every other class is returned as it is.
pub fn refine_btt<R: nvdimm_infoblock::io::ReadAt + ?Sized>(
    claim: ClaimClass,
    image: &mut R,
    uuid: Uuid,
) -> ClaimClass {
    use nvdimm_infoblock::btt::arena::{check_info, read_info};
    if claim != ClaimClass::Btt || uuid.is_nil() {
        return claim;
    }
    let v2 = BttVersion::V2_0;
    match read_info(image, v2.info_offset()) {
        Ok(sb)
            if check_info(&sb, 0, &uuid).is_ok()
                && (sb.version_major.get(), sb.version_minor.get()) == (v2.major(), v2.minor()) =>
        {
            ClaimClass::Btt2
        }
        _ => claim,
    }
}
