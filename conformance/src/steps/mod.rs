//! Step definitions, one file per topic; cucumber collects them through inventory.

mod common;
mod molecule;
mod mosaic;
pub(crate) mod robot;
mod valtronics;
mod webmacs;
mod webmacs_http;
