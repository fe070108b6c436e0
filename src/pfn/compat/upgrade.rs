//! Upgrades (and downgrades) between format versions that never move data.

use core::fmt;

use super::features::{
    dialect_options, is_2019_block, pfn3_to_upstream, upstream_to_pfn3, Features, FormatVersion,
    MIN_VERSION_2019,
};
use super::reader::{check, Reader, ReaderName, Reason, Verdict};
use crate::pfn::error::EmitError;
use crate::pfn::model::PfnInfo;
use crate::pfn::profile::Profile;
use crate::pfn::raw::InfoBlock;
use crate::pfn::validate::Namespace;
use crate::pfn::version::Version;

/// A block as one reader sees it, for the before/after of an upgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Summary {
    /// The block's format version.
    pub version: FormatVersion,
    /// The stored `dataoff`.
    pub dataoff: u64,
    /// The reader whose view this is: the newest upstream kernel for upstream versions,
    /// `min-version-3` for the 2019 v1.3.
    pub reader: Reader,
    /// Physical address of the first data byte, if the reader loads the block.
    pub data_start: Option<u64>,
    /// Data length, if the reader loads the block.
    pub data_size: Option<u64>,
}

impl Summary {
    /// The reference reader of a format version.
    #[must_use]
    pub const fn reference_reader(version: FormatVersion) -> Reader {
        if version.is_2019() {
            Reader::MinVersion(3)
        } else {
            Reader::Kernel(Profile::NEWEST_X86_64)
        }
    }

    fn of(block: &InfoBlock, version: FormatVersion, ns: &Namespace) -> Self {
        let reader = Self::reference_reader(version);
        let verdict = check(block, ns, &reader);
        Self {
            version,
            dataoff: block.dataoff.get(),
            reader,
            data_start: verdict.view().map(|v| v.data_start),
            data_size: verdict.view().map(|v| v.data_size),
        }
    }
}

/// What one reader makes of the block before and after an upgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReaderChange {
    /// The reader.
    pub reader: Reader,
    /// Its verdict on the old block.
    pub before: Verdict,
    /// Its verdict on the new block.
    pub after: Verdict,
}

impl ReaderChange {
    /// The reader loads the new block but not the old one.
    #[must_use]
    pub const fn gains(&self) -> bool {
        !self.before.loads() && self.after.loads()
    }

    /// The reader loads the old block but not the new one.
    #[must_use]
    pub const fn loses(&self) -> bool {
        self.before.loads() && !self.after.loads()
    }

    /// The reader misread the old block's data and reads the new one as its writer meant.
    #[must_use]
    pub fn fixed(&self) -> bool {
        self.before.is_misread() && self.after.loads() && !self.after.is_misread()
    }
}

/// A planned version change: the new block and what every known reader gains or loses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradePlan {
    /// The target version.
    pub target: FormatVersion,
    /// The new block (checksum set).
    pub block: InfoBlock,
    /// The old block as the reference reader of its version sees it.
    pub before: Summary,
    /// The new block as the reference reader of the target version sees it.
    pub after: Summary,
    /// One entry per [`Reader::KNOWN`], in that order.
    pub readers: [ReaderChange; 16],
}

/// Why a version change is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpgradeError {
    /// The input is not a usable info-block (signature or checksum).
    NotAnInfoBlock(Reason),
    /// The target version cannot store features the block uses (the 2019 v1.3 has no
    /// `page_size`/`page_struct_size`).
    Inexpressible {
        /// The target.
        target: FormatVersion,
        /// The features it cannot store.
        features: Features,
    },
    /// The conversion would overflow `dataoff` (dataoff + start_pad) or underflow it
    /// (dataoff - start_pad).
    DataoffOutOfRange {
        /// Stored dataoff.
        dataoff: u64,
        /// The block's start_pad.
        start_pad: u32,
    },
    /// A reader that loads both blocks would see its data elsewhere or with another length.
    DataWouldMove {
        /// The reader.
        reader: Reader,
        /// Data start and size before.
        before: (u64, u64),
        /// Data start and size after.
        after: (u64, u64),
    },
    /// The block places its data outside the namespace: `start_pad + dataoff + end_trunc`
    /// (upstream) or `dataoff + end_trunc` (2019 v1.3) exceeds the namespace size, so it
    /// describes no data to keep in place. Kernels without the 6.5 small-namespace check still
    /// enable such a block, with a device size that wrapped below zero (fuzz finding F7:
    /// Linux 4.6 on ppc64 enabled it with a size of 2^64 − 192 KiB), and a conversion that
    /// drops a field changes that size, so no conversion of it is planned. Reported for the
    /// old block; the conversions `plan_upgrade` makes never move an extent out of the
    /// namespace, but the new block is checked the same way and reported with its values.
    NoDataInNamespace {
        /// `start_pad` as the conversion reads it (0 below v1.1), and 0 for a 2019 v1.3 block,
        /// whose `dataoff` already counts it.
        start_pad: u32,
        /// `dataoff`.
        dataoff: u64,
        /// `end_trunc` as the conversion reads it (0 below v1.1).
        end_trunc: u32,
        /// Namespace size in bytes.
        size: u64,
    },
    /// The new block would place the data elsewhere than the old one, as their writers meant
    /// them (FORMAT.md §5.2 for upstream blocks: start + start_pad + dataoff; §5.3 for the 2019
    /// v1.3: start + dataoff), even if no reader loads both.
    MovesData {
        /// Data start and size the old block describes.
        before: (u64, u64),
        /// Data start and size the new block describes.
        after: (u64, u64),
    },
    /// The new block does not pass the target's validation (its reference reader does not
    /// load it).
    TargetRefuses {
        /// The target.
        target: FormatVersion,
        /// The reference reader's verdict.
        verdict: Verdict,
    },
    /// The new value cannot be written.
    Emit(EmitError),
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAnInfoBlock(r) => write!(f, "not a usable info-block: {r}"),
            Self::Inexpressible { target, features } => {
                write!(f, "version {target} cannot store")?;
                let mut sep = " ";
                for feature in features.iter() {
                    write!(f, "{sep}{}", feature.name())?;
                    sep = ", ";
                }
                Ok(())
            }
            Self::DataoffOutOfRange { dataoff, start_pad } => write!(
                f,
                "dataoff {dataoff:#x} cannot be adjusted by start_pad {start_pad:#x}"
            ),
            Self::DataWouldMove {
                reader,
                before,
                after,
            } => write!(
                f,
                "{} would see different data: start {:#x} size {:#x} before, start {:#x} size \
                 {:#x} after",
                ReaderName::from(*reader),
                before.0,
                before.1,
                after.0,
                after.1
            ),
            Self::NoDataInNamespace {
                start_pad,
                dataoff,
                end_trunc,
                size,
            } => write!(
                f,
                "start_pad {start_pad:#x} + dataoff {dataoff:#x} + end_trunc {end_trunc:#x} \
                 exceed the namespace size {size:#x}: the block describes no data to keep in \
                 place"
            ),
            Self::MovesData { before, after } => write!(
                f,
                "the new block would describe other data: start {:#x} size {:#x} before, start \
                 {:#x} size {:#x} after",
                before.0, before.1, after.0, after.1
            ),
            Self::TargetRefuses { target, verdict } => {
                write!(
                    f,
                    "the new block fails {target} validation: {}",
                    verdict.token()
                )?;
                if let Some(reason) = verdict.reason() {
                    write!(f, ": {reason}")?;
                }
                Ok(())
            }
            Self::Emit(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for UpgradeError {}

impl From<Reader> for ReaderName {
    fn from(reader: Reader) -> Self {
        reader.name()
    }
}

/// The block's current format version.
#[must_use]
pub fn format_version(block: &InfoBlock) -> FormatVersion {
    if is_2019_block(block) {
        FormatVersion::V2019_1_3
    } else {
        FormatVersion::upstream(block.version().minor)
    }
}

/// Plans rewriting `block` (in `ns`) as version `target`.
///
/// The new block keeps what readers see today (the values after the kernel's defaulting by
/// the stored minor, FORMAT.md §3.7 step 7), with these conversions:
/// * to the 2019 v1.3 from an upstream block: `dataoff += start_pad` (the 2019 reading counts
///   from the raw namespace base, FORMAT.md §5.3), `mode` becomes `PFN3_MODE_*` and
///   `min_version` [`MIN_VERSION_2019`], so upstream kernels ignore the block (unknown mode,
///   `-ENXIO`) and 2019 readers below level 3 refuse it, instead of misreading it;
/// * from the 2019 v1.3 to upstream: the reverse (`dataoff -= start_pad`, upstream modes);
/// * fields the target lacks are dropped; fields it adds take their defaults (`page_size`
///   4096, `page_struct_size` 64, as an x86_64 reader defaults them).
///
/// The old block must describe data inside the namespace and the new block the same data
/// ([`data_extent`]); then every known reader checks both blocks.
///
/// # Errors
/// [`UpgradeError::NoDataInNamespace`] when the old block's paddings and `dataoff` exceed the
/// namespace (old kernels enable such a block with a wrapped size that a conversion changes).
/// [`UpgradeError::MovesData`] when the new block would describe other data (a downgrade that
/// drops start_pad or end_trunc, or a 2019 block converted without its start_pad).
/// [`UpgradeError::DataWouldMove`] when a reader that loads both blocks (and did not misread
/// the old one) sees a different data start or length: this is how downgrades that lose
/// information are refused. [`UpgradeError::TargetRefuses`] when the target's reference reader
/// ([`Summary::reference_reader`]) does not load the new block. The others as documented on
/// [`UpgradeError`].
#[allow(clippy::result_large_err)] // no alloc: the error carries the reader and verdict by value
pub fn plan_upgrade(
    block: &InfoBlock,
    ns: &Namespace,
    target: FormatVersion,
) -> Result<UpgradePlan, UpgradeError> {
    let source = format_version(block);
    let options = dialect_options(block, 4096, true);
    let info = PfnInfo::parse(block, &options)
        .map_err(|_| UpgradeError::NotAnInfoBlock(not_an_info_block(block)))?;
    let new_info = convert(&info, source, target)?;
    match (data_extent(&info, ns), data_extent(&new_info, ns)) {
        (None, _) => return Err(no_data_in_namespace(&info, ns)),
        (Some(_), None) => return Err(no_data_in_namespace(&new_info, ns)),
        (Some(before), Some(after)) if before != after => {
            return Err(UpgradeError::MovesData { before, after });
        }
        (Some(_), Some(_)) => {}
    }
    // The plan is built in place (the new block emitted into it, the verdicts written into
    // its array) rather than assembled from locals at the end, which kept a second copy of
    // its 13 KiB on the stack.
    let unread = Verdict::Ignored(Reason::BadSignature);
    let placeholder = Summary {
        version: target,
        dataoff: 0,
        reader: Reader::DataoffOnly,
        data_start: None,
        data_size: None,
    };
    let mut plan = UpgradePlan {
        target,
        block: InfoBlock::zeroed(),
        before: placeholder,
        after: placeholder,
        readers: [ReaderChange {
            reader: Reader::DataoffOnly,
            before: unread,
            after: unread,
        }; 16],
    };
    new_info.emit(&mut plan.block).map_err(UpgradeError::Emit)?;
    for (slot, reader) in plan.readers.iter_mut().zip(Reader::KNOWN) {
        *slot = ReaderChange {
            reader,
            before: check(block, ns, &reader),
            after: check(&plan.block, ns, &reader),
        };
    }
    for change in &plan.readers {
        let (Some(b), Some(a)) = (change.before.view(), change.after.view()) else {
            continue;
        };
        if change.before.is_misread() {
            continue;
        }
        if (b.data_start, b.data_size) != (a.data_start, a.data_size) {
            return Err(UpgradeError::DataWouldMove {
                reader: change.reader,
                before: (b.data_start, b.data_size),
                after: (a.data_start, a.data_size),
            });
        }
    }
    let reference = Summary::reference_reader(target);
    let verdict = check(&plan.block, ns, &reference);
    if !verdict.loads() || verdict.is_misread() {
        return Err(UpgradeError::TargetRefuses { target, verdict });
    }
    plan.before = Summary::of(block, source, ns);
    plan.after = Summary::of(&plan.block, target, ns);
    Ok(plan)
}

/// The data a block describes, as its writer meant it: (physical start, length). Upstream
/// blocks count dataoff from the start_pad-adjusted base (FORMAT.md §5.2, block I/O); the 2019
/// v1.3 from the raw base (§5.3). Fields are taken after the defaulting by minor version.
#[must_use]
pub fn data_extent(info: &PfnInfo, ns: &Namespace) -> Option<(u64, u64)> {
    let start_pad = u64::from(info.start_pad);
    let end_trunc = u64::from(info.end_trunc);
    let (first_off, used) = if info.min_version.is_some() {
        (info.dataoff, info.dataoff.checked_add(end_trunc)?)
    } else {
        let first = start_pad.checked_add(info.dataoff)?;
        (first, first.checked_add(end_trunc)?)
    };
    Some((ns.start.checked_add(first_off)?, ns.size.checked_sub(used)?))
}

fn no_data_in_namespace(info: &PfnInfo, ns: &Namespace) -> UpgradeError {
    UpgradeError::NoDataInNamespace {
        // The 2019 v1.3 counts dataoff from the raw base, so start_pad is inside it.
        start_pad: if info.min_version.is_some() {
            0
        } else {
            info.start_pad
        },
        dataoff: info.dataoff,
        end_trunc: info.end_trunc,
        size: ns.size,
    }
}

fn not_an_info_block(block: &InfoBlock) -> Reason {
    if crate::pfn::model::DeviceKind::from_signature(block.signature).is_none() {
        Reason::BadSignature
    } else {
        Reason::ChecksumMismatch
    }
}

#[allow(clippy::result_large_err)]
fn convert(
    info: &PfnInfo,
    source: FormatVersion,
    target: FormatVersion,
) -> Result<PfnInfo, UpgradeError> {
    let mut out = *info;
    out.version = target.stored();
    let start_pad = u64::from(info.start_pad);
    let out_of_range = UpgradeError::DataoffOutOfRange {
        dataoff: info.dataoff,
        start_pad: info.start_pad,
    };
    match (source.is_2019(), target.is_2019()) {
        (false, true) => {
            let lost = Features::of_page_fields(info);
            if !lost.is_empty() {
                return Err(UpgradeError::Inexpressible {
                    target,
                    features: lost,
                });
            }
            out.dataoff = info.dataoff.checked_add(start_pad).ok_or(out_of_range)?;
            out.mode = upstream_to_pfn3(info.mode);
            out.min_version = Some(MIN_VERSION_2019);
        }
        (true, false) => {
            out.dataoff = info.dataoff.checked_sub(start_pad).ok_or(out_of_range)?;
            out.mode = pfn3_to_upstream(info.mode);
            out.min_version = None;
        }
        (true, true) => {}
        (false, false) => out.min_version = None,
    }
    if !target.stored().has_page_sizes() {
        out.page_size = 4096;
        out.page_struct_size = PfnInfo::DEFAULT_PAGE_STRUCT_SIZE;
    }
    if !target.stored().has_align() {
        out.align = 0;
    }
    if !target.stored().has_padding_fields() {
        out.start_pad = 0;
        out.end_trunc = 0;
    }
    if out.version != Version::V1_3 {
        out.min_version = None;
    }
    Ok(out)
}

impl Features {
    /// The v1.4 features of a parsed value (`page_size` != 4096, `page_struct_size` != 64).
    #[must_use]
    pub fn of_page_fields(info: &PfnInfo) -> Self {
        let mut f = Self::empty();
        f.set(Self::PAGE_SIZE, info.page_size != 4096);
        f.set(
            Self::PAGE_STRUCT_SIZE,
            info.page_struct_size != PfnInfo::DEFAULT_PAGE_STRUCT_SIZE,
        );
        f
    }
}
