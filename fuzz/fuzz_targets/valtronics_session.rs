#![no_main]

use libfuzzer_sys::fuzz_target;
use telewire_fuzz::valtronics::SessionInput;

fuzz_target!(|input: SessionInput<'_>| telewire_fuzz::valtronics::run(input.data));
