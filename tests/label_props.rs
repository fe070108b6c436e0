//! Properties of the label area code: nothing panics on random or mutated areas, and on
//! well-formed areas every change reads back as the kernel would see it.

use nvdimm_infoblock::label::{
    self, InitStyle, LabelArea, LabelVersion, Namespace, NewLabel, Region,
};
use nvdimm_infoblock::{nd_fletcher64, Uuid};
use proptest::prelude::*;

const COOKIE: u64 = 0x00ba_9012_0012_b4dc;

/// Everything a reader and a writer can be asked about an area; must never panic.
fn exercise(area: &[u8]) {
    let Ok(parsed) = LabelArea::parse(area) else {
        return;
    };
    let _ = parsed.nfree();
    for (slot, label) in parsed.slots() {
        let _ = (slot, label.map(|l| l.name_str().map(str::len)));
    }
    let mut out = [Namespace::EMPTY; 4];
    for region in [
        Region::default(),
        Region {
            isetcookie: Some(COOKIE),
            altcookie: Some(0),
            type_guid: Some(label::raw::PMEM_TYPE_GUID),
            dpa_range: Some((0, 1 << 30)),
        },
    ] {
        let _ = parsed.namespaces(&region, &mut out);
    }
    let new = NewLabel::new(Uuid([0xee; 16]), "p", 1 << 40, 1 << 20, COOKIE).unwrap();
    let mut copy = area.to_vec();
    for plan in [
        label::add(&parsed, &new),
        label::update(&parsed, &new),
        label::remove(&parsed, out[0].uuid),
    ]
    .into_iter()
    .flatten()
    {
        let _ = plan.writes().count();
        let _ = plan.apply_in_place(&mut copy);
    }
}

/// Recomputes both index checksums (256-byte indexes of a 128 KiB area).
fn fix(area: &mut [u8]) {
    for off in [0usize, 256] {
        area[off + 64..off + 72].fill(0);
        let sum = nd_fletcher64(&area[off..off + 256]);
        area[off + 64..off + 72].copy_from_slice(&sum.to_le_bytes());
    }
}

/// A 128 KiB area with up to `n` namespaces added through the library.
fn populated(v: LabelVersion, style: InitStyle, sizes: &[(u8, u64)]) -> Vec<u8> {
    let mut area = vec![0u8; 128 << 10];
    label::init(area.len(), v, style)
        .unwrap()
        .apply_in_place(&mut area)
        .unwrap();
    let mut dpa = 0u64;
    for &(id, pages) in sizes {
        let size = (pages + 1) * 4096;
        let new = NewLabel::new(Uuid([id; 16]), "n", dpa, size, COOKIE).unwrap();
        let parsed = LabelArea::parse(&area).unwrap();
        if let Ok(plan) = label::add(&parsed, &new) {
            plan.apply_in_place(&mut area).unwrap();
        }
        dpa += size;
    }
    area
}

fn any_version() -> impl Strategy<Value = LabelVersion> {
    prop_oneof![Just(LabelVersion::V1_1), Just(LabelVersion::V1_2)]
}

fn any_style() -> impl Strategy<Value = InitStyle> {
    prop_oneof![Just(InitStyle::Kernel), Just(InitStyle::Ndctl)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        exercise(&bytes);
    }

    /// A valid area with random bytes changed, with or without the index checksums fixed
    /// afterwards (so that the fields behind the checksum are reached), and truncated.
    #[test]
    fn mutated_areas_never_panic(
        v in any_version(),
        style in any_style(),
        sizes in proptest::collection::vec((1u8..6, 0u64..64), 0..5),
        edits in proptest::collection::vec((0usize..(128 << 10), any::<u8>()), 1..24),
        header_edits in proptest::collection::vec((0usize..72, any::<u8>()), 0..4),
        fix_sums in any::<bool>(),
        cut in prop_oneof![Just(128usize << 10), 0usize..(128 << 10)],
    ) {
        let mut area = populated(v, style, &sizes);
        for (at, b) in edits {
            area[at] = b;
        }
        for (at, b) in header_edits {
            area[at] = b;
            area[256 + at] = b;
        }
        if fix_sums {
            fix(&mut area);
        }
        exercise(&area[..cut]);
    }

    /// On a well-formed area, `add` of a new uuid in free DPA space makes exactly one more
    /// namespace and keeps the others; `remove` takes it away again.
    #[test]
    fn add_then_remove_reads_back(
        v in any_version(),
        style in any_style(),
        sizes in proptest::collection::vec((1u8..6, 0u64..64), 0..5),
        name in "[a-z]{0,63}",
        pages in 1u64..1000,
    ) {
        let mut area = populated(v, style, &sizes);
        let region = Region { isetcookie: Some(COOKIE), ..Region::default() };
        let listed = |area: &[u8]| {
            let mut out = [Namespace::EMPTY; 8];
            let s = LabelArea::parse(area).unwrap().namespaces(&region, &mut out);
            prop_assert_eq!(s.failure, None);
            let mut v: Vec<_> = out[..s.count].iter().map(|n| (n.uuid, n.dpa, n.rawsize)).collect();
            v.sort();
            Ok(v)
        };
        let before = listed(&area)?;
        let uuid = Uuid([0x99; 16]);
        let new = NewLabel::new(uuid, &name, 1 << 40, pages * 4096, COOKIE).unwrap();
        label::add(&LabelArea::parse(&area).unwrap(), &new).unwrap().apply_in_place(&mut area).unwrap();
        let mut want = before.clone();
        want.push((uuid, 1 << 40, pages * 4096));
        want.sort();
        prop_assert_eq!(listed(&area)?, want);
        let mut out = [Namespace::EMPTY; 8];
        let parsed = LabelArea::parse(&area).unwrap();
        let s = parsed.namespaces(&region, &mut out);
        let ours = out[..s.count].iter().find(|n| n.uuid == uuid).unwrap();
        prop_assert_eq!(ours.name_str(), Some(name.as_str()));
        label::remove(&parsed, uuid).unwrap().apply_in_place(&mut area).unwrap();
        prop_assert_eq!(listed(&area)?, before);
    }
}
