//! `LabelArea::namespaces` against a reference written here from the kernel's rules, read
//! literally and with no attempt at speed: every pair of labels compared, every search a scan
//! of the active labels in slot order (`scan_labels`, `nd_label_reserve_dpa`,
//! `create_namespace_pmem`, `has_uuid_at_pos`, `select_pmem_id`, `add_namespace_resource`
//! in drivers/nvdimm/namespace_devs.c and label.c). The two must agree on the count, the
//! namespaces, the failure and every finding, for areas built with duplicate uuids, overlapping
//! and wrapping DPA ranges, bad checksums and slot numbers, `UPDATING` flags, interleaved
//! labels, foreign cookies and type GUIDs, then mutated byte by byte.

use nvdimm_infoblock::label::raw::{Guid, PMEM_TYPE_GUID};
use nvdimm_infoblock::label::{
    self, Findings, InitStyle, Label, LabelArea, LabelVersion, Namespace, Region, RegionFailure,
};
use nvdimm_infoblock::nd_fletcher64;
use proptest::prelude::*;

const COOKIE: u64 = 0x00ba_9012_0012_b4dc;
const ALT: u64 = 0x1111_2222_3333_4444;
const NSLABEL_FLAG_UPDATING: u32 = 0x8;
const OTHER_GUID: Guid = Guid([0x5a; 16]);

/// The kernel's rules, pairwise. Returns the namespaces made, the failure and the findings.
fn reference(
    area: &LabelArea<'_>,
    region: &Region,
    cap: usize,
) -> (Vec<Namespace>, Option<RegionFailure>, Findings) {
    let mut f = Findings {
        bad_index: [0u8, 1]
            .into_iter()
            .find_map(|p| area.index_status(p).err().map(|e| (p, e))),
        ..Findings::default()
    };
    let v12 = area.version() == LabelVersion::V1_2;
    // nd_label_active: in use in the current index, and slot_valid (slot field, v1.2 sum).
    let mut active: Vec<Label> = Vec::new();
    for slot in 0..area.current_info().nslot {
        if area.is_free(slot) {
            continue;
        }
        let Some(bytes) = area.slot_bytes(slot) else {
            f.slot_mismatch += 1;
            continue;
        };
        let l = Label::read(bytes, area.version()).unwrap();
        if l.slot != slot {
            f.slot_mismatch += 1;
            continue;
        }
        if v12 {
            let mut copy = bytes.to_vec();
            copy[248..256].fill(0);
            if nd_fletcher64(&copy) != u64::from_le_bytes(bytes[248..256].try_into().unwrap()) {
                f.bad_checksum += 1;
                continue;
            }
        }
        active.push(l);
    }
    for (i, l) in active.iter().enumerate() {
        if l.flags & NSLABEL_FLAG_UPDATING != 0 {
            f.updating += 1;
        }
        if l.nlabel != 1 || l.position != 0 {
            f.interleaved += 1;
        }
        if active[..i].iter().any(|e| e.uuid == l.uuid) {
            f.duplicate_uuid += 1;
        }
    }
    // nd_label_reserve_dpa: __request_region(dpa, rawsize) in slot order; the inclusive end
    // dpa + rawsize - 1 is u64 arithmetic, refused below the start, and busy if it overlaps
    // a range requested before.
    let span = |l: &Label| {
        let end = l.dpa.wrapping_add(l.rawsize).wrapping_sub(1);
        (end >= l.dpa).then_some((l.dpa, end))
    };
    for (i, l) in active.iter().enumerate() {
        let refused = match span(l) {
            None => true,
            Some((s, e)) => active[..i]
                .iter()
                .filter_map(span)
                .any(|(s2, e2)| s <= e2 && s2 <= e),
        };
        if refused {
            return (vec![], Some(RegionFailure::DpaConflict { slot: l.slot }), f);
        }
    }
    let cookie_ok = |c: Option<u64>, l: &Label| c.map_or(true, |c| c == l.isetcookie);
    let type_ok = |l: &Label| match (region.type_guid, l.type_guid) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    let has_uuid_at_pos0 = |uuid, cookie: Option<u64>| {
        let mut found = false;
        for l in active.iter().filter(|l| l.uuid == uuid) {
            if !cookie_ok(cookie, l) || !type_ok(l) {
                continue;
            }
            if found {
                return false;
            }
            found = true;
            if l.nlabel == 1 && l.position == 0 {
                return true;
            }
        }
        false
    };
    let mut made: Vec<Namespace> = Vec::new();
    for l in &active {
        if let Some((start, size)) = region.dpa_range {
            let map_end = start.wrapping_add(size).wrapping_sub(1);
            if l.dpa < start || l.dpa > map_end {
                f.outside_dimm += 1;
                continue;
            }
        }
        let fail = |e| (vec![], Some(e), f);
        if made.iter().any(|n| n.uuid == l.uuid) {
            return fail(RegionFailure::ConflictingExtents { uuid: l.uuid });
        }
        if region.isetcookie == Some(0) {
            return fail(RegionFailure::NoCookie);
        }
        if !cookie_ok(region.isetcookie, l) && region.altcookie != Some(l.isetcookie) {
            f.cookie_mismatch += 1;
            continue;
        }
        let at = has_uuid_at_pos0(l.uuid, region.isetcookie)
            || region
                .altcookie
                .is_some_and(|a| has_uuid_at_pos0(l.uuid, Some(a)));
        if !at {
            return fail(RegionFailure::MissingLabel { uuid: l.uuid });
        }
        let label0 = active.iter().find(|e| e.uuid == l.uuid).unwrap();
        if let Some((hw_start, size)) = region.dpa_range {
            let hw_end = hw_start.wrapping_add(size);
            let (s, e) = (label0.dpa, label0.dpa.wrapping_add(label0.rawsize));
            if !(s >= hw_start && s < hw_end && e <= hw_end && e > hw_start) {
                return fail(RegionFailure::InvalidRange { uuid: l.uuid });
            }
        }
        if label0.position != 0 {
            return fail(RegionFailure::NoPositionZero { uuid: l.uuid });
        }
        if made.len() == cap {
            return fail(RegionFailure::OutputFull { capacity: cap });
        }
        made.push(Namespace::from(label0));
    }
    (made, None, f)
}

/// Both answers for `area` (when it parses) and `region`, with an output of `cap` entries.
fn agree(area: &[u8], region: &Region, cap: usize) -> Result<(), TestCaseError> {
    let Ok(parsed) = LabelArea::parse(area) else {
        return Ok(());
    };
    let mut out = vec![Namespace::EMPTY; cap];
    let scan = parsed.namespaces(region, &mut out);
    let (want, failure, findings) = reference(&parsed, region, cap);
    prop_assert_eq!(scan.failure, failure);
    prop_assert_eq!(scan.findings, findings);
    prop_assert_eq!(&out[..scan.count], &want[..]);
    Ok(())
}

/// What to write into one slot.
#[derive(Clone, Debug)]
struct Spec {
    slot: u32,
    uuid: u16,
    /// `None`: `slot << 21`.
    dpa: Option<u64>,
    rawsize: u64,
    flags: u32,
    nlabel: u16,
    position: u16,
    cookie: u64,
    guid: Guid,
    wrong_slot: bool,
    bad_sum: bool,
}

fn any_spec(nslot: u32, uuids: u16) -> impl Strategy<Value = Spec> {
    (
        0..nslot,
        0..uuids,
        // Mostly a range of its own (2 MiB per slot), so that most scans get past
        // nd_label_reserve_dpa to the per-uuid rules.
        prop_oneof![
            12 => Just(None),
            2 => (0u64..64).prop_map(|p| Some(p << 20)),
            1 => any::<u64>().prop_map(Some),
            1 => Just(Some(u64::MAX - 4095)),
        ],
        prop_oneof![
            12 => Just(1u64 << 20),
            1 => (0u64..4).prop_map(|p| p << 21),
            // One byte into the next slot's range (inclusive ends meet).
            1 => Just((1u64 << 21) + 1),
            1 => any::<u64>(),
        ],
        prop_oneof![4 => Just(0u32), 1 => Just(NSLABEL_FLAG_UPDATING), 1 => any::<u32>()],
        prop_oneof![3 => Just((1u16, 0u16)), 1 => (0u16..3, 0u16..3)],
        prop_oneof![3 => Just(COOKIE), 2 => Just(ALT), 1 => Just(0u64), 1 => any::<u64>()],
        prop_oneof![4 => Just(PMEM_TYPE_GUID), 1 => Just(OTHER_GUID)],
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |(slot, uuid, dpa, rawsize, flags, (nlabel, position), cookie, guid, ws, bs)| Spec {
                slot,
                uuid,
                dpa,
                rawsize,
                flags,
                nlabel,
                position,
                cookie,
                guid,
                wrong_slot: ws,
                bad_sum: bs,
            },
        )
}

/// An initialised area of `size` bytes with the labels of `specs` written into their slots
/// and marked in use in both indexes (whose checksums are then fixed).
fn build(size: usize, v: LabelVersion, style: InitStyle, specs: &[Spec]) -> Vec<u8> {
    let mut area = vec![0u8; size];
    label::init(size, v, style)
        .unwrap()
        .apply_in_place(&mut area)
        .unwrap();
    let g = LabelArea::parse(&area).unwrap().geometry();
    let lsize = v.label_size() as usize;
    let isize = g.index_size as usize;
    for s in specs {
        let off = g.labeloff() as usize + s.slot as usize * lsize;
        let b = &mut area[off..off + lsize];
        b.fill(0);
        let [hi, lo] = s.uuid.to_be_bytes();
        b[..16].copy_from_slice(&[lo.wrapping_add(1); 16]);
        b[14] = hi;
        b[15] = lo;
        b[16..20].copy_from_slice(b"name");
        b[80..84].copy_from_slice(&s.flags.to_le_bytes());
        b[84..86].copy_from_slice(&s.nlabel.to_le_bytes());
        b[86..88].copy_from_slice(&s.position.to_le_bytes());
        b[88..96].copy_from_slice(&s.cookie.to_le_bytes());
        let dpa = s.dpa.unwrap_or(u64::from(s.slot) << 21);
        b[104..112].copy_from_slice(&dpa.to_le_bytes());
        b[112..120].copy_from_slice(&s.rawsize.to_le_bytes());
        let slot = s.slot.wrapping_add(u32::from(s.wrong_slot));
        b[120..124].copy_from_slice(&slot.to_le_bytes());
        if v == LabelVersion::V1_2 {
            b[128..144].copy_from_slice(&s.guid.0);
            let sum = nd_fletcher64(b).wrapping_add(u64::from(s.bad_sum));
            b[248..256].copy_from_slice(&sum.to_le_bytes());
        }
        for index in [0, isize] {
            let byte = index + 72 + s.slot as usize / 8;
            area[byte] &= !(1u8 << (s.slot % 8));
        }
    }
    fix_indexes(&mut area, isize);
    area
}

fn fix_indexes(area: &mut [u8], isize: usize) {
    for off in [0, isize] {
        area[off + 64..off + 72].fill(0);
        let sum = nd_fletcher64(&area[off..off + isize]);
        area[off + 64..off + 72].copy_from_slice(&sum.to_le_bytes());
    }
}

fn any_region() -> impl Strategy<Value = Region> {
    (
        prop_oneof![
            4 => Just(Some(COOKIE)),
            1 => Just(None),
            1 => Just(Some(0u64)),
            1 => Just(Some(ALT)),
        ],
        prop_oneof![Just(None), Just(Some(ALT)), Just(Some(COOKIE))],
        prop_oneof![Just(None), Just(Some(PMEM_TYPE_GUID)), Just(Some(OTHER_GUID))],
        prop_oneof![
            2 => Just(None),
            1 => Just(Some((0u64, 1u64 << 30))),
            1 => ((0u64..64).prop_map(|p| p << 20), (0u64..64).prop_map(|p| p << 20)).prop_map(Some),
            1 => (any::<u64>(), any::<u64>()).prop_map(Some),
        ],
    )
        .prop_map(|(isetcookie, altcookie, type_guid, dpa_range)| Region {
            isetcookie,
            altcookie,
            type_guid,
            dpa_range,
        })
}

fn any_version() -> impl Strategy<Value = LabelVersion> {
    prop_oneof![Just(LabelVersion::V1_1), Just(LabelVersion::V1_2)]
}

fn any_style() -> impl Strategy<Value = InitStyle> {
    prop_oneof![Just(InitStyle::Kernel), Just(InitStyle::Ndctl)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// 128 KiB areas with up to 80 labels over few uuids (many duplicates and overlaps).
    #[test]
    fn scan_matches_reference(
        v in any_version(),
        style in any_style(),
        uuids in 1u16..12,
        specs in proptest::collection::vec(any_spec(500, 40), 0..80),
        region in any_region(),
        cap in prop_oneof![Just(1024usize), 0usize..6],
    ) {
        let specs: Vec<Spec> = specs.into_iter().map(|mut s| { s.uuid %= uuids; s }).collect();
        let area = build(128 << 10, v, style, &specs);
        agree(&area, &region, cap)?;
    }

    /// A few labels over one to four uuids: the per-uuid rules (`has_uuid_at_pos` with
    /// either cookie, `select_pmem_id`, conflicting extents) reached most of the time.
    #[test]
    fn few_labels_match_reference(
        v in any_version(),
        uuids in 1u16..5,
        specs in proptest::collection::vec(any_spec(16, 5), 1..8),
        region in any_region(),
        cap in prop_oneof![Just(16usize), 0usize..3],
    ) {
        let specs: Vec<Spec> = specs.into_iter().map(|mut s| { s.uuid %= uuids; s }).collect();
        let area = build(128 << 10, v, InitStyle::Kernel, &specs);
        agree(&area, &region, cap)?;
    }

    /// Areas whose labels ascend in DPA slot by slot (as `add` lays them out), so that most
    /// scans make namespaces, then some bytes changed (with or without the index sums fixed).
    #[test]
    fn scan_matches_reference_mutated(
        v in any_version(),
        n in 0u32..500,
        edits in proptest::collection::vec((512usize..(128 << 10), any::<u8>()), 0..12),
        swaps in proptest::collection::vec((0u32..500, 0u32..500), 0..3),
        fix in any::<bool>(),
        region in any_region(),
    ) {
        let mut specs: Vec<Spec> = (0..n)
            .map(|i| Spec {
                slot: i,
                uuid: i as u16,
                dpa: Some(u64::from(i) << 21),
                rawsize: 1 << 21,
                flags: 0,
                nlabel: 1,
                position: 0,
                cookie: COOKIE,
                guid: PMEM_TYPE_GUID,
                wrong_slot: false,
                bad_sum: false,
            })
            .collect();
        for (a, b) in swaps {
            if a < n && b < n {
                let (da, db) = (specs[a as usize].dpa, specs[b as usize].dpa);
                specs[a as usize].dpa = db;
                specs[b as usize].dpa = da;
            }
        }
        let mut area = build(128 << 10, v, InitStyle::Kernel, &specs);
        for (at, b) in edits {
            area[at] = b;
        }
        if fix {
            fix_indexes(&mut area, 256);
        }
        agree(&area, &region, 1024)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Areas with more than 1024 active labels (1 MiB, v1.1: 8124 slots), which the scan
    /// handles pairwise.
    #[test]
    fn large_areas_match_reference(
        n in 1025u32..1300,
        dup in 0u32..1300,
        overlap in prop::bool::weighted(0.3),
        region in any_region(),
    ) {
        let specs: Vec<Spec> = (0..n)
            .map(|i| Spec {
                slot: i * 3,
                uuid: if i == dup { 0 } else { i as u16 },
                dpa: Some(if overlap && i == dup { 0 } else { u64::from(i) << 21 }),
                rawsize: 1 << 21,
                flags: 0,
                nlabel: 1,
                position: 0,
                cookie: COOKIE,
                guid: PMEM_TYPE_GUID,
                wrong_slot: false,
                bad_sum: false,
            })
            .collect();
        let area = build(1 << 20, LabelVersion::V1_1, InitStyle::Kernel, &specs);
        agree(&area, &region, 2048)?;
    }
}
