//! Readers of info-blocks and what each makes of a block: [`check`].

use core::fmt;

use super::features::{
    derived_align, dialect_options, is_2019_block, pfn3_to_upstream, ClaimedView, Features,
    FormatVersion, Intent,
};
use super::kernel::{kernel_outcome, kernel_outcome_of_info, KernelOutcome};
use crate::pfn::model::{DeviceKind, Dialect, ParseOptions, PfnInfo};
use crate::pfn::profile::{Era, Platform, Profile};
use crate::pfn::raw::{InfoBlock, Mode};
use crate::pfn::validate::{self, Errno, Namespace, NamespaceError, Stage};
use crate::pfn::version::Version;

/// How a reader treats the block's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionSupport {
    /// The reader never refuses a block for its version (every upstream kernel: FORMAT.md
    /// §1.4; ndctl; a dataoff-only driver). It reads what it knows and defaults the rest.
    IgnoresVersion,
    /// The reader declares a support level (`PFN_VERSION_SUPPORT`, FORMAT.md §1.5) and
    /// refuses blocks that need more.
    Declares(u16),
}

impl VersionSupport {
    /// Whether a reader with this support may load a block that needs `version`.
    #[must_use]
    pub const fn admits(self, version: FormatVersion) -> bool {
        match self {
            Self::IgnoresVersion => true,
            Self::Declares(level) => version.level() <= level,
        }
    }
}

/// A reader of info-blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reader {
    /// An upstream Linux kernel; its verdicts are the validator's ([`crate::pfn::validate`]).
    Kernel(Profile),
    /// `ndctl read-infoblock -j -V`, ndctl 76 and later (NDCTL.md §3): the exact signature, the
    /// checksum, and a version that prints in 3 characters; nothing else.
    Ndctl,
    /// A reader that uses only the signature, the checksum and `dataoff`, such as an EFI or
    /// bootloader block driver (FORMAT.md §1.5: "the EFI driver that only care about
    /// data_offset"). It reads the data at namespace start + `dataoff` for every block.
    DataoffOnly,
    /// A kernel that implements the 2019 proposal with `PFN_VERSION_SUPPORT` = the level
    /// (FORMAT.md §1.5). See [`Reader::min_version_profile`] for the rules it applies.
    MinVersion(u16),
}

/// The stable name of a reader (see [`Reader::name`]).
#[derive(Clone, Copy, Debug)]
pub struct ReaderName(Reader);

impl fmt::Display for ReaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Reader::Kernel(p) => write!(f, "{}", p.name()),
            Reader::Ndctl => f.write_str("ndctl"),
            Reader::DataoffOnly => f.write_str("dataoff-only"),
            Reader::MinVersion(n) => write!(f, "min-version-{n}"),
        }
    }
}

impl Reader {
    /// Every known reader, in matrix order: each kernel era on x86_64 (oldest first), ndctl,
    /// the dataoff-only reader and the 2019 readers with support levels 2, 3 and 4.
    pub const KNOWN: [Self; 16] = [
        Self::Kernel(Profile::new(Era::V4_3, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V4_6, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V4_7, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V4_15, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V5_1, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V5_3, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V5_4, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V5_7, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V6_1, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V6_3, Platform::X86_64)),
        Self::Kernel(Profile::new(Era::V6_5, Platform::X86_64)),
        Self::Ndctl,
        Self::DataoffOnly,
        Self::MinVersion(2),
        Self::MinVersion(3),
        Self::MinVersion(4),
    ];

    /// The reader with a stable name (`"linux-6.5"`, `"ndctl"`, `"dataoff-only"`,
    /// `"min-version-3"`), among [`Reader::KNOWN`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        use core::fmt::Write as _;
        Self::KNOWN.iter().copied().find(|r| {
            let mut buf = NameBuf::default();
            write!(buf, "{}", r.name()).is_ok() && buf.as_str() == name
        })
    }

    /// The stable name.
    #[must_use]
    pub const fn name(&self) -> ReaderName {
        ReaderName(*self)
    }

    /// How this reader treats versions.
    #[must_use]
    pub const fn version_support(&self) -> VersionSupport {
        match self {
            Self::MinVersion(level) => VersionSupport::Declares(*level),
            _ => VersionSupport::IgnoresVersion,
        }
    }

    /// The newest format version this reader understands (an upstream kernel: the version
    /// its era writes; ndctl 76+: 1.4; dataoff-only: 1.0, since it reads no later field).
    #[must_use]
    pub const fn understands(&self) -> FormatVersion {
        match self {
            Self::Kernel(p) => FormatVersion::upstream(p.rules.writes_version.minor),
            Self::Ndctl => FormatVersion::V1_4,
            Self::DataoffOnly => FormatVersion::V1_0,
            Self::MinVersion(level) if *level >= 4 => FormatVersion::V1_4,
            Self::MinVersion(level) if *level == 3 => FormatVersion::V2019_1_3,
            Self::MinVersion(_) => FormatVersion::V1_2,
        }
    }

    /// The kernel rules a 2019 reader of support `level` applies after its `min_version`
    /// check. **Choice:** levels 2 and 3 are the proposal's own kernels (posted against
    /// Linux 5.0/5.1, so [`Era::V5_1`] rules on x86_64); level 4 and above are a current
    /// kernel that also honours `min_version` ([`Era::V6_5`]).
    #[must_use]
    pub const fn min_version_profile(level: u16) -> Profile {
        if level >= 4 {
            Profile::new(Era::V6_5, Platform::X86_64)
        } else {
            Profile::new(Era::V5_1, Platform::X86_64)
        }
    }
}

#[derive(Default)]
struct NameBuf {
    buf: [u8; 32],
    len: usize,
}

impl NameBuf {
    fn as_str(&self) -> &str {
        self.buf
            .get(..self.len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl fmt::Write for NameBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// What a reader sees when it loads a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct View {
    /// fsdax or devdax.
    pub kind: DeviceKind,
    /// The mode the reader works in (after mapping `PFN3_MODE_*` back, for 2019 readers).
    pub mode: Mode,
    /// Physical address of the first data byte.
    pub data_start: u64,
    /// Bytes of data.
    pub data_size: u64,
    /// The mapping alignment the reader uses (0: the reader has none).
    pub align: u64,
    /// The number of data pages the reader works with.
    pub npfns: u64,
}

/// One reason a load is degraded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Caveat {
    /// fsdax with `start_pad`: block I/O uses base + start_pad + dataoff, but the DAX pfn
    /// leaves start_pad out, so DAX maps the wrong page (FORMAT.md §5.2).
    DaxPfnMismatch {
        /// The block's start_pad.
        start_pad: u32,
    },
    /// fsdax map=mem with `dataoff` < `start_pad`: the DAX pfn of the first sector falls
    /// before the pgmap, has no struct page, and DAX is disabled (FORMAT.md §5.2).
    DaxDisabled {
        /// The block's start_pad.
        start_pad: u32,
    },
    /// The stored npfns is larger than the pages the reader maps ("number of pfns truncated",
    /// FORMAT.md §1.4).
    NpfnsTruncated {
        /// Stored npfns.
        stored: u64,
        /// Pages used.
        used: u64,
    },
    /// The memmap reserve was sized for a larger struct page than the reader's: capacity lost
    /// (FORMAT.md §7.5, blocks from Linux 6.1–6.2 record 128).
    CapacityLost {
        /// The block's page_struct_size.
        page_struct_size: u16,
        /// The reader's sizeof(struct page).
        struct_page_size: u16,
        /// Bytes of the reserve the reader does not need.
        bytes: u64,
    },
    /// The block uses features its claimed version lacks, so the reader reads defaults
    /// instead ([`ClaimedView`], FORMAT.md §3.7 step 7).
    FieldsDefaulted {
        /// The features read as defaults.
        features: Features,
    },
    /// The block uses features newer than the reader, which reads them as padding.
    FieldsUnknown {
        /// The features the reader predates.
        features: Features,
    },
    /// Flags or padding hold non-zero bytes in a block below v1.3 (stale bytes from an
    /// earlier block, FORMAT.md §7.6); a reader that decodes them without looking at the
    /// version (ndctl) shows them as values.
    StalePadding,
    /// The reader shows fields the claimed version lacks, as stored (ndctl does not mask by
    /// version, NDCTL.md §3), while kernels read defaults.
    ShowsUnmaskedFields {
        /// The features shown though the claimed version lacks them.
        features: Features,
    },
    /// The reader takes dataoff from the raw namespace base, but the block's writer meant the
    /// start_pad-adjusted base: it reads data start_pad bytes before where Linux's block I/O
    /// put it (FORMAT.md §5.2, §5.3). This is a misread, not just a degradation.
    MisplacedData {
        /// The block's start_pad.
        start_pad: u32,
    },
    /// A 2019 v1.3 block (dataoff from the raw base) read by a reader that adds start_pad again:
    /// its data starts start_pad bytes past where the block's writer put it (FORMAT.md §5.3).
    /// A misread.
    StartPadAddedTwice {
        /// The block's start_pad.
        start_pad: u32,
    },
    /// The reader ignores end_trunc: its data area runs end_trunc bytes past Linux's.
    EndTruncIgnored {
        /// The block's end_trunc.
        end_trunc: u32,
    },
}

impl Caveat {
    /// A stable token.
    #[must_use]
    pub const fn token(&self) -> &'static str {
        match self {
            Self::DaxPfnMismatch { .. } => "dax_pfn_mismatch",
            Self::DaxDisabled { .. } => "dax_disabled",
            Self::NpfnsTruncated { .. } => "npfns_truncated",
            Self::CapacityLost { .. } => "capacity_lost",
            Self::FieldsDefaulted { .. } => "fields_defaulted",
            Self::FieldsUnknown { .. } => "fields_unknown",
            Self::StalePadding => "stale_padding",
            Self::ShowsUnmaskedFields { .. } => "shows_unmasked_fields",
            Self::MisplacedData { .. } => "misplaced_data",
            Self::StartPadAddedTwice { .. } => "start_pad_added_twice",
            Self::EndTruncIgnored { .. } => "end_trunc_ignored",
        }
    }

    /// Whether the reader sees other bytes as data than the block's writer meant.
    #[must_use]
    pub const fn is_misread(&self) -> bool {
        matches!(
            self,
            Self::MisplacedData { .. } | Self::StartPadAddedTwice { .. }
        )
    }
}

impl fmt::Display for Caveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaxPfnMismatch { start_pad } => write!(
                f,
                "dax maps the wrong pfn: block i/o includes start_pad {start_pad:#x}, the dax pfn \
                 does not"
            ),
            Self::DaxDisabled { start_pad } => write!(
                f,
                "dax disabled: the pfn of sector 0 lies start_pad {start_pad:#x} bytes before the \
                 memmap"
            ),
            Self::NpfnsTruncated { stored, used } => {
                write!(f, "number of pfns truncated from {stored} to {used}")
            }
            Self::CapacityLost {
                page_struct_size,
                struct_page_size,
                bytes,
            } => write!(
                f,
                "{bytes} bytes lost: memmap reserved at {page_struct_size} bytes per page, the \
                 reader needs {struct_page_size}"
            ),
            Self::FieldsDefaulted { features } => {
                f.write_str("the claimed version lacks")?;
                write_features(f, *features)?;
                f.write_str(": read as defaults")
            }
            Self::FieldsUnknown { features } => {
                f.write_str("the reader predates")?;
                write_features(f, *features)?;
                f.write_str(": ignored")
            }
            Self::StalePadding => {
                f.write_str("non-zero flags or padding before v1.3 (stale bytes shown as values)")
            }
            Self::ShowsUnmaskedFields { features } => {
                f.write_str("shows stored")?;
                write_features(f, *features)?;
                f.write_str(" that kernels read as defaults")
            }
            Self::MisplacedData { start_pad } => write!(
                f,
                "reads data at namespace start + dataoff, {start_pad:#x} bytes (start_pad) before \
                 linux block i/o"
            ),
            Self::StartPadAddedTwice { start_pad } => write!(
                f,
                "adds start_pad {start_pad:#x} to a raw-base dataoff: reads {start_pad:#x} bytes \
                 past the data"
            ),
            Self::EndTruncIgnored { end_trunc } => {
                write!(
                    f,
                    "data area runs end_trunc {end_trunc:#x} bytes past linux's"
                )
            }
        }
    }
}

fn write_features(f: &mut fmt::Formatter<'_>, features: Features) -> fmt::Result {
    let mut sep = " ";
    for feature in features.iter() {
        write!(f, "{sep}{}", feature.name())?;
        sep = ", ";
    }
    Ok(())
}

/// The caveats of a degraded load (at most [`Caveats::CAPACITY`]; no allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Caveats {
    items: [Option<Caveat>; Caveats::CAPACITY],
}

impl Caveats {
    /// How many caveats fit.
    pub const CAPACITY: usize = 8;

    /// Adds a caveat (dropped if full; every reader here produces fewer than the capacity).
    pub fn push(&mut self, caveat: Caveat) {
        if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
            *slot = Some(caveat);
        }
    }

    /// The caveats in order.
    pub fn iter(&self) -> impl Iterator<Item = &Caveat> {
        self.items.iter().flatten()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.iter().all(Option::is_none)
    }

    /// Whether any caveat is a misread ([`Caveat::is_misread`]).
    #[must_use]
    pub fn has_misread(&self) -> bool {
        self.iter().any(Caveat::is_misread)
    }
}

/// Why a reader does not load a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The 16-byte signature is neither PFN nor DAX (exact match).
    BadSignature,
    /// The checksum does not match.
    ChecksumMismatch,
    /// A kernel's verdict, from the validator ([`crate::pfn::validate::check`]).
    Kernel {
        /// The validator's reason.
        reason: validate::Reason,
        /// What the kernel returns.
        errno: Errno,
        /// Where a refusal happened (`None` when the namespace is used raw).
        stage: Option<Stage>,
    },
    /// The namespace given cannot exist.
    Namespace(NamespaceError),
    /// The block's `min_version` is above the reader's `PFN_VERSION_SUPPORT`.
    MinVersion {
        /// What the block needs.
        needs: u16,
        /// What the reader supports.
        supports: u16,
    },
    /// ndctl formats the version into 4 bytes (`"%d.%d"`), so a version needing more than 3
    /// characters cannot be printed and the block is left out (NDCTL.md §3).
    VersionUnprintable {
        /// The stored version.
        version: Version,
    },
    /// `dataoff` is at or past the namespace end, so there is no data to read.
    DataoffBeyondNamespace {
        /// Stored dataoff.
        dataoff: u64,
        /// Namespace size.
        size: u64,
    },
    /// A 2019 block whose `start_pad` exceeds its raw-base `dataoff`.
    StartPadBeyondDataoff {
        /// The block's start_pad.
        start_pad: u32,
        /// Stored dataoff.
        dataoff: u64,
    },
}

impl Reason {
    /// The errno the reader returns, where it is a kernel: the validator's for upstream
    /// kernels; for a `min_version` refusal `-EOPNOTSUPP`. **Choice** (FORMAT.md §1.5 leaves
    /// the errno of the 2019 check UNCONFIRMED): `-EOPNOTSUPP` is the errno with which a valid
    /// block the kernel cannot use keeps the namespace disabled instead of falling back to raw
    /// (§3.6), which is what "refuse rather than misread" needs. `None` for ndctl and
    /// dataoff-only refusals, which are not kernel paths.
    #[must_use]
    pub const fn errno(&self) -> Option<Errno> {
        match self {
            Self::Kernel { errno, .. } => Some(*errno),
            Self::MinVersion { .. } => Some(Errno::EOPNOTSUPP),
            _ => None,
        }
    }

    /// A stable token for the JSON output.
    #[must_use]
    pub const fn token(&self) -> &'static str {
        match self {
            Self::BadSignature => "bad_signature",
            Self::ChecksumMismatch => "checksum_mismatch",
            Self::Kernel { reason, .. } => reason.token(),
            Self::Namespace(_) => "bad_namespace",
            Self::MinVersion { .. } => "min_version",
            Self::VersionUnprintable { .. } => "version_unprintable",
            Self::DataoffBeyondNamespace { .. } => "dataoff_beyond_namespace",
            Self::StartPadBeyondDataoff { .. } => "start_pad_beyond_dataoff",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadSignature => {
                f.write_str("signature is neither NVDIMM_PFN_INFO nor NVDIMM_DAX_INFO")
            }
            Self::ChecksumMismatch => f.write_str("checksum mismatch"),
            Self::Kernel {
                reason,
                errno,
                stage,
            } => {
                write!(f, "{reason} ({errno}")?;
                if let Some(stage) = stage {
                    write!(f, " at {stage}")?;
                }
                f.write_str(")")
            }
            Self::Namespace(e) => write!(f, "{e}"),
            Self::MinVersion { needs, supports } => write!(
                f,
                "version >= min_version is required: the block needs 1.{needs}, this reader \
                 supports 1.{supports}"
            ),
            Self::VersionUnprintable { version } => write!(
                f,
                "version {version} needs more than 3 characters: ndctl cannot print it and drops \
                 the block"
            ),
            Self::DataoffBeyondNamespace { dataoff, size } => {
                write!(
                    f,
                    "dataoff {dataoff:#x} is not below the namespace size {size:#x}"
                )
            }
            Self::StartPadBeyondDataoff { start_pad, dataoff } => write!(
                f,
                "start_pad {start_pad:#x} exceeds the raw-base dataoff {dataoff:#x}"
            ),
        }
    }
}

/// What a reader does with a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Loads it and sees what its writer meant.
    Loads(View),
    /// Loads it, with caveats.
    LoadsDegraded(View, Caveats),
    /// Does not recognise it as an info-block and uses the namespace raw.
    Ignored(Reason),
    /// Recognises it and refuses it: the namespace stays disabled.
    Refused(Reason),
}

impl Verdict {
    /// `"loads"`, `"degraded"`, `"ignored"` or `"refused"`.
    #[must_use]
    pub const fn token(&self) -> &'static str {
        match self {
            Self::Loads(_) => "loads",
            Self::LoadsDegraded(..) => "degraded",
            Self::Ignored(_) => "ignored",
            Self::Refused(_) => "refused",
        }
    }

    /// What the reader sees, when it loads the block.
    #[must_use]
    pub const fn view(&self) -> Option<&View> {
        match self {
            Self::Loads(v) | Self::LoadsDegraded(v, _) => Some(v),
            _ => None,
        }
    }

    /// Whether the reader loads the block (degraded or not).
    #[must_use]
    pub const fn loads(&self) -> bool {
        self.view().is_some()
    }

    /// The reason, when it does not load.
    #[must_use]
    pub const fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Ignored(r) | Self::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// The caveats (empty unless degraded).
    #[must_use]
    pub fn caveats(&self) -> Caveats {
        match self {
            Self::LoadsDegraded(_, c) => *c,
            _ => Caveats::default(),
        }
    }

    /// Whether the reader loads the block but reads other bytes as data than its writer meant.
    #[must_use]
    pub fn is_misread(&self) -> bool {
        self.caveats().has_misread()
    }

    fn from_view(view: View, caveats: Caveats) -> Self {
        if caveats.is_empty() {
            Self::Loads(view)
        } else {
            Self::LoadsDegraded(view, caveats)
        }
    }
}

/// What `reader` does with `block` in `namespace`.
///
/// Kernel verdicts are the validator's (probe path) plus the consequences it does not judge
/// (the DAX pfn with start_pad, npfns, capacity, defaulted fields). The other readers follow
/// the rules documented on [`Reader`].
#[must_use]
// Out of line: `plan_upgrade` calls it 33 times, and inlined copies would add their frames to
// its own.
#[inline(never)]
pub fn check(block: &InfoBlock, namespace: &Namespace, reader: &Reader) -> Verdict {
    match reader {
        Reader::Kernel(profile) => check_kernel(block, namespace, profile),
        Reader::Ndctl => check_ndctl(block, namespace),
        Reader::DataoffOnly => check_dataoff_only(block, namespace),
        Reader::MinVersion(level) => check_min_version(block, namespace, *level),
    }
}

fn signature_and_checksum(block: &InfoBlock) -> Result<DeviceKind, Reason> {
    let kind = DeviceKind::from_signature(block.signature).ok_or(Reason::BadSignature)?;
    block
        .verify_checksum()
        .map_err(|_| Reason::ChecksumMismatch)?;
    Ok(kind)
}

fn check_kernel(block: &InfoBlock, ns: &Namespace, profile: &Profile) -> Verdict {
    let outcome = kernel_outcome(block, ns, profile);
    let view = match outcome {
        KernelOutcome::Raw(reason) => return Verdict::Ignored(reason),
        KernelOutcome::Rejected(reason) => return Verdict::Refused(reason),
        KernelOutcome::Enabled(view) => view,
    };
    let mut caveats = Caveats::default();
    let options = dialect_options(block, 4096, false);
    let Ok(info) = PfnInfo::parse(block, &options) else {
        return Verdict::from_view(view, caveats);
    };
    if profile.era.is_at_least(Era::V4_6) {
        push_dax_caveat(&mut caveats, &info);
        push_2019_misread(&mut caveats, block, &info);
    }
    push_common_kernel_caveats(
        &mut caveats,
        &ClaimedView::of_block(block),
        &info,
        &view,
        profile,
    );
    Verdict::from_view(view, caveats)
}

/// A reader without the 2019 reading that loads a 2019 block (possible only when its mode is
/// an upstream one) counts dataoff from base + start_pad (FORMAT.md §5.3).
fn push_2019_misread(caveats: &mut Caveats, block: &InfoBlock, info: &PfnInfo) {
    if is_2019_block(block) && info.start_pad != 0 {
        caveats.push(Caveat::StartPadAddedTwice {
            start_pad: info.start_pad,
        });
    }
}

/// FORMAT.md §5.2: with start_pad, fsdax computes the DAX pfn from the raw base. For map=mem
/// with dataoff < start_pad that pfn has no struct page and DAX is disabled; otherwise DAX
/// maps the wrong page. devdax maps from the adjusted base and is unaffected (§6.1).
fn push_dax_caveat(caveats: &mut Caveats, info: &PfnInfo) {
    if info.kind != DeviceKind::Fsdax || info.start_pad == 0 {
        return;
    }
    let start_pad = info.start_pad;
    if info.mode == Mode::RAM && info.dataoff < u64::from(start_pad) {
        caveats.push(Caveat::DaxDisabled { start_pad });
    } else {
        caveats.push(Caveat::DaxPfnMismatch { start_pad });
    }
}

fn push_common_kernel_caveats(
    caveats: &mut Caveats,
    claimed: &ClaimedView,
    info: &PfnInfo,
    view: &View,
    profile: &Profile,
) {
    if view.mode == Mode::PMEM && info.npfns > view.npfns {
        caveats.push(Caveat::NpfnsTruncated {
            stored: info.npfns,
            used: view.npfns,
        });
    }
    let sps = profile.platform.struct_page_size;
    if view.mode == Mode::PMEM && info.page_struct_size > sps {
        let extra = info.page_struct_size.saturating_sub(sps);
        caveats.push(Caveat::CapacityLost {
            page_struct_size: info.page_struct_size,
            struct_page_size: sps,
            bytes: u64::from(extra).saturating_mul(view.npfns),
        });
    }
    let defaulted = claimed
        .dropped
        .difference(Features::MIN_VERSION | Features::RAW_BASE_DATAOFF);
    if !defaulted.is_empty() {
        caveats.push(Caveat::FieldsDefaulted {
            features: defaulted,
        });
    }
    let understands = FormatVersion::upstream(profile.rules.writes_version.minor);
    let mut unknown = Features::empty();
    for (f, need) in claimed.required.reasons() {
        if !need.is_2019() && !understands.includes(need) && !defaulted.contains(f) {
            unknown |= f;
        }
    }
    if !unknown.is_empty() {
        caveats.push(Caveat::FieldsUnknown { features: unknown });
    }
}

fn check_ndctl(block: &InfoBlock, ns: &Namespace) -> Verdict {
    let kind = match signature_and_checksum(block) {
        Ok(kind) => kind,
        Err(reason) => return Verdict::Ignored(reason),
    };
    let version = block.version();
    if version.major >= 10 || version.minor >= 10 {
        return Verdict::Refused(Reason::VersionUnprintable { version });
    }
    let intent = Intent::of(block);
    let mut caveats = Caveats::default();
    // ndctl's writer measures dataoff from the namespace start (NDCTL.md §2 step 3), and it
    // shows every field as stored, whatever the minor.
    if intent.dialect == Dialect::Upstream && version.has_padding_fields() && intent.start_pad != 0
    {
        caveats.push(Caveat::MisplacedData {
            start_pad: intent.start_pad,
        });
    }
    let claimed = ClaimedView::of_block(block);
    if !claimed.dropped.is_empty() {
        caveats.push(Caveat::ShowsUnmaskedFields {
            features: claimed.dropped,
        });
    }
    if intent.stale_padding && !version.has_zeroed_padding() {
        caveats.push(Caveat::StalePadding);
    }
    // ndctl checks no offset (NDCTL.md §3): a dataoff past the namespace is still printed; the
    // data it describes is then empty.
    let data_size = ns
        .size
        .saturating_sub(intent.dataoff)
        .saturating_sub(u64::from(intent.end_trunc));
    let view = View {
        kind,
        mode: block.mode(),
        data_start: ns.start.saturating_add(intent.dataoff),
        data_size,
        align: u64::from(intent.align),
        npfns: block.npfns.get(),
    };
    Verdict::from_view(view, caveats)
}

fn check_dataoff_only(block: &InfoBlock, ns: &Namespace) -> Verdict {
    let kind = match signature_and_checksum(block) {
        Ok(kind) => kind,
        Err(reason) => return Verdict::Ignored(reason),
    };
    let dataoff = block.dataoff.get();
    let Some(data_size) = ns.size.checked_sub(dataoff).filter(|&s| s != 0) else {
        return Verdict::Refused(Reason::DataoffBeyondNamespace {
            dataoff,
            size: ns.size,
        });
    };
    let version = block.version();
    let mut caveats = Caveats::default();
    if version.has_padding_fields() {
        let start_pad = block.start_pad.get();
        if start_pad != 0 && !is_2019_block(block) {
            caveats.push(Caveat::MisplacedData { start_pad });
        }
        let end_trunc = block.end_trunc.get();
        if end_trunc != 0 {
            caveats.push(Caveat::EndTruncIgnored { end_trunc });
        }
    }
    let view = View {
        kind,
        mode: block.mode(),
        data_start: ns.start.saturating_add(dataoff),
        data_size,
        align: 0,
        npfns: block.npfns.get(),
    };
    Verdict::from_view(view, caveats)
}

/// The `min_version` a 2019 reader acts on.
///
/// **Choice (FORMAT.md §1.5 leaves the defaulting UNCONFIRMED):**
/// * a 2019-dialect block (minor 3 with a non-zero byte 88..90 or a `PFN3_MODE_*` mode): the
///   stored `min_version`;
/// * minor 0–3 otherwise: 0. Minors below 3 do not guarantee zero padding (stale bytes could
///   look like a `min_version`), and an upstream v1.3 block has none;
/// * minor 4 and above (upstream layouts, where byte 88 is `page_size`): the stored minor. A
///   reader cannot find a `min_version` in a layout newer than it knows, so it takes the block
///   to need its own minor.
#[must_use]
pub fn effective_min_version(block: &InfoBlock) -> u16 {
    let minor = block.version().minor;
    if is_2019_block(block) {
        block.raw_min_version()
    } else if minor >= 4 {
        minor
    } else {
        0
    }
}

fn check_min_version(block: &InfoBlock, ns: &Namespace, level: u16) -> Verdict {
    if let Err(reason) = signature_and_checksum(block) {
        return Verdict::Ignored(reason);
    }
    let needs = effective_min_version(block);
    if needs > level {
        return Verdict::Refused(Reason::MinVersion {
            needs,
            supports: level,
        });
    }
    let profile = Reader::min_version_profile(level);
    if !is_2019_block(block) || level < 3 {
        // An upstream block (or a reader that predates the 2019 v1.3 reading): the base
        // kernel's verdict, with the 2019 map_base fix from level 3 on (no DAX pfn caveat).
        let outcome = kernel_outcome(block, ns, &profile);
        return match outcome {
            KernelOutcome::Raw(r) => Verdict::Ignored(r),
            KernelOutcome::Rejected(r) => Verdict::Refused(r),
            KernelOutcome::Enabled(view) => {
                let mut caveats = Caveats::default();
                let options = dialect_options(block, 4096, false);
                if let Ok(info) = PfnInfo::parse(block, &options) {
                    if level < 3 {
                        push_dax_caveat(&mut caveats, &info);
                        push_2019_misread(&mut caveats, block, &info);
                    }
                    let claimed = ClaimedView::of_block(block);
                    push_common_kernel_caveats(&mut caveats, &claimed, &info, &view, &profile);
                }
                Verdict::from_view(view, caveats)
            }
        };
    }
    // A 2019 v1.3 block read by a reader that knows it: dataoff counts from the raw base, so
    // the upstream-equivalent block has dataoff - start_pad and the upstream mode values.
    let start_pad = block.start_pad.get();
    let dataoff = block.dataoff.get();
    let Some(legacy_dataoff) = dataoff.checked_sub(u64::from(start_pad)) else {
        return Verdict::Refused(Reason::StartPadBeyondDataoff { start_pad, dataoff });
    };
    // Judged without building that block (a 4 KiB copy on the stack): the kernel would parse
    // it (upstream dialect; it verifies, its checksum being recomputed) to the value `read`
    // gives below, and its intent is `Intent::upstream_equivalent` (unit-tested against the
    // built block in this module).
    let kernel_read = ParseOptions {
        verify_checksum: false,
        ..validate::kernel_parse_options(&profile)
    };
    let read = |options: &ParseOptions| {
        PfnInfo::parse(block, options).map(|mut info| {
            info.dataoff = legacy_dataoff;
            info.mode = pfn3_to_upstream(block.mode());
            info
        })
    };
    let outcome = match read(&kernel_read) {
        Ok(info) => kernel_outcome_of_info(&info, ns, &profile),
        // Not reached: the signature was checked above.
        Err(_) => return Verdict::Ignored(Reason::BadSignature),
    };
    match outcome {
        KernelOutcome::Raw(r) => Verdict::Ignored(r),
        KernelOutcome::Rejected(r) => Verdict::Refused(r),
        KernelOutcome::Enabled(view) => {
            let mut caveats = Caveats::default();
            // The caveats read it with 4 KiB pages, as for every other block.
            let caveat_read = ParseOptions {
                page_size: 4096,
                ..kernel_read
            };
            if let Ok(info) = read(&caveat_read) {
                let claimed =
                    ClaimedView::of_intent(Intent::upstream_equivalent(block, legacy_dataoff));
                push_common_kernel_caveats(&mut caveats, &claimed, &info, &view, &profile);
            }
            Verdict::from_view(view, caveats)
        }
    }
}

/// The alignment a kernel uses for a block: the stored align, or the one derived from dataoff.
#[must_use]
pub fn effective_align(info: &PfnInfo) -> u64 {
    if info.align != 0 {
        u64::from(info.align)
    } else {
        derived_align(info.dataoff)
    }
}

#[cfg(test)]
#[allow(
    clippy::as_conversions,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::cast_possible_truncation
)]
mod tests {
    use super::{
        check, kernel_outcome, pfn3_to_upstream, push_common_kernel_caveats, Caveats, ClaimedView,
        Intent, KernelOutcome, Reader, Verdict,
    };
    use crate::pfn::compat::features::dialect_options;
    use crate::pfn::model::PfnInfo;
    use crate::pfn::raw::{InfoBlock, Signature};
    use crate::pfn::validate::Namespace;
    use crate::pfn::version::Version;

    /// `check_min_version` judges a 2019 v1.3 block through its upstream equivalent without
    /// building it. This is the way it did before (build the block, checksum it, let the
    /// validator and `ClaimedView::of_block` read it), kept here as the reference.
    fn by_built_block(block: &InfoBlock, ns: &Namespace, level: u16) -> (Intent, Verdict) {
        let profile = Reader::min_version_profile(level);
        let legacy = block
            .dataoff
            .get()
            .checked_sub(u64::from(block.start_pad.get()))
            .unwrap();
        let mut equivalent = block.clone();
        equivalent.dataoff.set(legacy);
        equivalent.mode.set(pfn3_to_upstream(block.mode()).0);
        equivalent.page_size.set(0);
        equivalent.page_struct_size.set(0);
        equivalent.update_checksum();
        let verdict = match kernel_outcome(&equivalent, ns, &profile) {
            KernelOutcome::Raw(r) => Verdict::Ignored(r),
            KernelOutcome::Rejected(r) => Verdict::Refused(r),
            KernelOutcome::Enabled(view) => {
                let mut caveats = Caveats::default();
                let options = dialect_options(&equivalent, 4096, false);
                if let Ok(info) = PfnInfo::parse(&equivalent, &options) {
                    let claimed = ClaimedView::of_block(&equivalent);
                    push_common_kernel_caveats(&mut caveats, &claimed, &info, &view, &profile);
                }
                Verdict::from_view(view, caveats)
            }
        };
        (Intent::of(&equivalent), verdict)
    }

    #[test]
    fn the_2019_equivalent_is_judged_as_if_built() {
        let mut x: u64 = 0x2019_0003;
        let mut next = move || {
            // splitmix64
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        const MIB: u64 = 1 << 20;
        let pick = |r: u64, from: &[u64]| from[(r % from.len() as u64) as usize];
        let mut loaded = 0;
        for _ in 0..4000 {
            let mut b = InfoBlock::zeroed();
            b.signature = if next() % 4 == 0 {
                Signature::DAX
            } else {
                Signature::PFN
            };
            b.uuid.0 = [0x11; 16];
            b.version_major.set(Version::V1_3.major);
            b.version_minor.set(Version::V1_3.minor);
            let start_pad = pick(next(), &[0, 0x10000, 2 * MIB, 64 * MIB, 0x100_0000]);
            b.start_pad.set(start_pad as u32);
            b.end_trunc
                .set(pick(next(), &[0, 0x10000, 2 * MIB, 64 * MIB]) as u32);
            b.dataoff
                .set(start_pad + pick(next(), &[0, 0x2000, 2 * MIB, 4 * MIB, 18 * MIB]));
            b.npfns.set(next() % 0x40000);
            b.mode.set(pick(next(), &[3, 4, 3, 4, 1, 2, 0, 9]) as u32);
            b.align
                .set(pick(next(), &[0, 0x1000, 2 * MIB, 1 << 30]) as u32);
            // min_version (bytes 88..90), sometimes with stale bytes 90..94 or flags.
            let stale = if next() % 5 == 0 { 0x0040_0000 } else { 0 };
            b.page_size.set(pick(next(), &[1, 3, 4]) as u32 | stale);
            if next() % 7 == 0 {
                b.flags.set(1);
            }
            b.update_checksum();
            let size = pick(next(), &[16 * MIB, 128 * MIB, 1 << 30]);
            let start = pick(next(), &[1 << 32, (1 << 32) + 64 * MIB, 0x10_3c00_0000]);
            let ns = Namespace::labelless(start, size);
            if !crate::pfn::compat::features::is_2019_block(&b)
                || b.dataoff.get() < u64::from(b.start_pad.get())
            {
                continue;
            }
            for level in [3, 4] {
                let (intent, verdict) = by_built_block(&b, &ns, level);
                let legacy = b.dataoff.get() - u64::from(b.start_pad.get());
                assert_eq!(Intent::upstream_equivalent(&b, legacy), intent);
                let now = check(&b, &ns, &Reader::MinVersion(level));
                if b.raw_min_version() <= level {
                    assert_eq!(now, verdict, "{b:?} level {level}");
                    loaded += usize::from(now.loads());
                }
            }
        }
        // The cases reach the enabled path (caveats included), not only refusals.
        assert!(loaded > 100, "{loaded}");
    }
}
