//! First run (D2): an empty store gets organization `default` and one key with every
//! permission, so the first call needs nothing else.

use wagate_domain::{CapabilitySet, Organization};

use crate::{ApiKeyService, CreateApiKey, CreatedApiKey, OrganizationService, ServiceResult};

/// What the first run created.
pub struct Bootstrap {
    pub organization: Organization,
    pub key: CreatedApiKey,
}

/// Creates `default` and its all-permission key when the store has no organization at all.
pub async fn bootstrap_if_empty(
    orgs: &OrganizationService,
    keys: &ApiKeyService,
    store: &dyn wagate_domain::Store,
) -> ServiceResult<Option<Bootstrap>> {
    if store.count_organizations().await? > 0 {
        return Ok(None);
    }
    let organization = orgs.create("default").await?;
    let key = keys
        .create_in(
            &organization.id,
            CreateApiKey {
                name: Some("bootstrap".into()),
                permissions: CapabilitySet::ALL,
                sessions: None,
                expires_at: None,
            },
        )
        .await?;
    Ok(Some(Bootstrap { organization, key }))
}
