//! The validator: what a kernel of a given [`Profile`] does with a namespace whose info-block
//! is `block` (FORMAT.md §3 `nd_pfn_validate`, then §5.1 `__nvdimm_setup_pfn` and the memmap
//! hotplug that enabling performs).
//!
//! [`check`] applies every check of the profile's `nd_pfn_validate` in the kernel's order,
//! after [`PfnInfo::parse`]'s defaulting by minor version, and then the checks that make
//! enabling fail after validation passed. The answer is an [`Outcome`]:
//!
//! | outcome | kernel | when |
//! |---|---|---|
//! | [`Outcome::Enabled`] | `/dev/pmemN` (fsdax) or `/dev/daxN.M` (devdax) | every check passed |
//! | [`Outcome::Raw`] | the namespace is used raw, the block is ignored | validate failed with an errno other than `-EOPNOTSUPP` (bad signature, checksum, parent uuid, mode; before 5.4/5.7 every validate failure) |
//! | [`Outcome::Rejected`] at [`Stage::Validate`] | no device at all | validate failed with `-EOPNOTSUPP` (5.4+) |
//! | [`Outcome::Rejected`] at [`Stage::Enable`] | the pfn/dax device claims the namespace, then its probe fails | `-EINVAL`, `-EBUSY` or `-ENOMEM` from setting up the mapping |
//!
//! # Example
//! ```
//! use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath, Stage};
//! use nvdimm_infoblock::{DeviceKind, Mode, PfnInfo, Profile, Uuid, Version};
//!
//! // The block a 5.7+ kernel writes for 256 MiB, map=dev, align 2 MiB: dataoff 6 MiB.
//! let info = PfnInfo {
//!     kind: DeviceKind::Fsdax, uuid: Uuid([7; 16]), parent_uuid: Uuid::NIL, flags: 0,
//!     version: Version::V1_4, dataoff: 6 << 20, npfns: 64_000, mode: Mode::PMEM,
//!     start_pad: 0, end_trunc: 0, align: 2 << 20, page_size: 4096, page_struct_size: 64,
//!     min_version: None,
//! };
//! let block = info.to_block()?;
//! let ns = Namespace::labelless(0x1_0000_0000, 256 << 20);
//! let outcome = check(&block, &ns, &ProbePath::Probe, &Profile::NEWEST_X86_64)?;
//! let dev = outcome.enabled().expect("enabled");
//! assert_eq!((dev.dev_size, dev.dev_resource), (250 << 20, 0x1_0060_0000));
//!
//! // 2 MiB less dataoff: the memmap of the two 128 MiB sections no longer fits.
//! let small = PfnInfo { dataoff: 4 << 20, ..info }.to_block()?;
//! let outcome = check(&small, &ns, &ProbePath::Probe, &Profile::NEWEST_X86_64)?;
//! assert_eq!(outcome.stage(), Some(Stage::Enable));
//! assert_eq!(outcome.errno().map(|e| e.code()), Some(-12));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # Kernel arithmetic
//! The kernel computes several values in unsigned 64-bit C arithmetic that can wrap
//! (`res.start + start_pad + dataoff`, `res_size - start_pad - end_trunc`, `dataoff - reserve`).
//! Those are mirrored with explicit `wrapping_*` calls, each commented with the kernel rule it
//! follows, so that the validator predicts what the kernel really does with hostile blocks.
//! Every other computation is checked.
//!
//! # Choices for facts FORMAT.md marks UNCONFIRMED
//! * **dataoff 0 with a derived alignment** (§7.7): `1 << ilog2(0)` is undefined in C. On
//!   x86_64 `ilog2(0)` is `fls64(0) - 1 = -1` and the shift count is masked to 6 bits, so the
//!   kernel computes `1 << 63`. The validator uses [`DERIVED_ALIGN_OF_ZERO`] = `1 << 63`, which
//!   a PFN block then fails as "alignment exceeds capacity" and a DAX block as "alignment
//!   mismatch". Linux 6.1 and 6.12 log exactly "alignment: 8000000000000000 exceeds capacity
//!   10000000" for such a block on 256 MiB.
//! * **The memmap of a PMEM-mode block** (§5.1): modelled on x86_64's vmemmap (5.3+): the
//!   `struct page`s of every *whole* memory section of the pfn range are allocated from the
//!   altmap in `PMD_SIZE` blocks, each aligned to its own size in physical pages; partial
//!   sections take their memmap from system RAM. Linux 6.1 and 6.12 agree on every map=dev
//!   case of the kernel suite (tests/kernel_replay.rs). The same model is applied to the
//!   other platforms and to older eras, where it is not confirmed.
//! * **devdax with a stored align of 0** (or minor < 2): validation checks the derived align,
//!   but `dax_pmem` builds the dax region with the stored 0, and `IS_ALIGNED(x, 0)` fails, so
//!   enabling fails with `-ENOMEM` (confirmed on 6.1 and 6.12).
//! * Pre-5.3 eras align the altmap base down to a whole section (the rule that also rounds
//!   their runtime `npfns` up to whole sections, [`EraRules::runtime_npfns_section_aligned`](crate::pfn::profile::EraRules::runtime_npfns_section_aligned)).

use core::fmt;

use crate::pfn::error::{ErrorClass, ParseError};
use crate::pfn::model::{DeviceKind, DialectChoice, ParseOptions, PfnInfo};
use crate::pfn::profile::{OffsetCheck, Profile};
use crate::pfn::raw::{InfoBlock, Mode};
use crate::uuid::Uuid;

/// The alignment the validator derives for `dataoff == 0` when the block's align is 0:
/// `1 << ilog2(0)` as an x86_64 kernel computes it (`ilog2(0) = -1`, shift count masked to 63).
pub const DERIVED_ALIGN_OF_ZERO: u64 = 1 << 63;

/// A Linux errno value (positive, as in `errno.h`); the kernel returns its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(pub u16);

impl Errno {
    /// `ENXIO` (6): "no such device or address".
    pub const ENXIO: Self = Self(6);
    /// `ENOMEM` (12): out of memory (the memmap does not fit, a dax region cannot be set up).
    pub const ENOMEM: Self = Self(12);
    /// `EBUSY` (16).
    pub const EBUSY: Self = Self(16);
    /// `ENODEV` (19): "no info-block here"; probe uses the namespace raw.
    pub const ENODEV: Self = Self(19);
    /// `EINVAL` (22).
    pub const EINVAL: Self = Self(22);
    /// `ENOTTY` (25): Linux 4.3's answer to a PMEM-mode block.
    pub const ENOTTY: Self = Self(25);
    /// `EOPNOTSUPP` (95): a valid block this kernel cannot enable; no raw fallback (5.4+).
    pub const EOPNOTSUPP: Self = Self(95);

    /// The value the kernel function returns: `-errno`.
    #[must_use]
    pub fn code(self) -> i32 {
        i32::from(self.0).wrapping_neg()
    }

    /// The symbolic name, e.g. `"EOPNOTSUPP"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self.0 {
            6 => "ENXIO",
            12 => "ENOMEM",
            16 => "EBUSY",
            19 => "ENODEV",
            22 => "EINVAL",
            25 => "ENOTTY",
            95 => "EOPNOTSUPP",
            _ => "E?",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

/// The namespace that holds the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Namespace {
    /// Physical start address (`res.start`).
    pub start: u64,
    /// Size in bytes (`resource_size(res)`).
    pub size: u64,
    /// The namespace uuid, [`Uuid::NIL`] for label-less (io, e820, QEMU) namespaces.
    pub uuid: Uuid,
}

impl Namespace {
    /// A label-less namespace (uuid nil) at `start` of `size` bytes.
    #[must_use]
    pub const fn labelless(start: u64, size: u64) -> Self {
        Self {
            start,
            size,
            uuid: Uuid::NIL,
        }
    }
}

/// The settings userspace configured on a pfn/dax device before enabling it (the init path).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiveSettings {
    /// The device uuid written to the `uuid` attribute.
    pub uuid: Uuid,
    /// The `align` attribute in bytes.
    pub align: u64,
    /// The `mode` attribute (RAM or PMEM).
    pub mode: Mode,
}

/// How `nd_pfn_validate` is reached (FORMAT.md §3, "Callers").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ProbePath {
    /// Namespace probe (boot, `ndctl enable-namespace`): uuid, align and mode are adopted from
    /// the block.
    #[default]
    Probe,
    /// `nd_pfn_init` of a device userspace configured: the block's uuid, align and mode must
    /// equal these. An [`Outcome::Raw`] answer on this path means validate returned
    /// `-ENODEV` ("no usable block"): init writes a new one. Every other validate failure
    /// fails init, reported as [`Outcome::Rejected`] at [`Stage::Validate`].
    Init(LiveSettings),
}

/// Where a refusal happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// In `nd_pfn_validate` (the harness's `stage=validate`).
    Validate,
    /// While enabling after validation passed (`nd_pmem`/`dax_pmem` probe of the device).
    Enable,
}

impl Stage {
    /// `"validate"` or `"enable"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Enable => "enable",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod enable;
mod reason;

use enable::enable;
pub use reason::{KernelMessage, Reason};

/// A device the kernel enables, with the values it reports in sysfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Enabled {
    /// fsdax (`pfnX.Y`, `/dev/pmemN`) or devdax (`daxX.Y`, `/dev/daxN.M`).
    pub kind: DeviceKind,
    /// RAM (memmap in DRAM, `map=mem`) or PMEM (memmap on the device, `map=dev`).
    pub mode: Mode,
    /// sysfs `size`: `res_size - start_pad - end_trunc - dataoff`.
    pub dev_size: u64,
    /// sysfs `resource`: `res.start + start_pad + dataoff`, the first data byte.
    pub dev_resource: u64,
    /// sysfs `align`: the block's align, or the derived one when it is 0.
    pub dev_align: u64,
    /// The kernel's runtime `npfns`: the stored value in RAM mode, recomputed in PMEM mode.
    pub npfns: u64,
    /// Whether the stored `npfns` is larger than the runtime value (the kernel logs "number
    /// of pfns truncated").
    pub npfns_truncated: bool,
    /// The block's dataoff.
    pub dataoff: u64,
    /// The start padding honoured.
    pub start_pad: u32,
    /// The end truncation honoured.
    pub end_trunc: u32,
}

impl Enabled {
    /// The map name: `"dev"` (PMEM) or `"mem"` (RAM).
    #[must_use]
    pub fn map(&self) -> &'static str {
        self.mode.map_name().unwrap_or("?")
    }
}

/// What the kernel does with the namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The block is accepted and the device enabled.
    Enabled(Enabled),
    /// The block is ignored and the namespace is used raw (full size, no `struct page`).
    Raw {
        /// Why the block was ignored.
        reason: Reason,
        /// What `nd_pfn_validate` returned.
        errno: Errno,
    },
    /// The block is recognised but the namespace ends up with no usable device.
    Rejected {
        /// Where it failed.
        stage: Stage,
        /// Why.
        reason: Reason,
        /// What the failing kernel function returned.
        errno: Errno,
    },
}

impl Outcome {
    /// `"fsdax"`, `"devdax"`, `"raw"` or `"rejected"`.
    #[must_use]
    pub const fn verdict(&self) -> &'static str {
        match self {
            Self::Enabled(e) => e.kind.name(),
            Self::Raw { .. } => "raw",
            Self::Rejected { .. } => "rejected",
        }
    }

    /// The stage of a rejection, `None` otherwise.
    #[must_use]
    pub const fn stage(&self) -> Option<Stage> {
        match self {
            Self::Rejected { stage, .. } => Some(*stage),
            _ => None,
        }
    }

    /// The reason of a raw or rejected outcome.
    #[must_use]
    pub const fn reason(&self) -> Option<Reason> {
        match self {
            Self::Enabled(_) => None,
            Self::Raw { reason, .. } | Self::Rejected { reason, .. } => Some(*reason),
        }
    }

    /// The errno of a raw or rejected outcome.
    #[must_use]
    pub const fn errno(&self) -> Option<Errno> {
        match self {
            Self::Enabled(_) => None,
            Self::Raw { errno, .. } | Self::Rejected { errno, .. } => Some(*errno),
        }
    }

    /// The enabled device, if any.
    #[must_use]
    pub const fn enabled(&self) -> Option<&Enabled> {
        match self {
            Self::Enabled(e) => Some(e),
            _ => None,
        }
    }
}

/// The namespace given to [`check`] cannot exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NamespaceError {
    /// The namespace has no bytes.
    Empty {
        /// Its start.
        start: u64,
    },
    /// `start + size - 1` does not fit in 64 bits.
    EndOverflow {
        /// Its start.
        start: u64,
        /// Its size.
        size: u64,
    },
}

impl NamespaceError {
    /// The coarse class (an impossible input is not a block the kernel could meet).
    #[must_use]
    pub const fn class(&self) -> ErrorClass {
        ErrorClass::Unsupported
    }
}

impl fmt::Display for NamespaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { start } => write!(f, "namespace at {start:#x} has size 0"),
            Self::EndOverflow { start, size } => write!(
                f,
                "namespace at {start:#x} of {size:#x} bytes ends beyond the 64-bit address space"
            ),
        }
    }
}

impl core::error::Error for NamespaceError {}

/// `IS_ALIGNED(x, a)` as the kernel's macro computes it: `x & (a - 1) == 0`, in u64, so a
/// non-power-of-two `a` tests a bit mask (not a remainder) and `a == 0` fails every `x != 0`.
#[must_use]
const fn is_aligned(x: u64, a: u64) -> bool {
    // IS_ALIGNED: `(a - 1)` wraps to all ones for a == 0, exactly as in C.
    x & a.wrapping_sub(1) == 0
}

/// `1 << ilog2(x)`: the largest power of two not above `x`; [`DERIVED_ALIGN_OF_ZERO`] for 0.
#[must_use]
pub const fn derived_align(dataoff: u64) -> u64 {
    match dataoff.checked_ilog2() {
        Some(log) => match 1u64.checked_shl(log) {
            Some(v) => v,
            None => DERIVED_ALIGN_OF_ZERO,
        },
        None => DERIVED_ALIGN_OF_ZERO,
    }
}

/// Predicts what a kernel of `profile` does with the namespace `ns` whose info-block is
/// `block`, reached through `path` (FORMAT.md §3, §5.1).
///
/// The block is parsed with [`PfnInfo::parse`] (upstream dialect, the profile's page size for
/// the minor-version defaulting, checksum verified), then every check of the profile's
/// `nd_pfn_validate` runs in the kernel's order, then the enable-stage checks.
///
/// # Errors
/// [`NamespaceError`] when `ns` cannot exist (size 0, or an end beyond `u64::MAX`). Every
/// block, however hostile, gives an [`Outcome`].
pub fn check(
    block: &InfoBlock,
    ns: &Namespace,
    path: &ProbePath,
    profile: &Profile,
) -> Result<Outcome, NamespaceError> {
    let res = Res::of(ns)?;
    if let Err(reason) = section_rule(&res, profile) {
        return Ok(refusal(reason, path, profile));
    }
    // Matched by reference, and `checked` builds the `Result` itself: the parsed value and
    // the outcome are not copied again on the way (measured: 15% of the call).
    match &PfnInfo::parse(block, &kernel_parse_options(profile)) {
        Err(e) => Ok(refusal(parse_reason(e, block), path, profile)),
        Ok(info) => checked(info, ns, &res, path, profile),
    }
}

/// [`check`] of a block already read as the kernel reads it: `info` must be what
/// [`PfnInfo::parse`] returns for the block with the upstream dialect and the profile's page
/// size (signature and checksum are then known good). The layout solver runs the validator
/// on the block it writes through this, without emitting 4 KiB on the stack.
pub(crate) fn check_info(
    info: &PfnInfo,
    ns: &Namespace,
    path: &ProbePath,
    profile: &Profile,
) -> Result<Outcome, NamespaceError> {
    let res = Res::of(ns)?;
    match section_rule(&res, profile) {
        Err(reason) => Ok(refusal(reason, path, profile)),
        Ok(()) => checked(info, ns, &res, path, profile),
    }
}

/// Validation after the block was read, then enabling. Always `Ok`: the namespace was
/// checked by the caller; the `Result` is built here so that it is not copied again.
///
/// Always inlined, and so are `validate`, `enable` and `check_altmap`: [`check`] and
/// [`check_info`] (the solver's and `compat`'s way in) each become one function whose
/// enabled path calls nothing but the checksum loop. With the preset table of [`Pages`],
/// 485 -> 418 executed instructions beyond the checksum (either change alone: 451 and 479);
/// the library's footprint grows by about 600 bytes (BENCHMARKS.md "One block").
#[inline(always)]
fn checked(
    info: &PfnInfo,
    ns: &Namespace,
    res: &Res,
    path: &ProbePath,
    profile: &Profile,
) -> Result<Outcome, NamespaceError> {
    // One refusal call, out of line: the enabled outcome is then stored field by field
    // instead of through the store sequence LLVM merged for every variant (9 fewer executed
    // instructions, BENCHMARKS.md "One block").
    match validate(info, ns, res, path, profile).and_then(|v| enable(&v, res, profile)) {
        Ok(enabled) => Ok(Outcome::Enabled(enabled)),
        Err(reason) => Ok(refusal(reason, path, profile)),
    }
}

/// What a refusal means on `path`: a raw namespace or a rejection, with the errno.
#[cold]
#[inline(never)]
fn refusal(reason: Reason, path: &ProbePath, profile: &Profile) -> Outcome {
    let errno = reason.errno(&profile.rules);
    match reason.stage() {
        Stage::Enable => Outcome::Rejected {
            stage: Stage::Enable,
            reason,
            errno,
        },
        // nd_pmem_probe: -EOPNOTSUPP keeps the namespace disabled (5.4+); every other
        // validate failure falls back to the raw namespace. nd_pfn_init treats only
        // -ENODEV as "no block" and fails with every other errno.
        Stage::Validate
            if errno == Errno::EOPNOTSUPP
                || (matches!(path, ProbePath::Init(_)) && errno != Errno::ENODEV) =>
        {
            Outcome::Rejected {
                stage: Stage::Validate,
                reason,
                errno,
            }
        }
        Stage::Validate => Outcome::Raw { reason, errno },
    }
}

/// The namespace resource: `res.start`, `res.end` (inclusive), `resource_size(res)`.
#[derive(Clone, Copy, Debug)]
struct Res {
    start: u64,
    end: u64,
    size: u64,
}

impl Res {
    fn of(ns: &Namespace) -> Result<Self, NamespaceError> {
        let last = ns
            .size
            .checked_sub(1)
            .ok_or(NamespaceError::Empty { start: ns.start })?;
        let end = ns
            .start
            .checked_add(last)
            .ok_or(NamespaceError::EndOverflow {
                start: ns.start,
                size: ns.size,
            })?;
        Ok(Self {
            start: ns.start,
            end,
            size: ns.size,
        })
    }
}

/// What validation established.
#[derive(Clone, Copy, Debug)]
struct Validated<'a> {
    info: &'a PfnInfo,
    align: u64,
}

fn u64_of(v: u32) -> u64 {
    u64::from(v)
}

/// §3.1 step 3 (4.3): the namespace must hold at least one section. The first check of
/// `nd_pfn_validate` in that era, before the block is read.
fn section_rule(res: &Res, profile: &Profile) -> Result<(), Reason> {
    let section = profile.platform.section_size;
    if profile.rules.requires_section_aligned_start && res.size < section {
        return Err(Reason::NamespaceBelowSection {
            size: res.size,
            section,
        });
    }
    Ok(())
}

/// How `nd_pfn_validate` reads the block (FORMAT.md §3.7 steps 4, 5 and 7): signature,
/// checksum, then the defaulting by minor version with the kernel's page size. Upstream
/// kernels never read `min_version`, so the dialect is always upstream.
pub(crate) fn kernel_parse_options(profile: &Profile) -> ParseOptions {
    ParseOptions {
        page_size: u32::try_from(profile.platform.page_size).unwrap_or(u32::MAX),
        dialect: DialectChoice::Upstream,
        verify_checksum: true,
    }
}

/// The validator's reason for a block [`PfnInfo::parse`] refused.
fn parse_reason(e: &ParseError, block: &InfoBlock) -> Reason {
    match *e {
        ParseError::ChecksumMismatch { stored, computed } => {
            Reason::ChecksumMismatch { stored, computed }
        }
        ParseError::BadSignature { found } => Reason::BadSignature { found },
        // A borrowed InfoBlock always has the right length; map defensively.
        _ => Reason::BadSignature {
            found: block.signature,
        },
    }
}

/// `nd_pfn_validate` after the block was read, in the kernel's order (FORMAT.md §3.1–§3.7).
/// Always inlined (see [`checked`]).
#[inline(always)]
fn validate<'a>(
    info: &'a PfnInfo,
    ns: &Namespace,
    res: &Res,
    path: &ProbePath,
    profile: &Profile,
) -> Result<Validated<'a>, Reason> {
    let rules = &profile.rules;
    let platform = &profile.platform;
    let page_size = platform.page_size;

    // Before device-dax (4.3–4.6) nothing probes for the DAX signature.
    if info.kind == DeviceKind::Devdax && !rules.devdax_supported {
        return Err(Reason::BadSignature {
            found: info.kind.signature(),
        });
    }

    // §3.7 step 6 (4.5+): parent uuid.
    if rules.checks_parent_uuid && info.parent_uuid != ns.uuid {
        return Err(Reason::ParentUuidMismatch {
            found: info.parent_uuid,
            expected: ns.uuid,
        });
    }

    // §3.7 step 8 / §3.1 step 7: mode.
    if !info.mode.is_known() {
        return Err(Reason::UnknownMode { mode: info.mode });
    }
    if info.mode == Mode::PMEM && !rules.pmem_mode_supported {
        return Err(Reason::PmemModeUnsupported);
    }

    let live = match path {
        ProbePath::Probe => None,
        ProbePath::Init(s) => Some(*s),
    };
    // The live align before adoption: on probe, nd_pfn_devinit pre-set the default.
    let live_align = live.map_or(profile.default_align(), |s| s.align);

    // §3.7 step 9: the alignment used by the checks.
    let align = match rules.offset_check {
        // 4.3 had no alignment; report the derived one (what sysfs would have shown later).
        OffsetCheck::SizeOnly | OffsetCheck::PowerOfTwo | OffsetCheck::Absolute => {
            if info.align == 0 {
                derived_align(info.dataoff)
            } else {
                u64_of(info.align)
            }
        }
        // §3.3: the live align (pre-set to the default on probe) wins over the stored one.
        OffsetCheck::LiveAlign => live_align,
    };
    // 4.6 derived align from dataoff whatever the block said (it had no align field).
    let align = if matches!(rules.offset_check, OffsetCheck::PowerOfTwo) {
        derived_align(info.dataoff)
    } else {
        align
    };

    // §3.7 steps 10–12 (5.4+).
    if rules.checks_page_sizes && info.mode == Mode::PMEM {
        if u64_of(info.page_size) > page_size {
            return Err(Reason::PageSizeMismatch {
                page_size: info.page_size,
                kernel_page_size: page_size,
            });
        }
        if info.page_struct_size < platform.struct_page_size {
            return Err(Reason::StructPageSizeMismatch {
                page_struct_size: info.page_struct_size,
                struct_page_size: platform.struct_page_size,
            });
        }
    }
    if rules.checks_dax_align
        && info.kind == DeviceKind::Devdax
        && !platform.dax_aligns.contains(align)
    {
        return Err(Reason::DaxAlignUnsupported {
            live_align,
            align,
            supported: platform.dax_aligns,
        });
    }

    // §3.7 step 13: adopt (probe) or compare (init).
    if let Some(s) = live {
        if s.uuid != info.uuid {
            return Err(Reason::UuidMismatch {
                found: info.uuid,
                expected: s.uuid,
            });
        }
        if align != s.align || info.mode != s.mode {
            return Err(Reason::SettingsMismatch {
                align,
                live_align: s.align,
                mode: info.mode,
                live_mode: s.mode,
            });
        }
    }

    match rules.offset_check {
        OffsetCheck::SizeOnly => {
            // §3.1 step 9.
            if !is_aligned(res.start, platform.section_size) {
                return Err(Reason::StartNotSectionAligned {
                    start: res.start,
                    section: platform.section_size,
                });
            }
            if info.dataoff >= res.size {
                return Err(Reason::DataoffExceedsCapacity {
                    dataoff: info.dataoff,
                    size: res.size,
                });
            }
        }
        OffsetCheck::PowerOfTwo => {
            // §3.2: the live (default) align against the capacity, then dataoff.
            if live_align > res.size {
                return Err(Reason::AlignExceedsCapacity {
                    align: live_align,
                    capacity: res.size,
                });
            }
            if info.dataoff >= res.size {
                return Err(Reason::DataoffExceedsCapacity {
                    dataoff: info.dataoff,
                    size: res.size,
                });
            }
            if !info.dataoff.is_power_of_two() || info.dataoff < page_size {
                return Err(Reason::DataoffNotPowerOfTwo {
                    dataoff: info.dataoff,
                    page_size,
                });
            }
        }
        OffsetCheck::LiveAlign | OffsetCheck::Absolute => {
            // §3.7 step 14.
            if align > res.size {
                return Err(Reason::AlignExceedsCapacity {
                    align,
                    capacity: res.size,
                });
            }
            // §3.7 step 15.
            if info.dataoff >= res.size {
                return Err(Reason::DataoffExceedsCapacity {
                    dataoff: info.dataoff,
                    size: res.size,
                });
            }
            // §3.7 step 16. 4.7–4.14 tested dataoff alone; 4.15+ the absolute address.
            let address = if matches!(rules.offset_check, OffsetCheck::LiveAlign) {
                info.dataoff
            } else {
                // nd_pfn_validate "bad offset": `res.start + offset + start_pad` in u64 C
                // arithmetic, which wraps.
                res.start
                    .wrapping_add(info.dataoff)
                    .wrapping_add(u64_of(info.start_pad))
            };
            if (align != 0 && !is_aligned(address, align)) || !is_aligned(info.dataoff, page_size) {
                return Err(Reason::BadOffset {
                    dataoff: info.dataoff,
                    align,
                    address,
                    page_size,
                });
            }
        }
    }

    // §3.7 steps 17–18 (5.7+).
    if rules.checks_compat_align {
        let compat_align = platform.compat_align;
        // nd_pfn_validate "resource start misaligned": `res.start + start_pad`, u64, wraps.
        let start = res.start.wrapping_add(u64_of(info.start_pad));
        if !is_aligned(start, compat_align) {
            return Err(Reason::ResourceStartMisaligned {
                address: start,
                compat_align,
            });
        }
        // nd_pfn_validate "resource end misaligned": `res.end + 1 - end_trunc`, u64, wraps.
        let end = res.end.wrapping_add(1).wrapping_sub(u64_of(info.end_trunc));
        if !is_aligned(end, compat_align) {
            return Err(Reason::ResourceEndMisaligned {
                address: end,
                compat_align,
            });
        }
    }

    // §3.7 step 19 (6.5+).
    if rules.checks_small_namespace {
        let usable = usable_size(res, info);
        if info.dataoff >= usable {
            return Err(Reason::SmallNamespace {
                dataoff: info.dataoff,
                usable,
            });
        }
    }

    Ok(Validated { info, align })
}

/// `resource_size(res) - start_pad - end_trunc`, the pfn range length.
fn usable_size(res: &Res, info: &PfnInfo) -> u64 {
    // nd_pfn_validate "bad offset with small namespace" and __nvdimm_setup_pfn's range:
    // `resource_size(res) - start_pad - end_trunc` in u64 C arithmetic, which wraps when the
    // paddings exceed the namespace.
    res.size
        .wrapping_sub(u64_of(info.start_pad))
        .wrapping_sub(u64_of(info.end_trunc))
}
