//! telewire-conformance.
