#![no_main]

use libfuzzer_sys::fuzz_target;
use telewire_fuzz::webmacs::SessionInput;

fuzz_target!(|input: SessionInput<'_>| telewire_fuzz::webmacs::run(input.data));
