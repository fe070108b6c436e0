//! Link-time proof that the library has no reachable panic path.
//!
//! `main` reads its input from standard input (so nothing is known at compile time) and calls
//! the library's public entry points on it. The panic handler calls a symbol that is defined
//! nowhere: if any panic path of the library (or of this harness) survives optimisation, the
//! link fails with `undefined reference to nvdimm_infoblock_has_a_reachable_panic_path`.
//!
//! Exit status: a small summary of the results (so the optimiser cannot drop the calls); it
//! has no meaning beyond that.

#![no_std]
#![no_main]

use core::hint::black_box;

#[allow(unused_imports)]
use nvdimm_infoblock::validate::{Namespace, ProbePath};
#[allow(unused_imports)]
use nvdimm_infoblock::{
    compat, layout::LayoutRequest, validate, DeviceKind, Era, InfoBlock, Mode, ParseOptions,
    Platform, Profile, Uuid,
};

#[link(name = "c")]
extern "C" {
    fn read(fd: i32, buf: *mut u8, count: usize) -> isize;
}

#[cfg(not(feature = "locate"))]
extern "C" {
    /// Defined nowhere on purpose.
    fn nvdimm_infoblock_has_a_reachable_panic_path() -> !;
}

#[cfg(not(feature = "locate"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: never runs; if this call is linked at all, the link fails.
    unsafe { nvdimm_infoblock_has_a_reachable_panic_path() }
}

/// With feature `locate` the binary links even with panic paths, so that `locate.sh` can list
/// the call sites of core's panic functions (with their inlined source lines).
#[cfg(feature = "locate")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// Bytes of input read: a namespace head (8192 bytes) plus 64 bytes of parameters.
const INPUT: usize = 8192 + 64;

/// Reads standard input into `buf` until it is full or input ends; returns the bytes read.
fn read_input(buf: &mut [u8; INPUT]) -> usize {
    let mut filled = 0usize;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        // SAFETY: `rest` is a valid writable buffer of `rest.len()` bytes.
        let got = unsafe { read(0, rest.as_mut_ptr(), rest.len()) };
        match usize::try_from(got) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled = filled.saturating_add(n),
        }
    }
    filled
}

/// Sixteen bytes made of eight repeated twice (a uuid from one parameter).
trait RepeatInto {
    fn repeat_into(self) -> [u8; 16];
}

impl RepeatInto for [u8; 8] {
    fn repeat_into(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.get(i % 8).copied().unwrap_or(0);
        }
        out
    }
}

/// A little-endian u64 from input bytes `at..at + 8` (0 past the end).
fn param(bytes: &[u8], at: usize) -> u64 {
    let word = bytes
        .get(at..at.saturating_add(8))
        .and_then(|src| <[u8; 8]>::try_from(src).ok())
        .unwrap_or([0; 8]);
    u64::from_le_bytes(word)
}

#[no_mangle]
pub extern "C" fn main(argc: i32, _argv: *const *const u8) -> i32 {
    let mut buf = [0u8; INPUT];
    let n = read_input(&mut buf);
    let input = buf.get(..n).unwrap_or(&[]);
    // The block (or head) is the input less its last 64 bytes when longer than a head; the
    // parameters are those 64 bytes.
    let split = input.len().min(8192);
    let (head, params) = input.split_at(split);
    let head = black_box(head);
    #[allow(unused_variables)]
    let options = ParseOptions {
        page_size: u32::try_from(param(params, 0) & 0xffff_ffff).unwrap_or(4096),
        verify_checksum: argc > 1,
        ..ParseOptions::DEFAULT
    };
    let mut score: u64 = 0;
    // A profile chosen by the input: any era on any platform.
    let eras = &Era::ALL;
    let platforms = &Platform::ALL;
    let pick = usize::try_from(param(params, 16) & 0xff).unwrap_or(0);
    let era = eras.get(pick % eras.len()).copied().unwrap_or(Era::V6_5);
    let platform = platforms
        .get(pick / eras.len() % platforms.len())
        .copied()
        .unwrap_or(Platform::X86_64);
    let profile = Profile::new(era, platform);
    let mode = Mode(u32::try_from(param(params, 56) & 0xffff_ffff).unwrap_or(2));
    let _ = (&profile, mode);

    #[cfg(feature = "core")]
    {
        // parse (locate + PfnInfo::parse) and verify.
        // Every field of the result is kept (black_box), so nothing is optimised away.
        let parsed = nvdimm_infoblock::parse(head, &options);
        score = score.wrapping_add(u64::from(black_box(&parsed).is_ok()));
        if let Ok(block) = InfoBlock::locate(head) {
            let verified = block.verify_checksum();
            score = score.wrapping_add(u64::from(black_box(&verified).is_ok()));
            // validate: what the kernel of a profile does with the block in a namespace.
            let ns = Namespace {
                start: param(params, 24),
                size: param(params, 32),
                uuid: Uuid::NIL,
            };
            let outcome = validate::check(block, &ns, &ProbePath::Probe, &profile);
            score = score.wrapping_add(u64::from(black_box(&outcome).is_ok()));
        }
        // solve: the layout a kernel of the profile writes for a namespace.
        let request = LayoutRequest::new(profile, param(params, 32), DeviceKind::Fsdax, mode)
            .with_start(param(params, 24))
            .with_align(Some(param(params, 40)));
        let layout = nvdimm_infoblock::solve(&request);
        score = score.wrapping_add(u64::from(black_box(&layout).is_ok()));
    }

    #[cfg(feature = "compat")]
    if let Ok(block) = InfoBlock::locate(head) {
        // compat: every known reader's verdict, and an upgrade plan.
        let ns = Namespace::labelless(param(params, 24), param(params, 32));
        for reader in &compat::Reader::KNOWN {
            let verdict = compat::check(block, &ns, reader);
            score = score.wrapping_add(u64::from(black_box(&verdict).loads()));
        }
        let versions = &compat::FormatVersion::ALL;
        let index = usize::try_from(param(params, 48) % 6).unwrap_or(0);
        if let Some(target) = versions.get(index) {
            let plan = compat::plan_upgrade(block, &ns, *target);
            score = score.wrapping_add(u64::from(black_box(&plan).is_ok()));
        }
        let features = compat::Features::of_block(block);
        score = score.wrapping_add(u64::from(black_box(features).bits()));
    }

    #[cfg(feature = "fletcher")]
    {
        // The checksum over any length, and over a located block.
        score = score.wrapping_add(nvdimm_infoblock::nd_fletcher64(head));
        if let Ok(block) = InfoBlock::locate(head) {
            score = score.wrapping_add(block.compute_checksum());
        }
    }

    #[cfg(feature = "model")]
    if let Ok(block) = InfoBlock::locate(head) {
        // The model: parse, its queries, and emit into a block.
        let parsed = nvdimm_infoblock::PfnInfo::parse(block, &options);
        if let Ok(info) = black_box(parsed) {
            score = score.wrapping_add(u64::from(info.is_canonical(&options)));
            score = score.wrapping_add(u64::from(info.defaulted().bits()));
            let mut out = InfoBlock::zeroed();
            if info.emit(black_box(&mut out)).is_ok() {
                score = score.wrapping_add(out.checksum.get());
            }
            if let Ok(again) = info.to_block() {
                score = score.wrapping_add(u64::from(again == out));
            }
        }
    }

    #[cfg(feature = "profile")]
    {
        // Profiles: a release string (NUL-terminated) taken from the parameters.
        let field = params.get(8..24).unwrap_or(&[]);
        let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        let release = field.get(..end).unwrap_or(&[]);
        if let Ok(text) = core::str::from_utf8(release) {
            if let Some(p) = nvdimm_infoblock::Profile::x86_64_for_release(text) {
                score = score.wrapping_add(p.info_block_reserve());
                score = score.wrapping_add(p.default_align());
            }
        }
    }

    #[cfg(feature = "label")]
    {
        use nvdimm_infoblock::label::{self, InitStyle, LabelArea, LabelVersion, NewLabel, Region};
        // The input as a label storage area: the kernel's reading and what it creates.
        let region = Region {
            isetcookie: Some(param(params, 0)),
            altcookie: Some(param(params, 8)),
            type_guid: None,
            dpa_range: Some((param(params, 24), param(params, 32))),
        };
        let mut copy = [0u8; 8192];
        let len = head.len().min(copy.len());
        if let (Some(dst), Some(src)) = (copy.get_mut(..len), head.get(..len)) {
            dst.copy_from_slice(src);
        }
        let mut out = [label::Namespace::EMPTY; 4];
        if let Ok(area) = LabelArea::parse(head) {
            let scan = area.namespaces(&region, &mut out);
            score = score.wrapping_add(u64::try_from(scan.count).unwrap_or(0));
            score = score.wrapping_add(u64::from(area.nfree()));
            let uuid = Uuid(param(params, 40).to_le_bytes().repeat_into());
            if let Ok(new) = NewLabel::new(uuid, "n", param(params, 48), param(params, 56), 1) {
                for plan in [label::add(&area, &new), label::update(&area, &new), label::remove(&area, uuid)]
                    .into_iter()
                    .flatten()
                {
                    score = score.wrapping_add(u64::try_from(plan.writes().count()).unwrap_or(0));
                    if let Some(target) = copy.get_mut(..len) {
                        score = score.wrapping_add(u64::from(plan.apply_in_place(target).is_ok()));
                    }
                }
            }
        }
        // init of an area of the input's length.
        let version = if argc > 2 { LabelVersion::V1_2 } else { LabelVersion::V1_1 };
        if let Ok(plan) = label::init(len, version, InitStyle::Ndctl) {
            if let Some(target) = copy.get_mut(..len) {
                score = score.wrapping_add(u64::from(plan.apply_in_place(target).is_ok()));
            }
        }
    }
    #[cfg(feature = "btt_check")]
    {
        // The BTT deep check over the input as a namespace (its reads past the input fail
        // as I/O errors), then the repair plan and its application on a copy.
        use nvdimm_infoblock::btt::{arena, check, repair};
        let namespace = arena::Namespace::labelless(param(params, 32));
        let mut bitmap = [0u8; 4096];
        let mut io = [0u8; 4096];
        let bitmap_len = usize::try_from(param(params, 40) % 4097).unwrap_or(0);
        let scratch = check::Scratch {
            bitmap: bitmap.get_mut(..bitmap_len).unwrap_or(&mut []),
            io: &mut io,
        };
        let mut findings: u64 = 0;
        let mut done: u64 = 0;
        let summary = check::check(
            &mut black_box(head),
            &namespace,
            scratch,
            |f| findings = findings.wrapping_add(u64::from(f.severity() as u8)),
            |p| done = p.done,
        );
        score = score
            .wrapping_add(u64::from(black_box(&summary).is_ok()))
            .wrapping_add(findings)
            .wrapping_add(done);
        let sizes = check::sizes(&mut black_box(head), &namespace);
        score = score.wrapping_add(u64::from(black_box(&sizes).is_ok()));
        let mut copy = [0u8; 8192];
        if let Some(dst) = copy.get_mut(..head.len()) {
            dst.copy_from_slice(head);
        }
        if let Ok(plan) = repair::plan_repair(&mut &copy[..], &namespace) {
            score = score.wrapping_add(u64::try_from(plan.len()).unwrap_or(0));
            let applied = repair::apply(&plan, &mut &mut copy[..]);
            score = score.wrapping_add(u64::from(black_box(&applied).is_ok()));
        }
    }

    #[cfg(feature = "btt")]
    {
        // BTT: a namespace of any size (parameter 32) whose bytes are the input repeated,
        // with the input's first 4096 bytes as the info block at the placement.
        score = score.wrapping_add(btt::run(head, params));
    }
    #[cfg(feature = "probe")]
    {
        // probe: the namespace of the BTT calls, any claim class, force_raw, any profile.
        score = score.wrapping_add(btt::probe(head, params, &profile));
    }

    let score = black_box(score);
    i32::from(u8::try_from(score & 0x7f).unwrap_or(0))
}

/// The BTT entry points (and `probe`) over a namespace made of the input.
#[cfg(any(feature = "btt", feature = "probe"))]
mod btt {
    use core::hint::black_box;

    use nvdimm_infoblock::btt::arena::{walk, Btt, BttVersion, Namespace};
    use nvdimm_infoblock::btt::layout::{create, solve, LayoutRequest};
    use nvdimm_infoblock::btt::raw::{BttSb, MapEntry};
    use nvdimm_infoblock::btt::read::Reader;
    use nvdimm_infoblock::io::{ReadAt, WriteAt};
    use nvdimm_infoblock::Uuid;

    use super::param;

    /// The input repeated over `size` bytes; writes are checked and dropped.
    struct Repeat<'a> {
        bytes: &'a [u8],
        size: u64,
    }

    impl ReadAt for Repeat<'_> {
        type Error = ();
        fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), ()> {
            let len = u64::try_from(buf.len()).map_err(|_| ())?;
            if offset.checked_add(len).map_or(true, |end| end > self.size) {
                return Err(());
            }
            let n = u64::try_from(self.bytes.len()).map_err(|_| ())?;
            let mut at = offset;
            for b in buf.iter_mut() {
                let i = at.checked_rem(n).and_then(|i| usize::try_from(i).ok());
                *b = i.and_then(|i| self.bytes.get(i)).copied().unwrap_or(0);
                at = at.wrapping_add(1);
            }
            Ok(())
        }
    }

    impl WriteAt for Repeat<'_> {
        fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), ()> {
            let len = u64::try_from(buf.len()).map_err(|_| ())?;
            match offset.checked_add(len) {
                Some(end) if end <= self.size => Ok(()),
                _ => Err(()),
            }
        }
    }

    /// `probe::probe` of a namespace whose bytes are the input repeated, with its start,
    /// size, claim class and `force_raw` from the parameters.
    #[cfg(feature = "probe")]
    pub(super) fn probe(head: &[u8], params: &[u8], profile: &nvdimm_infoblock::Profile) -> u64 {
        use super::RepeatInto as _;
        use nvdimm_infoblock::probe::{probe, ClaimClass, Namespace as ProbeNamespace};
        let claims = [
            ClaimClass::None,
            ClaimClass::Btt,
            ClaimClass::Btt2,
            ClaimClass::Pfn,
            ClaimClass::Dax,
            ClaimClass::Unknown(nvdimm_infoblock::label::Guid(param(params, 48).to_le_bytes().repeat_into())),
        ];
        let pick = usize::try_from(param(params, 8) % 6).unwrap_or(0);
        let ns = ProbeNamespace {
            start: param(params, 24),
            size: param(params, 32),
            uuid: Uuid(param(params, 40).to_le_bytes().repeat_into()),
            claim: claims.get(pick).copied().unwrap_or(ClaimClass::None),
            force_raw: param(params, 8) & 0x100 != 0,
        };
        let mut bytes = Repeat {
            bytes: head,
            size: ns.size,
        };
        match probe(&mut bytes, &ns, profile) {
            Ok(answer) => {
                let answer = black_box(answer);
                answer.verdict.dev_size().unwrap_or(1) ^ answer.verdict.data().map_or(0, |r| r.end)
            }
            Err(_) => 2,
        }
    }

    #[cfg(feature = "btt")]
    pub(super) fn run(head: &[u8], params: &[u8]) -> u64 {
        let mut score: u64 = 0;
        let version = if param(params, 0) & 1 == 0 {
            BttVersion::V1_1
        } else {
            BttVersion::V2_0
        };
        let size = param(params, 32);
        let namespace = Namespace {
            size,
            uuid: Uuid::NIL,
            version,
        };
        let mut ns = Repeat { bytes: head, size };
        if let Some(block) = head.get(..4096).and_then(BttSb::read_from) {
            score = score.wrapping_add(u64::from(block.verify_checksum().is_ok()));
        }
        if let Ok(arenas) = walk(&mut Repeat { bytes: head, size }, &namespace) {
            for arena in arenas.take(4) {
                score = score.wrapping_add(u64::from(black_box(&arena).is_ok()));
            }
        }
        if let Ok(btt) = black_box(Btt::open(&mut ns, &namespace)) {
            score = score.wrapping_add(btt.capacity());
            for arena in btt.arenas(&mut Repeat { bytes: head, size }) {
                let Ok(arena) = arena else { break };
                let mut map = [MapEntry::IDENTITY; 16];
                let got = arena.read_map(&mut ns, 0, &mut map);
                score = score.wrapping_add(u64::from(black_box(&got).is_ok()));
                if let Ok(layout) = arena.log_layout(&mut ns) {
                    let newer = arena.newer_log_entry(&mut ns, layout, 0);
                    score = score.wrapping_add(u64::from(black_box(&newer).is_ok()));
                }
                let info2 = arena.read_info2(&mut ns);
                score = score.wrapping_add(u64::from(black_box(&info2).is_ok()));
            }
            let mut reader = Reader::new(btt);
            let mut buf = [0u8; 4096];
            let lba = param(params, 40);
            let t = reader.translate(&mut ns, lba);
            score = score.wrapping_add(u64::from(black_box(&t).is_ok()));
            let len = usize::try_from(btt.sector_size).unwrap_or(512);
            if let Some(buf) = buf.get_mut(..len) {
                let r = reader.read_lba(&mut ns, lba, buf);
                score = score.wrapping_add(u64::from(black_box(&r).is_ok()));
            }
        }
        let request = LayoutRequest {
            namespace_size: size,
            lbasize: u32::try_from(param(params, 48) & 0xffff).unwrap_or(512),
            version,
            uuid: Uuid::NIL,
            parent_uuid: Uuid::NIL,
        };
        if let Ok(layout) = black_box(solve(&request)) {
            for range in layout.plan().take(8) {
                score = score.wrapping_add(range.len);
            }
            if let Some(arena) = layout.arena(0) {
                score = score.wrapping_add(arena.info_block(&request).checksum.get());
            }
            // create, over a namespace of at most 64 MiB (writes are dropped).
            if size <= 64 << 20 {
                let made = create(&mut ns, &request);
                score = score.wrapping_add(u64::from(black_box(&made).is_ok()));
            }
        }
        score
    }
}
