//! The probe's side of the probe API: fetch assignments, push results.

use std::time::Duration;

use belfry_core::CheckResult;
use belfry_core::probe::{Assignments, ResultBatch};
use reqwest::StatusCode;
use reqwest::header::IF_NONE_MATCH;

/// Why a request did not succeed.
#[derive(Debug, thiserror::Error)]
pub(super) enum ClientError {
    /// The server could not be reached or could not answer now (network, timeout, 5xx, 429):
    /// try again later.
    #[error("{0}")]
    Unavailable(String),
    /// The server refused the request (4xx): retrying the same request will not help.
    #[error("HTTP {0}: {1}")]
    Refused(StatusCode, String),
}

/// What polling the assignments found.
pub(super) enum Fetched {
    Unchanged,
    Changed(Assignments),
}

pub(super) struct ServerClient {
    http: reqwest::Client,
    base: String,
    token: String,
    region: String,
    poll: Duration,
}

impl ServerClient {
    pub fn new(http: reqwest::Client, server: &str, token: &str, region: &str, poll: Duration) -> Self {
        Self {
            http,
            base: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            region: region.to_owned(),
            poll,
        }
    }

    fn poll_ms(&self) -> u64 {
        u64::try_from(self.poll.as_millis()).unwrap_or(u64::MAX)
    }

    /// `GET /api/v1/probe/assignments`, conditional on the version held.
    pub async fn assignments(&self, version: Option<&str>) -> Result<Fetched, ClientError> {
        let url = url::Url::parse_with_params(
            &format!("{}/api/v1/probe/assignments", self.base),
            [("region", self.region.clone()), ("poll_interval_ms", self.poll_ms().to_string())],
        )
        .map_err(|e| ClientError::Refused(StatusCode::BAD_REQUEST, format!("invalid server URL: {e}")))?;
        let mut request = self.http.get(url).bearer_auth(&self.token);
        if let Some(v) = version {
            request = request.header(IF_NONE_MATCH, format!("\"{v}\""));
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::Unchanged);
        }
        if !status.is_success() {
            return Err(refusal(status, response.text().await.unwrap_or_default()));
        }
        let assignments: Assignments = response
            .json()
            .await
            .map_err(|e| ClientError::Unavailable(format!("unreadable assignments: {e}")))?;
        Ok(Fetched::Changed(assignments))
    }

    /// `POST /api/v1/probe/results`; on failure the results come back with the reason.
    pub async fn push(&self, results: Vec<CheckResult>) -> Result<(), (ClientError, Vec<CheckResult>)> {
        let url = format!("{}/api/v1/probe/results", self.base);
        let batch =
            ResultBatch { region: self.region.clone(), poll_interval_ms: Some(self.poll_ms()), results };
        let outcome = self.http.post(url).bearer_auth(&self.token).json(&batch).send().await;
        let response = match outcome {
            Ok(r) => r,
            Err(e) => return Err((transport(e), batch.results)),
        };
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err((refusal(status, response.text().await.unwrap_or_default()), batch.results))
    }
}

fn transport(e: reqwest::Error) -> ClientError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    ClientError::Unavailable(text)
}

fn refusal(status: StatusCode, body: String) -> ClientError {
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or(body);
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
    {
        ClientError::Unavailable(format!("HTTP {status}: {message}"))
    } else {
        ClientError::Refused(status, message)
    }
}
