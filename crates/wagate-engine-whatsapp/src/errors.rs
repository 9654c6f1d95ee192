//! The one mapping from whatsapp-rust failures of live operations to [`EngineError`]
//! (decisions.md D3): not allowed → `Forbidden`, malformed or unknown target → `Rejected`,
//! timeout or disconnect → `Unavailable`.

use std::error::Error as StdError;

use wagate_domain::EngineError;
use whatsapp_rust::ErrorChainExt;
use whatsapp_rust::features::{ContactError, GroupError, NewsletterError, PollError};
use whatsapp_rust::{ClientError, SendError};

/// Classifies a crate error by walking its whole source chain.
pub(crate) fn engine_error(error: &(dyn StdError + 'static)) -> EngineError {
    let text = error.to_string();
    if error.is_timeout() || error.is_transport_unavailable() || not_logged_in(error) {
        return EngineError::Unavailable(text);
    }
    if let Some(rejection) = error.server_rejection() {
        return by_status(rejection.code, text);
    }
    if let Some(status) = error.http_status() {
        return by_status(status, text);
    }
    if invalid_request(error) {
        return EngineError::Rejected(text);
    }
    EngineError::Other(text)
}

/// For the crate's `anyhow` results (upload, download, receipts).
pub(crate) fn from_anyhow(error: &whatsapp_rust::anyhow::Error) -> EngineError {
    let inner: &(dyn StdError + Send + Sync + 'static) = error.as_ref();
    engine_error(inner)
}

/// A WhatsApp (IQ or media host) status code. 401/403 are permission refusals (not an admin,
/// not allowed to see), 404/410 an unknown target or expired media, 408/429/5xx a network
/// that could not serve now; any other 4xx refuses the input.
fn by_status(code: u16, text: String) -> EngineError {
    match code {
        401 | 403 => EngineError::Forbidden(text),
        404 | 410 => EngineError::NotFound(text),
        408 | 429 | 500.. => EngineError::Unavailable(text),
        _ => EngineError::Rejected(text),
    }
}

fn not_logged_in(error: &(dyn StdError + 'static)) -> bool {
    ErrorChainExt::sources(error).any(|cause| {
        matches!(cause.downcast_ref(), Some(SendError::NotLoggedIn))
            || matches!(
                cause.downcast_ref(),
                Some(ClientError::NotLoggedIn | ClientError::NotConnected)
            )
            || matches!(cause.downcast_ref(), Some(PollError::NotLoggedIn))
    })
}

/// The crate's own validation refused the arguments (bad JID for the operation, bad invite
/// code, invalid poll…).
fn invalid_request(error: &(dyn StdError + 'static)) -> bool {
    ErrorChainExt::sources(error).any(|cause| {
        matches!(cause.downcast_ref(), Some(SendError::InvalidRequest(_)))
            || matches!(
                cause.downcast_ref(),
                Some(GroupError::InvalidRequest(_) | GroupError::DescriptionConflict)
            )
            || matches!(
                cause.downcast_ref(),
                Some(NewsletterError::InvalidRequest(_))
            )
            || matches!(cause.downcast_ref(), Some(ContactError::InvalidJid(_)))
            || matches!(cause.downcast_ref(), Some(PollError::InvalidPoll(_)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::IqError;

    fn server(code: u16) -> IqError {
        IqError::ServerError {
            code,
            text: "x".into(),
            error_type: None,
            backoff: None,
        }
    }

    #[test]
    fn not_an_admin_is_forbidden() {
        let error = GroupError::Iq(server(403));
        assert!(matches!(engine_error(&error), EngineError::Forbidden(_)));
        assert!(matches!(
            engine_error(&SendError::Iq(server(401))),
            EngineError::Forbidden(_)
        ));
    }

    #[test]
    fn unknown_targets_are_not_found_and_bad_input_is_rejected() {
        assert!(matches!(
            engine_error(&GroupError::Iq(server(404))),
            EngineError::NotFound(_)
        ));
        assert!(matches!(
            engine_error(&GroupError::Iq(server(406))),
            EngineError::Rejected(_)
        ));
        assert!(matches!(
            engine_error(&SendError::InvalidRequest("bad jid".into())),
            EngineError::Rejected(reason) if reason.contains("bad jid")
        ));
        assert!(matches!(
            engine_error(&ContactError::InvalidJid("g.us".into())),
            EngineError::Rejected(_)
        ));
        assert!(matches!(
            engine_error(&GroupError::InvalidRequest("empty invite code".into())),
            EngineError::Rejected(_)
        ));
    }

    #[test]
    fn timeouts_and_disconnects_are_unavailable() {
        for error in [IqError::Timeout, IqError::NotConnected, server(503)] {
            assert!(
                matches!(
                    engine_error(&GroupError::Iq(error)),
                    EngineError::Unavailable(_)
                ),
                "unavailable expected"
            );
        }
        assert!(matches!(
            engine_error(&SendError::NotLoggedIn),
            EngineError::Unavailable(_)
        ));
        assert!(matches!(
            engine_error(&NewsletterError::Client(ClientError::NotConnected)),
            EngineError::Unavailable(_)
        ));
    }

    #[test]
    fn anyhow_wrapped_errors_keep_their_class() {
        let wrapped = whatsapp_rust::anyhow::Error::new(server(404));
        assert!(matches!(from_anyhow(&wrapped), EngineError::NotFound(_)));
        let opaque = whatsapp_rust::anyhow::anyhow!("boom");
        assert!(matches!(from_anyhow(&opaque), EngineError::Other(t) if t == "boom"));
    }
}
