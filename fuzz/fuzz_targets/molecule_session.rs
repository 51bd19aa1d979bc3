#![no_main]

use libfuzzer_sys::fuzz_target;
use telewire_fuzz::molecule::SessionInput;

fuzz_target!(|input: SessionInput<'_>| telewire_fuzz::molecule::run(input.data));
