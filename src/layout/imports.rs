//! The module graph of `src/` as the code (not its comments, strings or tests) writes it:
//! every `crate::`, `super::` and `self::` path, inside `use` trees or inline, resolved to the
//! module it names. The layout tests read it for import cycles and for the core's boundary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module by its path from the crate root (`[]` is `lib.rs`).
pub type Module = Vec<String>;

/// Each module's non-test code, comments and literals blanked out.
pub struct Sources {
    pub code: BTreeMap<Module, String>,
}

impl Sources {
    /// The library's modules under `src` (`main.rs`, the binary, is a crate of its own), less
    /// those declared `#[cfg(test)]`.
    pub fn read(src: &Path) -> Sources {
        let mut code = BTreeMap::new();
        let mut test_modules = BTreeSet::new();
        for path in super::rust_files(src) {
            let Some(module) = module_of(src, &path) else { continue };
            let (text, tests) = without_tests(&blank_comments_and_literals(&super::read(&path)));
            test_modules.extend(tests.into_iter().map(|name| [module.clone(), vec![name]].concat()));
            code.insert(module, text);
        }
        code.retain(|m, _| !test_modules.iter().any(|t| m.starts_with(t)));
        Sources { code }
    }

    /// Every module each module's code names, resolved to the deepest module that exists.
    pub fn references(&self) -> BTreeMap<&Module, BTreeSet<Module>> {
        self.code
            .iter()
            .map(|(module, text)| {
                let named = paths(text).iter().filter_map(|p| self.resolve(module, p)).collect();
                (module, named)
            })
            .collect()
    }

    fn resolve(&self, from: &Module, path: &[String]) -> Option<Module> {
        let mut segments = path.iter();
        let mut at: Module = match segments.next()?.as_str() {
            "crate" => Vec::new(),
            "self" => from.clone(),
            "super" => from[..from.len().saturating_sub(1)].to_vec(),
            _ => return None,
        };
        let mut rest = segments.peekable();
        while rest.peek().is_some_and(|s| s.as_str() == "super") {
            rest.next();
            at.pop();
        }
        for segment in rest {
            let deeper = [at.clone(), vec![segment.clone()]].concat();
            if !self.code.contains_key(&deeper) {
                break;
            }
            at = deeper;
        }
        Some(at)
    }
}

/// `src/a/mod.rs` is `[a]`, `src/a/b.rs` is `[a, b]`, `src/lib.rs` is `[]`.
fn module_of(src: &Path, path: &Path) -> Option<Module> {
    let relative = path.strip_prefix(src).ok()?.with_extension("");
    let mut module: Module = relative.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    match module.as_slice() {
        [only] if only == "main" => return None,
        [only] if only == "lib" => module.clear(),
        [.., last] if last == "mod" => {
            module.pop();
        }
        _ => {}
    }
    Some(module)
}

/// Comments, string and character literals replaced by spaces: what is left is code.
pub(super) fn blank_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        let skip = match rest {
            ['/', '/', ..] => rest.iter().position(|&c| c == '\n').unwrap_or(rest.len()),
            ['/', '*', ..] => block_comment_len(rest),
            ['r', '#' | '"', ..] if is_raw_string(rest) => raw_string_len(rest),
            ['"', ..] => string_len(rest),
            ['\'', '\\', ..] => rest.iter().skip(2).position(|&c| c == '\'').map_or(1, |p| p + 3),
            ['\'', _, '\'', ..] => 3,
            _ => 0,
        };
        if skip == 0 {
            out.push(chars[i]);
            i += 1;
        } else {
            out.extend(rest[..skip].iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
            i += skip;
        }
    }
    out
}

fn block_comment_len(rest: &[char]) -> usize {
    let mut depth = 0;
    let mut i = 0;
    while i + 1 < rest.len() {
        match (rest[i], rest[i + 1]) {
            ('/', '*') => {
                depth += 1;
                i += 2;
            }
            ('*', '/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    rest.len()
}

fn is_raw_string(rest: &[char]) -> bool {
    let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
    rest.get(1 + hashes) == Some(&'"')
}

fn raw_string_len(rest: &[char]) -> usize {
    let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
    let body = 2 + hashes;
    let closing: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
    (body..rest.len())
        .find(|&i| rest[i..].starts_with(&closing))
        .map_or(rest.len(), |i| i + closing.len())
}

fn string_len(rest: &[char]) -> usize {
    let mut i = 1;
    while i < rest.len() {
        match rest[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    rest.len()
}

/// The code less its `#[cfg(test)]` items, and the names of the test modules declared there.
fn without_tests(code: &str) -> (String, Vec<String>) {
    const ATTRIBUTE: &str = "#[cfg(test)]";
    let mut out = String::new();
    let mut test_modules = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(ATTRIBUTE) {
        out.push_str(&rest[..at]);
        let item = &rest[at + ATTRIBUTE.len()..];
        let end = item_len(item);
        let head = item[..end].split(['{', ';']).next().unwrap_or_default();
        let words: Vec<&str> = head.split_whitespace().collect();
        if let [.., "mod", name] = words.as_slice() {
            test_modules.push((*name).to_owned());
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    (out, test_modules)
}

/// An item's length: to its `;`, or to the brace that closes its first `{`.
fn item_len(item: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in item.char_indices() {
        match c {
            ';' if depth == 0 => return i + 1,
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    item.len()
}

/// Every path the code writes: the leaves of `use` trees, and `a::b::c` paths elsewhere.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        found.extend(inline_paths(&rest[..at]));
        let statement = &rest[at + 3..];
        let end = statement.find(';').unwrap_or(statement.len());
        found.extend(
            use_leaves(&compact(&statement[..end]))
                .into_iter()
                .map(|leaf| split(&leaf)),
        );
        rest = &statement[end..];
    }
    found.extend(inline_paths(rest));
    found
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && after.is_some_and(char::is_whitespace)
    })
}

/// A `use` tree on one line, spaces kept only where they separate words (`X as Y`).
fn compact(tree: &str) -> String {
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut out = String::new();
    for word in words {
        let joins = out.ends_with(['{', ',', ':']) || word.starts_with(['}', ',', ':', '{']);
        if !out.is_empty() && !joins {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e` (aliases dropped, `self` kept as its parent).
fn use_leaves(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or(tree).to_owned()];
    };
    let prefix = &tree[..open];
    let close = tree.rfind('}').unwrap_or(tree.len());
    let mut leaves = Vec::new();
    let mut depth = 0;
    let mut start = open + 1;
    for (i, c) in tree[open + 1..close].char_indices().map(|(i, c)| (i + open + 1, c)) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                leaves.extend(use_leaves(&tree[start..i]).into_iter().map(|l| format!("{prefix}{l}")));
                start = i + 1;
            }
            _ => {}
        }
    }
    leaves.extend(
        use_leaves(&tree[start..close])
            .into_iter()
            .map(|l| format!("{prefix}{l}")),
    );
    leaves.retain(|l| !l.ends_with("::") && !l.is_empty());
    leaves
}

fn split(path: &str) -> Vec<String> {
    path.split("::")
        .filter(|s| !s.is_empty() && *s != "*" && *s != "self")
        .map(str::to_owned)
        .collect()
}

/// Paths outside `use`: runs of `ident::ident…` that start at `crate`, `super` or `self`.
fn inline_paths(code: &str) -> Vec<Vec<String>> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for start in ["crate::", "super::", "self::"] {
        for (i, _) in code.match_indices(start) {
            if code[..i].chars().next_back().is_some_and(|c| is_ident(c) || c == ':') {
                continue;
            }
            let end = code[i..]
                .char_indices()
                .find(|&(_, c)| !(is_ident(c) || c == ':'))
                .map_or(code.len(), |(j, _)| i + j);
            found.push(split(&code[i..end]));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_trees_become_their_leaves() {
        assert_eq!(
            use_leaves("super::{a::X,b::{self,Y},c}"),
            ["super::a::X", "super::b::self", "super::b::Y", "super::c"]
        );
        assert_eq!(
            use_leaves(&compact("crate::x::{\n    Y as Z,\n    W }")),
            ["crate::x::Y", "crate::x::W"]
        );
    }

    #[test]
    fn comments_strings_and_tests_are_not_code() {
        let text = "// crate::a\nlet s = \"crate::b\"; let r = r#\"crate::c\"#; /* crate::d */ crate::e::f();\n#[cfg(test)]\nmod tests { use crate::g; }\n#[cfg(test)]\nmod more;\n";
        let (code, tests) = without_tests(&blank_comments_and_literals(text));
        let found = paths(&code);
        assert_eq!(found, [vec!["crate".to_owned(), "e".into(), "f".into()]]);
        assert_eq!(tests, ["tests", "more"]);
    }
}
