//! What the kernel will make of a namespace, and where its data is.
//!
//! A pmem namespace is offered to its drivers in one order (`nd_pmem_probe` in
//! `drivers/nvdimm/pmem.c`): the BTT first, then pfn (fsdax), then dax (devdax); the first
//! that claims the namespace keeps it, and a namespace nobody claims is used raw. Before
//! that, `nvdimm_namespace_common_probe` refuses a namespace smaller than
//! `ND_MIN_NAMESPACE_SIZE` (`PAGE_SIZE` from Linux 4.15, 4 MiB before:
//! [`Profile::nd_min_namespace_size`]): no device at all ([`Driver::Pmem`],
//! [`MinSize::Namespace`]). [`probe`] asks the same questions in the same order, of the bytes
//! a [`ReadAt`] gives:
//!
//! ```text
//!  0. size  ──── < ND_MIN_NAMESPACE_SIZE → rejected (no device)          nvdimm_namespace_common_probe
//!  claim class:  none ────────────── btt ── btt2 ──── pfn ──── dax ──── (other)
//!                 │                   │      │         │        │
//!  1. BTT   ──── v1.1 at 4096 ─────── v1.1   v2.0 at 0 │        │       nd_btt_probe
//!                 │  (sb valid → claimed: sector, or rejected at enable)
//!  2. pfn   ──── PFN block at 4096 ───────────────── yes        │       nd_pfn_probe
//!                 │  (0 → fsdax or rejected at enable; -EOPNOTSUPP → rejected)
//!  3. dax   ──── DAX block at 4096 ────────────────────────── yes       nd_dax_probe
//!                 │
//!  4. raw   ──── the whole namespace is the data                        pmem_attach_disk
//! ```
//!
//! The answer, a [`Probe`], says what each driver did ([`Probe::btt`], [`Probe::pfn`],
//! [`Probe::dax`]) and the [`Verdict`], with the data's place: a byte range of the namespace
//! for fsdax, devdax and raw, and "through the BTT" (its logical size and sector size) for
//! sector mode.
//!
//! # Example
//! ```
//! use nvdimm_infoblock::probe::{probe, ClaimClass, Namespace, Verdict};
//! use nvdimm_infoblock::Profile;
//!
//! // 32 MiB of zeros: no BTT, no pfn or dax block, so the kernel uses it raw.
//! let image = vec![0u8; 32 << 20];
//! let ns = Namespace::labelless(0x1_0000_0000, 32 << 20);
//! let answer = probe(&mut &image[..], &ns, &Profile::NEWEST_X86_64)?;
//! assert_eq!(answer.verdict.name(), "raw");
//! assert_eq!(answer.verdict.data(), Some(0..32 << 20));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # Sources
//! `pmem.c` (`nd_pmem_probe`), `btt_devs.c` (`nd_btt_probe`, `__nd_btt_probe`,
//! `nd_btt_version`, `nd_btt_arena_is_valid`), `btt.c` (`nvdimm_namespace_attach_btt`,
//! `discover_arenas`), `pfn_devs.c` (`nd_pfn_probe`, `nd_pfn_validate`), `dax_devs.c`
//! (`nd_dax_probe`). No kernel code is copied.

use core::fmt;
use core::ops::Range;

use crate::btt::arena::{check_info, read_info, Btt, BttVersion};
use crate::btt::error::{Error as BttError, Invalid};
use crate::btt::raw::ARENA_MIN_SIZE;
use crate::io::ReadAt;
use crate::pfn::profile::Profile;
use crate::pfn::raw::{InfoBlock, Signature};
use crate::pfn::validate::{self, Enabled, NamespaceError, Outcome, ProbePath, Reason, Stage};
use crate::pfn::DeviceKind;
use crate::uuid::Uuid;

/// Where the pfn and dax info-block lives: byte 4096 of the namespace (`SZ_4K` in
/// `nd_pfn_validate`).
const PFN_INFO_OFFSET: u64 = 4096;

/// The claim class of a namespace (`ndns->claim_class`): which driver its label reserves it
/// for, from a v1.2 label's `abstraction_guid`; [`ClaimClass::None`] for label-less
/// namespaces. The same type as the label storage area's.
pub use crate::label::ClaimClass;

/// `nd_btt_probe` tries this class (none, btt, btt2).
const fn allows_btt(claim: ClaimClass) -> bool {
    matches!(claim, ClaimClass::None | ClaimClass::Btt | ClaimClass::Btt2)
}

/// `nd_pfn_probe` tries this class (none, pfn).
const fn allows_pfn(claim: ClaimClass) -> bool {
    matches!(claim, ClaimClass::None | ClaimClass::Pfn)
}

/// `nd_dax_probe` tries this class (none, dax).
const fn allows_dax(claim: ClaimClass) -> bool {
    matches!(claim, ClaimClass::None | ClaimClass::Dax)
}

/// The namespace as the kernel knows it before any driver claims it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Namespace {
    /// Physical start address (`res.start`; sysfs `resource`).
    pub start: u64,
    /// Size in bytes (sysfs `size`).
    pub size: u64,
    /// Its uuid (from its label), [`Uuid::NIL`] for a label-less namespace. A block's
    /// non-zero `parent_uuid` must equal it.
    pub uuid: Uuid,
    /// The claim class from its label.
    pub claim: ClaimClass,
    /// `force_raw` (sysfs): no driver but raw pmem is tried.
    pub force_raw: bool,
}

impl Namespace {
    /// A label-less namespace (`nd_namespace_io`): uuid nil, claim class none.
    #[must_use]
    pub const fn labelless(start: u64, size: u64) -> Self {
        Self {
            start,
            size,
            uuid: Uuid::NIL,
            claim: ClaimClass::None,
            force_raw: false,
        }
    }
}

/// The drivers in the order the kernel offers them the namespace, after `nd_pmem` itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Driver {
    /// `nd_pmem`, the namespace's own driver, before it offers the namespace to the others
    /// (`nvdimm_namespace_common_probe`).
    Pmem,
    /// `nd_btt` (sector mode).
    Btt,
    /// `nd_pfn` (fsdax).
    Pfn,
    /// `nd_dax` (devdax).
    Dax,
}

impl Driver {
    /// `"pmem"`, `"btt"`, `"pfn"` or `"dax"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pmem => "pmem",
            Self::Btt => "btt",
            Self::Pfn => "pfn",
            Self::Dax => "dax",
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a driver's probe found nothing to claim, or why it failed after claiming.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Why {
    /// `force_raw` is set: the driver is not asked.
    ForceRaw,
    /// The namespace's claim class reserves it for another driver.
    ClaimClass(ClaimClass),
    /// An earlier driver claimed or refused the namespace, so this one was not asked.
    Earlier(Driver),
    /// The info block at 4096 is the other driver's (its signature names pfn or dax).
    OtherDriver(Driver),
    /// The BTT's reason (`nd_btt_probe` found no valid info block, or attaching it failed).
    Btt(Invalid),
    /// The pfn/dax validator's reason.
    Pfn(Reason),
    /// The namespace is smaller than `min`: what `rule` needs.
    TooSmall {
        /// Namespace size.
        size: u64,
        /// Bytes needed.
        min: u64,
        /// Which minimum.
        rule: MinSize,
    },
}

/// The minimum a [`Why::TooSmall`] namespace falls short of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MinSize {
    /// `ND_MIN_NAMESPACE_SIZE` ([`Profile::nd_min_namespace_size`]): `nd_pmem_probe` →
    /// `nvdimm_namespace_common_probe` refuses the namespace (`-ENODEV`); no device, not even
    /// raw.
    Namespace,
    /// The pfn/dax info block at 4096 (8192 bytes): the driver's read of it fails and the
    /// driver passes.
    InfoBlock,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ForceRaw => f.write_str("force_raw is set"),
            Self::ClaimClass(c) => write!(f, "the namespace's claim class is {c}"),
            Self::Earlier(d) => write!(f, "{d} claimed or refused the namespace first"),
            Self::OtherDriver(d) => write!(f, "the info block is {d}'s, not this driver's"),
            Self::Btt(i) => i.fmt(f),
            Self::Pfn(r) => r.fmt(f),
            Self::TooSmall {
                size,
                min,
                rule: MinSize::InfoBlock,
            } => write!(f, "namespace of {size} bytes; the info block needs {min}"),
            Self::TooSmall {
                size,
                min,
                rule: MinSize::Namespace,
            } => write!(
                f,
                "namespace of {size} bytes is under ND_MIN_NAMESPACE_SIZE ({min}): \
                 nvdimm_namespace_common_probe refuses it (-ENODEV)"
            ),
        }
    }
}

/// What one driver's probe did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attempt {
    /// The driver did not run or found nothing it recognised; the next one is asked.
    Passed(Why),
    /// The driver claimed the namespace (its device was created, enabled or not).
    Claimed,
    /// The driver refused the namespace outright: no device at all, and no later driver is
    /// asked (`-EOPNOTSUPP` from `nd_pfn_validate`, kernels 5.4+).
    Refused,
}

/// The BTT the kernel enables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sector {
    /// 1.1 (at byte 4096) or 2.0 (at byte 0).
    pub version: BttVersion,
    /// What `discover_arenas` found: arenas, nlba, sector size, uuid.
    pub btt: Btt,
}

impl Sector {
    /// Bytes of the `/dev/pmemNs` block device (its sysfs `size` × 512).
    #[must_use]
    pub fn dev_size(&self) -> u64 {
        self.btt.capacity()
    }
}

/// What the kernel makes of the namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Sector mode: `/dev/pmemNs`; the data is reached through the BTT.
    Sector(Sector),
    /// Sector mode too: the kernel attaches this BTT, but its metadata breaks a rule the
    /// kernel does not check (`why`, where [`Invalid::kernel_refuses`] is false: nlba or
    /// lbasize inconsistent, areas overlapping, ...), so what the device exposes is not
    /// predicted and reads through it may return other blocks' data. `btt check` reports it.
    SectorUnchecked {
        /// The placement that was valid.
        version: BttVersion,
        /// The rule the metadata breaks.
        why: Invalid,
    },
    /// fsdax (`/dev/pmemN`) or devdax (`/dev/daxN.M`), with the sizes sysfs reports.
    Enabled(Enabled),
    /// Nobody claimed the namespace: `/dev/pmemN` is the whole of it.
    Raw {
        /// Namespace size.
        size: u64,
    },
    /// A driver claimed or refused the namespace and no usable device results.
    Rejected {
        /// The driver.
        driver: Driver,
        /// At its probe (`Validate`) or while enabling its device (`Enable`).
        stage: Stage,
        /// Why.
        why: Why,
    },
}

impl Verdict {
    /// `"sector"`, `"fsdax"`, `"devdax"`, `"raw"` or `"rejected"` (the kernel rig's words).
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Sector(_) | Self::SectorUnchecked { .. } => "sector",
            Self::Enabled(e) => e.kind.name(),
            Self::Raw { .. } => "raw",
            Self::Rejected { .. } => "rejected",
        }
    }

    /// The bytes of the namespace that hold the user's data, for fsdax, devdax and raw
    /// (`dev_resource - start .. + dev_size` and the whole namespace; empty when the kernel's
    /// size wrapped). `None` for sector mode
    /// (the data is scattered: read it through [`crate::btt::read`]) and for a rejection.
    #[must_use]
    pub fn data(&self) -> Option<Range<u64>> {
        match self {
            Self::Enabled(e) => {
                let start = u64::from(e.start_pad).checked_add(e.dataoff)?;
                // A size that wrapped (Linux 6.1 accepts pads + dataoff past the namespace and
                // reports size - pads - dataoff modulo 2^64; its block device reads nothing)
                // gives an empty range at the first data byte.
                Some(start..start.checked_add(e.dev_size).unwrap_or(start))
            }
            Self::Raw { size } => Some(0..*size),
            Self::Sector(_) | Self::SectorUnchecked { .. } | Self::Rejected { .. } => None,
        }
    }

    /// Bytes of the device the user sees: the BTT's logical size, the pfn/dax device's size,
    /// the whole namespace for raw; `None` when rejected.
    #[must_use]
    pub fn dev_size(&self) -> Option<u64> {
        match self {
            Self::Sector(s) => Some(s.dev_size()),
            Self::Enabled(e) => Some(e.dev_size),
            Self::Raw { size } => Some(*size),
            Self::SectorUnchecked { .. } | Self::Rejected { .. } => None,
        }
    }
}

/// The answer of [`probe`]: the verdict and what each driver did on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Probe {
    /// What the kernel makes of the namespace.
    pub verdict: Verdict,
    /// `nd_btt_probe`.
    pub btt: Attempt,
    /// `nd_pfn_probe`.
    pub pfn: Attempt,
    /// `nd_dax_probe`.
    pub dax: Attempt,
}

/// [`probe`] could not read the namespace, or was given one that cannot exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProbeError<E> {
    /// The read of `len` bytes at namespace offset `offset` failed.
    Io {
        /// Namespace offset.
        offset: u64,
        /// Bytes.
        len: usize,
        /// The reader's error.
        source: E,
    },
    /// The namespace's start and size cannot exist.
    Namespace(NamespaceError),
}

impl<E: fmt::Display> fmt::Display for ProbeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                offset,
                len,
                source,
            } => write!(
                f,
                "reading {len} bytes at namespace offset {offset:#x} failed: {source}"
            ),
            Self::Namespace(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for ProbeError<E> {}

/// Predicts what a kernel of `profile` does with the namespace `ns` whose bytes `reader`
/// gives (offset 0 = the namespace's first byte), in `nd_pmem_probe`'s order.
///
/// Reads the BTT info block (and, when it is valid, every arena's info block and flog), then
/// the pfn/dax info block at byte 4096. Nothing is written.
///
/// # Errors
/// [`ProbeError::Io`] when a read the kernel would make fails (the reader's error; a
/// namespace smaller than a block is not an error: the kernel's read fails and the driver
/// passes), [`ProbeError::Namespace`] for an impossible namespace (size 0, end past 2^64).
pub fn probe<R: ReadAt + ?Sized>(
    reader: &mut R,
    ns: &Namespace,
    profile: &Profile,
) -> Result<Probe, ProbeError<R::Error>> {
    let Some(last) = ns.size.checked_sub(1) else {
        return Err(ProbeError::Namespace(NamespaceError::Empty {
            start: ns.start,
        }));
    };
    if ns.start.checked_add(last).is_none() {
        return Err(ProbeError::Namespace(NamespaceError::EndOverflow {
            start: ns.start,
            size: ns.size,
        }));
    }
    // nd_pmem_probe → nvdimm_namespace_common_probe: a namespace under ND_MIN_NAMESPACE_SIZE
    // is refused (-ENODEV) before force_raw, the claim class or any driver is looked at.
    let min = profile.nd_min_namespace_size();
    if ns.size < min {
        let later = Attempt::Passed(Why::Earlier(Driver::Pmem));
        return Ok(Probe {
            verdict: Verdict::Rejected {
                driver: Driver::Pmem,
                stage: Stage::Validate,
                why: Why::TooSmall {
                    size: ns.size,
                    min,
                    rule: MinSize::Namespace,
                },
            },
            btt: later,
            pfn: later,
            dax: later,
        });
    }
    let btt_why = match probe_btt(reader, ns)? {
        Ok(verdict) => {
            let later = Attempt::Passed(Why::Earlier(Driver::Btt));
            return Ok(Probe {
                verdict,
                btt: Attempt::Claimed,
                pfn: later,
                dax: later,
            });
        }
        Err(why) => why,
    };
    let btt = Attempt::Passed(btt_why);
    let (pfn, dax, verdict) = probe_pfn_dax(reader, ns, profile)?;
    Ok(match verdict {
        Some(verdict) => Probe {
            verdict,
            btt,
            pfn,
            dax,
        },
        None => raw(ns, btt, pfn, dax),
    })
}

/// The raw verdict after every driver passed.
fn raw(ns: &Namespace, btt: Attempt, pfn: Attempt, dax: Attempt) -> Probe {
    Probe {
        verdict: Verdict::Raw { size: ns.size },
        btt,
        pfn,
        dax,
    }
}

/// `nd_btt_probe` (`force_raw`, claim class, `__nd_btt_probe`'s 16 MiB minimum,
/// `nd_btt_version`'s placement, `nd_btt_arena_is_valid`, the exact version), then, once the
/// BTT device is registered, `nvdimm_namespace_attach_btt` and `discover_arenas`.
///
/// `Ok(Ok(verdict))` when the BTT claimed the namespace, `Ok(Err(why))` when it passed.
fn probe_btt<R: ReadAt + ?Sized>(
    reader: &mut R,
    ns: &Namespace,
) -> Result<Result<Verdict, Why>, ProbeError<R::Error>> {
    if ns.force_raw {
        return Ok(Err(Why::ForceRaw));
    }
    if !allows_btt(ns.claim) {
        return Ok(Err(Why::ClaimClass(ns.claim)));
    }
    if ns.size < ARENA_MIN_SIZE {
        // __nd_btt_probe: capacity < SZ_16M → -ENXIO, before the info block is read.
        return Ok(Err(Why::Btt(Invalid::NamespaceTooSmall {
            size: ns.size,
            min: ARENA_MIN_SIZE,
        })));
    }
    let version = if ns.claim == ClaimClass::Btt2 {
        BttVersion::V2_0
    } else {
        BttVersion::V1_1
    };
    let sb = match read_info(reader, version.info_offset()) {
        Ok(sb) => sb,
        Err(e) => return Ok(Err(Why::Btt(invalid(e)?))),
    };
    if let Err(why) = check_info(&sb, 0, &ns.uuid) {
        return Ok(Err(Why::Btt(why)));
    }
    let (major, minor) = (sb.version_major.get(), sb.version_minor.get());
    if (major, minor) != (version.major(), version.minor()) {
        return Ok(Err(Why::Btt(Invalid::VersionMismatch {
            major,
            minor,
            expected: version,
        })));
    }
    // The BTT device now holds the namespace; what follows decides whether /dev/pmemNs
    // appears.
    let namespace = crate::btt::arena::Namespace {
        size: ns.size,
        uuid: ns.uuid,
        version,
    };
    Ok(Ok(match Btt::open(reader, &namespace) {
        Ok(btt) => Verdict::Sector(Sector { version, btt }),
        Err(e) => match invalid(e)? {
            // discover_arenas, log_set_indices and the attach size checks fail the device.
            why if why.kernel_refuses() => Verdict::Rejected {
                driver: Driver::Btt,
                stage: Stage::Enable,
                why: Why::Btt(why),
            },
            // A rule only this crate checks: the kernel attaches the BTT regardless.
            why => Verdict::SectorUnchecked { version, why },
        },
    }))
}

/// A BTT error's reason, or the reader's failure as the probe's error.
fn invalid<E>(e: BttError<E>) -> Result<Invalid, ProbeError<E>> {
    match e {
        BttError::Invalid(why) => Ok(why),
        BttError::Io {
            offset,
            len,
            source,
        } => Err(ProbeError::Io {
            offset,
            len,
            source,
        }),
    }
}

/// `nd_pfn_probe` then `nd_dax_probe`: both read the block at 4096 and run
/// `nd_pfn_validate` with their own signature, which [`validate::check`] does at once (it
/// reads the signature to know which of the two the block is for).
fn probe_pfn_dax<R: ReadAt + ?Sized>(
    reader: &mut R,
    ns: &Namespace,
    profile: &Profile,
) -> Result<(Attempt, Attempt, Option<Verdict>), ProbeError<R::Error>> {
    let pfn_ok = !ns.force_raw && allows_pfn(ns.claim);
    let dax_ok = !ns.force_raw && allows_dax(ns.claim);
    let not_asked = if ns.force_raw {
        Why::ForceRaw
    } else {
        Why::ClaimClass(ns.claim)
    };
    if !pfn_ok && !dax_ok {
        return Ok((Attempt::Passed(not_asked), Attempt::Passed(not_asked), None));
    }
    let need = PFN_INFO_OFFSET.saturating_add(4096);
    if ns.size < need {
        let why = Why::TooSmall {
            size: ns.size,
            min: need,
            rule: MinSize::InfoBlock,
        };
        let pass = |ok| Attempt::Passed(if ok { why } else { not_asked });
        return Ok((pass(pfn_ok), pass(dax_ok), None));
    }
    let mut block = InfoBlock::zeroed();
    reader
        .read_at(
            PFN_INFO_OFFSET,
            zerocopy::IntoBytes::as_mut_bytes(&mut block),
        )
        .map_err(|source| ProbeError::Io {
            offset: PFN_INFO_OFFSET,
            len: 4096,
            source,
        })?;
    let vns = validate::Namespace {
        start: ns.start,
        size: ns.size,
        uuid: ns.uuid,
    };
    let outcome =
        validate::check(&block, &vns, &ProbePath::Probe, profile).map_err(ProbeError::Namespace)?;
    // Which driver the block is for: its signature. Neither: both pass on the signature.
    let owner = if block.signature == Signature::PFN {
        Some(DeviceKind::Fsdax)
    } else if block.signature == Signature::DAX {
        Some(DeviceKind::Devdax)
    } else {
        None
    };
    let (asked, other_ok) = match owner {
        Some(DeviceKind::Fsdax) => (pfn_ok, dax_ok),
        Some(DeviceKind::Devdax) => (dax_ok, pfn_ok),
        None => (false, false),
    };
    let sig_mismatch = Why::Pfn(Reason::BadSignature {
        found: block.signature,
    });
    let owner_driver = match owner {
        Some(DeviceKind::Devdax) => Driver::Dax,
        _ => Driver::Pfn,
    };
    let other = Attempt::Passed(if other_ok {
        Why::OtherDriver(owner_driver)
    } else {
        not_asked
    });
    let (mine, verdict) = if asked {
        match outcome {
            Outcome::Enabled(e) => (Attempt::Claimed, Some(Verdict::Enabled(e))),
            Outcome::Raw { reason, .. } => (Attempt::Passed(Why::Pfn(reason)), None),
            Outcome::Rejected { stage, reason, .. } => {
                let driver = owner_driver;
                let attempt = match stage {
                    Stage::Validate => Attempt::Refused,
                    Stage::Enable => Attempt::Claimed,
                };
                let verdict = Verdict::Rejected {
                    driver,
                    stage,
                    why: Why::Pfn(reason),
                };
                (attempt, Some(verdict))
            }
        }
    } else if owner.is_some() {
        (Attempt::Passed(not_asked), None)
    } else {
        // No PFN or DAX signature: whichever driver is asked passes on it.
        let pass = |ok| Attempt::Passed(if ok { sig_mismatch } else { not_asked });
        return Ok((pass(pfn_ok), pass(dax_ok), None));
    };
    Ok(match owner {
        Some(DeviceKind::Devdax) => {
            // pfn ran first and passed on the DAX signature.
            (other, mine, verdict)
        }
        _ => {
            // pfn ran first; dax is asked only when pfn passed.
            let dax = if matches!(mine, Attempt::Passed(_)) {
                other
            } else {
                Attempt::Passed(Why::Earlier(owner_driver))
            };
            (mine, dax, verdict)
        }
    })
}
