//! The `wagate` binary as a user runs it: first-run bootstrap, `orgs`, `keys`, `migrate`,
//! configuration precedence, revocation across processes, graceful shutdown on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wagate_test_support::db::TestDatabase;

const BIN: &str = env!("CARGO_BIN_EXE_wagate");

fn wagate(db: &TestDatabase) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(db.data_dir())
        .arg("--database-url")
        .arg(db.url())
        .env_remove("WAGATE_LISTEN")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    cmd
}

/// Runs a command to completion; panics with its stderr when it fails.
async fn run(db: &TestDatabase, args: &[&str]) -> String {
    let out = wagate(db).args(args).output().await.expect("run wagate");
    assert!(
        out.status.success(),
        "wagate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `wagate serve` process and the URL it answers on.
struct Served {
    child: Child,
    base: String,
    stdout: String,
}

async fn serve(db: &TestDatabase, extra: &[&str]) -> Served {
    let port = free_port();
    let mut child = wagate(db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            let mut stdout = String::new();
            if let Some(out) = child.stdout.take() {
                let mut lines = BufReader::new(out).lines();
                // The first run prints the key before serving; a later run prints nothing.
                while let Ok(Ok(Some(line))) =
                    tokio::time::timeout(Duration::from_millis(200), lines.next_line()).await
                {
                    stdout.push_str(&line);
                    stdout.push('\n');
                }
            }
            return Served {
                child,
                base,
                stdout,
            };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("wagate serve did not come up");
}

async fn terminate(mut served: Served) -> std::process::ExitStatus {
    let pid = served.child.id().expect("pid").to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    tokio::time::timeout(Duration::from_secs(20), served.child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap()
}

async fn get_status(base: &str, path: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn first_serve_prints_the_bootstrap_key_once_and_saves_it_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let db = TestDatabase::from_env().await;
    let served = serve(&db, &[]).await;
    let printed = served.stdout.trim().to_owned();
    assert!(printed.starts_with("wa_"), "stdout: {printed:?}");
    let file = db.data_dir().join("bootstrap-api-key");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), printed);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        get_status(&served.base, "/api/v1/sessions", &printed).await,
        200
    );
    let status = terminate(served).await;
    assert!(status.success(), "graceful exit on SIGTERM: {status}");
    let again = serve(&db, &[]).await;
    assert_eq!(again.stdout.trim(), "", "no second bootstrap");
    terminate(again).await;
}

#[tokio::test]
async fn orgs_and_keys_commands_round_trip() {
    let db = TestDatabase::from_env().await;
    let out = run(&db, &["orgs", "create", "acme"]).await;
    let (org_id, name) = out.trim().split_once('\t').unwrap();
    assert!(org_id.starts_with("org_"));
    assert_eq!(name, "acme");
    assert!(run(&db, &["orgs", "list"]).await.contains(org_id));

    let out = run(
        &db,
        &[
            "keys",
            "create",
            "--org",
            "acme",
            "--perms",
            "read,send",
            "--name",
            "crm",
            "--expires-in",
            "30d",
        ],
    )
    .await;
    let key = out.lines().last().unwrap();
    assert!(
        key.starts_with("wa_") && !key.contains(char::is_whitespace),
        "{out:?}"
    );

    let by_id = run(
        &db,
        &["keys", "create", "--org", org_id, "--perms", "events"],
    )
    .await;
    assert!(by_id.trim().starts_with("wa_"));

    let list = run(&db, &["keys", "list", "--org", "acme"]).await;
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2);
    let crm: Vec<&str> = lines
        .iter()
        .find(|l| l.contains("\tcrm\t"))
        .unwrap()
        .split('\t')
        .collect();
    assert!(crm[0].starts_with("key_"), "id first: {crm:?}");
    assert_eq!(&crm[1..4], &["crm", "read,send", "-"]);
    assert!(crm[4].starts_with("20"), "an RFC 3339 expiry: {crm:?}");
    assert_eq!(crm[5], "active");

    run(&db, &["keys", "revoke", crm[0]]).await;
    let list = run(&db, &["keys", "list"]).await;
    assert!(
        list.lines()
            .any(|l| l.starts_with(crm[0]) && l.ends_with("\trevoked"))
    );
}

#[tokio::test]
async fn bad_cli_input_fails_with_a_message_not_a_panic() {
    let db = TestDatabase::from_env().await;
    for args in [
        vec!["keys", "create", "--org", "nope", "--perms", "read"],
        vec!["keys", "revoke", "key_nope"],
        vec!["keys", "create", "--org", "default", "--perms", "root"],
    ] {
        let out = wagate(&db).args(&args).output().await.unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("wagate: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[tokio::test]
async fn cli_revocation_stops_a_key_on_the_running_servers_next_request() {
    let db = TestDatabase::from_env().await;
    let served = serve(&db, &[]).await;
    let out = run(
        &db,
        &["keys", "create", "--org", "default", "--perms", "manage"],
    )
    .await;
    let key = out.lines().last().unwrap().to_owned();
    assert_eq!(
        get_status(&served.base, "/api/v1/sessions", &key).await,
        200
    );
    let list = run(&db, &["keys", "list", "--org", "default"]).await;
    let id = list
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| f[1] == "-" && f[2] == "manage")
        .map(|f| f[0].to_owned())
        .unwrap();
    run(&db, &["keys", "revoke", &id]).await;
    assert_eq!(
        get_status(&served.base, "/api/v1/sessions", &key).await,
        401
    );
    terminate(served).await;
}

/// `wagate keys revoke` only reaches the shared store; the running server notices within a
/// couple of seconds and ends the key's open event stream (events.md §4.6).
#[tokio::test]
async fn cli_revocation_closes_the_running_servers_open_streams_of_that_key() {
    let db = TestDatabase::from_env().await;
    let served = serve(&db, &[]).await;
    let out = run(
        &db,
        &[
            "keys", "create", "--org", "default", "--perms", "events", "--name", "watcher",
        ],
    )
    .await;
    let key = out.lines().last().unwrap().to_owned();
    let list = run(&db, &["keys", "list", "--org", "default"]).await;
    let id = list
        .lines()
        .find(|l| l.contains("watcher"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();
    let mut stream = reqwest::Client::new()
        .get(format!("{}/api/v1/events", served.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let first = stream.chunk().await.unwrap().unwrap();
    let frame: Value = serde_json::from_slice(first.trim_ascii()).unwrap();
    assert_eq!(frame["event"], "connected");

    run(&db, &["keys", "revoke", &id]).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        // Nothing but the end of the stream (a ping would take 20 s).
        stream.chunk().await
    })
    .await
    .expect("the stream ends within a few seconds of the revocation");
    assert!(matches!(ended, Ok(None)), "{ended:?}");
    terminate(served).await;
}

#[tokio::test]
async fn migrate_is_idempotent() {
    let db = TestDatabase::from_env().await;
    assert!(run(&db, &["migrate"]).await.contains("up to date"));
    assert!(run(&db, &["migrate"]).await.contains("up to date"));
}

#[tokio::test]
async fn flags_win_over_environment_and_environment_over_file() {
    let db = TestDatabase::from_env().await;
    let config = db.data_dir().join("wagate.toml");
    std::fs::write(
        &config,
        "node_id = \"from-file\"\nlisten = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let port = free_port();
    let mut child = wagate(&db)
        .args([
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--node-id",
            "from-flag",
        ])
        .env("WAGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WAGATE_NODE_ID", "from-env")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let key_file = db.data_dir().join("bootstrap-api-key");
    let client = reqwest::Client::new();
    let mut session: Option<Value> = None;
    for _ in 0..200 {
        if let Ok(key) = std::fs::read_to_string(&key_file)
            && let Ok(res) = client
                .post(format!("{base}/api/v1/sessions"))
                .bearer_auth(key.trim())
                .json(&serde_json::json!({}))
                .send()
                .await
        {
            session = Some(res.json().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let session = session.expect("server on the port from WAGATE_LISTEN");
    assert_eq!(session["gatewayId"], "from-flag");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn sessions_qr_renders_the_code_in_the_terminal() {
    let db = TestDatabase::from_env().await;
    let served = serve(&db, &["--engine", "sim"]).await;
    let key = served.stdout.trim().to_owned();
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/sessions", served.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let out = run(&db, &["sessions", "qr", id, "--url", &served.base]).await;
    assert!(
        out.contains('█') || out.contains('▀') || out.contains('▄'),
        "{out}"
    );
    assert!(out.contains("Linked devices"));
    let status = get_status(&served.base, &format!("/api/v1/sessions/{id}"), &key).await;
    assert_eq!(status, 200);
    terminate(served).await;
}

#[tokio::test]
async fn webhook_deliveries_interrupted_by_sigkill_finish_after_restart() {
    use wagate_test_support::receiver::Receiver;
    let db = TestDatabase::from_env().await;
    let receiver = Receiver::start().await;
    // Slow answers keep deliveries in flight when the node dies.
    receiver.delay(Duration::from_millis(300));
    let flags = [
        "--engine",
        "sim",
        "--webhook-allow-private",
        "--webhook-timeout",
        "2s",
    ];
    let mut served = serve(&db, &flags).await;
    let key = served.stdout.trim().to_owned();
    let client = reqwest::Client::new();
    let hook: Value = client
        .post(format!("{}/api/v1/webhooks", served.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({"url": receiver.url(), "events": ["*"],
            "retryPolicy": {"policy": "constant", "delaySeconds": 1, "attempts": 10}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(hook["id"].as_str().is_some(), "{hook}");
    // Every session pairing reports its status changes and QR codes: a burst of events.
    for _ in 0..20 {
        let created: Value = client
            .post(format!("{}/api/v1/sessions", served.base))
            .bearer_auth(&key)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().expect("session id");
        // Asking for the QR code starts pairing.
        let qr = client
            .get(format!("{}/api/v1/sessions/{id}/qr", served.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert!(qr.status().is_success(), "{}", qr.status());
    }
    receiver
        .wait_for(Duration::from_secs(10), |r| !r.is_empty())
        .await;
    served.child.kill().await.unwrap();
    let stores = wagate_store::open_stores(db.url()).await.unwrap();
    let org = stores
        .core
        .find_organization("default")
        .await
        .unwrap()
        .unwrap()
        .id;
    let logged: Vec<String> = stores
        .events
        .events_after(&org, None, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id.to_string())
        .collect();
    let before_restart = receiver.received().len();
    assert!(
        before_restart < logged.len(),
        "the kill came too late to interrupt anything ({before_restart} of {})",
        logged.len()
    );
    stores.core.close().await;

    let _restarted = serve(&db, &flags).await;
    receiver
        .wait_for(Duration::from_secs(30), |got| {
            logged
                .iter()
                .all(|id| got.iter().any(|r| r.event_id() == *id))
        })
        .await;
}
