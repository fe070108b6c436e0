//! The model layer: a normalized view of a block, with the kernel's defaulting applied.

use core::fmt;

use crate::pfn::error::{EmitError, ParseError};
use crate::pfn::raw::{InfoBlock, Mode, Signature};
use crate::pfn::version::Version;
use crate::uuid::Uuid;

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
    /// (le16) at 88, the rest padding. How that proposal's writer computed `dataoff` is
    /// unconfirmed; this crate reads every other field the same way in both dialects.
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
    /// The one ambiguity is bytes 88..90 of a minor-3 block, which both dialects own:
    /// * a 2019 block whose `min_version` is 0 reads as upstream v1.3. That is harmless,
    ///   because a `min_version` of 0 asks nothing of a reader;
    /// * an upstream v1.3 block that broke v1.3's zero-padding promise there (no kernel
    ///   writes one; a v1.4 block whose minor was edited to 3 is one, such as ndctl-corpus
    ///   `bad/v1.3.bin`, where bytes 88..90 still hold page_size 4096) reads as the 2019
    ///   dialect with `min_version` = those bytes. Upstream kernels ignore bytes 88..94 below
    ///   minor 4, so use [`DialectChoice::Upstream`] to read such a block the way they do.
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
    // Always inlined: `validate::check` then reads the parsed fields from registers instead of
    // a stored `Result` (measured: `check` 100 -> 95 ns, BENCHMARKS.md).
    #[inline(always)]
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

#[cfg(test)]
#[allow(clippy::as_conversions, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::pfn::raw::tests::block_a_image;
    use std::string::ToString;
    use zerocopy::IntoBytes;

    /// The normalized value of block A (FORMAT.md §2.3).
    fn block_a_info() -> PfnInfo {
        PfnInfo {
            kind: DeviceKind::Fsdax,
            uuid: Uuid(core::array::from_fn(|i| i as u8)),
            parent_uuid: Uuid(core::array::from_fn(|i| 0x10 + i as u8)),
            flags: 0,
            version: Version::V1_4,
            dataoff: 0x120_0000,
            npfns: 0x3_ee00,
            mode: Mode::PMEM,
            start_pad: 0,
            end_trunc: 0,
            align: 0x20_0000,
            page_size: 4096,
            page_struct_size: 64,
            min_version: None,
        }
    }

    /// Block A with its version and the v1.1+ fields patched at their FORMAT.md §1.2 byte
    /// offsets, the checksum recomputed.
    fn patched(major: u16, minor: u16, fields: &[(usize, &[u8])]) -> [u8; 4096] {
        let mut image = block_a_image();
        image[52..54].copy_from_slice(&major.to_le_bytes());
        image[54..56].copy_from_slice(&minor.to_le_bytes());
        for (at, bytes) in fields {
            image[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        InfoBlock::from_bytes_mut(&mut image)
            .unwrap()
            .update_checksum();
        image
    }

    /// start_pad 0x1000, end_trunc 0x2000, align 3, page_size 64 KiB (bytes 88..90 zero, so
    /// no 2019 dialect at minor 3), page_struct_size 128.
    fn legacy_fields(major: u16, minor: u16) -> [u8; 4096] {
        patched(
            major,
            minor,
            &[
                (76, &0x1000u32.to_le_bytes()),
                (80, &0x2000u32.to_le_bytes()),
                (84, &3u32.to_le_bytes()),
                (88, &0x1_0000u32.to_le_bytes()),
                (92, &128u16.to_le_bytes()),
            ],
        )
    }

    const READER_16K: ParseOptions = ParseOptions {
        page_size: 16384,
        ..ParseOptions::DEFAULT
    };

    fn parse_image(image: &[u8], options: &ParseOptions) -> Result<PfnInfo, ParseError> {
        PfnInfo::parse(InfoBlock::from_bytes(image).unwrap(), options)
    }

    #[test]
    fn block_a_parses_to_its_fields() {
        let info = parse_image(&block_a_image(), &ParseOptions::DEFAULT).unwrap();
        assert_eq!(info, block_a_info());
        assert_eq!(info.dialect(), Dialect::Upstream);
        assert!(info.defaulted().is_empty());
    }

    /// `emit` zeroes every byte first: a block pre-filled with 0xa5 becomes block A exactly.
    #[test]
    fn emit_into_a5_block_gives_block_a() {
        let mut bytes = [0xa5u8; 4096];
        let block = InfoBlock::from_bytes_mut(&mut bytes).unwrap();
        block_a_info().emit(block).unwrap();
        assert_eq!(bytes, block_a_image());
        assert_eq!(
            block_a_info().to_block().unwrap().as_bytes(),
            &block_a_image()[..]
        );
    }

    /// FORMAT.md §3.7 step 7: minor < 1 zeroes start_pad/end_trunc, minor < 2 zeroes align,
    /// minor < 4 sets page_size = the reader's PAGE_SIZE and page_struct_size = 64. Major is
    /// never looked at (§1.4), and minors above 4 read as 4 (§7.8).
    #[test]
    fn defaulting_by_minor_for_every_major() {
        // (minor, start_pad, end_trunc, align, page_size, page_struct_size)
        let table: [(u16, u32, u32, u32, u32, u16); 6] = [
            (0, 0, 0, 0, 16384, 64),
            (1, 0x1000, 0x2000, 0, 16384, 64),
            (2, 0x1000, 0x2000, 3, 16384, 64),
            (3, 0x1000, 0x2000, 3, 16384, 64),
            (4, 0x1000, 0x2000, 3, 0x1_0000, 128),
            (9, 0x1000, 0x2000, 3, 0x1_0000, 128),
        ];
        for major in [0u16, 1, 2] {
            for (minor, start_pad, end_trunc, align, page_size, pss) in table {
                let image = legacy_fields(major, minor);
                let info = parse_image(&image, &READER_16K).unwrap();
                let what = format_args!("v{major}.{minor}");
                assert_eq!(info.version, Version::new(major, minor), "{what}");
                assert_eq!(info.start_pad, start_pad, "{what}");
                assert_eq!(info.end_trunc, end_trunc, "{what}");
                assert_eq!(info.align, align, "{what}");
                assert_eq!(info.page_size, page_size, "{what}");
                assert_eq!(info.page_struct_size, pss, "{what}");
                assert_eq!(info.min_version, None, "{what}");
                // Fields every version has are read as stored.
                assert_eq!(info.dataoff, 0x120_0000, "{what}");
                assert_eq!(info.npfns, 0x3_ee00, "{what}");
                assert_eq!(info.mode, Mode::PMEM, "{what}");
                // The block keeps its stored values.
                let block = InfoBlock::from_bytes(&image).unwrap();
                assert_eq!(block.start_pad.get(), 0x1000, "{what}");
                assert_eq!(block.align.get(), 3, "{what}");
                assert_eq!(block.page_struct_size.get(), 128, "{what}");
            }
        }
    }

    #[test]
    fn defaulted_fields_by_minor() {
        let all = DefaultedFields::all();
        let pages = DefaultedFields::PAGE_SIZE | DefaultedFields::PAGE_STRUCT_SIZE;
        let expected = [
            (0u16, all),
            (1, DefaultedFields::ALIGN | pages),
            (2, pages),
            (3, pages),
            (4, DefaultedFields::empty()),
            (9, DefaultedFields::empty()),
        ];
        for (minor, want) in expected {
            for major in [0u16, 1, 2] {
                assert_eq!(
                    DefaultedFields::for_version(Version::new(major, minor)),
                    want,
                    "v{major}.{minor}"
                );
            }
        }
        let info = parse_image(&legacy_fields(1, 0), &READER_16K).unwrap();
        assert_eq!(info.defaulted(), all);
    }

    /// FORMAT.md §1.5–1.6: the 2019 proposal's v1.3 has `min_version` (le16) at byte 88;
    /// upstream v1.3 guarantees bytes 88.. are zero, so minor 3 with non-zero bytes 88..90
    /// is the 2019 dialect.
    #[test]
    fn dialect_detection() {
        let min2 = patched(1, 3, &[(88, &2u16.to_le_bytes())]);
        let zero88 = patched(
            1,
            3,
            &[(88, &0u32.to_le_bytes()), (92, &0u16.to_le_bytes())],
        );
        let high_half_only = patched(1, 3, &[(88, &0x1_0000u32.to_le_bytes())]);
        let minor4 = block_a_image(); // bytes 88..90 = 00 10
        let minor2 = patched(1, 2, &[]); // bytes 88..90 = 00 10 as well

        let auto = ParseOptions::DEFAULT;
        let upstream = ParseOptions {
            dialect: DialectChoice::Upstream,
            ..auto
        };
        let forced = ParseOptions {
            dialect: DialectChoice::MinVersion2019,
            ..auto
        };
        let min_of = |image: &[u8], o: &ParseOptions| parse_image(image, o).unwrap().min_version;

        assert_eq!(min_of(&min2, &auto), Some(2));
        assert_eq!(min_of(&min2, &upstream), None);
        assert_eq!(min_of(&min2, &forced), Some(2));

        // The ambiguity: a 2019 block with min_version 0 reads as upstream under Auto.
        assert_eq!(min_of(&zero88, &auto), None);
        assert_eq!(min_of(&zero88, &upstream), None);
        assert_eq!(min_of(&zero88, &forced), Some(0));

        // Only bytes 88..90 decide.
        assert_eq!(min_of(&high_half_only, &auto), None);
        assert_eq!(min_of(&high_half_only, &forced), Some(0));

        // Other minors never have min_version, whatever bytes 88..90 hold.
        for image in [&minor4, &minor2] {
            assert_eq!(min_of(image, &auto), None);
            assert_eq!(min_of(image, &upstream), None);
            assert_eq!(min_of(image, &forced), None);
        }

        let info = parse_image(&min2, &auto).unwrap();
        assert_eq!(info.dialect(), Dialect::MinVersion2019);
        // Minor 3 still defaults page_size/page_struct_size in either dialect.
        assert_eq!(info.page_size, 4096);
        assert_eq!(info.page_struct_size, 64);
        assert_eq!(Dialect::MinVersion2019.name(), "2019-min-version");
        assert_eq!(Dialect::Upstream.name(), "upstream");
        assert_eq!(DialectChoice::default(), DialectChoice::Auto);
    }

    #[test]
    fn emit_writes_only_the_fields_of_the_version() {
        // A v1.0 value whose v1.1+ fields hold their defaults.
        let v10 = PfnInfo {
            version: Version::V1_0,
            align: 0,
            ..block_a_info()
        };
        let block = v10.to_block().unwrap();
        let bytes = block.as_bytes();
        assert_eq!(&bytes[52..56], &[1, 0, 0, 0]);
        // start_pad .. page_struct_size and the padding are all zero.
        assert!(bytes[76..4088].iter().all(|&b| b == 0));
        assert_eq!(PfnInfo::parse(&block, &ParseOptions::DEFAULT), Ok(v10));

        // A non-canonical value: v1.0 with align set. emit drops the align.
        let odd = PfnInfo {
            version: Version::V1_0,
            ..block_a_info()
        };
        assert!(!odd.is_canonical(&ParseOptions::DEFAULT));
        let block = odd.to_block().unwrap();
        assert_eq!(block.align.get(), 0);
        assert_eq!(
            PfnInfo::parse(&block, &ParseOptions::DEFAULT)
                .unwrap()
                .align,
            0
        );
    }

    #[test]
    fn emit_2019_dialect() {
        let info = PfnInfo {
            version: Version::V1_3,
            page_size: 4096,
            page_struct_size: 64,
            min_version: Some(3),
            ..block_a_info()
        };
        let block = info.to_block().unwrap();
        let bytes = block.as_bytes();
        assert_eq!(&bytes[88..90], &[3, 0]);
        assert!(bytes[90..4088].iter().all(|&b| b == 0));
        assert_eq!(PfnInfo::parse(&block, &ParseOptions::DEFAULT), Ok(info));
        assert!(info.is_canonical(&ParseOptions::DEFAULT));
    }

    #[test]
    fn emit_refuses_min_version_outside_minor_3_and_leaves_the_block_alone() {
        for minor in [0u16, 2, 4, 9] {
            let info = PfnInfo {
                version: Version::new(1, minor),
                min_version: Some(1),
                ..block_a_info()
            };
            let mut bytes = [0xa5u8; 4096];
            let block = InfoBlock::from_bytes_mut(&mut bytes).unwrap();
            assert_eq!(
                info.emit(block),
                Err(EmitError::MinVersionNeedsMinor3 { minor })
            );
            assert!(bytes.iter().all(|&b| b == 0xa5));
            assert_eq!(
                info.to_block(),
                Err(EmitError::MinVersionNeedsMinor3 { minor })
            );
        }
    }

    #[test]
    fn parse_errors() {
        let mut image = block_a_image();
        image[0] = b'n';
        assert_eq!(
            parse_image(&image, &ParseOptions::DEFAULT),
            Err(ParseError::BadSignature {
                found: Signature(*b"nVDIMM_PFN_INFO\0")
            })
        );
        let mut image = block_a_image();
        image[4088] ^= 1;
        assert_eq!(
            parse_image(&image, &ParseOptions::DEFAULT),
            Err(ParseError::ChecksumMismatch {
                stored: 0xcb6f_555c_6d1a_aee3,
                computed: 0xcb6f_555c_6d1a_aee2
            })
        );
        // With verification off the damaged block still parses.
        let unchecked = ParseOptions {
            verify_checksum: false,
            ..ParseOptions::DEFAULT
        };
        assert_eq!(parse_image(&image, &unchecked), Ok(block_a_info()));
        // The signature is checked before the checksum, as in nd_pfn_validate.
        image[15] = b'!';
        assert!(matches!(
            parse_image(&image, &ParseOptions::DEFAULT),
            Err(ParseError::BadSignature { .. })
        ));
    }

    #[test]
    fn parse_fn_locates_and_borrows() {
        let mut head = std::vec![0u8; 8192];
        head[4096..].copy_from_slice(&block_a_image());
        let parsed = parse(&head, &ParseOptions::DEFAULT).unwrap();
        assert_eq!(parsed.info, block_a_info());
        assert!(core::ptr::eq(
            parsed.block.as_bytes().as_ptr(),
            head[4096..].as_ptr()
        ));
        assert_eq!(
            parse(&head[..5000], &ParseOptions::DEFAULT).map(|p| p.info),
            Err(ParseError::InvalidLength { len: 5000 })
        );
    }

    #[test]
    fn device_kind_from_signature() {
        assert_eq!(
            DeviceKind::from_signature(Signature::PFN),
            Some(DeviceKind::Fsdax)
        );
        assert_eq!(
            DeviceKind::from_signature(Signature::DAX),
            Some(DeviceKind::Devdax)
        );
        assert_eq!(DeviceKind::from_signature(Signature::BTT), None);
        assert_eq!(DeviceKind::Fsdax.signature(), Signature::PFN);
        assert_eq!(DeviceKind::Devdax.to_string(), "devdax");
    }

    #[test]
    fn is_canonical_cases() {
        let auto = ParseOptions::DEFAULT;
        let forced = ParseOptions {
            dialect: DialectChoice::MinVersion2019,
            ..auto
        };
        let upstream = ParseOptions {
            dialect: DialectChoice::Upstream,
            ..auto
        };
        let v13 = PfnInfo {
            version: Version::V1_3,
            ..block_a_info()
        };
        assert!(block_a_info().is_canonical(&auto));
        assert!(v13.is_canonical(&auto));
        assert!(!v13.is_canonical(&forced), "forced 2019 would read Some(0)");
        let zero = PfnInfo {
            min_version: Some(0),
            ..v13
        };
        assert!(
            !zero.is_canonical(&auto),
            "auto reads min_version 0 as upstream"
        );
        assert!(zero.is_canonical(&forced));
        assert!(!zero.is_canonical(&upstream));
        let reader_16k = PfnInfo {
            version: Version::V1_2,
            page_size: 16384,
            ..block_a_info()
        };
        assert!(!reader_16k.is_canonical(&auto));
        assert!(reader_16k.is_canonical(&READER_16K));
    }
}
