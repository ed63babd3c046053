//! `/healthz` (`liveness`), `/readyz` and `/metrics` on `--http-addr`, with hyper (already in the tree
//! through kube) rather than a web framework: three fixed routes need no router.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::liveness::Liveness;
use super::metrics::Metrics;

/// What the endpoints report; shared with the controllers.
#[derive(Default)]
pub struct Health {
    /// Every watch has delivered its initial list (or this replica is a standby).
    pub ready: AtomicBool,
    pub metrics: Metrics,
    /// Whether the controllers make progress (`/healthz`).
    pub liveness: Liveness,
}

impl Health {
    /// `/healthz` fails once a controller has had work waiting for longer than `stall_after`.
    pub fn with_stall_after(stall_after: std::time::Duration) -> Self {
        Health {
            liveness: Liveness::new(stall_after),
            ..Health::default()
        }
    }
}

/// Binds `addr` (so a taken port fails start-up, not later) and serves until the process ends.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

pub async fn serve(listener: TcpListener, health: Arc<Health>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accepting an HTTP connection failed");
                continue;
            }
        };
        let health = health.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| respond(request, health.clone()));
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "HTTP connection ended with an error");
            }
        });
    }
}

async fn respond(request: Request<Incoming>, health: Arc<Health>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, content_type, body) = match request.uri().path() {
        "/healthz" => match health.liveness.verdict(std::time::Instant::now()) {
            Ok(()) => (StatusCode::OK, "text/plain", "ok".to_owned()),
            Err(stall) => {
                // The kubelet restarts the pod after a few of these (the chart's livenessProbe).
                tracing::warn!(%stall, "/healthz: stalled");
                (StatusCode::SERVICE_UNAVAILABLE, "text/plain", stall.to_string())
            }
        },
        "/readyz" if health.ready.load(Ordering::Relaxed) => (StatusCode::OK, "text/plain", "ready".to_owned()),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "caches are not synced yet".to_owned(),
        ),
        "/metrics" => (
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            health.metrics.encode(),
        ),
        _ => (StatusCode::NOT_FOUND, "text/plain", "not found".to_owned()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(hyper::header::CONTENT_TYPE, value);
    }
    Ok(response)
}
