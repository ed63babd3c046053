//! A hostile HTTP peer for tests: a loopback server that answers each request with whatever a
//! test's handler says — pages that ignore `startIndex`, totals that lie, 200s with garbage,
//! bodies without end — so that the providers' defences are tested on the wire.

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
}

impl Answer {
    pub fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
            endless: 0,
            headers: Vec::new(),
        }
    }

    pub fn text(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_owned(),
            endless: 0,
            headers: Vec::new(),
        }
    }

    /// `body`, then `endless` bytes more.
    pub fn endless(body: &str, endless: usize) -> Answer {
        Answer {
            endless,
            ..Answer::text(200, body)
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Answer {
        self.headers.push((name, value.to_owned()));
        self
    }
}

type Handler = dyn Fn(&str, &str) -> Answer + Send + Sync;

/// Serves `handler(method, path_and_query)` on 127.0.0.1; returns the base URL and the log of
/// requests ("METHOD /path?query").
pub async fn serve(
    handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<Handler> = Arc::new(handler);
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let (handler, seen) = (handler.clone(), seen.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                // Headers only: the handlers answer by method and path (bodies are ignored).
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let mut words = text.split_whitespace();
                let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                if let Ok(mut log) = seen.lock() {
                    log.push(format!("{method} {path}"));
                }
                let answer = handler(method, path);
                let length = answer.body.len() + answer.endless;
                let extra: String = answer.headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
                let head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/scim+json\r\ncontent-length: {length}\r\n{extra}connection: close\r\n\r\n",
                    answer.status
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(answer.body.as_bytes()).await;
                let chunk = vec![b'['; 64 * 1024];
                let mut left = answer.endless;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if stream.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    left -= n;
                }
            });
        }
    });
    (base, log)
}
