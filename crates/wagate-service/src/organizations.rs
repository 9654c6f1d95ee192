//! Organizations, as the CLI manages them (`wagate orgs create|list`).

use std::sync::Arc;

use wagate_domain::{Clock, OrgId, Organization, Store};

use crate::{ServiceError, ServiceResult};

pub struct OrganizationService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl OrganizationService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Creates `org_<ULID>` named `name`; names are unique among organizations wagate creates.
    pub async fn create(&self, name: &str) -> ServiceResult<Organization> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 255 {
            return Err(ServiceError::validation(
                "organization name must be 1 to 255 characters",
            ));
        }
        if self.store.find_organization(name).await?.is_some() {
            return Err(ServiceError::Conflict(format!(
                "an organization named {name:?} already exists"
            )));
        }
        let org = Organization {
            id: OrgId::generate(),
            name: name.to_owned(),
            created_at: self.clock.now_ms(),
        };
        self.store.insert_organization(&org).await?;
        Ok(org)
    }

    pub async fn list(&self) -> ServiceResult<Vec<Organization>> {
        Ok(self.store.list_organizations().await?)
    }

    /// Finds an organization by id or name, or `404`.
    pub async fn resolve(&self, id_or_name: &str) -> ServiceResult<Organization> {
        self.store
            .find_organization(id_or_name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("organization {id_or_name:?} not found")))
    }
}
