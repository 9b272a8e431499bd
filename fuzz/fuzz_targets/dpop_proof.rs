#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera::fuzz_targets::dpop_proof(data));
