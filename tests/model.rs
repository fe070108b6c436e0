//! Property tests of the model layer: the round-trip laws of STYLE.md §2 ("Parse, validate,
//! build", step 5), corruption and truncation.
//!
//! * `parse(emit(x)) == x` for every canonical model value x (all versions 1.0..1.4, minors up
//!   to 9, majors 0..2 and random, both kinds, the 2019 dialect with a non-zero `min_version`).
//! * `emit(parse(b)) == b` for every canonical block b (blocks emitted from random canonical
//!   values, and every block ndctl wrote in tests/data/ndctl).
//! * A single changed byte gives `BadSignature` (bytes 0..16) or `ChecksumMismatch`.
//! * A buffer of any length other than 4096 or ≥ 8192 gives `InvalidLength`.

use std::path::PathBuf;

use nvdimm_infoblock::{
    parse, DeviceKind, Dialect, DialectChoice, InfoBlock, Mode, ParseError, ParseOptions, PfnInfo,
    Signature, Uuid, Version,
};
use proptest::prelude::*;
use zerocopy::IntoBytes;

/// Reader options: a few real page sizes (4K x86/arm64, 16K arm64, 64K ppc64/arm64) and any
/// value, with each dialect choice.
fn options() -> impl Strategy<Value = ParseOptions> {
    let page_size = prop_oneof![Just(4096u32), Just(16384), Just(65536), any::<u32>()];
    let dialect = prop_oneof![
        Just(DialectChoice::Auto),
        Just(DialectChoice::Upstream),
        Just(DialectChoice::MinVersion2019)
    ];
    (page_size, dialect).prop_map(|(page_size, dialect)| ParseOptions {
        page_size,
        dialect,
        verify_checksum: true,
    })
}

fn version() -> impl Strategy<Value = Version> {
    let major = prop_oneof![Just(1u16), Just(0), Just(2), any::<u16>()];
    // Minors 0..=4 are upstream; 5..=9 are future minors read as 4.
    (major, 0u16..=9).prop_map(|(major, minor)| Version::new(major, minor))
}

fn uuid() -> impl Strategy<Value = Uuid> {
    prop_oneof![Just(Uuid::NIL), any::<[u8; 16]>().prop_map(Uuid)]
}

/// A model value that is canonical under `o`: every field the version lacks holds the value
/// the kernel's defaulting gives it (FORMAT.md §3.7 step 7), and `min_version` is present
/// exactly when `o`'s dialect choice would read one.
fn canonical_info(o: ParseOptions) -> impl Strategy<Value = PfnInfo> {
    let kind = prop_oneof![Just(DeviceKind::Fsdax), Just(DeviceKind::Devdax)];
    let mode = prop_oneof![
        Just(Mode::RAM),
        Just(Mode::PMEM),
        any::<u32>().prop_map(Mode)
    ];
    (
        (kind, uuid(), uuid(), any::<u32>(), version()),
        (any::<u64>(), any::<u64>(), mode),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u16>(),
        ),
        (prop_oneof![Just(0u16), any::<u16>()], any::<bool>()),
    )
        .prop_map(move |(head, body, tail, (min, use_2019))| {
            let (kind, uuid, parent_uuid, flags, version) = head;
            let (dataoff, npfns, mode) = body;
            let (start_pad, end_trunc, align, page_size, page_struct_size) = tail;
            let minor = version.minor;
            let min_version = match (o.dialect, minor) {
                // Under Auto, minor 3 is either dialect: upstream, or 2019 with min != 0.
                (DialectChoice::Auto, 3) if use_2019 && min != 0 => Some(min),
                (DialectChoice::MinVersion2019, 3) => Some(min),
                _ => None,
            };
            PfnInfo {
                kind,
                uuid,
                parent_uuid,
                flags,
                version,
                dataoff,
                npfns,
                mode,
                start_pad: if minor >= 1 { start_pad } else { 0 },
                end_trunc: if minor >= 1 { end_trunc } else { 0 },
                align: if minor >= 2 { align } else { 0 },
                page_size: if minor >= 4 { page_size } else { o.page_size },
                page_struct_size: if minor >= 4 { page_struct_size } else { 64 },
                min_version,
            }
        })
}

fn options_and_info() -> impl Strategy<Value = (ParseOptions, PfnInfo)> {
    options().prop_flat_map(|o| canonical_info(o).prop_map(move |x| (o, x)))
}

/// The bytes 4096..8192 of a head, or a bare 4096-byte block.
fn block_bytes(info: &PfnInfo) -> Vec<u8> {
    info.to_block().unwrap().as_bytes().to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// parse(emit(x)) == x.
    #[test]
    fn parse_emit_is_identity((o, x) in options_and_info()) {
        prop_assert!(x.is_canonical(&o));
        let bytes = block_bytes(&x);
        let parsed = parse(&bytes, &o).unwrap();
        prop_assert_eq!(parsed.info, x);
        prop_assert_eq!(parsed.info.dialect() == Dialect::MinVersion2019, x.min_version.is_some());
        // emit overwrites every byte: into a 0xa5-filled block it gives the same bytes.
        let mut dirty = vec![0xa5u8; 4096];
        x.emit(InfoBlock::from_bytes_mut(&mut dirty).unwrap()).unwrap();
        prop_assert_eq!(&dirty, &bytes);
        // The same through a namespace head with junk before and after the block.
        let mut head = vec![0x5au8; 8192 + 17];
        head[4096..8192].copy_from_slice(&bytes);
        prop_assert_eq!(parse(&head, &o).unwrap().info, x);
    }

    /// emit(parse(b)) == b for canonical blocks (here: emitted from canonical values).
    #[test]
    fn emit_parse_is_identity((o, x) in options_and_info()) {
        let b = block_bytes(&x);
        let y = parse(&b, &o).unwrap().info;
        prop_assert_eq!(block_bytes(&y), b);
    }

    /// For any block with a valid signature and checksum, whatever its padding and the
    /// fields its version lacks hold, one parse/emit pass normalizes it: parsing the emitted
    /// block gives the same value again.
    #[test]
    fn normalization_is_stable(
        o in options(),
        seed in any::<u64>(),
        dax in any::<bool>(),
        minor in 0u16..=9,
    ) {
        // 4 KiB of xorshift noise from the seed (a 4096-element proptest vector is slow).
        let mut state = seed | 1;
        let mut raw: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[3]
            })
            .collect();
        let sig = if dax { Signature::DAX } else { Signature::PFN };
        raw[..16].copy_from_slice(&sig.0);
        raw[54..56].copy_from_slice(&minor.to_le_bytes());
        InfoBlock::from_bytes_mut(&mut raw).unwrap().update_checksum();
        let y = parse(&raw, &o).unwrap().info;
        prop_assert!(y.is_canonical(&o));
        let again = parse(&block_bytes(&y), &o).unwrap().info;
        prop_assert_eq!(again, y);
    }

    /// Any single-byte change is caught: in the signature as BadSignature (PFN and DAX differ
    /// in three bytes, so one byte cannot turn one into the other), elsewhere as a checksum
    /// mismatch (FORMAT.md §2: the low sum changes for any non-zero change to one word).
    #[test]
    fn single_byte_corruption((o, x) in options_and_info(), at in 0usize..4096, xor in 1u8..) {
        let good = block_bytes(&x);
        let checksum = u64::from_le_bytes(good[4088..].try_into().unwrap());
        let mut bad = good.clone();
        bad[at] ^= xor;
        let got = parse(&bad, &o).map(|p| p.info);
        if at < 16 {
            let mut found = [0u8; 16];
            found.copy_from_slice(&bad[..16]);
            prop_assert_eq!(got, Err(ParseError::BadSignature { found: Signature(found) }));
        } else if at >= 4088 {
            // The stored checksum changed; the computed one is the original.
            let stored = u64::from_le_bytes(bad[4088..].try_into().unwrap());
            prop_assert_eq!(got, Err(ParseError::ChecksumMismatch { stored, computed: checksum }));
        } else {
            match got {
                Err(ParseError::ChecksumMismatch { stored, computed }) => {
                    prop_assert_eq!(stored, checksum);
                    prop_assert_ne!(computed, checksum);
                }
                other => prop_assert!(false, "byte {at}: {other:?}"),
            }
        }
    }

    /// Every length that is neither 4096 nor ≥ 8192 is refused with its length.
    #[test]
    fn truncation((o, x) in options_and_info(), len in prop_oneof![0usize..4096, 4097usize..8192]) {
        let mut head = vec![0u8; 8192];
        head[4096..].copy_from_slice(&block_bytes(&x));
        prop_assert_eq!(
            parse(&head[..len], &o).map(|p| p.info),
            Err(ParseError::InvalidLength { len })
        );
    }
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/ndctl")
}

/// emit(parse(b)) == b for every block ndctl wrote (all are canonical v1.4 blocks: zero
/// padding, every field present).
#[test]
fn ndctl_blocks_round_trip() {
    let mut seen = 0;
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("bin") {
            continue;
        }
        let head = std::fs::read(&path).unwrap();
        assert_eq!(head.len(), 8192, "{}", path.display());
        for dialect in [
            DialectChoice::Auto,
            DialectChoice::Upstream,
            DialectChoice::MinVersion2019,
        ] {
            let o = ParseOptions {
                dialect,
                ..ParseOptions::DEFAULT
            };
            let parsed = parse(&head, &o).unwrap();
            assert_eq!(parsed.info.version, Version::V1_4, "{}", path.display());
            assert_eq!(parsed.info.min_version, None, "{}", path.display());
            assert_eq!(
                block_bytes(&parsed.info),
                head[4096..],
                "{}",
                path.display()
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 36, "the ndctl corpus has 36 good blocks");
}

/// Truncating a real ndctl head: exactly the lengths 4096 and ≥ 8192 are accepted, and a
/// 4096-byte prefix of a head is the reserved (zero) area, not a block.
#[test]
fn ndctl_head_truncations() {
    let head = std::fs::read(data_dir().join("fsdax-1G-default.bin")).unwrap();
    for len in 0..=8192usize {
        let got = parse(&head[..len], &ParseOptions::DEFAULT).map(|p| p.info);
        match len {
            4096 => assert_eq!(
                got,
                Err(ParseError::BadSignature {
                    found: Signature([0; 16])
                })
            ),
            8192 => assert!(got.is_ok()),
            _ => assert_eq!(got, Err(ParseError::InvalidLength { len })),
        }
    }
}
