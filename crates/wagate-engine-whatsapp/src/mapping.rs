//! Pure translations from whatsapp-rust's vocabulary to the engine port's: crate events to
//! [`Signal`]s, failure reasons to [`FatalReason`]s, JIDs to strings, connect and pair-code
//! failures to reasons and [`EngineError`]s. Every such mapping lives here, nowhere else.

use std::time::Duration;

use wagate_domain::{EngineError, EngineEvent, FatalReason, LinkedAccount};
use whatsapp_rust::pair_code::{PairCodeError, PairError};
use whatsapp_rust::types::events::{ConnectFailureReason, Event, EventKind, PairSuccess};
use whatsapp_rust::{IqError, Jid, Server};

/// What one crate event means for a connection, before the connection's [`OpenMode`] is
/// applied (that is [`crate::attempt::Attempt`]'s job).
///
/// [`OpenMode`]: wagate_domain::OpenMode
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signal {
    /// A QR code to show, valid for the time WhatsApp gave it.
    Qr { code: String, valid_for: Duration },
    /// No QR reference is left; `socket_closed` when the crate hung up because of it (it keeps
    /// the socket when a phone-number code is still outstanding).
    QrExhausted { socket_closed: bool },
    /// The phone accepted the link.
    Paired(LinkedAccount),
    /// The pairing handshake failed on our side after the phone answered.
    PairFailed(String),
    /// A phone-number linking code was issued, valid for this long.
    PairCodeIssued { valid_for: Duration },
    /// A phone-number linking code request or its follow-up was refused.
    PairCodeFailed(String),
    /// The outstanding phone-number code is no longer valid (WhatsApp asked for a new one, or
    /// the phone went quiet after reading it).
    PairCodeExpired,
    /// Logged in and ready.
    Connected,
    /// The connection dropped for a transient reason.
    Dropped(String),
    /// The connection ended for good.
    Fatal(FatalReason),
}

/// The crate event kinds [`classify`] understands; the bus only materializes these for us.
pub(crate) const EVENT_KINDS: &[EventKind] = &[
    EventKind::Connected,
    EventKind::Disconnected,
    EventKind::PairSuccess,
    EventKind::PairError,
    EventKind::LoggedOut,
    EventKind::PairingQrCode,
    EventKind::PairingQrCodesExhausted,
    EventKind::PairingCode,
    EventKind::PairingCodeRefresh,
    EventKind::PairingCodeError,
    EventKind::ClientOutdated,
    EventKind::StreamReplaced,
    EventKind::TemporaryBan,
    EventKind::ConnectFailure,
];

/// Translates one crate event; `None` for events that say nothing about the connection.
pub(crate) fn classify(event: &Event) -> Option<Signal> {
    let signal = match event {
        Event::PairingQrCode(qr) => Signal::Qr {
            code: qr.code.clone(),
            valid_for: qr.timeout,
        },
        Event::PairingQrCodesExhausted(exhausted) => Signal::QrExhausted {
            socket_closed: exhausted.disconnected,
        },
        Event::PairSuccess(success) => Signal::Paired(linked_account(success)),
        Event::PairError(failure) => Signal::PairFailed(failure.error.clone()),
        Event::PairingCode(code) => Signal::PairCodeIssued {
            valid_for: code.timeout,
        },
        Event::PairingCodeRefresh(_) => Signal::PairCodeExpired,
        Event::PairingCodeError(failure) => Signal::PairCodeFailed(failure.error.clone()),
        Event::Connected(_) => Signal::Connected,
        Event::Disconnected(dropped) => Signal::Dropped(dropped.reason.to_string()),
        Event::LoggedOut(logged_out) => Signal::Fatal(logged_out_reason(logged_out.reason)),
        Event::StreamReplaced(_) => Signal::Fatal(FatalReason::Replaced),
        Event::ClientOutdated(_) => Signal::Fatal(FatalReason::ClientOutdated),
        Event::TemporaryBan(_) => Signal::Fatal(FatalReason::TemporaryBan),
        Event::ConnectFailure(failure) => connect_failure(failure.reason),
        _ => return None,
    };
    Some(signal)
}

/// Why the crate reported a logout. 403 ("account locked"; whatsmeow's "main device gone") is
/// a refusal rather than an unlink: the port names it [`FatalReason::Refused`].
pub(crate) fn logged_out_reason(reason: ConnectFailureReason) -> FatalReason {
    match reason {
        ConnectFailureReason::AccountLocked => FatalReason::Refused,
        _ => FatalReason::LoggedOut,
    }
}

/// A `<failure>` stanza answering our login that the crate did not turn into a more specific
/// event. The crate retries only 500 and 503, so those are transient; everything else stops it.
pub(crate) fn connect_failure(reason: ConnectFailureReason) -> Signal {
    match reason {
        ConnectFailureReason::LoggedOut | ConnectFailureReason::UnknownLogout => {
            Signal::Fatal(FatalReason::LoggedOut)
        }
        ConnectFailureReason::AccountLocked => Signal::Fatal(FatalReason::Refused),
        ConnectFailureReason::TempBanned => Signal::Fatal(FatalReason::TemporaryBan),
        // A refused user agent is a refused client build, like an outdated version.
        ConnectFailureReason::ClientOutdated | ConnectFailureReason::BadUserAgent => {
            Signal::Fatal(FatalReason::ClientOutdated)
        }
        transient if transient.should_reconnect() => Signal::Dropped(format!(
            "WhatsApp refused the login for now (failure {})",
            transient.code()
        )),
        _ => Signal::Fatal(FatalReason::Refused),
    }
}

/// The account a pair-success names.
pub(crate) fn linked_account(success: &PairSuccess) -> LinkedAccount {
    LinkedAccount {
        jid: success.id.to_string(),
        lid: jid_string(&success.lid),
        phone: phone_digits(&success.id),
        platform: non_empty(&success.platform),
        business_name: non_empty(&success.business_name),
    }
}

/// A JID as WhatsApp writes it (`user[:device]@server`); `None` for the crate's empty JID.
pub(crate) fn jid_string(jid: &Jid) -> Option<String> {
    (!jid.user.is_empty()).then(|| jid.to_string())
}

/// The phone number digits of a phone-number JID (any device), `None` for other servers.
pub(crate) fn phone_digits(jid: &Jid) -> Option<String> {
    let user: &str = &jid.user;
    let is_number = !user.is_empty() && user.bytes().all(|b| b.is_ascii_digit());
    (jid.server == Server::Pn && is_number).then(|| user.to_owned())
}

fn non_empty(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_owned())
}

/// What became of the one transport (websocket) the crate opened for a connection attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum TransportOutcome {
    /// No websocket was dialled.
    #[default]
    NotDialled,
    /// Dialled, never answered: the crate gave up on it (its connect timeout is 20 s).
    Pending,
    /// Dialling failed with this error.
    Failed(String),
    /// The websocket opened.
    Opened,
}

/// The reason of the `Disconnected` that ends a connection which never logged in. The crate
/// emits no event for these (decisions.md D6), so the adapter derives them from the transport.
pub(crate) fn unreachable_reason(transport: &TransportOutcome) -> String {
    match transport {
        TransportOutcome::NotDialled => "unreachable: the connection could not be started".into(),
        TransportOutcome::Pending => "unreachable: WhatsApp did not answer in time".into(),
        TransportOutcome::Failed(error) => format!("unreachable: {error}"),
        TransportOutcome::Opened => {
            "unreachable: the connection closed before login (handshake or version check failed)"
                .into()
        }
    }
}

/// A failed phone-number code request, as the contract tells failures apart: WhatsApp (or the
/// crate's own validation) refusing the number is `Rejected`, no answer is `Unavailable`.
pub(crate) fn pair_code_error(error: &PairError) -> EngineError {
    match error {
        PairError::PairCode(
            PairCodeError::PhoneNumberRequired
            | PairCodeError::PhoneNumberTooShort
            | PairCodeError::PhoneNumberNotInternational
            | PairCodeError::InvalidCustomCode,
        ) => EngineError::Rejected(error.to_string()),
        PairError::RequestFailed(IqError::ServerError { code, .. }) if *code < 500 => {
            EngineError::Rejected(error.to_string())
        }
        PairError::RequestFailed(_) => EngineError::Unavailable(error.to_string()),
        _ => EngineError::Other(error.to_string()),
    }
}

/// Why a phone-number pairing could not ask for its code: the connection ended first, with
/// `last` as its final event.
pub(crate) fn ended_before_code(last: Option<&EngineEvent>) -> EngineError {
    match last {
        Some(EngineEvent::Disconnected { reason }) => EngineError::Unavailable(reason.clone()),
        Some(EngineEvent::Fatal(reason)) => EngineError::Rejected(format!(
            "WhatsApp refused the connection ({})",
            reason.as_str()
        )),
        _ => EngineError::Unavailable(
            "the connection ended before a pairing code could be requested".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::types::events::{
        ClientOutdated, ConnectFailure, Connected, Disconnected, LoggedOut, PairingCode,
        PairingCodeRefresh, PairingQrCode, PairingQrCodesExhausted, StreamReplaced,
    };
    use whatsapp_rust::wacore::net::DisconnectReason;

    fn jid(raw: &str) -> Jid {
        raw.parse().expect("test JID")
    }

    fn pair_success(id: &str, lid: &str, platform: &str, business_name: &str) -> PairSuccess {
        PairSuccess::builder()
            .id(jid(id))
            .lid(jid(lid))
            .platform(platform.to_owned())
            .business_name(business_name.to_owned())
            .build()
    }

    #[test]
    fn qr_code_keeps_the_timeout_whatsapp_gave_it() {
        let event = Event::PairingQrCode(
            PairingQrCode::builder()
                .code("2@abc,def".to_owned())
                .timeout(Duration::from_secs(60))
                .build(),
        );
        assert_eq!(
            classify(&event),
            Some(Signal::Qr {
                code: "2@abc,def".into(),
                valid_for: Duration::from_secs(60)
            })
        );
    }

    #[test]
    fn exhausted_qr_codes_say_whether_the_crate_hung_up() {
        let event = Event::PairingQrCodesExhausted(
            PairingQrCodesExhausted::builder()
                .disconnected(true)
                .build(),
        );
        assert_eq!(
            classify(&event),
            Some(Signal::QrExhausted {
                socket_closed: true
            })
        );
    }

    #[test]
    fn pair_success_names_the_device_jid_lid_and_phone() {
        let success = pair_success(
            "6281234567890:12@s.whatsapp.net",
            "205227043110953:12@lid",
            "android",
            "",
        );
        assert_eq!(
            linked_account(&success),
            LinkedAccount {
                jid: "6281234567890:12@s.whatsapp.net".into(),
                lid: Some("205227043110953:12@lid".into()),
                phone: Some("6281234567890".into()),
                platform: Some("android".into()),
                business_name: None,
            }
        );
    }

    #[test]
    fn pair_success_without_lid_has_no_lid() {
        let success = PairSuccess::builder()
            .id(jid("6281234567890:3@s.whatsapp.net"))
            .lid(Jid::default())
            .platform(String::new())
            .business_name("Toko Maju".to_owned())
            .build();
        let account = linked_account(&success);
        assert_eq!(account.lid, None);
        assert_eq!(account.platform, None);
        assert_eq!(account.business_name.as_deref(), Some("Toko Maju"));
    }

    #[test]
    fn pair_success_event_becomes_paired() {
        let event = Event::PairSuccess(pair_success(
            "15551234567:4@s.whatsapp.net",
            "99:4@lid",
            "web",
            "",
        ));
        assert!(
            matches!(classify(&event), Some(Signal::Paired(a)) if a.jid == "15551234567:4@s.whatsapp.net")
        );
    }

    #[test]
    fn phone_digits_only_come_from_phone_number_jids() {
        assert_eq!(
            phone_digits(&jid("15551234567@s.whatsapp.net")).as_deref(),
            Some("15551234567")
        );
        assert_eq!(phone_digits(&jid("205227043110953@lid")), None);
        assert_eq!(phone_digits(&jid("120363021234567890@g.us")), None);
        assert_eq!(phone_digits(&Jid::default()), None);
    }

    #[test]
    fn pair_code_issue_and_refresh_are_told_apart() {
        let issued = Event::PairingCode(
            PairingCode::builder()
                .code("ABCD1234".to_owned())
                .timeout(Duration::from_secs(180))
                .build(),
        );
        assert_eq!(
            classify(&issued),
            Some(Signal::PairCodeIssued {
                valid_for: Duration::from_secs(180)
            })
        );
        let refresh =
            Event::PairingCodeRefresh(PairingCodeRefresh::builder().force_manual(false).build());
        assert_eq!(classify(&refresh), Some(Signal::PairCodeExpired));
    }

    #[test]
    fn connected_and_disconnected_map_directly() {
        let connected = Event::Connected(Connected::builder().build());
        assert_eq!(classify(&connected), Some(Signal::Connected));
        let dropped = Event::Disconnected(
            Disconnected::builder()
                .reason(DisconnectReason::StreamEnded)
                .build(),
        );
        assert_eq!(
            classify(&dropped),
            Some(Signal::Dropped("stream ended (EOF)".into()))
        );
    }

    #[test]
    fn logged_out_event_is_fatal_logged_out() {
        let event = Event::LoggedOut(
            LoggedOut::builder()
                .on_connect(false)
                .reason(ConnectFailureReason::LoggedOut)
                .build(),
        );
        assert_eq!(
            classify(&event),
            Some(Signal::Fatal(FatalReason::LoggedOut))
        );
    }

    #[test]
    fn account_locked_logout_is_a_refusal() {
        assert_eq!(
            logged_out_reason(ConnectFailureReason::AccountLocked),
            FatalReason::Refused
        );
        assert_eq!(
            logged_out_reason(ConnectFailureReason::UnknownLogout),
            FatalReason::LoggedOut
        );
    }

    #[test]
    fn stream_replaced_is_fatal_replaced() {
        let event = Event::StreamReplaced(StreamReplaced::builder().build());
        assert_eq!(classify(&event), Some(Signal::Fatal(FatalReason::Replaced)));
    }

    #[test]
    fn client_outdated_is_fatal_client_outdated() {
        let event = Event::ClientOutdated(ClientOutdated::builder().build());
        assert_eq!(
            classify(&event),
            Some(Signal::Fatal(FatalReason::ClientOutdated))
        );
    }

    #[test]
    fn connect_failures_map_to_fatal_reasons() {
        let cases = [
            (ConnectFailureReason::LoggedOut, FatalReason::LoggedOut),
            (ConnectFailureReason::UnknownLogout, FatalReason::LoggedOut),
            (ConnectFailureReason::AccountLocked, FatalReason::Refused),
            (ConnectFailureReason::TempBanned, FatalReason::TemporaryBan),
            (
                ConnectFailureReason::ClientOutdated,
                FatalReason::ClientOutdated,
            ),
            (
                ConnectFailureReason::BadUserAgent,
                FatalReason::ClientOutdated,
            ),
            (ConnectFailureReason::Generic, FatalReason::Refused),
            (ConnectFailureReason::NotFound, FatalReason::Refused),
            (ConnectFailureReason::CatInvalid, FatalReason::Refused),
            (ConnectFailureReason::Unknown(499), FatalReason::Refused),
        ];
        for (reason, expected) in cases {
            assert_eq!(
                connect_failure(reason),
                Signal::Fatal(expected),
                "{reason:?}"
            );
        }
    }

    #[test]
    fn connect_failures_the_crate_retries_are_transient() {
        for reason in [
            ConnectFailureReason::ServiceUnavailable,
            ConnectFailureReason::InternalServerError,
        ] {
            assert!(
                matches!(connect_failure(reason), Signal::Dropped(_)),
                "{reason:?}"
            );
        }
        let event = Event::ConnectFailure(
            ConnectFailure::builder()
                .reason(ConnectFailureReason::ServiceUnavailable)
                .build(),
        );
        assert_eq!(
            classify(&event),
            Some(Signal::Dropped(
                "WhatsApp refused the login for now (failure 503)".into()
            ))
        );
    }

    #[test]
    fn unrelated_events_are_ignored() {
        let event = Event::OfflineSyncCompleted(
            whatsapp_rust::types::events::OfflineSyncCompleted::builder()
                .count(3)
                .build(),
        );
        assert_eq!(classify(&event), None);
    }

    #[test]
    fn unreachable_reasons_name_what_failed() {
        assert_eq!(
            unreachable_reason(&TransportOutcome::Failed(
                "WebSocket connect failed: connection refused".into()
            )),
            "unreachable: WebSocket connect failed: connection refused"
        );
        assert!(unreachable_reason(&TransportOutcome::Pending).starts_with("unreachable: "));
        assert!(unreachable_reason(&TransportOutcome::Opened).starts_with("unreachable: "));
        assert!(unreachable_reason(&TransportOutcome::NotDialled).starts_with("unreachable: "));
    }

    #[test]
    fn invalid_phone_numbers_are_rejected() {
        for error in [
            PairCodeError::PhoneNumberRequired,
            PairCodeError::PhoneNumberTooShort,
            PairCodeError::PhoneNumberNotInternational,
        ] {
            assert!(matches!(
                pair_code_error(&PairError::PairCode(error)),
                EngineError::Rejected(_)
            ));
        }
    }

    #[test]
    fn server_refusal_of_a_code_request_is_rejected() {
        let refused = PairError::RequestFailed(IqError::ServerError {
            code: 452,
            text: "feature-not-available".into(),
            error_type: None,
            backoff: None,
        });
        assert!(matches!(
            pair_code_error(&refused),
            EngineError::Rejected(_)
        ));
    }

    #[test]
    fn unanswered_code_request_is_unavailable() {
        for error in [IqError::Timeout, IqError::NotConnected] {
            assert!(matches!(
                pair_code_error(&PairError::RequestFailed(error)),
                EngineError::Unavailable(_)
            ));
        }
        let server_down = PairError::RequestFailed(IqError::ServerError {
            code: 500,
            text: "internal-server-error".into(),
            error_type: None,
            backoff: None,
        });
        assert!(matches!(
            pair_code_error(&server_down),
            EngineError::Unavailable(_)
        ));
    }

    #[test]
    fn connection_ending_before_the_code_request_explains_why() {
        let unreachable = EngineEvent::Disconnected {
            reason: "unreachable: WebSocket connect failed".into(),
        };
        assert!(matches!(
            ended_before_code(Some(&unreachable)),
            EngineError::Unavailable(reason) if reason == "unreachable: WebSocket connect failed"
        ));
        assert!(matches!(
            ended_before_code(Some(&EngineEvent::Fatal(FatalReason::ClientOutdated))),
            EngineError::Rejected(reason) if reason.contains("client_outdated")
        ));
        assert!(matches!(
            ended_before_code(None),
            EngineError::Unavailable(_)
        ));
    }
}
