//! A hostile HTTP peer for tests: a loopback server that answers each request with whatever a
//! test's handler says — pages that ignore `startIndex`, totals that lie, 200s with garbage,
//! bodies without end — so that the providers' defences are tested on the wire.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server answers: a status and a body, or a body of `endless` bytes.
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Stream this many bytes of `[` after the body (a body that never ends, for practical purposes).
    pub endless: usize,
    /// Headers besides content type and length (`Retry-After`, say).
    pub headers: Vec<(&'static str, String)>,
    /// Announce the length (`Content-Length`); without it the body runs until the connection
    /// closes, and only reading it shows how long it is.
    pub sized: bool,
}

impl Answer {
    pub fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
            endless: 0,
            headers: Vec::new(),
            sized: true,
        }
    }

    pub fn text(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_owned(),
            endless: 0,
            headers: Vec::new(),
            sized: true,
        }
    }

    /// `body`, then `endless` bytes more.
    pub fn endless(body: &str, endless: usize) -> Answer {
        Answer {
            endless,
            ..Answer::text(200, body)
        }
    }

    /// The same answer without `Content-Length`.
    pub fn without_length(self) -> Answer {
        Answer { sized: false, ..self }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Answer {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// The HTTP client the providers use.
pub fn http() -> reqwest::Client {
    crate::providers::http_client().expect("an HTTP client")
}

/// A SCIM client of the server at `base` that announces nothing (no PATCH, no Bulk, no
/// filtering).
pub fn plain_client(base: &str) -> crate::providers::scim::ScimClient {
    use crate::providers::settings::{DirectoryFeatures, ScimDeletion};
    crate::providers::scim::ScimClient::new(
        http(),
        base,
        "t",
        DirectoryFeatures::default(),
        ScimDeletion::Deactivate,
    )
    .expect("client")
}

/// A Graph client of the fake Graph at `base` (login and Graph endpoints alike).
pub fn graph_client(base: &str) -> crate::providers::msgraph::GraphClient {
    use crate::providers::msgraph::{ClientCredential, Credentials, Endpoints, GraphClient};
    use crate::providers::settings::{EndpointOverrides, NationalCloud};
    let overrides = EndpointOverrides {
        login: Some(base.to_owned()),
        graph: Some(base.to_owned()),
    };
    let endpoints = Endpoints::resolve(NationalCloud::Global, Some(&overrides)).expect("endpoints");
    let credentials = Credentials {
        tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        client_id: "app".into(),
        secret: ClientCredential::Secret("secret".into()),
    };
    GraphClient::new(http(), endpoints, credentials, Arc::default())
}

/// A token endpoint's answer.
pub fn token() -> Answer {
    Answer::json(
        200,
        serde_json::json!({ "access_token": "t", "expires_in": 3600, "token_type": "Bearer" }),
    )
}

type Handler = dyn Fn(&str, &str) -> Answer + Send + Sync;

/// Serves `handler(method, path_and_query)` on 127.0.0.1; returns the base URL and the log of
/// requests ("METHOD /path?query").
pub async fn serve(
    handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let (base, log, _) = serve_counted(handler).await;
    (base, log)
}

/// What the kernel may hold of an answer between the server and the client (the server's
/// send buffer, set small below, and the client's receive buffer, which grows up to
/// `net.ipv4.tcp_rmem`'s 6 MiB): bytes written, not necessarily read.
pub const IN_FLIGHT: usize = 8 * 1024 * 1024;

/// The bytes `sent` (of bodies) stay within `cap`, but for what the kernel holds in flight.
pub fn sent_at_most(sent: &AtomicUsize, cap: usize) -> bool {
    sent.load(Ordering::SeqCst) <= cap + IN_FLIGHT
}

/// `serve`, also counting the bytes of bodies written to clients.
pub async fn serve_counted(
    handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>) {
    listen(handler, false).await
}

/// `serve`, the log also holding each request's body, after its path ("METHOD /path body"):
/// what a JSON batch asks for is in its body.
pub async fn serve_logging_bodies(
    handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let (base, log, _) = listen(handler, true).await;
    (base, log)
}

/// The length a request's head announces for its body (`Content-Length`), or 0.
fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

async fn listen(
    handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static,
    bodies: bool,
) -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    // Accepted connections inherit it: a client that stops reading stops the writes soon.
    socket.set_send_buffer_size(64 * 1024).expect("send buffer");
    socket.bind(([127, 0, 0, 1], 0).into()).expect("bind loopback");
    let listener: TcpListener = socket.listen(1024).expect("listen");
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<Handler> = Arc::new(handler);
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let (handler, seen, counter) = (handler.clone(), seen.clone(), counter.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                // Headers first: the handlers answer by method and path.
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let end = request.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |at| at + 4);
                if bodies {
                    // Bodies are small in the tests that log them: read up to the announced length.
                    let length = content_length(&String::from_utf8_lossy(&request[..end]));
                    while request.len() < end + length {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                }
                let text = String::from_utf8_lossy(&request[..end]);
                let mut words = text.split_whitespace();
                let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                if let Ok(mut log) = seen.lock() {
                    if bodies {
                        log.push(format!("{method} {path} {}", String::from_utf8_lossy(&request[end..])));
                    } else {
                        log.push(format!("{method} {path}"));
                    }
                }
                let answer = handler(method, path);
                let length = answer.body.len() + answer.endless;
                let extra: String = answer.headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
                let length = if answer.sized {
                    format!("content-length: {length}\r\n")
                } else {
                    String::new()
                };
                let head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/scim+json\r\n{length}{extra}connection: close\r\n\r\n",
                    answer.status
                );
                let _ = stream.write_all(head.as_bytes()).await;
                if stream.write_all(answer.body.as_bytes()).await.is_ok() {
                    counter.fetch_add(answer.body.len(), Ordering::SeqCst);
                }
                let chunk = vec![b'['; 64 * 1024];
                let mut left = answer.endless;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if stream.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    counter.fetch_add(n, Ordering::SeqCst);
                    left -= n;
                }
            });
        }
    });
    (base, log, sent)
}
