//! Step definitions, one file per topic; cucumber collects them through inventory.

pub(crate) mod client;
mod common;
mod molecule;
mod mosaic;
pub(crate) mod robot;
mod valtronics;
mod webmacs;
mod webmacs_http;
