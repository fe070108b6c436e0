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
/// `nd_fletcher64` equals the reference loop; `InfoBlock::locate` accepts exactly 4096 bytes
/// or at least 8192 (block at 4096) and borrows those bytes; `PfnInfo::parse` never panics,
/// returns the error the bytes call for with the right class, and whatever it parses emits
/// and re-parses to the same value.
pub fn parse(data: &[u8]) {
    assert_eq!(nd_fletcher64(data), reference_fletcher(data));
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
