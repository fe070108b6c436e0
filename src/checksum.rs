//! The kernel's `nd_fletcher64` (drivers/nvdimm/core.c), and the sum of a structure with its
//! own checksum field read as zero (`nd_sb_checksum`, drivers/nvdimm/claim.c). Nothing here
//! knows a format: each format's block has its own `compute/update/verify_checksum`.
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

use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// Groups of four words in one row of the main loop (16 lanes: four SSE2 registers for the
/// running sums and four for the sums of running sums on x86_64).
const QUADS: usize = 4;
/// Rows per step of the main loop. Two rows per step (which LLVM unrolls further) measured
/// 5–8 % faster than one (BENCHMARKS.md).
const UNROLL: usize = 2;
/// Alignment, in bytes, that lets the main loop read each group of four words with one
/// aligned load.
const QUAD_ALIGN: usize = 16;

/// Four words of the buffer as the main loop reads them.
trait Quad {
    /// The four words, converted from little-endian.
    fn words(&self) -> [u32; 4];
}

/// Four little-endian words at a 16-byte-aligned address.
///
/// Read as one aligned 16-byte value, so that LLVM folds the load into the addition
/// (`paddd xmm, m128` needs the alignment on SSE2); with unaligned words it emits a
/// separate `movdqu` per group, and the loop then runs about 20 % slower (BENCHMARKS.md).
#[derive(Clone, Copy, FromBytes, KnownLayout, Immutable)]
#[repr(C, align(16))]
struct AlignedQuad([u32; 4]);

impl Quad for AlignedQuad {
    #[inline(always)]
    fn words(&self) -> [u32; 4] {
        let Self([w0, w1, w2, w3]) = *self;
        [
            u32::from_le(w0),
            u32::from_le(w1),
            u32::from_le(w2),
            u32::from_le(w3),
        ]
    }
}

impl Quad for [U32; 4] {
    #[inline(always)]
    fn words(&self) -> [u32; 4] {
        self.map(U32::get)
    }
}

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

    /// Adds the whole little-endian words of `bytes` one at a time (a trailing partial word
    /// is ignored).
    #[inline(always)]
    fn words(self, bytes: &[u8]) -> Self {
        let mut state = self;
        for word in bytes.chunks_exact(4) {
            let w = <[u8; 4]>::try_from(word).unwrap_or_default();
            state = state.push(u32::from_le_bytes(w));
        }
        state
    }

    /// Adds the rows of `steps`, then the rows of `last`, each row `QUADS` groups of four
    /// words, in L = 16 independent lanes.
    ///
    /// Lane j sees words j, j+L, j+2·L, ...; `a[j]` is its running sum and
    /// `c[j]` the sum of its running sums, all modulo 2^32. For the n = rows·L words `w[i]`
    /// (i = row·L + j) that gives `Σ w[i] = Σ a[j]` and
    /// `Σ w[i]·(n − i) = L·Σ c[j] − Σ j·a[j]`, which the kernel's sequential sum continues
    /// from `self` as `hi + n·lo + Σ w[i]·(n − i)`.
    #[inline(always)]
    fn lanes<Q: Quad>(self, steps: &[[[Q; QUADS]; UNROLL]], last: &[[Q; QUADS]]) -> Self {
        let mut a = [[0u32; 4]; QUADS];
        let mut c = [[0u32; 4]; QUADS];
        let mut row_count: u32 = 0;
        let step = |a: &mut [[u32; 4]; QUADS], c: &mut [[u32; 4]; QUADS], row: &[Q; QUADS]| {
            for ((aq, cq), quad) in a.iter_mut().zip(c.iter_mut()).zip(row) {
                for ((aj, cj), w) in aq.iter_mut().zip(cq.iter_mut()).zip(quad.words()) {
                    *aj = aj.wrapping_add(w);
                    *cj = cj.wrapping_add(*aj);
                }
            }
        };
        for rows in steps {
            for row in rows {
                step(&mut a, &mut c, row);
                row_count = row_count.wrapping_add(1);
            }
        }
        for row in last {
            step(&mut a, &mut c, row);
            row_count = row_count.wrapping_add(1);
        }
        let mut lo_part: u32 = 0;
        let mut sum_c: u32 = 0;
        let mut weighted: u32 = 0;
        let mut j: u32 = 0;
        for (aq, cq) in a.iter().zip(c.iter()) {
            for (aj, cj) in aq.iter().zip(cq.iter()) {
                lo_part = lo_part.wrapping_add(*aj);
                sum_c = sum_c.wrapping_add(*cj);
                weighted = weighted.wrapping_add(j.wrapping_mul(*aj));
                j = j.wrapping_add(1);
            }
        }
        // `j` has counted the lanes.
        let n = row_count.wrapping_mul(j);
        let hi_part = j.wrapping_mul(sum_c).wrapping_sub(weighted);
        Self {
            lo: self.lo.wrapping_add(lo_part),
            hi: self
                .hi
                .wrapping_add(n.wrapping_mul(self.lo))
                .wrapping_add(hi_part),
        }
    }

    /// Adds `bytes` as rows of `QUADS` groups of four words of type `Q` (16 lanes), then the
    /// last words (fewer than 16) one at a time.
    ///
    /// `None` only if `bytes` cannot be viewed as rows of `Q`, that is when `Q` needs an
    /// alignment that `bytes` does not have.
    #[inline(always)]
    fn rows<Q: Quad + FromBytes + KnownLayout + Immutable>(self, bytes: &[u8]) -> Option<Self> {
        let step_count = bytes.len().checked_div(size_of::<[[Q; QUADS]; UNROLL]>())?;
        let (steps, rest) =
            <[[[Q; QUADS]; UNROLL]]>::ref_from_prefix_with_elems(bytes, step_count).ok()?;
        let row_count = rest.len().checked_div(size_of::<[Q; QUADS]>())?;
        let (last, rest) = <[[Q; QUADS]]>::ref_from_prefix_with_elems(rest, row_count).ok()?;
        Some(self.lanes(steps, last).words(rest))
    }

    /// Adds every whole little-endian word of `bytes` (a trailing partial word is ignored).
    ///
    /// The bulk is viewed in place (zerocopy, no copy and no bounds checks) as rows of 16
    /// words, so the lane loop is plain array arithmetic that LLVM keeps in SSE2 registers on
    /// the default x86_64 target. When the buffer is word-aligned, the words before the
    /// first 16-byte boundary go one at a time and the rows are read as aligned groups
    /// ([`AlignedQuad`]); otherwise the rows are read unaligned. Both give the sequential
    /// sum exactly (tested for every start offset 0..=64 within an aligned buffer with lengths
    /// 0..=700 and the block sizes, in `tests/checksum.rs`; the unit test below checks that an
    /// aligned body takes the aligned read).
    ///
    /// Never inlined: where the length is a constant (4088 bytes in
    /// `InfoBlock::compute_checksum`) LLVM otherwise unrolls the rows into scalar code that
    /// runs six times slower.
    #[inline(never)]
    fn feed(self, bytes: &[u8]) -> Self {
        let skip = bytes.as_ptr().align_offset(QUAD_ALIGN);
        if skip.trailing_zeros() >= 2 {
            if let Some((head, body)) = bytes.split_at_checked(skip) {
                if let Some(state) = self.words(head).rows::<AlignedQuad>(body) {
                    return state;
                }
            }
        }
        // Cannot fail (every length and alignment is accepted); if it did, every word would
        // go through the sequential loop, which gives the same sum.
        self.rows::<[U32; 4]>(bytes)
            .unwrap_or_else(|| self.words(bytes))
    }

    /// Adds every whole little-endian word of a short buffer (a label of 128 or 256 bytes)
    /// in four lanes: [`State::feed`]'s sixteen lanes and its alignment split cost more than
    /// they save on a few rows. Never inlined: inlined into the label scan, where the length
    /// is known, LLVM unrolls the rows into half-scalar code that ran 10 % slower overall. The same lane arithmetic as [`State::lanes`] with
    /// L = 4: `Σ w[i]·(n − i) = 4·Σ c[j] − Σ j·a[j]` over the n = 4·rows words.
    #[inline(never)]
    fn feed_short(self, bytes: &[u8]) -> Self {
        // Aligned rows (labels of a page-aligned area always are) let the loads fold into
        // the additions.
        let rows = bytes.len() / 16;
        if let Ok((quads, rest)) = <[AlignedQuad]>::ref_from_prefix_with_elems(bytes, rows) {
            return self.short_rows(quads).words(rest);
        }
        match <[[U32; 4]]>::ref_from_prefix_with_elems(bytes, rows) {
            Ok((quads, rest)) => self.short_rows(quads).words(rest),
            Err(_) => self.words(bytes),
        }
    }

    /// The sum from zero of whole aligned blocks of eight rows (128 bytes: a label of a
    /// page-aligned area is one or two), without [`State::feed_short`]'s alignment test and
    /// tail. LLVM unrolls the eight rows of a block in SSE2 registers and needs no remainder
    /// loop. Never inlined, for the reason given there; the block count goes through
    /// `black_box` so that LLVM, seeing only calls with two blocks, does not specialise the
    /// loop into the same half-scalar code.
    #[inline(never)]
    fn from_aligned_rows(blocks: &[[AlignedQuad; 8]]) -> Self {
        let len = core::hint::black_box(blocks.len());
        let blocks = blocks.get(..len).unwrap_or(blocks);
        let mut a = [0u32; 4];
        let mut c = [0u32; 4];
        for block in blocks {
            for quad in block {
                for ((aj, cj), w) in a.iter_mut().zip(c.iter_mut()).zip(quad.words()) {
                    *aj = aj.wrapping_add(w);
                    *cj = cj.wrapping_add(*aj);
                }
            }
        }
        Self::ZERO.combine(a, c, u32::try_from(len).unwrap_or(0).wrapping_mul(8))
    }

    /// [`State::feed_short`]'s four lanes over whole rows.
    #[inline(always)]
    fn short_rows<Q: Quad>(self, quads: &[Q]) -> Self {
        let (a, c) = lane_sums(quads);
        self.combine(a, c, u32::try_from(quads.len()).unwrap_or(0))
    }

    /// Continues `self` with four lanes' sums `a` and sums of running sums `c` over `rows`
    /// rows (see [`State::feed_short`]).
    #[inline(always)]
    fn combine(self, a: [u32; 4], c: [u32; 4], rows: u32) -> Self {
        let [a0, a1, a2, a3] = a;
        let [c0, c1, c2, c3] = c;
        let lo_part = a0.wrapping_add(a1).wrapping_add(a2).wrapping_add(a3);
        let sum_c = c0.wrapping_add(c1).wrapping_add(c2).wrapping_add(c3);
        let weighted = a1
            .wrapping_add(a2.wrapping_mul(2))
            .wrapping_add(a3.wrapping_mul(3));
        let n = rows.wrapping_mul(4);
        let hi_part = sum_c.wrapping_mul(4).wrapping_sub(weighted);
        Self {
            lo: self.lo.wrapping_add(lo_part),
            hi: self
                .hi
                .wrapping_add(n.wrapping_mul(self.lo))
                .wrapping_add(hi_part),
        }
    }

    fn finish(self) -> u64 {
        // Kernel: (hi32 << 32) | lo32 with hi32 held in a u64; the shift drops its upper half.
        (u64::from(self.hi) << 32) | u64::from(self.lo)
    }
}

impl State {
    /// The sum of `bytes` from zero: up to 512 bytes (labels) in four lanes (whole aligned
    /// blocks of 128 bytes without a tail, when they are), longer buffers by
    /// [`State::feed`].
    #[inline(always)]
    fn sum(bytes: &[u8]) -> Self {
        if bytes.len() <= 512 {
            match <[[AlignedQuad; 8]]>::ref_from_bytes(bytes) {
                Ok(quads) => Self::from_aligned_rows(quads),
                Err(_) => Self::ZERO.feed_short(bytes),
            }
        } else {
            Self::ZERO.feed(bytes)
        }
    }
}

/// Whether the 8-byte checksum field at `at` holds [`nd_fletcher64_zeroed`]`(bytes, at)`,
/// decided without taking the field out of the sum: with the field's words `w0` (low) and
/// `w1` at word k of n, the sum over the whole buffer is the zeroed sum plus `w0 + w1` in
/// `lo` and `w0·(n − k) + w1·(n − k − 1)` in `hi`; the zeroed sum equals the field when
/// the whole sum is `lo = 2·w0 + w1`, `hi = (w0 + w1)·(n − k)` (modulo 2^32). Fewer
/// instructions on the label scan's path, where only the verdict is needed.
///
/// `None` under the same conditions as [`nd_fletcher64_zeroed`].
#[inline(always)]
pub(crate) fn nd_fletcher64_field_matches(bytes: &[u8], at: usize) -> Option<bool> {
    let Field { w0, w1, n, k } = Field::at(bytes, at)?;
    let full = State::sum(bytes);
    Some(
        full.lo == w0.wrapping_mul(2).wrapping_add(w1)
            && full.hi == w0.wrapping_add(w1).wrapping_mul(n.wrapping_sub(k)),
    )
}

/// A checksum field in a buffer: its two words (`w0` low, `w1` high), the buffer's word
/// count `n` and the field's word index `k`.
struct Field {
    w0: u32,
    w1: u32,
    n: u32,
    k: u32,
}

impl Field {
    /// `None` when `at..at + 8` is not inside `bytes` or `at` is not a multiple of 4.
    #[inline(always)]
    fn at(bytes: &[u8], at: usize) -> Option<Self> {
        if at % 4 != 0 {
            return None;
        }
        let field = bytes.get(at..at.checked_add(8)?)?;
        let (w0, w1) = match *field {
            [a, b, c, d, e, f, g, h] => (
                u32::from_le_bytes([a, b, c, d]),
                u32::from_le_bytes([e, f, g, h]),
            ),
            _ => return None,
        };
        Some(Self {
            w0,
            w1,
            n: u32::try_from(bytes.len() / 4).ok()?,
            k: u32::try_from(at / 4).ok()?,
        })
    }
}

/// Four lanes over whole rows: each lane's sum `a[j]` and sum of running sums `c[j]`,
/// modulo 2^32.
#[inline(always)]
fn lane_sums<'q, Q: Quad + 'q>(quads: impl IntoIterator<Item = &'q Q>) -> ([u32; 4], [u32; 4]) {
    let mut a = [0u32; 4];
    let mut c = [0u32; 4];
    for quad in quads {
        for ((aj, cj), w) in a.iter_mut().zip(c.iter_mut()).zip(quad.words()) {
            *aj = aj.wrapping_add(w);
            *cj = cj.wrapping_add(*aj);
        }
    }
    (a, c)
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

/// `nd_fletcher64` of `bytes` with the 8-byte checksum field at `at` read as zero, without
/// copying: the sum every nvdimm structure stores about itself (`nd_sb_checksum` for the pfn,
/// dax and BTT info blocks, the label index block, v1.2 labels).
///
/// `None` when `at..at + 8` is not inside `bytes` or `at` is not a multiple of 4 (every
/// kernel checksum field is 8-byte aligned within its structure).
#[must_use]
#[inline(always)]
pub(crate) fn nd_fletcher64_zeroed(bytes: &[u8], at: usize) -> Option<u64> {
    let Field { w0, w1, n, k } = Field::at(bytes, at)?;
    // One pass over the whole buffer (no short head and tail summed word by word), then the
    // field's two words taken out again: word k of n adds w·1 to `lo` and w·(n − k) to `hi`
    // (see the module comment), modulo 2^32 on both sides. The field is inside the buffer,
    // so both its words are whole words (k + 1 < n).
    let full = State::sum(bytes);
    let weight0 = n.wrapping_sub(k);
    let weight1 = weight0.wrapping_sub(1);
    Some(
        State {
            lo: full.lo.wrapping_sub(w0).wrapping_sub(w1),
            hi: full
                .hi
                .wrapping_sub(w0.wrapping_mul(weight0))
                .wrapping_sub(w1.wrapping_mul(weight1)),
        }
        .finish(),
    )
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::{nd_fletcher64_field_matches, nd_fletcher64_zeroed, AlignedQuad, State};
    use zerocopy::little_endian::U32;

    /// A 16-byte-aligned buffer.
    #[repr(C, align(16))]
    struct Aligned([u8; 256]);

    /// The aligned read is taken for an aligned body (the sequential fallback gives the same
    /// sums, so the integration tests alone would not notice it going away), refused for an
    /// unaligned one, and both reads agree with the word-by-word sum.
    #[test]
    fn aligned_bodies_take_the_aligned_read() {
        let mut buf = Aligned([0; 256]);
        for (i, b) in buf.0.iter_mut().enumerate() {
            *b = u8::try_from(i % 251).unwrap().wrapping_mul(7);
        }
        let body = &buf.0[..];
        let aligned = State::ZERO.rows::<AlignedQuad>(body);
        assert!(aligned.is_some());
        assert_eq!(State::ZERO.rows::<AlignedQuad>(&body[4..]), None);
        assert_eq!(aligned, State::ZERO.rows::<[U32; 4]>(body));
        assert_eq!(aligned, Some(State::ZERO.words(body)));
        assert_eq!(State::ZERO.feed(body), State::ZERO.words(body));
        assert_eq!(State::ZERO.feed(&body[4..]), State::ZERO.words(&body[4..]));
        for start in 0..8 {
            for end in start..256 {
                let part = &body[start..end];
                let from = State {
                    lo: 0x1234_5678,
                    hi: 0x9abc_def0,
                };
                assert_eq!(from.feed_short(part), from.words(part), "{start}..{end}");
            }
        }
    }

    /// The field test agrees with the zeroed sum: a buffer whose field holds its zeroed sum
    /// passes, and flipping any one bit (in the field or elsewhere) fails it, for aligned
    /// and unaligned buffers, 128- and 256-byte labels and other lengths and field positions.
    #[test]
    fn field_matches_agrees_with_the_zeroed_sum() {
        let mut buf = Aligned([0; 256]);
        for (i, b) in buf.0.iter_mut().enumerate() {
            *b = u8::try_from(i % 253)
                .unwrap()
                .wrapping_mul(13)
                .wrapping_add(5);
        }
        for (start, len, at) in [
            (0, 256, 248),
            (0, 128, 64),
            (0, 256, 64),
            (4, 252, 244),
            (4, 128, 8),
            (0, 72, 64),
            (8, 100, 0),
        ] {
            let mut bytes = buf.0[start..start + len].to_vec();
            let sum = nd_fletcher64_zeroed(&bytes, at).unwrap();
            bytes[at..at + 8].copy_from_slice(&sum.to_le_bytes());
            let mut copy = Aligned([0; 256]);
            copy.0[start..start + len].copy_from_slice(&bytes);
            let view = &mut copy.0[start..start + len];
            assert_eq!(
                nd_fletcher64_field_matches(view, at),
                Some(true),
                "{start} {len} {at}"
            );
            for bit in 0..len * 8 {
                view[bit / 8] ^= 1 << (bit % 8);
                assert_eq!(
                    nd_fletcher64_field_matches(view, at),
                    Some(false),
                    "bit {bit}"
                );
                view[bit / 8] ^= 1 << (bit % 8);
            }
        }
        assert_eq!(nd_fletcher64_field_matches(&buf.0, 250), None);
        assert_eq!(nd_fletcher64_field_matches(&buf.0, 252), None);
    }
}
