//! How fast the simulated network moves. The defaults are WhatsApp's; tests shrink them.

use std::time::Duration;

/// Timings of the simulated network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimTimings {
    /// How long the first QR code of a pairing attempt is valid (WhatsApp: 60 s).
    pub first_qr: Duration,
    /// How long each following QR code is valid (WhatsApp: 20 s).
    pub next_qr: Duration,
    /// How many QR codes a pairing attempt shows before it ends with `QrTimeout` (WhatsApp: 6).
    pub qr_codes: u32,
    /// How long opening a connection takes before the network answers.
    pub connect_delay: Duration,
}

impl SimTimings {
    /// How long a pairing attempt lasts in total: every QR code's validity added up. A
    /// phone-number pairing code expires after the same time.
    pub fn pairing_window(&self) -> Duration {
        match self.qr_codes {
            0 => Duration::ZERO,
            n => self.first_qr + self.next_qr * (n - 1),
        }
    }
}

impl Default for SimTimings {
    fn default() -> Self {
        Self {
            first_qr: Duration::from_secs(60),
            next_qr: Duration::from_secs(20),
            qr_codes: 6,
            connect_delay: Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pairing_window_is_whatsapps_160_seconds() {
        assert_eq!(
            SimTimings::default().pairing_window(),
            Duration::from_secs(160)
        );
    }
}
