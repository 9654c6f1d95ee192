//! The node's API and a standalone simnet's control API, as the benchmarks call them: over one
//! kept-alive HTTP client each, with the answer's status checked.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use reqwest::{Client, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The node a benchmark talks to: the flags of every subcommand that calls the API.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    /// The node's base URL.
    #[arg(long)]
    pub api: String,
    /// An API key with every permission (e.g. the bootstrap key).
    #[arg(long, env = "WAGATE_BENCH_KEY", hide_env_values = true)]
    pub key: String,
}

impl NodeArgs {
    pub fn client(&self, http: Client) -> Api {
        Api::new(&self.api, self.key.clone(), http)
    }
}

/// A node's base URL and an API key with every permission (the bootstrap key).
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub key: String,
    pub http: Client,
}

/// A standalone simnet's base URL (its control API needs no credential).
#[derive(Debug, Clone)]
pub struct Simnet {
    pub base: String,
    pub http: Client,
}

/// An HTTP client keeping up to `connections` idle connections per host, 30 s per request.
pub fn client(connections: usize) -> anyhow::Result<Client> {
    Client::builder()
        .pool_max_idle_per_host(connections.max(1))
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

/// One page of a list operation (api.md §1.7).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatItem {
    unread_count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageItem {
    from_me: bool,
}

#[derive(Deserialize)]
struct Status {
    status: String,
}

impl Api {
    pub fn new(base: &str, key: String, http: Client) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            key,
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with the key; the body as JSON if the status is `200`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let res = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.key)
            .send()
            .await?;
        Ok(expect(res, StatusCode::OK, path).await?.json().await?)
    }

    /// Waits until every session in `ids` is `working` (`timeout` in all).
    pub async fn wait_working(&self, ids: &[String], timeout: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        for id in ids {
            loop {
                let Status { status } = self.get(&format!("/api/v1/sessions/{id}")).await?;
                if status == "working" {
                    break;
                }
                if started.elapsed() > timeout {
                    bail!("session {id} is {status}, not working, after {timeout:?}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// How many messages of `chat` the node has stored as its own (`fromMe`).
    pub async fn count_from_me(&self, session: &str, chat: &str) -> anyhow::Result<u64> {
        let mut from_me = 0;
        let path = format!("/api/v1/sessions/{session}/chats/{chat}/messages?limit=200");
        self.each_page(&path, |page: Vec<MessageItem>| {
            from_me += page.iter().filter(|m| m.from_me).count() as u64;
        })
        .await?;
        Ok(from_me)
    }

    /// The session's unread messages over all its chats: one per stored inbound message, as
    /// long as no chat was marked read.
    pub async fn unread_total(&self, session: &str) -> anyhow::Result<i64> {
        let mut total = 0;
        let path = format!("/api/v1/sessions/{session}/chats?limit=200");
        self.each_page(&path, |page: Vec<ChatItem>| {
            total += page.iter().map(|c| c.unread_count).sum::<i64>();
        })
        .await?;
        Ok(total)
    }

    /// Hands every page of the list operation at `path` (with its query) to `each`.
    async fn each_page<T: DeserializeOwned>(
        &self,
        path: &str,
        mut each: impl FnMut(Vec<T>),
    ) -> anyhow::Result<()> {
        let mut next = path.to_owned();
        loop {
            let page: ListPage<T> = self.get(&next).await?;
            each(page.data);
            match page.next_cursor {
                Some(cursor) => next = format!("{path}&cursor={cursor}"),
                None => return Ok(()),
            }
        }
    }
}

impl Simnet {
    pub fn new(base: &str, http: Client) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
        }
    }

    /// `POST /_sim/phones`: a new simulated phone.
    pub async fn create_phone(&self, phone: u64) -> anyhow::Result<()> {
        let res = self
            .http
            .post(format!("{}/_sim/phones", self.base))
            .json(&json!({ "phone": phone.to_string() }))
            .send()
            .await?;
        expect(res, StatusCode::CREATED, "POST /_sim/phones").await?;
        Ok(())
    }

    /// `POST /_sim/phones/{phone}/messages`: the phone sends a text to `to` (a JID).
    pub async fn send_text(&self, phone: u64, to: &str, text: &str) -> anyhow::Result<()> {
        let res = self
            .http
            .post(format!("{}/_sim/phones/{phone}/messages", self.base))
            .json(&json!({ "to": to, "text": text }))
            .send()
            .await?;
        expect(
            res,
            StatusCode::CREATED,
            "POST /_sim/phones/{phone}/messages",
        )
        .await?;
        Ok(())
    }

    /// How many messages the phone has received (`GET /_sim/phones/{phone}/inbox`).
    pub async fn inbox_len(&self, phone: u64) -> anyhow::Result<u64> {
        let res = self
            .http
            .get(format!("{}/_sim/phones/{phone}/inbox", self.base))
            .send()
            .await?;
        let page: ListPage<Value> = expect(res, StatusCode::OK, "inbox").await?.json().await?;
        Ok(page.data.len() as u64)
    }
}

/// The answer if it has `status`, else an error with what came back instead.
pub async fn expect(
    res: reqwest::Response,
    status: StatusCode,
    what: &str,
) -> anyhow::Result<reqwest::Response> {
    if res.status() == status {
        return Ok(res);
    }
    let got = res.status();
    let body = res.text().await.unwrap_or_default();
    bail!("{what}: expected {status}, got {got}: {body}")
}
