//! Body of the `btt_check` fuzz target, shared with the stable replay test
//! `tests/fuzz_corpus.rs` (included with `#[path]`).
//!
//! The input patches a valid BTT (the kernel's layout of a 16 MiB + 4096-byte label-less
//! namespace, built once): byte 0 picks the sector size (512 or 4096) and the scratch sizes;
//! then records `{area u8, position u32 LE, length u8, bytes}` overwrite bytes of the info
//! block, the map, the flog, the backup info block, or anywhere. The patches live in an
//! overlay (the 16 MiB image is shared, never copied).
//!
//! Properties: the deep check and the repair planner end without panicking; an unpatched
//! image checks clean; after `apply` of a plan, planning again does not rewrite any block the
//! first plan wrote (a restored copy is valid and identical to its source).

use std::sync::OnceLock;

use nvdimm_infoblock::btt::arena::{BttVersion, Namespace};
use nvdimm_infoblock::btt::check::{check, Scratch};
use nvdimm_infoblock::btt::layout::{create, Layout, LayoutRequest};
use nvdimm_infoblock::btt::repair::{apply, plan_repair};
use nvdimm_infoblock::io::{ReadAt, SliceError, WriteAt};
use nvdimm_infoblock::Uuid;

/// Namespace bytes: the smallest a BTT 1.1 accepts.
pub const NS_SIZE: u64 = (16 << 20) + 4096;

fn request(lbasize: u32) -> LayoutRequest {
    LayoutRequest {
        namespace_size: NS_SIZE,
        lbasize,
        version: BttVersion::V1_1,
        uuid: Uuid([0x33; 16]),
        parent_uuid: Uuid::NIL,
    }
}

fn base(lbasize: u32) -> &'static (Vec<u8>, Layout) {
    static B512: OnceLock<(Vec<u8>, Layout)> = OnceLock::new();
    static B4096: OnceLock<(Vec<u8>, Layout)> = OnceLock::new();
    let cell = if lbasize == 512 { &B512 } else { &B4096 };
    cell.get_or_init(|| {
        let mut img = vec![0u8; NS_SIZE as usize];
        let layout = create(&mut &mut img[..], &request(lbasize)).expect("layout");
        (img, layout)
    })
}

/// A shared base image with byte patches on top (later patches win).
pub struct Overlay<'a> {
    base: &'a [u8],
    patches: Vec<(u64, Vec<u8>)>,
}

impl ReadAt for Overlay<'_> {
    type Error = SliceError;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SliceError> {
        (&self.base[..]).read_at(offset, buf)?;
        let end = offset + buf.len() as u64;
        for (at, bytes) in &self.patches {
            let (lo, hi) = (offset.max(*at), end.min(at + bytes.len() as u64));
            if lo < hi {
                buf[(lo - offset) as usize..(hi - offset) as usize]
                    .copy_from_slice(&bytes[(lo - at) as usize..(hi - at) as usize]);
            }
        }
        Ok(())
    }
}

impl WriteAt for Overlay<'_> {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), SliceError> {
        if offset + buf.len() as u64 > self.base.len() as u64 {
            return Err(SliceError {
                offset,
                len: buf.len(),
                size: self.base.len(),
            });
        }
        self.patches.push((offset, buf.to_vec()));
        Ok(())
    }
}

pub fn btt_check(data: &[u8]) {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let lbasize = if mode & 1 == 0 { 4096 } else { 512 };
    let (img, layout) = base(lbasize);
    let a = layout.arena(0).expect("one arena");
    let mut ns = Overlay {
        base: img,
        patches: Vec::new(),
    };
    while rest.len() >= 6 {
        let area = rest[0];
        let pos = u64::from(u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]));
        let len = usize::from(rest[5]).min(rest.len() - 6);
        let bytes = rest[6..6 + len].to_vec();
        rest = &rest[6 + len..];
        let (start, room) = match area % 5 {
            0 => (a.infooff, 4096),
            1 => (a.mapoff, u64::from(a.external_nlba) * 4),
            2 => (a.logoff, u64::from(a.nfree) * 64),
            3 => (a.info2off, 4096),
            _ => (0, NS_SIZE),
        };
        let at = start + pos % room;
        let len = (len as u64).min(NS_SIZE - at) as usize;
        ns.patches.push((at, bytes[..len].to_vec()));
    }
    let namespace = Namespace::labelless(NS_SIZE);
    let single = (a.internal_nlba as usize).div_ceil(8);
    // The check owes nothing to the scratch's contents.
    let mut bitmap = vec![
        0xa5u8;
        if mode & 2 == 0 {
            single
        } else {
            single.max(4096)
        }
    ];
    let mut io = vec![0u8; if mode & 4 == 0 { 4096 } else { 65536 }];
    let mut findings = 0u64;
    let summary = check(
        &mut ns,
        &namespace,
        Scratch {
            bitmap: &mut bitmap,
            io: &mut io,
        },
        |_| findings += 1,
        |p| assert!(p.done <= p.total),
    )
    .expect("the overlay reads every offset of the namespace");
    if ns.patches.is_empty() {
        assert_eq!(findings, 0, "a fresh layout checks clean");
        assert_eq!(summary.arenas, 1);
        // Every window proved by its parity pass: no exact pass.
        let windows = u64::from(a.internal_nlba).div_ceil(bitmap.len() as u64 * 8);
        assert_eq!(
            summary.passes, windows,
            "a fresh layout needs no exact pass"
        );
    }
    let Ok(plan) = plan_repair(&mut ns, &namespace) else {
        return;
    };
    if apply(&plan, &mut ns).is_err() {
        return;
    }
    let again = plan_repair(&mut ns, &namespace).expect("planned once already");
    for w in plan.writes() {
        assert!(
            !again
                .writes()
                .any(|v| v.arena == w.arena && v.offset == w.offset),
            "{w} planned again after apply"
        );
    }
}
