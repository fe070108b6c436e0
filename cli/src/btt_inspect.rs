//! `infoblock inspect` of a BTT: the info block (every field, kernel names) and every arena
//! of the chain (walked through `nextoff`).
//!
//! When the first arena's primary info block is bad (the kernel then ignores the BTT), the
//! arenas are still listed: the arena's backup info block is looked for where
//! [`backup_candidates`] says (the rule `btt check` and its repair use) and the chain is
//! walked on from it ([`InfoWalk`]), each arena read from a backup marked as such. The BTT
//! stays unusable (exit 1), as it is to the kernel.

use nvdimm_infoblock::btt::arena::{check_info, read_info, Arena, Btt, BttVersion, Namespace};
use nvdimm_infoblock::btt::check::{backup_candidates, Finding, InfoVerdict, InfoWalk};
use nvdimm_infoblock::btt::error::Invalid;
use nvdimm_infoblock::btt::raw::{BttSb, LogLayout, SIGNATURE};
use nvdimm_infoblock::Signature;
use serde::Serialize;
use zerocopy::IntoBytes as _;

use crate::btt::invalid_token;
use crate::image::Image;

/// A BTT found by [`detect`].
#[derive(Debug)]
pub struct BttReport {
    /// The path.
    pub name: String,
    /// The JSON object.
    pub json: BttJson,
    /// The text.
    pub text: String,
    /// Why the BTT is unusable (the first arena's info block fails, or an arena cannot be
    /// read), `None` when every arena is found.
    pub unusable: Option<String>,
}

/// Whether `path` holds a BTT info-block signature at byte 4096 (BTT 1.1) or at byte 0
/// (BTT 2.0), and if so its report. `None` for anything else (the pfn/dax report follows).
pub fn detect(path: &str) -> Option<BttReport> {
    if path == "-" {
        return None;
    }
    let mut image = Image::open(path).ok()?;
    let mut placements = Vec::new();
    for v in [BttVersion::V1_1, BttVersion::V2_0] {
        if let Ok(sb) = read_info(&mut image, v.info_offset()) {
            if sb.signature == SIGNATURE {
                placements.push((v, sb));
            }
        }
    }
    // Prefer the placement whose version the block states.
    let pick = placements
        .iter()
        .position(|(v, sb)| sb.version_major.get() == v.major())
        .unwrap_or(0);
    if let Some((version, sb)) = placements.get(pick) {
        return Some(report(path, &mut image, *version, sb));
    }
    // No signature where a first info block goes: a BTT whose primary's signature is broken
    // is still recognised by a valid backup of its first arena (of the version of the
    // placement). Not when a pfn/dax block is at 4096: the namespace was reconfigured (the
    // pfn/dax block overwrote a BTT 1.1 primary; a stale backup can remain) and the pfn/dax
    // report follows, as the kernel's probe goes on to nd_pfn_probe/nd_dax_probe.
    let mut sig = [0u8; 16];
    if nvdimm_infoblock::io::ReadAt::read_at(&mut image, 4096, &mut sig).is_ok()
        && [Signature::PFN, Signature::DAX].contains(&Signature(sig))
    {
        return None;
    }
    for v in [BttVersion::V1_1, BttVersion::V2_0] {
        let primary = read_info(&mut image, v.info_offset()).ok()?;
        if find_backup(&mut image, v, &primary).is_some() {
            return Some(report(path, &mut image, v, &primary));
        }
    }
    None
}

/// The first arena's backup info block when its primary (`primary`, at the placement of
/// `version`) is bad: the first candidate of [`backup_candidates`] that holds a block with
/// the BTT signature, a correct checksum and the version of the placement. Its
/// `parent_uuid` stands for the namespace's uuid (an image has no label to say it), and
/// [`InfoWalk`] checks it again.
fn find_backup(image: &mut Image, version: BttVersion, primary: &BttSb) -> Option<(u64, BttSb)> {
    let ns = Namespace {
        size: image.len,
        uuid: nvdimm_infoblock::Uuid::NIL,
        version,
    };
    let remaining = ns.check_size().ok()?;
    backup_candidates(version.info_offset(), remaining, primary.info2off.get())
        .into_iter()
        .flatten()
        .find_map(|off| {
            let sb = read_info(&mut *image, off).ok()?;
            let ok = sb.has_signature()
                && sb.verify_checksum().is_ok()
                && sb.version_major.get() == version.major()
                && sb.version_minor.get() == version.minor();
            ok.then_some((off, sb))
        })
}

/// `struct btt_sb`'s fields in their order (drivers/nvdimm/btt.h), then what is derived.
#[derive(Debug, Serialize)]
struct InfoJson {
    signature: String,
    uuid: String,
    parent_uuid: String,
    flags: u32,
    version_major: u16,
    version_minor: u16,
    external_lbasize: u32,
    external_nlba: u32,
    internal_lbasize: u32,
    internal_nlba: u32,
    nfree: u32,
    infosize: u32,
    nextoff: u64,
    dataoff: u64,
    mapoff: u64,
    logoff: u64,
    info2off: u64,
    padding_zero: bool,
    checksum: u64,
    checksum_ok: bool,
}

impl InfoJson {
    fn new(sb: &BttSb) -> Self {
        Self {
            signature: String::from_utf8_lossy(&sb.signature)
                .trim_end_matches('\0')
                .to_owned(),
            uuid: sb.uuid.to_string(),
            parent_uuid: sb.parent_uuid.to_string(),
            flags: sb.flags.get(),
            version_major: sb.version_major.get(),
            version_minor: sb.version_minor.get(),
            external_lbasize: sb.external_lbasize.get(),
            external_nlba: sb.external_nlba.get(),
            internal_lbasize: sb.internal_lbasize.get(),
            internal_nlba: sb.internal_nlba.get(),
            nfree: sb.nfree.get(),
            infosize: sb.infosize.get(),
            nextoff: sb.nextoff.get(),
            dataoff: sb.dataoff.get(),
            mapoff: sb.mapoff.get(),
            logoff: sb.logoff.get(),
            info2off: sb.info2off.get(),
            padding_zero: sb.padding.iter().all(|&b| b == 0),
            checksum: sb.checksum.get(),
            checksum_ok: sb.verify_checksum().is_ok(),
        }
    }

    /// Text lines: name, value, meaning.
    fn lines(&self) -> Vec<(&'static str, String, &'static str)> {
        vec![
            (
                "signature",
                self.signature.clone(),
                "BTT_ARENA_INFO: a BTT arena's info block",
            ),
            (
                "uuid",
                self.uuid.clone(),
                "the BTT's uuid (the btt device's uuid attribute)",
            ),
            (
                "parent_uuid",
                self.parent_uuid.clone(),
                "the namespace's uuid; nil on label-less namespaces",
            ),
            (
                "flags",
                format!("{:#010x}", self.flags),
                "bit 0 IB_FLAG_ERROR: the arena refuses writes",
            ),
            (
                "version_major",
                self.version_major.to_string(),
                "1 (Linux, at 4096) or 2 (UEFI 2.7, at 0)",
            ),
            ("version_minor", self.version_minor.to_string(), ""),
            (
                "external_lbasize",
                self.external_lbasize.to_string(),
                "the sector_size chosen (bytes per block, with metadata)",
            ),
            (
                "external_nlba",
                self.external_nlba.to_string(),
                "blocks this arena offers",
            ),
            (
                "internal_lbasize",
                self.internal_lbasize.to_string(),
                "bytes per data block (external_lbasize rounded up to 64)",
            ),
            (
                "internal_nlba",
                self.internal_nlba.to_string(),
                "data blocks (external_nlba + nfree)",
            ),
            ("nfree", self.nfree.to_string(), "free blocks = flog lanes"),
            (
                "infosize",
                self.infosize.to_string(),
                "bytes of the info block",
            ),
            (
                "nextoff",
                format!("{:#x}", self.nextoff),
                "next arena's info block, relative to this one (0: last arena)",
            ),
            (
                "dataoff",
                format!("{:#x}", self.dataoff),
                "data blocks, relative to the info block",
            ),
            (
                "mapoff",
                format!("{:#x}", self.mapoff),
                "map (4 bytes per block), relative",
            ),
            (
                "logoff",
                format!("{:#x}", self.logoff),
                "flog (64 bytes per lane), relative",
            ),
            (
                "info2off",
                format!("{:#x}", self.info2off),
                "backup info block, relative",
            ),
            (
                "padding",
                if self.padding_zero {
                    "all zero".to_owned()
                } else {
                    "NOT all zero".to_owned()
                },
                "bytes 120..4088",
            ),
            (
                "checksum",
                format!(
                    "{:#018x} ({})",
                    self.checksum,
                    if self.checksum_ok { "ok" } else { "MISMATCH" }
                ),
                "nd_fletcher64 of the block with this field 0",
            ),
        ]
    }
}

/// One arena of the chain (namespace offsets).
#[derive(Debug, Serialize)]
struct ArenaJson {
    index: u32,
    infooff: u64,
    size: u64,
    external_lba_start: u64,
    external_nlba: u32,
    internal_nlba: u32,
    external_lbasize: u32,
    internal_lbasize: u32,
    nfree: u32,
    dataoff: u64,
    mapoff: u64,
    logoff: u64,
    info2off: u64,
    nextoff: u64,
    log_layout: String,
    info2_equal: Option<bool>,
    error_flag: bool,
    /// Namespace offset of the backup info block the arena was read from because its
    /// primary is bad; `None` when read from the primary.
    from_backup: Option<u64>,
}

/// Why the first arena's primary info block is bad, and the backup the arenas were read
/// from (`inspect --json`: `primary_invalid`).
#[derive(Debug, Serialize)]
struct PrimaryInvalidJson {
    /// The reason's token (`checksum_mismatch`, `bad_signature`, ...).
    reason: &'static str,
    /// The reason, in words.
    error: String,
    /// Namespace offset of the valid backup of the first arena; `None` when none was found
    /// (no arena is listed then).
    backup_offset: Option<u64>,
    /// The backup's fields.
    backup_info: Option<InfoJson>,
}

/// The JSON object of a BTT in `inspect --json`.
#[derive(Debug, Serialize)]
pub struct BttJson {
    file: String,
    signature: &'static str,
    btt_version: String,
    info_offset: u64,
    info: InfoJson,
    arenas: Vec<ArenaJson>,
    usable: bool,
    error: Option<String>,
    /// Set when the first arena's primary info block is bad and the arenas were walked from
    /// its backup.
    primary_invalid: Option<PrimaryInvalidJson>,
}

fn report(path: &str, image: &mut Image, version: BttVersion, sb: &BttSb) -> BttReport {
    let uuid = sb.parent_uuid;
    let info_ok = check_info(sb, 0, &uuid);
    let ns = Namespace {
        size: image.len,
        uuid,
        version,
    };
    let mut text = format!(
        "{path}: BTT {version} info block at byte {} (image of {} bytes)\n",
        version.info_offset(),
        image.len
    );
    let fields = InfoJson::new(sb);
    field_lines(&mut text, &fields);
    let mut arenas = Vec::new();
    let mut unusable = info_ok
        .and_then(|()| ns.check_size().map(|_| ()))
        .err()
        .map(|e| format!("{} ({e})", invalid_token(&e)));
    let mut primary_invalid = None;
    if unusable.is_none() {
        let btt = Btt {
            namespace: ns,
            uuid: sb.uuid,
            arena_count: 0,
            nlba: 0,
            external_lbasize: sb.external_lbasize.get(),
            sector_size: 512,
            error_flag: false,
        };
        let found: Vec<_> = btt.arenas(&mut *image).collect();
        for arena in found {
            let a = match arena {
                Ok(a) => a,
                Err(e) => {
                    unusable = Some(e.to_string());
                    break;
                }
            };
            let (obj, line) = arena_entry(image, &a, None);
            text += &line;
            arenas.push(obj);
        }
    } else if let (Err(reason), Ok(_)) = (info_ok, ns.check_size()) {
        primary_invalid = Some(walk_from_backup(
            image,
            version,
            sb,
            &reason,
            &mut text,
            &mut arenas,
        ));
    }
    match &unusable {
        None => {
            text += "  result: usable BTT (whether a kernel attaches it: infoblock check / probe)\n"
        }
        Some(u) if primary_invalid.is_some() => {
            text += &format!(
                "  result: unusable: {u}; the kernel ignores a BTT whose first info block is bad \
                 (the arenas above were walked from the backup; `infoblock btt check --repair` \
                 restores the primary from it)\n"
            );
        }
        Some(u) => text += &format!("  result: unusable: {u}\n"),
    }
    let json = BttJson {
        file: path.to_owned(),
        signature: "BTT_ARENA_INFO",
        btt_version: version.to_string(),
        info_offset: version.info_offset(),
        info: fields,
        arenas,
        usable: unusable.is_none(),
        error: unusable
            .as_ref()
            .map(|u| format!("BTT info block unusable: {u}")),
        primary_invalid,
    };
    BttReport {
        name: path.to_owned(),
        json,
        text,
        unusable,
    }
}

/// The info block's lines (name, value, meaning) appended to `text`.
fn field_lines(text: &mut String, fields: &InfoJson) {
    for (k, v, meaning) in fields.lines() {
        let line = format!("  {k:<18}{v:<40}{meaning}");
        *text += line.trim_end();
        *text += "\n";
    }
}

/// One arena's JSON object and text lines; `from_backup`: the offset of the backup info
/// block it was read from.
fn arena_entry(image: &mut Image, a: &Arena, from_backup: Option<u64>) -> (ArenaJson, String) {
    let primary = read_info(&mut *image, a.infooff).ok();
    let info2 = read_info(&mut *image, a.info2off).ok();
    let info2_equal = match (primary, info2) {
        (Some(p), Some(b)) => Some(p.as_bytes() == b.as_bytes()),
        _ => None,
    };
    let log = match a.log_layout(&mut *image) {
        Ok(LogLayout::Slots01) => "slots 0,1 (Linux 4.15+)".to_owned(),
        Ok(LogLayout::Slots02) => "slots 0,2 (before Linux 4.15)".to_owned(),
        Err(e) => format!("invalid: {e}"),
    };
    let obj = ArenaJson {
        index: a.index,
        infooff: a.infooff,
        size: a.size,
        external_lba_start: a.external_lba_start,
        external_nlba: a.external_nlba,
        internal_nlba: a.internal_nlba,
        external_lbasize: a.external_lbasize,
        internal_lbasize: a.internal_lbasize,
        nfree: a.nfree,
        dataoff: a.dataoff,
        mapoff: a.mapoff,
        logoff: a.logoff,
        info2off: a.info2off,
        nextoff: a.nextoff,
        log_layout: log.clone(),
        info2_equal,
        error_flag: a.has_error_flag(),
        from_backup,
    };
    let source = match from_backup {
        Some(off) => format!(" (FROM THE BACKUP at {off:#x}: the primary is bad)"),
        None => String::new(),
    };
    let line = format!(
        "  arena {}{source}: info {:#x}, size {:#x}, LBAs {}..+{} (internal {}, lbasize {}/{}), \
         nfree {}\n    data {:#x}, map {:#x}, flog {:#x} ({log}), info2 {:#x} ({}), \
         error flag {}\n",
        a.index,
        a.infooff,
        a.size,
        a.external_lba_start,
        a.external_nlba,
        a.internal_nlba,
        a.external_lbasize,
        a.internal_lbasize,
        a.nfree,
        a.dataoff,
        a.mapoff,
        a.logoff,
        a.info2off,
        match info2_equal {
            Some(true) => "equal to the primary",
            Some(false) => "differs from the primary",
            None => "unreadable",
        },
        if a.has_error_flag() { "set" } else { "clear" },
    );
    (obj, line)
}

/// The first arena's primary info block `primary` is bad for `reason`: says so, finds the
/// arena's backup ([`find_backup`]) and walks the chain from it ([`InfoWalk`]: an arena whose
/// primary is bad is read from its backup), appending each arena to `text` and `arenas`.
fn walk_from_backup(
    image: &mut Image,
    version: BttVersion,
    primary: &BttSb,
    reason: &Invalid,
    text: &mut String,
    arenas: &mut Vec<ArenaJson>,
) -> PrimaryInvalidJson {
    let token = invalid_token(reason);
    *text += &format!("  primary info block INVALID: {token} ({reason})\n");
    let Some((offset, backup)) = find_backup(image, version, primary) else {
        *text += "  no valid backup info block either (where the kernel puts it or where the \
                  primary's info2off points): the arenas cannot be found\n";
        return PrimaryInvalidJson {
            reason: token,
            error: reason.to_string(),
            backup_offset: None,
            backup_info: None,
        };
    };
    *text += &format!(
        "  backup info block of the first arena at byte {offset:#x}: valid; the arenas are \
         walked from it:\n"
    );
    let backup_info = InfoJson::new(&backup);
    field_lines(text, &backup_info);
    let ns = Namespace {
        size: image.len,
        uuid: backup.parent_uuid,
        version,
    };
    // Why the walk stops early, if it does (a later arena with neither copy valid, a
    // geometry the kernel refuses); bad copies of later arenas show in their lines.
    let mut stops: Vec<Finding> = Vec::new();
    let mut sink = |f: Finding| {
        if matches!(f, Finding::InfoUnrecoverable { .. } | Finding::Invalid(_)) {
            stops.push(f);
        }
    };
    let mut walk = InfoWalk::new(&ns, &mut sink);
    let mut io_error = None;
    loop {
        match walk.next(&mut *image, &mut sink) {
            Ok(Some(found)) => {
                let from = match found.verdict {
                    InfoVerdict::RestorePrimary { from } => Some(from),
                    _ => None,
                };
                let (obj, line) = arena_entry(image, &found.arena, from);
                *text += &line;
                arenas.push(obj);
            }
            Ok(None) => break,
            Err(e) => {
                io_error = Some(e.to_string());
                break;
            }
        }
    }
    for f in stops {
        *text += &format!("  the walk stops: {f}\n");
    }
    if let Some(e) = io_error {
        *text += &format!("  the walk stops: {e}\n");
    }
    PrimaryInvalidJson {
        reason: token,
        error: reason.to_string(),
        backup_offset: Some(offset),
        backup_info: Some(backup_info),
    }
}
