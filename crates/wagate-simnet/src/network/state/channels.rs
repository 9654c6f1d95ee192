//! Channels (newsletters): creation, posts (by the owner, through `deliver`), following and
//! muting.

use std::collections::BTreeSet;

use wagate_domain::Jid;
use wagate_domain::engine::{ChannelInfo, ChannelMessage};

use super::State;
use super::accounts::{Acting, known_jid};
use super::records::Channel;
use crate::codes;
use crate::network::views::ChannelView;
use crate::{LOG_LABEL, SimError};

impl State {
    pub(crate) fn channel(&self, jid: &str) -> Result<&Channel, SimError> {
        self.channels
            .get(jid)
            .ok_or_else(|| SimError::NotFound(format!("no channel {jid}")))
    }

    fn channel_mut(&mut self, jid: &Jid) -> Result<&mut Channel, SimError> {
        self.channels
            .get_mut(jid.as_str())
            .ok_or_else(|| SimError::NotFound(format!("no channel {jid}")))
    }

    pub(crate) fn channel_view(&self, jid: &str) -> Result<ChannelView, SimError> {
        self.channel(jid).map(ChannelView::of)
    }

    pub(crate) fn create_channel(
        &mut self,
        acting: &Acting,
        name: &str,
        description: Option<&str>,
    ) -> Result<ChannelInfo, SimError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(SimError::Invalid(
                "a channel name is 1 to 100 characters".to_owned(),
            ));
        }
        let jid = loop {
            let jid = codes::channel_jid();
            if !self.channels.contains_key(&jid) {
                break jid;
            }
        };
        let channel = Channel {
            jid: jid.clone(),
            name: name.to_owned(),
            description: description.map(str::to_owned).filter(|d| !d.is_empty()),
            owner: acting.phone.clone(),
            invite: codes::invite_code(),
            followers: BTreeSet::new(),
            muted: BTreeSet::new(),
            posts: Vec::new(),
        };
        let info = info_of(&channel);
        self.channels.insert(jid.clone(), channel);
        tracing::info!(jid, owner = acting.phone, "{LOG_LABEL}: channel created");
        Ok(info)
    }

    /// Up to `count` posts, newest first, older than server id `before` when given.
    pub(crate) fn channel_messages(
        &self,
        jid: &Jid,
        count: u32,
        before: Option<u64>,
    ) -> Result<Vec<ChannelMessage>, SimError> {
        let channel = self.channel(jid.as_str())?;
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        Ok(channel
            .posts
            .iter()
            .rev()
            .filter(|p| before.is_none_or(|b| p.server_id < b))
            .take(count)
            .map(|p| ChannelMessage {
                server_id: p.server_id,
                id: Some(p.id.clone()),
                timestamp: p.timestamp,
                message_type: p.message_type.clone(),
                text: p.text.clone(),
                views: Some(u64::try_from(channel.followers.len()).unwrap_or(u64::MAX)),
            })
            .collect())
    }

    pub(crate) fn follow_channel(
        &mut self,
        acting: &Acting,
        jid: &Jid,
        follow: bool,
    ) -> Result<(), SimError> {
        let channel = self.channel_mut(jid)?;
        if follow {
            channel.followers.insert(acting.phone.clone());
        } else {
            channel.followers.remove(&acting.phone);
            channel.muted.remove(&acting.phone);
        }
        Ok(())
    }

    /// Mutes or unmutes a channel this account follows.
    pub(crate) fn mute_channel(
        &mut self,
        acting: &Acting,
        jid: &Jid,
        mute: bool,
    ) -> Result<(), SimError> {
        let channel = self.channel_mut(jid)?;
        if !channel.followers.contains(&acting.phone) {
            return Err(SimError::Invalid(format!("{jid} is not followed")));
        }
        if mute {
            channel.muted.insert(acting.phone.clone());
        } else {
            channel.muted.remove(&acting.phone);
        }
        Ok(())
    }
}

fn info_of(c: &Channel) -> ChannelInfo {
    ChannelInfo {
        jid: known_jid(&c.jid),
        name: c.name.clone(),
        description: c.description.clone(),
        invite: Some(c.invite.clone()),
        subscribers: Some(u64::try_from(c.followers.len()).unwrap_or(u64::MAX)),
    }
}
