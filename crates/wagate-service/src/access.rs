//! The checks every operation runs, in the contract's order (api.md §1.4–1.5): an active
//! organization, then the resource (404), then the capability (403).

use wagate_domain::{Capability, OrgId, Principal};

use crate::{ServiceError, ServiceResult};

/// The organization the caller acts in, or `401 authentication required`.
pub fn organization(principal: &Principal) -> ServiceResult<&OrgId> {
    principal
        .organization
        .as_ref()
        .ok_or(ServiceError::Unauthorized("authentication required"))
}

/// `403 missing required capability: <cap>` unless the caller holds `cap`.
pub fn require(principal: &Principal, cap: Capability) -> ServiceResult<()> {
    if principal.capabilities.contains(cap) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "missing required capability: {cap}"
        )))
    }
}
