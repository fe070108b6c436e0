//! Properties of the layout solver: totality on any input, the invariants of every layout it
//! returns, and agreement with the validator of the same profile.

use nvdimm_infoblock::layout::{
    min_size_for_usable, solve, Collisions, Layout, LayoutError, LayoutRequest, Padding,
};
use nvdimm_infoblock::profile::OffsetCheck;
use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath};
use nvdimm_infoblock::{parse, DeviceKind, Era, Mode, ParseOptions, Platform, Profile, Uuid};
use proptest::prelude::*;
use zerocopy::IntoBytes;

fn any_era() -> impl Strategy<Value = Era> {
    (0..Era::ALL.len()).prop_map(|i| Era::ALL[i])
}

fn any_platform() -> impl Strategy<Value = Platform> {
    (0..Platform::ALL.len()).prop_map(|i| Platform::ALL[i])
}

fn any_kind() -> impl Strategy<Value = DeviceKind> {
    prop_oneof![Just(DeviceKind::Fsdax), Just(DeviceKind::Devdax)]
}

fn extreme_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        Just(0u64),
        Just(u64::MAX),
        Just(u64::MAX - 4095),
        Just(1u64 << 63),
        (0u32..64).prop_map(|k| 1u64 << k),
        (0u32..64, -2i64..=2).prop_map(|(k, d)| (1u64 << k).wrapping_add_signed(d * 4096)),
    ]
}

/// Any request at all, including absurd ones.
fn any_request() -> impl Strategy<Value = LayoutRequest> {
    (
        any_era(),
        any_platform(),
        extreme_u64(),
        extreme_u64(),
        prop::option::of(extreme_u64()),
        prop_oneof![Just(1u32), Just(2), any::<u32>()],
        any_kind(),
        prop_oneof![
            (any::<bool>(), any::<bool>())
                .prop_map(|(start, end)| Padding::Policy(Collisions { start, end })),
            (extreme_u64(), extreme_u64()).prop_map(|(start_pad, end_trunc)| Padding::Explicit {
                start_pad,
                end_trunc
            }),
        ],
    )
        .prop_map(|(era, platform, start, size, align, mode, kind, padding)| {
            LayoutRequest::new(Profile::new(era, platform), size, kind, Mode(mode))
                .with_start(start)
                .with_align(align)
                .with_padding(padding)
        })
}

/// Plausible requests: page-multiple sizes from 2 MiB to 64 TiB at 2 MiB- or section-aligned
/// starts, power-of-two alignments, both modes and kinds, every era and platform.
fn plausible_request() -> impl Strategy<Value = LayoutRequest> {
    (
        any_era(),
        any_platform(),
        0u64..(1 << 20),
        prop_oneof![512u64..16384, 16384u64..(1 << 22), (1u64 << 22)..(1 << 34)],
        prop::option::of(12u32..32),
        any::<bool>(),
        any_kind(),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(era, platform, start_units, pages, align_shift, ram, kind, (cs, ce))| {
                let profile = Profile::new(era, platform);
                let page = platform.page_size;
                LayoutRequest::new(
                    profile,
                    pages * page,
                    kind,
                    if ram { Mode::RAM } else { Mode::PMEM },
                )
                .with_start(start_units * (2 << 20))
                .with_align(align_shift.map(|s| (1u64 << s).max(page)))
                .with_padding(Padding::Policy(Collisions { start: cs, end: ce }))
            },
        )
}

/// The invariants every returned layout satisfies, from FORMAT.md's rules (not from the
/// solver's code): alignment of dataoff as the era's reader requires, data within the
/// namespace, npfns consistent with the capacity, PMEM memmap between reserve and dataoff.
fn check_invariants(l: &Layout) {
    let r = &l.request;
    let p = &r.profile;
    let page = p.platform.page_size;
    let base = r.ns_start + u64::from(l.start_pad);
    let end = r.ns_start + r.ns_size;
    // Data inside the namespace, after the block, with at least one page.
    assert!(l.data.start >= base + 8192, "{l:?}");
    assert!(l.data.start < l.data.end && l.data.end <= end);
    assert_eq!(l.data.start, base + l.dataoff);
    assert_eq!(l.data.end, end - u64::from(l.end_trunc));
    assert_eq!(
        l.dev_size,
        r.ns_size - u64::from(l.start_pad) - u64::from(l.end_trunc) - l.dataoff
    );
    assert_eq!(l.dev_resource, l.data.start);
    assert!(l.dev_size >= page);
    // npfns in the era's unit (§1.2): 4 KiB before 5.3, pages after.
    let unit = if p.era.is_at_least(Era::V5_3) {
        page
    } else {
        4096
    };
    assert_eq!(l.npfns, l.dev_size / unit);
    assert!(l.npfns >= 1);
    // dataoff alignment as the era's reader checks it (§3).
    match p.rules.offset_check {
        OffsetCheck::SizeOnly => {}
        OffsetCheck::PowerOfTwo => assert!(l.dataoff.is_power_of_two() && l.dataoff >= page),
        OffsetCheck::LiveAlign => assert_eq!(l.dataoff % p.platform.pmd_size, 0),
        OffsetCheck::Absolute => {
            assert_eq!(l.dataoff % page, 0);
            assert_eq!(l.data.start % u64::from(l.align), 0);
        }
    }
    if p.era.is_at_least(Era::V5_3) && matches!(r.padding, Padding::Policy(_)) {
        // §4.6: data start and end on the effective alignment.
        assert_eq!(l.data.start % l.effective_align, 0);
        assert_eq!(l.data.end % l.effective_align, 0);
        assert_eq!(l.start_pad, 0);
    }
    // Stored align is the requested one (§4.6 step 8), for versions that have it.
    if l.version.has_align() {
        let requested = r.align.unwrap_or(p.default_align());
        assert_eq!(u64::from(l.align), requested);
    }
    match (r.mode, l.memmap) {
        (Mode::PMEM, Some(m)) => {
            assert_eq!(m.start, base + p.info_block_reserve());
            assert_eq!(m.end, l.data.start);
            // The 5.3+ writer sizes the memmap after a literal 8 KiB, enabling reserves
            // ALIGN(8 KiB, PAGE_SIZE); and with 64 KiB pages partial sections take their
            // memmap from RAM (up to two sections' memmap), as may any block on ppc64.
            let slack = if page == 4096 {
                0
            } else {
                (p.info_block_reserve() - 8192)
                    + 2 * (p.platform.section_size / page) * u64::from(l.page_struct_size)
            };
            assert!(l.memmap_bytes <= m.len() + slack);
            assert_eq!(
                l.memmap_bytes,
                u64::from(l.page_struct_size) * (l.dev_size / page)
            );
        }
        (Mode::RAM, None) => assert!(l.dataoff >= p.info_block_reserve()),
        other => panic!("memmap {other:?}"),
    }
    // The two readings (§5.2–5.3).
    assert_eq!(l.legacy.map_base, base);
    assert_eq!(l.v2019.map_base, base);
    assert_eq!(l.v2019.data_start, r.ns_start + l.dataoff);
    let misdirect = if r.kind == DeviceKind::Fsdax {
        u64::from(l.start_pad)
    } else {
        0
    };
    assert_eq!(l.legacy.dax_misdirect(), Some(misdirect));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Totality: any input gives a layout or an error, never a panic or a wrap (overflow
    /// checks are on in test builds, so a wrap would panic).
    #[test]
    fn any_input_is_total(req in any_request()) {
        if let Ok(l) = solve(&req) {
            check_invariants(&l);
        }
    }

    #[test]
    fn search_is_total(req in any_request(), usable in extreme_u64(), granule in extreme_u64()) {
        if let Ok(l) = min_size_for_usable(&req, usable, granule) {
            prop_assert!(l.dev_size >= usable);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Every returned layout satisfies the invariants; emitted and parsed it gives the same
    /// fields; and the validator of the same profile enables it with the predicted size and
    /// resource.
    #[test]
    fn layouts_are_valid_and_the_validator_agrees(req in plausible_request()) {
        let Ok(l) = solve(&req) else { return Ok(()) };
        check_invariants(&l);
        let info = l.to_info(Uuid([0x5a; 16]), Uuid::NIL);
        let block = info.to_block().unwrap();
        let options = ParseOptions {
            page_size: u32::try_from(req.profile.platform.page_size).unwrap(),
            ..ParseOptions::DEFAULT
        };
        let parsed = parse(block.as_bytes(), &options).unwrap();
        prop_assert_eq!(parsed.info, info);
        // Through the public path (emit, parse with checksum, check), the validator of the
        // same profile enables the block with the predicted size and resource, in every era,
        // on every platform, in both modes.
        let ns = Namespace::labelless(req.ns_start, req.ns_size);
        let outcome = check(&block, &ns, &ProbePath::Probe, &req.profile).unwrap();
        match outcome {
            Outcome::Enabled(dev) => {
                prop_assert_eq!(dev.kind, req.kind);
                prop_assert_eq!(dev.dev_size, l.dev_size);
                prop_assert_eq!(dev.dev_resource, l.dev_resource);
            }
            other => prop_assert!(false, "validator: {:?} for {:?}", other, l),
        }
    }

    /// The inverse search: the size it returns gives at least N bytes, and one granule less
    /// gives fewer (local minimality); for answers up to 1 GiB, sizes from the kernel's minimum
    /// up to the answer, sampled every page or every 1/4096 of the answer, give fewer too.
    #[test]
    fn search_is_minimal(
        req in plausible_request(),
        usable_pages in 1u64..(1 << 18),
        brute in any::<bool>(),
    ) {
        let page = req.profile.platform.page_size;
        let usable = usable_pages * 4096;
        let Ok(l) = min_size_for_usable(&req, usable, page) else { return Ok(()) };
        prop_assert!(l.dev_size >= usable);
        let size = l.request.ns_size;
        let floor = req.profile.min_namespace_size();
        if size > floor {
            let below = solve(&req.with_size(size - page)).map(|b| b.dev_size).unwrap_or(0);
            prop_assert!(below < usable, "size {:#x} - page gives {:#x}", size, below);
        }
        if brute && size <= (1 << 30) {
            let mut s = floor;
            while s < size {
                let got = solve(&req.with_size(s)).map(|b| b.dev_size).unwrap_or(0);
                prop_assert!(got < usable, "{:#x} already gives {:#x} >= {:#x}", s, got, usable);
                s += page.max((size / 4096) & !(page - 1));
            }
        }
    }
}

/// The errors carry what failed (spot check of the no-panic contract at the extremes).
#[test]
fn extremes() {
    let p = Profile::NEWEST_X86_64;
    // 16 EiB at 0: a (huge) valid layout or an error, never a wrap.
    let r = LayoutRequest::new(p, u64::MAX, DeviceKind::Fsdax, Mode::PMEM);
    if let Ok(l) = solve(&r) {
        check_invariants(&l);
    }
    let r = r.with_start(!((2u64 << 20) - 1)).with_size(2 << 20);
    assert!(matches!(solve(&r), Err(LayoutError::Overflow { .. })));
}
