//! OAuth2 client credentials against the Microsoft identity platform (v2.0 token endpoint),
//! with tokens cached until shortly before they expire. Secrets and tokens never reach a log.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::certificate::ClientCertificate;
use super::endpoints::Endpoints;
use super::federation::Federation;
use crate::providers::{ProbeError, body};

/// A token is renewed this long before it expires, so that no request leaves with a token that
/// expires on the way.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// What an app registration authenticates with.
#[derive(Clone)]
pub struct Credentials {
    pub tenant_id: String,
    pub client_id: String,
    pub secret: ClientCredential,
}

/// The proof of the app's identity a token request carries (Microsoft Learn, "OAuth 2.0 client
/// credentials flow": a shared secret, or a client assertion).
#[derive(Clone)]
pub enum ClientCredential {
    /// `client_secret`.
    Secret(String),
    /// A JWT signed with the app's certificate (`certificate.rs`).
    Certificate(Arc<ClientCertificate>),
    /// The operator's federated token (`federation.rs`).
    Federated(Arc<Federation>),
}

impl ClientCredential {
    /// Tells credentials apart without holding their secret: a rotated one is a new cache entry.
    fn fingerprint(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        match self {
            ClientCredential::Secret(secret) => ("secret", secret).hash(&mut hasher),
            ClientCredential::Certificate(c) => ("certificate", c.thumbprint()).hash(&mut hasher),
            ClientCredential::Federated(f) => ("federated", &f.token_file).hash(&mut hasher),
        }
        hasher.finish()
    }
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

/// Access tokens with the instant they are to be renewed, one slot per client.
#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<CacheKey, Arc<Slot>>>,
}

/// One client's token, and the one request for a new one: the callers that find no valid
/// token wait for the request in flight rather than each sending their own (single flight).
#[derive(Default)]
struct Slot {
    token: Mutex<Option<(String, Instant)>>,
    renewal: tokio::sync::Mutex<()>,
}

impl Slot {
    fn valid(&self) -> Option<String> {
        let token = self.token.lock().ok()?;
        let (token, renew_at) = token.as_ref()?;
        (Instant::now() < *renew_at).then(|| token.clone())
    }
}

impl TokenCache {
    fn key(endpoints: &Endpoints, credentials: &Credentials) -> CacheKey {
        (
            endpoints.token_url(&credentials.tenant_id),
            credentials.client_id.clone(),
            credentials.secret.fingerprint(),
        )
    }

    /// The slot of `key`, made on first use.
    fn slot(&self, key: CacheKey) -> Option<Arc<Slot>> {
        let mut slots = self.slots.lock().ok()?;
        Some(slots.entry(key).or_default().clone())
    }

    #[cfg(test)]
    fn get(&self, key: &CacheKey) -> Option<String> {
        self.slots.lock().ok()?.get(key)?.valid()
    }

    fn put(&self, key: CacheKey, token: String, lifetime: Duration) {
        // Short-lived tokens are renewed at half their life rather than never cached.
        let keep = lifetime.saturating_sub(RENEW_BEFORE).max(lifetime / 2);
        if let Some(slot) = self.slot(key)
            && let Ok(mut held) = slot.token.lock()
        {
            *held = Some((token, Instant::now() + keep));
        }
    }

    /// Forgets a token the directory refused (revoked, or the app's permissions changed).
    pub fn forget(&self, endpoints: &Endpoints, credentials: &Credentials) {
        let key = TokenCache::key(endpoints, credentials);
        if let Some(slot) = self.slots.lock().ok().and_then(|slots| slots.get(&key).cloned())
            && let Ok(mut held) = slot.token.lock()
        {
            *held = None;
        }
    }

    /// A valid access token: from the cache, else from the token endpoint — one request at a
    /// time per client, whose token every caller waiting for it then uses.
    pub async fn token(
        &self,
        http: &reqwest::Client,
        endpoints: &Endpoints,
        credentials: &Credentials,
    ) -> Result<String, ProbeError> {
        let key = TokenCache::key(endpoints, credentials);
        let Some(slot) = self.slot(key.clone()) else {
            // A poisoned cache (a panic elsewhere): every caller asks for itself.
            return request_token(http, endpoints, credentials)
                .await
                .map(|(token, _)| token);
        };
        if let Some(token) = slot.valid() {
            return Ok(token);
        }
        let _renewal = slot.renewal.lock().await;
        // The request this caller waited for may have brought the token.
        if let Some(token) = slot.valid() {
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
    let mut form = vec![
        ("client_id", credentials.client_id.clone()),
        ("scope", scope),
        ("grant_type", "client_credentials".to_owned()),
    ];
    form.extend(proof(&credentials.secret, &credentials.client_id, &url)?);
    let response = http
        .post(&url)
        .form(&form)
        .send()
        .await
        .map_err(|e| crate::providers::unreachable(&url, &e))?;
    let status = response.status();
    let bytes = body::read(response, body::TOKEN_CAP).await;
    if !status.is_success() {
        // A refusal keeps its status whatever its body.
        let refusal = bytes.ok().and_then(|b| serde_json::from_slice::<TokenError>(&b).ok());
        return Err(match refusal {
            Some(e) if status.is_client_error() => ProbeError::AuthenticationFailed {
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
    let bytes = bytes.map_err(|e| match e {
        body::BodyError::Transport(cause) => ProbeError::Unreachable {
            url: url.clone(),
            cause,
        },
        too_large => ProbeError::InvalidResponse {
            url: url.clone(),
            what: format!("from the token endpoint: {too_large}"),
        },
    })?;
    let token: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| ProbeError::InvalidResponse {
        url,
        what: format!("not a token response: {e}"),
    })?;
    Ok((
        token.access_token,
        Duration::from_secs(token.expires_in.unwrap_or(3599)),
    ))
}

/// The form fields that prove the app's identity to the token endpoint `url`.
fn proof(credential: &ClientCredential, client_id: &str, url: &str) -> Result<Vec<(&'static str, String)>, ProbeError> {
    let failed = |detail: String| ProbeError::AuthenticationFailed {
        status: 0,
        detail: Some(detail),
    };
    let assertion = match credential {
        ClientCredential::Secret(secret) => return Ok(vec![("client_secret", secret.clone())]),
        ClientCredential::Certificate(certificate) => certificate
            .assertion(client_id, url, k8s_openapi::jiff::Timestamp::now())
            .map_err(failed)?,
        ClientCredential::Federated(federation) => federation.token().map_err(failed)?,
    };
    Ok(vec![
        ("client_assertion_type", JWT_BEARER.to_owned()),
        ("client_assertion", assertion),
    ])
}

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

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
            secret: ClientCredential::Secret(secret.into()),
        }
    }

    #[test]
    fn tokens_are_cached_per_secret_and_renewed_early() {
        let cache = TokenCache::default();
        let endpoints = Endpoints::resolve(crate::providers::settings::NationalCloud::Global, None).expect("endpoints");
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
