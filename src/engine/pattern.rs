//! The regular expressions a spec writes — a scoping filter's `REGEX MATCH` and `Replace`'s
//! `regexPattern` — compiled once, when the spec is validated, within a size bound: a hostile
//! spec cannot make the operator build a huge automaton, nor make it compile one per user.

use regex::{Regex, RegexBuilder};

/// The most heap one compiled pattern may take (the regex crate's `size_limit`). A Unicode
/// `\w` alone takes about 45 KB; patterns that match directory attributes take a few.
pub const MAX_COMPILED_BYTES: usize = 1 << 20;
/// The most a pattern's lazy DFA may cache while matching (`dfa_size_limit`); past it the
/// cache is cleared, never grown.
pub const MAX_DFA_CACHE_BYTES: usize = 1 << 20;

/// A compiled pattern inside a parsed expression. Two patterns are equal when their text is.
#[derive(Clone, Debug)]
pub struct Pattern(Regex);

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        compile(text).map(Pattern)
    }

    pub fn regex(&self) -> &Regex {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Pattern {}

/// `text` compiled within the bounds, or why not in one line (the regex crate's messages span
/// several lines with a caret diagram; a condition message wants the gist).
pub fn compile(text: &str) -> Result<Regex, String> {
    #[cfg(test)]
    counting::count();
    RegexBuilder::new(text)
        .size_limit(MAX_COMPILED_BYTES)
        .dfa_size_limit(MAX_DFA_CACHE_BYTES)
        .build()
        .map_err(|e| format!("invalid regex '{text}': {}", first_line(&e.to_string())))
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('^'))
        .unwrap_or(text)
        .to_owned()
}

/// How many patterns this thread compiled: tests show that evaluating mappings for many users
/// compiles none.
#[cfg(test)]
pub mod counting {
    use std::cell::Cell;

    thread_local! {
        static COMPILED: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn count() {
        COMPILED.with(|c| c.set(c.get() + 1));
    }

    pub fn compiled() -> usize {
        COMPILED.with(Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use super::counting::compiled;
    use super::*;
    use crate::engine::expression::parse;
    use crate::engine::user::user;

    #[test]
    fn a_pattern_too_large_for_its_bound_is_refused_in_one_line() {
        let error = compile(r"\w{100}").expect_err("megabytes of automaton");
        assert!(error.contains("size limit") && !error.contains('\n'), "{error}");
        assert!(compile(r"^(?<local>[^@]+)@contoso\.com$").is_ok());
    }

    #[test]
    fn evaluating_a_replace_for_many_users_compiles_no_regex() {
        let expr = parse(r#"Replace([userName], , "@(?<domain>.*)$", "domain", "fabrikam.com", , )"#).expect("parses");
        let before = compiled();
        for i in 0..100 {
            let u = user(&i.to_string(), &[("userName", &format!("u{i}@contoso.com"))]);
            let value = crate::engine::evaluate::evaluate(&expr, &u).expect("evaluates");
            assert_eq!(value, Some(format!("u{i}@fabrikam.com")));
        }
        assert_eq!(
            compiled() - before,
            0,
            "the pattern was compiled when the expression was parsed"
        );
    }
}
