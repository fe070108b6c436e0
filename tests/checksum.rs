//! `nd_fletcher64` and `nd_sb_checksum` against FORMAT.md §2.3 and a plain reference loop.

use nvdimm_infoblock::{nd_fletcher64, InfoBlock, ParseError};
use proptest::prelude::*;
use zerocopy::IntoBytes;

/// The kernel's loop written the obvious way (FORMAT.md §2.1): u32 lo wrapping, u64 hi,
/// `(hi << 32) | lo` with the shift dropping hi's upper half.
fn reference(bytes: &[u8]) -> u64 {
    let mut lo: u32 = 0;
    let mut hi: u64 = 0;
    for w in bytes.chunks_exact(4) {
        lo = lo.wrapping_add(u32::from_le_bytes(w.try_into().unwrap()));
        hi = hi.wrapping_add(u64::from(lo));
    }
    (hi << 32) | u64::from(lo)
}

fn block_from(bytes: &[u8]) -> &InfoBlock {
    InfoBlock::from_bytes(bytes).unwrap()
}

#[test]
fn t1_zeros() {
    assert_eq!(nd_fletcher64(&[0u8; 4096]), 0);
    assert_eq!(block_from(&[0u8; 4096]).compute_checksum(), 0);
}

#[test]
fn t2_all_ff() {
    let b = [0xffu8; 4096];
    assert_eq!(nd_fletcher64(&b), 0xfff7_fe00_ffff_fc00);
    assert_eq!(block_from(&b).compute_checksum(), 0xfff7_fe03_ffff_fc02);
}

#[test]
fn t3_counting_bytes() {
    let b: Vec<u8> = (0..4096u32).map(|i| (i % 256) as u8).collect();
    assert_eq!(nd_fletcher64(&b), 0x9385_a800_01fd_f800);
    assert_eq!(block_from(&b).compute_checksum(), 0x9b90_b614_0604_000c);
}

#[test]
fn t4_ascii() {
    assert_eq!(nd_fletcher64(b"abcd"), 0x6463_6261_6463_6261);
    assert_eq!(nd_fletcher64(b"abcdefgh"), 0x312e_2b27_ccca_c8c6);
    // A trailing partial word is ignored.
    assert_eq!(nd_fletcher64(b"abcdefghXYZ"), 0x312e_2b27_ccca_c8c6);
    assert_eq!(nd_fletcher64(b""), 0);
    assert_eq!(nd_fletcher64(b"abc"), 0);
}

/// Blocks A–D of FORMAT.md §2.3, built by hand at the byte level.
fn vector_block(sig: &[u8; 16], minor: u16, f: [u64; 8], psize: u32, pss: u16) -> Vec<u8> {
    let [dataoff, npfns, mode, start_pad, end_trunc, align, _, _] = f;
    let mut b = vec![0u8; 4096];
    b[0..16].copy_from_slice(sig);
    for i in 0..16 {
        b[16 + i] = i as u8;
        b[32 + i] = 0x10 + i as u8;
    }
    b[52..54].copy_from_slice(&1u16.to_le_bytes());
    b[54..56].copy_from_slice(&minor.to_le_bytes());
    b[56..64].copy_from_slice(&dataoff.to_le_bytes());
    b[64..72].copy_from_slice(&npfns.to_le_bytes());
    b[72..76].copy_from_slice(&(mode as u32).to_le_bytes());
    b[76..80].copy_from_slice(&(start_pad as u32).to_le_bytes());
    b[80..84].copy_from_slice(&(end_trunc as u32).to_le_bytes());
    b[84..88].copy_from_slice(&(align as u32).to_le_bytes());
    b[88..92].copy_from_slice(&psize.to_le_bytes());
    b[92..94].copy_from_slice(&pss.to_le_bytes());
    b
}

#[test]
fn blocks_a_to_d() {
    let pfn = b"NVDIMM_PFN_INFO\0";
    let dax = b"NVDIMM_DAX_INFO\0";
    let a = vector_block(
        pfn,
        4,
        [0x120_0000, 0x3ee00, 2, 0, 0, 0x20_0000, 0, 0],
        4096,
        64,
    );
    let bb = vector_block(
        pfn,
        4,
        [0x20_0000, 0x3fe00, 1, 0, 0, 0x20_0000, 0, 0],
        4096,
        64,
    );
    let c = vector_block(
        dax,
        4,
        [0x120_0000, 0x3ee00, 2, 0, 0, 0x20_0000, 0, 0],
        4096,
        64,
    );
    let d = vector_block(
        pfn,
        2,
        [0x120_0000, 0x3ae00, 2, 0x400_0000, 0, 0x20_0000, 0, 0],
        0,
        0,
    );
    assert_eq!(block_from(&a).compute_checksum(), 0xcb6f_555c_6d1a_aee2);
    assert_eq!(block_from(&bb).compute_checksum(), 0xd9ae_516e_6c1a_bee1);
    assert_eq!(block_from(&c).compute_checksum(), 0xd797_2d66_611a_b8dd);
    assert_eq!(block_from(&d).compute_checksum(), 0x764d_bb1c_7118_5ea2);
    // Block A's first 96 bytes as printed in §2.3.
    let hex: String = a[..96].iter().map(|b| format!("{b:02x}")).collect();
    let spec = "4e5644494d4d5f50464e5f494e464f00 000102030405060708090a0b0c0d0e0f \
                101112131415161718191a1b1c1d1e1f 00000000 0100 0400 0000200100000000 \
                00ee030000000000 02000000 00000000 00000000 00002000 00100000 4000 0000";
    assert_eq!(hex, spec.split_whitespace().collect::<String>());
}

#[test]
fn stored_checksum_is_ignored_and_verified() {
    let mut bytes = vector_block(
        b"NVDIMM_PFN_INFO\0",
        4,
        [0x20_0000, 0x3fe00, 1, 0, 0, 0x20_0000, 0, 0],
        4096,
        64,
    );
    bytes[4088..].copy_from_slice(&0xdead_beef_u64.to_le_bytes());
    let block = InfoBlock::from_bytes_mut(&mut bytes).unwrap();
    assert_eq!(block.compute_checksum(), 0xd9ae_516e_6c1a_bee1);
    assert_eq!(
        block.verify_checksum(),
        Err(ParseError::ChecksumMismatch {
            stored: 0xdead_beef,
            computed: 0xd9ae_516e_6c1a_bee1
        })
    );
    block.update_checksum();
    assert_eq!(block.verify_checksum(), Ok(()));
    assert_eq!(
        &block.as_bytes()[4088..],
        &0xd9ae_516e_6c1a_bee1_u64.to_le_bytes()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn equals_reference_loop(bytes in proptest::collection::vec(any::<u8>(), 0..=8192)) {
        prop_assert_eq!(nd_fletcher64(&bytes), reference(&bytes));
    }

    #[test]
    fn equals_reference_on_ff_heavy_input(len in 0usize..=8192, fill in prop_oneof![Just(0xffu8), any::<u8>()]) {
        let bytes = vec![fill; len];
        prop_assert_eq!(nd_fletcher64(&bytes), reference(&bytes));
    }

    #[test]
    fn block_checksum_equals_reference_with_field_zeroed(bytes in proptest::collection::vec(any::<u8>(), 4096)) {
        let mut zeroed = bytes.clone();
        zeroed[4088..].fill(0);
        prop_assert_eq!(block_from(&bytes).compute_checksum(), reference(&zeroed));
    }

    /// Any change to a single word is caught (the low sum changes).
    #[test]
    fn single_word_corruption_is_detected(word in 0usize..1022, delta in 1u32..) {
        let mut bytes = vec![0u8; 4096];
        let block = InfoBlock::from_bytes_mut(&mut bytes).unwrap();
        block.update_checksum();
        let off = word * 4;
        let old = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
        bytes[off..off + 4].copy_from_slice(&old.wrapping_add(delta).to_le_bytes());
        let is_mismatch = matches!(block_from(&bytes).verify_checksum(), Err(ParseError::ChecksumMismatch { .. }));
        prop_assert!(is_mismatch);
    }
}

#[test]
fn every_length_0_to_8192_matches_reference() {
    let data: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for len in 0..=8192 {
        assert_eq!(
            nd_fletcher64(&data[..len]),
            reference(&data[..len]),
            "len {len}"
        );
    }
}

/// The main loop reads 16-byte-aligned groups of words when the buffer is word-aligned (after
/// the words before the first 16-byte boundary) and unaligned groups otherwise: every start
/// offset within a 64-byte-aligned buffer, with every length up to 700 bytes and the block
/// sizes, gives the reference loop's sum.
#[test]
fn every_start_offset_matches_reference() {
    #[repr(C, align(64))]
    struct Aligned([u8; 8256]);
    let mut buf = Box::new(Aligned([0; 8256]));
    for (i, b) in buf.0.iter_mut().enumerate() {
        *b = ((i as u32).wrapping_mul(2_654_435_761) >> 11) as u8;
    }
    assert_eq!(buf.0.as_ptr() as usize % 64, 0);
    for off in 0..=64 {
        let lens = (0..=700).chain([4088, 4092, 4096, 4100, 8192 - 4, 8192]);
        for len in lens {
            let bytes = &buf.0[off..off + len];
            assert_eq!(
                nd_fletcher64(bytes),
                reference(bytes),
                "offset {off} len {len}"
            );
        }
    }
}
