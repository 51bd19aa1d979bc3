#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| telewire_protocols::fuzzing::assert_holds(
    telewire_protocols::molecule::fuzzing::handshake(data)
));
