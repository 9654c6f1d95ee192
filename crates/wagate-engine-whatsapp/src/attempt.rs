//! The rules of one engine connection, free of I/O: which crate signals become [`EngineEvent`]s
//! for the way the connection was opened, and what ends it.
//!
//! The port (wagate-domain `engine.rs`) makes a connection one attempt: the session manager
//! owns reconnects, so the stream ends after `Disconnected`, `Fatal` or `QrTimeout`. The one
//! reconnect kept inside an attempt is the restart WhatsApp demands right after pairing (stream
//! error 515): from the manager's view pairing and the first login are one step.

use std::time::Duration;

use wagate_domain::{EngineEvent, FatalReason, OpenMode};

use crate::mapping::{Signal, TransportOutcome, unreachable_reason};

/// What a connection was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Resume,
    PairQr,
    PairCode,
}

impl From<&OpenMode> for Purpose {
    fn from(mode: &OpenMode) -> Self {
        match mode {
            OpenMode::Resume => Self::Resume,
            OpenMode::PairQr => Self::PairQr,
            OpenMode::PairCode { .. } => Self::PairCode,
        }
    }
}

/// What to do about one signal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reaction {
    Nothing,
    /// Pass this event on; the connection goes on.
    Report(EngineEvent),
    /// A phone-number code was issued: pairing must succeed within this time.
    ArmCodeDeadline(Duration),
    /// The connection is over: stop the client, then report this event last.
    Finish(EngineEvent),
}

/// What to do when the crate's run loop returned on its own (no terminal signal before it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RunEnd {
    /// Start the run loop again at once (the restart after pairing).
    Restart,
    /// Report this event last and end.
    Finish(EngineEvent),
}

/// The state of one connection.
#[derive(Debug)]
pub(crate) struct Attempt {
    purpose: Purpose,
    /// WhatsApp answered at least once (a QR reference, a code, a pairing, a login).
    reached: bool,
    connected: bool,
    paired: bool,
    restart_pending: bool,
    code_issued: bool,
}

impl Attempt {
    pub(crate) fn new(purpose: Purpose) -> Self {
        Self {
            purpose,
            reached: false,
            connected: false,
            paired: false,
            restart_pending: false,
            code_issued: false,
        }
    }

    pub(crate) fn on_signal(&mut self, signal: Signal) -> Reaction {
        match signal {
            Signal::Qr { code, valid_for } => {
                self.reached = true;
                match self.purpose {
                    Purpose::PairQr => Reaction::Report(EngineEvent::Qr { code, valid_for }),
                    // The crate rotates QR codes next to a phone-number code; the caller shows
                    // the code it asked for.
                    Purpose::PairCode => Reaction::Nothing,
                    // WhatsApp offering to pair a device we hold keys for: it no longer knows it.
                    Purpose::Resume => Reaction::Finish(EngineEvent::Fatal(FatalReason::LoggedOut)),
                }
            }
            Signal::QrExhausted { socket_closed } => {
                // With a phone-number code outstanding the crate keeps the socket: that code
                // stays valid past the QR budget, and its own deadline ends the attempt.
                if self.paired || (self.purpose == Purpose::PairCode && !socket_closed) {
                    Reaction::Nothing
                } else {
                    Reaction::Finish(EngineEvent::QrTimeout)
                }
            }
            Signal::Paired(account) => {
                self.reached = true;
                self.paired = true;
                self.restart_pending = true;
                Reaction::Report(EngineEvent::Paired(account))
            }
            Signal::PairFailed(_) => Reaction::Finish(EngineEvent::Fatal(FatalReason::Refused)),
            Signal::PairCodeIssued { valid_for } => {
                self.reached = true;
                if self.purpose == Purpose::PairCode {
                    self.code_issued = true;
                    Reaction::ArmCodeDeadline(valid_for)
                } else {
                    Reaction::Nothing
                }
            }
            // Before the code is issued, `open` answers the failure itself.
            Signal::PairCodeFailed(_) if self.code_issued && !self.paired => {
                Reaction::Finish(EngineEvent::Fatal(FatalReason::Refused))
            }
            Signal::PairCodeExpired if self.code_issued && !self.paired => {
                Reaction::Finish(EngineEvent::QrTimeout)
            }
            Signal::PairCodeFailed(_) | Signal::PairCodeExpired => Reaction::Nothing,
            Signal::Connected => {
                self.reached = true;
                self.restart_pending = false;
                if self.connected {
                    Reaction::Nothing
                } else {
                    self.connected = true;
                    Reaction::Report(EngineEvent::Connected)
                }
            }
            Signal::Dropped(reason) => Reaction::Finish(EngineEvent::Disconnected { reason }),
            Signal::Fatal(reason) => Reaction::Finish(EngineEvent::Fatal(reason)),
        }
    }

    /// The phone-number code's validity ran out.
    pub(crate) fn on_code_deadline(&mut self) -> Reaction {
        if self.paired {
            Reaction::Nothing
        } else {
            Reaction::Finish(EngineEvent::QrTimeout)
        }
    }

    /// The crate's run loop returned without a terminal signal (auto-reconnect is off, so it
    /// returns after each connection). `transport` says what became of the websocket.
    pub(crate) fn on_run_ended(&mut self, transport: &TransportOutcome) -> RunEnd {
        if self.restart_pending {
            self.restart_pending = false;
            return RunEnd::Restart;
        }
        let reason = if self.reached {
            "connection closed by WhatsApp".to_owned()
        } else {
            unreachable_reason(transport)
        };
        RunEnd::Finish(EngineEvent::Disconnected { reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_domain::LinkedAccount;

    fn qr() -> Signal {
        Signal::Qr {
            code: "2@ref,keys".into(),
            valid_for: Duration::from_secs(60),
        }
    }

    fn account() -> LinkedAccount {
        LinkedAccount {
            jid: "15551234567:7@s.whatsapp.net".into(),
            ..LinkedAccount::default()
        }
    }

    #[test]
    fn qr_pairing_reports_codes_then_pairs_restarts_and_connects() {
        let mut attempt = Attempt::new(Purpose::PairQr);
        assert_eq!(
            attempt.on_signal(qr()),
            Reaction::Report(EngineEvent::Qr {
                code: "2@ref,keys".into(),
                valid_for: Duration::from_secs(60)
            })
        );
        assert_eq!(
            attempt.on_signal(Signal::Paired(account())),
            Reaction::Report(EngineEvent::Paired(account()))
        );
        assert_eq!(
            attempt.on_run_ended(&TransportOutcome::Opened),
            RunEnd::Restart
        );
        assert_eq!(
            attempt.on_signal(Signal::Connected),
            Reaction::Report(EngineEvent::Connected)
        );
    }

    #[test]
    fn pairing_restarts_only_once() {
        let mut attempt = Attempt::new(Purpose::PairQr);
        attempt.on_signal(Signal::Paired(account()));
        assert_eq!(
            attempt.on_run_ended(&TransportOutcome::Opened),
            RunEnd::Restart
        );
        assert!(matches!(
            attempt.on_run_ended(&TransportOutcome::Opened),
            RunEnd::Finish(EngineEvent::Disconnected { .. })
        ));
    }

    #[test]
    fn exhausted_qr_codes_end_with_qr_timeout() {
        let mut attempt = Attempt::new(Purpose::PairQr);
        attempt.on_signal(qr());
        assert_eq!(
            attempt.on_signal(Signal::QrExhausted {
                socket_closed: true
            }),
            Reaction::Finish(EngineEvent::QrTimeout)
        );
    }

    #[test]
    fn pair_code_mode_hides_qr_codes_and_outlives_their_budget() {
        let mut attempt = Attempt::new(Purpose::PairCode);
        assert_eq!(
            attempt.on_signal(Signal::PairCodeIssued {
                valid_for: Duration::from_secs(180)
            }),
            Reaction::ArmCodeDeadline(Duration::from_secs(180))
        );
        assert_eq!(attempt.on_signal(qr()), Reaction::Nothing);
        assert_eq!(
            attempt.on_signal(Signal::QrExhausted {
                socket_closed: false
            }),
            Reaction::Nothing
        );
        assert_eq!(
            attempt.on_code_deadline(),
            Reaction::Finish(EngineEvent::QrTimeout)
        );
    }

    #[test]
    fn refreshed_pair_code_ends_the_attempt() {
        let mut attempt = Attempt::new(Purpose::PairCode);
        attempt.on_signal(Signal::PairCodeIssued {
            valid_for: Duration::from_secs(180),
        });
        assert_eq!(
            attempt.on_signal(Signal::PairCodeExpired),
            Reaction::Finish(EngineEvent::QrTimeout)
        );
    }

    #[test]
    fn pair_code_failure_before_issue_is_left_to_open() {
        let mut attempt = Attempt::new(Purpose::PairCode);
        assert_eq!(
            attempt.on_signal(Signal::PairCodeFailed("bad-request".into())),
            Reaction::Nothing
        );
    }

    #[test]
    fn pair_code_failure_after_issue_is_a_refusal() {
        let mut attempt = Attempt::new(Purpose::PairCode);
        attempt.on_signal(Signal::PairCodeIssued {
            valid_for: Duration::from_secs(180),
        });
        assert_eq!(
            attempt.on_signal(Signal::PairCodeFailed("not-acceptable".into())),
            Reaction::Finish(EngineEvent::Fatal(FatalReason::Refused))
        );
    }

    #[test]
    fn code_deadline_after_pairing_is_ignored() {
        let mut attempt = Attempt::new(Purpose::PairCode);
        attempt.on_signal(Signal::PairCodeIssued {
            valid_for: Duration::from_secs(180),
        });
        attempt.on_signal(Signal::Paired(account()));
        assert_eq!(attempt.on_code_deadline(), Reaction::Nothing);
    }

    #[test]
    fn failed_pair_handshake_is_a_refusal() {
        let mut attempt = Attempt::new(Purpose::PairQr);
        assert_eq!(
            attempt.on_signal(Signal::PairFailed("bad signature".into())),
            Reaction::Finish(EngineEvent::Fatal(FatalReason::Refused))
        );
    }

    #[test]
    fn resume_offered_a_qr_code_is_logged_out() {
        let mut attempt = Attempt::new(Purpose::Resume);
        assert_eq!(
            attempt.on_signal(qr()),
            Reaction::Finish(EngineEvent::Fatal(FatalReason::LoggedOut))
        );
    }

    #[test]
    fn dropped_connection_ends_with_its_reason() {
        let mut attempt = Attempt::new(Purpose::Resume);
        attempt.on_signal(Signal::Connected);
        assert_eq!(
            attempt.on_signal(Signal::Dropped("stream ended (EOF)".into())),
            Reaction::Finish(EngineEvent::Disconnected {
                reason: "stream ended (EOF)".into()
            })
        );
    }

    #[test]
    fn fatal_signal_ends_the_attempt() {
        let mut attempt = Attempt::new(Purpose::Resume);
        assert_eq!(
            attempt.on_signal(Signal::Fatal(FatalReason::Replaced)),
            Reaction::Finish(EngineEvent::Fatal(FatalReason::Replaced))
        );
    }

    #[test]
    fn connected_is_reported_once() {
        let mut attempt = Attempt::new(Purpose::Resume);
        assert_eq!(
            attempt.on_signal(Signal::Connected),
            Reaction::Report(EngineEvent::Connected)
        );
        assert_eq!(attempt.on_signal(Signal::Connected), Reaction::Nothing);
    }

    #[test]
    fn run_ending_before_whatsapp_answered_is_unreachable() {
        let mut attempt = Attempt::new(Purpose::Resume);
        let end = attempt.on_run_ended(&TransportOutcome::Failed(
            "WebSocket connect failed: Connection refused (os error 111)".into(),
        ));
        assert_eq!(
            end,
            RunEnd::Finish(EngineEvent::Disconnected {
                reason: "unreachable: WebSocket connect failed: Connection refused (os error 111)"
                    .into()
            })
        );
    }

    #[test]
    fn run_ending_after_login_is_a_plain_disconnect() {
        let mut attempt = Attempt::new(Purpose::Resume);
        attempt.on_signal(Signal::Connected);
        assert_eq!(
            attempt.on_run_ended(&TransportOutcome::Opened),
            RunEnd::Finish(EngineEvent::Disconnected {
                reason: "connection closed by WhatsApp".into()
            })
        );
    }
}
