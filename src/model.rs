//! The model layer: a normalized view of a block, with the kernel's defaulting applied.

use core::fmt;

use crate::error::{EmitError, ParseError};
use crate::raw::{InfoBlock, Mode, Signature};
use crate::uuid::Uuid;
use crate::version::Version;

/// Which device a block describes, from its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceKind {
    /// `NVDIMM_PFN_INFO`: an fsdax namespace (`nd_pfn`, block device `/dev/pmemN`).
    Fsdax,
    /// `NVDIMM_DAX_INFO`: a devdax namespace (`nd_dax`, character device `/dev/daxN.M`).
    Devdax,
}

impl DeviceKind {
    /// The on-media signature of this kind.
    #[must_use]
    pub const fn signature(self) -> Signature {
        match self {
            Self::Fsdax => Signature::PFN,
            Self::Devdax => Signature::DAX,
        }
    }

    /// The kind a signature names, if any (exact 16-byte match, as the kernel's `memcmp`).
    #[must_use]
    pub fn from_signature(signature: Signature) -> Option<Self> {
        if signature == Signature::PFN {
            Some(Self::Fsdax)
        } else if signature == Signature::DAX {
            Some(Self::Devdax)
        } else {
            None
        }
    }

    /// `"fsdax"` or `"devdax"`, as ndctl names the modes.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Fsdax => "fsdax",
            Self::Devdax => "devdax",
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How bytes 88..94 of a block are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Upstream Linux: `page_size` (le32) at 88 and `page_struct_size` (le16) at 92, both
    /// present from minor 4; below minor 4 the bytes are padding.
    Upstream,
    /// The unmerged February 2019 proposal (FORMAT.md §1.5): in its v1.3, `min_version`
    /// (le16) at 88, the rest padding; `dataoff` counted from the raw namespace base.
    MinVersion2019,
}

impl Dialect {
    /// A short stable name: `"upstream"` or `"2019-min-version"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Upstream => "upstream",
            Self::MinVersion2019 => "2019-min-version",
        }
    }
}

/// Which [`Dialect`] [`PfnInfo::parse`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DialectChoice {
    /// Detect: a block with stored minor exactly 3 and non-zero bytes 88..90 is the 2019
    /// dialect (upstream v1.3 guarantees those bytes are zero); everything else is upstream.
    ///
    /// The one ambiguity: a 2019 block whose `min_version` is 0 reads as upstream v1.3.
    /// That is harmless, because a `min_version` of 0 asks nothing of a reader.
    #[default]
    Auto,
    /// Always read the upstream layout.
    Upstream,
    /// Read bytes 88..90 of a minor-3 block as `min_version`, even when they are zero.
    /// Blocks of any other minor have no `min_version` and read as upstream.
    MinVersion2019,
}

/// Options for [`PfnInfo::parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParseOptions {
    /// The reader's `PAGE_SIZE` in bytes: the value `page_size` takes when minor < 4.
    pub page_size: u32,
    /// How to read bytes 88..94.
    pub dialect: DialectChoice,
    /// Whether to verify the checksum (as the kernel always does). Turn it off only to
    /// inspect damaged blocks.
    pub verify_checksum: bool,
}

impl ParseOptions {
    /// 4 KiB pages, dialect detection, checksum verified: what an x86_64 kernel does.
    pub const DEFAULT: Self = Self {
        page_size: 4096,
        dialect: DialectChoice::Auto,
        verify_checksum: true,
    };
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

bitflags::bitflags! {
    /// Fields whose value in a [`PfnInfo`] comes from the kernel's defaulting, not from the
    /// block, because the block's minor version predates them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct DefaultedFields: u8 {
        /// `start_pad` read as 0 (minor < 1).
        const START_PAD = 1 << 0;
        /// `end_trunc` read as 0 (minor < 1).
        const END_TRUNC = 1 << 1;
        /// `align` read as 0, i.e. derived from `dataoff` (minor < 2).
        const ALIGN = 1 << 2;
        /// `page_size` read as the reader's page size (minor < 4).
        const PAGE_SIZE = 1 << 3;
        /// `page_struct_size` read as 64 (minor < 4).
        const PAGE_STRUCT_SIZE = 1 << 4;
    }
}

impl DefaultedFields {
    /// The fields a reader defaults for a block of `version` (only the minor counts).
    #[must_use]
    pub const fn for_version(version: Version) -> Self {
        let mut bits = 0;
        if !version.has_padding_fields() {
            bits |= Self::START_PAD.bits() | Self::END_TRUNC.bits();
        }
        if !version.has_align() {
            bits |= Self::ALIGN.bits();
        }
        if !version.has_page_sizes() {
            bits |= Self::PAGE_SIZE.bits() | Self::PAGE_STRUCT_SIZE.bits();
        }
        Self::from_bits_retain(bits)
    }
}

/// A normalized info-block: the values a kernel of the newest era works with after
/// `nd_pfn_validate`'s defaulting by minor version (FORMAT.md §3.7 step 7).
///
/// Fields a block's version lacks hold their defaults: `start_pad`/`end_trunc` 0 below
/// minor 1, `align` 0 below minor 2, `page_size` the reader's page size and
/// `page_struct_size` 64 below minor 4. The block itself is never modified; its stored values
/// stay readable on the [`InfoBlock`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PfnInfo {
    /// fsdax (`NVDIMM_PFN_INFO`) or devdax (`NVDIMM_DAX_INFO`).
    pub kind: DeviceKind,
    /// Uuid of the pfn/dax device.
    pub uuid: Uuid,
    /// Uuid of the hosting namespace (nil for label-less namespaces).
    pub parent_uuid: Uuid,
    /// The stored `flags` (no bit is defined; never read by the kernel).
    pub flags: u32,
    /// The stored version (minors above 4 are kept as stored and read as 4).
    pub version: Version,
    /// Offset of the first data byte, in bytes (see FORMAT.md §5 for its base).
    pub dataoff: u64,
    /// Stored number of data pages (unit depends on the writer's era).
    pub npfns: u64,
    /// Where the memmap lives.
    pub mode: Mode,
    /// Bytes skipped at the start (0 below minor 1).
    pub start_pad: u32,
    /// Bytes dropped at the end (0 below minor 1).
    pub end_trunc: u32,
    /// Requested alignment in bytes; 0 (below minor 2, or stored as 0) means "derive from
    /// dataoff".
    pub align: u32,
    /// Writer's page size in bytes (the reader's below minor 4).
    pub page_size: u32,
    /// Bytes per `struct page` in the PMEM memmap (64 below minor 4).
    pub page_struct_size: u16,
    /// The 2019 proposal's minimum reader version; `Some` only in [`Dialect::MinVersion2019`].
    pub min_version: Option<u16>,
}

/// A borrowed block together with its normalized view, as returned by [`parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// The block as stored (zero-copy borrow of the input).
    pub block: &'a InfoBlock,
    /// The normalized view.
    pub info: PfnInfo,
}

/// Locates the block in `bytes` (a bare 4096-byte block or a namespace head of at least
/// 8192 bytes) and parses it.
///
/// # Errors
/// As [`InfoBlock::locate`] and [`PfnInfo::parse`].
pub fn parse<'a>(bytes: &'a [u8], options: &ParseOptions) -> Result<Parsed<'a>, ParseError> {
    let block = InfoBlock::locate(bytes)?;
    let info = PfnInfo::parse(block, options)?;
    Ok(Parsed { block, info })
}

impl PfnInfo {
    /// `page_struct_size` of blocks older than v1.4, and the normal `MAX_STRUCT_PAGE_SIZE`.
    pub const DEFAULT_PAGE_STRUCT_SIZE: u16 = 64;

    /// Reads a block as the kernel does: signature (exact), checksum (unless turned off in
    /// `options`), then the defaulting by minor version. Nothing else is checked here: mode,
    /// offsets and sizes are the validator's business.
    ///
    /// # Errors
    /// [`ParseError::BadSignature`], [`ParseError::ChecksumMismatch`].
    pub fn parse(block: &InfoBlock, options: &ParseOptions) -> Result<Self, ParseError> {
        let kind = DeviceKind::from_signature(block.signature).ok_or(ParseError::BadSignature {
            found: block.signature,
        })?;
        if options.verify_checksum {
            block.verify_checksum()?;
        }
        let version = block.version();
        let dialect = match options.dialect {
            DialectChoice::Upstream => Dialect::Upstream,
            DialectChoice::Auto if version.minor == 3 && block.raw_min_version() != 0 => {
                Dialect::MinVersion2019
            }
            DialectChoice::Auto => Dialect::Upstream,
            DialectChoice::MinVersion2019 if version.minor == 3 => Dialect::MinVersion2019,
            DialectChoice::MinVersion2019 => Dialect::Upstream,
        };
        let (start_pad, end_trunc) = if version.has_padding_fields() {
            (block.start_pad.get(), block.end_trunc.get())
        } else {
            (0, 0)
        };
        let align = if version.has_align() {
            block.align.get()
        } else {
            0
        };
        let (page_size, page_struct_size) = if version.has_page_sizes() {
            (block.page_size.get(), block.page_struct_size.get())
        } else {
            (options.page_size, Self::DEFAULT_PAGE_STRUCT_SIZE)
        };
        let min_version = match dialect {
            Dialect::MinVersion2019 => Some(block.raw_min_version()),
            Dialect::Upstream => None,
        };
        Ok(Self {
            kind,
            uuid: block.uuid,
            parent_uuid: block.parent_uuid,
            flags: block.flags.get(),
            version,
            dataoff: block.dataoff.get(),
            npfns: block.npfns.get(),
            mode: block.mode(),
            start_pad,
            end_trunc,
            align,
            page_size,
            page_struct_size,
            min_version,
        })
    }

    /// The dialect this value is in: [`Dialect::MinVersion2019`] exactly when `min_version`
    /// is set.
    #[must_use]
    pub const fn dialect(&self) -> Dialect {
        if self.min_version.is_some() {
            Dialect::MinVersion2019
        } else {
            Dialect::Upstream
        }
    }

    /// The fields whose values came from defaulting rather than from the block.
    #[must_use]
    pub const fn defaulted(&self) -> DefaultedFields {
        DefaultedFields::for_version(self.version)
    }

    /// Writes this value into `block`: every byte is first zeroed (padding included), then
    /// only the fields that `version` has are stored, then the checksum is set last.
    ///
    /// Fields the version lacks are not written, so a value whose defaulted fields differ
    /// from their defaults does not survive `emit` then `parse` (see
    /// [`PfnInfo::is_canonical`]).
    ///
    /// # Errors
    /// [`EmitError::MinVersionNeedsMinor3`] when `min_version` is set on a version other than
    /// 1.3-style minor 3.
    pub fn emit(&self, block: &mut InfoBlock) -> Result<(), EmitError> {
        if self.min_version.is_some() && self.version.minor != 3 {
            return Err(EmitError::MinVersionNeedsMinor3 {
                minor: self.version.minor,
            });
        }
        *block = InfoBlock::zeroed();
        block.signature = self.kind.signature();
        block.uuid = self.uuid;
        block.parent_uuid = self.parent_uuid;
        block.flags.set(self.flags);
        block.version_major.set(self.version.major);
        block.version_minor.set(self.version.minor);
        block.dataoff.set(self.dataoff);
        block.npfns.set(self.npfns);
        block.mode.set(self.mode.0);
        if self.version.has_padding_fields() {
            block.start_pad.set(self.start_pad);
            block.end_trunc.set(self.end_trunc);
        }
        if self.version.has_align() {
            block.align.set(self.align);
        }
        if self.version.has_page_sizes() {
            block.page_size.set(self.page_size);
            block.page_struct_size.set(self.page_struct_size);
        }
        if let Some(min_version) = self.min_version {
            block.page_size.set(u32::from(min_version));
        }
        block.update_checksum();
        Ok(())
    }

    /// [`PfnInfo::emit`] into a new block.
    ///
    /// # Errors
    /// As [`PfnInfo::emit`].
    pub fn to_block(&self) -> Result<InfoBlock, EmitError> {
        let mut block = InfoBlock::zeroed();
        self.emit(&mut block)?;
        Ok(block)
    }

    /// Whether `parse(emit(self))` gives `self` back under `options`: every defaulted field
    /// holds its default, and a `min_version` is consistent with the dialect choice.
    #[must_use]
    pub fn is_canonical(&self, options: &ParseOptions) -> bool {
        let v = self.version;
        let pads_ok = v.has_padding_fields() || (self.start_pad == 0 && self.end_trunc == 0);
        let align_ok = v.has_align() || self.align == 0;
        let pages_ok = v.has_page_sizes()
            || (self.page_size == options.page_size
                && self.page_struct_size == Self::DEFAULT_PAGE_STRUCT_SIZE);
        let dialect_ok = match (self.min_version, options.dialect) {
            (None, DialectChoice::MinVersion2019) => v.minor != 3,
            (None, _) => true,
            (Some(_), DialectChoice::Upstream) => false,
            (Some(m), DialectChoice::Auto) => v.minor == 3 && m != 0,
            (Some(_), DialectChoice::MinVersion2019) => v.minor == 3,
        };
        pads_ok && align_ok && pages_ok && dialect_ok
    }
}
