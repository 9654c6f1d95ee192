//! `wagate-bench phones` (docs/benchmarks.md, "Messaging: inbound messages persisted", end to
//! end): simulated phones send texts to sessions paired on a standalone simnet, through its
//! control API; the node receives them over its sessions' connections and persists them. The
//! time runs from the first send until the node's chats count every message as unread (one
//! per stored inbound message).

use std::time::{Duration, Instant};

use anyhow::bail;
use futures::StreamExt as _;

use crate::api::{Api, NodeArgs, Simnet, client};
use crate::pair::pair_working;

#[derive(Debug, clap::Args)]
pub struct PhonesArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// The standalone simnet's base URL.
    #[arg(long)]
    simnet: String,
    /// Sessions receiving.
    #[arg(long, default_value_t = 4)]
    sessions: usize,
    /// Phones sending, each to every session in turn.
    #[arg(long, default_value_t = 10)]
    phones: usize,
    /// Messages in all.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Sends in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Phone number of the first session; the others and the sending phones follow it.
    #[arg(long, default_value_t = 628_400_000_000)]
    first_phone: u64,
    /// Longest wait for the node to store every message.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// Prints `PHONES sessions=… messages=… sent_secs=… secs=… rate=…`: `sent_secs` until simnet
/// accepted the last send, `secs` until the node had stored all of them.
pub async fn run(args: PhonesArgs) -> anyhow::Result<()> {
    let http = client(args.concurrency)?;
    let api = args.node.client(http.clone());
    let simnet = Simnet::new(&args.simnet, http);
    let sessions = pair_working(&api, &simnet, args.sessions, args.first_phone).await?;
    let ids: Vec<String> = sessions.iter().map(|s| s.id.clone()).collect();
    let first_sender = args.first_phone + args.sessions as u64;
    for p in 0..args.phones as u64 {
        simnet.create_phone(first_sender + p).await?;
    }
    let before = unread(&api, &ids).await?;

    let started = Instant::now();
    let mut sends = futures::stream::iter(0..args.messages)
        .map(|k| {
            let from = first_sender + (k % args.phones.max(1)) as u64;
            let to = format!("{}@s.whatsapp.net", sessions[k % sessions.len()].phone);
            let simnet = &simnet;
            async move {
                let text = format!("inbound message {k} from a simulated phone");
                simnet.send_text(from, &to, &text).await
            }
        })
        .buffer_unordered(args.concurrency.max(1));
    while let Some(sent) = sends.next().await {
        sent?;
    }
    let sent_secs = started.elapsed().as_secs_f64();

    let want = before + args.messages as i64;
    let deadline = Duration::from_secs(args.timeout);
    loop {
        let got = unread(&api, &ids).await?;
        if got >= want {
            break;
        }
        if started.elapsed() > deadline {
            bail!(
                "only {} of {} messages stored after {deadline:?}",
                got - before,
                args.messages
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "PHONES sessions={} phones={} messages={} sent_secs={sent_secs:.2} secs={secs:.2} rate={:.0}",
        args.sessions,
        args.phones,
        args.messages,
        args.messages as f64 / secs
    );
    Ok(())
}

async fn unread(api: &Api, sessions: &[String]) -> anyhow::Result<i64> {
    let mut total = 0;
    for id in sessions {
        total += api.unread_total(id).await?;
    }
    Ok(total)
}
