//! The label code against areas the real kernel wrote (Linux 6.1.0-57 and 6.12.95 under the
//! kernel harness, `-L 128K`; fixtures and provenance in `tests/data/labels/README.md`).
//!
//! * Reading: the namespaces the reader finds are the ones both kernels showed after a reboot
//!   (sysfs uuid, alt_name, size, resource − region start = dpa).
//! * Writing: the same sequence of writes the kernel made, done with this crate from the
//!   previous step's area, gives the kernel's bytes exactly.

use nvdimm_infoblock::label::{
    self, InitStyle, LabelArea, LabelVersion, Namespace, NewLabel, Region,
};
use nvdimm_infoblock::Uuid;

/// `region0/set_cookie` shown by the guest (0xba90120012b4dc).
const COOKIE: u64 = 0x00ba_9012_0012_b4dc;
/// Region start (`region0/resource`): namespace resource − this = dpa on the one DIMM.
const REGION_START: u64 = 0x1_0000_0000;
/// Region size (`region0/size`).
const REGION_SIZE: u64 = 536_870_912;

/// A fixture: the first 4 KiB of the 128 KiB area, padded with the zeros the rest held.
fn area(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/labels/{name}.lsa4k",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    bytes.resize(128 << 10, 0);
    bytes
}

fn region() -> Region {
    Region {
        isetcookie: Some(COOKIE),
        altcookie: None,
        type_guid: Some(label::raw::PMEM_TYPE_GUID),
        dpa_range: Some((0, REGION_SIZE)),
    }
}

fn namespaces(bytes: &[u8]) -> Vec<(Uuid, String, u64, u64)> {
    let parsed = LabelArea::parse(bytes).unwrap();
    let mut out = [Namespace::EMPTY; 8];
    let scan = parsed.namespaces(&region(), &mut out);
    assert_eq!(scan.failure, None);
    let mut v: Vec<_> = out[..scan.count]
        .iter()
        .map(|n| {
            (
                n.uuid,
                n.name_str().unwrap().to_owned(),
                REGION_START + n.dpa,
                n.rawsize,
            )
        })
        .collect();
    v.sort_by_key(|n| n.2);
    v
}

fn alpha() -> NewLabel {
    let uuid = "11111111-2222-4333-8444-555555555555".parse().unwrap();
    NewLabel::new(uuid, "alpha", 0, 134_217_728, COOKIE).unwrap()
}

fn beta() -> NewLabel {
    let uuid = "22222222-3333-4444-8555-666666666666".parse().unwrap();
    NewLabel::new(uuid, "beta", 0x800_0000, 67_108_864, COOKIE).unwrap()
}

/// What the guest's sysfs writes do to the labels (`nd_namespace_label_update`): writing
/// `uuid`, then `alt_name`, to a seed of size 0 runs `del_labels` (nothing to free, the next
/// index rewritten: dmesg "no more active labels" twice), then writing `size` runs the two
/// passes of `nd_pmem_namespace_label_update` (dmesg "allocated: 0", "allocated: 1",
/// "free: 0" for the first namespace).
fn create_through_sysfs(before: &[u8], new: &NewLabel) -> Vec<u8> {
    let mut bytes = before.to_vec();
    for _ in 0..2 {
        label::touch(&LabelArea::parse(&bytes).unwrap())
            .unwrap()
            .apply_in_place(&mut bytes)
            .unwrap();
    }
    label::add(&LabelArea::parse(&bytes).unwrap(), new)
        .unwrap()
        .apply_in_place(&mut bytes)
        .unwrap();
    bytes
}

/// s0: the empty pair the harness wrote (its `lsa.py init`, which the kernel accepted: the
/// region became label-capable with no namespace, "discovered 0 namespaces"). Our kernel-style
/// init writes the same 128 KiB byte for byte.
#[test]
fn init_equals_the_accepted_empty_pair() {
    let s0 = area("s0-init");
    let mut ours = vec![0u8; 128 << 10];
    label::init(ours.len(), LabelVersion::V1_2, InitStyle::Kernel)
        .unwrap()
        .apply_in_place(&mut ours)
        .unwrap();
    assert_eq!(ours, s0);
    let parsed = LabelArea::parse(&s0).unwrap();
    assert_eq!(
        (parsed.version(), parsed.current(), parsed.nfree()),
        (LabelVersion::V1_2, 0, 510)
    );
    assert!(namespaces(&s0).is_empty());
}

/// s1: `mkns 11111111-2222-4333-8444-555555555555 alpha 134217728` on s0. After a reboot both
/// kernels showed namespace0.0 with that uuid, alt_name alpha, size 134217728 at resource
/// 0x100000000 (dpa 0).
#[test]
fn first_namespace_reads_and_writes_like_the_kernel() {
    let s1 = area("s1-create-a");
    assert_eq!(
        namespaces(&s1),
        [(alpha().uuid, "alpha".to_owned(), 0x1_0000_0000, 134_217_728)]
    );
    // The kernel's bytes: index 0 seq 1 (slot 1 used), index 1 seq 3 (slot 0 used), the
    // UPDATING label left in slot 0 and the final label in slot 1.
    assert_eq!(create_through_sysfs(&area("s0-init"), &alpha()), s1);
    let parsed = LabelArea::parse(&s1).unwrap();
    assert_eq!(parsed.current(), 0);
    assert_eq!(parsed.slots().map(|(s, _)| s).collect::<Vec<_>>(), [1]);
    assert_eq!(parsed.raw_slots().count(), 2);
}

/// s2: `mkns 22222222-3333-4444-8555-666666666666 beta 67108864` on s1. Both kernels showed
/// alpha as before and namespace0.1 beta, size 67108864 at resource 0x108000000 (dpa
/// 0x8000000, right after alpha).
#[test]
fn second_namespace_reads_and_writes_like_the_kernel() {
    let s2 = area("s2-create-b");
    assert_eq!(
        namespaces(&s2),
        [
            (alpha().uuid, "alpha".to_owned(), 0x1_0000_0000, 134_217_728),
            (beta().uuid, "beta".to_owned(), 0x1_0800_0000, 67_108_864),
        ]
    );
    assert_eq!(create_through_sysfs(&area("s1-create-a"), &beta()), s2);
}

/// s3: on s2, grow alpha to 268435456 (refused by the kernel: no contiguous room, nothing
/// written), then shrink it to 100663296: the two passes of a label update (dmesg
/// "allocated: 0", "free: 1", "allocated: 1", "free: 0"). Both kernels then showed alpha with
/// size 100663296 at 0x100000000 and beta unchanged.
#[test]
fn resize_reads_and_writes_like_the_kernel() {
    let s3 = area("s3-resize-a");
    assert_eq!(
        namespaces(&s3),
        [
            (alpha().uuid, "alpha".to_owned(), 0x1_0000_0000, 100_663_296),
            (beta().uuid, "beta".to_owned(), 0x1_0800_0000, 67_108_864),
        ]
    );
    let mut shrunk = alpha();
    shrunk.rawsize = 100_663_296;
    let mut bytes = area("s2-create-b");
    label::update(&LabelArea::parse(&bytes).unwrap(), &shrunk)
        .unwrap()
        .apply_in_place(&mut bytes)
        .unwrap();
    assert_eq!(bytes, s3);
}

fn gamma() -> NewLabel {
    let uuid = "33333333-4444-4555-8666-777777777777".parse().unwrap();
    NewLabel::new(uuid, "gamma", 100_663_296, 67_108_864, COOKIE).unwrap()
}

fn delta() -> NewLabel {
    let uuid = "44444444-5555-4666-8777-888888888888".parse().unwrap();
    NewLabel::new(uuid, "delta", 167_772_160, 33_554_432, COOKIE).unwrap()
}

/// s4: on s3, beta's `size` ← 0: `del_labels` frees its slot in the next index (seq 2, index
/// 1 current). Both kernels then showed alpha only.
#[test]
fn delete_reads_and_writes_like_the_kernel() {
    let s4 = area("s4-delete-b");
    assert_eq!(
        namespaces(&s4),
        [(alpha().uuid, "alpha".to_owned(), 0x1_0000_0000, 100_663_296)]
    );
    let mut bytes = area("s3-resize-a");
    label::remove(&LabelArea::parse(&bytes).unwrap(), beta().uuid)
        .unwrap()
        .apply_in_place(&mut bytes)
        .unwrap();
    assert_eq!(bytes, s4);
    assert_eq!(LabelArea::parse(&s4).unwrap().current(), 1);
}

/// s5 and s6: a namespace created in the freed room (gamma at dpa 0x6000000, guest resource
/// 0x106000000) then claimed by a BTT, and another (delta at 0xa000000) claimed by an fsdax
/// pfn. The claims do not rewrite labels (the guest wrote the BTT/pfn seeds, not the
/// namespaces' `holder_class`): the areas are exactly the namespace creations, and every
/// label keeps the claim class none. Both kernels showed the three namespaces (gamma in
/// sector mode, delta in fsdax mode).
#[test]
fn claimed_namespaces_read_and_write_like_the_kernel() {
    let s5 = area("s5-btt");
    assert_eq!(create_through_sysfs(&area("s4-delete-b"), &gamma()), s5);
    let s6 = area("s6-pfn");
    assert_eq!(create_through_sysfs(&s5, &delta()), s6);
    assert_eq!(
        namespaces(&s6),
        [
            (alpha().uuid, "alpha".to_owned(), 0x1_0000_0000, 100_663_296),
            (gamma().uuid, "gamma".to_owned(), 0x1_0600_0000, 67_108_864),
            (delta().uuid, "delta".to_owned(), 0x1_0a00_0000, 33_554_432),
        ]
    );
    let parsed = LabelArea::parse(&s6).unwrap();
    assert!(parsed
        .active_labels()
        .all(|l| l.claim_class == label::ClaimClass::None && l.lbasize == 0));
}

/// c1: s6 with one byte of the current index's bitmap flipped (offset 336: index 1's free
/// byte 10, 0xff -> 0xfe), so its checksum fails. The kernel falls back to index 0 (seq 3,
/// slots 0, 1, 2 in use), whose slot 0 still holds delta's first-pass label with
/// NSLABEL_FLAG_UPDATING: both kernels showed alpha, gamma and delta all the same (delta in
/// fsdax mode), so the UPDATING flag is not read.
#[test]
fn one_bad_index_falls_back_like_the_kernel() {
    let c1 = area("c1-corrupt-current-index");
    let parsed = LabelArea::parse(&c1).unwrap();
    assert_eq!(parsed.current(), 0);
    assert!(matches!(
        parsed.index_status(1),
        Err(label::IndexError::Checksum { .. })
    ));
    assert_eq!(
        namespaces(&c1),
        [
            (alpha().uuid, "alpha".to_owned(), 0x1_0000_0000, 100_663_296),
            (gamma().uuid, "gamma".to_owned(), 0x1_0600_0000, 67_108_864),
            (delta().uuid, "delta".to_owned(), 0x1_0a00_0000, 33_554_432),
        ]
    );
    let mut out = [Namespace::EMPTY; 8];
    let scan = parsed.namespaces(&region(), &mut out);
    assert_eq!(scan.findings.updating, 1);
    assert!(matches!(
        scan.findings.bad_index,
        Some((1, label::IndexError::Checksum { .. }))
    ));
    let delta_ns = out[..scan.count]
        .iter()
        .find(|n| n.uuid == delta().uuid)
        .unwrap();
    assert_eq!(
        (delta_ns.slot, delta_ns.flags),
        (0, label::raw::NSLABEL_FLAG_UPDATING)
    );
}

/// c2: both index blocks' checksums broken (offsets 80 and 336). Both kernels treated the
/// DIMM as label-less: one raw namespace of the whole 536870912-byte region.
#[test]
fn both_bad_indexes_are_label_less_like_the_kernel() {
    let c2 = area("c2-corrupt-both-indexes");
    let Err(label::AreaError::NoValidIndex { v1_2, .. }) = LabelArea::parse(&c2) else {
        panic!("c2 parsed");
    };
    assert!(v1_2
        .iter()
        .all(|e| matches!(e, label::IndexError::Checksum { .. })));
}

/// s7: on s6, namespace epsilon (55555555-6666-4777-8888-999999999999, 67108864 bytes at
/// 0xc000000) created, then `holder_class` ← btt: on a v1.2 area the kernel takes that as
/// BTT v2 and rewrites the label with the BTT2 claim class (two more passes: dmesg
/// "allocated: 0", "free: 4", "allocated: 4", "free: 0"). Both kernels showed epsilon in
/// sector mode. `update` with `ClaimClass::Btt2` writes the same bytes.
#[test]
fn claim_class_update_writes_like_the_kernel() {
    let s7 = area("s7-btt2");
    let uuid: Uuid = "55555555-6666-4777-8888-999999999999".parse().unwrap();
    let mut epsilon = NewLabel::new(uuid, "epsilon", 0xc00_0000, 67_108_864, COOKIE).unwrap();
    let mut bytes = create_through_sysfs(&area("s6-pfn"), &epsilon);
    epsilon.claim_class = label::ClaimClass::Btt2;
    label::update(&LabelArea::parse(&bytes).unwrap(), &epsilon)
        .unwrap()
        .apply_in_place(&mut bytes)
        .unwrap();
    assert_eq!(bytes, s7);
    let parsed = LabelArea::parse(&s7).unwrap();
    let mut out = [Namespace::EMPTY; 8];
    let scan = parsed.namespaces(&region(), &mut out);
    assert_eq!(scan.failure, None);
    let eps = out[..scan.count].iter().find(|n| n.uuid == uuid).unwrap();
    assert_eq!(
        (eps.claim_class, eps.dpa, eps.rawsize, eps.slot),
        (label::ClaimClass::Btt2, 0xc00_0000, 67_108_864, 4)
    );
    assert_eq!(scan.count, 4);
}

/// The kernel's resize (s2 -> s3) as a plan, cut after every 8-byte store: the area always
/// reads as the namespaces of s2 or those of s3 (the kernel's own before and after).
#[test]
fn power_cuts_during_the_kernels_resize() {
    let s2 = area("s2-create-b");
    let s3 = area("s3-resize-a");
    let mut shrunk = alpha();
    shrunk.rawsize = 100_663_296;
    let plan = label::update(&LabelArea::parse(&s2).unwrap(), &shrunk).unwrap();
    let stores: usize = plan.writes().map(|w| (w.len as usize).div_ceil(8)).sum();
    // Two labels of 256 bytes and two index blocks of 256 bytes: 4 * 32 stores.
    assert_eq!(stores, 128);
    let (before, after) = (namespaces(&s2), namespaces(&s3));
    for cut in 0..=stores {
        let mut mem = s2.clone();
        let mut left = cut;
        let mut dev = Cut {
            mem: &mut mem,
            left: &mut left,
        };
        let _ = plan.apply(&s2, &mut dev);
        let seen = namespaces(&mem);
        assert!(seen == before || seen == after, "cut after {cut} stores");
        if cut == stores {
            assert_eq!(mem, s3);
        }
    }
}

/// Stores 8 bytes at a time until `left` runs out.
struct Cut<'a> {
    mem: &'a mut [u8],
    left: &'a mut usize,
}

impl nvdimm_infoblock::io::ReadAt for Cut<'_> {
    type Error = ();
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), ()> {
        let o = offset as usize;
        buf.copy_from_slice(&self.mem[o..o + buf.len()]);
        Ok(())
    }
}

impl nvdimm_infoblock::io::WriteAt for Cut<'_> {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), ()> {
        for (i, chunk) in buf.chunks(8).enumerate() {
            if *self.left == 0 {
                return Err(());
            }
            *self.left -= 1;
            let o = offset as usize + i * 8;
            self.mem[o..o + chunk.len()].copy_from_slice(chunk);
        }
        Ok(())
    }
}
