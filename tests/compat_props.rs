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

/// Legacy layouts made by the crate's own solver ([`nvdimm_infoblock::layout::solve`]) for the
/// 4.6–5.2 writers, with System RAM collisions at either end.
fn solver_strategy(
) -> impl Strategy<Value = (Namespace, InfoBlock, nvdimm_infoblock::layout::Layout)> {
    use nvdimm_infoblock::layout::{solve, Collisions, LayoutRequest, Padding};
    use nvdimm_infoblock::{Era, Platform, Profile};
    (
        prop::sample::select(vec![Era::V4_6, Era::V4_7, Era::V4_15, Era::V5_1]),
        32u64..512,
        0u64..64,
        64u64..1024,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_filter_map(
            "solver refuses",
            |(era, section, off, n, cs, ce, pmem, devdax)| {
                let profile = Profile::new(era, Platform::X86_64);
                let kind = if devdax {
                    DeviceKind::Devdax
                } else {
                    DeviceKind::Fsdax
                };
                let mode = if pmem { Mode::PMEM } else { Mode::RAM };
                let start = section * SECTION + off * ALIGN;
                let req = LayoutRequest::new(profile, n * ALIGN, kind, mode)
                    .with_start(start)
                    .with_align(Some(ALIGN))
                    .with_padding(Padding::Policy(Collisions { start: cs, end: ce }));
                let layout = solve(&req).ok()?;
                let block = layout.to_info(Uuid([9; 16]), Uuid::NIL).to_block().ok()?;
                Some((Namespace::labelless(start, n * ALIGN), block, layout))
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The checker and the solver agree on FORMAT.md §5.2–§5.3: a kernel that loads a
    /// solver-made legacy block sees the solver's data range; the fsdax DAX caveat appears
    /// exactly when the solver's legacy reading maps DAX below the block-I/O data; and the
    /// 2019 conversion puts `ns_start + dataoff` on the solver's legacy data start.
    #[test]
    fn checker_agrees_with_the_solver((ns, block, layout) in solver_strategy()) {
        let newest = check(&block, &ns, &Reader::KNOWN[10]);
        if let Some(v) = newest.view() {
            prop_assert_eq!(v.data_start, layout.legacy.data_start);
            prop_assert_eq!(v.data_size, layout.dev_size);
            let dax_caveat = newest
                .caveats()
                .iter()
                .any(|c| matches!(c.token(), "dax_pfn_mismatch" | "dax_disabled"));
            let misdirect = layout.legacy.dax_misdirect().unwrap_or(0) != 0;
            prop_assert_eq!(dax_caveat, misdirect && layout.request.kind == DeviceKind::Fsdax);
        }
        if let Ok(plan) = compat::plan_upgrade(&block, &ns, FormatVersion::V2019_1_3) {
            prop_assert_eq!(ns.start + plan.block.dataoff.get(), layout.legacy.data_start);
            prop_assert_eq!(plan.after.data_start, Some(layout.legacy.data_start));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Hostile blocks (random fields, valid signature and checksum, random namespace): every
    /// reader answers and every plan either succeeds or says why; nothing panics, and a plan's
    /// block always parses back in its own dialect.
    #[test]
    fn hostile_blocks_get_answers(
        words in prop::collection::vec(any::<u64>(), 12),
        dax in any::<bool>(),
        start in any::<u64>(),
        size in any::<u64>(),
    ) {
        let mut block = InfoBlock::zeroed();
        let bytes = zerocopy::IntoBytes::as_mut_bytes(&mut block);
        for (i, w) in words.iter().enumerate() {
            bytes[16 + 8 * i..24 + 8 * i].copy_from_slice(&w.to_le_bytes());
        }
        block.signature = if dax { DeviceKind::Devdax } else { DeviceKind::Fsdax }.signature();
        // Small minors and modes more often than not, so that every path is reached.
        block.version_minor.set(block.version_minor.get() % 6);
        block.mode.set(block.mode.get() % 6);
        block.update_checksum();
        let ns = Namespace::labelless(start, size.max(1));
        for reader in Reader::KNOWN {
            let v = check(&block, &ns, &reader);
            prop_assert!(v.loads() || v.reason().is_some());
        }
        for target in FormatVersion::ALL {
            if let Ok(plan) = compat::plan_upgrade(&block, &ns, target) {
                let options = compat::dialect_options(&plan.block, 4096, true);
                prop_assert!(PfnInfo::parse(&plan.block, &options).is_ok());
                prop_assert_eq!(compat::format_version(&plan.block), target);
            }
        }
    }
}
