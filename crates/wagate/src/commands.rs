//! The administrative commands: `migrate`, `orgs`, `keys`. Output is plain lines on stdout.

use std::sync::Arc;

use anyhow::Context as _;
use wagate_domain::{ApiKey, CapabilitySet, Clock, SessionId, Store, SystemClock};
use wagate_service::{ApiKeyService, CreateApiKey, OrganizationService};

use crate::cli::{KeysCommand, OrgsCommand, SessionsCommand};
use crate::config::{StoreConfig, parse_duration};

async fn open(store: &StoreConfig) -> anyhow::Result<Arc<dyn Store>> {
    if store.database_url.is_none() {
        std::fs::create_dir_all(&store.data_dir)
            .with_context(|| format!("creating data directory {}", store.data_dir.display()))?;
    }
    let url = store.url();
    wagate_store::open(&url)
        .await
        .with_context(|| format!("opening the {} store", backend_name(&url)))
}

fn backend_name(url: &str) -> &'static str {
    wagate_store::Backend::of_url(url).map_or("unknown", |b| b.as_str())
}

pub async fn migrate(store: &StoreConfig) -> anyhow::Result<()> {
    let url = store.url();
    open(store).await?.close().await;
    println!("{} database is up to date", backend_name(&url));
    Ok(())
}

pub async fn orgs(store: &StoreConfig, cmd: OrgsCommand) -> anyhow::Result<()> {
    let db = open(store).await?;
    let orgs = OrganizationService::new(db.clone(), Arc::new(SystemClock));
    match cmd {
        OrgsCommand::Create { name } => {
            let org = orgs.create(&name).await?;
            println!("{}\t{}", org.id, org.name);
        }
        OrgsCommand::List => {
            for org in orgs.list().await? {
                println!("{}\t{}", org.id, org.name);
            }
        }
    }
    db.close().await;
    Ok(())
}

pub async fn keys(store: &StoreConfig, cmd: KeysCommand) -> anyhow::Result<()> {
    let db = open(store).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let orgs = OrganizationService::new(db.clone(), clock.clone());
    let keys = ApiKeyService::new(db.clone(), clock.clone());
    match cmd {
        KeysCommand::Create {
            org,
            perms,
            name,
            sessions,
            expires_in,
        } => {
            let org = orgs.resolve(&org).await?;
            let permissions = CapabilitySet::parse_list(&perms)?;
            let sessions = sessions
                .map(|ids| {
                    ids.iter()
                        .map(|id| SessionId::parse(id).with_context(|| format!("session {id:?}")))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
                .transpose()?;
            let expires_at = expires_in
                .map(|raw| parse_duration(&raw))
                .transpose()?
                .map(|d| clock.now_ms() + d.as_millis() as i64);
            let req = CreateApiKey {
                name,
                permissions,
                sessions,
                expires_at,
            };
            let created = keys.create_in(&org.id, req).await?;
            eprintln!(
                "created key {} in organization {} ({})",
                created.key.id, org.name, org.id
            );
            println!("{}", created.raw.expose());
        }
        KeysCommand::List { org } => {
            let org = match org {
                Some(o) => Some(orgs.resolve(&o).await?.id),
                None => None,
            };
            let now = clock.now_ms();
            for key in keys.list_all(org.as_ref()).await? {
                println!("{}", key_line(&key, now));
            }
        }
        KeysCommand::Revoke { id } => {
            keys.revoke_any(&id).await?;
            println!("revoked {id}");
        }
    }
    db.close().await;
    Ok(())
}

/// `id  name  permissions  sessions  expiry  state`, tab-separated, `-` for none.
fn key_line(key: &ApiKey, now_ms: i64) -> String {
    let sessions = key.sessions.as_ref().map_or("-".to_owned(), |ids| {
        ids.iter()
            .map(SessionId::as_str)
            .collect::<Vec<_>>()
            .join(",")
    });
    let expiry = key.expires_at.map_or("-".to_owned(), |ms| {
        humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64),
        )
        .to_string()
    });
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        key.id,
        key.name.as_deref().unwrap_or("-"),
        key.permissions,
        sessions,
        expiry,
        key.state(now_ms).as_str()
    )
}

/// `wagate sessions …`: talks to a running node over its API.
pub async fn sessions(store: &StoreConfig, cmd: SessionsCommand) -> anyhow::Result<()> {
    match cmd {
        SessionsCommand::Qr { id, url, key } => {
            let key = match key {
                Some(k) => k,
                None => {
                    std::fs::read_to_string(store.data_dir.join(crate::node::BOOTSTRAP_KEY_FILE))
                        .context("no --key given and no bootstrap key in the data directory")?
                        .trim()
                        .to_owned()
                }
            };
            let res = reqwest::Client::new()
                .get(format!(
                    "{}/api/v1/sessions/{id}/qr",
                    url.trim_end_matches('/')
                ))
                .bearer_auth(key)
                .send()
                .await
                .with_context(|| format!("calling {url}"))?;
            let status = res.status();
            let body: serde_json::Value = res.json().await.context("reading the answer")?;
            if !status.is_success() {
                anyhow::bail!(
                    "{status}: {}",
                    body["error"]["message"]
                        .as_str()
                        .unwrap_or("unexpected answer")
                );
            }
            let code = body["code"].as_str().context("answer without a code")?;
            let qr = qrcode::QrCode::new(code.as_bytes()).context("encoding the QR code")?;
            let image = qr
                .render::<qrcode::render::unicode::Dense1x2>()
                .dark_color(qrcode::render::unicode::Dense1x2::Light)
                .light_color(qrcode::render::unicode::Dense1x2::Dark)
                .build();
            println!("{image}");
            println!("Scan with WhatsApp → Linked devices → Link a device.");
        }
    }
    Ok(())
}
