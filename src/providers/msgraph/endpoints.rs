//! Where a tenant's login and Graph endpoints are: they follow the tenant's cloud, unless the
//! Tenant overrides them (tests, proxies).

use crate::api::tenant::{Cloud, GraphEndpoints};

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
    pub fn resolve(cloud: Cloud, overrides: Option<&GraphEndpoints>) -> Option<Endpoints> {
        let defaults = match cloud {
            Cloud::Global => Some(("https://login.microsoftonline.com", "https://graph.microsoft.com")),
            Cloud::USGovernment => Some(("https://login.microsoftonline.us", "https://graph.microsoft.us")),
            Cloud::China21Vianet => None,
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

    /// A beta URL (what v1.0 does not hold yet); `path` starts with `/`.
    pub fn beta(&self, path: &str) -> String {
        format!("{}/beta{path}", self.graph)
    }

    /// A v1.0 URL; `path` starts with `/`.
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
        let global = Endpoints::resolve(Cloud::Global, None).expect("global");
        assert_eq!(
            global.token_url("t"),
            "https://login.microsoftonline.com/t/oauth2/v2.0/token"
        );
        assert_eq!(global.scope(), "https://graph.microsoft.com/.default");
        let gov = Endpoints::resolve(Cloud::USGovernment, None).expect("gov");
        assert_eq!(gov.login, "https://login.microsoftonline.us");
        assert_eq!(gov.v1("/users"), "https://graph.microsoft.us/v1.0/users");
        assert_eq!(Endpoints::resolve(Cloud::China21Vianet, None), None);
    }

    #[test]
    fn overrides_win_field_by_field() {
        let overrides = GraphEndpoints {
            login: None,
            graph: Some("http://127.0.0.1:9/".into()),
        };
        let e = Endpoints::resolve(Cloud::USGovernment, Some(&overrides)).expect("endpoints");
        assert_eq!(e.login, "https://login.microsoftonline.us");
        assert_eq!(e.graph, "http://127.0.0.1:9");
        let both = GraphEndpoints {
            login: Some("http://127.0.0.1:9".into()),
            graph: Some("http://127.0.0.1:9".into()),
        };
        assert!(Endpoints::resolve(Cloud::China21Vianet, Some(&both)).is_some());
    }
}
