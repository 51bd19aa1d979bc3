#![no_main]

use libfuzzer_sys::fuzz_target;
use telewire_fuzz::mosaic::SessionInput;

fuzz_target!(|input: SessionInput<'_>| telewire_fuzz::mosaic::run(input.data));
