//! Unit tests of the validator, one per kernel rule, with hand-computed numbers. Each test
//! names the FORMAT.md section or the kernel-rig finding (docs/rig.md, "Kernel facts") it
//! follows.

use nvdimm_infoblock::profile::{AlignSet, Era, Platform};
use nvdimm_infoblock::validate::{
    check, derived_align, Enabled, Errno, LiveSettings, Namespace, NamespaceError, Outcome,
    ProbePath, Reason, Stage, DERIVED_ALIGN_OF_ZERO,
};
use nvdimm_infoblock::{
    DeviceKind, ErrorClass, InfoBlock, Mode, PfnInfo, Profile, Signature, Uuid, Version,
};

const K: u64 = 1 << 10;
const M: u64 = 1 << 20;
const G: u64 = 1 << 30;
/// The harness namespace start (4 GiB, 1 GiB aligned).
const NS: u64 = 0x1_0000_0000;

fn p(era: Era) -> Profile {
    Profile::new(era, Platform::X86_64)
}

fn newest() -> Profile {
    Profile::NEWEST_X86_64
}

fn v61() -> Profile {
    p(Era::V6_1)
}

/// A v1.4 block as a 5.4+ kernel writes it (uuid 0x11.., nil parent, page 4K, pss 64).
fn info(kind: DeviceKind, mode: Mode, dataoff: u64, align: u32) -> PfnInfo {
    PfnInfo {
        kind,
        uuid: Uuid([0x11; 16]),
        parent_uuid: Uuid::NIL,
        flags: 0,
        version: Version::V1_4,
        dataoff,
        npfns: 0,
        mode,
        start_pad: 0,
        end_trunc: 0,
        align,
        page_size: 4096,
        page_struct_size: 64,
        min_version: None,
    }
}

fn fsdax(mode: Mode, dataoff: u64, align: u32) -> PfnInfo {
    info(DeviceKind::Fsdax, mode, dataoff, align)
}

fn run(i: &PfnInfo, start: u64, size: u64, profile: &Profile) -> Outcome {
    let block = i.to_block().expect("emit");
    check(
        &block,
        &Namespace::labelless(start, size),
        &ProbePath::Probe,
        profile,
    )
    .expect("valid namespace")
}

fn enabled(o: &Outcome) -> Enabled {
    *o.enabled()
        .unwrap_or_else(|| panic!("expected an enabled device, got {o:?}"))
}

fn rejected(o: &Outcome) -> (Stage, Reason, Errno) {
    match *o {
        Outcome::Rejected {
            stage,
            reason,
            errno,
        } => (stage, reason, errno),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn raw(o: &Outcome) -> (Reason, Errno) {
    match *o {
        Outcome::Raw { reason, errno } => (reason, errno),
        other => panic!("expected raw, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Enabled devices: sizes the kernel reports (FORMAT.md §4.6 worked example, §5.1, §5.2).

/// §4.6 worked example / §2.3 vector A: 1 GiB at 0x240000000, align 2M, map=dev, dataoff
/// 18 MiB. size = 1G - 18M = 0x3EE00000, resource = 0x241200000, npfns = 0x3EE00.
#[test]
fn vector_a_pmem_1g() {
    let mut i = fsdax(Mode::PMEM, 0x120_0000, 0x20_0000);
    i.npfns = 0x3_ee00;
    for profile in [newest(), v61(), p(Era::V5_7), p(Era::V5_4), p(Era::V5_3)] {
        let e = enabled(&run(&i, 0x2_4000_0000, G, &profile));
        assert_eq!(e.kind, DeviceKind::Fsdax);
        assert_eq!(e.dev_size, 0x3ee0_0000, "{profile:?}");
        assert_eq!(e.dev_resource, 0x2_4120_0000);
        assert_eq!(e.dev_align, 2 * M);
        assert_eq!(e.npfns, 0x3_ee00);
        assert!(!e.npfns_truncated);
        assert_eq!(e.map(), "dev");
    }
}

/// §2.3 vector B: the RAM-mode twin, dataoff 2 MiB; RAM mode keeps the stored npfns (§5.1).
#[test]
fn vector_b_ram_1g_keeps_stored_npfns() {
    let mut i = fsdax(Mode::RAM, 0x20_0000, 0x20_0000);
    i.npfns = 0x3_fe00;
    let e = enabled(&run(&i, 0x2_4000_0000, G, &newest()));
    assert_eq!(e.dev_size, G - 2 * M);
    assert_eq!(e.dev_resource, 0x2_4020_0000);
    assert_eq!(e.npfns, 0x3_fe00);
    assert_eq!(e.map(), "mem");
}

/// §5.1: PMEM-mode runtime npfns = PHYS_PFN(range_len - dataoff); a larger stored npfns is
/// truncated (the kernel logs it). 256 MiB, dataoff 6M: (256M - 6M) / 4K = 64000.
#[test]
fn pmem_npfns_recomputed_and_truncation_flagged() {
    let mut i = fsdax(Mode::PMEM, 6 * M, 0x20_0000);
    i.npfns = u64::MAX;
    let e = enabled(&run(&i, NS, 256 * M, &newest()));
    assert_eq!(e.npfns, 64_000);
    assert!(e.npfns_truncated);
}

/// §5.1 (≤ v5.2): runtime npfns rounded up to whole sections: PHYS_PFN(1G - 18M) = 257536
/// pages, rounded up to 32768-page (128 MiB) sections = 262144.
#[test]
fn pre_5_3_runtime_npfns_section_aligned() {
    let mut i = fsdax(Mode::PMEM, 0x120_0000, 0x20_0000);
    i.version = Version::V1_2;
    let e = enabled(&run(&i, 0x2_4000_0000, G, &p(Era::V4_15)));
    assert_eq!(e.npfns, 262_144);
}

/// §5.1 / harness: start_pad and end_trunc are honoured: size = ns - pad - trunc - dataoff,
/// resource = start + pad + dataoff. 256 MiB, pad 2M, trunc 2M, dataoff 2M (map=mem).
#[test]
fn start_pad_and_end_trunc_honoured() {
    let mut i = fsdax(Mode::RAM, 2 * M, 0x20_0000);
    i.start_pad = 0x20_0000;
    i.end_trunc = 0x20_0000;
    let e = enabled(&run(&i, NS, 256 * M, &newest()));
    assert_eq!(e.dev_size, 256 * M - 6 * M);
    assert_eq!(e.dev_resource, NS + 4 * M);
    assert_eq!((e.start_pad, e.end_trunc), (0x20_0000, 0x20_0000));
}

/// §3.7 step 7: minor 0 zeroes start_pad and end_trunc, so stale bytes there do not count.
#[test]
fn v1_0_ignores_padding_bytes() {
    let mut i = fsdax(Mode::RAM, 8 * M, 0);
    i.version = Version::V1_0;
    let mut block = i.to_block().unwrap();
    block.start_pad.set(4096);
    block.end_trunc.set(4096);
    block.update_checksum();
    let o = check(
        &block,
        &Namespace::labelless(NS, 256 * M),
        &ProbePath::Probe,
        &newest(),
    )
    .unwrap();
    let e = enabled(&o);
    assert_eq!(e.dev_size, 248 * M);
    assert_eq!(e.dev_align, 8 * M, "derived align 1 << ilog2(8M)");
}

// ---------------------------------------------------------------------------------------
// Ignored blocks: raw namespace (FORMAT.md §3.7 steps 4–8; harness "silently ignored").

#[test]
fn bad_signature_is_raw_enodev() {
    let block = InfoBlock::zeroed();
    let o = check(
        &block,
        &Namespace::labelless(NS, 256 * M),
        &ProbePath::Probe,
        &newest(),
    )
    .unwrap();
    let (reason, errno) = raw(&o);
    assert_eq!(
        reason,
        Reason::BadSignature {
            found: Signature([0; 16])
        }
    );
    assert_eq!(errno.code(), -19);
    assert_eq!(reason.class(), ErrorClass::NotAnInfoBlock);
    assert_eq!(o.verdict(), "raw");
    assert_eq!(o.stage(), None);
}

#[test]
fn bad_checksum_is_raw_enodev() {
    let mut block = fsdax(Mode::PMEM, 6 * M, 0x20_0000).to_block().unwrap();
    let good = block.checksum.get();
    block.checksum.set(good ^ 1);
    let o = check(
        &block,
        &Namespace::labelless(NS, 256 * M),
        &ProbePath::Probe,
        &newest(),
    )
    .unwrap();
    let (reason, errno) = raw(&o);
    assert_eq!(
        reason,
        Reason::ChecksumMismatch {
            stored: good ^ 1,
            computed: good
        }
    );
    assert_eq!(errno, Errno::ENODEV);
}

/// §3.7 step 6: a label-less namespace has a nil uuid; a non-zero parent_uuid is ignored
/// (raw). 4.3 did not check it yet (§3.1).
#[test]
fn parent_uuid_checked_from_4_6() {
    let mut i = fsdax(Mode::RAM, 8 * M, 0);
    i.parent_uuid = Uuid([1; 16]);
    let (reason, errno) = raw(&run(&i, NS, 256 * M, &newest()));
    assert_eq!(
        reason,
        Reason::ParentUuidMismatch {
            found: Uuid([1; 16]),
            expected: Uuid::NIL
        }
    );
    assert_eq!(errno, Errno::ENODEV);
    // The same block with the right namespace uuid is accepted.
    let block = i.to_block().unwrap();
    let ns = Namespace {
        start: NS,
        size: 256 * M,
        uuid: Uuid([1; 16]),
    };
    assert!(check(&block, &ns, &ProbePath::Probe, &newest())
        .unwrap()
        .enabled()
        .is_some());
    // 4.3: no parent uuid check; the 128 MiB-aligned start and RAM mode pass.
    let mut old = i;
    old.version = Version::V1_0;
    assert!(run(&old, NS, 256 * M, &p(Era::V4_3)).enabled().is_some());
}

/// §3.7 step 8: mode ∉ {1, 2} → -ENXIO → raw.
#[test]
fn unknown_mode_is_raw_enxio() {
    for mode in [0, 3, 0xffff_ffff] {
        let i = fsdax(Mode(mode), 8 * M, 0);
        let (reason, errno) = raw(&run(&i, NS, 256 * M, &newest()));
        assert_eq!(reason, Reason::UnknownMode { mode: Mode(mode) });
        assert_eq!(errno.code(), -6);
    }
}

/// §3.1 step 7: Linux 4.3 returned -ENOTTY for PMEM mode ("TODO: allocate from PMEM").
#[test]
fn pmem_mode_on_4_3_is_enotty() {
    let mut i = fsdax(Mode::PMEM, 8 * M, 0);
    i.version = Version::V1_0;
    let (reason, errno) = raw(&run(&i, NS, 256 * M, &p(Era::V4_3)));
    assert_eq!(reason, Reason::PmemModeUnsupported);
    assert_eq!(errno.code(), -25);
}

/// §3.1 steps 3 and 9 (4.3): namespace ≥ one section, section-aligned start.
#[test]
fn v4_3_section_rules() {
    let mut i = fsdax(Mode::RAM, 8 * M, 0);
    i.version = Version::V1_0;
    let (reason, errno) = raw(&run(&i, NS, 64 * M, &p(Era::V4_3)));
    assert_eq!(
        reason,
        Reason::NamespaceBelowSection {
            size: 64 * M,
            section: 128 * M
        }
    );
    assert_eq!(errno, Errno::ENODEV);
    let (reason, errno) = raw(&run(&i, NS + 64 * M, 256 * M, &p(Era::V4_3)));
    assert_eq!(
        reason,
        Reason::StartNotSectionAligned {
            start: NS + 64 * M,
            section: 128 * M
        }
    );
    assert_eq!(errno, Errno::EBUSY);
}

// ---------------------------------------------------------------------------------------
// Validate-stage refusals (FORMAT.md §3.6, §3.7 steps 10–19).

/// §3.7 step 10: PMEM mode with page_size > PAGE_SIZE → -EOPNOTSUPP; RAM mode is not checked.
#[test]
fn page_size_mismatch_pmem_only() {
    let mut i = fsdax(Mode::PMEM, 6 * M, 0x20_0000);
    i.page_size = 8192;
    let (stage, reason, errno) = rejected(&run(&i, NS, 256 * M, &newest()));
    assert_eq!(stage, Stage::Validate);
    assert_eq!(errno.code(), -95);
    assert_eq!(
        reason.message().to_string(),
        "init failed, page size mismatch 8192"
    );
    i.mode = Mode::RAM;
    i.dataoff = 2 * M;
    assert!(run(&i, NS, 256 * M, &newest()).enabled().is_some());
    // 5.3 reads v1.4 fields as padding: no page-size check at all (§3.5).
    let mut old = fsdax(Mode::PMEM, 6 * M, 0x20_0000);
    old.page_size = 8192;
    assert!(run(&old, NS, 256 * M, &p(Era::V5_3)).enabled().is_some());
}

/// §3.7 step 11: page_struct_size < sizeof(struct page) (64) → -EOPNOTSUPP; 128 is fine.
#[test]
fn struct_page_size_mismatch() {
    let mut i = fsdax(Mode::PMEM, 6 * M, 0x20_0000);
    i.page_struct_size = 32;
    let (_, reason, _) = rejected(&run(&i, NS, 256 * M, &newest()));
    assert_eq!(
        reason.message().to_string(),
        "init failed, struct page size mismatch 32"
    );
    i.page_struct_size = 128;
    assert!(run(&i, NS, 256 * M, &newest()).enabled().is_some());
}

/// §3.7 step 12 / harness: DAX align must be supported (4K, 2M, 1G on x86_64); 64K is not,
/// and the kernel prints the live (default 2M) align first. A PFN block with 64K is fine.
#[test]
fn dax_align_must_be_supported() {
    let i = info(DeviceKind::Devdax, Mode::PMEM, 6 * M, 64 * 1024);
    let (stage, reason, errno) = rejected(&run(&i, NS, 256 * M, &newest()));
    assert_eq!((stage, errno), (Stage::Validate, Errno::EOPNOTSUPP));
    assert_eq!(
        reason.message().to_string(),
        "init failed, alignment mismatch: 2097152:65536"
    );
    let e = enabled(&run(
        &fsdax(Mode::PMEM, 6 * M, 64 * 1024),
        NS,
        256 * M,
        &newest(),
    ));
    assert_eq!(e.dev_align, 64 * K);
    // ppc64 radix (64K pages) supports 64 KiB.
    let ppc = Profile::new(Era::V6_5, Platform::PPC64_RADIX);
    let mut j = i;
    j.page_size = 65536;
    assert!(!matches!(
        run(&j, NS, 256 * M, &ppc).reason(),
        Some(Reason::DaxAlignUnsupported { .. })
    ));
}

/// §3.7 step 14: "alignment: %lx exceeds capacity %llx"; -EOPNOTSUPP from 5.7, -EINVAL (raw
/// fallback) before.
#[test]
fn align_exceeds_capacity() {
    let i = fsdax(Mode::PMEM, 6 * M, 0x4000_0000);
    let (_, reason, errno) = rejected(&run(&i, NS, 256 * M, &newest()));
    assert_eq!(
        reason,
        Reason::AlignExceedsCapacity {
            align: G,
            capacity: 256 * M
        }
    );
    assert_eq!(
        reason.message().to_string(),
        "alignment: 40000000 exceeds capacity 10000000"
    );
    assert_eq!(errno, Errno::EOPNOTSUPP);
    let (_, errno) = raw(&run(&i, NS, 256 * M, &p(Era::V5_4)));
    assert_eq!(errno, Errno::EINVAL);
}

/// §3.7 step 15: dataoff ≥ res_size; -EBUSY before 5.7.
#[test]
fn dataoff_exceeds_capacity() {
    let i = fsdax(Mode::RAM, 256 * M, 0x20_0000);
    let (_, reason, errno) = rejected(&run(&i, NS, 256 * M, &newest()));
    assert_eq!(
        reason.message().to_string(),
        "pfn array size exceeds capacity of namespace"
    );
    assert_eq!(errno, Errno::EOPNOTSUPP);
    let (_, errno) = raw(&run(&i, NS, 256 * M, &p(Era::V4_15)));
    assert_eq!(errno, Errno::EBUSY);
    // One byte less passes this check (and then fails the offset check: 256M-1 unaligned).
    let j = fsdax(Mode::RAM, 256 * M - 1, 0x20_0000);
    assert_eq!(
        run(&j, NS, 256 * M, &newest()).reason().unwrap().token(),
        "bad_offset"
    );
}

/// §3.7 step 16 / harness: align 0 derives 1 << ilog2(dataoff): 6M → 4M, and 4G+6M is not
/// 4M aligned; 8M → 8M, accepted with align 8M.
#[test]
fn derived_align_bad_offset() {
    let (_, reason, _) = rejected(&run(&fsdax(Mode::PMEM, 6 * M, 0), NS, 256 * M, &newest()));
    assert_eq!(
        reason.message().to_string(),
        "bad offset: 0x600000 dax disabled align: 0x400000"
    );
    let e = enabled(&run(&fsdax(Mode::PMEM, 8 * M, 0), NS, 256 * M, &newest()));
    assert_eq!(e.dev_align, 8 * M);
    assert_eq!(derived_align(6 * M), 4 * M);
    assert_eq!(derived_align(1), 1);
    assert_eq!(derived_align(u64::MAX), 1 << 63);
}

/// §3.7 step 16: the kernel's IS_ALIGNED is a mask test `x & (a - 1)`, so a non-power-of-two
/// align of 3 MiB (mask 0x2FFFFF) accepts 4G+4M (bit 22 only) and refuses 4G+2M (bit 21).
#[test]
fn non_power_of_two_align_is_a_mask() {
    assert!(
        run(&fsdax(Mode::RAM, 4 * M, 3 << 20), NS, 256 * M, &newest())
            .enabled()
            .is_some()
    );
    let o = run(&fsdax(Mode::RAM, 2 * M, 3 << 20), NS, 256 * M, &newest());
    assert_eq!(o.reason().unwrap().token(), "bad_offset");
}

/// §3.7 step 16: dataoff must be a page multiple even with a 512-byte align.
#[test]
fn dataoff_must_be_page_multiple() {
    let o = run(&fsdax(Mode::RAM, 2 * M + 512, 512), NS, 256 * M, &newest());
    assert_eq!(
        o.reason(),
        Some(Reason::BadOffset {
            dataoff: 2 * M + 512,
            align: 512,
            address: NS + 2 * M + 512,
            page_size: 4096
        })
    );
}

/// Harness: bad offset runs before "resource start misaligned", so a 4K start_pad with align
/// 2M reports bad offset; with align 4K it reaches the compat-align start check (§3.7 17).
#[test]
fn start_pad_checks_order() {
    let mut i = fsdax(Mode::RAM, 2 * M, 0x20_0000);
    i.start_pad = 4096;
    assert_eq!(
        run(&i, NS, 256 * M, &newest()).reason().unwrap().token(),
        "bad_offset"
    );
    i.align = 4096;
    let (_, reason, _) = rejected(&run(&i, NS, 256 * M, &newest()));
    assert_eq!(
        reason,
        Reason::ResourceStartMisaligned {
            address: NS + 4096,
            compat_align: 2 * M
        }
    );
    assert_eq!(reason.message().to_string(), "resource start misaligned");
    // Before 5.7 there is no compat-align check.
    assert!(!matches!(
        run(&i, NS, 256 * M, &p(Era::V5_4)).reason(),
        Some(Reason::ResourceStartMisaligned { .. })
    ));
}

/// §3.7 step 18 / harness: end_trunc 4K leaves the end unaligned to 2 MiB.
#[test]
fn resource_end_misaligned() {
    let mut i = fsdax(Mode::RAM, 2 * M, 0x20_0000);
    i.end_trunc = 4096;
    let (_, reason, _) = rejected(&run(&i, NS, 256 * M, &newest()));
    assert_eq!(
        reason,
        Reason::ResourceEndMisaligned {
            address: NS + 256 * M - 4096,
            compat_align: 2 * M
        }
    );
    // A 256M + 4K namespace needs end_trunc = 4K (harness: size-plus4k-endtrunc).
    let e = enabled(&run(&i, NS, 256 * M + 4096, &newest()));
    assert_eq!(e.dev_size, 254 * M);
}

/// §3.7 step 19 and the harness's only 6.1/6.12 difference: dataoff ≥ size - pad - trunc.
/// 16 MiB, pad 2M, trunc 2M, dataoff 12M (map=mem): 6.1 enables a 0-byte device, 6.5+ refuses
/// "bad offset with small namespace".
#[test]
fn small_namespace_6_1_vs_6_5() {
    let mut i = fsdax(Mode::RAM, 12 * M, 0x20_0000);
    i.start_pad = 0x20_0000;
    i.end_trunc = 0x20_0000;
    let e = enabled(&run(&i, NS, 16 * M, &v61()));
    assert_eq!(e.dev_size, 0);
    assert_eq!(e.dev_resource, NS + 14 * M);
    let (stage, reason, errno) = rejected(&run(&i, NS, 16 * M, &newest()));
    assert_eq!((stage, errno), (Stage::Validate, Errno::EOPNOTSUPP));
    assert_eq!(
        reason,
        Reason::SmallNamespace {
            dataoff: 12 * M,
            usable: 12 * M
        }
    );
    assert_eq!(
        reason.message().to_string(),
        "bad offset with small namespace"
    );
    // 2 MiB less dataoff passes on both.
    i.dataoff = 10 * M;
    assert_eq!(enabled(&run(&i, NS, 16 * M, &newest())).dev_size, 2 * M);
}

/// 5.3-5.6 (sub-section hotplug, no `memremap_compat_align` checks yet): `__add_pages` ->
/// `check_pfn_span` refuses a pfn range off the 512-page sub-section grid with -EINVAL
/// ("Misaligned __add_pages start: %#lx end: #%lx"), in RAM mode too. A RAM block at 4 GiB +
/// 4 KiB of 1 GiB - 4 KiB: range pfn 0x100001, 0x3FFFF pages. 5.7+ refuses the same block at
/// validate ("resource start misaligned"); 4.15-5.2 hot-add whole sections around the range
/// and enable it.
#[test]
fn hotplug_span_off_the_subsection_grid() {
    let i = fsdax(Mode::RAM, 2 * M - 4 * K, 0x20_0000);
    let (start, size) = (NS + 4 * K, G - 4 * K);
    for era in [Era::V5_3, Era::V5_4] {
        let (stage, reason, errno) = rejected(&run(&i, start, size, &p(era)));
        assert_eq!((stage, errno), (Stage::Enable, Errno::EINVAL), "{era:?}");
        assert_eq!(
            reason,
            Reason::HotplugMisaligned {
                pfn: 0x10_0001,
                pages: 0x3_FFFF,
                granule_pages: 512
            }
        );
        assert_eq!(
            reason.message().to_string(),
            "Misaligned __add_pages start: 0x100001 end: #13ffff"
        );
    }
    let (stage, reason, _) = rejected(&run(&i, start, size, &p(Era::V5_7)));
    assert_eq!(stage, Stage::Validate);
    assert!(matches!(reason, Reason::ResourceStartMisaligned { .. }));
    assert_eq!(
        enabled(&run(&i, start, size, &p(Era::V4_15))).dev_size,
        G - 2 * M
    );
    // An aligned start with an end off the grid (end_trunc 4K of a 1 GiB namespace): the
    // span of 0x3FFFF pages is refused too, in PMEM mode after the altmap check passed.
    let mut i = fsdax(Mode::PMEM, 18 * M, 0x20_0000);
    i.end_trunc = 4096;
    let (stage, reason, _) = rejected(&run(&i, NS, G, &p(Era::V5_4)));
    assert_eq!(stage, Stage::Enable);
    assert_eq!(
        reason,
        Reason::HotplugMisaligned {
            pfn: 0x10_0000,
            pages: 0x3_FFFF,
            granule_pages: 512
        }
    );
}

/// Paddings past the ends of the address space (fuzz finding F6): a namespace at 0 of 1 GiB
/// with end_trunc 1360 MiB passes 6.5's small-namespace check (the usable size wraps) and
/// every other check, and `res.end - end_trunc` wraps to 0xffffffffeaffffff: the pfn range
/// [0, 0xffffffffeaffffff] covers System RAM, so `memremap_pages` refuses it ("attempted on
/// mixed region", -ENXIO). Same with a start_pad that carries `res.start + start_pad` past
/// 2^64 (a namespace in the last GiB, start_pad 2 GiB: the range starts at 1 GiB).
#[test]
fn paddings_past_the_address_space_cover_ram() {
    let mut i = fsdax(Mode::RAM, 2 * M, 0x20_0000);
    i.end_trunc = 1360 * 0x10_0000;
    for profile in [newest(), v61(), p(Era::V4_15)] {
        let (stage, reason, errno) = rejected(&run(&i, 0, G, &profile));
        assert_eq!((stage, errno), (Stage::Enable, Errno::ENXIO));
        assert_eq!(
            reason,
            Reason::RangeOverlapsRam {
                start: 0,
                end: 0xffff_ffff_eaff_ffff
            }
        );
        assert_eq!(
            reason.message().to_string(),
            "attempted on mixed region 0-0xffffffffeaffffff"
        );
    }
    let mut i = fsdax(Mode::RAM, 2 * M, 0x20_0000);
    i.start_pad = 0x8000_0000;
    let (stage, reason, errno) = rejected(&run(&i, u64::MAX - G + 1, G, &newest()));
    assert_eq!((stage, errno), (Stage::Enable, Errno::ENXIO));
    assert_eq!(
        reason,
        Reason::RangeOverlapsRam {
            start: G,
            end: u64::MAX
        }
    );
}

/// `res_size - start_pad - end_trunc` wraps in the kernel's u64 arithmetic (harness cases
/// endtrunc-wraps, startpad-beyond-end): 64 MiB with end_trunc 128 MiB passes 6.5's
/// small-namespace check (the usable size wraps to 2^64 - 64 MiB) and every other check, then
/// `memremap_pages` refuses the inverted range [4G, 4G - 64M - 1] with -EINVAL.
#[test]
fn paddings_beyond_the_namespace_wrap_like_c() {
    let mut i = fsdax(Mode::RAM, 2 * M, 0x20_0000);
    i.end_trunc = 0x800_0000;
    for profile in [newest(), v61()] {
        let (stage, reason, errno) = rejected(&run(&i, NS, 64 * M, &profile));
        assert_eq!((stage, errno), (Stage::Enable, Errno::EINVAL));
        assert_eq!(
            reason,
            Reason::RangeInverted {
                start: NS,
                end: NS + 64 * M - 1 - 128 * M
            }
        );
    }
    let mut j = fsdax(Mode::RAM, 2 * M, 0x20_0000);
    j.start_pad = 0x800_0000;
    let (_, reason, _) = rejected(&run(&j, NS, 64 * M, &newest()));
    assert_eq!(reason.token(), "range_inverted");
}

/// 6.1 has no small-namespace check: 16 MiB, end_trunc 8 MiB, dataoff 10 MiB (map=mem) is
/// enabled and sysfs size wraps to 2^64 - 2 MiB (harness small-ns-over-mem, 6.1:
/// 18446744073707454464); 6.12 refuses it.
#[test]
fn dev_size_wraps_on_6_1() {
    let mut i = fsdax(Mode::RAM, 10 * M, 0x20_0000);
    i.end_trunc = 0x80_0000;
    assert_eq!(
        enabled(&run(&i, NS, 16 * M, &v61())).dev_size,
        18_446_744_073_707_454_464
    );
    assert_eq!(
        run(&i, NS, 16 * M, &newest()).reason().unwrap().token(),
        "small_namespace"
    );
}

/// §7.7 (UNCONFIRMED, our choice): align 0 with dataoff 0 derives 1 << 63 (x86_64's
/// `1 << ilog2(0)`), which fails as alignment > capacity.
#[test]
fn dataoff_zero_align_zero() {
    assert_eq!(derived_align(0), DERIVED_ALIGN_OF_ZERO);
    let (_, reason, _) = rejected(&run(&fsdax(Mode::PMEM, 0, 0), NS, 256 * M, &newest()));
    assert_eq!(
        reason,
        Reason::AlignExceedsCapacity {
            align: 1 << 63,
            capacity: 256 * M
        }
    );
    let dax = info(DeviceKind::Devdax, Mode::PMEM, 0, 0);
    let (_, reason, _) = rejected(&run(&dax, NS, 256 * M, &newest()));
    assert_eq!(reason.token(), "dax_align_unsupported");
}

// ---------------------------------------------------------------------------------------
// Enable-stage refusals (FORMAT.md §5.1; harness "probe_failed_-22/-12").

/// §5.1: RAM mode needs dataoff ≥ the info-block reserve (8 KiB on x86_64) → -EINVAL.
#[test]
fn ram_dataoff_below_reserve() {
    let (stage, reason, errno) =
        rejected(&run(&fsdax(Mode::RAM, 4096, 4096), NS, 256 * M, &newest()));
    assert_eq!(stage, Stage::Enable);
    assert_eq!(
        reason,
        Reason::RamDataoffBelowReserve {
            dataoff: 4096,
            reserve: 8192
        }
    );
    assert_eq!(errno.code(), -22);
    assert_eq!(reason.message().to_string(), "probe failed with error -22");
    assert!(run(&fsdax(Mode::RAM, 8192, 4096), NS, 256 * M, &newest())
        .enabled()
        .is_some());
    // 64 KiB pages (5.1+): the reserve is ALIGN_UP(8K, PAGE_SIZE) = 64 KiB.
    let arm = Profile::new(Era::V6_5, Platform::ARM64_64K);
    assert_eq!(arm.info_block_reserve(), 64 * K);
}

/// §5.1: the altmap of 256 MiB at 4 GiB: reserve 2 pages, first PMD block padded from pfn
/// +2 to +512 (510 pages), then 512 pages per 128 MiB section: 510 + 2·512 = 1534 pages =
/// dataoff 6 MiB - 8 KiB exactly (ndctl's dataoff). 6M - 4K leaves 1533 → -ENOMEM.
#[test]
fn memmap_fit_boundary_256m() {
    assert!(run(&fsdax(Mode::PMEM, 6 * M, 4096), NS, 256 * M, &newest())
        .enabled()
        .is_some());
    let (stage, reason, errno) = rejected(&run(
        &fsdax(Mode::PMEM, 6 * M - 4096, 4096),
        NS,
        256 * M,
        &newest(),
    ));
    assert_eq!(stage, Stage::Enable);
    assert_eq!(
        reason,
        Reason::MemmapDoesNotFit {
            needed_pages: 1534,
            free_pages: 1533
        }
    );
    assert_eq!(errno.code(), -12);
}

/// §4.6 worked example: 1 GiB needs 510 + 8·512 = 4606 pages = 18 MiB - 8 KiB; 16 MiB fails.
#[test]
fn memmap_fit_1g() {
    let (_, reason, _) = rejected(&run(
        &fsdax(Mode::PMEM, 16 * M, 0x20_0000),
        0x2_4000_0000,
        G,
        &newest(),
    ));
    assert_eq!(
        reason,
        Reason::MemmapDoesNotFit {
            needed_pages: 4606,
            free_pages: 4094
        }
    );
}

/// Partial sections take their memmap from RAM: a 16 MiB namespace (less than one 128 MiB
/// section) enables with any dataoff past the reserve (harness: fsdax-16m-dev, fsdax-4m-dev).
#[test]
fn partial_sections_need_no_altmap() {
    let e = enabled(&run(
        &fsdax(Mode::PMEM, 2 * M, 0x20_0000),
        NS,
        16 * M,
        &newest(),
    ));
    assert_eq!(e.dev_size, 14 * M);
    assert_eq!(e.npfns, 14 * M / 4096);
}

/// §5.1: PMEM mode with dataoff below the reserve: `PHYS_PFN(dataoff - reserve)` wraps, the
/// altmap claims more pages than the range → "memory add fail, invalid altmap" (-EINVAL).
#[test]
fn pmem_dataoff_below_reserve_is_invalid_altmap() {
    let (stage, reason, errno) =
        rejected(&run(&fsdax(Mode::PMEM, 4096, 4096), NS, 256 * M, &newest()));
    assert_eq!(stage, Stage::Enable);
    assert_eq!(errno, Errno::EINVAL);
    assert_eq!(
        reason,
        Reason::InvalidAltmap {
            offset_pages: 2 + ((4096u64.wrapping_sub(8192)) >> 12),
            range_pages: 65536,
            base_mismatch: false
        }
    );
}

/// dax_pmem: the data range must be aligned to the block's align: 2.5 GiB with align 1 GiB
/// and dataoff 1 GiB leaves 1.5 GiB → -ENOMEM at enable (harness:
/// devdax-1g-size-not-1g-multiple). 2 GiB leaves 1 GiB and enables.
#[test]
fn devdax_range_must_be_aligned() {
    let i = info(DeviceKind::Devdax, Mode::PMEM, G, 0x4000_0000);
    let (stage, reason, errno) = rejected(&run(&i, NS, 2 * G + G / 2, &newest()));
    assert_eq!((stage, errno), (Stage::Enable, Errno::ENOMEM));
    assert_eq!(
        reason,
        Reason::DaxRangeMisaligned {
            start: NS + G,
            len: G + G / 2,
            align: G
        }
    );
    let e = enabled(&run(&i, NS, 2 * G, &newest()));
    assert_eq!(
        (e.kind, e.dev_size, e.dev_align),
        (DeviceKind::Devdax, G, G)
    );
}

// ---------------------------------------------------------------------------------------
// Older eras (FORMAT.md §3.2–§3.4).

/// §3.2 (4.6): dataoff must be a power of two ≥ PAGE_SIZE (-ENXIO → raw); align derived.
#[test]
fn v4_6_power_of_two_dataoff() {
    let mut i = fsdax(Mode::RAM, 6 * M, 0);
    i.version = Version::V1_1;
    let (reason, errno) = raw(&run(&i, NS, 256 * M, &p(Era::V4_6)));
    assert_eq!(
        reason,
        Reason::DataoffNotPowerOfTwo {
            dataoff: 6 * M,
            page_size: 4096
        }
    );
    assert_eq!(errno, Errno::ENXIO);
    i.dataoff = 8 * M;
    assert_eq!(
        enabled(&run(&i, NS, 256 * M, &p(Era::V4_6))).dev_align,
        8 * M
    );
}

/// §3.3 (4.7–4.14): probe used the live default align (2M), not the stored one: a 4K-aligned
/// devdax with dataoff 0x22000 fails "bad offset: 0x22000 dax disabled align: 0x200000".
#[test]
fn v4_7_live_align() {
    let mut i = info(DeviceKind::Devdax, Mode::RAM, 0x22000, 4096);
    i.version = Version::V1_2;
    let (reason, errno) = raw(&run(&i, NS, 256 * M, &p(Era::V4_7)));
    assert_eq!(
        reason.message().to_string(),
        "bad offset: 0x22000 dax disabled align: 0x200000"
    );
    assert_eq!(errno, Errno::ENXIO);
    // 4.15 uses the stored align (1ee6667cd8): 0x22000 is 4K aligned.
    assert!(run(&i, NS, 256 * M, &p(Era::V4_15)).enabled().is_some());
}

/// §3.4 step 13 (4.15+): the offset check is absolute: start + dataoff + start_pad. A 1 MiB
/// namespace offset makes a 2 MiB dataoff unaligned to 2 MiB.
#[test]
fn v4_15_absolute_offset() {
    let mut i = fsdax(Mode::RAM, 2 * M, 0x20_0000);
    i.version = Version::V1_2;
    let (reason, _) = raw(&run(&i, NS + M, 256 * M, &p(Era::V4_15)));
    assert_eq!(reason.token(), "bad_offset");
    assert!(run(&i, NS, 256 * M, &p(Era::V4_15)).enabled().is_some());
}

// ---------------------------------------------------------------------------------------
// The init path (§3.4 step 10, §3.7 step 13).

#[test]
fn init_path_compares_settings() {
    let i = fsdax(Mode::PMEM, 6 * M, 0x20_0000);
    let block = i.to_block().unwrap();
    let ns = Namespace::labelless(NS, 256 * M);
    let live = LiveSettings {
        uuid: Uuid([0x11; 16]),
        align: 2 * M,
        mode: Mode::PMEM,
    };
    assert!(check(&block, &ns, &ProbePath::Init(live), &newest())
        .unwrap()
        .enabled()
        .is_some());
    // uuid mismatch: -ENODEV, init writes a new block (reported as raw).
    let other = LiveSettings {
        uuid: Uuid([0x22; 16]),
        ..live
    };
    let (reason, errno) = raw(&check(&block, &ns, &ProbePath::Init(other), &newest()).unwrap());
    assert_eq!(reason.token(), "uuid_mismatch");
    assert_eq!(errno, Errno::ENODEV);
    // align mismatch: -EOPNOTSUPP from 5.7, -EINVAL before; both fail init.
    let wrong = LiveSettings {
        align: 4096,
        ..live
    };
    let (stage, reason, errno) =
        rejected(&check(&block, &ns, &ProbePath::Init(wrong), &newest()).unwrap());
    assert_eq!(stage, Stage::Validate);
    assert_eq!(
        reason.message().to_string(),
        "init failed, settings mismatch"
    );
    assert_eq!(errno, Errno::EOPNOTSUPP);
    let (_, _, errno) =
        rejected(&check(&block, &ns, &ProbePath::Init(wrong), &p(Era::V5_4)).unwrap());
    assert_eq!(errno, Errno::EINVAL);
}

// ---------------------------------------------------------------------------------------
// Inputs, errors, errnos.

#[test]
fn impossible_namespaces_are_errors() {
    let block = InfoBlock::zeroed();
    let e = check(
        &block,
        &Namespace::labelless(NS, 0),
        &ProbePath::Probe,
        &newest(),
    )
    .unwrap_err();
    assert_eq!(e, NamespaceError::Empty { start: NS });
    assert_eq!(e.to_string(), "namespace at 0x100000000 has size 0");
    let e = check(
        &block,
        &Namespace::labelless(u64::MAX, 2),
        &ProbePath::Probe,
        &newest(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        NamespaceError::EndOverflow {
            start: u64::MAX,
            size: 2
        }
    );
    assert!(e.to_string().contains("beyond the 64-bit address space"));
    assert_eq!(e.class(), ErrorClass::Unsupported);
    // The very last byte of the address space is a valid one-byte namespace.
    assert!(check(
        &block,
        &Namespace::labelless(u64::MAX, 1),
        &ProbePath::Probe,
        &newest()
    )
    .is_ok());
}

#[test]
fn errno_values_match_linux() {
    for (e, code, name) in [
        (Errno::ENXIO, -6, "ENXIO"),
        (Errno::ENOMEM, -12, "ENOMEM"),
        (Errno::EBUSY, -16, "EBUSY"),
        (Errno::ENODEV, -19, "ENODEV"),
        (Errno::EINVAL, -22, "EINVAL"),
        (Errno::ENOTTY, -25, "ENOTTY"),
        (Errno::EOPNOTSUPP, -95, "EOPNOTSUPP"),
    ] {
        assert_eq!(e.code(), code);
        assert_eq!(e.name(), name);
        assert_eq!(e.to_string(), format!("{code} ({name})"));
    }
}

/// Every variant: token, stage, class, errno under 6.5 and under a legacy era, and a Display
/// that carries its numbers.
#[test]
fn every_reason_variant() {
    let new = newest().rules;
    let old = p(Era::V4_15).rules;
    let u1 = Uuid([1; 16]);
    let u2 = Uuid([2; 16]);
    let cases: &[(Reason, &str, Stage, ErrorClass, i32, i32, &str)] = &[
        (
            Reason::NamespaceBelowSection {
                size: 0x10,
                section: 0x20,
            },
            "namespace_below_section",
            Stage::Validate,
            ErrorClass::NotAnInfoBlock,
            -19,
            -19,
            "0x10",
        ),
        (
            Reason::BadSignature {
                found: Signature::BTT,
            },
            "bad_signature",
            Stage::Validate,
            ErrorClass::NotAnInfoBlock,
            -19,
            -19,
            "BTT_ARENA_INFO",
        ),
        (
            Reason::ChecksumMismatch {
                stored: 1,
                computed: 2,
            },
            "checksum_mismatch",
            Stage::Validate,
            ErrorClass::Corrupt,
            -19,
            -19,
            "0x0000000000000002",
        ),
        (
            Reason::ParentUuidMismatch {
                found: u1,
                expected: u2,
            },
            "parent_uuid_mismatch",
            Stage::Validate,
            ErrorClass::Corrupt,
            -19,
            -19,
            "01010101-0101",
        ),
        (
            Reason::UnknownMode { mode: Mode(7) },
            "unknown_mode",
            Stage::Validate,
            ErrorClass::Corrupt,
            -6,
            -6,
            "mode 7",
        ),
        (
            Reason::PmemModeUnsupported,
            "pmem_mode_unsupported",
            Stage::Validate,
            ErrorClass::Unsupported,
            -25,
            -25,
            "pmem",
        ),
        (
            Reason::PageSizeMismatch {
                page_size: 8192,
                kernel_page_size: 4096,
            },
            "page_size_mismatch",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -95,
            "8192",
        ),
        (
            Reason::StructPageSizeMismatch {
                page_struct_size: 32,
                struct_page_size: 64,
            },
            "struct_page_size_mismatch",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -95,
            "32",
        ),
        (
            Reason::DaxAlignUnsupported {
                live_align: 2 * M,
                align: 64 * K,
                supported: AlignSet::of(&[4096]),
            },
            "dax_align_unsupported",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -95,
            "0x10000",
        ),
        (
            Reason::UuidMismatch {
                found: u1,
                expected: u2,
            },
            "uuid_mismatch",
            Stage::Validate,
            ErrorClass::Corrupt,
            -19,
            -19,
            "02020202",
        ),
        (
            Reason::SettingsMismatch {
                align: 4096,
                live_align: 2 * M,
                mode: Mode::RAM,
                live_mode: Mode::PMEM,
            },
            "settings_mismatch",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -22,
            "0x200000",
        ),
        (
            Reason::AlignExceedsCapacity {
                align: G,
                capacity: M,
            },
            "align_exceeds_capacity",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -22,
            "0x40000000",
        ),
        (
            Reason::DataoffExceedsCapacity {
                dataoff: 3 * M,
                size: M,
            },
            "dataoff_exceeds_capacity",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -16,
            "0x300000",
        ),
        (
            Reason::DataoffNotPowerOfTwo {
                dataoff: 3 * M,
                page_size: 4096,
            },
            "dataoff_not_power_of_two",
            Stage::Validate,
            ErrorClass::Unsupported,
            -6,
            -6,
            "0x300000",
        ),
        (
            Reason::BadOffset {
                dataoff: 6 * M,
                align: 4 * M,
                address: NS + 6 * M,
                page_size: 4096,
            },
            "bad_offset",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -6,
            "0x100600000",
        ),
        (
            Reason::StartNotSectionAligned {
                start: 0x1000,
                section: 128 * M,
            },
            "start_not_section_aligned",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -16,
            "0x1000",
        ),
        (
            Reason::ResourceStartMisaligned {
                address: NS + 4096,
                compat_align: 2 * M,
            },
            "resource_start_misaligned",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -95,
            "0x100001000",
        ),
        (
            Reason::ResourceEndMisaligned {
                address: NS + 4096,
                compat_align: 2 * M,
            },
            "resource_end_misaligned",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -95,
            "0x100001000",
        ),
        (
            Reason::SmallNamespace {
                dataoff: 12 * M,
                usable: 12 * M,
            },
            "small_namespace",
            Stage::Validate,
            ErrorClass::Unsupported,
            -95,
            -95,
            "0xc00000",
        ),
        (
            Reason::RamDataoffBelowReserve {
                dataoff: 4096,
                reserve: 8192,
            },
            "ram_dataoff_below_reserve",
            Stage::Enable,
            ErrorClass::Unsupported,
            -22,
            -22,
            "0x2000",
        ),
        (
            Reason::MemmapRegionEmpty {
                start: NS,
                end: NS + 256 * M - 1,
            },
            "memmap_region_empty",
            Stage::Enable,
            ErrorClass::Unsupported,
            -16,
            -16,
            "0x10fffffff",
        ),
        (
            Reason::RangeOverlapsRam {
                start: 0,
                end: 0xffff_ffff_eaff_ffff,
            },
            "range_overlaps_ram",
            Stage::Enable,
            ErrorClass::Unsupported,
            -6,
            -6,
            "0xffffffffeaffffff",
        ),
        (
            Reason::RangeInverted {
                start: NS,
                end: NS - 1,
            },
            "range_inverted",
            Stage::Enable,
            ErrorClass::Unsupported,
            -22,
            -22,
            "0xffffffff",
        ),
        (
            Reason::InvalidAltmap {
                offset_pages: 70000,
                range_pages: 65536,
                base_mismatch: false,
            },
            "invalid_altmap",
            Stage::Enable,
            ErrorClass::Unsupported,
            -22,
            -22,
            "65536",
        ),
        (
            Reason::HotplugMisaligned {
                pfn: 0x10_0001,
                pages: 0x3_FFFF,
                granule_pages: 512,
            },
            "hotplug_misaligned",
            Stage::Enable,
            ErrorClass::Unsupported,
            -22,
            -22,
            "0x100001",
        ),
        (
            Reason::MemmapDoesNotFit {
                needed_pages: 1534,
                free_pages: 1533,
            },
            "memmap_does_not_fit",
            Stage::Enable,
            ErrorClass::Unsupported,
            -12,
            -12,
            "1533",
        ),
        (
            Reason::DaxRangeMisaligned {
                start: NS + G,
                len: G / 2,
                align: G,
            },
            "dax_range_misaligned",
            Stage::Enable,
            ErrorClass::Unsupported,
            -12,
            -12,
            "0x20000000",
        ),
    ];
    let mut tokens = std::collections::BTreeSet::new();
    for &(reason, token, stage, class, errno_new, errno_old, needle) in cases {
        assert_eq!(reason.token(), token);
        assert!(tokens.insert(token), "duplicate token {token}");
        assert_eq!(reason.stage(), stage, "{token}");
        assert_eq!(reason.class(), class, "{token}");
        assert_eq!(reason.errno(&new).code(), errno_new, "{token} on 6.5");
        assert_eq!(reason.errno(&old).code(), errno_old, "{token} on 4.15");
        let text = reason.to_string();
        assert!(text.contains(needle), "{token}: {text:?} lacks {needle:?}");
        assert_eq!(
            text,
            text.to_lowercase()
                .replace("btt_arena_info", "BTT_ARENA_INFO")
                .replace("nvdimm_pfn_info", "NVDIMM_PFN_INFO")
                .replace("nvdimm_dax_info", "NVDIMM_DAX_INFO"),
            "lowercase display"
        );
        assert!(!reason.message().to_string().is_empty());
        let _: &dyn core::error::Error = &reason;
    }
    assert_eq!(tokens.len(), 27);
}

/// The verdict strings the CLI prints.
#[test]
fn verdict_names() {
    let e = run(&fsdax(Mode::PMEM, 6 * M, 0x20_0000), NS, 256 * M, &newest());
    assert_eq!((e.verdict(), e.stage(), e.errno()), ("fsdax", None, None));
    let d = run(
        &info(DeviceKind::Devdax, Mode::PMEM, 6 * M, 0x20_0000),
        NS,
        256 * M,
        &newest(),
    );
    assert_eq!(d.verdict(), "devdax");
    let r = run(
        &fsdax(Mode::PMEM, 6 * M, 0x4000_0000),
        NS,
        256 * M,
        &newest(),
    );
    assert_eq!(
        (r.verdict(), r.stage()),
        ("rejected", Some(Stage::Validate))
    );
    assert_eq!(Stage::Enable.to_string(), "enable");
}

/// The kernel prints with C's `%#llx`, which writes zero as a bare `0` (no `0x`).
#[test]
fn bad_offset_message_prints_zero_like_c() {
    let o = run(&fsdax(Mode::PMEM, 0, 0x20_0000), NS + M, 256 * M, &newest());
    assert_eq!(
        o.reason().unwrap().message().to_string(),
        "bad offset: 0 dax disabled align: 0x200000"
    );
}

/// Harness dataoff0-align2m-dev: a map=dev block with dataoff 0 passes validation (align 2M,
/// 4 GiB start) and fails at enable with -EBUSY "could not reserve region [mem
/// 0x100000000-0x10fffffff]": nd_pfn_init re-enables the namespace for dataoff (0) bytes. The
/// 5.4–5.6 era models 5.4, which lacks that step and fails later on the wrapped altmap.
#[test]
fn pmem_dataoff_zero_cannot_reserve_region() {
    let (stage, reason, errno) = rejected(&run(
        &fsdax(Mode::PMEM, 0, 0x20_0000),
        NS,
        256 * M,
        &newest(),
    ));
    assert_eq!((stage, errno), (Stage::Enable, Errno::EBUSY));
    assert_eq!(
        reason.message().to_string(),
        "could not reserve region [mem 0x100000000-0x10fffffff]"
    );
    let (_, reason, _) = rejected(&run(
        &fsdax(Mode::PMEM, 0, 0x20_0000),
        NS,
        256 * M,
        &p(Era::V5_4),
    ));
    assert_eq!(reason.token(), "invalid_altmap");
    // C's %08llx pads low addresses to 8 digits.
    let low = Reason::MemmapRegionEmpty {
        start: 0x10_0000,
        end: 0x1ff_ffff,
    };
    assert_eq!(
        low.message().to_string(),
        "could not reserve region [mem 0x00100000-0x01ffffff]"
    );
}

/// Before device-dax existed (4.3–4.6) a DAX block is just an unknown signature: raw.
#[test]
fn dax_block_before_4_7_is_raw() {
    let mut i = info(DeviceKind::Devdax, Mode::RAM, 8 * M, 0);
    i.version = Version::V1_1;
    let (reason, errno) = raw(&run(&i, NS, 256 * M, &p(Era::V4_6)));
    assert_eq!(
        reason,
        Reason::BadSignature {
            found: Signature::DAX
        }
    );
    assert_eq!(errno, Errno::ENODEV);
}
