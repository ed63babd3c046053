//! The requests of one step of a Graph directory (reads by id, writes), sent together: through
//! `$batch` (Microsoft Learn, "Combine multiple requests in one HTTP call using JSON batching"),
//! or one by one with bounded concurrency; a request refused as it was built never leaves.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use super::client::BatchRequest;
use super::directory::MsGraphDirectory;
use crate::providers::DirectoryError;

impl MsGraphDirectory {
    /// Runs the requests that could be built, through `$batch` or one by one with bounded
    /// concurrency; one result per request, in order: a request refused as it was built
    /// (`BatchRequest::new`) keeps its refusal, and the others go.
    pub(super) async fn run(
        &self,
        requests: Vec<Result<BatchRequest, DirectoryError>>,
    ) -> Vec<Result<Value, DirectoryError>> {
        let mut refusals: Vec<Option<DirectoryError>> = Vec::with_capacity(requests.len());
        let mut built = Vec::with_capacity(requests.len());
        for request in requests {
            match request {
                Ok(request) => {
                    built.push(request);
                    refusals.push(None);
                }
                Err(e) => refusals.push(Some(e)),
            }
        }
        let mut answers = self.send_all(built).await.into_iter();
        refusals
            .into_iter()
            .map(|refusal| match refusal {
                Some(e) => Err(e),
                None => answers
                    .next()
                    .unwrap_or_else(|| Err(DirectoryError::InvalidResponse("no answer".into()))),
            })
            .collect()
    }

    async fn send_all(&self, requests: Vec<BatchRequest>) -> Vec<Result<Value, DirectoryError>> {
        if self.batching && requests.len() > 1 {
            return self.client.batch(&requests).await;
        }
        let sends: Vec<BoxFuture<'_, Result<Value, DirectoryError>>> = requests
            .iter()
            .map(|r| {
                // The relative URL was built from segments: the v1.0 root before it is all it lacks.
                let url = self.client.endpoints.v1(&r.url);
                async move { self.client.send(r.method.clone(), &url, r.body.as_ref(), false).await }.boxed()
            })
            .collect();
        crate::providers::in_input_order(sends, self.client.limit()).await
    }
}
