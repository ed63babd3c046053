//! HTTP for the fake: the token endpoint, bearer-token checks, injected faults, `$batch`,
//! and the request log.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::directory::{Call, Reply};
use super::{IdSource, Logged, State, odata};

/// Graph's limit of requests in one JSON batch.
const BATCH_LIMIT: usize = 20;

pub async fn serve(state: Arc<Mutex<State>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fake graph");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let link_base = base.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let state = state.clone();
            let base = link_base.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| respond(request, state.clone(), base.clone()));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    base
}

async fn respond(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
    base: String,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let raw_query = request.uri().query().map(str::to_owned);
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header("authorization");
    let eventual = header("consistencylevel").is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    let bytes = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let latency = state.lock().expect("fake graph state").latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let reply = {
        let mut state = state.lock().expect("fake graph state");
        if path.ends_with("/oauth2/v2.0/token") && method == "POST" {
            token(&mut state, &base, &path, &bytes)
        } else {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let target = match &raw_query {
                Some(q) => format!("{path}?{}", decode(q)),
                None => path.clone(),
            };
            let query = odata::query(raw_query.as_deref());
            graph(
                &mut state,
                &base,
                authorization.as_deref(),
                &method,
                &path,
                &target,
                query,
                eventual,
                body,
                false,
            )
        }
    };
    let mut response = Response::new(Full::new(if reply.status == 204 || reply.body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(reply.body.to_string())
    }));
    *response.status_mut() =
        hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if !reply.body.is_null() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, "application/json".parse().expect("header"));
    }
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (hyper::header::HeaderName::from_bytes(name.as_bytes()), value.parse()) {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(response)
}

fn decode(query: &str) -> String {
    odata::query(Some(query))
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `POST /{tenant}/oauth2/v2.0/token`, client credentials (Microsoft identity platform); the
/// client authenticates as `assertions.rs` checks.
fn token(state: &mut State, base: &str, path: &str, body: &[u8]) -> Reply {
    let tenant_id = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let form = odata::query(Some(&String::from_utf8_lossy(body)));
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let aad = |status: u16, error: &str, description: &str| {
        Reply::json(
            status,
            json!({
                "error": error,
                "error_description": format!("{description}\r\nTrace ID: 00000000-fake\r\nCorrelation ID: 00000000-fake\r\nTimestamp: 2026-11-25 00:00:00Z"),
                "error_codes": [description.trim_start_matches("AADSTS").split(':').next().unwrap_or_default().parse::<u64>().unwrap_or(0)],
                "timestamp": "2026-11-25 00:00:00Z",
                "trace_id": "00000000-fake",
                "correlation_id": "00000000-fake"
            }),
        )
    };
    if field("grant_type") != "client_credentials" || !field("scope").ends_with("/.default") {
        return aad(
            400,
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'grant_type' (client_credentials) and a '/.default' scope.",
        );
    }
    let Some(tenant) = state.tenants.get(&tenant_id) else {
        return aad(
            400,
            "invalid_request",
            &format!(
                "AADSTS90002: Tenant '{tenant_id}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    };
    if field("client_id") != tenant.client_id {
        return aad(
            400,
            "unauthorized_client",
            &format!(
                "AADSTS700016: Application with identifier '{}' was not found in the directory '{}'.",
                field("client_id"),
                tenant.display_name
            ),
        );
    }
    let token_url = format!("{base}/{tenant_id}/oauth2/v2.0/token");
    let (app, client_id) = (tenant.app.clone(), tenant.client_id.clone());
    if let Err(refusal) = state.assertions.authenticate(&app, &client_id, &token_url, &form) {
        return aad(refusal.status, refusal.error, &refusal.description);
    }
    state.issued += 1;
    let token = format!("fake-token-{}-{}", tenant_id, state.issued);
    state.tokens.insert(token.clone(), tenant_id);
    Reply::json(
        200,
        json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token }),
    )
}

/// A Graph request (or one request of a batch).
#[allow(clippy::too_many_arguments)]
fn graph(
    state: &mut State,
    base: &str,
    authorization: Option<&str>,
    method: &str,
    path: &str,
    target: &str,
    query: std::collections::BTreeMap<String, String>,
    eventual: bool,
    body: Value,
    in_batch: bool,
) -> Reply {
    let tenant_id = authorization
        .and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| state.tokens.get(t))
        .cloned();
    let Some(tenant_id) = tenant_id else {
        return Reply::error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
    };
    state.log.push(Logged {
        tenant: tenant_id.clone(),
        method: method.to_owned(),
        target: target.to_owned(),
        in_batch,
    });
    if let Some((status, retry_after)) = state.injected(method, target) {
        let mut reply = if status == 429 {
            Reply::error(429, "TooManyRequests", "Too many requests.")
        } else {
            Reply::error(status, "ServiceUnavailable", "The service is temporarily unavailable.")
        };
        if let Some(seconds) = retry_after {
            reply.headers.push(("Retry-After".into(), seconds.to_string()));
        }
        return reply;
    }
    // Beta serves only what xtsync uses of it: identity synchronization with groups.
    let (below, beta) = match (path.strip_prefix("/v1.0"), path.strip_prefix("/beta")) {
        (Some(below), _) => (below, false),
        (None, Some(below)) if below.ends_with("/identitySynchronization") => (below, true),
        _ => return Reply::error(400, "BadRequest", "Invalid version."),
    };
    if method == "POST" && below == "/$batch" {
        return batch(state, base, authorization, body);
    }
    let call = Call {
        method,
        path: below,
        query,
        eventual,
        body,
        base,
        beta,
    };
    let State {
        tenants,
        next_id,
        organizations,
        ..
    } = state;
    if let Some(reply) = organizations.handle(&tenant_id, &call, tenants) {
        return reply;
    }
    let Some(tenant) = tenants.get_mut(&tenant_id) else {
        return Reply::error(401, "InvalidAuthenticationToken", "Unknown tenant.");
    };
    let mut ids = IdSource(next_id);
    tenant
        .handle(&call, &mut ids)
        .or_else(|| tenant.policies.handle(&call))
        .unwrap_or_else(|| {
            Reply::error(
                400,
                "BadRequest",
                &format!("Resource not found for the segment '{below}'."),
            )
        })
}

/// `POST /$batch` (JSON batching): up to 20 requests, run in order, answered together.
fn batch(state: &mut State, base: &str, authorization: Option<&str>, body: Value) -> Reply {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requests.is_empty() || requests.len() > BATCH_LIMIT {
        return Reply::error(
            400,
            "BadRequest",
            "Number of batch request steps must be between 1 and 20.",
        );
    }
    let mut responses = Vec::new();
    for request in requests {
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let method = request
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let url = request.get("url").and_then(Value::as_str).unwrap_or_default();
        let (path, raw_query) = match url.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (url.to_owned(), None),
        };
        let full_path = format!("/v1.0{path}");
        let target = match &raw_query {
            Some(q) => format!("{full_path}?{}", decode(q)),
            None => full_path.clone(),
        };
        let query = odata::query(raw_query.as_deref());
        let inner_body = request.get("body").cloned().unwrap_or(Value::Null);
        let reply = graph(
            state,
            base,
            authorization,
            &method,
            &full_path,
            &target,
            query,
            false,
            inner_body,
            true,
        );
        let mut headers = serde_json::Map::new();
        for (name, value) in reply.headers {
            headers.insert(name, json!(value));
        }
        if !reply.body.is_null() {
            headers.insert("Content-Type".into(), json!("application/json"));
        }
        let mut response = json!({ "id": id, "status": reply.status, "headers": headers });
        if !reply.body.is_null() {
            response["body"] = reply.body;
        }
        responses.push(response);
    }
    Reply::json(200, json!({ "responses": responses }))
}
