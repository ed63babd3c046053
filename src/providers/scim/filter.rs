//! SCIM filters (RFC 7644 §3.4.2.2) as this client writes them: every value a directory or a
//! spec supplies goes in as a string literal, never as filter syntax.

/// A SCIM filter string literal (RFC 7644 §3.4.2.2): quotes and backslashes escaped.
pub(super) fn literal(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_cannot_end_the_literal() {
        assert_eq!(literal(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
