//! The raw layer: the exact 4096-byte info-block as it sits on media.
//!
//! Field names follow `struct nd_pfn_sb` in the kernel's `drivers/nvdimm/pfn.h`
//! (v1.4 layout), so this module can be read side by side with it. Every
//! multi-byte field is little-endian, whatever the host. No field is
//! interpreted here: the defaulting by minor version lives in
//! [`PfnInfo::parse`](crate::PfnInfo::parse).

use core::fmt;

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::checksum::nd_fletcher64_zeroed;
use crate::pfn::error::ParseError;
use crate::pfn::version::Version;
use crate::uuid::Uuid;

/// Byte offsets of the fields of [`InfoBlock`] (FORMAT.md §1.2).
///
/// They are checked against the struct at compile time.
pub mod offset {
    /// `signature`, 16 bytes.
    pub const SIGNATURE: usize = 0;
    /// `uuid`, 16 bytes.
    pub const UUID: usize = 16;
    /// `parent_uuid`, 16 bytes.
    pub const PARENT_UUID: usize = 32;
    /// `flags`, le32.
    pub const FLAGS: usize = 48;
    /// `version_major`, le16.
    pub const VERSION_MAJOR: usize = 52;
    /// `version_minor`, le16.
    pub const VERSION_MINOR: usize = 54;
    /// `dataoff`, le64.
    pub const DATAOFF: usize = 56;
    /// `npfns`, le64.
    pub const NPFNS: usize = 64;
    /// `mode`, le32.
    pub const MODE: usize = 72;
    /// `start_pad`, le32 (v1.1).
    pub const START_PAD: usize = 76;
    /// `end_trunc`, le32 (v1.1).
    pub const END_TRUNC: usize = 80;
    /// `align`, le32 (v1.2).
    pub const ALIGN: usize = 84;
    /// `page_size`, le32 (v1.4). The 2019 proposal put `min_version` (le16) here.
    pub const PAGE_SIZE: usize = 88;
    /// `min_version`, le16, in the unmerged 2019 proposal's v1.3 only.
    pub const MIN_VERSION: usize = 88;
    /// `page_struct_size`, le16 (v1.4).
    pub const PAGE_STRUCT_SIZE: usize = 92;
    /// First byte of `padding` in the v1.4 layout.
    pub const PADDING: usize = 94;
    /// `checksum`, le64.
    pub const CHECKSUM: usize = 4088;
}

/// The 16-byte signature at the start of a block (an open set: unknown values are representable).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(transparent)]
pub struct Signature(pub [u8; 16]);

impl Signature {
    /// `"NVDIMM_PFN_INFO\0"`: an fsdax (`nd_pfn`) block.
    pub const PFN: Self = Self(*b"NVDIMM_PFN_INFO\0");
    /// `"NVDIMM_DAX_INFO\0"`: a devdax (`nd_dax`) block.
    pub const DAX: Self = Self(*b"NVDIMM_DAX_INFO\0");
    /// `"BTT_ARENA_INFO\0\0"`: a BTT arena block, which this crate recognises but does not parse.
    pub const BTT: Self = Self(*b"BTT_ARENA_INFO\0\0");

    /// The signature up to its first NUL, as ndctl prints it, if that is ASCII.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(self.0.len());
        let text = self.0.get(..end)?;
        if text.is_ascii() {
            core::str::from_utf8(text).ok()
        } else {
            None
        }
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature(\"{}\")", self.0.escape_ascii())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.escape_ascii())
    }
}

/// `enum nd_pfn_mode`: where the memmap (`struct page` array) lives. Open set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mode(pub u32);

impl Mode {
    /// `PFN_MODE_NONE` (0): refused by every kernel (`-ENXIO`).
    pub const NONE: Self = Self(0);
    /// `PFN_MODE_RAM` (1): memmap in system RAM; ndctl `--map=mem`.
    pub const RAM: Self = Self(1);
    /// `PFN_MODE_PMEM` (2): memmap stored in the namespace before `dataoff`; ndctl `--map=dev`.
    pub const PMEM: Self = Self(2);

    /// Whether the kernel accepts this mode (RAM or PMEM).
    #[must_use]
    pub const fn is_known(self) -> bool {
        self.0 == 1 || self.0 == 2
    }

    /// The ndctl `--map` name: `"mem"` for RAM, `"dev"` for PMEM, `None` otherwise.
    #[must_use]
    pub const fn map_name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("mem"),
            2 => Some("dev"),
            _ => None,
        }
    }
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("Mode::NONE"),
            1 => f.write_str("Mode::RAM"),
            2 => f.write_str("Mode::PMEM"),
            other => write!(f, "Mode({other})"),
        }
    }
}

/// `struct nd_pfn_sb`: the 4096-byte info-block, byte for byte (v1.4 layout).
///
/// Every bit pattern is a valid `InfoBlock`; meaning is given by
/// [`PfnInfo::parse`](crate::PfnInfo::parse). Borrow one from bytes without
/// copying with [`InfoBlock::from_bytes`] or [`InfoBlock::from_namespace_head`].
#[derive(Clone, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct InfoBlock {
    /// `"NVDIMM_PFN_INFO\0"` or `"NVDIMM_DAX_INFO\0"`, compared over all 16 bytes (v1.0).
    pub signature: Signature,
    /// Uuid of the pfn/dax device (v1.0).
    pub uuid: Uuid,
    /// Uuid of the hosting namespace; all zero for label-less namespaces (v1.0).
    pub parent_uuid: Uuid,
    /// Never set or read by the kernel; guaranteed zero only from v1.3 (v1.0).
    pub flags: U32,
    /// Always written as 1; never checked by any kernel (v1.0).
    pub version_major: U16,
    /// Minor version 0..=4; decides which fields the kernel reads (v1.0).
    pub version_minor: U16,
    /// Bytes from the (start_pad-adjusted) namespace base to the first data byte (v1.0).
    pub dataoff: U64,
    /// Number of data pages: 4 KiB units before v5.3, `PAGE_SIZE` units after (v1.0).
    pub npfns: U64,
    /// [`Mode`]: RAM (1) or PMEM (2) (v1.0).
    pub mode: U32,
    /// Bytes skipped at the start of the namespace; read as 0 when minor < 1 (v1.1).
    pub start_pad: U32,
    /// Bytes dropped at the end of the namespace; read as 0 when minor < 1 (v1.1).
    pub end_trunc: U32,
    /// Requested mapping alignment in bytes; read as 0 (derive) when minor < 2 (v1.2).
    pub align: U32,
    /// Writer's page size in bytes; read as the reader's when minor < 4 (v1.4).
    ///
    /// In the unmerged 2019 proposal's v1.3, bytes 88..90 are `min_version` instead.
    pub page_size: U32,
    /// Bytes per `struct page` reserved in the PMEM memmap; read as 64 when minor < 4 (v1.4).
    pub page_struct_size: U16,
    /// Zero from v1.3 on (3994 bytes); never checked by the kernel.
    pub padding: [u8; 3994],
    /// `nd_fletcher64` of the block with this field taken as zero.
    pub checksum: U64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<InfoBlock>() == InfoBlock::SIZE);
    assert!(offset_of!(InfoBlock, signature) == offset::SIGNATURE);
    assert!(offset_of!(InfoBlock, uuid) == offset::UUID);
    assert!(offset_of!(InfoBlock, parent_uuid) == offset::PARENT_UUID);
    assert!(offset_of!(InfoBlock, flags) == offset::FLAGS);
    assert!(offset_of!(InfoBlock, version_major) == offset::VERSION_MAJOR);
    assert!(offset_of!(InfoBlock, version_minor) == offset::VERSION_MINOR);
    assert!(offset_of!(InfoBlock, dataoff) == offset::DATAOFF);
    assert!(offset_of!(InfoBlock, npfns) == offset::NPFNS);
    assert!(offset_of!(InfoBlock, mode) == offset::MODE);
    assert!(offset_of!(InfoBlock, start_pad) == offset::START_PAD);
    assert!(offset_of!(InfoBlock, end_trunc) == offset::END_TRUNC);
    assert!(offset_of!(InfoBlock, align) == offset::ALIGN);
    assert!(offset_of!(InfoBlock, page_size) == offset::PAGE_SIZE);
    assert!(offset_of!(InfoBlock, page_struct_size) == offset::PAGE_STRUCT_SIZE);
    assert!(offset_of!(InfoBlock, padding) == offset::PADDING);
    assert!(offset_of!(InfoBlock, checksum) == offset::CHECKSUM);
};

impl InfoBlock {
    /// Size of the block in bytes (`SZ_4K`).
    pub const SIZE: usize = 4096;
    /// Byte offset of the block inside its namespace (`SZ_4K`).
    pub const NAMESPACE_OFFSET: u64 = 4096;
    /// Bytes of a namespace head that hold the block: the reserved 4 KiB plus the block.
    pub const HEAD_SIZE: usize = 8192;

    /// Borrows a block from exactly 4096 bytes, without copying.
    ///
    /// # Errors
    /// [`ParseError::InvalidLength`] when `bytes` is not 4096 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<&Self, ParseError> {
        Self::ref_from_bytes(bytes).map_err(|_| ParseError::InvalidLength { len: bytes.len() })
    }

    /// Mutable form of [`InfoBlock::from_bytes`], for in-place edits.
    ///
    /// # Errors
    /// [`ParseError::InvalidLength`] when `bytes` is not 4096 bytes long.
    pub fn from_bytes_mut(bytes: &mut [u8]) -> Result<&mut Self, ParseError> {
        let len = bytes.len();
        Self::mut_from_bytes(bytes).map_err(|_| ParseError::InvalidLength { len })
    }

    /// Borrows the block at byte 4096 of a namespace head (at least 8192 bytes; any more is
    /// ignored), without copying.
    ///
    /// # Errors
    /// [`ParseError::InvalidLength`] when `head` is shorter than 8192 bytes.
    pub fn from_namespace_head(head: &[u8]) -> Result<&Self, ParseError> {
        let invalid = ParseError::InvalidLength { len: head.len() };
        let block = head.get(Self::SIZE..Self::HEAD_SIZE).ok_or(invalid)?;
        Self::ref_from_bytes(block).map_err(|_| invalid)
    }

    /// Borrows a block from either a bare 4096-byte block or a namespace head of at least
    /// 8192 bytes (block at 4096), the two inputs the crate's tools accept.
    ///
    /// # Errors
    /// [`ParseError::InvalidLength`] for any other length (0..4095 or 4097..8191 bytes).
    pub fn locate(bytes: &[u8]) -> Result<&Self, ParseError> {
        if bytes.len() == Self::SIZE {
            Self::from_bytes(bytes)
        } else {
            Self::from_namespace_head(bytes)
        }
    }

    /// A block of all zero bytes (the start of every block this crate emits).
    #[must_use]
    pub fn zeroed() -> Self {
        <Self as zerocopy::FromZeros>::new_zeroed()
    }

    /// The stored version (`version_major`.`version_minor`).
    #[must_use]
    pub fn version(&self) -> Version {
        Version::new(self.version_major.get(), self.version_minor.get())
    }

    /// The stored mode.
    #[must_use]
    pub fn mode(&self) -> Mode {
        Mode(self.mode.get())
    }

    /// Bytes 88..90 read as the 2019 proposal's `min_version` (le16).
    #[must_use]
    pub fn raw_min_version(&self) -> u16 {
        let [a, b, _, _] = self.page_size.get().to_le_bytes();
        u16::from_le_bytes([a, b])
    }

    /// Whether any byte of `flags` or the v1.4 `padding` is non-zero (stale data, which only
    /// v1.3+ writers promise to avoid).
    #[must_use]
    pub fn has_nonzero_padding(&self) -> bool {
        self.flags.get() != 0 || self.padding.iter().any(|&b| b != 0)
    }
}

impl fmt::Debug for InfoBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InfoBlock")
            .field("signature", &self.signature)
            .field("uuid", &self.uuid)
            .field("parent_uuid", &self.parent_uuid)
            .field("flags", &self.flags.get())
            .field("version_major", &self.version_major.get())
            .field("version_minor", &self.version_minor.get())
            .field("dataoff", &self.dataoff.get())
            .field("npfns", &self.npfns.get())
            .field("mode", &self.mode())
            .field("start_pad", &self.start_pad.get())
            .field("end_trunc", &self.end_trunc.get())
            .field("align", &self.align.get())
            .field("page_size", &self.page_size.get())
            .field("page_struct_size", &self.page_struct_size.get())
            .field("padding_nonzero", &self.padding.iter().any(|&b| b != 0))
            .field("checksum", &format_args!("{:#018x}", self.checksum.get()))
            .finish()
    }
}

impl InfoBlock {
    /// `nd_sb_checksum`: the checksum of this block with its `checksum` field taken as zero.
    ///
    /// Borrows the block and copies nothing: the two zero words of the checksum field are
    /// folded in arithmetically.
    #[must_use]
    pub fn compute_checksum(&self) -> u64 {
        nd_fletcher64_zeroed(self.as_bytes(), offset::CHECKSUM).unwrap_or(0)
    }

    /// Stores [`InfoBlock::compute_checksum`] in the `checksum` field.
    pub fn update_checksum(&mut self) {
        let sum = self.compute_checksum();
        self.checksum.set(sum);
    }

    /// Checks the stored checksum, as `nd_pfn_validate` does.
    ///
    /// # Errors
    /// [`ParseError::ChecksumMismatch`] with the stored and the computed values.
    pub fn verify_checksum(&self) -> Result<(), ParseError> {
        let stored = self.checksum.get();
        let computed = self.compute_checksum();
        if stored == computed {
            Ok(())
        } else {
            Err(ParseError::ChecksumMismatch { stored, computed })
        }
    }
}

#[cfg(test)]
#[allow(clippy::as_conversions, clippy::arithmetic_side_effects)]
pub(crate) mod tests {
    use super::*;
    use std::format;
    use std::vec;
    use zerocopy::IntoBytes;

    /// Block A of FORMAT.md §2.3, written out by hand byte by byte: bytes 0..96 exactly as
    /// printed there, zeros up to 4088, then the checksum `0xcb6f555c6d1aaee2` as le64.
    pub(crate) fn block_a_image() -> [u8; 4096] {
        #[rustfmt::skip]
        const HEAD: [u8; 96] = [
            // 0x00 signature "NVDIMM_PFN_INFO\0"
            0x4e, 0x56, 0x44, 0x49, 0x4d, 0x4d, 0x5f, 0x50, 0x46, 0x4e, 0x5f, 0x49, 0x4e, 0x46, 0x4f, 0x00,
            // 0x10 uuid 00 01 .. 0f
            0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
            // 0x20 parent_uuid 10 11 .. 1f
            0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
            // 0x30 flags 0, major 1, minor 4
            0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00,
            // 0x38 dataoff 0x1200000
            0x00, 0x00, 0x20, 0x01, 0x00, 0x00, 0x00, 0x00,
            // 0x40 npfns 0x3ee00
            0x00, 0xee, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
            // 0x48 mode 2, 0x4c start_pad 0
            0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            // 0x50 end_trunc 0, 0x54 align 0x200000
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00,
            // 0x58 page_size 0x1000, 0x5c page_struct_size 64, padding
            0x00, 0x10, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
        ];
        let mut image = [0u8; 4096];
        image[..96].copy_from_slice(&HEAD);
        image[4088..].copy_from_slice(&[0xe2, 0xae, 0x1a, 0x6d, 0x5c, 0x55, 0x6f, 0xcb]);
        image
    }

    #[test]
    fn deconstruct_block_a() {
        let image = block_a_image();
        let block = InfoBlock::from_bytes(&image).unwrap();
        assert_eq!(block.signature, Signature::PFN);
        assert_eq!(block.uuid.0, core::array::from_fn::<u8, 16, _>(|i| i as u8));
        assert_eq!(
            block.parent_uuid.0,
            core::array::from_fn::<u8, 16, _>(|i| 0x10 + i as u8)
        );
        assert_eq!(block.flags.get(), 0);
        assert_eq!(block.version_major.get(), 1);
        assert_eq!(block.version_minor.get(), 4);
        assert_eq!(block.version(), Version::V1_4);
        assert_eq!(block.dataoff.get(), 0x120_0000);
        assert_eq!(block.npfns.get(), 0x3_ee00);
        assert_eq!(block.mode.get(), 2);
        assert_eq!(block.mode(), Mode::PMEM);
        assert_eq!(block.start_pad.get(), 0);
        assert_eq!(block.end_trunc.get(), 0);
        assert_eq!(block.align.get(), 0x20_0000);
        assert_eq!(block.page_size.get(), 4096);
        assert_eq!(block.page_struct_size.get(), 64);
        assert!(block.padding.iter().all(|&b| b == 0));
        assert_eq!(block.checksum.get(), 0xcb6f_555c_6d1a_aee2);
        assert!(!block.has_nonzero_padding());
        // Bytes 88..90 (the 2019 min_version slot) hold page_size's low half.
        assert_eq!(block.raw_min_version(), 0x1000);
        // The borrow points into the input: zero copies.
        assert!(core::ptr::eq(block.as_bytes().as_ptr(), image.as_ptr()));
    }

    /// Writing each raw field lands at the offset FORMAT.md §1.2 gives, in little-endian.
    #[test]
    fn construct_block_a_from_fields() {
        let mut bytes = [0xa5u8; 4096];
        let block = InfoBlock::from_bytes_mut(&mut bytes).unwrap();
        *block = InfoBlock::zeroed();
        block.signature = Signature::PFN;
        block.uuid = Uuid(core::array::from_fn(|i| i as u8));
        block.parent_uuid = Uuid(core::array::from_fn(|i| 0x10 + i as u8));
        block.version_major.set(1);
        block.version_minor.set(4);
        block.dataoff.set(0x120_0000);
        block.npfns.set(0x3_ee00);
        block.mode.set(Mode::PMEM.0);
        block.align.set(0x20_0000);
        block.page_size.set(4096);
        block.page_struct_size.set(64);
        block.checksum.set(0xcb6f_555c_6d1a_aee2);
        assert_eq!(bytes, block_a_image());
    }

    #[test]
    fn field_offsets_are_those_of_format_md() {
        // FORMAT.md §1.2 table, decimal offsets.
        let expected = [
            (offset::SIGNATURE, 0),
            (offset::UUID, 16),
            (offset::PARENT_UUID, 32),
            (offset::FLAGS, 48),
            (offset::VERSION_MAJOR, 52),
            (offset::VERSION_MINOR, 54),
            (offset::DATAOFF, 56),
            (offset::NPFNS, 64),
            (offset::MODE, 72),
            (offset::START_PAD, 76),
            (offset::END_TRUNC, 80),
            (offset::ALIGN, 84),
            (offset::PAGE_SIZE, 88),
            (offset::MIN_VERSION, 88),
            (offset::PAGE_STRUCT_SIZE, 92),
            (offset::PADDING, 94),
            (offset::CHECKSUM, 4088),
        ];
        for (got, want) in expected {
            assert_eq!(got, want);
        }
        assert_eq!(core::mem::size_of::<InfoBlock>(), 4096);
        assert_eq!(core::mem::align_of::<InfoBlock>(), 1);
    }

    #[test]
    fn locate_by_length() {
        let big = vec![0u8; 1 << 20];
        for len in [0usize, 1, 4095, 4097, 8191] {
            assert_eq!(
                InfoBlock::locate(&big[..len]).map(|_| ()),
                Err(ParseError::InvalidLength { len }),
                "len {len}"
            );
        }
        // 4096: the bytes are the block.
        let bare = InfoBlock::locate(&big[..4096]).unwrap();
        assert!(core::ptr::eq(bare.as_bytes().as_ptr(), big.as_ptr()));
        // 8192 and more: the block is bytes 4096..8192, the rest is ignored.
        for len in [8192usize, 8193, 1 << 20] {
            let block = InfoBlock::locate(&big[..len]).unwrap();
            assert!(
                core::ptr::eq(block.as_bytes().as_ptr(), big[4096..].as_ptr()),
                "len {len}"
            );
        }
    }

    #[test]
    fn locate_reads_the_block_at_4096_of_a_head() {
        let mut head = vec![0xffu8; 8192 + 100];
        head[4096..8192].copy_from_slice(&block_a_image());
        let block = InfoBlock::locate(&head).unwrap();
        assert_eq!(block.signature, Signature::PFN);
        assert_eq!(block.checksum.get(), 0xcb6f_555c_6d1a_aee2);
        assert_eq!(
            InfoBlock::from_namespace_head(&head[..8191]).map(|_| ()),
            Err(ParseError::InvalidLength { len: 8191 })
        );
        assert_eq!(
            InfoBlock::from_bytes(&head[..8192]).map(|_| ()),
            Err(ParseError::InvalidLength { len: 8192 })
        );
        assert_eq!(
            InfoBlock::from_bytes_mut(&mut head[..10]).map(|_| ()),
            Err(ParseError::InvalidLength { len: 10 })
        );
    }

    #[test]
    fn signature_text() {
        assert_eq!(Signature::PFN.as_str(), Some("NVDIMM_PFN_INFO"));
        assert_eq!(Signature::DAX.as_str(), Some("NVDIMM_DAX_INFO"));
        assert_eq!(Signature::BTT.as_str(), Some("BTT_ARENA_INFO"));
        // No NUL: all 16 bytes.
        assert_eq!(
            Signature(*b"NVDIMM_PFN_INFO!").as_str(),
            Some("NVDIMM_PFN_INFO!")
        );
        assert_eq!(Signature([0; 16]).as_str(), Some(""));
        let mut odd = [b'A'; 16];
        odd[3] = 0xff;
        assert_eq!(Signature(odd).as_str(), None);
        assert_eq!(format!("{}", Signature::PFN), "NVDIMM_PFN_INFO\\x00");
        assert_eq!(
            format!("{:?}", Signature::DAX),
            "Signature(\"NVDIMM_DAX_INFO\\x00\")"
        );
    }

    /// FORMAT.md §1.2: mode RAM = 1 (`--map=mem`), PMEM = 2 (`--map=dev`), NONE = 0.
    #[test]
    fn mode_values() {
        assert_eq!(Mode::NONE.0, 0);
        assert_eq!(Mode::RAM.0, 1);
        assert_eq!(Mode::PMEM.0, 2);
        assert!(!Mode::NONE.is_known());
        assert!(Mode::RAM.is_known() && Mode::PMEM.is_known());
        assert!(!Mode(3).is_known());
        assert_eq!(Mode::RAM.map_name(), Some("mem"));
        assert_eq!(Mode::PMEM.map_name(), Some("dev"));
        assert_eq!(Mode(u32::MAX).map_name(), None);
        assert_eq!(format!("{:?}", Mode::PMEM), "Mode::PMEM");
        assert_eq!(format!("{:?}", Mode(7)), "Mode(7)");
    }

    #[test]
    fn debug_skips_the_padding() {
        let image = block_a_image();
        let text = format!("{:?}", InfoBlock::from_bytes(&image).unwrap());
        assert!(text.len() < 1000, "{} characters", text.len());
        assert!(text.contains("dataoff: 18874368"));
        assert!(text.contains("padding_nonzero: false"));
        assert!(text.contains("checksum: 0xcb6f555c6d1aaee2"));
    }

    #[test]
    fn nonzero_padding_and_flags_are_noticed() {
        let mut image = block_a_image();
        image[4087] = 1;
        assert!(InfoBlock::from_bytes(&image).unwrap().has_nonzero_padding());
        let mut image = block_a_image();
        image[48] = 1;
        assert!(InfoBlock::from_bytes(&image).unwrap().has_nonzero_padding());
        // The checksum field is not padding.
        let mut image = [0u8; 4096];
        image[4088..].fill(0xff);
        assert!(!InfoBlock::from_bytes(&image).unwrap().has_nonzero_padding());
    }
}
