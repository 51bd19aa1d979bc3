//! A small YAML emitter for JSON values: block mappings and sequences, every string
//! double-quoted with JSON escapes (a subset of YAML's), so the output is YAML 1.2 and
//! YAML 1.1 alike and parses back to the same value.

use std::fmt::Write as _;

use serde_json::Value;

/// The YAML text of `value`, ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    if is_block(value) {
        block(value, 0, &mut out);
    } else {
        scalar(value, &mut out);
        out.push('\n');
    }
    out
}

/// Whether `value` is written as an indented block (a non-empty object or array).
fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

fn pad(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn block(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                pad(indent, out);
                write_key(key, out);
                out.push(':');
                child(item, indent, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                pad(indent, out);
                out.push('-');
                child(item, indent, out);
            }
        }
        other => {
            pad(indent, out);
            scalar(other, out);
            out.push('\n');
        }
    }
}

/// Writes what follows `key:` or `-`: a scalar on the same line, or a block below it.
fn child(item: &Value, indent: usize, out: &mut String) {
    if is_block(item) {
        out.push('\n');
        block(item, indent + 2, out);
    } else {
        out.push(' ');
        scalar(item, out);
        out.push('\n');
    }
}

fn scalar(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => quoted(s, out),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// Words that some YAML parsers read as something other than a string.
const RESERVED: [&str; 11] = [
    "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", "",
];

fn write_key(key: &str, out: &mut String) {
    let mut chars = key.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.' | '-'))
        && !RESERVED.contains(&key.to_ascii_lowercase().as_str());
    if plain {
        out.push_str(key);
    } else {
        quoted(key, out);
    }
}

/// A double-quoted scalar. JSON's escapes are all valid in YAML; characters YAML does not
/// allow unescaped (C0/C1 controls, DEL, the byte order mark, non-characters) are escaped.
fn quoted(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn needs_escape(c: char) -> bool {
    let code = u32::from(c);
    code < 0x20
        || (0x7f..=0x9f).contains(&code)
        || code == 0xfeff
        || code == 0xfffe
        || code == 0xffff
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::to_yaml;

    #[test]
    fn nested_blocks_and_quoted_strings() {
        let value = json!({
            "asyncapi": "3.0.0",
            "$ref": "#/a",
            "list": [1, {"a": true, "b": [null, "x"]}, [], {}],
            "on": "yes",
            "/ws": "line\nbreak \"quoted\" \u{7f}",
        });
        assert_eq!(
            to_yaml(&value),
            concat!(
                "$ref: \"#/a\"\n",
                "\"/ws\": \"line\\nbreak \\\"quoted\\\" \\u007f\"\n",
                "asyncapi: \"3.0.0\"\n",
                "list:\n  - 1\n  -\n    a: true\n    b:\n      - null\n      - \"x\"\n  - []\n  - {}\n",
                "\"on\": \"yes\"\n",
            )
        );
    }

    #[test]
    fn scalars_at_the_top() {
        assert_eq!(to_yaml(&json!("a")), "\"a\"\n");
        assert_eq!(to_yaml(&json!({})), "{}\n");
    }
}
