//! Read, check, plan and write the Linux libnvdimm **info-block**: the 4 KiB superblock at
//! byte 4096 of a persistent-memory namespace in fsdax (`NVDIMM_PFN_INFO`) or devdax
//! (`NVDIMM_DAX_INFO`) mode, exactly as the kernel does.
//!
//! ```text
//!  namespace base (res.start)                                     namespace end
//!  |                                                                          |
//!  [ 0 .. 4 KiB  ][ 4 KiB .. 8 KiB ][ memmap (PMEM mode)   ][ data ........ ][ end_trunc ]
//!   left alone     info-block        struct page per data    first data byte
//!   (MBR, BTT2)    (this crate)      page, up to dataoff     at base + start_pad + dataoff
//!  ^-- start_pad (legacy, v1.1..v1.2 writers only) shifts everything after it
//! ```
//!
//! # Layers
//! * [`InfoBlock`]: the exact 4096 bytes, zero-copy (zerocopy), with the kernel's field names
//!   from `drivers/nvdimm/pfn.h`.
//! * [`nd_fletcher64`]: the kernel's (non-textbook) checksum; [`InfoBlock::verify_checksum`].
//! * [`PfnInfo`]: the normalized view with the kernel's defaulting by minor version;
//!   [`PfnInfo::parse`] and [`PfnInfo::emit`].
//!
//! # Example
//! ```
//! use nvdimm_infoblock::{parse, DeviceKind, Mode, ParseOptions, PfnInfo, Uuid, Version};
//!
//! // Build the block the kernel writes for a 1 GiB fsdax namespace, align 2 MiB, map=dev.
//! let info = PfnInfo {
//!     kind: DeviceKind::Fsdax,
//!     uuid: Uuid([0x11; 16]),
//!     parent_uuid: Uuid::NIL,
//!     flags: 0,
//!     version: Version::V1_4,
//!     dataoff: 0x120_0000,
//!     npfns: 0x3_ee00,
//!     mode: Mode::PMEM,
//!     start_pad: 0,
//!     end_trunc: 0,
//!     align: 0x20_0000,
//!     page_size: 4096,
//!     page_struct_size: 64,
//!     min_version: None,
//! };
//! let block = info.to_block()?;
//! let bytes = zerocopy::IntoBytes::as_bytes(&block);
//! let parsed = parse(bytes, &ParseOptions::DEFAULT)?;
//! assert_eq!(parsed.info, info);
//! assert_eq!(parsed.block.dataoff.get(), 18 << 20);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # Endianness
//! Every multi-byte field is little-endian on media, whatever the host; the raw struct uses
//! `zerocopy::little_endian` types, so the crate is correct on big-endian hosts too.
//!
//! # No-panic contract
//! No function of this crate panics, on any input: parsing, checking and solving use checked
//! arithmetic and return typed errors. The library is `#![no_std]`, uses no `alloc`, and is
//! `#![forbid(unsafe_code)]`.
//!
//! # Versions
//! Upstream minor versions 0 to 4 (FORMAT.md §1.3) and the unmerged 2019 proposal's v1.3 with
//! `min_version` at byte 88 ([`Dialect::MinVersion2019`]). `version_major` is never used to
//! reject a block; minors above 4 are read as 4.
//!
//! # MSRV
//! Rust 1.81 (for `core::error::Error`).
//!
//! # Sources
//! `drivers/nvdimm/pfn.h` (layout), `pfn_devs.c` (`nd_pfn_validate`, `nd_pfn_init`),
//! `claim.c` (`nd_sb_checksum`), `core.c` (`nd_fletcher64`), Linux 4.3 to 6.12; ndctl
//! `Documentation/ndctl/ndctl-write-infoblock.txt`. No kernel code is copied.

#![no_std]
#![forbid(unsafe_code)]
#![deny(
    missing_docs,
    missing_debug_implementations,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::as_conversions
)]
#![warn(unreachable_pub, clippy::must_use_candidate)]

#[cfg(test)]
extern crate std;

mod arith;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub mod btt;
mod checksum;
pub mod io;
pub mod label;
pub mod pfn;
pub mod probe;
mod uuid;

pub use checksum::nd_fletcher64;
pub use uuid::{Uuid, UuidParseError};

// The pfn/dax paths users had before the crate held more than one format.
pub use pfn::{
    check, parse, solve, DefaultedFields, DeviceKind, Dialect, DialectChoice, EmitError, Enabled,
    Era, Errno, ErrorClass, InfoBlock, Layout, LayoutError, LayoutRequest, LiveSettings, Mode,
    Namespace, NamespaceError, Outcome, ParseError, ParseOptions, Parsed, PfnInfo, Platform,
    ProbePath, Profile, Reason, Signature, Stage, Version,
};
pub use pfn::{compat, layout, profile, raw, validate};
