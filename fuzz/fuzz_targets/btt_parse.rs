#![no_main]

use libfuzzer_sys::fuzz_target;
use nvdimm_infoblock_fuzz::bodies;

fuzz_target!(|data: &[u8]| bodies::btt_parse(data));
