//! telewire-benches: shared inputs for the criterion benchmarks.
