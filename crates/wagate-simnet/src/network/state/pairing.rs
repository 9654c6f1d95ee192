//! Pairing transitions: QR codes shown and expired, scans, entered codes, and the link that
//! turns a pairing connection into a linked, connected device.

use std::time::Duration;

use wagate_domain::{EngineEvent, LinkedAccount};

use super::{ConnectionId, Device, DeviceCredential, NetworkEvent, Phase, State, engine};
use crate::codes;
use crate::{LOG_LABEL, SimError};

impl State {
    /// Shows a new QR code on a pairing connection; `false` when it is no longer pairing.
    pub(in crate::network) fn offer_qr(
        &mut self,
        session: &str,
        id: ConnectionId,
        code: String,
        valid_for: Duration,
    ) -> bool {
        let Some(connection) = self.live(session, id) else {
            return false;
        };
        let Phase::ScanQr { current, expired } = &mut connection.phase else {
            return false;
        };
        if let Some(old) = current.replace(code.clone()) {
            expired.push(old);
        }
        self.send(session, id, engine(EngineEvent::Qr { code, valid_for }))
    }

    /// Ends a pairing attempt that is still waiting with `QrTimeout`.
    pub(in crate::network) fn expire_pairing(&mut self, session: &str, id: ConnectionId) {
        let waiting = self
            .live(session, id)
            .is_some_and(|c| !matches!(c.phase, Phase::Online { .. }));
        if waiting {
            tracing::info!(session, "{LOG_LABEL}: pairing timed out");
            self.end(session, Some(EngineEvent::QrTimeout));
        }
    }

    pub(in crate::network) fn scan(&mut self, phone: &str, qr: &str) -> Result<(), SimError> {
        self.require_phone(phone)?;
        if qr.is_empty() {
            return Err(SimError::Invalid("qr must not be empty".to_owned()));
        }
        let mut stale = false;
        let mut target = None;
        for (session, c) in &self.connections {
            if c.tx.is_closed() {
                continue;
            }
            if let Phase::ScanQr { current, expired } = &c.phase {
                if current.as_deref() == Some(qr) {
                    target = Some(session.clone());
                    break;
                }
                stale |= expired.iter().any(|old| old == qr);
            }
        }
        match target {
            Some(session) => self.link(&session, phone),
            None if stale => Err(SimError::Invalid("this QR code has expired".to_owned())),
            None => Err(SimError::Invalid("unknown QR code".to_owned())),
        }
    }

    pub(in crate::network) fn enter_code(
        &mut self,
        phone: &str,
        code: &str,
    ) -> Result<(), SimError> {
        self.require_phone(phone)?;
        let target = self.connections.iter().find_map(|(session, c)| {
            let matches = !c.tx.is_closed()
                && matches!(&c.phase, Phase::EnterCode { phone: p, code: k } if p == phone && k == code);
            matches.then(|| session.clone())
        });
        match target {
            Some(session) => self.link(&session, phone),
            None => Err(SimError::Invalid(format!(
                "no pending pairing code {code} for {phone}"
            ))),
        }
    }

    /// Links a new device of `phone` for the pairing connection of `session`.
    fn link(&mut self, session: &str, phone: &str) -> Result<(), SimError> {
        let Some(p) = self.phones.get_mut(phone) else {
            return Err(SimError::NotFound(format!("no simulated phone {phone}")));
        };
        let Some(connection) = self.connections.get_mut(session) else {
            return Err(SimError::NotFound(format!("session {session} is gone")));
        };
        p.last_device += 1;
        let jid = format!("{phone}:{}@s.whatsapp.net", p.last_device);
        let account = LinkedAccount {
            jid: jid.clone(),
            lid: Some(p.lid.clone()),
            phone: Some(phone.to_owned()),
            platform: Some("android".to_owned()),
            business_name: None,
        };
        let credential = DeviceCredential {
            device_id: codes::device_id(),
            token: codes::device_token(),
        };
        self.next_device_seq += 1;
        let device = Device {
            token: credential.token.clone(),
            phone: phone.to_owned(),
            jid: jid.clone(),
            session: session.to_owned(),
            seq: self.next_device_seq,
        };
        self.devices.insert(credential.device_id.clone(), device);
        if let Some(timer) = connection.timer.take() {
            timer.abort();
        }
        connection.phase = Phase::Online {
            device: credential.device_id.clone(),
        };
        let id = connection.id;
        tracing::info!(session, jid, "{LOG_LABEL}: device linked");
        let linked = NetworkEvent::Linked {
            account,
            credential,
        };
        if self.send(session, id, linked) && self.send(session, id, engine(EngineEvent::Connected))
        {
            self.sync_new_device(session, phone);
        }
        Ok(())
    }

    /// A pairing code not pending for `phone` already.
    pub(in crate::network) fn unused_pairing_code(&self, phone: &str) -> String {
        loop {
            let code = codes::pairing_code();
            let taken = self.connections.values().any(|c| {
                matches!(&c.phase, Phase::EnterCode { phone: p, code: k } if p == phone && *k == code)
            });
            if !taken {
                return code;
            }
        }
    }
}
