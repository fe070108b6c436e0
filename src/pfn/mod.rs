//! The `nd_pfn` / `nd_dax` info-block (fsdax and devdax namespaces): the 4 KiB superblock at
//! byte 4096 of the namespace, as `drivers/nvdimm/pfn.h` and `pfn_devs.c` define it.
//!
//! ```text
//!  namespace base (res.start)                                     namespace end
//!  |                                                                          |
//!  [ 0 .. 4 KiB  ][ 4 KiB .. 8 KiB ][ memmap (PMEM mode)   ][ data ........ ][ end_trunc ]
//!   left alone     info-block        struct page per data    first data byte
//!   (MBR, BTT2)    (this module)     page, up to dataoff     at base + start_pad + dataoff
//!  ^-- start_pad (legacy, v1.1..v1.2 writers only) shifts everything after it
//! ```
//!
//! The same inner shape as every format folder of the crate:
//! * [`raw`]: the exact 4096 bytes ([`InfoBlock`]), zero-copy, kernel field names, and the
//!   block's own checksum verbs (`compute/update/verify_checksum`);
//! * the model ([`PfnInfo`], [`parse`], `emit`) with the kernel's defaulting by minor version;
//! * the checks ([`validate`]: `nd_pfn_validate` and the enable stage, era by era);
//! * the layout side ([`layout`]: `nd_pfn_init`'s solver, and [`compat`]: which readers accept
//!   a block and how to upgrade it).
//!
//! Everything here is also re-exported at the crate root, where it lived before the crate
//! held more than one format (`nvdimm_infoblock::InfoBlock`, `nvdimm_infoblock::validate`, …).
//! A longer walk-through with diagrams is `docs/pfn.md`.

pub mod compat;
mod error;
pub mod layout;
mod model;
pub mod profile;
pub mod raw;
pub mod validate;
mod version;

pub use error::{EmitError, ErrorClass, ParseError};
pub use layout::{solve, Layout, LayoutError, LayoutRequest};
pub use model::{
    parse, DefaultedFields, DeviceKind, Dialect, DialectChoice, ParseOptions, Parsed, PfnInfo,
};
pub use profile::{Era, Platform, Profile};
pub use raw::{InfoBlock, Mode, Signature};
pub use validate::{
    check, Enabled, Errno, LiveSettings, Namespace, NamespaceError, Outcome, ProbePath, Reason,
    Stage,
};
pub use version::Version;
