//! Writing names into Cedar text: identifiers stay bare, anything else becomes a quoted string.

/// Words that cannot be bare attribute names in policies or in the schema grammar.
const RESERVED: &[&str] = &[
    "true",
    "false",
    "if",
    "then",
    "else",
    "in",
    "is",
    "like",
    "has",
    "__cedar",
    "principal",
    "action",
    "resource",
    "context",
    "entity",
    "namespace",
    "type",
    "appliesTo",
    "tags",
    "enum",
];

/// Whether `s` can be written bare (`context.input.title`) in a policy and in the schema.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !RESERVED.contains(&s)
}

/// A Cedar string literal for `s`, quotes included.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An attribute name as the schema must spell it.
pub fn attr_name(s: &str) -> String {
    if is_identifier(s) { s.to_owned() } else { quoted(s) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_quoting() {
        assert!(is_identifier("title"));
        assert!(is_identifier("_x1"));
        assert!(!is_identifier("1x"));
        assert!(!is_identifier("in"));
        assert!(!is_identifier("odd-name"));
        assert!(!is_identifier(""));
        assert_eq!(attr_name("odd-name"), "\"odd-name\"");
        assert_eq!(quoted("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
