//! The kernel's `nd_fletcher64` (drivers/nvdimm/core.c) and `nd_sb_checksum`
//! (drivers/nvdimm/claim.c).
//!
//! This is **not** textbook Fletcher-64. The kernel views the buffer as little-endian 32-bit
//! words (a trailing partial word is ignored), keeps a 32-bit low sum that wraps modulo 2^32,
//! adds the low sum to a 64-bit high sum after every word, and returns `(hi << 32) | lo`, so
//! only the low 32 bits of the high sum survive. Textbook Fletcher reduces modulo 2^32 − 1
//! and gives different values (for example on 0xFF-filled buffers).
//!
//! Because only `hi mod 2^32` survives, `hi = Σ w[i]·(n − i) mod 2^32` over the n words,
//! which lets the sum run in independent lanes (as Adler-32 is vectorised); the result is
//! identical to the sequential definition for every input (property-tested against a plain
//! reference loop in `tests/checksum.rs`).

use crate::error::ParseError;
use crate::raw::{offset, InfoBlock};
use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, IntoBytes};

/// Number of independent lanes in the main loop.
const LANES: usize = 16;
/// Bytes consumed per iteration of the main loop.
const STRIDE: usize = LANES * 4;
/// `LANES` as the u32 multiplier of the lane recombination (checked at compile time).
const LANES_U32: u32 = {
    assert!(LANES <= 64);
    #[allow(clippy::as_conversions, clippy::cast_possible_truncation)]
    let n = LANES as u32;
    n
};

/// Running state of the sum: `(lo, hi mod 2^32)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    lo: u32,
    hi: u32,
}

impl State {
    const ZERO: Self = Self { lo: 0, hi: 0 };

    /// One word, exactly as the kernel's loop does it.
    #[inline(always)]
    const fn push(self, word: u32) -> Self {
        let lo = self.lo.wrapping_add(word);
        Self {
            lo,
            hi: self.hi.wrapping_add(lo),
        }
    }

    /// Adds every whole little-endian word of `bytes` (a trailing partial word is ignored).
    ///
    /// The bulk is viewed in place as rows of `LANES` little-endian words (zerocopy, no copy
    /// and no bounds checks), so the lane loop is plain array arithmetic that LLVM keeps in
    /// SSE2 registers on the default x86_64 target.
    ///
    /// Never inlined: where the length is a constant (4088 bytes in
    /// [`InfoBlock::compute_checksum`]) LLVM otherwise unrolls the rows into scalar code that
    /// runs six times slower.
    #[inline(never)]
    fn feed(self, bytes: &[u8]) -> Self {
        let row_count = bytes.len().checked_div(STRIDE).unwrap_or(0);
        // Cannot fail (the length is computed above); if it did, every word would go through
        // the sequential tail below, which gives the same sum.
        let (rows, tail) =
            <[[U32; LANES]]>::ref_from_prefix_with_elems(bytes, row_count).unwrap_or((&[], bytes));
        // Lane j sees words j, j+LANES, j+2·LANES, ...; `a[j]` is its running sum and
        // `c[j]` the sum of its running sums, all modulo 2^32.
        let mut a = [0u32; LANES];
        let mut c = [0u32; LANES];
        let mut n: u32 = 0;
        for row in rows {
            for ((aj, cj), w) in a.iter_mut().zip(c.iter_mut()).zip(row) {
                *aj = aj.wrapping_add(w.get());
                *cj = cj.wrapping_add(*aj);
            }
            n = n.wrapping_add(LANES_U32);
        }
        // Recombine: for the n = rows·LANES words w[i] (i = row·LANES + j),
        //   lo_part = Σ w[i],   hi_part = Σ w[i]·(n − i) = LANES·Σ c[j] − Σ j·a[j].
        let mut lo_part: u32 = 0;
        let mut sum_c: u32 = 0;
        let mut weighted: u32 = 0;
        let mut j: u32 = 0;
        for (aj, cj) in a.iter().zip(c.iter()) {
            lo_part = lo_part.wrapping_add(*aj);
            sum_c = sum_c.wrapping_add(*cj);
            weighted = weighted.wrapping_add(j.wrapping_mul(*aj));
            j = j.wrapping_add(1);
        }
        let hi_part = LANES_U32.wrapping_mul(sum_c).wrapping_sub(weighted);
        let mut state = Self {
            lo: self.lo.wrapping_add(lo_part),
            hi: self
                .hi
                .wrapping_add(n.wrapping_mul(self.lo))
                .wrapping_add(hi_part),
        };
        for word in tail.chunks_exact(4) {
            let w = <[u8; 4]>::try_from(word).unwrap_or_default();
            state = state.push(u32::from_le_bytes(w));
        }
        state
    }

    fn finish(self) -> u64 {
        // Kernel: (hi32 << 32) | lo32 with hi32 held in a u64; the shift drops its upper half.
        (u64::from(self.hi) << 32) | u64::from(self.lo)
    }
}

/// The kernel's `nd_fletcher64(addr, len, le = true)`.
///
/// `bytes` is read as `len / 4` little-endian 32-bit words; a trailing partial word is
/// ignored. This is not textbook Fletcher-64: the low sum wraps modulo 2^32 (textbook
/// Fletcher reduces modulo 2^32 − 1), and only the low 32 bits of the high sum survive the
/// final shift.
///
/// ```
/// use nvdimm_infoblock::nd_fletcher64;
/// assert_eq!(nd_fletcher64(b"abcdefgh"), 0x312e_2b27_ccca_c8c6);
/// assert_eq!(nd_fletcher64(&[0xff; 4096]), 0xfff7_fe00_ffff_fc00);
/// ```
#[must_use]
pub fn nd_fletcher64(bytes: &[u8]) -> u64 {
    State::ZERO.feed(bytes).finish()
}

impl InfoBlock {
    /// `nd_sb_checksum`: the checksum of this block with its `checksum` field taken as zero.
    ///
    /// Borrows the block and copies nothing: the two zero words of the checksum field are
    /// folded in arithmetically.
    #[must_use]
    pub fn compute_checksum(&self) -> u64 {
        let body = self.as_bytes().get(..offset::CHECKSUM).unwrap_or(&[]);
        State::ZERO.feed(body).push(0).push(0).finish()
    }

    /// Stores [`InfoBlock::compute_checksum`] in the `checksum` field.
    pub fn update_checksum(&mut self) {
        let sum = self.compute_checksum();
        self.checksum.set(sum);
    }

    /// Checks the stored checksum, as `nd_pfn_validate` does.
    ///
    /// # Errors
    /// [`ParseError::ChecksumMismatch`] with the stored and the computed values.
    pub fn verify_checksum(&self) -> Result<(), ParseError> {
        let stored = self.checksum.get();
        let computed = self.compute_checksum();
        if stored == computed {
            Ok(())
        } else {
            Err(ParseError::ChecksumMismatch { stored, computed })
        }
    }
}
