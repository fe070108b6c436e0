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

use nvdimm_infoblock::{InfoBlock, ParseOptions};

#[link(name = "c")]
extern "C" {
    fn read(fd: i32, buf: *mut u8, count: usize) -> isize;
}

extern "C" {
    /// Defined nowhere on purpose.
    fn nvdimm_infoblock_has_a_reachable_panic_path() -> !;
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: never runs; if this call is linked at all, the link fails.
    unsafe { nvdimm_infoblock_has_a_reachable_panic_path() }
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
    let options = ParseOptions {
        page_size: u32::try_from(param(params, 0) & 0xffff_ffff).unwrap_or(4096),
        verify_checksum: argc > 1,
        ..ParseOptions::DEFAULT
    };
    let mut score: u64 = 0;

    #[cfg(feature = "core")]
    {
        // parse (locate + PfnInfo::parse) and verify.
        // Every field of the result is kept (black_box), so nothing is optimised away.
        let parsed = nvdimm_infoblock::parse(head, &options);
        score = score.wrapping_add(u64::from(black_box(&parsed).is_ok()));
        if let Ok(block) = InfoBlock::locate(head) {
            let verified = block.verify_checksum();
            score = score.wrapping_add(u64::from(black_box(&verified).is_ok()));
        }
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
            if let Some(profile) = nvdimm_infoblock::Profile::x86_64_for_release(text) {
                score = score.wrapping_add(profile.info_block_reserve());
                score = score.wrapping_add(profile.default_align());
            }
        }
    }

    let score = black_box(score);
    i32::from(u8::try_from(score & 0x7f).unwrap_or(0))
}
