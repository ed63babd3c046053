//! `xtsync probe --url URL`: what the chart's `helm test` hook runs from the operator's own image,
//! which has no shell and no curl (README, "Install"). One GET; a 2xx answer passes, anything
//! else fails — another status (a redirect included: it is not followed), no connection, or no
//! whole answer within the timeout. Bounded: one deadline for the whole exchange, and at most
//! `MAX_BODY` bytes of the answer are read, to say what it was.

use std::time::Duration;

use reqwest::redirect::Policy;

/// How long the whole exchange may take unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer's body kept for the message.
pub const MAX_BODY: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum UrlProbeError {
    #[error("'{0}' is not an http(s) URL")]
    InvalidUrl(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("{url}: no whole answer within {timeout:?}")]
    TimedOut { url: String, timeout: Duration },
    #[error("{url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}: {body}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
        body: String,
    },
}

/// GETs `url`; its status and the start of its body on a 2xx answer, else why not.
pub async fn probe(url: &str, timeout: Duration) -> Result<String, UrlProbeError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| UrlProbeError::InvalidUrl(url.to_owned()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlProbeError::InvalidUrl(url.to_owned()));
    }
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .tcp_nodelay(true)
        .build()
        .map_err(UrlProbeError::Client)?;
    let exchange = async {
        let mut response = client.get(parsed).send().await?;
        let status = response.status();
        let mut body = Vec::new();
        while body.len() < MAX_BODY {
            match response.chunk().await? {
                Some(chunk) => body.extend_from_slice(&chunk[..chunk.len().min(MAX_BODY - body.len())]),
                None => break,
            }
        }
        Ok::<_, reqwest::Error>((status, String::from_utf8_lossy(&body).trim().to_owned()))
    };
    let (status, body) = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => {
            return Err(UrlProbeError::TimedOut {
                url: url.to_owned(),
                timeout,
            });
        }
        Ok(Err(source)) if source.is_timeout() => {
            return Err(UrlProbeError::TimedOut {
                url: url.to_owned(),
                timeout,
            });
        }
        Ok(Err(source)) => {
            return Err(UrlProbeError::Unreachable {
                url: url.to_owned(),
                reason: causes(&source),
            });
        }
        Ok(Ok(answer)) => answer,
    };
    if !status.is_success() {
        return Err(UrlProbeError::Status {
            url: url.to_owned(),
            status,
            body,
        });
    }
    Ok(format!("{url} answered {status}: {body}"))
}

/// The error and what caused it ("error sending request" alone says nothing), e.g. "…: client
/// error (Connect): tcp connect error: Connection refused (os error 111)".
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A loopback server that answers every connection with `answer` (None: never answers).
    async fn server(answer: Option<String>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                stream.set_nodelay(true).expect("nodelay");
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut request = [0u8; 1024];
                    let _ = stream.read(&mut request).await;
                    match &answer {
                        Some(answer) => {
                            let _ = stream.write_all(answer.as_bytes()).await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                });
            }
        });
        format!("http://{address}/readyz")
    }

    #[tokio::test]
    async fn a_2xx_answer_passes() {
        let url = server(Some(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nready".into(),
        ))
        .await;
        let answer = probe(&url, Duration::from_secs(5)).await.expect("passes");
        assert!(answer.contains("200 OK") && answer.ends_with("ready"), "{answer}");
    }

    #[tokio::test]
    async fn another_status_fails_naming_it_and_a_redirect_is_not_followed() {
        let url = server(Some(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 26\r\nConnection: close\r\n\r\ncaches are not synced yet."
                .into(),
        ))
        .await;
        let error = probe(&url, Duration::from_secs(5)).await.expect_err("fails");
        assert!(
            error.to_string().contains("503") && error.to_string().contains("caches"),
            "{error}"
        );
        let url = server(Some(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .into(),
        ))
        .await;
        let error = probe(&url, Duration::from_secs(5)).await.expect_err("fails");
        assert!(
            matches!(error, UrlProbeError::Status { status, .. } if status == 302),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_server_that_never_answers_fails_within_the_timeout() {
        let url = server(None).await;
        let started = std::time::Instant::now();
        let error = probe(&url, Duration::from_millis(300)).await.expect_err("fails");
        assert!(matches!(error, UrlProbeError::TimedOut { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_body_that_never_ends_is_read_no_further_than_the_cap() {
        // Headers, then a body announced as 10 MB of which only 4 KiB ever come.
        let answer = format!(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 10000000\r\n\r\n{}",
            "x".repeat(4096)
        );
        let url = server(Some(answer)).await;
        let error = probe(&url, Duration::from_millis(500)).await.expect_err("fails");
        match error {
            UrlProbeError::Status { body, .. } => assert!(body.len() <= MAX_BODY, "{}", body.len()),
            UrlProbeError::TimedOut { .. } => {}
            other => panic!("{other}"),
        }
    }

    #[tokio::test]
    async fn nothing_listening_and_a_bad_url_fail() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        drop(listener);
        let error = probe(&format!("http://127.0.0.1:{port}/readyz"), Duration::from_secs(5))
            .await
            .expect_err("fails");
        assert!(matches!(error, UrlProbeError::Unreachable { .. }), "{error}");
        assert!(error.to_string().contains("refused"), "says why: {error}");
        assert!(matches!(
            probe("xtsync-metrics:8080/readyz", Duration::from_secs(1)).await,
            Err(UrlProbeError::InvalidUrl(_))
        ));
    }
}
