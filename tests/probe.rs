//! `probe` against what real kernels did, and against the claim order worked out from
//! `nd_pmem_probe` (pmem.c), `nd_btt_probe` (btt_devs.c), `nd_pfn_probe` / `nd_dax_probe`.
//!
//! * Every case of the kernel suite (tests/kernel: 102 pfn/dax heads, Linux 6.1 and 6.12 under
//!   QEMU, label-less namespace at 4 GiB): `probe` gives the kernel's verdict, its device size
//!   and the first data byte (`data_start_off` = dev_resource - ns_start).
//! * A BTT laid out as the kernel lays out a 256 MiB namespace with 4096-byte sectors: the
//!   kernel rig observed one arena with external_nlba 65208 (docs/rig.md; tests/data/kernel/btt/256M-4096.json), so the
//!   sector device is 65208 × 4096 bytes.
//! * Claim classes: which drivers are asked, from the kernel's switch statements.

use std::path::{Path, PathBuf};

use nvdimm_infoblock::btt::arena::BttVersion;
use nvdimm_infoblock::btt::layout::{create, LayoutRequest};
use nvdimm_infoblock::io::{ReadAt, SliceError};
use nvdimm_infoblock::label::Guid;
use nvdimm_infoblock::probe::{probe, Attempt, ClaimClass, Driver, Namespace, Verdict, Why};
use nvdimm_infoblock::{Profile, Uuid};
use serde_json::Value;

const NS_START: u64 = 0x1_0000_0000;

/// A namespace of `size` bytes whose first bytes are `head` and the rest zeros, without
/// holding the zeros in memory.
struct Head<'a> {
    head: &'a [u8],
    size: u64,
}

impl ReadAt for Head<'_> {
    type Error = SliceError;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SliceError> {
        let err = SliceError {
            offset,
            len: buf.len(),
            size: usize::try_from(self.size).unwrap_or(usize::MAX),
        };
        let end = offset.checked_add(buf.len() as u64).ok_or(err)?;
        if end > self.size {
            return Err(err);
        }
        for (i, b) in buf.iter_mut().enumerate() {
            let at = usize::try_from(offset).unwrap() + i;
            *b = self.head.get(at).copied().unwrap_or(0);
        }
        Ok(())
    }
}

fn kernel_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(kernel_dir().join(name)).expect(name);
    serde_json::from_str(&text).expect(name)
}

fn profile_for(kernel: &str) -> Profile {
    match kernel {
        "6.12" => Profile::NEWEST_X86_64,
        other => Profile::x86_64_for_release(other).expect("profile"),
    }
}

#[test]
fn probe_agrees_with_the_kernel_on_every_recorded_case() {
    let suite = load("suite.json");
    let recorded = load("recorded.json");
    let mut compared = 0;
    let mut failures = Vec::new();
    for case in suite["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let size = case["ns_size"].as_u64().expect("ns_size");
        let head = std::fs::read(kernel_dir().join(case["head"].as_str().expect("head")))
            .expect("case head");
        for (kernel, answer) in recorded["cases"][name].as_object().expect(name) {
            let ns = Namespace::labelless(NS_START, size);
            let mut reader = Head { head: &head, size };
            let got = probe(&mut reader, &ns, &profile_for(kernel)).expect("probe");
            let want_verdict = answer["verdict"].as_str().expect("verdict");
            let want_size = answer["dev_size"].as_u64();
            let want_data = answer["data_start_off"].as_u64();
            let got_size = match got.verdict {
                Verdict::Raw { .. } => None, // the harness reports dev_size only for a device
                v => v.dev_size(),
            };
            let got_data = match got.verdict {
                Verdict::Enabled(_) => got.verdict.data().map(|r| r.start),
                _ => None,
            };
            if got.verdict.name() != want_verdict || got_size != want_size || got_data != want_data
            {
                failures.push(format!(
                    "{name} on {kernel}: kernel {want_verdict} size {want_size:?} data at \
                     {want_data:?}; probe {} size {got_size:?} data at {got_data:?}",
                    got.verdict.name()
                ));
            }
            // Nothing in these heads is a BTT: the BTT always passes first.
            assert!(
                matches!(got.btt, Attempt::Passed(Why::Btt(_))),
                "{name}: {:?}",
                got.btt
            );
            compared += 1;
        }
    }
    assert!(compared >= 200, "only {compared} answers compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The raw bytes of a 256 MiB namespace holding a BTT laid out as the kernel does.
fn btt_256m(version: BttVersion, parent_uuid: Uuid) -> Vec<u8> {
    let mut image = vec![0u8; 256 << 20];
    let request = LayoutRequest {
        namespace_size: 256 << 20,
        lbasize: 4096,
        version,
        uuid: Uuid([0x42; 16]),
        parent_uuid,
    };
    create(&mut &mut image[..], &request).expect("create");
    image
}

#[test]
fn a_kernel_laid_out_btt_is_sector_mode_of_the_kernels_size() {
    let image = btt_256m(BttVersion::V1_1, Uuid::NIL);
    let ns = Namespace::labelless(NS_START, 256 << 20);
    let got = probe(&mut &image[..], &ns, &Profile::NEWEST_X86_64).expect("probe");
    let Verdict::Sector(sector) = got.verdict else {
        panic!("{got:?}");
    };
    // Linux 6.1 on this layout (kernel-harness README): one arena, external_nlba 65208.
    assert_eq!(sector.dev_size(), 65_208 * 4096);
    assert_eq!(sector.btt.arena_count, 1);
    assert_eq!(got.btt, Attempt::Claimed);
    // The pfn and dax drivers are never asked once the BTT holds the namespace.
    assert_eq!(got.pfn, Attempt::Passed(Why::Earlier(Driver::Btt)));
    assert_eq!(
        got.verdict.data(),
        None,
        "sector data is reached through the BTT"
    );
}

#[test]
fn a_bad_primary_info_block_makes_the_namespace_raw() {
    let mut image = btt_256m(BttVersion::V1_1, Uuid::NIL);
    image[4096 + 100] ^= 1; // a byte of the primary info block: its checksum fails
    let ns = Namespace::labelless(NS_START, 256 << 20);
    let got = probe(&mut &image[..], &ns, &Profile::NEWEST_X86_64).expect("probe");
    assert_eq!(got.verdict, Verdict::Raw { size: 256 << 20 });
    assert!(matches!(got.btt, Attempt::Passed(Why::Btt(_))), "{got:?}");
}

#[test]
fn claim_classes_choose_the_drivers_asked() {
    let labelled = Uuid([0x77; 16]);
    let v11 = btt_256m(BttVersion::V1_1, labelled);
    let v20 = btt_256m(BttVersion::V2_0, labelled);
    let ns = |claim| Namespace {
        start: NS_START,
        size: 256 << 20,
        uuid: labelled,
        claim,
        force_raw: false,
    };
    let verdict = |image: &[u8], claim| {
        probe(&mut &image[..], &ns(claim), &Profile::NEWEST_X86_64)
            .expect("probe")
            .verdict
            .name()
    };
    // nd_btt_version: BTT2 reads byte 0 and wants 2.0; none and btt read 4096 and want 1.1.
    assert_eq!(verdict(&v11, ClaimClass::None), "sector");
    assert_eq!(verdict(&v11, ClaimClass::Btt), "sector");
    assert_eq!(verdict(&v11, ClaimClass::Btt2), "raw");
    assert_eq!(verdict(&v20, ClaimClass::Btt2), "sector");
    assert_eq!(verdict(&v20, ClaimClass::None), "raw");
    // nd_btt_probe's switch: pfn, dax and unknown classes are never a BTT.
    for claim in [
        ClaimClass::Pfn,
        ClaimClass::Dax,
        ClaimClass::Unknown(Guid([0x5a; 16])),
    ] {
        assert_eq!(verdict(&v11, claim), "raw", "{claim}");
    }
    // force_raw: nobody is asked.
    let forced = Namespace {
        force_raw: true,
        ..ns(ClaimClass::None)
    };
    let got = probe(&mut &v11[..], &forced, &Profile::NEWEST_X86_64).expect("probe");
    assert_eq!(got.verdict.name(), "raw");
    assert_eq!(got.btt, Attempt::Passed(Why::ForceRaw));
    // The BTT's parent_uuid must be the namespace's: another uuid hides it.
    let other = Namespace {
        uuid: Uuid([0x78; 16]),
        ..ns(ClaimClass::None)
    };
    let got = probe(&mut &v11[..], &other, &Profile::NEWEST_X86_64).expect("probe");
    assert_eq!(got.verdict.name(), "raw");
}

/// The kernel suite's head for `name` and its namespace size.
fn suite_head(name: &str) -> (Vec<u8>, u64) {
    let suite = load("suite.json");
    let case = suite["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    let head = std::fs::read(kernel_dir().join(case["head"].as_str().expect("head"))).unwrap();
    (head, case["ns_size"].as_u64().unwrap())
}

#[test]
fn pfn_and_dax_blocks_are_seen_only_under_their_claim_class() {
    let recorded = load("recorded.json");
    // One fsdax and one devdax case the kernels enabled.
    let pick = |verdict: &str| {
        recorded["cases"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, k)| k["6.12"]["verdict"] == verdict)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| panic!("no {verdict} case"))
    };
    for (verdict, own, other) in [
        ("fsdax", ClaimClass::Pfn, ClaimClass::Dax),
        ("devdax", ClaimClass::Dax, ClaimClass::Pfn),
    ] {
        let name = pick(verdict);
        let (head, size) = suite_head(&name);
        let run = |claim| {
            let ns = Namespace {
                claim,
                ..Namespace::labelless(NS_START, size)
            };
            probe(
                &mut Head { head: &head, size },
                &ns,
                &Profile::NEWEST_X86_64,
            )
            .unwrap()
        };
        assert_eq!(run(ClaimClass::None).verdict.name(), verdict, "{name}");
        assert_eq!(run(own).verdict.name(), verdict, "{name}");
        for claim in [
            other,
            ClaimClass::Btt,
            ClaimClass::Btt2,
            ClaimClass::Unknown(Guid([0x5a; 16])),
        ] {
            assert_eq!(run(claim).verdict.name(), "raw", "{name} under {claim}");
        }
        // A devdax block: nd_pfn_probe ran first and passed on the DAX signature.
        if verdict == "devdax" {
            let got = run(ClaimClass::None);
            assert!(
                got.pfn == Attempt::Passed(Why::OtherDriver(Driver::Dax)),
                "{got:?}"
            );
            assert_eq!(got.dax, Attempt::Claimed);
        }
    }
}

#[test]
fn impossible_namespaces_and_short_readers_are_errors_not_panics() {
    let ns = Namespace::labelless(NS_START, 0);
    assert!(probe(&mut &[][..], &ns, &Profile::NEWEST_X86_64).is_err());
    let ns = Namespace::labelless(u64::MAX - 10, 4096 * 4);
    assert!(probe(&mut &[][..], &ns, &Profile::NEWEST_X86_64).is_err());
    // A namespace that claims 32 MiB but whose reader holds 6 KiB: the read of the BTT info
    // block at 4096 fails, and that is the reader's error.
    let ns = Namespace::labelless(NS_START, 32 << 20);
    let short = [0u8; 6144];
    assert!(probe(&mut &short[..], &ns, &Profile::NEWEST_X86_64).is_err());
    // A 6 KiB namespace: too small for any block; the kernel uses it raw.
    let ns = Namespace::labelless(NS_START, 6144);
    let got = probe(&mut &short[..], &ns, &Profile::NEWEST_X86_64).unwrap();
    assert_eq!(got.verdict, Verdict::Raw { size: 6144 });
}

/// A BTT whose info block is valid (signature, checksum) but whose numbers break a rule the
/// kernel never checks: `discover_arenas` copies `internal_nlba` without comparing it with
/// `external_nlba + nfree` (btt.c), so the kernel attaches it. probe says sector, with no
/// predicted size; a zeroed flog instead fails `log_set_indices` (-ENXIO): rejected at enable.
#[test]
fn a_btt_the_kernel_attaches_unchecked_is_sector_without_a_size() {
    use nvdimm_infoblock::btt::raw::BttSb;
    use zerocopy::FromBytes;
    let mut image = btt_256m(BttVersion::V1_1, Uuid::NIL);
    let ns = Namespace::labelless(NS_START, 256 << 20);
    {
        let sb = BttSb::mut_from_bytes(&mut image[4096..8192]).unwrap();
        let n = sb.internal_nlba.get();
        sb.internal_nlba.set(n + 1);
        sb.update_checksum();
    }
    let got = probe(&mut &image[..], &ns, &Profile::NEWEST_X86_64).expect("probe");
    assert!(
        matches!(got.verdict, Verdict::SectorUnchecked { .. }),
        "{got:?}"
    );
    assert_eq!(got.verdict.name(), "sector");
    assert_eq!((got.verdict.dev_size(), got.verdict.data()), (None, None));

    let mut image = btt_256m(BttVersion::V1_1, Uuid::NIL);
    let sb = BttSb::read_from_bytes(&image[4096..8192]).unwrap();
    let logoff = 4096 + sb.logoff.get() as usize;
    let info2off = 4096 + sb.info2off.get() as usize;
    image[logoff..info2off].fill(0);
    let got = probe(&mut &image[..], &ns, &Profile::NEWEST_X86_64).expect("probe");
    assert!(
        matches!(
            got.verdict,
            Verdict::Rejected {
                driver: Driver::Btt,
                ..
            }
        ),
        "{got:?}"
    );
}

/// `nd_pmem_probe` first calls `nvdimm_namespace_common_probe`, which refuses a namespace
/// whose capacity is below `ND_MIN_NAMESPACE_SIZE` (`-ENODEV`): no driver is asked, not even
/// raw, and `force_raw` does not matter. The constant is `PAGE_SIZE` in Linux 6.x
/// (`include/linux/ndctl.h`: `ND_MIN_NAMESPACE_SIZE = PAGE_SIZE`) and was `0x00400000` in
/// `include/uapi/linux/ndctl.h` until commit f2ba5a5baecf ("make min namespace size 4K",
/// Linux 4.15; the LCOW kernels still patched 4.14 for it). So:
/// * 6.x x86_64: PAGE_SIZE = 4096: 4095 bytes are refused; 4096 bytes pass it, and are
///   raw (the pfn/dax block at 4096 needs 4096 + 4096 = 8192 bytes; the BTT 16 MiB).
/// * 6.x with 64 KiB pages (ppc64, arm64-64k): 65536 - 4096 = 61440 bytes are refused.
/// * 4.14 (4.7 era): 0x400000 = 4 MiB: 4 MiB - 4096 = 4190208 bytes are refused, 4 MiB is raw;
///   4.15: 4096 bytes are raw.
#[test]
fn namespaces_under_nd_min_namespace_size_are_refused_before_any_driver() {
    use nvdimm_infoblock::pfn::profile::{Era, Platform};
    use nvdimm_infoblock::pfn::validate::Stage;
    use nvdimm_infoblock::probe::MinSize;

    let refused = |size: u64, profile: &Profile, min: u64| {
        let zeros = vec![0u8; size as usize];
        for force_raw in [false, true] {
            let mut ns = Namespace::labelless(NS_START, size);
            ns.force_raw = force_raw;
            let got = probe(&mut &zeros[..], &ns, profile).unwrap();
            assert_eq!(
                got.verdict,
                Verdict::Rejected {
                    driver: Driver::Pmem,
                    stage: Stage::Validate,
                    why: Why::TooSmall {
                        size,
                        min,
                        rule: MinSize::Namespace
                    },
                },
                "{size} under {}",
                profile.name()
            );
            assert_eq!(got.verdict.name(), "rejected");
            assert_eq!(got.verdict.dev_size(), None);
            for a in [got.btt, got.pfn, got.dax] {
                assert_eq!(a, Attempt::Passed(Why::Earlier(Driver::Pmem)));
            }
        }
    };
    let raw = |size: u64, profile: &Profile| {
        let zeros = vec![0u8; size as usize];
        let ns = Namespace::labelless(NS_START, size);
        let got = probe(&mut &zeros[..], &ns, profile).unwrap();
        assert_eq!(
            got.verdict,
            Verdict::Raw { size },
            "{size} under {}",
            profile.name()
        );
    };

    let newest = Profile::NEWEST_X86_64;
    refused(4095, &newest, 4096);
    refused(1, &newest, 4096);
    raw(4096, &newest);
    // 4096 bytes pass nd_pmem's check; the pfn driver cannot read its block at 4096.
    let got = probe(
        &mut &[0u8; 4096][..],
        &Namespace::labelless(NS_START, 4096),
        &newest,
    )
    .unwrap();
    assert_eq!(
        got.pfn,
        Attempt::Passed(Why::TooSmall {
            size: 4096,
            min: 8192,
            rule: MinSize::InfoBlock
        })
    );

    let ppc = Profile::new(Era::V6_5, Platform::PPC64_HASH);
    refused(61_440, &ppc, 65_536);
    raw(65_536, &ppc);
    let arm = Profile::new(Era::V6_1, Platform::ARM64_64K);
    refused(61_440, &arm, 65_536);

    let old = Profile::x86_64_for_release("4.14").unwrap();
    refused(4_190_208, &old, 0x40_0000);
    raw(0x40_0000, &old);
    let v415 = Profile::x86_64_for_release("4.15").unwrap();
    refused(4095, &v415, 4096);
    raw(4096, &v415);
}
