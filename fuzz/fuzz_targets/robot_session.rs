#![no_main]

use libfuzzer_sys::fuzz_target;
use telewire_fuzz::robot::SessionInput;

fuzz_target!(|input: SessionInput<'_>| telewire_fuzz::robot::run(input.data));
