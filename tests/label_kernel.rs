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
