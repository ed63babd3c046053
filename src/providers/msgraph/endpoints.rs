//! Where a tenant's login and Graph endpoints are: they follow the tenant's cloud, unless the
//! Tenant overrides them (tests, proxies).

use reqwest::Url;

use crate::providers::settings::{EndpointOverrides, NationalCloud};
use crate::providers::{DirectoryError, url_path};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// The Microsoft identity platform authority, e.g. `https://login.microsoftonline.com`.
    pub login: String,
    /// The Graph service root, e.g. `https://graph.microsoft.com`.
    pub graph: String,
}

impl Endpoints {
    /// The endpoints of `cloud` with `overrides` applied. `None` when the cloud has no
    /// supported defaults (21Vianet) and nothing overrides them.
    pub fn resolve(cloud: NationalCloud, overrides: Option<&EndpointOverrides>) -> Option<Endpoints> {
        let defaults = match cloud {
            NationalCloud::Global => Some(("https://login.microsoftonline.com", "https://graph.microsoft.com")),
            NationalCloud::USGovernment => Some(("https://login.microsoftonline.us", "https://graph.microsoft.us")),
            NationalCloud::China21Vianet => None,
        };
        let login = overrides.and_then(|o| o.login.as_deref()).or(defaults.map(|d| d.0))?;
        let graph = overrides.and_then(|o| o.graph.as_deref()).or(defaults.map(|d| d.1))?;
        Some(Endpoints {
            login: login.trim_end_matches('/').to_owned(),
            graph: graph.trim_end_matches('/').to_owned(),
        })
    }

    /// The OAuth2 token endpoint of a tenant (v2.0).
    pub fn token_url(&self, tenant_id: &str) -> String {
        format!("{}/{tenant_id}/oauth2/v2.0/token", self.login)
    }

    /// The client-credentials scope: every application permission granted to the app on Graph.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.graph)
    }

    /// The v1.0 URL of `segments`, each one segment of the path however it is spelled
    /// (`url_path`).
    pub fn v1_url(&self, segments: &[&str]) -> Result<Url, DirectoryError> {
        self.versioned("v1.0", segments)
    }

    /// The beta URL of `segments` (what v1.0 does not hold yet), built as `v1_url` builds.
    pub fn beta_url(&self, segments: &[&str]) -> Result<Url, DirectoryError> {
        self.versioned("beta", segments)
    }

    fn versioned(&self, version: &str, segments: &[&str]) -> Result<Url, DirectoryError> {
        let root = Url::parse(&self.graph)
            .map_err(|e| DirectoryError::InvalidResponse(format!("the Graph endpoint {:?}: {e}", self.graph)))?;
        let path: Vec<&str> = std::iter::once(version).chain(segments.iter().copied()).collect();
        url_path::below(&root, &path)
    }

    /// The v1.0 URL of `path`, which starts with `/`: a relative URL `url_path` built (a JSON
    /// batch request's), or a fixed path that holds no id. Ids go through `v1_url`.
    pub fn v1(&self, path: &str) -> String {
        format!("{}/v1.0{path}", self.graph)
    }
}

/// A Graph object id is a GUID: only such an id is ever put in a request's path.
pub(super) fn is_object_id(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_cloud() {
        let global = Endpoints::resolve(NationalCloud::Global, None).expect("global");
        assert_eq!(
            global.token_url("t"),
            "https://login.microsoftonline.com/t/oauth2/v2.0/token"
        );
        assert_eq!(global.scope(), "https://graph.microsoft.com/.default");
        let gov = Endpoints::resolve(NationalCloud::USGovernment, None).expect("gov");
        assert_eq!(gov.login, "https://login.microsoftonline.us");
        assert_eq!(gov.v1("/users"), "https://graph.microsoft.us/v1.0/users");
        let user = gov.v1_url(&["users", "a/b"]).expect("url");
        assert_eq!(user.as_str(), "https://graph.microsoft.us/v1.0/users/a%2Fb");
        let sync = gov.beta_url(&["policies", "x?y"]).expect("url");
        assert_eq!(sync.as_str(), "https://graph.microsoft.us/beta/policies/x%3Fy");
        assert_eq!(Endpoints::resolve(NationalCloud::China21Vianet, None), None);
    }

    #[test]
    fn overrides_win_field_by_field() {
        let overrides = EndpointOverrides {
            login: None,
            graph: Some("http://127.0.0.1:9/".into()),
        };
        let e = Endpoints::resolve(NationalCloud::USGovernment, Some(&overrides)).expect("endpoints");
        assert_eq!(e.login, "https://login.microsoftonline.us");
        assert_eq!(e.graph, "http://127.0.0.1:9");
        let proxied = EndpointOverrides {
            login: None,
            graph: Some("https://proxy.example/graph/".into()),
        };
        let e = Endpoints::resolve(NationalCloud::Global, Some(&proxied)).expect("endpoints");
        let batch = e.v1_url(&["$batch"]).expect("url");
        assert_eq!(
            batch.as_str(),
            "https://proxy.example/graph/v1.0/$batch",
            "below the endpoint's path"
        );
        let both = EndpointOverrides {
            login: Some("http://127.0.0.1:9".into()),
            graph: Some("http://127.0.0.1:9".into()),
        };
        assert!(Endpoints::resolve(NationalCloud::China21Vianet, Some(&both)).is_some());
    }
}
