//! Text that came from outside — client metadata (names, redirect URIs, metadata-document URLs),
//! request parameters, Entra's error texts — rendered for a page or a log line so it cannot
//! disguise itself or forge anything:
//!
//! - control characters (newlines included) and Unicode whitespace become one space, and runs of
//!   whitespace collapse, so text cannot start a new log line or push words off-screen with padding;
//! - invisible and direction-changing characters (bidi overrides and isolates, zero-width
//!   characters, soft hyphens, fillers that render as blanks, variation and tag characters,
//!   private-use characters) are shown as visible escapes `\u{202E}`, so "txt.exe" cannot pose as
//!   "exe.txt" and a blank name cannot pose as another;
//! - more than two combining marks in a row are escaped (stacked marks can cover neighbouring text);
//! - a backslash is doubled, so escapes in the input cannot be mistaken for ours;
//! - the text is cut at a maximum number of characters (default 120) with `…`.
//!
//! Every page and log line of the proxy that shows such text goes through [`Untrusted`]; pages
//! HTML-escape the result as well.

use std::fmt::{self, Write as _};

/// Characters shown by default.
const DEFAULT_MAX_CHARS: usize = 120;
/// Combining marks allowed in a row before the rest are escaped.
const MAX_COMBINING_RUN: usize = 2;

/// Untrusted text, displayed safely (see the module documentation).
#[derive(Clone, Copy)]
pub struct Untrusted<'a> {
    text: &'a str,
    max_chars: usize,
}

impl<'a> Untrusted<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            max_chars: DEFAULT_MAX_CHARS,
        }
    }

    /// Shows at most `max_chars` characters (escapes count as one each).
    pub fn max_chars(self, max_chars: usize) -> Self {
        Self { max_chars, ..self }
    }
}

/// Characters that reorder the text around them (bidirectional embeddings, overrides, isolates
/// and marks): "Trojan Source", CVE-2021-42574. Refused outright in registered names.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that are invisible, change the direction of the text around them, or render as a
/// blank although they are not whitespace (Unicode category Cf and look-alikes).
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{2800}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FFF9}'..='\u{FFFC}'
        | '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}' | '\u{08E2}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}'
        | '\u{E000}'..='\u{F8FF}'
        | '\u{F0000}'..='\u{10FFFF}'
    )
}

fn is_combining(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
    )
}

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = 0usize;
        let mut pending_space = false;
        let mut combining_run = 0usize;
        for c in self.text.chars() {
            if c.is_whitespace() || c.is_control() {
                // Leading whitespace is dropped; inner runs become one space.
                pending_space = shown > 0;
                combining_run = 0;
                continue;
            }
            if shown >= self.max_chars {
                return f.write_char('…');
            }
            if pending_space {
                f.write_char(' ')?;
                shown += 1;
                pending_space = false;
                if shown >= self.max_chars {
                    return f.write_char('…');
                }
            }
            combining_run = if is_combining(c) { combining_run + 1 } else { 0 };
            if is_invisible(c) || combining_run > MAX_COMBINING_RUN {
                write!(f, "\\u{{{:04X}}}", u32::from(c))?;
            } else if c == '\\' {
                f.write_str("\\\\")?;
            } else {
                f.write_char(c)?;
            }
            shown += 1;
        }
        Ok(())
    }
}

impl fmt::Debug for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// [`Untrusted`] as an owned string, for HTML pages (which escape it once more).
pub fn clean(text: &str, max_chars: usize) -> String {
    Untrusted::new(text).max_chars(max_chars).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str) -> String {
        Untrusted::new(text).to_string()
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for text in [
            "Visual Studio Code",
            "Claude (claude.ai)",
            "Zoë's 日本語 app ✓",
            "https://vscode.dev/redirect",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "é",
            "e\u{0301}",
        ] {
            assert_eq!(show(text), text);
        }
    }

    #[test]
    fn newlines_and_controls_cannot_forge_log_lines() {
        assert_eq!(
            show("bad\nINFO toolgate: consent given principal=admin"),
            "bad INFO toolgate: consent given principal=admin"
        );
        assert_eq!(show("a\r\n\r\nb"), "a b");
        assert_eq!(show("a\u{0000}b\u{001b}[31mred"), "a b [31mred");
        assert_eq!(show("a\u{2028}b\u{2029}c\u{0085}d"), "a b c d");
        assert!(!show("x\ny\rz").contains(['\n', '\r']));
    }

    #[test]
    fn bidi_and_invisible_characters_are_shown_as_escapes() {
        assert_eq!(show("Claude\u{202E}txt.exe"), "Claude\\u{202E}txt.exe");
        assert_eq!(show("\u{2066}evil\u{2069}"), "\\u{2066}evil\\u{2069}");
        assert_eq!(show("Cl\u{200B}aude"), "Cl\\u{200B}aude");
        assert_eq!(show("\u{FEFF}name"), "\\u{FEFF}name");
        assert_eq!(show("soft\u{00AD}hyphen"), "soft\\u{00AD}hyphen");
        assert_eq!(
            show("\u{3164}\u{3164}"),
            "\\u{3164}\\u{3164}",
            "Hangul fillers look blank"
        );
        assert_eq!(show("tag\u{E0041}"), "tag\\u{E0041}");
        assert_eq!(show("pua\u{E000}"), "pua\\u{E000}");
    }

    #[test]
    fn padding_collapses_and_cannot_push_text_away() {
        assert_eq!(
            show("Visual Studio Code                                          (evil.example)"),
            "Visual Studio Code (evil.example)"
        );
        assert_eq!(show("\u{3000}\u{2003}\t lead"), "lead");
        assert_eq!(show("a\u{00A0}\u{2009}\u{200A}b"), "a b");
        assert_eq!(show("trail   "), "trail");
    }

    #[test]
    fn stacked_combining_marks_are_escaped() {
        assert_eq!(show("a\u{0301}\u{0301}"), "a\u{0301}\u{0301}");
        assert_eq!(
            show("a\u{0301}\u{0301}\u{0301}\u{0301}"),
            "a\u{0301}\u{0301}\\u{0301}\\u{0301}"
        );
    }

    #[test]
    fn bidi_controls_are_invisible_too() {
        for c in ['\u{202E}', '\u{2066}', '\u{200F}', '\u{061C}'] {
            assert!(is_bidi_control(c) && is_invisible(c), "{c:?}");
        }
        assert!(!is_bidi_control('a') && !is_invisible('a') && !is_invisible('é'));
        assert!(is_invisible('\u{200B}') && !is_bidi_control('\u{200B}'));
    }

    #[test]
    fn backslashes_are_doubled_so_escapes_are_unambiguous() {
        assert_eq!(show("\\u{202E}"), "\\\\u{202E}");
    }

    #[test]
    fn overlong_text_is_cut() {
        let long = "a".repeat(500);
        let shown = show(&long);
        assert_eq!(shown.chars().count(), DEFAULT_MAX_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(Untrusted::new("abcdef").max_chars(3).to_string(), "abc…");
        assert_eq!(Untrusted::new("abc").max_chars(3).to_string(), "abc");
        assert_eq!(Untrusted::new("ab cd").max_chars(2).to_string(), "ab…");
        assert_eq!(clean("x\ny", 10), "x y");
        assert_eq!(format!("{:?}", Untrusted::new("a\nb")), "\"a b\"");
    }
}
