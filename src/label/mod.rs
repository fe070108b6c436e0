//! The namespace label storage area of an NVDIMM (the "LSA", `nsarea` / config data): two
//! index blocks and an array of label slots, as `drivers/nvdimm/label.c` and `label.h` define
//! them, and the namespaces the kernel builds from them (`namespace_devs.c`).
//!
//! ```text
//!  0            index_size     2*index_size (labeloff)                         config_size
//!  [ index 0   ][ index 1     ][ slot 0 ][ slot 1 ] ... [ slot nslot-1 ][ unused ]
//!    sig, seq, offsets, nslot,   128-byte (v1.1) or 256-byte (v1.2) labels
//!    free bitmap (bit set = slot free); the one with the newer seq is current
//! ```
//!
//! The same inner shape as the other format folders:
//! * [`raw`]: the on-media structures with the kernel's field names ([`NdNamespaceIndex`],
//!   [`NdNamespaceLabel`], [`NdNamespaceLabelV11`]), the claim-class GUIDs;
//! * [`index`]: the kernel's geometry ([`nvdimm_num_label_slots`],
//!   [`sizeof_namespace_index`]), index validation, the label-size probe and the current
//!   index ([`LabelArea::parse`]), the free bitmap and the active labels;
//! * [`namespaces`]: what the kernel creates ([`LabelArea::namespaces`]);
//! * [`update`](mod@update): `init`, `add`, `update`, `remove` as plans written through
//!   [`WriteAt`](crate::io::WriteAt), two-phase and crash-safe.
//!
//! A longer walk-through with the kernel's rules is `docs/labels.md`.
//!
//! # Example
//! ```
//! use nvdimm_infoblock::label::{self, InitStyle, LabelArea, LabelVersion, NewLabel, Namespace, Region};
//! use nvdimm_infoblock::Uuid;
//!
//! // A 128 KiB area, initialised as `ndctl init-labels` would, then one 1 GiB namespace.
//! let mut area = vec![0u8; 128 << 10];
//! label::init(area.len(), LabelVersion::V1_2, InitStyle::Kernel)?.apply_in_place(&mut area)?;
//! let uuid: Uuid = "11111111-2222-4333-8444-555555555555".parse()?;
//! let new = NewLabel::new(uuid, "data", 0, 1 << 30, 0x00ba_9012_0012_b4dc)?;
//! let plan = label::add(&LabelArea::parse(&area)?, &new)?;
//! for w in plan.writes() {
//!     println!("{w}"); // every byte range, before anything is written
//! }
//! plan.apply_in_place(&mut area)?;
//!
//! // List the namespaces as the kernel would.
//! let parsed = LabelArea::parse(&area)?;
//! let region = Region { isetcookie: Some(0x00ba_9012_0012_b4dc), ..Region::default() };
//! let mut out = [Namespace::EMPTY; 8];
//! let scan = parsed.namespaces(&region, &mut out);
//! assert_eq!(scan.failure, None);
//! let found = &out[..scan.count];
//! assert_eq!(found.len(), 1);
//! assert_eq!((found[0].uuid, found[0].name_str(), found[0].rawsize), (uuid, Some("data"), 1 << 30));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod error;
pub mod index;
pub mod namespaces;
pub mod raw;
pub mod update;

pub use error::{ApplyError, AreaError, IndexError, UpdateError};
pub use index::{
    best_seq, nd_inc_seq, nvdimm_num_label_slots, sizeof_namespace_index, validate_index, Geometry,
    IndexInfo, Label, LabelArea, LabelVersion, SlotError,
};
pub use namespaces::{Findings, Namespace, Region, RegionFailure, Scan};
pub use raw::{ClaimClass, Guid, NdNamespaceIndex, NdNamespaceLabel, NdNamespaceLabelV11};
pub use update::{
    add, init, remove, touch, update, write_label, InitStyle, NewLabel, Plan, Write, WriteKind,
};

/// The runnable examples of `docs/labels.md`, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/labels.md")]
pub struct LabelsMd;
