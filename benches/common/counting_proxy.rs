//! An HTTP proxy in front of a directory that counts the requests in flight through it: what
//! the directory sees, whoever sends them. Every request is forwarded whole and answered whole
//! (the count covers a request from its arrival to its answer).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Default)]
pub struct Counts {
    in_flight: AtomicUsize,
    /// The most requests in flight at once so far.
    pub most: AtomicUsize,
    pub requests: AtomicUsize,
    /// Requests other than GET.
    pub writes: AtomicUsize,
    /// Every request, as it came: method, path and query, and how long its answer took.
    pub log: Mutex<Vec<Logged>>,
}

/// One request through the proxy.
#[derive(Clone, Debug)]
#[allow(dead_code)] // each bench binary compiles this module; not all of them read the log
pub struct Logged {
    pub method: String,
    pub path_and_query: String,
    pub took: Duration,
}

impl Counts {
    /// The requests logged so far, and none after.
    #[allow(dead_code)] // each bench binary compiles this module; not all of them read the log
    pub fn take_log(&self) -> Vec<Logged> {
        std::mem::take(&mut *self.log.lock().expect("log lock"))
    }
}

pub struct CountingProxy {
    /// Where to send requests instead of the upstream: `http://127.0.0.1:PORT`.
    pub url: String,
    pub counts: Arc<Counts>,
}

/// Proxies `upstream` (`http://host:port`) on a loopback port of its own.
pub async fn start(upstream: &str) -> CountingProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let counts = Arc::new(Counts::default());
    let (upstream, shared) = (upstream.trim_end_matches('/').to_owned(), counts.clone());
    let http = reqwest::Client::builder().tcp_nodelay(true).build().expect("client");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            // Headers and body may go out in separate writes: without this, a keep-alive
            // client's delayed ACKs would add ~40 ms to every answer.
            let _ = stream.set_nodelay(true);
            let (upstream, counts, http) = (upstream.clone(), shared.clone(), http.clone());
            tokio::spawn(async move {
                let service =
                    service_fn(move |request| forward(request, upstream.clone(), counts.clone(), http.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    CountingProxy { url, counts }
}

async fn forward(
    request: Request<Incoming>,
    upstream: String,
    counts: Arc<Counts>,
    http: reqwest::Client,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let now = counts.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    counts.most.fetch_max(now, Ordering::SeqCst);
    counts.requests.fetch_add(1, Ordering::SeqCst);
    if request.method() != hyper::Method::GET {
        counts.writes.fetch_add(1, Ordering::SeqCst);
    }
    let method = request.method().to_string();
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let started = Instant::now();
    let answer = relay(request, &upstream, &http).await;
    counts.in_flight.fetch_sub(1, Ordering::SeqCst);
    let took = started.elapsed();
    if let Ok(mut log) = counts.log.lock() {
        log.push(Logged {
            method,
            path_and_query,
            took,
        });
    }
    Ok(answer.unwrap_or_else(|e| {
        let mut response = Response::new(Full::new(Bytes::from(e)));
        *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
        response
    }))
}

async fn relay(
    request: Request<Incoming>,
    upstream: &str,
    http: &reqwest::Client,
) -> Result<Response<Full<Bytes>>, String> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).map_err(|e| e.to_string())?;
    let mut outgoing = http.request(method, format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let answer = outgoing.body(body).send().await.map_err(|e| e.to_string())?;
    let mut response = Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if !["content-length", "transfer-encoding", "connection"].contains(&name.as_str()) {
            response = response.header(name.as_str(), value.as_bytes());
        }
    }
    let bytes = answer.bytes().await.map_err(|e| e.to_string())?;
    response.body(Full::new(bytes)).map_err(|e| e.to_string())
}
