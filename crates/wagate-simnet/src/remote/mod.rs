//! The remote sim engine: wagate's [`Engine`] port against a **standalone** simnet
//! (`wagate simnet --listen ADDR`) in another process, over HTTP on loopback.
//!
//! Wire ([`wire`]): `POST /_sim/engine/connect` with `{"session", "request"}` answers an NDJSON
//! body whose first line is `{"type":"open","connection":N,…}` and whose further lines are the
//! connection's network events; the body ending means the connection ended.
//! `POST /_sim/engine/close` and `/_sim/engine/logout` (`{"session","connection"}`) end the
//! connection; `POST /_sim/engine/op` (`{"session","connection","op"}`) runs every other live
//! operation as one serde [`Op`](crate::Op) and answers `{"ok": result}` or `{"err": refusal}`. Device credentials live in files exactly as with [`SimEngine`], so a
//! node restarted over the same data directory resumes without pairing again.
//!
//! [`SimEngine`]: crate::SimEngine

mod server;
pub mod wire;

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use wagate_domain::{
    Engine, EngineError, EngineEvent, EngineLink, FatalReason, OpenMode, SessionId,
};

use crate::engine::device_file::{DeviceFile, DeviceStore};
use crate::engine::live::{LiveClient, Transport};
use crate::{ConnectRequest, DeviceCredential, LOG_LABEL, NetworkEvent, Op, OpResult};
pub use server::{NDJSON, engine_router};
use wire::{ConnectBody, ConnectionBody, OpAnswer, OpBody, StreamLine};

/// How long opening a connection may take until the `open` line arrives.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a close, logout or live operation call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest NDJSON line accepted.
const MAX_LINE: usize = 1 << 20;

/// wagate's engine over a standalone simnet reached over HTTP (test double; [`Engine::name`] is
/// `sim`).
#[derive(Debug, Clone)]
pub struct RemoteSimEngine {
    base: String,
    http: reqwest::Client,
    devices: DeviceStore,
}

impl RemoteSimEngine {
    /// An engine attaching sessions to the simnet at `url` (`http://127.0.0.1:PORT`), keeping
    /// device credentials in `device_dir` (created when the first device is paired).
    pub fn new(url: impl Into<String>, device_dir: PathBuf) -> Self {
        let base = url.into().trim_end_matches('/').to_owned();
        tracing::info!(simnet = %base, device_dir = %device_dir.display(), "{LOG_LABEL}: remote sim engine attached; this is a test double, not WhatsApp");
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .tcp_keepalive(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            base,
            http,
            devices: DeviceStore::new(device_dir),
        }
    }

    /// The simnet's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }
}

#[async_trait]
impl Engine for RemoteSimEngine {
    fn name(&self) -> &'static str {
        "sim"
    }

    /// Resume without a device file is [`EngineError::NotPaired`]; an input the network refuses
    /// is [`EngineError::Rejected`]; an unreachable simnet is [`EngineError::Unavailable`].
    async fn open(&self, session: &SessionId, mode: OpenMode) -> Result<EngineLink, EngineError> {
        let request = match mode {
            OpenMode::PairQr => ConnectRequest::PairQr,
            OpenMode::PairCode { phone } => ConnectRequest::PairCode { phone },
            OpenMode::Resume => {
                let file = self
                    .devices
                    .read(session)
                    .await?
                    .ok_or(EngineError::NotPaired)?;
                ConnectRequest::Resume {
                    credential: file.credential,
                }
            }
        };
        let body = ConnectBody {
            session: session.as_str().to_owned(),
            request: request.into(),
        };
        let opened = tokio::time::timeout(OPEN_TIMEOUT, async {
            let res = self
                .http
                .post(format!("{}/_sim/engine/connect", self.base))
                .json(&body)
                .send()
                .await
                .map_err(|e| unavailable(&self.base, &e))?;
            let res = check(res).await?;
            let mut lines = Lines::new(res.bytes_stream().boxed());
            match lines.next().await {
                Ok(Some(StreamLine::Open {
                    connection,
                    pairing_code,
                })) => Ok((connection, pairing_code, lines)),
                Ok(other) => Err(EngineError::Other(format!(
                    "simnet answered {other:?} instead of opening the connection"
                ))),
                Err(e) => Err(EngineError::Unavailable(e)),
            }
        })
        .await
        .map_err(|_| EngineError::Unavailable(format!("simnet at {} did not answer", self.base)))?;
        let (connection, pairing_code, lines) = opened?;
        let client = RemoteSimClient {
            base: self.base.clone(),
            http: self.http.clone(),
            devices: self.devices.clone(),
            session: session.clone(),
            connection,
        };
        Ok(EngineLink {
            client: Box::new(LiveClient(client.clone())),
            events: event_stream(client, lines),
            pairing_code,
        })
    }

    async fn is_paired(&self, session: &SessionId) -> Result<bool, EngineError> {
        self.devices.exists(session).await
    }

    async fn forget(&self, session: &SessionId) -> Result<(), EngineError> {
        self.devices.remove(session).await
    }
}

/// One connection of a session to a standalone simnet.
#[derive(Debug, Clone)]
pub struct RemoteSimClient {
    base: String,
    http: reqwest::Client,
    devices: DeviceStore,
    session: SessionId,
    connection: u64,
}

impl RemoteSimClient {
    async fn call(
        &self,
        op: &str,
        credential: Option<DeviceCredential>,
    ) -> Result<(), EngineError> {
        let body = ConnectionBody {
            session: self.session.as_str().to_owned(),
            connection: self.connection,
            credential,
        };
        self.post(op, &body).await.map(drop)
    }

    /// `POST /_sim/engine/{path}` with `body`; refusals as [`check`] maps them.
    async fn post(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<reqwest::Response, EngineError> {
        let res = self
            .http
            .post(format!("{}/_sim/engine/{path}", self.base))
            .timeout(CALL_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(|e| unavailable(&self.base, &e))?;
        check(res).await
    }
}

#[async_trait]
impl Transport for RemoteSimClient {
    /// Closes the connection; the event stream ends without a further event.
    async fn close(&self) {
        if let Err(e) = self.call("close", None).await {
            tracing::warn!(session = %self.session, error = %e, "{LOG_LABEL}: cannot close the connection");
        }
    }

    /// Unlinks the device on the network and closes the connection. The device file stays
    /// until [`Engine::forget`].
    async fn logout_device(&self) -> Result<(), EngineError> {
        let stored = self.devices.credential_for_logout(&self.session).await;
        self.call("logout", stored).await
    }

    async fn run(&self, op: Op) -> Result<OpResult, EngineError> {
        let body = OpBody {
            session: self.session.as_str().to_owned(),
            connection: self.connection,
            op,
        };
        let answer: OpAnswer = self
            .post("op", &body)
            .await?
            .json()
            .await
            .map_err(|e| unavailable(&self.base, &e))?;
        match answer {
            OpAnswer::Ok(result) => Ok(result),
            OpAnswer::Err(err) => Err(err.into()),
        }
    }
}

fn unavailable(base: &str, err: &reqwest::Error) -> EngineError {
    EngineError::Unavailable(format!("simnet at {base}: {err}"))
}

/// A success answer as is; a refusal as [`EngineError::Rejected`] with the simnet's message.
async fn check(res: reqwest::Response) -> Result<reqwest::Response, EngineError> {
    let status = res.status();
    if status.is_success() {
        return Ok(res);
    }
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    let message = body["error"]["message"]
        .as_str()
        .map_or_else(|| format!("simnet answered {status}"), str::to_owned);
    if status.is_client_error() {
        Err(EngineError::Rejected(message))
    } else {
        Err(EngineError::Unavailable(message))
    }
}

/// NDJSON lines of an answer body.
struct Lines {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Lines {
    fn new(body: BoxStream<'static, reqwest::Result<Bytes>>) -> Self {
        Self {
            body,
            buf: Vec::new(),
        }
    }

    /// The next line; `None` at the end of the body. Empty lines are skipped.
    async fn next(&mut self) -> Result<Option<StreamLine>, String> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let rest = self.buf.split_off(pos + 1);
                let line = std::mem::replace(&mut self.buf, rest);
                let line = &line[..pos];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return serde_json::from_slice(line)
                    .map(Some)
                    .map_err(|e| format!("bad line from simnet: {e}"));
            }
            if self.buf.len() > MAX_LINE {
                return Err("line from simnet too long".to_owned());
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.buf.extend_from_slice(&chunk),
                Some(Err(e)) => return Err(format!("simnet connection lost: {e}")),
                None if self.buf.iter().all(u8::is_ascii_whitespace) => return Ok(None),
                None => return Err("simnet answer ended mid-line".to_owned()),
            }
        }
    }
}

/// The connection's events as wagate sees them: `linked` becomes `Paired` once the device file
/// is written; the stream ends after a final event or when the body ends. A broken transport
/// ends it with `Disconnected`, so the session reconnects.
fn event_stream(client: RemoteSimClient, lines: Lines) -> BoxStream<'static, EngineEvent> {
    futures::stream::unfold(
        (client, lines, false),
        |(client, mut lines, ended)| async move {
            if ended {
                return None;
            }
            let event = loop {
                let line = match lines.next().await {
                    Ok(Some(line)) => line,
                    Ok(None) => return None,
                    Err(reason) => {
                        tracing::warn!(session = %client.session, %reason, "{LOG_LABEL}: engine stream broken");
                        break EngineEvent::Disconnected { reason };
                    }
                };
                match line.into_network_event() {
                    Some(NetworkEvent::Engine(event)) => break event,
                    Some(NetworkEvent::Linked {
                        account,
                        credential,
                    }) => {
                        let file = DeviceFile::new(&client.session, credential, &account);
                        match client.devices.write(&client.session, &file).await {
                            Ok(()) => break EngineEvent::Paired(account),
                            Err(e) => {
                                // Without the credential the link is useless: undo it and end.
                                tracing::error!(session = %client.session, error = %e, "{LOG_LABEL}: cannot store the device credential");
                                let _ = client.call("logout", None).await;
                                break EngineEvent::Fatal(FatalReason::Refused);
                            }
                        }
                    }
                    // A second `open` line is not an event: ignore it.
                    None => {}
                }
            };
            let ended = matches!(
                event,
                EngineEvent::QrTimeout
                    | EngineEvent::Disconnected { .. }
                    | EngineEvent::Fatal(_)
            );
            Some((event, (client, lines, ended)))
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests;
