//! The setup of `scripts/bench-restore` and the messaging benchmarks (docs/benchmarks.md): N
//! sessions created on a node and paired through a standalone simnet's control API, many at a
//! time over kept-alive connections (one curl process per request is too slow for 10,000
//! sessions).

use std::time::{Duration, Instant};

use anyhow::bail;
use futures::StreamExt as _;
use reqwest::{Client, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::api::{Api, Simnet, client, expect};

/// Where to create the sessions and how.
#[derive(Debug, Clone)]
pub struct PairConfig {
    /// The node's base URL (`http://127.0.0.1:PORT`).
    pub api: String,
    /// An API key with `manage`.
    pub key: String,
    /// The standalone simnet's base URL.
    pub simnet: String,
    pub sessions: usize,
    /// Sessions being set up at once.
    pub concurrency: usize,
    /// The phone number of session 0; session i gets `first_phone + i`.
    pub first_phone: u64,
}

/// How many times `GET /qr` is retried while the code is not ready yet (`404`).
const QR_ATTEMPTS: u32 = 20;
const QR_RETRY: Duration = Duration::from_millis(250);

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct Qr {
    code: String,
}

/// A session and the phone number of its account.
#[derive(Debug, Clone)]
pub struct Paired {
    pub id: String,
    pub phone: u64,
}

/// Creates `sessions` sessions and has one new simulated phone scan each one's QR code. Returns
/// them in the order they were paired; fails on the first session that cannot be paired.
pub async fn pair_sessions(config: &PairConfig) -> anyhow::Result<Vec<Paired>> {
    let http = client(config.concurrency)?;
    let started = Instant::now();
    let mut ids = Vec::with_capacity(config.sessions);
    let mut pairs = futures::stream::iter(0..config.sessions)
        .map(|i| pair_one(&http, config, config.first_phone + i as u64))
        .buffer_unordered(config.concurrency.max(1));
    while let Some(id) = pairs.next().await {
        ids.push(id?);
        if ids.len() % 1000 == 0 {
            eprintln!(
                "wagate-bench pair: {} of {} paired ({:.1} s)",
                ids.len(),
                config.sessions,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(ids)
}

/// A few sessions for a load run, set up all at once, `working` when this returns.
pub async fn pair_working(
    api: &Api,
    simnet: &Simnet,
    sessions: usize,
    first_phone: u64,
) -> anyhow::Result<Vec<Paired>> {
    let paired = pair_sessions(&PairConfig {
        api: api.base.clone(),
        key: api.key.clone(),
        simnet: simnet.base.clone(),
        sessions,
        concurrency: sessions,
        first_phone,
    })
    .await?;
    let ids: Vec<String> = paired.iter().map(|p| p.id.clone()).collect();
    api.wait_working(&ids, Duration::from_secs(30)).await?;
    Ok(paired)
}

/// One session: create it, create its phone, read its QR code, scan it.
async fn pair_one(http: &Client, config: &PairConfig, phone: u64) -> anyhow::Result<Paired> {
    let res = http
        .post(format!("{}/api/v1/sessions", config.api))
        .bearer_auth(&config.key)
        .json(&json!({}))
        .send()
        .await?;
    let Created { id } = expect(res, StatusCode::CREATED, "createSession")
        .await?
        .json()
        .await?;
    Simnet::new(&config.simnet, http.clone())
        .create_phone(phone)
        .await?;
    let code = qr_code(http, config, &id).await?;
    let res = http
        .post(format!("{}/_sim/phones/{phone}:scan", config.simnet))
        .json(&json!({ "qr": code }))
        .send()
        .await?;
    expect(res, StatusCode::NO_CONTENT, "scan").await?;
    Ok(Paired { id, phone })
}

/// The session's QR code, waiting while the pairing connection is still being opened.
async fn qr_code(http: &Client, config: &PairConfig, id: &str) -> anyhow::Result<String> {
    for _ in 0..QR_ATTEMPTS {
        let res = http
            .get(format!("{}/api/v1/sessions/{id}/qr", config.api))
            .bearer_auth(&config.key)
            .send()
            .await?;
        if res.status() == StatusCode::NOT_FOUND {
            tokio::time::sleep(QR_RETRY).await;
            continue;
        }
        let Qr { code } = expect(res, StatusCode::OK, "sessionQR")
            .await?
            .json()
            .await?;
        return Ok(code);
    }
    bail!("{id}: no QR code after {QR_ATTEMPTS} attempts")
}
