//! The raw layer of the label storage area: the index block and the two label layouts as they
//! sit on media, with the kernel's field names (`struct nd_namespace_index` and
//! `struct nvdimm_efi_label` in `drivers/nvdimm/label.h`). Every multi-byte field is
//! little-endian. Nothing is interpreted here.

use core::fmt;

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::uuid::Uuid;

/// `NSINDEX_SIGNATURE`: `"NAMESPACE_INDEX\0"`, compared over all 16 bytes.
pub const NSINDEX_SIGNATURE: [u8; 16] = *b"NAMESPACE_INDEX\0";
/// `NSINDEX_ALIGN`: an index block is a multiple of 256 bytes.
pub const NSINDEX_ALIGN: u32 = 256;
/// `NSINDEX_SEQ_MASK`: only the low two bits of `seq` count (1 → 2 → 3 → 1; 0 is invalid).
pub const NSINDEX_SEQ_MASK: u32 = 3;
/// `NSLABEL_NAME_LEN`: bytes of a label's `name`.
pub const NSLABEL_NAME_LEN: usize = 64;
/// `NSLABEL_FLAG_ROLABEL`: read-only label.
pub const NSLABEL_FLAG_ROLABEL: u32 = 0x1;
/// `NSLABEL_FLAG_LOCAL`: DIMM-local (BLK) namespace; no longer created by Linux.
pub const NSLABEL_FLAG_LOCAL: u32 = 0x2;
/// `NSLABEL_FLAG_BTT`: namespace contains a BTT (v1.1 writers).
pub const NSLABEL_FLAG_BTT: u32 = 0x4;
/// `NSLABEL_FLAG_UPDATING`: label being updated; the kernel writes every new label with it
/// first, then rewrites the label without it (`nd_pmem_namespace_label_update`). Reading
/// kernels (Linux 5.15 to 6.12 at least) do not look at it.
pub const NSLABEL_FLAG_UPDATING: u32 = 0x8;

/// Byte offsets inside an index block (`struct nd_namespace_index`), checked against
/// [`NdNamespaceIndex`] at compile time.
pub mod index_offset {
    /// `sig`, 16 bytes.
    pub const SIG: usize = 0;
    /// `flags`, 3 bytes (v1.2 layout; v1.1 has one le32 `flags` at 16..20).
    pub const FLAGS: usize = 16;
    /// `labelsize`, u8: log2(label size) − 7 (v1.2).
    pub const LABELSIZE: usize = 19;
    /// `seq`, le32.
    pub const SEQ: usize = 20;
    /// `myoff`, le64.
    pub const MYOFF: usize = 24;
    /// `mysize`, le64.
    pub const MYSIZE: usize = 32;
    /// `otheroff`, le64.
    pub const OTHEROFF: usize = 40;
    /// `labeloff`, le64.
    pub const LABELOFF: usize = 48;
    /// `nslot`, le32.
    pub const NSLOT: usize = 56;
    /// `major`, le16.
    pub const MAJOR: usize = 60;
    /// `minor`, le16.
    pub const MINOR: usize = 62;
    /// `checksum`, le64.
    pub const CHECKSUM: usize = 64;
    /// `free`, the bitmap: bit `n` (little-endian bit order) set = slot `n` free.
    pub const FREE: usize = 72;
}

/// Byte offsets inside a label (`struct nvdimm_efi_label`); v1.1 labels end at 128.
pub mod label_offset {
    /// `uuid`, 16 bytes.
    pub const UUID: usize = 0;
    /// `name`, 64 bytes, NUL-padded.
    pub const NAME: usize = 16;
    /// `flags`, le32.
    pub const FLAGS: usize = 80;
    /// `nlabel`, le16.
    pub const NLABEL: usize = 84;
    /// `position`, le16.
    pub const POSITION: usize = 86;
    /// `isetcookie`, le64.
    pub const ISETCOOKIE: usize = 88;
    /// `lbasize`, le64.
    pub const LBASIZE: usize = 96;
    /// `dpa`, le64.
    pub const DPA: usize = 104;
    /// `rawsize`, le64.
    pub const RAWSIZE: usize = 112;
    /// `slot`, le32.
    pub const SLOT: usize = 120;
    /// `align`, u8 (v1.2; in v1.1 bytes 124..128 are an unused le32).
    pub const ALIGN: usize = 124;
    /// `type_guid`, 16 bytes (v1.2).
    pub const TYPE_GUID: usize = 128;
    /// `abstraction_guid`, 16 bytes (v1.2): the claim class.
    pub const ABSTRACTION_GUID: usize = 144;
    /// `reserved2`, 88 bytes (v1.2).
    pub const RESERVED2: usize = 160;
    /// `checksum`, le64 (v1.2).
    pub const CHECKSUM: usize = 248;
}

/// `struct nd_namespace_index`: the label-area superblock, with its free bitmap as a
/// trailing slice (`free[]`), borrowed from the index block's bytes without copying.
///
/// The v1.2 layout is used for both versions: in a v1.1 index, `flags` and `labelsize` are
/// the bytes of one le32 `flags` that the kernel never reads.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct NdNamespaceIndex {
    /// `"NAMESPACE_INDEX\0"`.
    pub sig: [u8; 16],
    /// Zero as written; never checked.
    pub flags: [u8; 3],
    /// log2(label size) − 7 when `major * 100 + minor >= 102`: 0 for 128, 1 for 256.
    pub labelsize: u8,
    /// Sequence number; the low two bits cycle 1 → 2 → 3 → 1, 0 is invalid.
    pub seq: U32,
    /// Offset of this index in the area: 0 or the index size.
    pub myoff: U64,
    /// Size of this index: between 72 and the kernel's index size.
    pub mysize: U64,
    /// Offset of the other index.
    pub otheroff: U64,
    /// Offset of slot 0: twice the index size.
    pub labeloff: U64,
    /// Number of label slots.
    pub nslot: U32,
    /// 1.
    pub major: U16,
    /// 1 (128-byte labels) or 2 (256-byte labels).
    pub minor: U16,
    /// `nd_fletcher64` of the index (the kernel's index size) with this field taken as zero.
    pub checksum: U64,
    /// Free bitmap: bit `n` (byte `n / 8`, bit `n % 8`) set = slot `n` free.
    pub free: [u8],
}

impl NdNamespaceIndex {
    /// Bytes before the free bitmap (`sizeof(struct nd_namespace_index)`).
    pub const HEADER_SIZE: usize = 72;

    /// Borrows an index block (header and bitmap) from its bytes.
    ///
    /// `None` when `bytes` is shorter than the 72-byte header.
    #[must_use]
    pub fn ref_from_block(bytes: &[u8]) -> Option<&Self> {
        Self::ref_from_bytes(bytes).ok()
    }

    /// `major * 100 + minor`, the number the kernel compares with 102.
    #[must_use]
    pub fn version(&self) -> u32 {
        u32::from(self.major.get())
            .saturating_mul(100)
            .saturating_add(u32::from(self.minor.get()))
    }
}

impl fmt::Debug for NdNamespaceIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NdNamespaceIndex")
            .field("sig", &self.sig.escape_ascii())
            .field("flags", &self.flags)
            .field("labelsize", &self.labelsize)
            .field("seq", &self.seq.get())
            .field("myoff", &self.myoff.get())
            .field("mysize", &self.mysize.get())
            .field("otheroff", &self.otheroff.get())
            .field("labeloff", &self.labeloff.get())
            .field("nslot", &self.nslot.get())
            .field("major", &self.major.get())
            .field("minor", &self.minor.get())
            .field("checksum", &self.checksum.get())
            .field("free_bytes", &self.free.len())
            .finish()
    }
}

/// A GUID as it sits on media: EFI/`guid_t` byte order, where the first three groups of the
/// string are stored little-endian (`guid_parse`), unlike [`Uuid`] (`uuid_t`, string order).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(transparent)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// `guid_null`.
    pub const NULL: Self = Self([0; 16]);

    /// The GUID whose canonical string is `uuid`'s (`guid_parse` of the same text): the
    /// first three groups are byte-swapped.
    #[must_use]
    pub const fn from_string_order(uuid: Uuid) -> Self {
        let u = uuid.0;
        Self([
            u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12], u[13],
            u[14], u[15],
        ])
    }

    /// The same GUID with its bytes in string order, as a [`Uuid`] (for display and parsing).
    #[must_use]
    pub const fn to_string_order(self) -> Uuid {
        let g = self.0;
        Uuid([
            g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
            g[14], g[15],
        ])
    }
}

impl fmt::Display for Guid {
    /// The canonical string (`%pUl` in the kernel).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_string_order(), f)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

/// What owns a namespace (`enum nvdimm_claim_class`), stored in a v1.2 label's
/// `abstraction_guid` (`to_abstraction_guid` / `guid_to_nvdimm_cclass` in `label.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClaimClass {
    /// `NVDIMM_CCLASS_NONE`: `guid_null`, a raw namespace (and every v1.1 label).
    None,
    /// `NVDIMM_CCLASS_BTT`: BTT v1.1 (`NVDIMM_BTT_GUID` 8aed63a2-29a2-4c66-8b12-f05d15d3922a).
    Btt,
    /// `NVDIMM_CCLASS_BTT2`: BTT v2.0 (`NVDIMM_BTT2_GUID` 18633bfc-1735-4217-8ac9-17239282d3f8).
    Btt2,
    /// `NVDIMM_CCLASS_PFN`: fsdax (`NVDIMM_PFN_GUID` 266400ba-fb9f-4677-bcb0-968f11d0d225).
    Pfn,
    /// `NVDIMM_CCLASS_DAX`: devdax (`NVDIMM_DAX_GUID` 97a86d9c-3cdd-4eda-986f-5068b4f80088).
    Dax,
    /// `NVDIMM_CCLASS_UNKNOWN`: any other GUID (kept as found).
    Unknown(Guid),
}

impl ClaimClass {
    /// `NVDIMM_BTT_GUID` in `guid_t` byte order.
    pub const BTT_GUID: Guid = Guid([
        0xa2, 0x63, 0xed, 0x8a, 0xa2, 0x29, 0x66, 0x4c, 0x8b, 0x12, 0xf0, 0x5d, 0x15, 0xd3, 0x92,
        0x2a,
    ]);
    /// `NVDIMM_BTT2_GUID` in `guid_t` byte order.
    pub const BTT2_GUID: Guid = Guid([
        0xfc, 0x3b, 0x63, 0x18, 0x35, 0x17, 0x17, 0x42, 0x8a, 0xc9, 0x17, 0x23, 0x92, 0x82, 0xd3,
        0xf8,
    ]);
    /// `NVDIMM_PFN_GUID` in `guid_t` byte order.
    pub const PFN_GUID: Guid = Guid([
        0xba, 0x00, 0x64, 0x26, 0x9f, 0xfb, 0x77, 0x46, 0xbc, 0xb0, 0x96, 0x8f, 0x11, 0xd0, 0xd2,
        0x25,
    ]);
    /// `NVDIMM_DAX_GUID` in `guid_t` byte order.
    pub const DAX_GUID: Guid = Guid([
        0x9c, 0x6d, 0xa8, 0x97, 0xdd, 0x3c, 0xda, 0x4e, 0x98, 0x6f, 0x50, 0x68, 0xb4, 0xf8, 0x00,
        0x88,
    ]);

    /// The class a stored `abstraction_guid` names.
    #[must_use]
    pub fn from_guid(guid: Guid) -> Self {
        match guid {
            g if g == Guid::NULL => Self::None,
            g if g == Self::BTT_GUID => Self::Btt,
            g if g == Self::BTT2_GUID => Self::Btt2,
            g if g == Self::PFN_GUID => Self::Pfn,
            g if g == Self::DAX_GUID => Self::Dax,
            g => Self::Unknown(g),
        }
    }

    /// The `abstraction_guid` the kernel writes for this class.
    #[must_use]
    pub const fn guid(self) -> Guid {
        match self {
            Self::None => Guid::NULL,
            Self::Btt => Self::BTT_GUID,
            Self::Btt2 => Self::BTT2_GUID,
            Self::Pfn => Self::PFN_GUID,
            Self::Dax => Self::DAX_GUID,
            Self::Unknown(g) => g,
        }
    }

    /// The name ndctl and sysfs use (`holder_class`): "", "btt", "btt", "pfn", "dax".
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Btt => "btt",
            Self::Btt2 => "btt2",
            Self::Pfn => "pfn",
            Self::Dax => "dax",
            Self::Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for ClaimClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The type GUID of an ACPI NFIT persistent-memory range (`UUID_PERSISTENT_MEMORY`,
/// 66f0d379-b4f3-4074-ac43-0d3318b78cdb) in `guid_t` byte order: the `type_guid` the kernel
/// copies into v1.2 labels of a pmem region (`nd_set->type_guid`).
pub const PMEM_TYPE_GUID: Guid = Guid([
    0x79, 0xd3, 0xf0, 0x66, 0xf3, 0xb4, 0x74, 0x40, 0xac, 0x43, 0x0d, 0x33, 0x18, 0xb7, 0x8c, 0xdb,
]);

/// A v1.2 namespace label (`struct nvdimm_efi_label`, 256 bytes). A v1.1 label is its first
/// 128 bytes ([`NdNamespaceLabelV11`]).
#[derive(Clone, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct NdNamespaceLabel {
    /// Namespace uuid (`uuid_t`, string order).
    pub uuid: Uuid,
    /// Optional name, NUL-padded.
    pub name: [u8; 64],
    /// `NSLABEL_FLAG_*`.
    pub flags: U32,
    /// Labels describing this namespace: the region's number of DIMMs (interleave ways).
    pub nlabel: U16,
    /// This label's position in the interleave set.
    pub position: U16,
    /// Interleave-set cookie of the region.
    pub isetcookie: U64,
    /// Sector size for BTT namespaces, 0 otherwise.
    pub lbasize: U64,
    /// Start of the range on this DIMM (device physical address).
    pub dpa: U64,
    /// Bytes of the range on this DIMM.
    pub rawsize: U64,
    /// Slot this label is written in.
    pub slot: U32,
    /// Physical alignment; written 0 by Linux.
    pub align: u8,
    /// Zero.
    pub reserved: [u8; 3],
    /// The region's NFIT range type (`nd_set->type_guid`).
    pub type_guid: Guid,
    /// The claim class ([`ClaimClass`]).
    pub abstraction_guid: Guid,
    /// Zero.
    pub reserved2: [u8; 88],
    /// `nd_fletcher64` of the 256 bytes with this field taken as zero.
    pub checksum: U64,
}

/// A v1.1 namespace label (128 bytes): the fields up to `slot`, then 4 unused bytes.
#[derive(Clone, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct NdNamespaceLabelV11 {
    /// Namespace uuid.
    pub uuid: Uuid,
    /// Optional name, NUL-padded.
    pub name: [u8; 64],
    /// `NSLABEL_FLAG_*`.
    pub flags: U32,
    /// Labels describing this namespace.
    pub nlabel: U16,
    /// Position in the interleave set.
    pub position: U16,
    /// Interleave-set cookie.
    pub isetcookie: U64,
    /// Sector size or 0.
    pub lbasize: U64,
    /// Start on this DIMM.
    pub dpa: U64,
    /// Bytes on this DIMM.
    pub rawsize: U64,
    /// Slot this label is written in.
    pub slot: U32,
    /// Unused.
    pub unused: U32,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<NdNamespaceLabel>() == 256);
    assert!(size_of::<NdNamespaceLabelV11>() == 128);
    assert!(offset_of!(NdNamespaceLabel, uuid) == label_offset::UUID);
    assert!(offset_of!(NdNamespaceLabel, name) == label_offset::NAME);
    assert!(offset_of!(NdNamespaceLabel, flags) == label_offset::FLAGS);
    assert!(offset_of!(NdNamespaceLabel, nlabel) == label_offset::NLABEL);
    assert!(offset_of!(NdNamespaceLabel, position) == label_offset::POSITION);
    assert!(offset_of!(NdNamespaceLabel, isetcookie) == label_offset::ISETCOOKIE);
    assert!(offset_of!(NdNamespaceLabel, lbasize) == label_offset::LBASIZE);
    assert!(offset_of!(NdNamespaceLabel, dpa) == label_offset::DPA);
    assert!(offset_of!(NdNamespaceLabel, rawsize) == label_offset::RAWSIZE);
    assert!(offset_of!(NdNamespaceLabel, slot) == label_offset::SLOT);
    assert!(offset_of!(NdNamespaceLabel, align) == label_offset::ALIGN);
    assert!(offset_of!(NdNamespaceLabel, type_guid) == label_offset::TYPE_GUID);
    assert!(offset_of!(NdNamespaceLabel, abstraction_guid) == label_offset::ABSTRACTION_GUID);
    assert!(offset_of!(NdNamespaceLabel, reserved2) == label_offset::RESERVED2);
    assert!(offset_of!(NdNamespaceLabel, checksum) == label_offset::CHECKSUM);
    assert!(offset_of!(NdNamespaceLabelV11, slot) == label_offset::SLOT);
    assert!(offset_of!(NdNamespaceIndex, labelsize) == index_offset::LABELSIZE);
    assert!(offset_of!(NdNamespaceIndex, seq) == index_offset::SEQ);
    assert!(offset_of!(NdNamespaceIndex, myoff) == index_offset::MYOFF);
    assert!(offset_of!(NdNamespaceIndex, mysize) == index_offset::MYSIZE);
    assert!(offset_of!(NdNamespaceIndex, otheroff) == index_offset::OTHEROFF);
    assert!(offset_of!(NdNamespaceIndex, labeloff) == index_offset::LABELOFF);
    assert!(offset_of!(NdNamespaceIndex, nslot) == index_offset::NSLOT);
    assert!(offset_of!(NdNamespaceIndex, major) == index_offset::MAJOR);
    assert!(offset_of!(NdNamespaceIndex, minor) == index_offset::MINOR);
    assert!(offset_of!(NdNamespaceIndex, checksum) == index_offset::CHECKSUM);
    assert!(index_offset::CHECKSUM + 8 == index_offset::FREE);
    assert!(index_offset::FREE == NdNamespaceIndex::HEADER_SIZE);
};

impl fmt::Debug for NdNamespaceLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NdNamespaceLabel")
            .field("uuid", &self.uuid)
            .field("name", &self.name.escape_ascii())
            .field("flags", &self.flags.get())
            .field("nlabel", &self.nlabel.get())
            .field("position", &self.position.get())
            .field("isetcookie", &self.isetcookie.get())
            .field("lbasize", &self.lbasize.get())
            .field("dpa", &self.dpa.get())
            .field("rawsize", &self.rawsize.get())
            .field("slot", &self.slot.get())
            .field("align", &self.align)
            .field("type_guid", &self.type_guid)
            .field("abstraction_guid", &self.abstraction_guid)
            .field("checksum", &self.checksum.get())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for NdNamespaceLabelV11 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NdNamespaceLabelV11")
            .field("uuid", &self.uuid)
            .field("name", &self.name.escape_ascii())
            .field("flags", &self.flags.get())
            .field("nlabel", &self.nlabel.get())
            .field("position", &self.position.get())
            .field("isetcookie", &self.isetcookie.get())
            .field("lbasize", &self.lbasize.get())
            .field("dpa", &self.dpa.get())
            .field("rawsize", &self.rawsize.get())
            .field("slot", &self.slot.get())
            .finish_non_exhaustive()
    }
}
