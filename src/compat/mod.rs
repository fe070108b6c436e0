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
//! `min_version` is higher. Kernel verdicts come from the validator ([`crate::validate`]).

mod features;
mod kernel;
mod reader;
mod upgrade;

pub use crate::validate::Namespace;
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
