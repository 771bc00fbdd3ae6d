//! Output formats, apart from the work that produces the data: [`text`]
//! (grouped by kind, optional ANSI colours), [`markdown`] (change records,
//! pull-request comments) and [`json`] (`schemas/diff.schema.json`).

use std::borrow::Cow;

use bakeproof_sbom::cyclonedx::{decode_text, vocab};

use crate::model::CheckStatus;

pub mod json;
pub mod markdown;
pub mod text;

/// A file path as text and Markdown show it: the raw bytes escaped as the
/// tree digest writes them ([`bakeproof_index::escape_path`]), so hostile
/// names (a newline, a literal `%FF` beside the byte 0xFF) cannot forge or
/// merge lines.
pub(crate) fn shown(path: &str, encoding: &Option<String>) -> String {
    let raw = decode_text(path, encoding.as_deref() == Some(vocab::PERCENT))
        .unwrap_or(Cow::Borrowed(path.as_bytes()));
    bakeproof_index::escape_path(&raw)
}

pub(crate) fn status_or_absent(s: Option<CheckStatus>) -> &'static str {
    s.map_or("absent", CheckStatus::as_str)
}

pub(crate) fn short(s: &str) -> &str {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        &s[..12]
    } else {
        s
    }
}

pub(crate) fn join_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}
