//! Parser for Entra's attribute-mapping expression language
//! (e.g. `Join(" ", [givenName], [familyName])`).
//!
//! Grammar, after Microsoft's "Reference for writing expressions for attribute mappings":
//! ```text
//! expr     := operand ( "=" operand )?          -- equality, as used inside IIF
//! operand  := call | "[" attribute "]" | string | integer
//! call     := Function "(" [ arg { "," arg } ] ")"
//! arg      := expr | <nothing>                  -- Replace leaves optional arguments empty
//! string   := '"' { char | '\"' | '\\' } '"'
//! ```
//! Function names are matched case-insensitively and each has a fixed arity range, so a typo
//! or a missing argument is reported where the user wrote it, before any user is touched.
//! `Replace`'s `regexPattern` must be a string literal: it is compiled here, once, within the
//! bounds of `pattern`, and evaluation for each user reuses it.

use std::fmt;

use super::pattern::Pattern;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `[attribute]`: a source attribute (provider-neutral SCIM path).
    Attribute(String),
    /// `"text"`.
    Text(String),
    /// `42`.
    Integer(i64),
    /// An argument left empty, e.g. the 4th in `Replace([a], "x", , , "y", , )`.
    Missing,
    /// `Replace`'s `regexPattern`, compiled when the expression is parsed.
    Pattern(Pattern),
    /// `left = right`.
    Equals(Box<Expr>, Box<Expr>),
    Call {
        function: Function,
        args: Vec<Expr>,
    },
}

/// The functions xtsync implements, as Microsoft Learn documents them ("Reference for writing
/// expressions for attribute mappings in Microsoft Entra ID").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Append,
    Join,
    ToLower,
    ToUpper,
    Replace,
    Coalesce,
    IIF,
    Switch,
    Left,
    Mid,
    Trim,
    NormalizeDiacritics,
    Not,
    IsPresent,
    IsNullOrEmpty,
}

impl Function {
    const ALL: [Function; 15] = [
        Function::Append,
        Function::Join,
        Function::ToLower,
        Function::ToUpper,
        Function::Replace,
        Function::Coalesce,
        Function::IIF,
        Function::Switch,
        Function::Left,
        Function::Mid,
        Function::Trim,
        Function::NormalizeDiacritics,
        Function::Not,
        Function::IsPresent,
        Function::IsNullOrEmpty,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::Append => "Append",
            Function::Join => "Join",
            Function::ToLower => "ToLower",
            Function::ToUpper => "ToUpper",
            Function::Replace => "Replace",
            Function::Coalesce => "Coalesce",
            Function::IIF => "IIF",
            Function::Switch => "Switch",
            Function::Left => "Left",
            Function::Mid => "Mid",
            Function::Trim => "Trim",
            Function::NormalizeDiacritics => "NormalizeDiacritics",
            Function::Not => "Not",
            Function::IsPresent => "IsPresent",
            Function::IsNullOrEmpty => "IsNullOrEmpty",
        }
    }

    fn lookup(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// (minimum, maximum) number of arguments, as documented by Microsoft.
    fn arity(self) -> (usize, usize) {
        match self {
            Function::Append => (2, 2),
            Function::Join => (2, usize::MAX),
            Function::ToLower | Function::ToUpper => (1, 2),
            Function::Replace => (3, 7),
            Function::Coalesce => (1, usize::MAX),
            Function::IIF => (3, 3),
            Function::Switch => (2, usize::MAX),
            Function::Left => (2, 2),
            Function::Mid => (3, 3),
            Function::Trim
            | Function::NormalizeDiacritics
            | Function::Not
            | Function::IsPresent
            | Function::IsNullOrEmpty => (1, 1),
        }
    }
}

/// Why an expression does not parse; `position` is a 1-based character column.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at column {position}: {message}")]
pub struct ParseError {
    pub position: usize,
    pub message: String,
}

/// Entra's limit on the length of an expression.
pub const MAX_LENGTH: usize = 10_000;
/// Function calls nested deeper than this are refused: parsing and evaluating recurse, and an
/// unbounded depth would overflow the stack (and stop every configuration of the operator).
pub const MAX_DEPTH: usize = 32;

pub fn parse(source: &str) -> Result<Expr, ParseError> {
    let length = source.chars().count();
    if length > MAX_LENGTH {
        return Err(ParseError {
            position: MAX_LENGTH + 1,
            message: format!("the expression has {length} characters; at most {MAX_LENGTH} are allowed"),
        });
    }
    let mut parser = Parser {
        chars: source.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let expr = parser.expr()?;
    parser.skip_space();
    if parser.pos < parser.chars.len() {
        return Err(parser.error(format!(
            "unexpected '{}' after the end of the expression",
            parser.chars[parser.pos]
        )));
    }
    Ok(expr)
}

impl Expr {
    /// Every `[attribute]` the expression reads, in order of appearance.
    pub fn attributes(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_attributes(&mut out);
        out
    }

    fn collect_attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Attribute(name) => out.push(name),
            Expr::Equals(l, r) => {
                l.collect_attributes(out);
                r.collect_attributes(out);
            }
            Expr::Call { args, .. } => args.iter().for_each(|a| a.collect_attributes(out)),
            Expr::Text(_) | Expr::Pattern(_) | Expr::Integer(_) | Expr::Missing => {}
        }
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// Calls open around the current position.
    depth: usize,
}

impl Parser {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            position: self.pos + 1,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let left = self.operand()?;
        self.skip_space();
        if self.peek() == Some('=') {
            self.pos += 1;
            let right = self.operand()?;
            return Ok(Expr::Equals(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Expr, ParseError> {
        self.skip_space();
        match self.peek() {
            None => Err(self.error("the expression ends where a value was expected")),
            Some('[') => self.attribute(),
            Some('"') => self.string(),
            Some(c) if c.is_ascii_digit() || c == '-' => self.integer(),
            Some(c) if c.is_ascii_alphabetic() => self.call(),
            Some(c) => Err(self.error(format!(
                "unexpected '{c}': expected a function, [attribute], \"text\" or a number"
            ))),
        }
    }

    fn attribute(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut name = String::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = start;
                    return Err(self.error("'[' is never closed by ']'"));
                }
                Some(']') => break,
                Some(c) => name.push(c),
            }
            self.pos += 1;
        }
        self.pos += 1;
        let name = name.trim();
        if name.is_empty() {
            self.pos = start;
            return Err(self.error("empty attribute name '[]'"));
        }
        Ok(Expr::Attribute(name.to_owned()))
    }

    fn string(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = start;
                    return Err(self.error("string is never closed by '\"'"));
                }
                Some('"') => break,
                Some('\\') if matches!(self.chars.get(self.pos + 1), Some('"' | '\\')) => {
                    self.pos += 1;
                    text.push(self.chars[self.pos]);
                }
                Some(c) => text.push(c),
            }
            self.pos += 1;
        }
        self.pos += 1;
        Ok(Expr::Text(text))
    }

    fn integer(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits: String = self.chars[start..self.pos].iter().collect();
        digits.parse().map(Expr::Integer).map_err(|_| {
            self.pos = start;
            self.error(format!("'{digits}' is not a number"))
        })
    }

    fn call(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        let Some(function) = Function::lookup(&name) else {
            self.pos = start;
            let known: Vec<_> = Function::ALL.iter().map(|f| f.name()).collect();
            return Err(self.error(format!("unknown function '{name}' (known: {})", known.join(", "))));
        };
        self.skip_space();
        if self.peek() != Some('(') {
            return Err(self.error(format!("expected '(' after {}", function.name())));
        }
        self.pos += 1;
        if self.depth == MAX_DEPTH {
            self.pos = start;
            return Err(self.error(format!("calls are nested more than {MAX_DEPTH} deep")));
        }
        self.depth += 1;
        let args = self.arguments();
        self.depth -= 1;
        let args = args?;
        let (min, max) = function.arity();
        if args.len() < min || args.len() > max {
            self.pos = start;
            let expected = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            return Err(self.error(format!(
                "{} takes {expected} arguments, got {}",
                function.name(),
                args.len()
            )));
        }
        if function != Function::Replace && args.contains(&Expr::Missing) {
            self.pos = start;
            return Err(self.error(format!("{} has an empty argument", function.name())));
        }
        let mut args = args;
        if function == Function::Replace {
            let compiled = replace_pattern(&args).map_err(|why| {
                self.pos = start;
                self.error(format!("Replace: {why}"))
            })?;
            if let Some(pattern) = compiled {
                args[REGEX_PATTERN] = Expr::Pattern(pattern);
            }
        }
        Ok(Expr::Call { function, args })
    }

    /// Arguments after '(' up to and including ')'.
    fn arguments(&mut self) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        self.skip_space();
        if self.peek() == Some(')') {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            self.skip_space();
            if matches!(self.peek(), Some(',' | ')')) {
                args.push(Expr::Missing);
            } else {
                args.push(self.expr()?);
            }
            self.skip_space();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                None => return Err(self.error("')' expected before the end of the expression")),
                Some(c) => return Err(self.error(format!("expected ',' or ')', found '{c}'"))),
            }
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where `Replace(source, oldValue, regexPattern, …)` takes its pattern.
pub const REGEX_PATTERN: usize = 2;

/// `Replace`'s `regexPattern`, compiled; `None` when it is left empty. A pattern computed
/// per user would be compiled per user, so only a literal is accepted.
fn replace_pattern(args: &[Expr]) -> Result<Option<Pattern>, String> {
    match args.get(REGEX_PATTERN) {
        None | Some(Expr::Missing) => Ok(None),
        Some(Expr::Text(text)) if text.is_empty() => Ok(None),
        Some(Expr::Text(text)) => Pattern::new(text).map(Some),
        Some(_) => Err("regexPattern (argument 3) must be a \"string\": it is compiled once, not per user".into()),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod limits {
    use super::*;

    #[test]
    fn a_deeply_nested_expression_is_refused_instead_of_overflowing_the_stack() {
        // README, "Safety": `Trim(` × 6000 once aborted the operator (every configuration stopped).
        let deep = format!("{}[userName]{}", "Trim(".repeat(6000), ")".repeat(6000));
        let error = parse(&deep).expect_err("refused");
        assert!(error.message.contains("characters"), "{error}");
        let nested = format!(
            "{}[userName]{}",
            "Trim(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(nested.chars().count() <= MAX_LENGTH);
        let error = parse(&nested).expect_err("refused");
        assert!(error.message.contains("nested"), "{error}");
        let fine = format!("{}[userName]{}", "Trim(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&fine).is_ok());
    }
}
