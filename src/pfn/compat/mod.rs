//! The compatibility checker: which format features a block uses and the version each needs
//! ([`Features`], [`RequiredVersion`]), what every known reader does with the block
//! ([`check`], [`Reader`], [`Verdict`]), and upgrades between versions that never move data
//! ([`plan_upgrade`]).
//!
//! # Model
//! A block *uses* features (a non-zero `start_pad`, a recorded `align` that differs from the
//! derived one, a `page_struct_size` of 128, the 2019 `min_version` ...). Each feature was
//! introduced by a format version; the block's *required version* is the smallest version
//! that has them all. A block that *claims* less than it requires is read with defaults by
//! readers of the claimed version ([`ClaimedView`]).
//!
//! Readers differ in how they treat versions ([`VersionSupport`]): upstream kernels, ndctl and
//! dataoff-only drivers never refuse a block for its version (they read what they know), while
//! a reader built on the 2019 proposal declares a support level and refuses blocks whose
//! `min_version` is higher. Kernel verdicts come from the validator ([`crate::pfn::validate`]).
//!
//! # Example
//! ```
//! use nvdimm_infoblock::compat::{check, plan_upgrade, FormatVersion, Namespace, Reader,
//!     RequiredVersion};
//! use nvdimm_infoblock::{DeviceKind, Mode, PfnInfo, Uuid, Version};
//!
//! // FORMAT.md §2.3 vector D: a v1.2 block from Linux 4.15-5.2 with a 64 MiB start_pad,
//! // in a namespace that starts 64 MiB into a 128 MiB memory section.
//! let block = PfnInfo {
//!     kind: DeviceKind::Fsdax,
//!     uuid: Uuid([0x11; 16]),
//!     parent_uuid: Uuid::NIL,
//!     flags: 0,
//!     version: Version::V1_2,
//!     dataoff: 0x120_0000,
//!     npfns: 0x3_ae00,
//!     mode: Mode::PMEM,
//!     start_pad: 0x400_0000,
//!     end_trunc: 0,
//!     align: 0x20_0000,
//!     page_size: 4096,
//!     page_struct_size: 64,
//!     min_version: None,
//! }
//! .to_block()?;
//! let ns = Namespace::labelless(0x10_3c00_0000, 1 << 30);
//!
//! let required = RequiredVersion::of_block(&block);
//! assert_eq!(required.to_string(), "1.2: start_pad needs 1.1, align needs 1.2");
//!
//! // Linux 6.5 loads it, but fsdax DAX maps the wrong pages (FORMAT.md §5.2).
//! let verdict = check(&block, &ns, &Reader::KNOWN[10]);
//! assert_eq!(verdict.token(), "degraded");
//! assert_eq!(verdict.view().unwrap().data_start, 0x10_3c00_0000 + 0x400_0000 + 0x120_0000);
//!
//! // The 2019 conversion keeps the data where it is and makes old readers refuse.
//! let plan = plan_upgrade(&block, &ns, FormatVersion::V2019_1_3)?;
//! assert_eq!(plan.block.dataoff.get(), 0x520_0000);
//! assert_eq!(plan.after.data_start, plan.before.data_start);
//! assert_eq!(check(&plan.block, &ns, &Reader::MinVersion(2)).token(), "refused");
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod features;
mod kernel;
mod reader;
mod upgrade;

pub use crate::pfn::validate::Namespace;
pub use features::{
    derived_align, dialect_options, is_2019_block, pfn3_to_upstream, upstream_to_pfn3, ClaimedView,
    Features, FormatVersion, Intent, RequiredVersion, MIN_VERSION_2019, PFN3_MODE_PMEM,
    PFN3_MODE_RAM,
};
pub use reader::{
    check, effective_align, effective_min_version, Caveat, Caveats, Reader, ReaderName, Reason,
    Verdict, VersionSupport, View,
};
pub use upgrade::{
    data_extent, format_version, plan_upgrade, ReaderChange, Summary, UpgradeError, UpgradePlan,
};
