//! Reading a peer's answer: every body is read up to a cap chosen by what the answer is, and
//! not a byte further — a peer that streams without end, or announces gigabytes, costs at most
//! the cap. Every `reqwest::Response` body the providers read goes through `read`.

/// A listing page, or any other answer of a directory's API: a page of 1,000 users is about
/// 1 MiB; anything near this is a peer gone wrong, and reading on would exhaust memory.
pub const ANSWER_CAP: usize = 32 * 1024 * 1024;
/// A token endpoint's answer: one access token, a JWT of a few KiB (an app-only token carries
/// its `roles`, never the tenant's groups — Microsoft Learn, "Access token claims reference").
pub const TOKEN_CAP: usize = 64 * 1024;
/// A connection test's answer: `/ServiceProviderConfig` (RFC 7643 §5, a few KiB) and a page of
/// one user; room for a user with many attributes, not for a directory's worth of them.
pub const PROBE_CAP: usize = 1024 * 1024;
/// An error answer: only its code and message are read (RFC 7644 §3.12, Graph's `error`), and
/// an error whose body is cut keeps its status.
pub const ERROR_CAP: usize = 64 * 1024;

/// The most reserved before a body arrives: a page of 1,000 users.
const RESERVE: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is larger than {}; it was not read further", size(*cap))]
    TooLarge { cap: usize },
    /// The connection failed while the body was read (reset, timeout).
    #[error("{0}")]
    Transport(String),
}

impl From<BodyError> for super::DirectoryError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge { .. } => super::DirectoryError::InvalidResponse(error.to_string()),
            BodyError::Transport(cause) => super::DirectoryError::Unreachable(cause),
        }
    }
}

/// `cap` as people write it: 32 MiB, 64 KiB.
fn size(cap: usize) -> String {
    match cap {
        c if c >= 1024 * 1024 && c % (1024 * 1024) == 0 => format!("{} MiB", c / (1024 * 1024)),
        c if c >= 1024 && c % 1024 == 0 => format!("{} KiB", c / 1024),
        c => format!("{c} bytes"),
    }
}

/// The body of `response`, at most `cap` bytes of it: a body that announces more (its
/// `Content-Length`) is refused before it is read, one that streams more is dropped — and its
/// connection with it — as soon as it passes the cap.
pub async fn read(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    let announced = response.content_length();
    if announced.is_some_and(|length| length > cap as u64) {
        return Err(BodyError::TooLarge { cap });
    }
    // What the peer announced is reserved at once, up to a page's worth: a peer that
    // announces the cap and sends nothing costs no more than that.
    let reserve = announced.map_or(0, |n| usize::try_from(n).unwrap_or(cap)).min(RESERVE);
    let mut bytes = Vec::with_capacity(reserve);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| BodyError::Transport(super::describe(&e)))?
    {
        if bytes.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge { cap });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// An error answer's body as JSON, or `Null` when it cannot be read or is not JSON: the error
/// keeps its status whatever its body (a proxy's HTML page, an endless stream).
pub async fn error_json(response: reqwest::Response) -> serde_json::Value {
    match read(response, ERROR_CAP).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::providers::hostile::{self, Answer};

    async fn get(base: &str) -> reqwest::Response {
        let http = crate::providers::http_client().expect("client");
        http.get(format!("{base}/")).send().await.expect("an answer")
    }

    #[test]
    fn caps_read_as_people_write_them() {
        assert_eq!(size(ANSWER_CAP), "32 MiB");
        assert_eq!(size(TOKEN_CAP), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    #[tokio::test]
    async fn a_body_announced_larger_than_the_cap_is_not_read() {
        // 2 GB announced: refused on the header, before the server has written much.
        let (base, _, sent) = hostile::serve_counted(|_, _| Answer::endless("", 2 << 30)).await;
        let started = Instant::now();
        let error = read(get(&base).await, PROBE_CAP).await.expect_err("too large");
        assert!(matches!(error, BodyError::TooLarge { cap: PROBE_CAP }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(hostile::sent_at_most(&sent, PROBE_CAP), "{sent:?}");
    }

    #[tokio::test]
    async fn a_body_without_length_is_read_up_to_the_cap_and_no_further() {
        let (base, _, sent) = hostile::serve_counted(|_, _| Answer::endless("", 2 << 30).without_length()).await;
        let started = Instant::now();
        let error = read(get(&base).await, TOKEN_CAP).await.expect_err("too large");
        assert_eq!(
            error.to_string(),
            "the answer is larger than 64 KiB; it was not read further"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(hostile::sent_at_most(&sent, TOKEN_CAP), "{sent:?}");
    }

    #[tokio::test]
    async fn an_endless_error_body_keeps_its_status_and_is_cut() {
        let (base, _, sent) = hostile::serve_counted(|_, _| {
            Answer {
                status: 500,
                ..Answer::endless("{\"detail\": \"", 2 << 30)
            }
            .without_length()
        })
        .await;
        let response = get(&base).await;
        assert_eq!(response.status().as_u16(), 500);
        assert_eq!(error_json(response).await, serde_json::Value::Null);
        assert!(hostile::sent_at_most(&sent, ERROR_CAP), "{sent:?}");
    }
}
