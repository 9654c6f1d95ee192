//! `wagate-bench group-seed` and `wagate-bench groups` (docs/benchmarks.md, "Groups: a group of
//! 1,000 members"). The seeder stores groups in a node's SQLite database the way the service
//! stores a group's full state from WhatsApp ([`GroupUpdates::store_info`]: the group row, the
//! members with `replace_all`, the session's membership), timing each store. The reader measures
//! `listGroupMembers`, `getGroup` and `listGroups` on the running node like `page` does, with
//! `getSession` as the baseline.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use wagate_domain::engine::{GroupInfo, GroupParticipant, MemberRole};
use wagate_domain::{Clock as _, Jid, SessionId, SystemClock};
use wagate_service::{GroupUpdates, InProcessBus};

use crate::api::{NodeArgs, client};
use crate::latency::Latencies;
use crate::page::measure;

#[derive(Debug, clap::Args)]
pub struct GroupSeedArgs {
    /// The node's data directory (its `wagate.db`); the node must not be running.
    #[arg(long)]
    data_dir: PathBuf,
    /// The session the groups belong to (`sess_…`, created through the API).
    #[arg(long)]
    session: String,
    /// Fresh groups stored (each timed); the first is the one the reads ask for.
    #[arg(long, default_value_t = 20)]
    groups: usize,
    /// Members of each group (one superadmin, 9 admins, the rest members).
    #[arg(long, default_value_t = 1_000)]
    members: usize,
    /// Times the first group's same full state is stored again (every member already known).
    #[arg(long, default_value_t = 20)]
    refreshes: usize,
}

/// Group `g` as the network describes it: `members` participants addressed by LID.
fn group_info(g: usize, members: usize, now_ms: i64) -> anyhow::Result<GroupInfo> {
    let lid = |i: usize| Jid::parse(&format!("{}@lid", 100_000_000_000_000 + i));
    let participants = (0..members)
        .map(|i| {
            Ok(GroupParticipant {
                jid: lid(i)?,
                phone: None,
                role: match i {
                    0 => MemberRole::Superadmin,
                    1..10 => MemberRole::Admin,
                    _ => MemberRole::Member,
                },
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(GroupInfo {
        jid: Jid::parse(&format!("120363{:012}@g.us", 100_000 + g))?,
        subject: Some(format!("Benchmark group {g}")),
        description: Some(
            "A group of the groups benchmark, with a description of usual length.".into(),
        ),
        owner: Some(lid(0)?),
        announce: false,
        locked: false,
        created_at: Some(now_ms - 86_400_000),
        participants,
    })
}

/// `PREFIX_n=… PREFIX_p50_ms=… PREFIX_p90_ms=… PREFIX_max_ms=…` of the store times.
fn times(prefix: &str, mut l: Latencies) -> String {
    let s = l.summary();
    format!(
        "{prefix}_n={} {prefix}_p50_ms={:.2} {prefix}_p90_ms={:.2} {prefix}_max_ms={:.2}",
        s.count, s.p50, s.p90, s.max
    )
}

/// Stores the groups and prints `GROUPSEED …` and `GROUP jid=…` (the first group).
pub async fn run_seed(args: GroupSeedArgs) -> anyhow::Result<()> {
    if args.groups == 0 || args.members == 0 {
        bail!("--groups and --members must be at least 1");
    }
    let url = wagate_store::sqlite_url_for_data_dir(&args.data_dir);
    let stores = wagate_store::open_stores(&url).await?;
    let session = SessionId::parse(&args.session).context("--session")?;
    if stores.core.get_session_by_id(&session).await?.is_none() {
        bail!("no session {} in {url}", args.session);
    }
    let updates = GroupUpdates::new(
        stores.groups.clone(),
        Arc::new(InProcessBus::new(16)),
        Arc::new(SystemClock),
    );
    let now = SystemClock.now_ms();
    let infos = (0..args.groups)
        .map(|g| group_info(g, args.members, now))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let mut fresh = Latencies::default();
    let started = Instant::now();
    for info in &infos {
        let t = Instant::now();
        updates
            .store_info(&session, info, SystemClock.now_ms())
            .await?;
        fresh.record(t.elapsed());
    }
    let fresh_secs = started.elapsed().as_secs_f64();
    let mut again = Latencies::default();
    for _ in 0..args.refreshes {
        let t = Instant::now();
        updates
            .store_info(&session, &infos[0], SystemClock.now_ms())
            .await?;
        again.record(t.elapsed());
    }

    let gid = infos[0].jid.canonical().to_string();
    let stored = stores.groups.list_members(&session, &gid).await?.len();
    let group = stores.groups.get_group(&session, &gid).await?;
    let count = group.and_then(|g| g.participant_count).unwrap_or(-1);
    if stored != args.members || count != args.members as i64 {
        bail!(
            "{gid}: {stored} members stored, count {count}, expected {}",
            args.members
        );
    }
    stores.core.close().await;
    println!(
        "GROUPSEED groups={} members={} mean_ms={:.2} {} {}",
        args.groups,
        args.members,
        fresh_secs * 1000.0 / args.groups as f64,
        times("fresh", fresh),
        times("refresh", again),
    );
    println!("GROUP jid={gid}");
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct GroupsArgs {
    #[command(flatten)]
    node: NodeArgs,
    #[arg(long)]
    session: String,
    /// The group whose members are listed (a JID).
    #[arg(long)]
    group: String,
    /// Groups the session is in (`listGroups` must answer that many).
    #[arg(long)]
    groups: u32,
    /// Members of the group (`listGroupMembers` must answer that many).
    #[arg(long, default_value_t = 1_000)]
    members: u32,
    /// Measured requests per operation.
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Unmeasured requests per operation first.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
}

/// Prints one `GET label=… requests=… rps=… p50_ms=… …` line per operation.
pub async fn run(args: GroupsArgs) -> anyhow::Result<()> {
    let api = args.node.client(client(1)?);
    let s = format!("/api/v1/sessions/{}", args.session);
    let g = format!("{s}/groups/{}", args.group);
    let targets = [
        ("getSession", s.clone(), None),
        ("listGroups", format!("{s}/groups"), Some(args.groups)),
        ("getGroup", g.clone(), None),
        (
            "listGroupMembers",
            format!("{g}/members"),
            Some(args.members),
        ),
    ];
    for (label, path, items) in targets {
        let line = measure(&api, &path, items, args.warmup, args.requests).await?;
        println!("GET label={label} {line}");
    }
    Ok(())
}
