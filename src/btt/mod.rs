//! The BTT (Block Translation Table, "sector mode"): the on-media format the kernel's
//! `nd_btt` driver puts on a namespace to give it power-fail-atomic sector writes
//! (`drivers/nvdimm/btt.h`, `btt.c`, `btt_devs.c`; UEFI 2.7 §6.3 for v2.0).
//!
//! ```text
//!  namespace                                                                   end
//!  |[ 4 KiB (v1.1 only) ][ arena 0 ............ ][ arena 1 ........ ] ... [ < 16 MiB unused ]
//!                        ^ first info block      ^ arena 0's info block + nextoff
//!                          (byte 4096 for v1.1,     (512 GiB per arena; the last one takes
//!                           byte 0 for v2.0)         the rest, at least 16 MiB)
//!
//!  one arena (offsets from its info block; every area page-aligned)
//!  [ info block 4 KiB ][ data: internal_nlba blocks of internal_lbasize ][ map ][ flog ][ info2 ]
//!    btt_sb             0 .. external_nlba-1 hold data, nfree more are    4 B    64 B    backup
//!    at 0               free (the flog knows which)                      per     per     btt_sb
//!                       dataoff                                          block   lane    info2off
//!                                                                        mapoff  logoff
//! ```
//!
//! * [`raw`]: the bytes: [`raw::BttSb`] (`struct btt_sb`), [`raw::MapEntry`],
//!   [`raw::LogEntry`] / [`raw::LogGroup`] with the kernel's newer-entry rule, the constants.
//! * [`arena`]: placement ([`arena::BttVersion`]), the kernel's checks and the walk of the
//!   arena chain ([`arena::Btt::open`]), and per-arena reads of the map and flog for a checker
//!   ([`arena::Arena`]).
//! * [`read`]: LBA translation and sector reads ([`read::Reader`]), with the map repair the
//!   kernel makes from the flog when it attaches the BTT.
//! * [`layout`]: the kernel's layout of a new BTT ([`layout::solve`]) and [`layout::create`],
//!   which writes byte-identical metadata after a dry run ([`layout::Layout::plan`]).
//! * [`error`]: [`error::Invalid`] (what is wrong, with the numbers) and [`error::Error`]
//!   (that, or the caller's I/O error).
//!
//! All I/O goes through [`crate::io::ReadAt`] / [`crate::io::WriteAt`] over the whole
//! namespace; nothing allocates. A longer walk-through is `docs/btt.md`.
//!
//! # Example: make a BTT and read one sector
//!
//! ```
//! use nvdimm_infoblock::btt::arena::{BttVersion, Namespace};
//! use nvdimm_infoblock::btt::layout::{create, LayoutRequest};
//! use nvdimm_infoblock::btt::read::Reader;
//! use nvdimm_infoblock::Uuid;
//!
//! // A 17 MiB label-less namespace (BTT 1.1, info block at byte 4096), 512-byte sectors.
//! let size = 17 << 20;
//! let mut ns = vec![0u8; size];
//! let request = LayoutRequest {
//!     namespace_size: size as u64,
//!     lbasize: 512,
//!     version: BttVersion::V1_1,
//!     uuid: Uuid([0x42; 16]),
//!     parent_uuid: Uuid::NIL,
//! };
//! let layout = create(&mut ns.as_mut_slice(), &request)?;
//! assert_eq!(layout.nlba(), 34_226);
//!
//! // A new map is the identity: LBA 9 lives in data block 9, at dataoff + 9 * 512.
//! let arena = layout.arena(0).unwrap();
//! let at = (arena.dataoff + 9 * 512) as usize;
//! ns[at..at + 512].fill(b'x');
//!
//! let mut reader = Reader::open(&mut ns.as_slice(), &Namespace::labelless(size as u64))?;
//! let mut sector = [0u8; 512];
//! let where_ = reader.read_lba(&mut ns.as_slice(), 9, &mut sector)?;
//! assert_eq!(sector, [b'x'; 512]);
//! assert_eq!(where_.data_offset, Some(arena.dataoff + 9 * 512));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

pub mod arena;
pub mod check;
pub mod error;
pub mod layout;
pub mod raw;
pub mod read;
pub mod repair;
