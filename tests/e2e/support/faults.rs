//! A fault-injecting HTTP proxy in front of a real scim2-server tenant: requests pass through
//! unchanged unless a rule says to answer with an error instead (429 with Retry-After, 500, …).
//! Rules match a method and a substring of the path and fire a given number of times.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// (`fault_rules` is declared at each test or bench crate's root: it is shared with the fake Graph.)
#[allow(unused_imports)] // the benches that include the support never name a rule
pub use crate::fault_rules::{Faults, Rule};

/// Starts a proxy to `upstream` (e.g. `http://127.0.0.1:PORT`) on a free port of 127.0.0.1;
/// returns its base URL. It runs until the test's runtime ends.
pub async fn proxy(upstream: String, faults: Faults) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let address = listener.local_addr().expect("proxy address");
    let http = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (http, upstream, faults) = (http.clone(), upstream.clone(), faults.clone());
            tokio::spawn(async move {
                let _ = serve(socket, &http, &upstream, &faults).await;
            });
        }
    });
    format!("http://{address}")
}

async fn serve(mut socket: TcpStream, http: &reqwest::Client, upstream: &str, faults: &Faults) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (
        request_line.next().unwrap_or_default().to_owned(),
        request_line.next().unwrap_or_default().to_owned(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[head_end..].to_vec();

    let rule = faults.take(&method, &path);
    // A server that acted and then failed to answer: the request is served all the same.
    let served = if rule.is_none() || faults.lands_errors() {
        Some(forward(http, upstream, &method, &path, &headers, body).await)
    } else {
        None
    };
    let (status, response_headers, response_body) = match (rule, served) {
        (Some(rule), _) => {
            let mut extra = vec![("Content-Type".to_owned(), "application/scim+json".to_owned())];
            if let Some(seconds) = rule.retry_after {
                extra.push(("Retry-After".to_owned(), seconds.to_string()));
            }
            let error = format!(
                r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"{}","detail":"injected by the test proxy"}}"#,
                rule.status
            );
            (rule.status, extra, error.into_bytes())
        }
        (None, Some(served)) => served,
        (None, None) => (502, Vec::new(), Vec::new()),
    };
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        response_body.len()
    );
    for (k, v) in response_headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    socket.write_all(out.as_bytes()).await?;
    socket.write_all(&response_body).await?;
    socket.shutdown().await
}

/// The request as the upstream server answers it: status, the headers a client needs, body.
async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = http.request(method, format!("{upstream}{path}")).body(body);
    for (k, v) in headers {
        if ["authorization", "content-type", "accept", "if-match"].contains(&k.as_str()) {
            request = request.header(k.as_str(), v.as_str());
        }
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let keep: Vec<(String, String)> = response
                .headers()
                .iter()
                .filter(|(k, _)| ["content-type", "etag", "location", "retry-after"].contains(&k.as_str()))
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                .collect();
            (
                status,
                keep,
                response.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
            )
        }
        Err(_) => (502, Vec::new(), Vec::new()),
    }
}
