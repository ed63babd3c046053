//! OAuth2 client credentials against the Microsoft identity platform (v2.0 token endpoint),
//! with tokens cached until shortly before they expire. Secrets and tokens never reach a log.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::endpoints::Endpoints;
use crate::providers::{ProbeError, describe};

/// A token is renewed this long before it expires, so that no request leaves with a token that
/// expires on the way.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// What an app registration authenticates with.
#[derive(Clone)]
pub struct Credentials {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// (token endpoint, client id, secret fingerprint): a rotated secret is a new entry.
type CacheKey = (String, String, u64);

/// Access tokens with the instant they are to be renewed.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<CacheKey, (String, Instant)>>,
}

impl TokenCache {
    fn key(endpoints: &Endpoints, credentials: &Credentials) -> CacheKey {
        let mut hasher = DefaultHasher::new();
        credentials.client_secret.hash(&mut hasher);
        (
            endpoints.token_url(&credentials.tenant_id),
            credentials.client_id.clone(),
            hasher.finish(),
        )
    }

    fn get(&self, key: &CacheKey) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        let (token, renew_at) = tokens.get(key)?;
        (Instant::now() < *renew_at).then(|| token.clone())
    }

    fn put(&self, key: CacheKey, token: String, lifetime: Duration) {
        // Short-lived tokens are renewed at half their life rather than never cached.
        let keep = lifetime.saturating_sub(RENEW_BEFORE).max(lifetime / 2);
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(key, (token, Instant::now() + keep));
        }
    }

    /// Forgets a token the directory refused (revoked, or the app's permissions changed).
    pub fn forget(&self, endpoints: &Endpoints, credentials: &Credentials) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.remove(&TokenCache::key(endpoints, credentials));
        }
    }

    /// A valid access token: from the cache, else from the token endpoint.
    pub async fn token(
        &self,
        http: &reqwest::Client,
        endpoints: &Endpoints,
        credentials: &Credentials,
    ) -> Result<String, ProbeError> {
        let key = TokenCache::key(endpoints, credentials);
        if let Some(token) = self.get(&key) {
            return Ok(token);
        }
        let (token, lifetime) = request_token(http, endpoints, credentials).await?;
        self.put(key, token.clone(), lifetime);
        Ok(token)
    }
}

/// The token endpoint's success answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// The token endpoint's error answer (`error`, and an `AADSTS…` description).
#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

async fn request_token(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    credentials: &Credentials,
) -> Result<(String, Duration), ProbeError> {
    let url = endpoints.token_url(&credentials.tenant_id);
    let scope = endpoints.scope();
    let form = [
        ("client_id", credentials.client_id.as_str()),
        ("client_secret", credentials.client_secret.as_str()),
        ("scope", scope.as_str()),
        ("grant_type", "client_credentials"),
    ];
    let response = http
        .post(&url)
        .form(&form)
        .send()
        .await
        .map_err(|e| ProbeError::Unreachable {
            url: url.clone(),
            cause: describe(&e),
        })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| ProbeError::Unreachable {
        url: url.clone(),
        cause: describe(&e),
    })?;
    if !status.is_success() {
        return Err(match serde_json::from_slice::<TokenError>(&bytes) {
            Ok(e) if status.is_client_error() => ProbeError::AuthenticationFailed {
                status: status.as_u16(),
                detail: Some(first_line(&format!(
                    "{}: {}",
                    e.error,
                    e.error_description.unwrap_or_default()
                ))),
            },
            _ => ProbeError::InvalidResponse {
                url,
                what: format!("HTTP {status} from the token endpoint"),
            },
        });
    }
    let token: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| ProbeError::InvalidResponse {
        url,
        what: format!("not a token response: {e}"),
    })?;
    Ok((
        token.access_token,
        Duration::from_secs(token.expires_in.unwrap_or(3599)),
    ))
}

/// AADSTS descriptions carry trace and correlation ids on later lines; the first says why.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(secret: &str) -> Credentials {
        Credentials {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: secret.into(),
        }
    }

    #[test]
    fn tokens_are_cached_per_secret_and_renewed_early() {
        let cache = TokenCache::default();
        let endpoints = Endpoints::resolve(crate::api::tenant::Cloud::Global, None).expect("endpoints");
        let key = TokenCache::key(&endpoints, &credentials("s1"));
        cache.put(key.clone(), "token".into(), Duration::from_secs(3599));
        assert_eq!(cache.get(&key).as_deref(), Some("token"));
        assert_eq!(cache.get(&TokenCache::key(&endpoints, &credentials("s2"))), None);
        // A token that lives less than the renewal margin is still used for half its life…
        cache.put(key.clone(), "short".into(), Duration::from_secs(60));
        assert_eq!(cache.get(&key).as_deref(), Some("short"));
        // …and one that is about to expire is not.
        cache.put(key.clone(), "expiring".into(), Duration::ZERO);
        assert_eq!(cache.get(&key), None);
        cache.forget(&endpoints, &credentials("s1"));
        assert_eq!(cache.get(&key), None);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        assert!(!format!("{:?}", credentials("hunter2")).contains("hunter2"));
    }

    #[test]
    fn aadsts_descriptions_are_cut_to_their_first_line() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2026-11-25 02:00:00Z","error_codes":[7000215]}"#;
        let e: TokenError = serde_json::from_str(body).expect("parses");
        let line = first_line(&e.error_description.unwrap_or_default());
        assert!(line.starts_with("AADSTS7000215: Invalid client secret provided."));
        assert!(!line.contains("Trace ID"));
    }
}
