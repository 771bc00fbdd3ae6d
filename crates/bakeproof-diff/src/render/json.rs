//! JSON (`schemas/diff.schema.json`): the serialised [`Diff`].

use crate::model::Diff;

/// Pretty JSON (`schemas/diff.schema.json`), newline-terminated.
pub fn render(d: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(d)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}
