//! Every suite runs with every step definition registered, so two identical step texts in
//! different topic files would make a scenario "ambiguous" (and fail) in some suite.

use std::collections::HashMap;

#[test]
fn no_step_text_is_defined_twice() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/steps");
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut duplicates = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        // Attributes may span lines: join each `#[given(...)]` / `#[when(...)]` /
        // `#[then(...)]` up to its closing `)]`.
        let mut rest = text.as_str();
        while let Some(start) = ["#[given(", "#[when(", "#[then("]
            .iter()
            .filter_map(|m| rest.find(m))
            .min()
        {
            let after = &rest[start..];
            let end = after.find(")]").unwrap();
            let attr: String = after[..end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            // The kind and the text: the same text as given, when and then is not ambiguous.
            let step = attr.trim_start_matches("#[").to_owned();
            if let Some(other) = seen.insert(step.clone(), file.clone()) {
                duplicates.push(format!("{step} in {other} and {file}"));
            }
            rest = &after[end..];
        }
    }
    assert!(seen.len() > 50, "step files not found in {}", dir.display());
    assert!(duplicates.is_empty(), "{duplicates:#?}");
}
