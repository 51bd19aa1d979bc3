//! Step definitions, one file per topic; cucumber collects them through inventory.

mod common;
mod molecule;
mod valtronics;
mod webmacs;
mod webmacs_http;
