//! Step definitions, one file per topic; cucumber collects them through inventory.

mod common;
mod molecule;
pub(crate) mod robot;
mod webmacs;
mod webmacs_http;
