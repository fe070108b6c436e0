//! Bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs` (libFuzzer, nightly) and by
//! the stable replay test `tests/fuzz_corpus.rs` (which includes this file with `#[path]`),
//! in the manner of vm-virtio's shared fuzz bodies.
//!
//! Each body takes the raw fuzzer input and asserts properties that come from the format
//! (FORMAT.md §1.2 field table, §2 checksum, §3.7 defaulting), not from the implementation:
//! a panic here is a finding. The bodies use std (they never run inside the library).

use nvdimm_infoblock::{
    nd_fletcher64, parse as parse_bytes, DeviceKind, DialectChoice, ErrorClass, InfoBlock,
    ParseError, ParseOptions, PfnInfo,
};
use zerocopy::IntoBytes;

/// Every option set the bodies try: the three dialect choices, two reader page sizes, and
/// checksum verification on and off.
pub const OPTIONS: [ParseOptions; 12] = {
    let dialects = [
        DialectChoice::Auto,
        DialectChoice::Upstream,
        DialectChoice::MinVersion2019,
    ];
    let mut out = [ParseOptions::DEFAULT; 12];
    let mut i = 0;
    while i < 12 {
        out[i] = ParseOptions {
            page_size: if i % 2 == 0 { 4096 } else { 65536 },
            dialect: dialects[(i / 2) % 3],
            verify_checksum: i < 6,
        };
        i += 1;
    }
    out
};

/// The kernel's `nd_fletcher64` written as the plain sequential loop of FORMAT.md §2.1: the
/// oracle for the crate's lane-parallel form.
#[must_use]
pub fn reference_fletcher(bytes: &[u8]) -> u64 {
    let mut lo: u32 = 0;
    let mut hi: u64 = 0;
    for w in bytes.chunks_exact(4) {
        lo = lo.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        hi = hi.wrapping_add(u64::from(lo));
    }
    (hi << 32) | u64::from(lo)
}

/// `nd_sb_checksum` by definition: the reference sum of the block with bytes 4088..4096
/// (the checksum field) set to zero.
fn reference_sb_checksum(block: &[u8]) -> u64 {
    let mut copy = [0u8; 4096];
    copy.copy_from_slice(block);
    copy[4088..].fill(0);
    reference_fletcher(&copy)
}

/// The bytes a reader of `minor` takes from a block (FORMAT.md §1.2): the v1.0 fields up to
/// `mode` (0..76), `start_pad`/`end_trunc` from minor 1 (..84), `align` from minor 2 (..88),
/// `page_size`/`page_struct_size` from minor 4 (..94); the 2019 dialect's v1.3 adds
/// `min_version` (88..90). The checksum field (4088..4096) is always defined.
fn defined_prefix(minor: u16, min_version: bool) -> usize {
    match minor {
        0 => 76,
        1 => 84,
        2 => 88,
        3 if min_version => 90,
        3 => 88,
        _ => 94,
    }
}

/// The block a writer of the same value produces: `block` with every byte its version does
/// not define set to zero and the checksum recomputed.
fn canonical_image(block: &InfoBlock, min_version: bool) -> [u8; 4096] {
    let mut image = [0u8; 4096];
    let end = defined_prefix(block.version_minor.get(), min_version);
    image[..end].copy_from_slice(&block.as_bytes()[..end]);
    let sum = reference_sb_checksum(&image);
    image[4088..].copy_from_slice(&sum.to_le_bytes());
    image
}

/// Display of every error is lowercase, non-empty, without a final full stop (house style),
/// and the class agrees with the variant.
fn check_error(e: &ParseError) {
    let text = e.to_string();
    assert!(!text.is_empty());
    assert!(!text.ends_with('.'), "{text}");
    assert!(
        !text.starts_with(|c: char| c.is_ascii_uppercase()),
        "{text}"
    );
    let class = match e {
        ParseError::InvalidLength { .. } | ParseError::BadSignature { .. } => {
            ErrorClass::NotAnInfoBlock
        }
        ParseError::ChecksumMismatch { .. } => ErrorClass::Corrupt,
        // A variant added later: its class is checked by its own tests.
        _ => e.class(),
    };
    assert_eq!(e.class(), class, "{e:?}");
}

/// Properties of a value that `PfnInfo::parse(block, options)` returned.
fn check_info(block: &InfoBlock, info: &PfnInfo, options: &ParseOptions) {
    let minor = block.version_minor.get();
    // Fields every version has are copied as stored.
    assert_eq!(Some(info.kind), DeviceKind::from_signature(block.signature));
    assert_eq!(info.uuid.0, block.uuid.0);
    assert_eq!(info.parent_uuid.0, block.parent_uuid.0);
    assert_eq!(info.flags, block.flags.get());
    assert_eq!(info.version.major, block.version_major.get());
    assert_eq!(info.version.minor, minor);
    assert_eq!(info.dataoff, block.dataoff.get());
    assert_eq!(info.npfns, block.npfns.get());
    assert_eq!(info.mode.0, block.mode.get());
    // Defaulting by minor version (FORMAT.md §3.7 step 7).
    if minor < 1 {
        assert_eq!((info.start_pad, info.end_trunc), (0, 0));
    } else {
        assert_eq!(info.start_pad, block.start_pad.get());
        assert_eq!(info.end_trunc, block.end_trunc.get());
    }
    if minor < 2 {
        assert_eq!(info.align, 0);
    } else {
        assert_eq!(info.align, block.align.get());
    }
    if minor < 4 {
        assert_eq!(info.page_size, options.page_size);
        assert_eq!(info.page_struct_size, 64);
    } else {
        assert_eq!(info.page_size, block.page_size.get());
        assert_eq!(info.page_struct_size, block.page_struct_size.get());
    }
    // min_version exists only in minor 3 of the 2019 dialect.
    let raw_min = u16::from_le_bytes([block.as_bytes()[88], block.as_bytes()[89]]);
    let expect_min = match options.dialect {
        DialectChoice::Upstream => None,
        DialectChoice::Auto if minor == 3 && raw_min != 0 => Some(raw_min),
        DialectChoice::Auto => None,
        DialectChoice::MinVersion2019 if minor == 3 => Some(raw_min),
        DialectChoice::MinVersion2019 => None,
    };
    assert_eq!(info.min_version, expect_min);

    // A parsed value is canonical, emits, and the emitted block re-parses to the same value.
    assert!(info.is_canonical(options), "{info:?}");
    let out = info.to_block().expect("a parsed value emits");
    assert_eq!(out.verify_checksum(), Ok(()));
    assert_eq!(PfnInfo::parse(&out, options), Ok(*info));
    // The emitted block is the input with the bytes its version does not define zeroed:
    // byte for byte equal to the input exactly when the input is canonical.
    let image = canonical_image(block, info.min_version.is_some());
    assert_eq!(out.as_bytes(), &image[..]);
}

/// Every property of one located block, under every option set.
fn check_block(block: &InfoBlock) {
    let computed = reference_sb_checksum(block.as_bytes());
    let stored = block.checksum.get();
    assert_eq!(block.compute_checksum(), computed);
    match block.verify_checksum() {
        Ok(()) => assert_eq!(stored, computed),
        Err(e) => {
            assert_eq!(e, ParseError::ChecksumMismatch { stored, computed });
            check_error(&e);
        }
    }
    let kind = DeviceKind::from_signature(block.signature);
    for options in &OPTIONS {
        match PfnInfo::parse(block, options) {
            Ok(info) => {
                assert!(!options.verify_checksum || stored == computed);
                check_info(block, &info, options);
            }
            Err(e) => {
                check_error(&e);
                match e {
                    ParseError::BadSignature { found } => {
                        assert_eq!(kind, None);
                        assert_eq!(found, block.signature);
                    }
                    ParseError::ChecksumMismatch {
                        stored: s,
                        computed: c,
                    } => {
                        assert!(kind.is_some() && options.verify_checksum);
                        assert_eq!((s, c), (stored, computed));
                        assert_ne!(s, c);
                    }
                    other => panic!("PfnInfo::parse returned {other:?}"),
                }
            }
        }
    }
}

/// Target `parse`: any bytes, any length.
///
/// `nd_fletcher64` equals the reference loop (also from 1–12 bytes further into the input, so
/// every read path is taken); `InfoBlock::locate` accepts exactly 4096 bytes
/// or at least 8192 (block at 4096) and borrows those bytes; `PfnInfo::parse` never panics,
/// returns the error the bytes call for with the right class, and whatever it parses emits
/// and re-parses to the same value.
pub fn parse(data: &[u8]) {
    assert_eq!(nd_fletcher64(data), reference_fletcher(data));
    // libFuzzer's buffers are 16-byte-aligned; the same bytes from 1–12 bytes further on
    // take the unaligned path (1, 2, 3) and the word-aligned path with 1–3 leading words.
    for skip in [1, 2, 3, 4, 8, 12] {
        if let Some(rest) = data.get(skip..) {
            assert_eq!(nd_fletcher64(rest), reference_fletcher(rest));
        }
    }
    match InfoBlock::locate(data) {
        Ok(block) => {
            let expect = if data.len() == 4096 {
                data
            } else {
                &data[4096..8192]
            };
            assert_eq!(block.as_bytes(), expect);
            check_block(block);
            for options in &OPTIONS {
                let whole = parse_bytes(data, options).map(|p| p.info);
                assert_eq!(whole, PfnInfo::parse(block, options));
            }
        }
        Err(e) => {
            assert_eq!(e, ParseError::InvalidLength { len: data.len() });
            assert!(data.len() != 4096 && data.len() < 8192);
            check_error(&e);
            assert_eq!(
                parse_bytes(data, &ParseOptions::DEFAULT).map(|p| p.info),
                Err(e)
            );
        }
    }
}

/// Target `roundtrip`: the input (truncated or zero-padded to 4096 bytes) with its checksum
/// fixed up, so the fuzzer gets past it.
///
/// With a PFN or DAX signature it parses under every option set, and `emit` reproduces the
/// block byte for byte when it is canonical (every byte its version does not define is zero);
/// otherwise it is refused as `BadSignature`.
pub fn roundtrip(data: &[u8]) {
    let mut bytes = [0u8; 4096];
    let n = data.len().min(4096);
    bytes[..n].copy_from_slice(&data[..n]);
    let block = InfoBlock::from_bytes_mut(&mut bytes).expect("4096 bytes");
    block.update_checksum();
    let block: &InfoBlock = block;
    assert_eq!(block.verify_checksum(), Ok(()));
    let kind = DeviceKind::from_signature(block.signature);
    for options in &OPTIONS {
        match PfnInfo::parse(block, options) {
            Ok(info) => {
                check_info(block, &info, options);
                let image = canonical_image(block, info.min_version.is_some());
                if image[..] == *block.as_bytes() {
                    let out = info.to_block().expect("a parsed value emits");
                    assert_eq!(out.as_bytes(), block.as_bytes());
                }
            }
            Err(e) => {
                assert_eq!(kind, None);
                assert_eq!(
                    e,
                    ParseError::BadSignature {
                        found: block.signature
                    }
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Targets over the layout solver, the validator and the compatibility checker. Their inputs are
// decoded from the raw bytes by `Input` (little-endian fields, zero past the end), so the
// stable replay needs no `arbitrary`.

use nvdimm_infoblock::compat::{self, FormatVersion, Reader};
use nvdimm_infoblock::layout::{solve as solve_layout, Collisions, LayoutRequest, Padding};
use nvdimm_infoblock::validate::{
    check as check_block_in_ns, Errno, LiveSettings, Namespace, NamespaceError, Outcome, ProbePath,
    Stage,
};
use nvdimm_infoblock::{Era, Mode, Platform, Profile, Uuid};

/// A cursor over fuzzer bytes: fixed-width little-endian fields, zero past the end.
struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    fn u8(&mut self) -> u8 {
        let (first, rest) = self
            .bytes
            .split_first()
            .map_or((0, &[][..]), |(b, r)| (*b, r));
        self.bytes = rest;
        first
    }

    fn u64(&mut self) -> u64 {
        let mut word = [0u8; 8];
        for b in &mut word {
            *b = self.u8();
        }
        u64::from_le_bytes(word)
    }

    /// The remaining bytes as a 4096-byte block (truncated or zero-padded); with `fix`, its
    /// checksum is set so the block gets past `verify_checksum`.
    fn block(&self, fix: bool) -> InfoBlock {
        let mut block = InfoBlock::zeroed();
        let n = self.bytes.len().min(4096);
        block.as_mut_bytes()[..n].copy_from_slice(&self.bytes[..n]);
        if fix {
            block.update_checksum();
        }
        block
    }
}

/// Every era on every platform: byte `b` picks era `b % 11` and platform `(b / 11) % 5`.
fn profile_of(b: u8) -> Profile {
    let era = Era::ALL[usize::from(b) % Era::ALL.len()];
    let platform = Platform::ALL[(usize::from(b) / Era::ALL.len()) % Platform::ALL.len()];
    Profile::new(era, platform)
}

/// The data extent `[start, end)` of an enabled device, exact in u128.
fn extent(start: u64, size: u64) -> (u128, u128) {
    (u128::from(start), u128::from(start) + u128::from(size))
}

/// The request a `solve` input decodes to (see [`solve`] for the layout of the bytes).
pub fn solve_request(data: &[u8]) -> LayoutRequest {
    let mut input = Input { bytes: data };
    let profile = profile_of(input.u8());
    let flags = input.u8();
    let ns_start = input.u64();
    let ns_size = input.u64();
    let align = input.u64();
    let start_pad = input.u64();
    let end_trunc = input.u64();
    let mode = match input.u8() {
        0 => Mode::PMEM,
        1 => Mode::RAM,
        other => Mode(u32::from(other)),
    };
    let kind = if flags & 1 != 0 {
        DeviceKind::Devdax
    } else {
        DeviceKind::Fsdax
    };
    let padding = if flags & 16 != 0 {
        Padding::Explicit {
            start_pad,
            end_trunc,
        }
    } else {
        Padding::Policy(Collisions {
            start: flags & 4 != 0,
            end: flags & 8 != 0,
        })
    };
    LayoutRequest::new(profile, ns_size, kind, mode)
        .with_start(ns_start)
        .with_align((flags & 2 != 0).then_some(align))
        .with_padding(padding)
}

/// Target `solve`: arbitrary requests on every profile.
///
/// Input: `[profile, flags, ns_start: u64, ns_size: u64, align: u64, start_pad: u64,
/// end_trunc: u64, mode: u8]`; flags bit 0 devdax, bit 1 align given, bit 2 start collides,
/// bit 3 end collides, bit 4 explicit padding.
///
/// Every layout returned has its data inside the namespace after the info-block reserve, with
/// at least one page, sizes and resource as sysfs computes them (FORMAT.md §5.1), `npfns` in
/// the era's unit (§1.2), the PMEM memmap between the reserve and `dataoff`; emitted, parsed
/// and validated by the same profile it is enabled with the predicted size and resource.
pub fn solve(data: &[u8]) {
    let req = solve_request(data);
    let LayoutRequest {
        ns_start,
        ns_size,
        mode,
        kind,
        profile,
        ..
    } = req;
    let layout = match solve_layout(&req) {
        Ok(layout) => layout,
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
            return;
        }
    };
    let l = &layout;
    let page = profile.platform.page_size;
    assert_eq!(l.request, req);
    let base = u128::from(ns_start) + u128::from(l.start_pad);
    let end = u128::from(ns_start) + u128::from(ns_size);
    // Data after the block's reserve, inside the namespace, at least one page (§5.1).
    assert!(u128::from(l.data.start) >= base + 8192, "{l:?}");
    assert!(
        l.data.start < l.data.end && u128::from(l.data.end) <= end,
        "{l:?}"
    );
    assert_eq!(u128::from(l.data.start), base + u128::from(l.dataoff));
    assert_eq!(u128::from(l.data.end), end - u128::from(l.end_trunc));
    assert_eq!(
        u128::from(l.dev_size),
        u128::from(ns_size)
            - u128::from(l.start_pad)
            - u128::from(l.end_trunc)
            - u128::from(l.dataoff)
    );
    assert_eq!(l.dev_resource, l.data.start);
    assert!(l.dev_size >= page, "{l:?}");
    let unit = if profile.era.is_at_least(Era::V5_3) {
        page
    } else {
        4096
    };
    assert_eq!(l.npfns, l.dev_size / unit);
    assert_eq!(l.npfns_unit(), unit);
    match (mode, l.memmap) {
        (Mode::PMEM, Some(m)) => {
            assert_eq!(
                u128::from(m.start),
                base + u128::from(profile.info_block_reserve())
            );
            assert_eq!(m.end, l.data.start);
            // The 5.3+ writer sizes the memmap after a literal 8 KiB, enabling reserves
            // ALIGN(8 KiB, PAGE_SIZE); and with 64 KiB pages partial sections take their
            // memmap from RAM (up to two sections' memmap), as may any block on ppc64.
            let slack = if page == 4096 {
                0
            } else {
                (profile.info_block_reserve() - 8192)
                    + 2 * (profile.platform.section_size / page) * u64::from(l.page_struct_size)
            };
            assert!(u128::from(l.memmap_bytes) <= u128::from(m.len()) + u128::from(slack));
        }
        (Mode::RAM, None) => assert_eq!(l.memmap_bytes, 0),
        other => panic!("mode and memmap disagree: {other:?} in {l:?}"),
    }
    // The kernel of the same profile enables the block this layout describes.
    let info = l.to_info(Uuid([0x5a; 16]), Uuid::NIL);
    let block = info.to_block().expect("a solved layout emits");
    let options = ParseOptions {
        page_size: u32::try_from(page).expect("page size fits u32"),
        ..ParseOptions::DEFAULT
    };
    assert_eq!(PfnInfo::parse(&block, &options), Ok(info));
    // Findings F1 and F3 (fuzz/README.md) are fixed: the solver runs the validator on the
    // block it writes, so the two agree in every era, on every platform, in both modes, with
    // policy or explicit padding.
    let ns = Namespace::labelless(ns_start, ns_size);
    match check_block_in_ns(&block, &ns, &ProbePath::Probe, &profile) {
        Ok(Outcome::Enabled(dev)) => {
            assert_eq!(dev.kind, kind);
            assert_eq!(dev.dev_size, l.dev_size);
            assert_eq!(dev.dev_resource, l.dev_resource);
        }
        other => panic!("the validator does not enable a solved layout: {other:?}, {l:?}"),
    }
}

/// Target `check`: an arbitrary block (checksum optionally fixed up) in an arbitrary namespace,
/// on every profile and both probe paths.
///
/// Input: `[profile, flags, ns_start: u64, ns_size: u64, live_align: u64, live_mode: u8,
/// 5 reserved bytes, block...]`; flags bit 0 fix the checksum, bit 1 the init path (live
/// settings: the block's uuid when bit 2, else nil), bit 3 the namespace uuid is the block's
/// `parent_uuid`.
///
/// A namespace that cannot exist is an error and nothing else is; an enabled device's data
/// lies inside the namespace, ends at `ns_end - end_trunc`, has at least one byte (6.5+) and the
/// block's kind and `dataoff`; a bad signature or checksum is ignored with `-ENODEV`; a
/// refusal at validate on the probe path is `-EOPNOTSUPP` (Linux 5.4+/5.7+, the namespace
/// stays disabled) and a raw fallback never is; the compatibility checker's kernel reader
/// agrees with the validator.
pub fn check(data: &[u8]) {
    let mut input = Input { bytes: data };
    let profile = profile_of(input.u8());
    let flags = input.u8();
    let ns_start = input.u64();
    let ns_size = input.u64();
    let live_align = input.u64();
    let live_mode = Mode(u32::from(input.u8()));
    for _ in 0..5 {
        input.u8();
    }
    let block = input.block(flags & 1 != 0);
    let ns = Namespace {
        start: ns_start,
        size: ns_size,
        uuid: if flags & 8 != 0 {
            block.parent_uuid
        } else {
            Uuid::NIL
        },
    };
    let path = if flags & 2 != 0 {
        ProbePath::Init(LiveSettings {
            uuid: if flags & 4 != 0 {
                block.uuid
            } else {
                Uuid::NIL
            },
            align: live_align,
            mode: live_mode,
        })
    } else {
        ProbePath::Probe
    };
    let outcome = match check_block_in_ns(&block, &ns, &path, &profile) {
        Ok(outcome) => {
            assert!(ns_size != 0 && ns_start.checked_add(ns_size - 1).is_some());
            outcome
        }
        Err(e) => {
            match e {
                NamespaceError::Empty { start } => {
                    assert_eq!((start, ns_size), (ns_start, 0));
                }
                NamespaceError::EndOverflow { start, size } => {
                    assert_eq!((start, size), (ns_start, ns_size));
                    assert!(ns_size != 0 && ns_start.checked_add(ns_size - 1).is_none());
                }
                other => panic!("unexpected namespace error {other:?}"),
            }
            return;
        }
    };
    let kind = DeviceKind::from_signature(block.signature);
    let checksum_ok = block.verify_checksum().is_ok();
    match &outcome {
        Outcome::Enabled(dev) => {
            assert_eq!(Some(dev.kind), kind);
            assert!(checksum_ok);
            assert!(dev.mode == Mode::RAM || dev.mode == Mode::PMEM, "{dev:?}");
            assert_eq!(dev.dataoff, block.dataoff.get());
            // 6.1 enables a 0-byte device when start_pad + end_trunc + dataoff == ns_size;
            // 6.5+ refuse it ("bad offset with small namespace", kernel-harness README).
            if profile.rules.checks_small_namespace {
                assert!(dev.dev_size > 0, "{dev:?}");
            }
            // Finding F2 (fuzz/README.md) is kernel behaviour, not a validator bug: a kernel
            // without the "bad offset with small namespace" check (before 6.5) enables a
            // device whose start_pad + end_trunc + dataoff exceed the namespace with a wrapped
            // size (real Linux 6.1, tests/kernel case small-ns-over-mem: dev_size 2^64 - 2 MiB).
            // From 6.5 on the device must lie inside its namespace.
            let claimed =
                u128::from(dev.start_pad) + u128::from(dev.end_trunc) + u128::from(dev.dataoff);
            if !profile.rules.checks_small_namespace && claimed > u128::from(ns_size) {
                return;
            }
            let (first, past) = extent(dev.dev_resource, dev.dev_size);
            let (ns_first, ns_past) = extent(ns_start, ns_size);
            assert!(
                ns_first <= first && past <= ns_past,
                "{dev:?} outside {ns:?}"
            );
            assert_eq!(past + u128::from(dev.end_trunc), ns_past, "{dev:?}");
            assert_eq!(
                first,
                ns_first + u128::from(dev.start_pad) + u128::from(dev.dataoff),
                "{dev:?}"
            );
        }
        Outcome::Raw { reason, errno } => {
            assert_ne!(*errno, Errno::EOPNOTSUPP, "{reason:?}");
            if matches!(path, ProbePath::Init(_)) {
                assert_eq!(*errno, Errno::ENODEV, "{reason:?}");
            }
            let text = reason.to_string();
            assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
        }
        Outcome::Rejected {
            stage,
            reason,
            errno,
        } => {
            if *stage == Stage::Validate && path == ProbePath::Probe {
                assert_eq!(*errno, Errno::EOPNOTSUPP, "{reason:?}");
            }
            let text = reason.to_string();
            assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
        }
    }
    if kind.is_none() || !checksum_ok {
        assert!(
            matches!(outcome, Outcome::Raw { errno, .. } if errno == Errno::ENODEV),
            "{outcome:?}"
        );
    }
    // The compatibility checker's kernel reader is the validator on the probe path.
    if path == ProbePath::Probe {
        let verdict = compat::check(&block, &ns, &Reader::Kernel(profile));
        match (&outcome, verdict.view()) {
            (Outcome::Enabled(dev), Some(view)) => {
                assert_eq!(
                    (view.data_start, view.data_size),
                    (dev.dev_resource, dev.dev_size)
                );
            }
            (Outcome::Enabled(_), None) | (_, Some(_)) => {
                panic!("validator {outcome:?} but compat::check {verdict:?}")
            }
            _ => {}
        }
    }
}

/// Target `upgrade`: `compat::plan_upgrade` of an arbitrary block (checksum optionally fixed
/// up) in an arbitrary namespace to every format version.
///
/// Input: `[target, flags, ns_start: u64, ns_size: u64, 14 reserved bytes, block...]`;
/// target `% 6` indexes `FormatVersion::ALL`; flags bit 0 fixes the checksum.
///
/// A planned upgrade writes a block that verifies and has the target version, and data never
/// moves: every kernel profile that enables both the old and the new block exposes the same
/// data (resource and size, from the validator), and every reader the plan lists that read the
/// old block as its writer meant sees the same data before and after.
pub fn upgrade(data: &[u8]) {
    let mut input = Input { bytes: data };
    let target = FormatVersion::ALL[usize::from(input.u8()) % FormatVersion::ALL.len()];
    let flags = input.u8();
    let ns = Namespace::labelless(input.u64(), input.u64());
    for _ in 0..14 {
        input.u8();
    }
    let block = input.block(flags & 1 != 0);
    let plan = match compat::plan_upgrade(&block, &ns, target) {
        Ok(plan) => plan,
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
            return;
        }
    };
    assert_eq!(plan.target, target);
    assert_eq!(plan.block.verify_checksum(), Ok(()));
    assert_eq!(compat::format_version(&plan.block), target);
    assert_eq!(plan.block.signature, block.signature);
    assert_eq!(plan.block.uuid, block.uuid);
    assert_eq!(plan.block.parent_uuid, block.parent_uuid);
    for change in &plan.readers {
        // A reader that misread the old block (documented on plan_upgrade) may see the
        // data where the writer meant it after the upgrade.
        if change.before.is_misread() {
            continue;
        }
        if let (Some(before), Some(after)) = (change.before.view(), change.after.view()) {
            assert_eq!(
                (before.data_start, before.data_size),
                (after.data_start, after.data_size),
                "{:?} sees the data move",
                change.reader
            );
        }
    }
    for b in 0..55u8 {
        let profile = profile_of(b);
        let before = check_block_in_ns(&block, &ns, &ProbePath::Probe, &profile);
        let after = check_block_in_ns(&plan.block, &ns, &ProbePath::Probe, &profile);
        if let (Ok(Outcome::Enabled(old)), Ok(Outcome::Enabled(new))) = (before, after) {
            assert_eq!(
                (old.dev_resource, old.dev_size),
                (new.dev_resource, new.dev_size),
                "{} moves the data",
                profile.name()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// BTT (src/btt/): discovery and translation over a namespace built from the input.

use nvdimm_infoblock::btt::arena::{Btt, BttVersion, Namespace as BttNamespace};
use nvdimm_infoblock::btt::error::Error as BttError;
use nvdimm_infoblock::btt::layout::{create as btt_create, LayoutRequest as BttRequest};
use nvdimm_infoblock::btt::raw::{BttSb, MapState};
use nvdimm_infoblock::btt::read::Reader as BttReader;
use nvdimm_infoblock::io::{ReadAt, SliceError};
use zerocopy::FromBytes;

/// A namespace of `size` bytes that holds `info` at `info_at` and, everywhere else, the
/// bytes of `tail` repeated (zero when `tail` is empty): a few bytes of input describe a
/// namespace of any size, whose map and flog are whatever the tail makes them.
struct Synthetic<'a> {
    size: u64,
    info_at: u64,
    info: &'a [u8; 4096],
    tail: &'a [u8],
}

impl ReadAt for Synthetic<'_> {
    type Error = SliceError;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SliceError> {
        let end = offset.checked_add(buf.len() as u64);
        if end.map_or(true, |e| e > self.size) {
            return Err(SliceError {
                offset,
                len: buf.len(),
                size: usize::MAX,
            });
        }
        for (i, b) in buf.iter_mut().enumerate() {
            let at = offset + i as u64;
            *b = if (self.info_at..self.info_at + 4096).contains(&at) {
                self.info[(at - self.info_at) as usize]
            } else if self.tail.is_empty() {
                0
            } else {
                self.tail[(at % self.tail.len() as u64) as usize]
            };
        }
        Ok(())
    }
}

/// Properties of an opened BTT that come from the kernel's definitions (btt.c
/// `discover_arenas`, `btt_blk_init`, `lba_to_arena`): the arenas tile the namespace in
/// order from the placement, each inside it with its areas in order; `nlba` is the sum of
/// `external_nlba`; the capacity is `nlba * sector_size`; an LBA lands in the arena whose
/// range holds it.
fn check_btt<R: ReadAt>(ns: &mut R, n: &BttNamespace, btt: &Btt, lbas: [u64; 3])
where
    R::Error: std::fmt::Debug,
{
    assert!(n.size >= 16 << 20);
    assert_eq!(
        btt.sector_size,
        if btt.external_lbasize >= 4096 {
            4096
        } else {
            512
        }
    );
    assert_eq!(btt.capacity(), btt.nlba * u64::from(btt.sector_size));
    let mut next = n.version.info_offset();
    let mut nlba = 0u64;
    let mut count = 0u32;
    for arena in btt.arenas(ns) {
        let a = arena.expect("an opened BTT's arenas read again");
        assert_eq!(a.infooff, next);
        assert_eq!(a.external_lba_start, nlba);
        assert!(a.infooff + 4096 <= a.dataoff && a.dataoff <= a.mapoff);
        assert!(a.mapoff <= a.logoff && a.logoff <= a.info2off);
        assert!(a.info2off + 4096 <= a.infooff + a.size);
        assert!(a.infooff + a.size <= n.size);
        assert_eq!(a.internal_nlba, a.external_nlba + a.nfree);
        nlba += u64::from(a.external_nlba);
        next = a.infooff + a.size;
        count += 1;
    }
    assert_eq!((count, nlba), (btt.arena_count, btt.nlba));
    for lba in lbas {
        match btt.arena_for_lba(ns, lba) {
            Ok((a, premap)) => {
                assert!(lba < btt.nlba);
                assert_eq!(a.external_lba_start + u64::from(premap), lba);
                assert!(premap < a.external_nlba);
            }
            Err(BttError::Invalid(i)) => {
                assert!(lba >= btt.nlba, "{i}");
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

/// `btt_parse`: `[size u64][flags u8][info block 4096][tail…]`. Flags bit 0: v2.0 (info at
/// byte 0) instead of 1.1 (at 4096); bit 1: fix the checksum up (so the structure checks
/// run); bit 2: a labelled namespace whose uuid is the block's parent_uuid. Open never
/// panics or hangs; an opened BTT has the properties of `check_btt`; a refusal for a
/// checksum, signature or parent uuid is exactly what `nd_btt_arena_is_valid` checks.
pub fn btt_parse(data: &[u8]) {
    let mut size = [0u8; 8];
    let n = data.len().min(8);
    size[..n].copy_from_slice(&data[..n]);
    let size = u64::from_le_bytes(size);
    let flags = data.get(8).copied().unwrap_or(0);
    let mut info = [0u8; 4096];
    let body = data.get(9..).unwrap_or(&[]);
    let n = body.len().min(4096);
    info[..n].copy_from_slice(&body[..n]);
    let tail = body.get(4096..).unwrap_or(&[]);
    let version = if flags & 1 != 0 {
        BttVersion::V2_0
    } else {
        BttVersion::V1_1
    };
    let sb = BttSb::mut_from_bytes(&mut info[..]).unwrap();
    if flags & 2 != 0 {
        sb.update_checksum();
    }
    let uuid = if flags & 4 != 0 {
        sb.parent_uuid
    } else {
        Uuid::NIL
    };
    let sb = sb.clone();
    let n = BttNamespace {
        size,
        uuid,
        version,
    };
    let mut ns = Synthetic {
        size,
        info_at: version.info_offset(),
        info: &info,
        tail,
    };
    match Btt::open(&mut ns, &n) {
        Ok(btt) => {
            assert!(sb.has_signature());
            assert_eq!(sb.verify_checksum(), Ok(()));
            assert_eq!(
                (sb.version_major.get(), sb.version_minor.get()),
                (version.major(), version.minor())
            );
            assert_eq!(btt.external_lbasize, sb.external_lbasize.get());
            let lbas = [0, btt.nlba.saturating_sub(1), btt.nlba];
            check_btt(&mut ns, &n, &btt, lbas);
        }
        Err(BttError::Invalid(i)) => {
            let _ = format!("{i}");
            if !sb.has_signature() && size >= (16 << 20) + version.info_offset() {
                assert!(
                    matches!(
                        i,
                        nvdimm_infoblock::btt::error::Invalid::BadSignature { arena: 0, .. }
                    ),
                    "{i}"
                );
            }
        }
        Err(BttError::Io { offset, len, .. }) => {
            assert!(offset.saturating_add(len as u64) > size);
        }
        Err(e) => panic!("{e:?}"),
    }
}

/// A BTT made by `create` (17 MiB, v1.1, 512-byte sectors: 34226 blocks), built once.
fn btt_template() -> &'static [u8] {
    use std::sync::OnceLock;
    static IMG: OnceLock<Vec<u8>> = OnceLock::new();
    IMG.get_or_init(|| {
        let size = 17u64 << 20;
        let mut img = vec![0u8; size as usize];
        let req = BttRequest {
            namespace_size: size,
            lbasize: 512,
            version: BttVersion::V1_1,
            uuid: Uuid([0x42; 16]),
            parent_uuid: Uuid::NIL,
        };
        btt_create(&mut img.as_mut_slice(), &req).unwrap();
        img
    })
}

/// The template with byte edits laid over it.
struct Edited<'a> {
    base: &'a [u8],
    edits: &'a [(u64, u8)],
}

impl ReadAt for Edited<'_> {
    type Error = SliceError;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SliceError> {
        self.base.read_at(offset, buf)?;
        for &(at, b) in self.edits {
            if let Some(i) = at.checked_sub(offset) {
                if let Some(dst) = buf.get_mut(i as usize) {
                    *dst = b;
                }
            }
        }
        Ok(())
    }
}

/// `btt_translate`: `[lba u64]` then 5-byte edits `[which u8][index u16][value u8]` of the
/// template's map (which even: byte `index` of the first 64 KiB of the map) or flog (which
/// odd: byte `index` of the 16 KiB flog), as `(mapoff|logoff) + index % len`. Properties:
/// translation never panics; an LBA is in range iff `< nlba`; the entry used is the stored
/// one or, when a lane repaired it, a normal entry; the post-map block is the entry's
/// (`btt_map_read`), its data offset is `dataoff + postmap * 512` inside the data area, and
/// `read_lba` fails exactly for the error flag or a block past `internal_nlba`, and reads
/// zeros for the zero flag.
pub fn btt_translate(data: &[u8]) {
    let base = btt_template();
    let n = BttNamespace::labelless(17 << 20);
    // From the layout: mapoff 4096 + 17661952, logoff 4096 + 17801216 (tests/btt.rs arithmetic).
    let (mapoff, logoff, dataoff) = (4096 + 17_661_952u64, 4096 + 17_801_216u64, 8192u64);
    let mut lba = [0u8; 8];
    let k = data.len().min(8);
    lba[..k].copy_from_slice(&data[..k]);
    let lba = u64::from_le_bytes(lba);
    let edits: Vec<(u64, u8)> = data
        .get(8..)
        .unwrap_or(&[])
        .chunks_exact(4)
        .map(|e| {
            let index = u64::from(u16::from_le_bytes([e[1], e[2]]));
            if e[0] % 2 == 0 {
                (mapoff + index, e[3])
            } else {
                (logoff + index % 16384, e[3])
            }
        })
        .collect();
    let mut ns = Edited {
        base,
        edits: &edits,
    };
    let Ok(mut reader) = BttReader::open(&mut ns, &n) else {
        return;
    };
    let nlba = reader.btt().nlba;
    assert_eq!(nlba, 34_226);
    for lba in [lba, lba % nlba] {
        let t = reader.translate(&mut ns, lba);
        if lba >= nlba {
            assert!(t.is_err());
            continue;
        }
        let Ok(t) = t else { continue };
        assert_eq!(t.premap as u64, lba);
        match t.repaired_by_lane {
            None => assert_eq!(t.entry, t.stored),
            Some(lane) => {
                assert!(lane < 256);
                assert_eq!(t.entry.state(), MapState::Normal);
            }
        }
        assert_eq!(t.state, t.entry.state());
        let expect = if t.state == MapState::Identity {
            t.premap
        } else {
            t.entry.lba()
        };
        assert_eq!(t.postmap, expect);
        assert_eq!(t.data_offset.is_some(), t.postmap < 34_482);
        if let Some(off) = t.data_offset {
            assert_eq!(off, dataoff + u64::from(t.postmap) * 512);
            assert!(off + 512 <= mapoff);
        }
        let mut buf = [0xa5u8; 512];
        let r = reader.read_lba(&mut ns, lba, &mut buf);
        match t.state {
            MapState::Error => assert!(r.is_err()),
            MapState::Zero => {
                assert!(r.is_ok());
                assert_eq!(buf, [0; 512]);
            }
            _ => assert_eq!(r.is_ok(), t.data_offset.is_some()),
        }
    }
}
