//! The Tenant connection test for Graph: a token is issued for the app, and
//! `GET /organization` answers with this tenant's own id (a secret of another tenant's app
//! would otherwise pass unnoticed).

use reqwest::Method;
use serde_json::Value;

use super::client::GraphClient;
use crate::providers::settings::DirectoryFeatures;
use crate::providers::{DirectoryError, ProbeError, url_path};

pub async fn probe(client: &GraphClient) -> Result<DirectoryFeatures, ProbeError> {
    client.authorization().await?;
    let url = organization_url(client).map_err(|e| ProbeError::InvalidResponse {
        url: client.endpoints.graph.clone(),
        what: e.to_string(),
    })?;
    let answer = client.send(Method::GET, &url, None, false).await;
    if let Err(DirectoryError::AuthenticationFailed { .. }) = &answer {
        // Graph refused the token and a renewal was refused too: the token endpoint's own
        // reason (an `AADSTS…` description) says more than Graph's 401.
        client.authorization().await?;
    }
    let answer = answer.map_err(|e| match e {
        DirectoryError::AuthenticationFailed { status } => ProbeError::AuthenticationFailed {
            status,
            detail: Some("Graph refused the token".into()),
        },
        DirectoryError::Rejected {
            status: 403,
            code,
            detail,
        } => ProbeError::AuthenticationFailed {
            status: 403,
            detail: Some(format!(
                "{}: {} (is an application permission such as User.ReadWrite.All granted and consented?)",
                code.unwrap_or_default(),
                detail.unwrap_or_default()
            )),
        },
        DirectoryError::Unreachable(cause) => ProbeError::Unreachable {
            url: url.clone(),
            cause,
        },
        other => ProbeError::InvalidResponse {
            url: url.clone(),
            what: other.to_string(),
        },
    })?;
    let found = answer
        .pointer("/value/0/id")
        .and_then(Value::as_str)
        .ok_or_else(|| ProbeError::InvalidResponse {
            url: url.clone(),
            what: "no organization in the answer".into(),
        })?;
    if !found.eq_ignore_ascii_case(client.tenant_id()) {
        return Err(ProbeError::TenantIdMismatch {
            expected: client.tenant_id().to_owned(),
            found: found.to_owned(),
        });
    }
    // Graph filters, batches (20 a request), patches and tracks changes (delta); no ETags on users.
    Ok(DirectoryFeatures {
        patch: true,
        bulk: true,
        filter: true,
        etag: false,
        change_tracking: true,
        bulk_max_operations: Some(super::client::BATCH_LIMIT as u32),
    })
}

/// "Get organization": the tenant's id and its verified domains.
fn organization_url(client: &GraphClient) -> Result<String, DirectoryError> {
    let mut url = client.endpoints.v1_url(&["organization"])?;
    url_path::with_query(&mut url, &[("$select", "id,verifiedDomains")]);
    Ok(url.into())
}

/// The `*.onmicrosoft.com` domain of an organization answer, which names invited users.
pub fn initial_domain(answer: &Value) -> Option<String> {
    answer
        .pointer("/value/0/verifiedDomains")?
        .as_array()?
        .iter()
        .find(|d| d.get("isInitial").and_then(Value::as_bool) == Some(true))
        .and_then(|d| d.get("name").and_then(Value::as_str))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_initial_domain_of_a_documented_organization() {
        // Shaped like Microsoft Learn's "List organization" example.
        let answer = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization(id,verifiedDomains)",
            "value": [{
                "id": "84841066-274d-4ec0-a5c1-276be684bdd3",
                "verifiedDomains": [
                    { "capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false,
                      "name": "contoso.com", "type": "Managed" },
                    { "capabilities": "Email", "isDefault": false, "isInitial": true,
                      "name": "contoso.onmicrosoft.com", "type": "Managed" }
                ]
            }]
        });
        assert_eq!(initial_domain(&answer).as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(initial_domain(&json!({"value": []})), None);
    }
}
