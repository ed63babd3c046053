//! Workload identity federation (Microsoft Learn, "Workload identity federation"; "Microsoft
//! Entra Workload ID with AKS"): the operator's own Kubernetes service account token, projected
//! into the file `AZURE_FEDERATED_TOKEN_FILE` names, is the client assertion of a token request.
//! The token belongs to the operator, never to a Tenant, so it goes only to the login endpoint
//! of a cloud or to one the operator was told to trust — never to a Tenant's override alone.

use std::io::Read;
use std::path::PathBuf;

use crate::providers::destination::UrlPrefix;
use crate::providers::settings::NationalCloud;

use super::endpoints::Endpoints;

/// The variable the AKS workload identity webhook sets in the operator's pod.
pub const TOKEN_FILE_VARIABLE: &str = "AZURE_FEDERATED_TOKEN_FILE";
/// Where that webhook projects the token.
pub const DEFAULT_TOKEN_FILE: &str = "/var/run/secrets/azure/tokens/azure-identity-token";
/// A service account token is a few KiB; more is not one.
const TOKEN_CAP: u64 = 64 * 1024;

/// Where the operator's federated token is, and which login endpoints besides the clouds' own
/// may receive it.
#[derive(Clone, Debug)]
pub struct Federation {
    pub token_file: PathBuf,
    trusted: Vec<UrlPrefix>,
}

impl Default for Federation {
    fn default() -> Self {
        Federation {
            token_file: PathBuf::from(DEFAULT_TOKEN_FILE),
            trusted: Vec::new(),
        }
    }
}

impl Federation {
    /// The token at `token_file`, sendable to the clouds' login endpoints and to `trusted`
    /// (URL prefixes). An entry that is not an absolute `https://` URL (or `http://` to
    /// loopback) is an error: a typo must not silently trust nothing, or something else.
    pub fn new(token_file: PathBuf, trusted: &[String]) -> Result<Federation, String> {
        let trusted = trusted
            .iter()
            .flat_map(|entry| entry.split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                reqwest::Url::parse(entry)
                    .ok()
                    .filter(|url| url.scheme() == "https" || crate::providers::destination::is_loopback(url))
                    .and_then(|url| UrlPrefix::of(&url))
                    .ok_or_else(|| format!("--trusted-login-endpoint '{entry}' is not an https:// URL"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Federation { token_file, trusted })
    }

    /// The token file of the environment (`AZURE_FEDERATED_TOKEN_FILE`, else the AKS default).
    pub fn from_env(trusted: &[String]) -> Result<Federation, String> {
        let file = std::env::var_os(TOKEN_FILE_VARIABLE)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_TOKEN_FILE), PathBuf::from);
        Federation::new(file, trusted)
    }

    /// May the federated token (or the access token it buys) go to `endpoint`, the login or
    /// Graph endpoint of a Tenant in `cloud`?
    pub fn trusts(&self, cloud: NationalCloud, endpoint: &str) -> bool {
        let Some(url) = reqwest::Url::parse(endpoint).ok().and_then(|u| UrlPrefix::of(&u)) else {
            return false;
        };
        let own = Endpoints::resolve(cloud, None)
            .into_iter()
            .flat_map(|e| [e.login, e.graph])
            .filter_map(|e| reqwest::Url::parse(&e).ok())
            .filter_map(|u| UrlPrefix::of(&u))
            .any(|own| own.covers(&url));
        own || self.trusted.iter().any(|t| t.covers(&url))
    }

    /// The token as it is now: read for every token request, since the kubelet rotates it.
    pub fn token(&self) -> Result<String, String> {
        let path = self.token_file.display();
        let file = std::fs::File::open(&self.token_file)
            .map_err(|e| format!("cannot read the federated token file {path} ({TOKEN_FILE_VARIABLE}): {e}"))?;
        let mut token = String::new();
        file.take(TOKEN_CAP)
            .read_to_string(&mut token)
            .map_err(|e| format!("cannot read the federated token file {path}: {e}"))?;
        let token = token.trim();
        if token.is_empty() {
            return Err(format!("the federated token file {path} is empty"));
        }
        Ok(token.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_to_the_clouds_own_login_or_a_trusted_one_only() {
        let federation = Federation::new(
            PathBuf::from("/nonexistent"),
            &["http://127.0.0.1:8443/, https://proxy.example/login".into()],
        )
        .expect("trusted entries parse");
        assert!(federation.trusts(NationalCloud::Global, "https://login.microsoftonline.com"));
        assert!(
            !federation.trusts(NationalCloud::Global, "https://login.microsoftonline.us"),
            "another cloud's"
        );
        assert!(federation.trusts(NationalCloud::USGovernment, "https://login.microsoftonline.us/"));
        assert!(federation.trusts(NationalCloud::Global, "https://graph.microsoft.com"));
        assert!(federation.trusts(NationalCloud::Global, "http://127.0.0.1:8443"));
        assert!(federation.trusts(NationalCloud::Global, "https://proxy.example/login"));
        assert!(!federation.trusts(NationalCloud::Global, "https://proxy.example/loginx"));
        assert!(!federation.trusts(NationalCloud::Global, "https://login.microsoftonline.com.evil.example"));
        assert!(!federation.trusts(NationalCloud::China21Vianet, "https://attacker.example"));
        assert!(Federation::new(PathBuf::new(), &["login.example".into()]).is_err());
        assert!(Federation::new(PathBuf::new(), &["http://proxy.example".into()]).is_err());
    }

    #[test]
    fn the_token_file_is_read_anew_each_time() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("token");
        let federation = Federation::new(file.clone(), &[]).expect("federation");
        assert!(
            federation
                .token()
                .expect_err("no file yet")
                .contains(TOKEN_FILE_VARIABLE)
        );
        std::fs::write(&file, "first\n").expect("write");
        assert_eq!(federation.token().as_deref(), Ok("first"));
        std::fs::write(&file, "rotated").expect("write");
        assert_eq!(federation.token().as_deref(), Ok("rotated"));
        std::fs::write(&file, " \n").expect("write");
        assert!(federation.token().is_err());
    }
}
