//! Request URLs built from path segments (RFC 3986 §3.3) with `url`'s `path_segments_mut`,
//! never by pasting strings: an id a directory answered becomes exactly one segment, its `/`,
//! `?`, `#`, `%`, spaces and non-ASCII characters percent-encoded, so that it can reach no
//! other resource, add no query and cut the path short with no fragment. Fixed segments
//! (`Users`, `$batch`) are built the same way, so every request URL of the providers follows
//! one rule, full URLs and the relative ones of a JSON batch alike.
//!
//! Some ids cannot be one segment however they are encoded, and are refused before anything is
//! sent, as `DirectoryError::InvalidResponse` naming the id: the empty id, which names the
//! collection; `.` and `..`, which the URL Standard's path parser removes, `..` with the
//! segment before it (WHATWG URL Standard, "path state"; RFC 3986 §5.2.4, "Remove Dot
//! Segments") — and so does `url` when it is asked to push them; and an id holding an ASCII tab
//! or newline, which the same parser strips ("remove all ASCII tab or newline"), leaving
//! another id, or a `..`.

use reqwest::Url;

use super::DirectoryError;

/// What a relative URL is built on: a reserved name that never resolves (RFC 6761 §6.4); only
/// its path and query are kept.
const RELATIVE_ROOT: &str = "http://relative.invalid/";

/// `base` with `segments` below it, each exactly one segment. A trailing `/` of `base` is not
/// doubled; its query, if any, stays.
pub fn below(base: &Url, segments: &[&str]) -> Result<Url, DirectoryError> {
    let mut url = base.clone();
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|()| DirectoryError::InvalidResponse(format!("{base} cannot hold a path")))?;
        path.pop_if_empty();
        for segment in segments {
            path.push(one_segment(segment)?);
        }
    }
    Ok(url)
}

/// The path and query of `segments` and `query` relative to a service root, as a JSON batch
/// request's `url` holds it (`/users/a%2Fb?%24select=id`): built by `below` and `with_query`,
/// so escaped by the same rule as a full URL.
pub fn relative(segments: &[&str], query: &[(&str, &str)]) -> Result<String, DirectoryError> {
    let root = Url::parse(RELATIVE_ROOT).map_err(|e| DirectoryError::InvalidResponse(e.to_string()))?;
    let mut url = below(&root, segments)?;
    with_query(&mut url, query);
    Ok(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    })
}

/// `url` with `query` appended, form-encoded (`application/x-www-form-urlencoded`): a value
/// from a directory is one value, whatever `&`, `=` or `#` it holds. No pairs, no `?`.
pub fn with_query(url: &mut Url, query: &[(&str, &str)]) {
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
}

/// `id` when it can be exactly one segment of a path, else a refusal naming it (see the module
/// documentation for which cannot).
pub fn one_segment(id: &str) -> Result<&str, DirectoryError> {
    let stripped_by_parsers = id.contains(['\t', '\n', '\r']);
    if matches!(id, "" | "." | "..") || stripped_by_parsers {
        return Err(DirectoryError::InvalidResponse(format!(
            "the id {id:?} cannot be one segment of a URL path (it would name another resource): not sent"
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a URL")
    }

    fn refused(result: Result<impl std::fmt::Debug, DirectoryError>, id: &str) {
        match result {
            Err(DirectoryError::InvalidResponse(why)) => assert!(why.contains(&format!("{id:?}")), "{why}"),
            other => panic!("expected {id:?} refused, got {other:?}"),
        }
    }

    #[test]
    fn each_id_is_one_segment_whatever_it_holds() {
        let base = url("https://scim.example/v2");
        let cases = [
            ("victim/../other", "/v2/Users/victim%2F..%2Fother"),
            ("a?x=1", "/v2/Users/a%3Fx=1"),
            ("x#y", "/v2/Users/x%23y"),
            ("%2e%2e", "/v2/Users/%252e%252e"),
            ("50% off", "/v2/Users/50%25%20off"),
            ("a\\b", "/v2/Users/a%5Cb"),
            ("ünï", "/v2/Users/%C3%BCn%C3%AF"),
            ("...", "/v2/Users/..."),
            ("a.b", "/v2/Users/a.b"),
        ];
        for (id, path) in cases {
            let built = below(&base, &["Users", id]).expect("built");
            assert_eq!(built.path(), path, "{id:?}");
            assert_eq!((built.query(), built.fragment()), (None, None), "{id:?}");
            // What a server decodes is the id again, as one segment.
            let again = url(built.as_str());
            assert_eq!(again.path_segments().map(Iterator::count), Some(3), "{id:?}");
        }
    }

    #[test]
    fn a_base_with_or_without_a_trailing_slash_gives_the_same_url() {
        for base in ["https://scim.example/v2", "https://scim.example/v2/"] {
            let built = below(&url(base), &["Users", "a/b"]).expect("built");
            assert_eq!(built.as_str(), "https://scim.example/v2/Users/a%2Fb", "{base}");
        }
        for base in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            let built = below(&url(base), &["Users"]).expect("built");
            assert_eq!(built.as_str(), "http://127.0.0.1:8080/Users", "{base}");
        }
    }

    #[test]
    fn an_id_that_cannot_be_one_segment_is_refused() {
        let base = url("https://scim.example/v2/");
        for id in ["..", ".", "", ".\t.", "vic\ttim", "a\nb", "a\rb"] {
            refused(below(&base, &["Users", id]), id);
            refused(relative(&["users", id], &[]), id);
        }
    }

    #[test]
    fn a_relative_url_follows_the_same_rule_and_encodes_its_query() {
        assert_eq!(
            relative(&["users", "victim/../other"], &[]).as_deref().ok(),
            Some("/users/victim%2F..%2Fother")
        );
        assert_eq!(
            relative(&["groups", "g#1", "members", "m?x", "$ref"], &[])
                .as_deref()
                .ok(),
            Some("/groups/g%231/members/m%3Fx/$ref")
        );
        assert_eq!(
            relative(&["users", "u1"], &[("$select", "id,mail"), ("$filter", "a eq 'b&c=d'")])
                .as_deref()
                .ok(),
            Some("/users/u1?%24select=id%2Cmail&%24filter=a+eq+%27b%26c%3Dd%27")
        );
        assert_eq!(relative(&["$batch"], &[]).as_deref().ok(), Some("/$batch"));
    }

    #[test]
    fn a_query_built_from_pairs_is_decoded_to_the_same_pairs() {
        let mut built = below(&url("https://graph.example/v1.0"), &["users"]).expect("built");
        with_query(&mut built, &[("$filter", "mail eq 'a+b@x#y&z'")]);
        let pairs: Vec<(String, String)> = built.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
        assert_eq!(pairs, [("$filter".to_owned(), "mail eq 'a+b@x#y&z'".to_owned())]);
        let mut plain = url("https://graph.example/v1.0/users");
        with_query(&mut plain, &[]);
        assert_eq!(plain.as_str(), "https://graph.example/v1.0/users", "no pairs, no '?'");
    }
}
