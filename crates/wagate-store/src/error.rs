//! The one mapping from sqlx errors to [`StoreError`].

use wagate_domain::StoreError;

pub(crate) fn map(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        other => StoreError::Backend(Box::new(other)),
    }
}

pub(crate) fn migrate(err: sqlx::migrate::MigrateError) -> StoreError {
    StoreError::Backend(Box::new(err))
}
