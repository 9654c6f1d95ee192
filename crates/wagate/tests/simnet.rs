//! `wagate simnet` as a standalone process, joined by `wagate serve --engine sim --simnet-url`
//! nodes: pairing through its control API, and paired sessions surviving a node restart.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};
use wagate_test_support::db::TestDatabase;

const BIN: &str = env!("CARGO_BIN_EXE_wagate");
/// The bound of every wait in these tests.
const WAIT: Duration = Duration::from_secs(15);
const PHONE: &str = "628111000042";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process (killed on drop) answering on `base`.
struct Process {
    child: Child,
    base: String,
}

/// Spawns `wagate <args> --listen 127.0.0.1:<free port>` and waits for `/healthz`.
async fn spawn(db: Option<&TestDatabase>, args: &[&str]) -> Process {
    let port = free_port();
    let mut cmd = Command::new(BIN);
    if let Some(db) = db {
        cmd.arg("--data-dir")
            .arg(db.data_dir())
            .arg("--database-url")
            .arg(db.url());
    }
    let child = cmd
        .args(args)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env_remove("WAGATE_LISTEN")
        .env_remove("WAGATE_SIMNET_URL")
        .env_remove("WAGATE_ENGINE")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn wagate");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if let Ok(res) = client.get(format!("{base}/healthz")).send().await
            && res.status().is_success()
        {
            return Process { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("wagate {args:?} did not come up within {WAIT:?}");
}

/// SIGTERM, then the exit status (bounded).
async fn terminate(mut process: Process) -> std::process::ExitStatus {
    let pid = process.child.id().expect("pid").to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    tokio::time::timeout(WAIT, process.child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap()
}

async fn call(
    method: reqwest::Method,
    url: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, url).timeout(WAIT);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Polls the session until its status is `status` (bounded) and returns it.
async fn wait_for_status(node: &Process, key: &str, id: &str, status: &str) -> Value {
    let url = format!("{}/api/v1/sessions/{id}", node.base);
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = Value::Null;
    while tokio::time::Instant::now() < deadline {
        last = call(reqwest::Method::GET, &url, Some(key), None).await.1;
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("session {id} never reached {status:?}; last: {last}");
}

fn bootstrap_key(db: &TestDatabase) -> String {
    std::fs::read_to_string(db.data_dir().join("bootstrap-api-key"))
        .expect("bootstrap key file")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn standalone_simnet_serves_healthz_and_its_control_api() {
    let simnet = spawn(None, &["simnet"]).await;
    let (status, body) = call(
        reqwest::Method::POST,
        &format!("{}/_sim/phones", simnet.base),
        None,
        Some(json!({"phone": PHONE, "name": "Alice"})),
    )
    .await;
    assert_eq!(
        (status, body["jid"].as_str()),
        (201, Some(&*format!("{PHONE}@s.whatsapp.net")))
    );
    let (status, body) = call(
        reqwest::Method::POST,
        &format!("{}/_sim/phones/{PHONE}:scan", simnet.base),
        None,
        Some(json!({"qr": "nope"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_error"))
    );
    let status = terminate(simnet).await;
    assert!(status.success(), "graceful exit on SIGTERM: {status}");
}

#[tokio::test]
async fn node_restart_with_standalone_simnet_restores_paired_sessions() {
    let db = TestDatabase::from_env().await;
    let simnet = spawn(None, &["simnet"]).await;
    let serve = [
        "serve",
        "--engine",
        "sim",
        "--simnet-url",
        simnet.base.as_str(),
    ];

    let node = spawn(Some(&db), &serve).await;
    let key = bootstrap_key(&db);
    let (status, created) = call(
        reqwest::Method::POST,
        &format!("{}/api/v1/sessions", node.base),
        Some(&key),
        Some(json!({"label": "remote"})),
    )
    .await;
    assert_eq!(status, 201, "create session: {created}");
    let id = created["id"].as_str().expect("id").to_owned();

    // The node mounts no control API: it is the standalone simnet's.
    let (status, _) = call(
        reqwest::Method::POST,
        &format!("{}/_sim/phones", node.base),
        None,
        Some(json!({"phone": PHONE})),
    )
    .await;
    assert_ne!(
        status, 201,
        "no /_sim on a node joined to a standalone simnet"
    );

    let (status, _) = call(
        reqwest::Method::POST,
        &format!("{}/_sim/phones", simnet.base),
        None,
        Some(json!({"phone": PHONE, "name": "Alice"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, qr) = call(
        reqwest::Method::GET,
        &format!("{}/api/v1/sessions/{id}/qr", node.base),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 200, "qr: {qr}");
    let code = qr["code"].as_str().expect("qr code");
    let (status, body) = call(
        reqwest::Method::POST,
        &format!("{}/_sim/phones/{PHONE}:scan", simnet.base),
        None,
        Some(json!({"qr": code})),
    )
    .await;
    assert_eq!(status, 204, "scan: {body}");
    let working = wait_for_status(&node, &key, &id, "working").await;
    assert!(
        working["waJid"]
            .as_str()
            .is_some_and(|jid| jid.starts_with(&format!("{PHONE}:"))),
        "{working}"
    );
    assert!(
        db.data_dir()
            .join("sim-devices")
            .join(format!("{id}.json"))
            .exists(),
        "device credential stored in the node's data directory"
    );

    let status = terminate(node).await;
    assert!(status.success(), "node exits cleanly on SIGTERM: {status}");
    let drop_url = format!("{}/_sim/sessions/{id}:drop", simnet.base);
    let (status, body) = call(reqwest::Method::POST, &drop_url, None, None).await;
    assert_eq!(
        status, 404,
        "the stopped node closed its connection: {body}"
    );

    // Same data directory and database, same simnet: the session resumes without pairing.
    let node = spawn(Some(&db), &serve).await;
    let again = wait_for_status(&node, &key, &id, "working").await;
    assert_eq!(again["waJid"], working["waJid"]);
    // The stored status says `working` from the start: prove a live connection on the simnet
    // (only a connected session can be dropped), then that the node reconnects by itself.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = call(reqwest::Method::POST, &drop_url, None, None).await;
        if status == 204 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the restarted node never resumed on the simnet: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = call(reqwest::Method::POST, &drop_url, None, None).await;
        if status == 204 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node never reconnected after the drop: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_status(&node, &key, &id, "working").await;
    let (status, body) = call(
        reqwest::Method::GET,
        &format!("{}/api/v1/sessions/{id}/qr", node.base),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 409, "already paired: {body}");

    assert!(terminate(node).await.success());
    assert!(terminate(simnet).await.success());
}
