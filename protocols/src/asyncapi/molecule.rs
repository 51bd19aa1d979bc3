use super::Example;
use serde_json::Value;
pub(super) const EXAMPLES: &[Example] = &[];
pub(super) fn document() -> Value {
    super::valtronics::document()
}
