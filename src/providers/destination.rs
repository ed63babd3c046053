//! Where a credential may go. A Tenant's credential is sent to the URLs its spec names (the
//! SCIM base URL; Microsoft Graph's `login` and `graph` endpoints), and a Secret says which
//! URLs it may be sent to with the annotation `xtsync.io/credentials-for`: a comma-separated
//! list of URL prefixes (README, "Credentials").
//!
//! A prefix covers a URL when scheme, host and port are equal — scheme and host compared
//! case-insensitively, an absent port read as the scheme's default (RFC 3986 §6.2.2.1,
//! §6.2.3) — and the prefix's path is a prefix of the URL's path by whole segments, after a
//! trailing `/` is trimmed: `https://a.example` never covers `https://a.example.evil`, nor
//! `/v2` `/v20`. Paths compare case-sensitively (RFC 3986 §6.2.2.1). An entry that cannot be
//! read as a prefix is ignored — never widened into one — and the caller says so.

use std::fmt;

use reqwest::Url;

/// A URL reduced to what decides where its bytes go: scheme, host, port and path segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPrefix {
    scheme: String,
    host: String,
    port: u16,
    /// The path without its trailing `/`, split at `/` (`/v2` is `["", "v2"]`, `/` is `[""]`).
    segments: Vec<String>,
}

/// A URL a Tenant's credential, or a token obtained with it, is sent to; and the spec field
/// that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub field: &'static str,
    pub url: UrlPrefix,
}

/// Why an entry of `xtsync.io/credentials-for` is ignored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoredPrefix {
    #[error("'{0}' has no scheme (write https:// or http://)")]
    NoScheme(String),
    #[error("'{0}' is not a URL ({1})")]
    Unparsable(String, String),
    #[error("'{0}' is not an https:// or http:// URL")]
    NotHttp(String),
    #[error("'{0}' carries a query or a fragment")]
    QueryOrFragment(String),
    #[error("'{0}' carries user information")]
    UserInfo(String),
}

impl UrlPrefix {
    /// The destination a URL names (its query, fragment and user information do not change
    /// which server receives the request); `None` for a URL that is not http(s) with a host.
    pub fn of(url: &Url) -> Option<UrlPrefix> {
        let scheme = url.scheme().to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return None;
        }
        let path = url.path().trim_end_matches('/');
        Some(UrlPrefix {
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
            segments: path.split('/').map(str::to_owned).collect(),
            scheme,
        })
    }

    /// One entry of the annotation, read strictly: only an absolute http(s) URL with nothing
    /// but scheme, host, port and path is a prefix.
    pub fn parse(entry: &str) -> Result<UrlPrefix, IgnoredPrefix> {
        let ignored = |why: fn(String) -> IgnoredPrefix| why(entry.to_owned());
        if !entry.contains("://") {
            return Err(ignored(IgnoredPrefix::NoScheme));
        }
        let url = Url::parse(entry).map_err(|e| IgnoredPrefix::Unparsable(entry.to_owned(), e.to_string()))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ignored(IgnoredPrefix::QueryOrFragment));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ignored(IgnoredPrefix::UserInfo));
        }
        UrlPrefix::of(&url).ok_or_else(|| ignored(IgnoredPrefix::NotHttp))
    }

    /// Whether a request to `destination` goes where this prefix allows.
    pub fn covers(&self, destination: &UrlPrefix) -> bool {
        self.scheme == destination.scheme
            && self.host == destination.host
            && self.port == destination.port
            && destination.segments.starts_with(&self.segments)
    }
}

/// The normalised form, as a user would write it: no default port, no trailing `/`.
impl fmt::Display for UrlPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default_port = match self.scheme.as_str() {
            "https" => 443,
            _ => 80,
        };
        write!(f, "{}://{}", self.scheme, self.host)?;
        if self.port != default_port {
            write!(f, ":{}", self.port)?;
        }
        f.write_str(&self.segments.join("/"))
    }
}

/// The value of `xtsync.io/credentials-for`: the prefixes it grants, and what it holds that
/// is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    pub prefixes: Vec<UrlPrefix>,
    pub ignored: Vec<IgnoredPrefix>,
}

impl Grant {
    /// Reads the annotation's value; `None` (no annotation) grants nothing.
    pub fn parse(annotation: Option<&str>) -> Grant {
        let mut grant = Grant::default();
        let entries = annotation.unwrap_or_default().split(',').map(str::trim);
        for entry in entries.filter(|e| !e.is_empty()) {
            match UrlPrefix::parse(entry) {
                Ok(prefix) => grant.prefixes.push(prefix),
                Err(ignored) => grant.ignored.push(ignored),
            }
        }
        grant
    }

    /// Whether some granted prefix covers `destination`.
    pub fn covers(&self, destination: &UrlPrefix) -> bool {
        self.prefixes.iter().any(|p| p.covers(destination))
    }
}

/// Plain `http://` is allowed to the machine itself only (tests, a local proxy).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    url.scheme() == "http"
        && (host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(prefix: &str, url: &str) -> bool {
        let url = Url::parse(url).expect("a test URL");
        Grant::parse(Some(prefix)).covers(&UrlPrefix::of(&url).expect("an http(s) URL"))
    }

    #[test]
    fn a_host_is_never_a_prefix_of_a_longer_host() {
        assert!(!covers("https://a.example", "https://a.example.evil"));
        assert!(!covers("https://a.example", "https://a.example.evil/v2"));
        assert!(covers("https://a.example", "https://a.example/v2"));
    }

    #[test]
    fn scheme_and_host_compare_case_insensitively_and_default_ports_are_filled_in() {
        assert!(covers("https://a.example:443/v2", "https://A.EXAMPLE/v2/"));
        assert!(covers("HTTPS://A.Example/v2", "https://a.example:443/v2/Users"));
        assert!(covers("http://127.0.0.1/", "http://127.0.0.1:80/scim"));
        assert!(!covers("http://a.example/v2", "https://a.example/v2"));
        assert!(!covers("https://a.example:8443/v2", "https://a.example/v2"));
    }

    #[test]
    fn another_port_is_another_destination() {
        assert!(covers("http://127.0.0.1:8080/", "http://127.0.0.1:8080/contoso/v2"));
        assert!(!covers("http://127.0.0.1:8080/", "http://127.0.0.1:8081/"));
        assert!(!covers("http://127.0.0.1:8080/", "http://127.0.0.1:8081/contoso/v2"));
    }

    #[test]
    fn paths_match_by_whole_segments() {
        assert!(covers("https://a.example/v2", "https://a.example/v2"));
        assert!(covers("https://a.example/v2/", "https://a.example/v2"));
        assert!(covers("https://a.example/v2", "https://a.example/v2/Users"));
        assert!(!covers("https://a.example/v2", "https://a.example/v20"));
        assert!(!covers("https://a.example/v2/Users", "https://a.example/v2"));
        assert!(!covers("https://a.example/V2", "https://a.example/v2"));
        assert!(!covers("https://a.example/contoso/v2", "https://a.example/fabrikam/v2"));
    }

    #[test]
    fn dot_segments_cannot_climb_out_of_a_prefix() {
        assert!(!covers(
            "https://a.example/contoso",
            "https://a.example/contoso/../fabrikam"
        ));
    }

    #[test]
    fn any_listed_prefix_may_cover() {
        let list = " https://scim.fabrikam.example/v2 , http://127.0.0.1:8080/ ";
        assert!(covers(list, "http://127.0.0.1:8080/fabrikam/v2"));
        assert!(covers(list, "https://scim.fabrikam.example/v2"));
        assert!(!covers(list, "https://scim.contoso.example/v2"));
    }

    #[test]
    fn entries_that_are_not_plain_prefixes_are_ignored_and_named() {
        let grant = Grant::parse(Some(
            "a.example/v2, https://a.example/v2?x=1, https://a.example/v2#f, https://u:p@a.example/, ftp://a.example/, https://, , https://b.example",
        ));
        assert_eq!(grant.prefixes.len(), 1, "{grant:?}");
        let kinds: Vec<&str> = grant
            .ignored
            .iter()
            .map(|i| match i {
                IgnoredPrefix::NoScheme(_) => "no scheme",
                IgnoredPrefix::Unparsable(..) => "unparsable",
                IgnoredPrefix::NotHttp(_) => "not http",
                IgnoredPrefix::QueryOrFragment(_) => "query or fragment",
                IgnoredPrefix::UserInfo(_) => "user info",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "no scheme",
                "query or fragment",
                "query or fragment",
                "user info",
                "not http",
                "unparsable"
            ]
        );
        assert!(!covers("https://u:p@a.example/", "https://a.example/v2"));
        assert!(!covers("a.example", "https://a.example/v2"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// A prefix's host and last path segment are whole: adding characters to either makes
        /// another destination, which the prefix never covers; adding segments stays inside.
        #[test]
        fn a_prefix_covers_only_whole_hosts_and_whole_segments(
            host in "[a-z](-?[a-z0-9]){0,8}(\\.[a-z](-?[a-z0-9]){0,8}){0,2}",
            segment in "[A-Za-z0-9_~-]{1,8}",
            // Labels start with a letter so that no host reads as an IPv4 address,
            // and never hold "--", so that none reads as a Punycode ("xn--") label.
            more in "[a-z0-9]{0,4}[g-z]",
            evil in "[a-z](-?[a-z0-9]){0,6}",
            below in "[A-Za-z0-9_~-]{1,8}",
        ) {
            let prefix = format!("https://{host}/{segment}");
            let inside = [
                format!("https://{host}/{segment}/{below}"),
                format!("https://{}:443/{segment}/", host.to_uppercase()),
            ];
            let outside = [
                format!("https://{host}{more}/{segment}"),
                format!("https://{host}.{evil}/{segment}"),
                format!("https://{host}/{segment}{below}"),
                format!("https://{host}:8443/{segment}"),
            ];
            for url in &inside {
                proptest::prop_assert!(covers(&prefix, url), "{} should cover {}", prefix, url);
            }
            for url in &outside {
                proptest::prop_assert!(!covers(&prefix, url), "{} should not cover {}", prefix, url);
            }
        }
    }

    #[test]
    fn no_annotation_grants_nothing() {
        assert_eq!(Grant::parse(None), Grant::default());
        assert!(!Grant::parse(Some("")).covers(&UrlPrefix::parse("https://a.example").expect("a prefix")));
    }

    #[test]
    fn the_normal_form_reads_as_a_user_writes_it() {
        let shown = |s: &str| UrlPrefix::parse(s).expect("a prefix").to_string();
        assert_eq!(shown("HTTPS://A.example:443/v2/"), "https://a.example/v2");
        assert_eq!(shown("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert_eq!(shown("http://[::1]:8080/scim"), "http://[::1]:8080/scim");
    }
}
