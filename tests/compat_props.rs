//! Property tests of the compatibility checker over random legacy layouts, built with the
//! v4.15–v5.0 writer rules of FORMAT.md §4.5 (x86_64: 128 MiB sections, 4 KiB pages, align
//! 2 MiB, start_pad/end_trunc from section collisions).

use nvdimm_infoblock::compat::{self, check, FormatVersion, Namespace, Reader, RequiredVersion};
use nvdimm_infoblock::{DeviceKind, InfoBlock, Mode, PfnInfo, Uuid, Version};
use proptest::prelude::*;

const MIB: u64 = 1 << 20;
const SECTION: u64 = 128 * MIB;
const ALIGN: u64 = 2 * MIB;
const PAGES_PER_SECTION: u64 = SECTION / 4096;

/// A legacy namespace and the block a v4.15–v5.0 kernel wrote for it.
#[derive(Clone, Debug)]
struct Legacy {
    ns: Namespace,
    block: InfoBlock,
    start_pad: u64,
    end_trunc: u64,
    dataoff: u64,
}

fn align_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

/// FORMAT.md §4.5 steps 1–6 (trim_pfn_device with a System RAM collision at either end).
/// The writer's inputs: namespace start (section index, 2 MiB steps into the section), size in
/// 2 MiB steps, System RAM collisions at the start / end, map=dev, devdax, stored minor.
type Inputs = (u64, u64, u64, bool, bool, bool, bool, u16);

fn legacy_layout(inputs: Inputs) -> Option<Legacy> {
    let (section_index, offset_2m, size_2m, pad_start, pad_end, pmem, devdax, minor) = inputs;
    let start = section_index * SECTION + offset_2m * ALIGN;
    let size = size_2m * ALIGN;
    let off = start % SECTION;
    let start_pad = if pad_start && off != 0 {
        SECTION - off
    } else {
        0
    };
    let end = start + size;
    let end_trunc = if pad_end { end % SECTION } else { 0 };
    let usable = size.checked_sub(start_pad + end_trunc)?;
    let reserve = 8192;
    let npfns0 = align_up(usable.checked_sub(reserve)? / 4096, PAGES_PER_SECTION);
    let start_adj = start + start_pad;
    let dataoff = if pmem {
        align_up(start_adj + reserve + 64 * npfns0, ALIGN) - start_adj
    } else {
        align_up(start_adj + reserve, ALIGN) - start_adj
    };
    if dataoff + start_pad + end_trunc >= size {
        return None;
    }
    let npfns = (size - dataoff - start_pad - end_trunc) / 4096;
    let info = PfnInfo {
        kind: if devdax {
            DeviceKind::Devdax
        } else {
            DeviceKind::Fsdax
        },
        uuid: Uuid([7; 16]),
        parent_uuid: Uuid::NIL,
        flags: 0,
        version: Version::new(1, minor),
        dataoff,
        npfns,
        mode: if pmem { Mode::PMEM } else { Mode::RAM },
        start_pad: u32::try_from(start_pad).ok()?,
        end_trunc: u32::try_from(end_trunc).ok()?,
        align: if minor >= 2 { 0x20_0000 } else { 0 },
        page_size: 4096,
        page_struct_size: 64,
        min_version: None,
    };
    Some(Legacy {
        ns: Namespace::labelless(start, size),
        block: info.to_block().ok()?,
        start_pad,
        end_trunc,
        dataoff,
    })
}

fn legacy_strategy() -> impl Strategy<Value = Legacy> {
    (
        32u64..512,
        0u64..64,
        64u64..1024,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        1u16..=2,
    )
        .prop_filter_map("layout does not fit", legacy_layout)
}

/// Layouts whose start collides with System RAM, so start_pad != 0.
fn start_pad_strategy() -> impl Strategy<Value = Legacy> {
    (
        32u64..512,
        1u64..64,
        64u64..1024,
        Just(true),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        1u16..=2,
    )
        .prop_filter_map("layout does not fit", legacy_layout)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A reader loads a block only if its version support admits the block's required version,
    /// or it ignores versions (every upstream kernel, ndctl, the dataoff-only driver).
    #[test]
    fn loadable_only_with_enough_version_support(l in legacy_strategy()) {
        let mut blocks = vec![l.block.clone()];
        for target in FormatVersion::ALL {
            if let Ok(plan) = compat::plan_upgrade(&l.block, &l.ns, target) {
                blocks.push(plan.block);
            }
        }
        for block in &blocks {
            let required = RequiredVersion::of_block(block);
            for reader in Reader::KNOWN {
                let verdict = check(block, &l.ns, &reader);
                if verdict.loads() {
                    if let Some(v) = required.version {
                        prop_assert!(
                            reader.version_support().admits(v),
                            "{} loads a block needing {v}", reader.name()
                        );
                    }
                }
            }
        }
    }

    /// Upgrade then check never moves data: every reader that loads the new block (and does
    /// not misread it) finds the first data byte where Linux block I/O put it in the legacy
    /// layout, start + start_pad + dataoff (FORMAT.md §5.2), and the same length.
    #[test]
    fn upgrade_never_moves_data(l in legacy_strategy()) {
        let first = l.ns.start + l.start_pad + l.dataoff;
        let len = l.ns.size - l.start_pad - l.end_trunc - l.dataoff;
        let newest = check(&l.block, &l.ns, &Reader::KNOWN[10]);
        if let Some(v) = newest.view() {
            prop_assert_eq!((v.data_start, v.data_size), (first, len));
        }
        for target in FormatVersion::ALL {
            let Ok(plan) = compat::plan_upgrade(&l.block, &l.ns, target) else { continue };
            prop_assert_eq!(plan.after.data_start, Some(first));
            prop_assert_eq!(plan.after.data_size, Some(len));
            for change in &plan.readers {
                let Some(after) = change.after.view() else { continue };
                if change.after.is_misread() {
                    continue;
                }
                prop_assert_eq!(after.data_start, first, "{} after {}", change.reader.name(), target);
                let runs_past_end_trunc = change
                    .after
                    .caveats()
                    .iter()
                    .any(|c| c.token() == "end_trunc_ignored");
                if !runs_past_end_trunc {
                    prop_assert_eq!(after.data_size, len, "{} after {}", change.reader.name(), target);
                }
            }
        }
    }

    /// The 2019 conversion of a start_pad layout that the proposal's level-3 reader loads always
    /// succeeds; afterwards no upstream kernel loads it (they fail on PFN3_MODE_*, FORMAT.md
    /// §1.5), level 2 refuses it for its min_version, and the EFI view is where Linux put the
    /// data.
    #[test]
    fn start_pad_to_2019(l in start_pad_strategy()) {
        prop_assert!(l.start_pad != 0);
        prop_assume!(check(&l.block, &l.ns, &Reader::MinVersion(3)).loads());
        let plan = compat::plan_upgrade(&l.block, &l.ns, FormatVersion::V2019_1_3);
        prop_assert!(plan.is_ok(), "{:?}", plan.err());
        let plan = plan.unwrap();
        prop_assert_eq!(plan.block.dataoff.get(), l.dataoff + l.start_pad);
        for change in &plan.readers {
            match change.reader {
                Reader::Kernel(_) => prop_assert!(!change.after.loads()),
                Reader::MinVersion(2) => prop_assert_eq!(change.after.token(), "refused"),
                Reader::DataoffOnly => prop_assert_eq!(
                    change.after.view().map(|v| v.data_start),
                    Some(l.ns.start + l.start_pad + l.dataoff)
                ),
                _ => {}
            }
        }
    }
}
