//! Groups (api.md §8): stored reads (`listGroups`, `getGroup`, `listGroupMembers`) and live
//! operations through the session's WhatsApp client.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_domain::engine::{GroupInfo, GroupSettings};
use wagate_domain::{Capability, Group, GroupMember, Principal, Session};
use wagate_service::MemberChange;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::ListBody;
use crate::state::AppState;

/// The session the caller may act on with `cap` (404 before 403, api.md §1.5).
async fn session(state: &AppState, p: &Principal, id: &str, cap: Capability) -> ApiResult<Session> {
    Ok(state.services.sessions.access(p, id, cap).await?)
}

/// `Group` (api.md §2.9), plus `leftAt` when this session left or was removed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupBody {
    id: i64,
    group_jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_jid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    participant_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_announce: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_locked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at_wa: Option<i64>,
    first_seen_at: i64,
    updated_at: i64,
    /// Epoch-ms at which this session left the group or was removed (wagate extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    left_at: Option<i64>,
}

impl From<Group> for GroupBody {
    fn from(g: Group) -> Self {
        Self {
            id: g.id,
            group_jid: g.jid,
            subject: g.subject,
            description: g.description,
            owner_jid: g.owner_jid,
            participant_count: g.participant_count,
            is_announce: g.is_announce,
            is_locked: g.is_locked,
            created_at_wa: g.created_at_wa,
            first_seen_at: g.first_seen_at,
            updated_at: g.updated_at,
            left_at: g.left_at,
        }
    }
}

/// `GroupInfo` (api.md §2.9): the live result of `createGroup`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoBody {
    group_jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_jid: Option<String>,
    /// Member count; omitted when 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    participants: Option<usize>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    is_announce: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    is_locked: bool,
}

impl From<GroupInfo> for GroupInfoBody {
    fn from(g: GroupInfo) -> Self {
        Self {
            group_jid: g.jid.to_string(),
            subject: g.subject,
            description: g.description,
            owner_jid: g.owner.map(|o| o.to_string()),
            participants: Some(g.participants.len()).filter(|n| *n > 0),
            is_announce: g.announce,
            is_locked: g.locked,
        }
    }
}

/// `GroupMember` (api.md §2.9).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberBody {
    id: i64,
    session_id: String,
    group_jid: String,
    lid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    /// `member`, `admin` or `superadmin`.
    role: &'static str,
    first_seen_at: i64,
    last_seen_at: i64,
}

impl From<GroupMember> for GroupMemberBody {
    fn from(m: GroupMember) -> Self {
        Self {
            id: m.id,
            session_id: m.session_id.to_string(),
            group_jid: m.group_jid,
            lid: m.lid,
            tag: m.tag,
            role: m.role.as_str(),
            first_seen_at: m.first_seen_at,
            last_seen_at: m.last_seen_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupBody {
    /// The group's subject (required).
    name: Option<String>,
    /// JIDs to add.
    participants: Option<Vec<String>>,
}

/// All optional; at least one required. Applied in this order.
/// A field that may be `null`: present (even as `null`) is `Some`, absent is `None` (through
/// `#[serde(default)]`).
fn present<'de, D>(d: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    <Option<String> as serde::Deserialize>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroupBody {
    subject: Option<String>,
    /// `""` or `null` clears the description; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    description: Option<Option<String>>,
    /// Only admins may send.
    announce: Option<bool>,
    /// Only admins may edit the group's info.
    locked: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantsBody {
    /// User JIDs.
    #[serde(default)]
    participants: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinGroupBody {
    /// The invite code, or the whole `https://chat.whatsapp.com/<code>` link.
    invite: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinedGroupBody {
    group_jid: String,
}

#[derive(Serialize, ToSchema)]
pub struct InviteBody {
    /// `https://chat.whatsapp.com/<code>`.
    invite: String,
}

/// Groups this session is or was in, by row id (no pagination).
#[utoipa::path(get, path = "/api/v1/sessions/{session}/groups", operation_id = "listGroups",
    tag = "Groups", params(("session" = String, Path)),
    responses((status = 200, body = ListBody<GroupBody>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_groups(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ListBody<GroupBody>>> {
    let s = session(&state, &p, &id, Capability::Read).await?;
    let groups = state.services.groups.list_groups(&s).await?;
    Ok(Json(ListBody::all(
        groups.into_iter().map(Into::into).collect(),
    )))
}

/// Creates a group with this account as its owner.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/groups", operation_id = "createGroup",
    tag = "Groups", params(("session" = String, Path)), request_body = CreateGroupBody,
    responses((status = 201, body = GroupInfoBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn create_group(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CreateGroupBody>,
) -> ApiResult<(StatusCode, Json<GroupInfoBody>)> {
    let s = session(&state, &p, &id, Capability::Send).await?;
    let participants = body.participants.unwrap_or_default();
    let info = state
        .services
        .groups
        .create_group(&s, body.name.as_deref(), &participants)
        .await?;
    Ok((StatusCode::CREATED, Json(info.into())))
}

/// A stored group this session is or was in.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/groups/{gid}", operation_id = "getGroup",
    tag = "Groups", params(("session" = String, Path), ("gid" = String, Path)),
    responses((status = 200, body = GroupBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get_group(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, gid)): ApiPath<(String, String)>,
) -> ApiResult<Json<GroupBody>> {
    let s = session(&state, &p, &id, Capability::Read).await?;
    Ok(Json(
        state.services.groups.get_group(&s, &gid).await?.into(),
    ))
}

/// Changes the subject, description and settings (admins only).
#[utoipa::path(patch, path = "/api/v1/sessions/{session}/groups/{gid}",
    operation_id = "updateGroup", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path)), request_body = UpdateGroupBody,
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn update_group(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, gid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UpdateGroupBody>,
) -> ApiResult<StatusCode> {
    let s = session(&state, &p, &id, Capability::Send).await?;
    let settings = GroupSettings {
        subject: body.subject,
        // api.md §8.4: an explicit null clears the description like "".
        description: body.description.map(Option::unwrap_or_default),
        announce: body.announce,
        locked: body.locked,
    };
    state
        .services
        .groups
        .update_group(&s, &gid, settings)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The group's invite link (admins only).
#[utoipa::path(get, path = "/api/v1/sessions/{session}/groups/{gid}/invite",
    operation_id = "getGroupInvite", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path)),
    responses((status = 200, body = InviteBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn get_group_invite(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, gid)): ApiPath<(String, String)>,
) -> ApiResult<Json<InviteBody>> {
    let s = session(&state, &p, &id, Capability::Read).await?;
    let invite = state.services.groups.invite(&s, &gid, false).await?;
    Ok(Json(InviteBody { invite }))
}

/// Resets the invite link; the old one stops working.
#[utoipa::path(delete, path = "/api/v1/sessions/{session}/groups/{gid}/invite",
    operation_id = "revokeGroupInvite", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path)),
    responses((status = 200, body = InviteBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn revoke_group_invite(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, gid)): ApiPath<(String, String)>,
) -> ApiResult<Json<InviteBody>> {
    let s = session(&state, &p, &id, Capability::Send).await?;
    let invite = state.services.groups.invite(&s, &gid, true).await?;
    Ok(Json(InviteBody { invite }))
}

/// The members this session observed, by row id; an unknown group has none.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/groups/{gid}/members",
    operation_id = "listGroupMembers", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path)),
    responses((status = 200, body = ListBody<GroupMemberBody>),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_group_members(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, gid)): ApiPath<(String, String)>,
) -> ApiResult<Json<ListBody<GroupMemberBody>>> {
    let s = session(&state, &p, &id, Capability::Read).await?;
    let members = state.services.groups.list_members(&s, &gid).await?;
    Ok(Json(ListBody::all(
        members.into_iter().map(Into::into).collect(),
    )))
}

/// Adds members (admins only).
#[utoipa::path(post, path = "/api/v1/sessions/{session}/groups/{gid}/members",
    operation_id = "addGroupMembers", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path)), request_body = ParticipantsBody,
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn add_group_members(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, gid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ParticipantsBody>,
) -> ApiResult<StatusCode> {
    let s = session(&state, &p, &id, Capability::Send).await?;
    state
        .services
        .groups
        .add_members(&s, &gid, &body.participants)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One member operation, answered `204`.
async fn member_op(
    state: &AppState,
    p: &Principal,
    (id, gid, jid): (String, String, String),
    change: MemberChange,
) -> ApiResult<StatusCode> {
    let s = session(state, p, &id, Capability::Send).await?;
    state
        .services
        .groups
        .change_member(&s, &gid, &jid, change)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member (admins only); removing an absent member changes nothing.
#[utoipa::path(delete, path = "/api/v1/sessions/{session}/groups/{gid}/members/{jid}",
    operation_id = "removeGroupMember", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path), ("jid" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn remove_group_member(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(path): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    member_op(&state, &p, path, MemberChange::Remove).await
}

/// Makes a member an admin (admins only).
#[utoipa::path(post, path = "/api/v1/sessions/{session}/groups/{gid}/members/{jid}/promote",
    operation_id = "promoteGroupMember", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path), ("jid" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn promote_group_member(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(path): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    member_op(&state, &p, path, MemberChange::Promote).await
}

/// Makes an admin a plain member (admins only).
#[utoipa::path(post, path = "/api/v1/sessions/{session}/groups/{gid}/members/{jid}/demote",
    operation_id = "demoteGroupMember", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path), ("jid" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn demote_group_member(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(path): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    member_op(&state, &p, path, MemberChange::Demote).await
}

/// Reserved: after the capability and session checks, always `501` whatever the body (D4).
/// The body (`participants`) is accepted and never read.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/groups/{gid}/members:approve",
    operation_id = "approveGroupMembers", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path)),
    request_body = Option<ParticipantsBody>,
    responses((status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope)))]
pub async fn approve_group_members(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, _gid)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let s = session(&state, &p, &id, Capability::Send).await?;
    state.services.groups.approve_members(&s)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Joins a group by invite code or link; answers the group's JID (also when already in it).
#[utoipa::path(post, path = "/api/v1/sessions/{session}/groups:join",
    operation_id = "joinGroup", tag = "Groups", params(("session" = String, Path)),
    request_body = JoinGroupBody,
    responses((status = 200, body = JoinedGroupBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn join_group(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<JoinGroupBody>,
) -> ApiResult<Json<JoinedGroupBody>> {
    let s = session(&state, &p, &id, Capability::Send).await?;
    let invite = body.invite.unwrap_or_default();
    let gid = state.services.groups.join(&s, &invite).await?;
    Ok(Json(JoinedGroupBody {
        group_jid: gid.to_string(),
    }))
}

/// Removes this account from the group; the stored group and history stay readable.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/groups/{gid}:leave",
    operation_id = "leaveGroup", tag = "Groups",
    params(("session" = String, Path), ("gid" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn leave_group(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, gid)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let s = session(&state, &p, &id, Capability::Send).await?;
    state.services.groups.leave(&s, &gid).await?;
    Ok(StatusCode::NO_CONTENT)
}
