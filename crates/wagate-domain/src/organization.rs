//! Organizations: the tenant every resource belongs to.

use crate::OrgId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub created_at: i64,
}
