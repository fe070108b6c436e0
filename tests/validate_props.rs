//! Properties of the validator over arbitrary blocks, namespaces and profiles.

use nvdimm_infoblock::profile::{Era, Platform};
use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath, Stage};
use nvdimm_infoblock::{DeviceKind, InfoBlock, Mode, PfnInfo, Profile, Uuid, Version};
use proptest::prelude::*;

fn profile() -> impl Strategy<Value = Profile> {
    (0..Era::ALL.len(), 0..Platform::ALL.len())
        .prop_map(|(e, p)| Profile::new(Era::ALL[e], Platform::ALL[p]))
}

/// Values near the edges that matter: powers of two, their neighbours, and anything.
fn edgy() -> impl Strategy<Value = u64> {
    prop_oneof![
        (0u32..64).prop_map(|k| 1u64 << k),
        (0u32..64, -2i64..=2).prop_map(|(k, d)| (1u64 << k).wrapping_add_signed(d)),
        any::<u64>(),
        (0u64..4096).prop_map(|x| x << 20),
    ]
}

fn block() -> impl Strategy<Value = PfnInfo> {
    (
        any::<bool>(),
        0u16..6,
        edgy(),
        any::<u64>(),
        0u32..4,
        (edgy(), edgy(), edgy()),
        prop_oneof![Just(4096u32), Just(65536), any::<u32>()],
        prop_oneof![Just(64u16), Just(128), any::<u16>()],
    )
        .prop_map(
            |(dax, minor, dataoff, npfns, mode, (sp, et, al), ps, pss)| PfnInfo {
                kind: if dax {
                    DeviceKind::Devdax
                } else {
                    DeviceKind::Fsdax
                },
                uuid: Uuid([3; 16]),
                parent_uuid: Uuid::NIL,
                flags: 0,
                version: Version::new(1, minor),
                dataoff,
                npfns,
                mode: Mode(mode),
                start_pad: u32::try_from(sp & 0xffff_ffff).unwrap(),
                end_trunc: u32::try_from(et & 0xffff_ffff).unwrap(),
                align: u32::try_from(al & 0xffff_ffff).unwrap(),
                page_size: ps,
                page_struct_size: pss,
                min_version: None,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// No input panics; an enabled device reports exactly the kernel's sysfs formulas
    /// (FORMAT.md §5.2: size = ns - pad - trunc - dataoff, resource = start + pad + dataoff,
    /// both in wrapping u64 as the kernel prints them).
    #[test]
    fn never_panics_and_sizes_follow_sysfs(
        info in block(), start in edgy(), size in edgy(), profile in profile(),
    ) {
        let b = info.to_block().unwrap();
        let ns = Namespace::labelless(start, size);
        match check(&b, &ns, &ProbePath::Probe, &profile) {
            Err(_) => prop_assert!(size == 0 || start.checked_add(size - 1).is_none()),
            Ok(Outcome::Enabled(e)) => {
                let parsed = PfnInfo::parse(&b, &nvdimm_infoblock::ParseOptions {
                    page_size: u32::try_from(profile.platform.page_size).unwrap(),
                    dialect: nvdimm_infoblock::DialectChoice::Upstream,
                    verify_checksum: true,
                }).unwrap();
                let pads = u64::from(parsed.start_pad).wrapping_add(u64::from(parsed.end_trunc));
                prop_assert_eq!(e.dev_size, size.wrapping_sub(pads).wrapping_sub(parsed.dataoff));
                prop_assert_eq!(
                    e.dev_resource,
                    start.wrapping_add(u64::from(parsed.start_pad)).wrapping_add(parsed.dataoff)
                );
                prop_assert!(parsed.dataoff < size, "§3.7 step 15 passed");
                prop_assert!(e.mode == Mode::RAM || e.mode == Mode::PMEM);
            }
            Ok(Outcome::Raw { reason, errno }) => {
                prop_assert_eq!(reason.stage(), Stage::Validate);
                prop_assert_ne!(errno.code(), -95, "-EOPNOTSUPP never falls back to raw");
            }
            Ok(Outcome::Rejected { stage, reason, errno }) => {
                prop_assert_eq!(reason.stage(), stage);
                prop_assert_eq!(reason.errno(&profile.rules), errno);
            }
        }
    }

    /// Any byte pattern at all: never panics.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 4096), start in edgy(), size in edgy(),
        profile in profile(),
    ) {
        let b = InfoBlock::from_bytes(&bytes).unwrap();
        let _ = check(b, &Namespace::labelless(start, size), &ProbePath::Probe, &profile);
    }
}
