//! Format features, the version each needs, and what a reader of a lower claimed version sees.

use core::fmt;

use crate::pfn::model::{Dialect, DialectChoice, ParseOptions, PfnInfo};
use crate::pfn::raw::{InfoBlock, Mode};
use crate::pfn::version::Version;

/// `PFN3_MODE_RAM`: the mode value the 2019 proposal's v1.3 blocks use for map=mem.
///
/// **Choice (FORMAT.md §1.5 marks the numeric values UNCONFIRMED).** The proposal replaced the
/// mode values so that kernels predating it fail to parse the block (they accept only 1 and 2
/// and return `-ENXIO`, which makes probe fall back to the raw namespace). This crate continues
/// `enum nd_pfn_mode` after `PFN_MODE_PMEM = 2`: `PFN3_MODE_RAM = 3`, `PFN3_MODE_PMEM = 4`.
pub const PFN3_MODE_RAM: Mode = Mode(3);
/// `PFN3_MODE_PMEM`: the 2019 v1.3 mode value for map=dev (see [`PFN3_MODE_RAM`]).
pub const PFN3_MODE_PMEM: Mode = Mode(4);

/// The `min_version` this crate writes into 2019 v1.3 blocks: 3, i.e. "a reader must support
/// at least (the proposal's) v1.3". **Choice** (the value patch 7/7 wrote is UNCONFIRMED,
/// FORMAT.md §1.5): `min_version` counts minor versions, so 3 pairs with `version_minor` 3.
pub const MIN_VERSION_2019: u16 = 3;

/// The mode a 2019-dialect reader maps a `PFN3_MODE_*` value back to (others unchanged).
#[must_use]
pub const fn pfn3_to_upstream(mode: Mode) -> Mode {
    match mode.0 {
        3 => Mode::RAM,
        4 => Mode::PMEM,
        _ => mode,
    }
}

/// The `PFN3_MODE_*` value for an upstream mode (others unchanged).
#[must_use]
pub const fn upstream_to_pfn3(mode: Mode) -> Mode {
    match mode.0 {
        1 => PFN3_MODE_RAM,
        2 => PFN3_MODE_PMEM,
        _ => mode,
    }
}

/// A format version a block can be written as: an upstream minor version, or the 2019
/// proposal's v1.3 (`min_version` at byte 88, `dataoff` counted from the raw namespace base).
///
/// Ordered by what a reader must understand: each upstream minor includes the ones below it.
/// [`FormatVersion::V2019_1_3`] includes upstream 1.0–1.3 but not 1.4 (its byte 88 is
/// `min_version`, not `page_size`); 1.4 does not include it either.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FormatVersion {
    /// Upstream v1.0 (Linux 4.3).
    V1_0,
    /// Upstream v1.1 (Linux 4.6): `start_pad`, `end_trunc`.
    V1_1,
    /// Upstream v1.2 (Linux 4.7): a recorded `align`.
    V1_2,
    /// Upstream v1.3 (Linux 5.3): flags and padding guaranteed zero.
    V1_3,
    /// Upstream v1.4 (Linux 5.4 to today): `page_size`, `page_struct_size`.
    V1_4,
    /// The unmerged 2019 proposal's v1.3 (FORMAT.md §1.5, §5.3).
    V2019_1_3,
}

impl FormatVersion {
    /// Every format version, upstream ones first.
    pub const ALL: [Self; 6] = [
        Self::V1_0,
        Self::V1_1,
        Self::V1_2,
        Self::V1_3,
        Self::V1_4,
        Self::V2019_1_3,
    ];

    /// The stable name: `"1.0"` .. `"1.4"`, or `"2019-1.3"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::V1_0 => "1.0",
            Self::V1_1 => "1.1",
            Self::V1_2 => "1.2",
            Self::V1_3 => "1.3",
            Self::V1_4 => "1.4",
            Self::V2019_1_3 => "2019-1.3",
        }
    }

    /// The version from its name (see [`FormatVersion::name`]); `"2019"` is accepted for
    /// `"2019-1.3"`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "2019" => Some(Self::V2019_1_3),
            _ => Self::ALL.into_iter().find(|v| v.name() == name),
        }
    }

    /// The stored `version_major.version_minor` of a block of this version.
    #[must_use]
    pub const fn stored(self) -> Version {
        match self {
            Self::V1_0 => Version::V1_0,
            Self::V1_1 => Version::V1_1,
            Self::V1_2 => Version::V1_2,
            Self::V1_3 | Self::V2019_1_3 => Version::V1_3,
            Self::V1_4 => Version::V1_4,
        }
    }

    /// The support level (a minor version) a reader must declare to load this version.
    #[must_use]
    pub const fn level(self) -> u16 {
        self.stored().minor
    }

    /// The upstream version of a stored minor (minors above 4 read as 4).
    #[must_use]
    pub const fn upstream(minor: u16) -> Self {
        match minor {
            0 => Self::V1_0,
            1 => Self::V1_1,
            2 => Self::V1_2,
            3 => Self::V1_3,
            _ => Self::V1_4,
        }
    }

    /// Whether a reader of `self` understands everything a block of `other` expresses.
    #[must_use]
    pub const fn includes(self, other: Self) -> bool {
        match (self, other) {
            (Self::V2019_1_3, Self::V2019_1_3) => true,
            (Self::V2019_1_3, o) => o.level() <= 3 && !matches!(o, Self::V1_4),
            (_, Self::V2019_1_3) => false,
            (s, o) => s.level() >= o.level(),
        }
    }

    /// Whether this is the 2019 dialect.
    #[must_use]
    pub const fn is_2019(self) -> bool {
        matches!(self, Self::V2019_1_3)
    }
}

impl fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

bitflags::bitflags! {
    /// The format features a block uses: what a reader must understand to see the block as
    /// its writer meant it. Each maps to the version that introduced it
    /// ([`Features::version_of`]); [`Features::of_block`] computes the set.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Features: u16 {
        /// `start_pad` != 0 (v1.1, FORMAT.md §1.2, §5).
        const START_PAD = 1 << 0;
        /// `end_trunc` != 0 (v1.1).
        const END_TRUNC = 1 << 1;
        /// A recorded `align` that differs from the one a reader derives from `dataoff`
        /// (`1 << ilog2(dataoff)`) when the field is missing (v1.2, FORMAT.md §3.4 step 9).
        const ALIGN = 1 << 2;
        /// Bytes that older layouts call padding carry meaning, which readers can trust only
        /// under the v1.3 guarantee that flags and padding are zero (FORMAT.md §1.3). Set
        /// together with [`Features::MIN_VERSION`].
        const ZEROED_PADDING = 1 << 3;
        /// `npfns` counts `PAGE_SIZE` pages of a writer whose page size is not 4 KiB (v1.3;
        /// before Linux 5.3 it counted 4 KiB units, FORMAT.md §1.2).
        const NPFNS_IN_PAGES = 1 << 4;
        /// `page_size` != 4096 (v1.4): a reader of an older block assumes its own page size.
        const PAGE_SIZE = 1 << 5;
        /// `page_struct_size` != 64 (v1.4): older blocks are read as 64 bytes per page.
        const PAGE_STRUCT_SIZE = 1 << 6;
        /// The 2019 proposal's `min_version` and `PFN3_MODE_*` modes (FORMAT.md §1.5).
        const MIN_VERSION = 1 << 7;
        /// The 2019 proposal's reading of `dataoff` from the raw namespace base, with
        /// `start_pad` != 0 (FORMAT.md §5.3): a legacy reader would add `start_pad` again.
        const RAW_BASE_DATAOFF = 1 << 8;
    }
}

impl Features {
    /// The version that introduced a single feature (for a set: the first feature's).
    #[must_use]
    pub fn version_of(self) -> FormatVersion {
        if self.intersects(Self::MIN_VERSION | Self::RAW_BASE_DATAOFF) {
            FormatVersion::V2019_1_3
        } else if self.intersects(Self::PAGE_SIZE | Self::PAGE_STRUCT_SIZE) {
            FormatVersion::V1_4
        } else if self.intersects(Self::ZEROED_PADDING | Self::NPFNS_IN_PAGES) {
            FormatVersion::V1_3
        } else if self.intersects(Self::ALIGN) {
            FormatVersion::V1_2
        } else if self.intersects(Self::START_PAD | Self::END_TRUNC) {
            FormatVersion::V1_1
        } else {
            FormatVersion::V1_0
        }
    }

    /// The stable lowercase name of a single feature (`"start_pad"`, `"min_version"`, ...).
    #[must_use]
    pub fn name(self) -> &'static str {
        self.iter_names()
            .next()
            .map_or("none", |(_, f)| feature_name(f))
    }

    /// The features of a block as its writer meant them: stored values are read whatever the
    /// stored minor says (a v1.0 block with a non-zero `end_trunc` *uses* end_trunc, even if
    /// readers of v1.0 zero it; see [`ClaimedView`]). Bytes 88..94 count only for minor >= 4
    /// (below that they are padding) or as the 2019 `min_version`.
    #[must_use]
    pub fn of_block(block: &InfoBlock) -> Self {
        Self::of_intent(&Intent::of(block))
    }

    /// [`Features::of_block`] from a block's intent.
    pub(crate) fn of_intent(intent: &Intent) -> Self {
        let mut f = Self::empty();
        f.set(Self::START_PAD, intent.start_pad != 0);
        f.set(Self::END_TRUNC, intent.end_trunc != 0);
        f.set(
            Self::ALIGN,
            intent.align != 0 && u64::from(intent.align) != derived_align(intent.dataoff),
        );
        if intent.dialect == Dialect::MinVersion2019 {
            f |= Self::MIN_VERSION | Self::ZEROED_PADDING;
            f.set(Self::RAW_BASE_DATAOFF, intent.start_pad != 0);
        }
        if let Some(page_size) = intent.page_size {
            f.set(Self::PAGE_SIZE, page_size != 4096);
            f.set(Self::NPFNS_IN_PAGES, page_size > 4096);
        }
        if let Some(pss) = intent.page_struct_size {
            f.set(
                Self::PAGE_STRUCT_SIZE,
                pss != PfnInfo::DEFAULT_PAGE_STRUCT_SIZE,
            );
        }
        f
    }
}

fn feature_name(f: Features) -> &'static str {
    match f {
        f if f == Features::START_PAD => "start_pad",
        f if f == Features::END_TRUNC => "end_trunc",
        f if f == Features::ALIGN => "align",
        f if f == Features::ZEROED_PADDING => "zeroed_padding",
        f if f == Features::NPFNS_IN_PAGES => "npfns_in_pages",
        f if f == Features::PAGE_SIZE => "page_size",
        f if f == Features::PAGE_STRUCT_SIZE => "page_struct_size",
        f if f == Features::MIN_VERSION => "min_version",
        f if f == Features::RAW_BASE_DATAOFF => "raw_base_dataoff",
        _ => "unknown",
    }
}

/// The alignment a reader derives from `dataoff` when the block records none:
/// `1 << ilog2(dataoff)` (FORMAT.md §3.4 step 9); 0 for `dataoff` 0 (undefined in C, §7.7).
#[must_use]
pub const fn derived_align(dataoff: u64) -> u64 {
    match dataoff.checked_ilog2() {
        Some(log) => match 1u64.checked_shl(log) {
            Some(a) => a,
            None => 0,
        },
        None => 0,
    }
}

/// The values a block's writer meant, read whatever the stored minor says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Intent {
    /// The stored version.
    pub version: Version,
    /// Which dialect bytes 88.. are in.
    pub dialect: Dialect,
    /// Stored `dataoff`.
    pub dataoff: u64,
    /// Stored `start_pad` (bytes 76..80, whatever the minor).
    pub start_pad: u32,
    /// Stored `end_trunc` (bytes 80..84, whatever the minor).
    pub end_trunc: u32,
    /// Stored `align` (bytes 84..88, whatever the minor).
    pub align: u32,
    /// Stored `page_size`, only for upstream minor >= 4.
    pub page_size: Option<u32>,
    /// Stored `page_struct_size`, only for upstream minor >= 4.
    pub page_struct_size: Option<u16>,
    /// The 2019 `min_version`, only in that dialect.
    pub min_version: Option<u16>,
    /// Flags or padding bytes are non-zero (bytes 88..94 count as padding below minor 4).
    pub stale_padding: bool,
}

impl Intent {
    /// Reads the intent of `block` (no checksum check).
    #[must_use]
    pub fn of(block: &InfoBlock) -> Self {
        let version = block.version();
        let is_2019 = is_2019_block(block);
        let upstream_v14 = !is_2019 && version.has_page_sizes();
        let low_88_nonzero = block.page_size.get() != 0 || block.page_struct_size.get() != 0;
        let stale_padding = block.has_nonzero_padding()
            || (!upstream_v14 && !is_2019 && low_88_nonzero)
            || (is_2019 && (block.page_size.get() >> 16 != 0 || block.page_struct_size.get() != 0));
        Self {
            version,
            dialect: if is_2019 {
                Dialect::MinVersion2019
            } else {
                Dialect::Upstream
            },
            dataoff: block.dataoff.get(),
            start_pad: block.start_pad.get(),
            end_trunc: block.end_trunc.get(),
            align: block.align.get(),
            page_size: upstream_v14.then(|| block.page_size.get()),
            page_struct_size: upstream_v14.then(|| block.page_struct_size.get()),
            min_version: is_2019.then(|| block.raw_min_version()),
            stale_padding,
        }
    }

    /// The intent of the upstream block equivalent to a 2019 v1.3 `block`: the same bytes with
    /// `dataoff` replaced (by `dataoff - start_pad`), the mode mapped back to its upstream value
    /// ([`pfn3_to_upstream`], never a `PFN3_MODE_*` value) and bytes 88..94 zeroed, so that it
    /// reads as upstream v1.3 (equal to [`Intent::of`] of that block, which `compat` no longer
    /// builds; unit-tested against it).
    pub(crate) fn upstream_equivalent(block: &InfoBlock, dataoff: u64) -> Self {
        Self {
            version: block.version(),
            dialect: Dialect::Upstream,
            dataoff,
            start_pad: block.start_pad.get(),
            end_trunc: block.end_trunc.get(),
            align: block.align.get(),
            // Bytes 88..94 are zero in the equivalent block.
            page_size: block.version().has_page_sizes().then_some(0),
            page_struct_size: block.version().has_page_sizes().then_some(0),
            min_version: None,
            stale_padding: block.has_nonzero_padding(),
        }
    }
}

/// Whether a block is in the 2019 dialect: stored minor 3 and either a non-zero
/// `min_version` (the crate's [`DialectChoice::Auto`] rule) or a `PFN3_MODE_*` mode.
#[must_use]
pub fn is_2019_block(block: &InfoBlock) -> bool {
    let options = ParseOptions {
        verify_checksum: false,
        ..ParseOptions::DEFAULT
    };
    let by_bytes = PfnInfo::parse(block, &options).is_ok_and(|i| i.min_version.is_some());
    let by_mode = block.version().minor == 3
        && (block.mode() == PFN3_MODE_RAM || block.mode() == PFN3_MODE_PMEM);
    by_bytes || by_mode
}

/// Parse options that read a block in the dialect [`is_2019_block`] detects.
#[must_use]
pub fn dialect_options(block: &InfoBlock, page_size: u32, verify_checksum: bool) -> ParseOptions {
    ParseOptions {
        page_size,
        dialect: if is_2019_block(block) {
            DialectChoice::MinVersion2019
        } else {
            DialectChoice::Upstream
        },
        verify_checksum,
    }
}

/// The smallest version that expresses a block faithfully, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequiredVersion {
    /// The features in use.
    pub features: Features,
    /// The smallest version whose readers understand every feature, or `None` when no single
    /// version does (2019 features together with v1.4 ones).
    pub version: Option<FormatVersion>,
}

impl RequiredVersion {
    /// The requirement of a feature set.
    #[must_use]
    pub fn of(features: Features) -> Self {
        let mut version = Some(FormatVersion::V1_0);
        for (_, f) in features.iter_names() {
            let need = f.version_of();
            version = version.and_then(|v| {
                if v.includes(need) {
                    Some(v)
                } else if need.includes(v) {
                    Some(need)
                } else {
                    None
                }
            });
        }
        Self { features, version }
    }

    /// The requirement of a block ([`Features::of_block`]).
    #[must_use]
    pub fn of_block(block: &InfoBlock) -> Self {
        Self::of(Features::of_block(block))
    }

    /// Each feature with the version it forces, in feature order.
    pub fn reasons(&self) -> impl Iterator<Item = (Features, FormatVersion)> {
        self.features.iter().map(|f| (f, f.version_of()))
    }
}

impl fmt::Display for RequiredVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.version {
            Some(v) => write!(f, "{v}")?,
            None => f.write_str("none (2019 and v1.4 features cannot be combined)")?,
        }
        let mut first = true;
        for (feature, need) in self.reasons() {
            f.write_str(if first { ": " } else { ", " })?;
            first = false;
            write!(f, "{} needs {need}", feature.name())?;
        }
        if first {
            f.write_str(": no feature beyond v1.0")?;
        }
        Ok(())
    }
}

/// What a reader of a block's *claimed* version sees when the block uses features that need a
/// later version: the features it drops, and the values it reads instead.
///
/// Readers default fields their minor version predates (FORMAT.md §3.7 step 7): below 1.1
/// `start_pad` and `end_trunc` read as 0, below 1.2 `align` reads as 0 (derived from
/// `dataoff`), below 1.4 `page_size` reads as the reader's page size and `page_struct_size` as
/// 64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimedView {
    /// The stored version.
    pub claimed: Version,
    /// What the block needs.
    pub required: RequiredVersion,
    /// The features a reader of the claimed version does not see.
    pub dropped: Features,
    /// What the writer meant.
    pub intent: Intent,
}

impl ClaimedView {
    /// The claimed view of `block`.
    #[must_use]
    pub fn of_block(block: &InfoBlock) -> Self {
        Self::of_intent(Intent::of(block))
    }

    /// [`ClaimedView::of_block`] from a block's intent.
    pub(crate) fn of_intent(intent: Intent) -> Self {
        let required = RequiredVersion::of(Features::of_intent(&intent));
        let claimed = if intent.dialect == Dialect::MinVersion2019 {
            FormatVersion::V2019_1_3
        } else {
            FormatVersion::upstream(intent.version.minor)
        };
        let mut dropped = Features::empty();
        for (f, need) in required.reasons() {
            if !claimed.includes(need) {
                dropped |= f;
            }
        }
        Self {
            claimed: intent.version,
            required,
            dropped,
            intent,
        }
    }

    /// Whether the claimed version is enough.
    #[must_use]
    pub fn is_faithful(&self) -> bool {
        self.dropped.is_empty()
    }
}

impl fmt::Display for ClaimedView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_faithful() {
            return write!(
                f,
                "v{} expresses every feature the block uses",
                self.claimed
            );
        }
        write!(f, "a v{} reader", self.claimed)?;
        let i = &self.intent;
        let mut sep = " ";
        for feature in self.dropped.iter() {
            f.write_str(sep)?;
            sep = "; ";
            match feature {
                x if x == Features::START_PAD => write!(
                    f,
                    "reads start_pad {} as 0: the data starts {} bytes earlier",
                    i.start_pad, i.start_pad
                )?,
                x if x == Features::END_TRUNC => write!(
                    f,
                    "reads end_trunc {} as 0: the data area grows by {} bytes to the namespace \
                     end, whose alignment may differ",
                    i.end_trunc, i.end_trunc
                )?,
                x if x == Features::ALIGN => write!(
                    f,
                    "reads align {:#x} as 0 and derives {:#x} from dataoff {:#x}",
                    i.align,
                    derived_align(i.dataoff),
                    i.dataoff
                )?,
                x if x == Features::PAGE_SIZE => write!(
                    f,
                    "reads page_size {} as its own PAGE_SIZE",
                    i.page_size.unwrap_or(0)
                )?,
                x if x == Features::PAGE_STRUCT_SIZE => write!(
                    f,
                    "reads page_struct_size {} as 64",
                    i.page_struct_size.unwrap_or(0)
                )?,
                other => write!(f, "does not understand {}", other.name())?,
            }
        }
        Ok(())
    }
}
