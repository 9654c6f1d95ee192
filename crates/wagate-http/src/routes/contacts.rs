//! Contacts (api.md §7): the session's people from the store (list, one), and live lookups and
//! blocking through the session's engine client.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_domain::engine::{OnWhatsApp, ProfilePicture};
use wagate_domain::{Capability, Contact, Principal};
use wagate_service::PageRequest;
use wagate_service::messaging::{ContactFilter, ContactSource};

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::routes::ListBody;
use crate::state::AppState;

/// `Contact` (api.md §2.7): a person the session has encountered.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactBody {
    lid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    business_name: Option<String>,
    /// `dm` when the session has a DM chat with this person, else `group`.
    source: &'static str,
}

impl From<Contact> for ContactBody {
    fn from(c: Contact) -> Self {
        Self {
            source: if c.dm { "dm" } else { "group" },
            lid: c.identity.lid,
            phone_number: c.identity.phone_number,
            name: c.identity.name,
            business_name: c.identity.business_name,
        }
    }
}

/// `Identity` (api.md §2.7).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityBody {
    id: i64,
    lid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_jid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    business_name: Option<String>,
    first_seen_at: i64,
    updated_at: i64,
}

/// `ContactGroup` (api.md §2.7): a membership of the contact in one of the session's groups.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // group memberships are stored with the groups issue; until then `groups` is empty
pub struct ContactGroupBody {
    jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    role: String,
    last_seen: i64,
}

/// `ContactDetail` (api.md §2.7).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactDetailBody {
    identity: IdentityBody,
    /// A DM chat exists.
    dm: bool,
    groups: Vec<ContactGroupBody>,
}

impl From<Contact> for ContactDetailBody {
    fn from(c: Contact) -> Self {
        let i = c.identity;
        Self {
            identity: IdentityBody {
                id: i.id,
                lid: i.lid,
                phone_number: i.phone_number,
                phone_jid: i.phone_jid,
                name: i.name,
                business_name: i.business_name,
                first_seen_at: i.first_seen_at,
                updated_at: i.updated_at,
            },
            dm: c.dm,
            groups: Vec::new(),
        }
    }
}

/// `OnWhatsApp` (api.md §2.8).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnWhatsAppBody {
    query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    jid: Option<String>,
    #[serde(rename = "isOnWhatsApp")]
    is_on_whatsapp: bool,
}

impl From<OnWhatsApp> for OnWhatsAppBody {
    fn from(o: OnWhatsApp) -> Self {
        Self {
            query: o.query,
            jid: o.jid.map(|j| j.to_string()),
            is_on_whatsapp: o.is_on_whatsapp,
        }
    }
}

/// `ProfilePicture` (api.md §2.8): `{}` when hidden or unset.
#[derive(Serialize, ToSchema)]
pub struct ProfilePictureBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
}

impl From<ProfilePicture> for ProfilePictureBody {
    fn from(p: ProfilePicture) -> Self {
        Self {
            url: p.url,
            id: p.id,
        }
    }
}

/// `getContactAbout` answer: the status text, empty when unknown.
#[derive(Serialize, ToSchema)]
pub struct AboutBody {
    about: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContactSourceParam {
    Dm,
    Group,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListContactsQuery {
    /// `dm`: people with a DM chat; `group`: people seen in a group. Absent: either.
    #[param(inline)]
    source: Option<ContactSourceParam>,
    /// Group JID: only members of that group; `source` is then ignored.
    group: Option<String>,
    /// Case-insensitive substring of the name or the number.
    q: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
    /// `nextCursor` of the previous page (a decimal identity id).
    cursor: Option<String>,
}

/// The session's contacts, by identity id.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/contacts", operation_id = "listContacts",
    tag = "Contacts", params(("session" = String, Path), ListContactsQuery),
    responses((status = 200, body = ListBody<ContactBody>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(session): ApiPath<String>,
    ApiQuery(query): ApiQuery<ListContactsQuery>,
) -> ApiResult<Json<ListBody<ContactBody>>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    let filter = ContactFilter {
        source: query.source.map(|s| match s {
            ContactSourceParam::Dm => ContactSource::Dm,
            ContactSourceParam::Group => ContactSource::Group,
        }),
        group: query.group,
        q: query.q,
    };
    let page = PageRequest::new(query.limit, query.cursor);
    let page = state
        .services
        .messaging
        .list_contacts(&s, filter, page)
        .await?;
    Ok(Json(ListBody::page(
        page.data.into_iter().map(Into::into).collect(),
        page.next_cursor,
    )))
}

/// One contact by LID, with its DM flag and group memberships.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/contacts/{lid}", operation_id = "getContact",
    tag = "Contacts", params(("session" = String, Path), ("lid" = String, Path)),
    responses((status = 200, body = ContactDetailBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get_contact(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, lid)): ApiPath<(String, String)>,
) -> ApiResult<Json<ContactDetailBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    Ok(Json(
        state.services.messaging.get_contact(&s, &lid).await?.into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckContactQuery {
    /// Digits with country code, optionally with a leading `+`.
    phone: Option<String>,
}

/// Whether a phone number is on WhatsApp.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/contacts/check", operation_id = "checkContact",
    tag = "Contacts", params(("session" = String, Path), CheckContactQuery),
    responses((status = 200, body = OnWhatsAppBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn check_contact(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(session): ApiPath<String>,
    ApiQuery(query): ApiQuery<CheckContactQuery>,
) -> ApiResult<Json<OnWhatsAppBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    let found = state
        .services
        .messaging
        .check_contact(&s, query.phone.as_deref())
        .await?;
    Ok(Json(found.into()))
}

/// A user's, group's or channel's profile picture (`{}` when hidden or unset).
#[utoipa::path(get, path = "/api/v1/sessions/{session}/contacts/{jid}/picture",
    operation_id = "getContactPicture", tag = "Contacts",
    params(("session" = String, Path), ("jid" = String, Path)),
    responses((status = 200, body = ProfilePictureBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn get_contact_picture(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, jid)): ApiPath<(String, String)>,
) -> ApiResult<Json<ProfilePictureBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    let picture = state.services.messaging.contact_picture(&s, &jid).await?;
    Ok(Json(picture.into()))
}

/// A user's "about" text (empty when unknown).
#[utoipa::path(get, path = "/api/v1/sessions/{session}/contacts/{jid}/about",
    operation_id = "getContactAbout", tag = "Contacts",
    params(("session" = String, Path), ("jid" = String, Path)),
    responses((status = 200, body = AboutBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn get_contact_about(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, jid)): ApiPath<(String, String)>,
) -> ApiResult<Json<AboutBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    let about = state.services.messaging.contact_about(&s, &jid).await?;
    Ok(Json(AboutBody { about }))
}

/// Block or unblock after the access check: `send`, live, no body, `204`.
async fn set_blocked(
    state: &AppState,
    p: &Principal,
    (session, jid): (String, String),
    blocked: bool,
) -> ApiResult<StatusCode> {
    let s = state
        .services
        .sessions
        .access(p, &session, Capability::Send)
        .await?;
    state
        .services
        .messaging
        .set_blocked(&s, &jid, blocked)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Block a user: their messages stop reaching this account.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/contacts/{jid}/block",
    operation_id = "blockContact", tag = "Contacts",
    params(("session" = String, Path), ("jid" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn block_contact(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    set_blocked(&state, &p, path, true).await
}

/// Unblock a user.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/contacts/{jid}/unblock",
    operation_id = "unblockContact", tag = "Contacts",
    params(("session" = String, Path), ("jid" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn unblock_contact(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    set_blocked(&state, &p, path, false).await
}
