//! Downloads and parses the JWKS document.

use reqwest::{Client, StatusCode, Url, header};

use crate::key_set::{KeySet, KeySetError};

/// Largest JWKS document accepted; real ones are a few KiB.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// Why one fetch of the JWKS document failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("JWKS endpoint answered HTTP {0}")]
    Status(StatusCode),
    #[error("JWKS document larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("JWKS document is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    KeySet(#[from] KeySetError),
}

/// An HTTP client bound to one JWKS URL.
pub(crate) struct JwksFetcher {
    client: Client,
    url: Url,
}

impl JwksFetcher {
    /// A fetcher using `client` (which carries the timeout and redirect policy) for `url`.
    pub(crate) fn new(client: Client, url: Url) -> Self {
        Self { client, url }
    }

    /// The URL the keys come from.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// GETs the document and parses it into a non-empty key set.
    pub(crate) async fn fetch(&self) -> Result<KeySet, FetchError> {
        let mut response = self
            .client
            .get(self.url.clone())
            .header(header::ACCEPT, "application/json, application/jwk-set+json")
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_JWKS_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let document: serde_json::Value = serde_json::from_slice(&body)?;
        Ok(KeySet::from_jwks(&document)?)
    }
}
