//! Connection test and capability discovery: `GET /ServiceProviderConfig` (RFC 7644 §4), then
//! an authenticated `GET /Users?count=1`, because many providers serve the configuration
//! without authentication and only the second call proves the token.

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::wire::PageOf;
use crate::providers::settings::DirectoryFeatures;
use crate::providers::{ProbeError, body, url_path, wire};

const SCIM_JSON: &str = "application/scim+json, application/json";

/// RFC 7643 §5: the features a service provider announces.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct ServiceProviderConfig {
    #[serde(default)]
    patch: Supported,
    #[serde(default)]
    bulk: Bulk,
    #[serde(default)]
    filter: Supported,
    #[serde(default)]
    etag: Supported,
    #[serde(default)]
    sort: Supported,
}

#[derive(Deserialize, Debug, Default)]
struct Supported {
    #[serde(default)]
    supported: bool,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct Bulk {
    #[serde(default)]
    supported: bool,
    #[serde(default)]
    max_operations: Option<u32>,
}

/// RFC 7644 §3.12 error body.
#[derive(Deserialize, Debug)]
struct ScimError {
    #[serde(default)]
    detail: Option<String>,
}

/// Tests the connection to the SCIM service provider at `base_url` with `token`, and returns
/// what it supports.
pub async fn probe(http: &reqwest::Client, base_url: &str, token: &str) -> Result<DirectoryFeatures, ProbeError> {
    let not_a_base = |what: String| ProbeError::InvalidResponse {
        url: base_url.to_owned(),
        what,
    };
    let base =
        reqwest::Url::parse(base_url.trim_end_matches('/')).map_err(|e| not_a_base(format!("not a URL: {e}")))?;
    let at = |segments: &[&str]| url_path::below(&base, segments).map_err(|e| not_a_base(e.to_string()));
    let mut auth = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| ProbeError::AuthenticationFailed {
        status: 0,
        detail: Some("the bearer token contains characters not allowed in an HTTP header".into()),
    })?;
    auth.set_sensitive(true);

    let config_url = at(&["ServiceProviderConfig"])?.to_string();
    let body = get_body(http, &config_url, &auth).await?;
    let config: ServiceProviderConfig = serde_json::from_slice(&body).map_err(|e| not_scim(&config_url, &e))?;

    // RFC 7644 §3.4.2 list response; only what proves the answer is one — with a total, and
    // no more than the one resource asked for (§3.4.2.4): a server that ignores `count` would
    // fail every listing.
    let mut users_url = at(&["Users"])?;
    url_path::with_query(&mut users_url, &[("count", "1")]);
    let users_url = users_url.to_string();
    let body = get_body(http, &users_url, &auth).await?;
    let page = wire::parse_seeded(&body, PageOf::<IgnoredAny>::new(1)).map_err(|e| not_scim(&users_url, &e))?;
    if page.total_results.is_none() {
        return Err(ProbeError::InvalidResponse {
            url: users_url,
            what: "a list response without totalResults".into(),
        });
    }

    Ok(DirectoryFeatures {
        patch: config.patch.supported,
        bulk: config.bulk.supported,
        filter: config.filter.supported,
        etag: config.etag.supported,
        // Incremental reads filter on `meta.lastModified gt …` and page in a stable order.
        change_tracking: config.filter.supported && config.sort.supported,
        bulk_max_operations: config.bulk.supported.then_some(config.bulk.max_operations).flatten(),
    })
}

fn not_scim(url: &str, error: &serde_json::Error) -> ProbeError {
    ProbeError::InvalidResponse {
        url: url.to_owned(),
        what: format!("not a SCIM JSON document ({error})"),
    }
}

/// The body of a successful `GET url`, at most `PROBE_CAP` bytes of it.
async fn get_body(http: &reqwest::Client, url: &str, auth: &HeaderValue) -> Result<Vec<u8>, ProbeError> {
    let unreachable = |cause: String| ProbeError::Unreachable {
        url: url.to_owned(),
        cause,
    };
    let response = http
        .get(url)
        .header(AUTHORIZATION, auth.clone())
        .header(ACCEPT, SCIM_JSON)
        .send()
        .await
        .map_err(|e| crate::providers::unreachable(url, &e))?;
    let status = response.status();
    if !status.is_success() {
        // An error keeps its status whatever its body; only its detail is read.
        let body = body::read(response, body::ERROR_CAP).await.unwrap_or_default();
        let detail = serde_json::from_slice::<ScimError>(&body).ok().and_then(|e| e.detail);
        return Err(
            if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
                ProbeError::AuthenticationFailed {
                    status: status.as_u16(),
                    detail,
                }
            } else {
                ProbeError::InvalidResponse {
                    url: url.to_owned(),
                    what: format!(
                        "HTTP {}{}",
                        status.as_u16(),
                        detail.map(|d| format!(": {d}")).unwrap_or_default()
                    ),
                }
            },
        );
    }
    body::read(response, body::PROBE_CAP).await.map_err(|e| match e {
        body::BodyError::Transport(cause) => unreachable(cause),
        too_large => ProbeError::InvalidResponse {
            url: url.to_owned(),
            what: too_large.to_string(),
        },
    })
}
