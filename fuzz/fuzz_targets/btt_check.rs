#![no_main]

use libfuzzer_sys::fuzz_target;
use nvdimm_infoblock_fuzz::btt_check;

fuzz_target!(|data: &[u8]| btt_check::btt_check(data));
