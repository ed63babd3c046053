//! Connection test and capability discovery: `GET /ServiceProviderConfig` (RFC 7644 §4), then
//! an authenticated `GET /Users?count=1`, because many providers serve the configuration
//! without authentication and only the second call proves the token.

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::Deserialize;

use super::super::{ProbeError, describe};
use crate::api::tenant::Capabilities;

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

/// RFC 7644 §3.4.2 list response; only what proves the answer is one.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    #[allow(dead_code)]
    total_results: u64,
}

/// Tests the connection to the SCIM service provider at `base_url` with `token`, and returns
/// what it supports.
pub async fn probe(http: &reqwest::Client, base_url: &str, token: &str) -> Result<Capabilities, ProbeError> {
    let base = base_url.trim_end_matches('/');
    let mut auth = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| ProbeError::AuthenticationFailed {
        status: 0,
        detail: Some("the bearer token contains characters not allowed in an HTTP header".into()),
    })?;
    auth.set_sensitive(true);

    let config_url = format!("{base}/ServiceProviderConfig");
    let config: ServiceProviderConfig = get_json(http, &config_url, &auth).await?;

    let users_url = format!("{base}/Users?count=1");
    let _: ListResponse = get_json(http, &users_url, &auth).await?;

    Ok(Capabilities {
        patch: config.patch.supported,
        bulk: config.bulk.supported,
        filter: config.filter.supported,
        etag: config.etag.supported,
        // Incremental reads filter on `meta.lastModified gt …` and page in a stable order.
        change_tracking: config.filter.supported && config.sort.supported,
        bulk_max_operations: config.bulk.supported.then_some(config.bulk.max_operations).flatten(),
    })
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    auth: &HeaderValue,
) -> Result<T, ProbeError> {
    let unreachable = |e: reqwest::Error| ProbeError::Unreachable {
        url: url.to_owned(),
        cause: describe(&e),
    };
    let response = http
        .get(url)
        .header(AUTHORIZATION, auth.clone())
        .header(ACCEPT, SCIM_JSON)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let body = response.bytes().await.map_err(unreachable)?;
    if !status.is_success() {
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
    serde_json::from_slice(&body).map_err(|e| ProbeError::InvalidResponse {
        url: url.to_owned(),
        what: format!("not a SCIM JSON document ({e})"),
    })
}
