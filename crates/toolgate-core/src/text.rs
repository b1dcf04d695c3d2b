//! Untrusted text on its way to a log line, an audit row or a page: bounded in length and unable
//! to disguise itself.
//!
//! Anything a caller controls (paths, session ids, tool names, resource URIs, client names) may be
//! megabytes long, may contain newlines that forge log lines, or bidirectional overrides and
//! zero-width characters that make one name look like another (Unicode TR #36 §2, "Trojan
//! Source", CVE-2021-42574). [`bounded`] keeps the first `max_chars` characters and replaces every
//! control, format and bidi character with `U+FFFD`, so what is shown is what was sent, made
//! visible.

use std::borrow::Cow;

/// Appended when text was cut.
pub const ELLIPSIS: char = '…';

/// `text` limited to `max_chars` characters (cut text ends with `…`), with control characters
/// (C0, C1, DEL), Unicode format characters that can reorder or hide text (bidi embeddings,
/// overrides and isolates U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C; zero-width
/// U+200B–U+200D, U+2060–U+2064, U+FEFF; soft hyphen U+00AD) replaced by `U+FFFD`.
/// Borrows when nothing needs to change (the common case costs one scan).
pub fn bounded(text: &str, max_chars: usize) -> Cow<'_, str> {
    let mut chars = 0usize;
    let mut clean = true;
    for c in text.chars() {
        chars += 1;
        if is_disguising(c) {
            clean = false;
        }
        if chars > max_chars {
            clean = false;
            break;
        }
    }
    if clean {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)) + 3);
    for (index, c) in text.chars().enumerate() {
        if index >= max_chars {
            out.push(ELLIPSIS);
            break;
        }
        out.push(if is_disguising(c) {
            char::REPLACEMENT_CHARACTER
        } else {
            c
        });
    }
    Cow::Owned(out)
}

/// [`bounded`] into an owned `String`.
pub fn bounded_string(text: &str, max_chars: usize) -> String {
    bounded(text, max_chars).into_owned()
}

/// A character that must not reach a log or a page as-is.
pub fn is_disguising(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_short_text_is_borrowed() {
        assert!(matches!(bounded("tools/call", 64), Cow::Borrowed("tools/call")));
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let text = "é".repeat(100);
        let cut = bounded(&text, 10);
        assert_eq!(cut.chars().count(), 11);
        assert!(cut.ends_with(ELLIPSIS));
        assert_eq!(bounded("abc", 3), "abc");
        assert_eq!(bounded("abcd", 3), "abc…");
    }

    #[test]
    fn newlines_bidi_and_zero_width_are_made_visible() {
        assert_eq!(bounded("a\nb\r\u{1b}[2J", 64), "a\u{FFFD}b\u{FFFD}\u{FFFD}[2J");
        assert_eq!(bounded("evil\u{202E}gpj.exe", 64), "evil\u{FFFD}gpj.exe");
        assert_eq!(bounded("ad\u{200B}min", 64), "ad\u{FFFD}min");
        assert_eq!(bounded("\u{2066}x\u{2069}", 64), "\u{FFFD}x\u{FFFD}");
    }
}
