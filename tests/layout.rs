//! Layout solver: worked examples, hand-computed era tables and boundary tables.
//!
//! Every expected value below was computed by hand from the algorithms of FORMAT.md §4 (the
//! arithmetic is in the comments), or taken from ndctl's corpus (NDCTL.md §2), not from the
//! solver.

use nvdimm_infoblock::layout::{
    min_size_for_usable, solve, Collisions, Field, Layout, LayoutError, LayoutRequest, Padding,
};
use nvdimm_infoblock::profile::AlignSet;
use nvdimm_infoblock::validate::{Errno, Reason, Stage};
use nvdimm_infoblock::{DeviceKind, Era, Mode, Platform, Profile, Uuid, Version};
use zerocopy::IntoBytes;

const K: u64 = 1 << 10;
const M: u64 = 1 << 20;
const G: u64 = 1 << 30;
const START: u64 = 0x2_4000_0000;

fn x86(era: Era) -> Profile {
    Profile::new(era, Platform::X86_64)
}

fn req(era: Era, size: u64, kind: DeviceKind, mode: Mode, align: Option<u64>) -> LayoutRequest {
    LayoutRequest::new(x86(era), size, kind, mode)
        .with_start(START)
        .with_align(align)
}

fn ok(r: &LayoutRequest) -> Layout {
    match solve(r) {
        Ok(l) => l,
        Err(e) => panic!("{r:?}: {e}"),
    }
}

/// (dataoff, npfns, start_pad, end_trunc, stored align, version)
fn fields(l: &Layout) -> (u64, u64, u32, u32, u32, Version) {
    (
        l.dataoff,
        l.npfns,
        l.start_pad,
        l.end_trunc,
        l.align,
        l.version,
    )
}

fn seq_uuid(first: u8) -> Uuid {
    let mut b = [0u8; 16];
    for (i, x) in b.iter_mut().enumerate() {
        *x = first + u8::try_from(i).unwrap();
    }
    Uuid(b)
}

// FORMAT.md §4.6 worked example: x86_64, 1 GiB at 0x240000000, align 2M.
// npfns0 = (2^30 - 8192)/4096 = 262142; page_map = 64 * 262142 = 16,777,088;
// dataoff = ALIGN_UP(0x2000 + 0xFFFF80, 2M) = 0x1200000; npfns = (2^30 - 0x1200000)/4096 =
// 0x3EE00. RAM: dataoff = ALIGN_UP(0x2000, 2M) = 0x200000, npfns = 0x3FE00.
#[test]
fn worked_example_v5_7_and_later() {
    for era in [Era::V5_7, Era::V6_3, Era::V6_5] {
        let pmem = ok(&req(era, G, DeviceKind::Fsdax, Mode::PMEM, Some(2 * M)));
        assert_eq!(
            fields(&pmem),
            (0x120_0000, 0x3_EE00, 0, 0, 0x20_0000, Version::V1_4)
        );
        assert_eq!(pmem.page_size, 4096);
        assert_eq!(pmem.page_struct_size, 64);
        let ram = ok(&req(era, G, DeviceKind::Fsdax, Mode::RAM, Some(2 * M)));
        assert_eq!(
            fields(&ram),
            (0x20_0000, 0x3_FE00, 0, 0, 0x20_0000, Version::V1_4)
        );
    }
}

// §2.3 vectors A, B, C: the blocks of the worked example, uuid 00..0f, parent 10..1f.
#[test]
fn worked_example_blocks_match_format_vectors() {
    let cases = [
        (DeviceKind::Fsdax, Mode::PMEM, 0xcb6f_555c_6d1a_aee2_u64),
        (DeviceKind::Fsdax, Mode::RAM, 0xd9ae_516e_6c1a_bee1),
        (DeviceKind::Devdax, Mode::PMEM, 0xd797_2d66_611a_b8dd),
    ];
    for (kind, mode, checksum) in cases {
        let l = ok(&req(Era::V6_5, G, kind, mode, Some(2 * M)));
        let block = l.to_info(seq_uuid(0), seq_uuid(0x10)).to_block().unwrap();
        assert_eq!(block.checksum.get(), checksum, "{kind} {mode:?}");
    }
    // Vector A, bytes 0..96 as printed in FORMAT.md §2.3.
    let l = ok(&req(
        Era::V6_5,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    let block = l.to_info(seq_uuid(0), seq_uuid(0x10)).to_block().unwrap();
    let hex: String = block.as_bytes()[..96]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let want = "4e5644494d4d5f50464e5f494e464f00 000102030405060708090a0b0c0d0e0f \
                101112131415161718191a1b1c1d1e1f 00000000 0100 0400 0000200100000000 \
                00ee030000000000 02000000 00000000 00000000 00002000 00100000 4000 0000"
        .replace(' ', "");
    assert_eq!(hex, want);
}

// §4.6 last sentence: the 4.15–5.0 algorithm gives the same dataoff for this input
// (npfns0 rounds up to 262144 = 8 sections of 32768 pages; ALIGN_UP(8K + 16 MiB, 2M) = 18 MiB).
// It writes v1.2 and npfns in 4 KiB units: (2^30 - 18 MiB)/4096 = 0x3EE00.
#[test]
fn worked_example_through_4_15() {
    let l = ok(&req(
        Era::V4_15,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(
        fields(&l),
        (0x120_0000, 0x3_EE00, 0, 0, 0x20_0000, Version::V1_2)
    );
}

// 4.3 (§4.2): RAM only, section-aligned start, one section minimum. 0x240000000 is a multiple of
// 128 MiB (0x48 sections). dataoff = 8K (UNCONFIRMED choice, the later posting); npfns =
// (2^30 - 8192)/4096 = 262142 = 0x3FFFE; v1.0 stores no align.
#[test]
fn era_4_3() {
    let l = ok(&req(Era::V4_3, G, DeviceKind::Fsdax, Mode::RAM, None));
    assert_eq!(fields(&l), (0x2000, 0x3_FFFE, 0, 0, 0, Version::V1_0));
    assert_eq!(
        solve(&req(Era::V4_3, G, DeviceKind::Fsdax, Mode::PMEM, None)),
        Err(LayoutError::PmemModeUnsupported)
    );
    assert_eq!(
        solve(&req(Era::V4_3, G, DeviceKind::Devdax, Mode::RAM, None)),
        Err(LayoutError::DevdaxUnsupported)
    );
    assert_eq!(
        solve(&req(Era::V4_3, G, DeviceKind::Fsdax, Mode::RAM, None).with_start(START + 2 * M)),
        Err(LayoutError::StartMisaligned {
            start: START + 2 * M,
            required: 128 * M
        })
    );
    assert_eq!(
        solve(&req(Era::V4_3, 64 * M, DeviceKind::Fsdax, Mode::RAM, None)),
        Err(LayoutError::NamespaceTooSmall {
            size: 64 * M,
            minimum: 128 * M
        })
    );
    assert!(matches!(
        solve(&req(
            Era::V4_3,
            G,
            DeviceKind::Fsdax,
            Mode::RAM,
            Some(4 * K)
        )),
        Err(LayoutError::AlignNotSettable { .. })
    ));
}

// 4.6 (§4.3, §3.2): v1.1; the reader requires a power-of-two dataoff.
#[test]
fn era_4_6() {
    // RAM: ALIGN_UP(start + 8K, 2M) - start = 2M (a power of two); npfns = (1G - 2M)/4K =
    // 261632 = 0x3FE00.
    let l = ok(&req(Era::V4_6, G, DeviceKind::Fsdax, Mode::RAM, None));
    assert_eq!(fields(&l), (0x20_0000, 0x3_FE00, 0, 0, 0, Version::V1_1));
    // PMEM 1G: 8K + 64 * 262142 -> 18 MiB, not a power of two: 4.6's own validate refuses it
    // (§3.2: "bad offset ... dax disabled", -ENXIO; the namespace is then used raw).
    assert_eq!(
        solve(&req(Era::V4_6, G, DeviceKind::Fsdax, Mode::PMEM, None)),
        Err(LayoutError::KernelRefuses {
            stage: Stage::Validate,
            reason: Reason::DataoffNotPowerOfTwo {
                dataoff: 18 * M,
                page_size: 4 * K
            },
            errno: Errno::ENXIO
        })
    );
    // PMEM 64M: npfns0 = (64M - 8K)/4K = 16382; 8K + 64 * 16382 = 1,056,640 -> dataoff 2M.
    // But before 5.3 memory is hot-added in whole 128M sections, and each section's 2M of
    // memmap is one PMD block from the altmap (x86_64 has no fallback): the block is aligned
    // to 512 pages after the 2-page reserve, so it needs 510 + 512 = 1022 pages where
    // (2M - 8K)/4K = 510 are free. 4.6 fails to enable its own block (-ENOMEM); the 4.7+
    // writers reserve whole sections of memmap (bfb34527a3, §4.4–§4.5) for this reason.
    assert_eq!(
        solve(&req(Era::V4_6, 64 * M, DeviceKind::Fsdax, Mode::PMEM, None)),
        Err(LayoutError::KernelRefuses {
            stage: Stage::Enable,
            reason: Reason::MemmapDoesNotFit {
                needed_pages: 1022,
                free_pages: 510
            },
            errno: Errno::ENOMEM
        })
    );
    // 4.7 pads the memmap to 2M: ALIGN(8K + 2M, 2M) = 4M, 1022 pages free: it fits exactly.
    // npfns = (64M - 4M)/4K = 15360 = 0x3C00.
    let l = ok(&req(Era::V4_7, 64 * M, DeviceKind::Fsdax, Mode::PMEM, None));
    assert_eq!((l.dataoff, l.npfns), (4 * M, 0x3C00));
}

// 4.15-5.2 at a start that is not section aligned, no collision declared (so no start_pad):
// 1G at 4G + 2M. The writer rounds npfns0 up to whole sections: 8 x 32768 pages, 16M of
// memmap, dataoff = ALIGN(8K + 16M, 2M) = 18M. Enabling hot-adds the 9 sections the range
// touches (4G .. 5G + 128M) and maps each one's 2M memmap from the altmap: 9 x 512 pages,
// after a reserve of 2 + 512 pages (the altmap base is the section below the start) padded
// to 512: 510 + 4608 = 5118 pages needed, (18M - 8K)/4K = 4606 free. -ENOMEM.
#[test]
fn pre_5_3_unaligned_start_memmap() {
    let r = req(Era::V4_15, G, DeviceKind::Fsdax, Mode::PMEM, None).with_start(4 * G + 2 * M);
    assert_eq!(
        solve(&r),
        Err(LayoutError::KernelRefuses {
            stage: Stage::Enable,
            reason: Reason::MemmapDoesNotFit {
                needed_pages: 5118,
                free_pages: 4606
            },
            errno: Errno::ENOMEM
        })
    );
    // Declaring the start collision makes the writer pad to the section (start_pad 126M),
    // and the layout is enabled.
    let padded = r.with_padding(Padding::Policy(Collisions {
        start: true,
        end: false,
    }));
    let l = ok(&padded);
    assert_eq!(l.start_pad, 126 * 0x10_0000);
}

// 4.6 start collision (§4.3 step 1, §5.2): namespace at 0x244000000 (64 MiB into a section).
// start_pad = 0x248000000 - 0x244000000 = 64 MiB; RAM dataoff = 2M from the padded base;
// npfns = (1G - 64M - 2M)/4K = 245248 = 0x3BE00.
#[test]
fn start_pad_readings() {
    let start = START + 64 * M;
    let r = req(Era::V4_6, G, DeviceKind::Fsdax, Mode::RAM, None)
        .with_start(start)
        .with_padding(Padding::Policy(Collisions {
            start: true,
            end: false,
        }));
    let l = ok(&r);
    assert_eq!(
        fields(&l),
        (0x20_0000, 0x3_BE00, 0x400_0000, 0, 0, Version::V1_1)
    );
    // Legacy reading: data at 0x248000000 + 2M; map_base 0x248000000, map_offset 2M; the fsdax
    // DAX path maps from the raw start, 64 MiB too low.
    assert_eq!(l.legacy.data_start, 0x2_4820_0000);
    assert_eq!(l.legacy.map_base, 0x2_4800_0000);
    assert_eq!(l.legacy.map_offset, Some(2 * M));
    assert_eq!(l.legacy.dax_start, Some(0x2_4420_0000));
    assert_eq!(l.legacy.dax_misdirect(), Some(64 * M));
    // map=mem: dataoff 2M < start_pad 64M, so the DAX pfn falls before the pgmap (§5.2).
    assert!(l.legacy.dax_outside_map());
    assert!(!l.v2019.dax_outside_map() || l.v2019.map_offset.is_none());
    assert_eq!(l.dev_resource, 0x2_4820_0000);
    assert_eq!(l.dev_size, G - 64 * M - 2 * M);
    // 2019 reading: dataoff from the raw base, so data at 0x244200000, before map_base:
    // map_offset = 2M - 64M has no value.
    assert_eq!(l.v2019.data_start, 0x2_4420_0000);
    assert_eq!(l.v2019.map_base, 0x2_4800_0000);
    assert_eq!(l.v2019.map_offset, None);
    // devdax has no misdirection (§6.1) — in 4.7, where devdax exists (2M RAM devdax:
    // ALIGN_UP(base + 8K + 128K, 2M) - base = 2M).
    let r = req(Era::V4_7, G, DeviceKind::Devdax, Mode::RAM, None)
        .with_start(start)
        .with_padding(Padding::Policy(Collisions {
            start: true,
            end: false,
        }));
    let l = ok(&r);
    assert_eq!(l.start_pad, 0x400_0000);
    assert_eq!(l.legacy.dax_misdirect(), Some(0));
    assert!(!l.legacy.dax_outside_map());
}

// 4.7–4.14 (§4.4, §3.3): dax_label_reserve, memmap padded to HPAGE_SIZE, live-align check.
#[test]
fn era_4_7() {
    // fsdax PMEM 1G: memmap = ALIGN_UP(64 * 262142, 2M) = 16M; ALIGN_UP(8K + 16M, 2M) = 18M.
    let l = ok(&req(
        Era::V4_7,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(
        fields(&l),
        (0x120_0000, 0x3_EE00, 0, 0, 0x20_0000, Version::V1_2)
    );
    // devdax PMEM 1G: ALIGN_UP(8K + 16M + 128K, 2M) = 18M.
    let l = ok(&req(
        Era::V4_7,
        G,
        DeviceKind::Devdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(l.dataoff, 0x120_0000);
    // devdax RAM align 4K: 8K + 128K = 0x22000, refused by the 2M live align: the documented
    // "bad offset: 0x22000 dax disabled align: 0x200000" (§3.3).
    assert_eq!(
        solve(&req(
            Era::V4_7,
            G,
            DeviceKind::Devdax,
            Mode::RAM,
            Some(4 * K)
        )),
        Err(LayoutError::KernelRefuses {
            stage: Stage::Validate,
            reason: Reason::BadOffset {
                dataoff: 0x2_2000,
                align: 0x20_0000,
                address: 0x2_2000,
                page_size: 4 * K
            },
            errno: Errno::ENXIO
        })
    );
    // That map=mem offset does not depend on the size, so the inverse search reports the
    // refusal instead of trying sizes up to its bound.
    assert!(matches!(
        min_size_for_usable(
            &req(Era::V4_7, G, DeviceKind::Devdax, Mode::RAM, Some(4 * K)),
            G,
            4 * K
        ),
        Err(LayoutError::KernelRefuses {
            reason: Reason::BadOffset {
                dataoff: 0x2_2000,
                ..
            },
            ..
        })
    ));
    // devdax RAM align 2M: ALIGN_UP(8K + 128K, 2M) = 2M; npfns = 0x3FE00.
    let l = ok(&req(
        Era::V4_7,
        G,
        DeviceKind::Devdax,
        Mode::RAM,
        Some(2 * M),
    ));
    assert_eq!(fields(&l).0, 0x20_0000);
    assert_eq!(l.npfns, 0x3_FE00);
}

// 4.15–5.0 (§4.5): trim_pfn_device and the absolute offset check with the stored align.
#[test]
fn era_4_15() {
    // devdax RAM align 4K: ALIGN_UP(8K + 128K, 4K) = 0x22000; the stored align is 4K, so
    // (start + 0x22000) % 4K == 0 passes; npfns = (1G - 0x22000)/4K = 262110 = 0x3FFDE.
    let l = ok(&req(
        Era::V4_15,
        G,
        DeviceKind::Devdax,
        Mode::RAM,
        Some(4 * K),
    ));
    assert_eq!(
        fields(&l),
        (0x2_2000, 0x3_FFDE, 0, 0, 0x1000, Version::V1_2)
    );
    // 1G + 4K, align 2M: end % 2M != 0, so end_trunc = end - min(SECTION_DOWN, ALIGN_DOWN)
    // = 4K; npfns0 = SECTION_UP((1G - 8K)/4K) = 262144 -> dataoff 18M; npfns = 0x3EE00.
    let l = ok(&req(
        Era::V4_15,
        G + 4 * K,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(
        fields(&l),
        (0x120_0000, 0x3_EE00, 0, 0x1000, 0x20_0000, Version::V1_2)
    );
    // End collision at 1G + 64M: end_trunc = end - SECTION_DOWN(end) = 64M.
    let r = req(
        Era::V4_15,
        G + 64 * M,
        DeviceKind::Fsdax,
        Mode::RAM,
        Some(2 * M),
    )
    .with_padding(Padding::Policy(Collisions {
        start: false,
        end: true,
    }));
    let l = ok(&r);
    assert_eq!(l.end_trunc, 0x400_0000);
    assert_eq!(l.dev_size, G - 2 * M);
}

// 5.1–5.2 (§4.5 with the ALIGN_UP(8K, PAGE_SIZE) reserve, no dax_label_reserve).
#[test]
fn era_5_1() {
    // devdax RAM align 4K on x86: ALIGN_UP(8K, 4K) = 8K; npfns = (1G - 8K)/4K = 0x3FFFE.
    let l = ok(&req(
        Era::V5_1,
        G,
        DeviceKind::Devdax,
        Mode::RAM,
        Some(4 * K),
    ));
    assert_eq!(fields(&l), (0x2000, 0x3_FFFE, 0, 0, 0x1000, Version::V1_2));
    // ppc64 (64K pages), RAM align 64K: reserve = 64K, dataoff = ALIGN_UP(64K, 64K) = 64K;
    // npfns stays in 4 KiB units before 5.3: (1G - 64K)/4K = 262128 = 0x3FFF0.
    let r = LayoutRequest::new(
        Profile::new(Era::V5_1, Platform::PPC64_HASH),
        G,
        DeviceKind::Fsdax,
        Mode::RAM,
    )
    .with_start(START)
    .with_align(Some(64 * K));
    let l = ok(&r);
    assert_eq!(
        fields(&l),
        (0x1_0000, 0x3_FFF0, 0, 0, 0x1_0000, Version::V1_2)
    );
    assert_eq!(l.npfns_unit(), 4096);
}

// 5.3 (§4.6, v1.3, npfns in pages, sub-section floor).
#[test]
fn era_5_3() {
    let l = ok(&req(
        Era::V5_3,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(
        fields(&l),
        (0x120_0000, 0x3_EE00, 0, 0, 0x20_0000, Version::V1_3)
    );
    // ppc64 radix, PMEM align 64K: A' = max(64K, 2M) = 2M; npfns0 = (1G - 8K)/64K = 16383;
    // 8K + 64 * 16383 = 1,056,704 -> 2M; npfns = (1G - 2M)/64K = 16352 = 0x3FE0; the stored
    // align is the requested 64K.
    let r = LayoutRequest::new(
        Profile::new(Era::V5_3, Platform::PPC64_RADIX),
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
    )
    .with_start(START)
    .with_align(Some(64 * K));
    let l = ok(&r);
    assert_eq!(
        fields(&l),
        (0x20_0000, 0x3FE0, 0, 0, 0x1_0000, Version::V1_3)
    );
    assert_eq!(l.effective_align, 2 * M);
}

// 5.4+ (§3.6): devdax alignment must be a supported mapping size.
#[test]
fn era_5_4_dax_align() {
    assert_eq!(
        solve(&req(
            Era::V5_4,
            G,
            DeviceKind::Devdax,
            Mode::PMEM,
            Some(64 * K)
        )),
        Err(LayoutError::DaxAlignUnsupported { align: 64 * K })
    );
    // fsdax is not checked against the list: 64K gives the 2M-floor layout.
    let l = ok(&req(
        Era::V5_4,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(64 * K),
    ));
    assert_eq!(
        fields(&l),
        (0x120_0000, 0x3_EE00, 0, 0, 0x1_0000, Version::V1_4)
    );
    // 4.15 had no such check.
    assert!(solve(&req(
        Era::V4_15,
        G,
        DeviceKind::Devdax,
        Mode::PMEM,
        Some(64 * K)
    ))
    .is_ok());
}

// 5.7+ (§4.6 step 3): a start misaligned to memremap_compat_align() is refused by init.
#[test]
fn era_5_7_start_check() {
    let r = req(Era::V5_7, G, DeviceKind::Fsdax, Mode::PMEM, None).with_start(START + 4 * K);
    assert_eq!(
        solve(&r),
        Err(LayoutError::StartMisaligned {
            start: START + 4 * K,
            required: 2 * M
        })
    );
    // 5.4 had no start check: init writes dataoff = ALIGN_UP(start + 8K + 64 * 262142, 2M) -
    // start = 0x241200000 - 0x240001000 = 0x11FF000, but enabling fails (§5.1): the altmap
    // base is the sub-section below the start (pfn 0x240000), __add_pages is asked for pfn
    // 0x240001 ("memory add fail, invalid altmap", -EINVAL). The altmap offset is the 8 KiB
    // reserve (2 pages) + 1 page to the start + (0x11FF000 - 8K) / 4K = 0x11FD free pages =
    // 0x1200; the range is 1G - 4K (end_trunc to the 2M grid) = 0x3FFFF pages.
    let r = req(Era::V5_4, G, DeviceKind::Fsdax, Mode::PMEM, None).with_start(START + 4 * K);
    assert_eq!(
        solve(&r),
        Err(LayoutError::KernelRefuses {
            stage: Stage::Enable,
            reason: Reason::InvalidAltmap {
                offset_pages: 0x1200,
                range_pages: 0x3_FFFF,
                base_mismatch: true
            },
            errno: Errno::EINVAL
        })
    );
    // RAM mode has no altmap, but __add_pages' check_pfn_span (5.3+) refuses a range that
    // starts off the 512-page sub-section grid: "Misaligned __add_pages start: 0x240001 end:
    // #27ffff", -EINVAL.
    let r = req(Era::V5_4, G, DeviceKind::Fsdax, Mode::RAM, None).with_start(START + 4 * K);
    let refused = solve(&r).unwrap_err();
    assert_eq!(
        refused,
        LayoutError::KernelRefuses {
            stage: Stage::Enable,
            reason: Reason::HotplugMisaligned {
                pfn: 0x24_0001,
                pages: 0x3_FFFF,
                granule_pages: 512
            },
            errno: Errno::EINVAL
        }
    );
    let LayoutError::KernelRefuses { reason, .. } = refused else {
        unreachable!()
    };
    assert_eq!(
        reason.message().to_string(),
        "Misaligned __add_pages start: 0x240001 end: #27ffff"
    );
    // ppc64 hash: compat align 16M; PMEM 1G align 64K: A' = 16M; 8K + 64 * 16383 -> 16M;
    // npfns = (1G - 16M)/64K = 16128 = 0x3F00.
    let r = LayoutRequest::new(
        Profile::new(Era::V5_7, Platform::PPC64_HASH),
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
    )
    .with_start(START)
    .with_align(Some(64 * K));
    assert_eq!(
        fields(&ok(&r)),
        (0x100_0000, 0x3F00, 0, 0, 0x1_0000, Version::V1_4)
    );
    let r = r.with_start(START + 2 * M);
    assert_eq!(
        solve(&r),
        Err(LayoutError::StartMisaligned {
            start: START + 2 * M,
            required: 16 * M
        })
    );
}

// 6.1–6.2 (§7.5): MAX_STRUCT_PAGE_SIZE 128. 1G PMEM align 2M: 128 * 262142 = 33,554,176;
// 8K + that = 33,562,368 > 32M -> 34M = 0x2200000; npfns = (1G - 34M)/4K = 253440 = 0x3DE00.
#[test]
fn era_6_1_struct_page_128() {
    let l = ok(&req(
        Era::V6_1,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(
        fields(&l),
        (0x220_0000, 0x3_DE00, 0, 0, 0x20_0000, Version::V1_4)
    );
    assert_eq!(l.page_struct_size, 128);
    // 6.3 is back to 64 (the worked example).
    let l = ok(&req(
        Era::V6_3,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(l.dataoff, 0x120_0000);
    assert_eq!(l.page_struct_size, 64);
    // A v1.3 block cannot say "128 bytes per page".
    let l = ok(&req(
        Era::V6_1,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(
        l.to_info_with_version(Uuid::NIL, Uuid::NIL, Version::V1_3),
        Err(LayoutError::VersionCannotExpress {
            version: Version::V1_3,
            field: Field::PageStructSize
        })
    );
}

// Writing a layout as v1.0/v1.1 drops `align`: readers then derive 1 << ilog2(dataoff)
// (§3.7 step 9), and devdax enables with align 0, which always fails (kernel-harness: -ENOMEM
// at enable). 6.5, 1G at 0x240000000:
// * fsdax map=dev, dataoff 18M: derived 16M, 0x240000000 + 18M is not a multiple of 16M:
//   "bad offset", so v1.1 cannot express it;
// * fsdax map=mem, dataoff 2M: derived 2M, aligned: v1.1 is fine;
// * devdax map=mem, dataoff 2M: validates, then fails at enable with align 0.
#[test]
fn versions_without_align() {
    let cannot = Err(LayoutError::VersionCannotExpress {
        version: Version::V1_1,
        field: Field::Align,
    });
    let pmem = ok(&req(
        Era::V6_5,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(pmem.dataoff, 18 * M);
    assert_eq!(
        pmem.to_info_with_version(Uuid::NIL, Uuid::NIL, Version::V1_1),
        cannot
    );
    let ram = ok(&req(
        Era::V6_5,
        G,
        DeviceKind::Fsdax,
        Mode::RAM,
        Some(2 * M),
    ));
    assert_eq!(ram.dataoff, 2 * M);
    let info = ram
        .to_info_with_version(Uuid::NIL, Uuid::NIL, Version::V1_1)
        .unwrap();
    assert_eq!((info.version, info.align), (Version::V1_1, 0));
    let dax = ok(&req(
        Era::V6_5,
        G,
        DeviceKind::Devdax,
        Mode::RAM,
        Some(2 * M),
    ));
    assert_eq!(dax.dataoff, 2 * M);
    assert_eq!(
        dax.to_info_with_version(Uuid::NIL, Uuid::NIL, Version::V1_1),
        cannot
    );
}

// arm64 with 64K pages: PMD 512M is the default align. PMEM 1G: A' = 512M; 8K + 64 * 16383
// -> 512M; npfns = (1G - 512M)/64K = 8192. With align 64K: A' = 2M (compat), dataoff 2M,
// npfns = (1G - 2M)/64K = 16352.
#[test]
fn arm64_64k() {
    let profile = Profile::new(Era::V6_5, Platform::ARM64_64K);
    let r = LayoutRequest::new(profile, G, DeviceKind::Fsdax, Mode::PMEM).with_start(START);
    let l = ok(&r);
    assert_eq!(
        fields(&l),
        (512 * M, 8192, 0, 0, 0x2000_0000, Version::V1_4)
    );
    assert_eq!(l.page_size, 65536);
    let l = ok(&r.with_align(Some(64 * K)));
    assert_eq!(fields(&l).0, 2 * M);
    assert_eq!(l.npfns, 16352);
    // 4K is below the page size.
    assert_eq!(
        solve(&r.with_align(Some(4 * K))),
        Err(LayoutError::AlignBelowPageSize {
            align: 4 * K,
            page_size: 64 * K
        })
    );
}

// ppc64-radix (64K pages, 16M sections), 5.7, PMEM, default align 2M, at 4 GiB. The writer
// sizes the memmap from the literal 8K: 2000M gives npfns0 = (2000M - 8K)/64K = 31999,
// 8K + 64 * 31999 = 2,056,128 -> dataoff 2M. Enabling reserves ALIGN(8K, 64K) = 64K, so
// (2M - 64K) = 2,031,616 bytes of memmap area for 31968 data pages x 64 B = 2,045,952: the
// area is short, and ppc64's vmemmap_populate takes the missing blocks from RAM ("altmap
// block allocation failed, falling back to system memory"). The kernel enables it.
#[test]
fn ppc64_memmap_falls_back_to_ram() {
    let profile = Profile::new(Era::V5_7, Platform::PPC64_RADIX);
    let r = LayoutRequest::new(profile, 2000 * M, DeviceKind::Fsdax, Mode::PMEM).with_start(4 * G);
    let l = ok(&r);
    assert_eq!((l.dataoff, l.npfns), (2 * M, 31968));
    assert_eq!(l.memmap.unwrap().len(), 2_031_616);
    assert_eq!(l.memmap_bytes, 2_045_952);
    // So the smallest size for 1998M usable is 2000M itself (1998M + dataoff 2M).
    let found = min_size_for_usable(&r, 1998 * M, 2 * M).unwrap();
    assert_eq!(found.request.ns_size, 2000 * M);
    // The same layout on arm64 with 64K pages (no fallback, 512M sections: the 2000M range
    // holds 3 whole sections, 3 x 8192 pages x 64 B = 1.5M of memmap in 64K pages = 24 pages,
    // 31 free) is enabled too, from the altmap alone.
    let arm = LayoutRequest::new(
        Profile::new(Era::V5_7, Platform::ARM64_64K),
        2000 * M,
        DeviceKind::Fsdax,
        Mode::PMEM,
    )
    .with_start(4 * G)
    .with_align(Some(2 * M));
    assert_eq!(ok(&arm).dataoff, 2 * M);
}

// Boundary table, newest x86_64, start 0, fsdax PMEM align 2M (fatfs style). Hand computation:
// end_trunc = size mod 2M; npfns0 = (size - 8K)/4K; dataoff = ALIGN_UP(8K + 64 npfns0, 2M);
// npfns = (size - dataoff - end_trunc)/4K. The memmap crosses 2M when 8K + 64 npfns0 > 2M,
// i.e. npfns0 >= 32641, i.e. size >= 32641 * 4K + 8K = 0x7F83000.
#[test]
fn boundary_table_pmem_2m() {
    let none = u64::MAX;
    let table: &[(u64, u64, u64, u64)] = &[
        // (size, dataoff, end_trunc, npfns) — npfns = none: refused (no room for data).
        (2 * M, none, 0, 0),
        (4 * M - 4 * K, none, 0, 0),
        (4 * M, 2 * M, 0, 512),
        (4 * M + 4 * K, 2 * M, 4 * K, 512),
        // 16M - 4K: end_trunc 0x1FF000; npfns = (0xFFF000 - 0x200000 - 0x1FF000)/4K = 0xC00.
        (16 * M - 4 * K, 2 * M, 0x1F_F000, 0xC00),
        (16 * M, 2 * M, 0, 0xE00),
        (16 * M + 4 * K, 2 * M, 4 * K, 0xE00),
        // 0x7F82000: npfns0 = 0x7F80 = 32640, 8K + 64 * 32640 = 0x200000 exactly -> 2M;
        // end_trunc = 0x7F82000 - 0x7E00000 = 0x182000; npfns = 0x7C00000/4K = 0x7C00.
        (0x7F8_2000, 2 * M, 0x18_2000, 0x7C00),
        // 0x7F83000: npfns0 = 32641 -> 4M; end_trunc 0x183000; npfns = 0x7A00000/4K = 0x7A00.
        (0x7F8_3000, 4 * M, 0x18_3000, 0x7A00),
        // 128M: npfns0 = 32766 -> 8K + 2,097,024 > 2M -> 4M; npfns = (128M - 4M)/4K = 0x7C00.
        (128 * M, 4 * M, 0, 0x7C00),
        (128 * M - 4 * K, 4 * M, 2 * M - 4 * K, 0x7A00),
        (128 * M + 4 * K, 4 * M, 4 * K, 0x7C00),
    ];
    for &(size, dataoff, end_trunc, npfns) in table {
        let r = LayoutRequest::new(Profile::NEWEST_X86_64, size, DeviceKind::Fsdax, Mode::PMEM)
            .with_align(Some(2 * M));
        match solve(&r) {
            Ok(l) => {
                assert_ne!(dataoff, none, "size {size:#x} should be refused");
                assert_eq!(
                    (l.dataoff, u64::from(l.end_trunc), l.npfns),
                    (dataoff, end_trunc, npfns),
                    "size {size:#x}"
                );
                assert_eq!(l.dev_size, npfns * 4096, "size {size:#x}");
            }
            Err(e) => {
                assert_eq!(dataoff, none, "size {size:#x}: {e}");
                assert!(matches!(e, LayoutError::NoRoomForData { .. }), "{e}");
            }
        }
    }
}

// Boundary table around 1 GiB alignment edges (k * align +- 4K), fsdax PMEM align 1G:
// dataoff = ALIGN_UP(8K + 64 npfns0, 1G) = 1G for any size below ~64 GiB.
#[test]
fn boundary_table_align_1g() {
    let table: &[(u64, Option<(u64, u64)>)] = &[
        // (size, Some((end_trunc, npfns)) or None for refused)
        (G, None),
        (2 * G - 4 * K, None), // end_trunc 1G - 4K: dataoff + end_trunc = size (corpus npfns 0)
        (2 * G, Some((0, 0x4_0000))),
        (2 * G + 4 * K, Some((4 * K, 0x4_0000))),
        (3 * G - 4 * K, Some((G - 4 * K, 0x4_0000))),
        (3 * G, Some((0, 0x8_0000))),
        (4 * G, Some((0, 0xC_0000))),
    ];
    for &(size, want) in table {
        let r = LayoutRequest::new(Profile::NEWEST_X86_64, size, DeviceKind::Devdax, Mode::PMEM)
            .with_align(Some(G));
        match (solve(&r), want) {
            (Ok(l), Some((end_trunc, npfns))) => {
                assert_eq!(l.dataoff, G, "size {size:#x}");
                assert_eq!((u64::from(l.end_trunc), l.npfns), (end_trunc, npfns));
            }
            (Err(LayoutError::NoRoomForData { .. }), None) => {}
            (got, _) => panic!("size {size:#x}: {got:?}"),
        }
    }
}

// Boundary table for RAM mode (dataoff is the 2M floor whatever the size).
#[test]
fn boundary_table_ram() {
    for (size, npfns) in [
        (2 * M + 4 * K, None),
        (4 * M - 4 * K, None),
        (4 * M, Some(512)),
        (16 * M - 4 * K, Some(0xC00)),
    ] {
        let r = LayoutRequest::new(Profile::NEWEST_X86_64, size, DeviceKind::Fsdax, Mode::RAM);
        assert_eq!(solve(&r).ok().map(|l| l.npfns), npfns, "size {size:#x}");
    }
}

#[test]
fn refusals() {
    let base = LayoutRequest::new(Profile::NEWEST_X86_64, G, DeviceKind::Fsdax, Mode::PMEM);
    assert_eq!(
        solve(&base.with_align(Some(3 * M))),
        Err(LayoutError::AlignNotPowerOfTwo { align: 3 * M })
    );
    assert_eq!(
        solve(&base.with_align(Some(8 * G)).with_size(16 * G)),
        Err(LayoutError::AlignTooLarge { align: 8 * G })
    );
    let mut bad_mode = base;
    bad_mode.mode = Mode(3);
    assert_eq!(solve(&bad_mode), Err(LayoutError::InvalidMode { mode: 3 }));
    assert_eq!(
        solve(&base.with_start(u64::MAX - G)),
        Err(LayoutError::StartMisaligned {
            start: u64::MAX - G,
            required: 2 * M
        })
    );
    assert_eq!(
        solve(&base.with_start(0xFFFF_FFFF_FFE0_0000)),
        Err(LayoutError::Overflow {
            ns_start: 0xFFFF_FFFF_FFE0_0000,
            ns_size: G
        })
    );
    // Explicit padding that leaves nothing.
    assert!(matches!(
        solve(&base.with_padding(Padding::Explicit {
            start_pad: G,
            end_trunc: 0
        })),
        Err(LayoutError::NoRoomForData { .. })
    ));
    assert!(matches!(
        solve(&base.with_padding(Padding::Explicit {
            start_pad: 1 << 32,
            end_trunc: 0
        })),
        Err(LayoutError::PaddingTooLarge { .. })
    ));
    // Explicit end_trunc that leaves the end misaligned: 5.7+ validate refuses it (§3.7
    // step 18, "resource end misaligned", -EOPNOTSUPP keeps the namespace disabled).
    assert_eq!(
        solve(&base.with_padding(Padding::Explicit {
            start_pad: 0,
            end_trunc: 4 * K
        })),
        Err(LayoutError::KernelRefuses {
            stage: Stage::Validate,
            reason: Reason::ResourceEndMisaligned {
                address: G - 4 * K,
                compat_align: 2 * M
            },
            errno: Errno::EOPNOTSUPP
        })
    );
}

// Capacity the kernel exposes (§5.2): size, resource, block-device bytes.
#[test]
fn capacity() {
    let l = ok(&req(
        Era::V6_5,
        G,
        DeviceKind::Fsdax,
        Mode::PMEM,
        Some(2 * M),
    ));
    assert_eq!(l.dev_size, G - 18 * M);
    assert_eq!(l.dev_resource, START + 18 * M);
    assert_eq!(l.blk_bytes, Some(G - 18 * M));
    assert_eq!(l.data.start, START + 18 * M);
    assert_eq!(l.data.end, START + G);
    // memmap area [base + 8K, base + dataoff); 64 bytes per data page needed.
    let mm = l.memmap.unwrap();
    assert_eq!((mm.start, mm.end), (START + 8 * K, START + 18 * M));
    assert_eq!(l.memmap_bytes, 64 * 0x3_EE00);
    let l = ok(&req(
        Era::V6_5,
        G,
        DeviceKind::Devdax,
        Mode::RAM,
        Some(2 * M),
    ));
    assert_eq!(l.blk_bytes, None);
    assert_eq!(l.memmap, None);
    assert_eq!(l.memmap_bytes, 0);
}

// §2.3 vector D is a legacy start_pad block: v1.2, dataoff 0x1200000, npfns 0x3ae00, start_pad
// 0x4000000, align 2M. It is what 4.7–5.0 write for a 1 GiB fsdax namespace at 0x244000000
// (64 MiB into a section) whose start collides with System RAM: start_pad = 64M; avail = 960M.
// 4.7: npfns0 = (960M - 8K)/4K = 245758; ALIGN_UP(64 * 245758, 2M) = 16M; + 8K -> 18M.
// 4.15: npfns0 = SECTION_UP(245758 pages) = 262144; 64 * 262144 = 16M; + 8K -> 18M.
// npfns = (1G - 64M - 18M)/4K = 241152 = 0x3AE00.
#[test]
fn vector_d_is_a_4_7_start_pad_layout() {
    let r = req(Era::V4_7, G, DeviceKind::Fsdax, Mode::PMEM, Some(2 * M))
        .with_start(START + 64 * M)
        .with_padding(Padding::Policy(Collisions {
            start: true,
            end: false,
        }));
    let l = ok(&r);
    assert_eq!(
        fields(&l),
        (
            0x120_0000,
            0x3_AE00,
            0x400_0000,
            0,
            0x20_0000,
            Version::V1_2
        )
    );
    let block = l.to_info(seq_uuid(0), seq_uuid(0x10)).to_block().unwrap();
    assert_eq!(block.checksum.get(), 0x764d_bb1c_7118_5ea2);
    let r415 = LayoutRequest {
        profile: x86(Era::V4_15),
        ..r
    };
    assert_eq!(fields(&ok(&r415)), fields(&l));
}

// The inverse question. 1 GiB usable, newest x86_64, PMEM 2M, page granule:
// S = 1G + 18M: npfns0 = 266750, 8K + 64 * 266750 = 17,080,192 -> 18M; usable = 1G.
// S = 1G + 16M (the previous 2M-aligned end): 8K + 64 * 266238 = 17,047,424 -> 18M; usable
// 1G - 2M. Sizes in between have end_trunc > 0 and the same or less.
#[test]
fn inverse_one_gib() {
    let t = LayoutRequest::new(Profile::NEWEST_X86_64, 0, DeviceKind::Fsdax, Mode::PMEM)
        .with_align(Some(2 * M));
    let l = min_size_for_usable(&t, G, 4 * K).unwrap();
    assert_eq!(l.request.ns_size, G + 18 * M);
    assert_eq!(l.dev_size, G);
    let below = solve(&t.with_size(G + 18 * M - 4 * K)).unwrap();
    assert!(below.dev_size < G);
    // Region granule 16M: 1G + 16M gives 1G - 2M; 1G + 32M: 8K + 64 * 270334 -> 18M, 1G + 14M.
    let l = min_size_for_usable(&t, G, 16 * M).unwrap();
    assert_eq!(l.request.ns_size, G + 32 * M);
    // Explicit padding cannot be searched.
    assert!(matches!(
        min_size_for_usable(
            &t.with_padding(Padding::Explicit {
                start_pad: 0,
                end_trunc: 0
            }),
            G,
            4 * K
        ),
        Err(LayoutError::SearchUnsupported { .. })
    ));
}

#[test]
fn dax_align_set_of_x86() {
    // The x86_64 preset's supported device-dax alignments (harness: 4096, 2097152, 1073741824).
    assert_eq!(
        Platform::X86_64.dax_aligns,
        AlignSet::of(&[4 * K, 2 * M, G])
    );
}

// Boundary table for 4.15–5.0 (trim_pfn_device, §4.5) around the first section edge, x86_64,
// start 0 (section aligned), fsdax, align 2M. R = 8K; npfns0 = SECTION_UP((avail - 8K)/4K) in
// units of 32768 pages; PMEM dataoff = ALIGN_UP(8K + 64 npfns0, 2M); RAM dataoff = 2M.
// An end not on 2M is trimmed to min(SECTION_DOWN(end), ALIGN_DOWN(end, 2M)).
#[test]
fn boundary_table_4_15_section_edge() {
    let none = u64::MAX;
    let table: &[(u64, Mode, u64, u64, u64)] = &[
        // (size, mode, dataoff, end_trunc, npfns)
        // 128M - 4K: SECTION_DOWN(end) = 0, so the whole namespace is trimmed away.
        (128 * M - 4 * K, Mode::PMEM, none, 0, 0),
        // 128M: 32766 pages -> 32768; 64 * 32768 = 2M; 8K + 2M -> 4M; (128M - 4M)/4K = 0x7C00.
        (128 * M, Mode::PMEM, 4 * M, 0, 0x7C00),
        // 128M + 4K: end_trunc = 4K, the rest as 128M.
        (128 * M + 4 * K, Mode::PMEM, 4 * M, 4 * K, 0x7C00),
        // 130M: 33278 pages -> 65536; 4M of memmap; 8K + 4M -> 6M; (130M - 6M)/4K = 0x7C00.
        (130 * M, Mode::PMEM, 6 * M, 0, 0x7C00),
        // 130M + 4K: trimmed to the section (128M): end_trunc 2M + 4K; as 128M: 4M, 0x7C00.
        (130 * M + 4 * K, Mode::PMEM, 4 * M, 2 * M + 4 * K, 0x7C00),
        // 256M: 65534 -> 65536 pages; 4M + 8K -> 6M; (256M - 6M)/4K = 64000 = 0xFA00.
        (256 * M, Mode::PMEM, 6 * M, 0, 0xFA00),
        (128 * M - 4 * K, Mode::RAM, none, 0, 0),
        // RAM: ALIGN_UP(8K, 2M) = 2M; (128M - 2M)/4K = 32256 = 0x7E00.
        (128 * M, Mode::RAM, 2 * M, 0, 0x7E00),
        (130 * M + 4 * K, Mode::RAM, 2 * M, 2 * M + 4 * K, 0x7E00),
    ];
    for &(size, mode, dataoff, end_trunc, npfns) in table {
        let r = LayoutRequest::new(x86(Era::V4_15), size, DeviceKind::Fsdax, mode)
            .with_align(Some(2 * M));
        match solve(&r) {
            Ok(l) => assert_eq!(
                (l.dataoff, u64::from(l.end_trunc), l.npfns),
                (dataoff, end_trunc, npfns),
                "size {size:#x} {mode:?}"
            ),
            Err(e) => {
                assert_eq!(dataoff, none, "size {size:#x} {mode:?}: {e}");
                assert!(matches!(e, LayoutError::NoRoomForData { .. }), "{e}");
            }
        }
    }
}

// Every error variant: lowercase Display with the numbers, no final full stop, and Eq/Hash.
#[test]
fn error_variants_display() {
    use std::collections::HashSet;
    let errors = [
        LayoutError::InvalidMode { mode: 3 },
        LayoutError::PmemModeUnsupported,
        LayoutError::DevdaxUnsupported,
        LayoutError::AlignNotPowerOfTwo { align: 0x30_0000 },
        LayoutError::AlignBelowPageSize {
            align: 0x1000,
            page_size: 0x1_0000,
        },
        LayoutError::AlignTooLarge {
            align: 0x2_0000_0000,
        },
        LayoutError::AlignNotSettable {
            align: 0x1000,
            implicit: 0x20_0000,
        },
        LayoutError::DaxAlignUnsupported { align: 0x1_0000 },
        LayoutError::NamespaceTooSmall {
            size: 0x400_0000,
            minimum: 0x800_0000,
        },
        LayoutError::StartMisaligned {
            start: 0x1000,
            required: 0x20_0000,
        },
        LayoutError::PaddingTooLarge {
            start_pad: 1 << 32,
            end_trunc: 0,
        },
        LayoutError::PaddingUnsupported {
            start_pad: 0x1000,
            end_trunc: 0,
        },
        LayoutError::NoRoomForData {
            dataoff: 0x4000_0000,
            start_pad: 0,
            end_trunc: 0x3fff_d000,
            size: 0x7fff_d000,
        },
        LayoutError::NoDataPages {
            data_bytes: 0x800,
            page_size: 0x1000,
        },
        LayoutError::KernelRefuses {
            stage: Stage::Enable,
            reason: Reason::MemmapDoesNotFit {
                needed_pages: 0x200,
                free_pages: 0x1f0,
            },
            errno: Errno::ENOMEM,
        },
        LayoutError::Overflow {
            ns_start: u64::MAX,
            ns_size: 1,
        },
        LayoutError::VersionUnsupported {
            version: Version::new(1, 5),
            newest: Version::V1_4,
        },
        LayoutError::VersionCannotExpress {
            version: Version::V1_0,
            field: Field::EndTrunc,
        },
        LayoutError::SearchUnsupported {
            granule: 3,
            ns_start: 0,
        },
        LayoutError::NoSizeFound { usable: 1 },
    ];
    let mut seen = HashSet::new();
    for e in errors {
        let text = e.to_string();
        assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
        assert!(text.chars().next().unwrap().is_lowercase(), "{text}");
        assert!(!format!("{e:?}").is_empty());
        assert!(seen.insert(e), "duplicate {e:?}");
        let _: &dyn std::error::Error = &e;
    }
    // The errnos the kernel returns for the refusals that have one (FORMAT.md §3–§5).
    let errno_of =
        |pick: fn(&LayoutError) -> bool| errors.iter().find(|e| pick(e)).unwrap().kernel_errno();
    assert_eq!(
        errno_of(|e| matches!(e, LayoutError::InvalidMode { .. })),
        Some(-6)
    );
    assert_eq!(
        errno_of(|e| matches!(e, LayoutError::PmemModeUnsupported)),
        Some(-25)
    );
    assert_eq!(
        errno_of(|e| matches!(e, LayoutError::DaxAlignUnsupported { .. })),
        Some(-95)
    );
    assert_eq!(
        errno_of(|e| matches!(e, LayoutError::StartMisaligned { .. })),
        Some(-22)
    );
    assert_eq!(
        errno_of(|e| matches!(e, LayoutError::KernelRefuses { .. })),
        Some(-12)
    );
    let no_room = errors
        .iter()
        .find(|e| matches!(e, LayoutError::NoRoomForData { .. }))
        .unwrap();
    assert!(no_room.to_string().contains("0x3fffd000"));
}
