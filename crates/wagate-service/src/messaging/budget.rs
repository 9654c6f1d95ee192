//! The per-session send budget (api.md §1.11): two fixed windows, 60 s and 3600 s. A request
//! is admitted only if both have room; admission takes one unit from each; a refusal takes
//! nothing. Held by the node that runs the session (live actions are routed there, D1).

use std::collections::HashMap;
use std::sync::Mutex;

use wagate_domain::SessionId;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

#[derive(Default, Clone, Copy)]
struct Window {
    started: i64,
    used: i64,
}

impl Window {
    /// `None` when there is room; otherwise milliseconds until the window resets.
    fn wait(&mut self, now: i64, len: i64, limit: i32) -> Option<i64> {
        if limit <= 0 {
            return None;
        }
        if self.used == 0 || now >= self.started + len {
            *self = Window {
                started: now,
                used: 0,
            };
        }
        (self.used >= i64::from(limit)).then(|| self.started + len - now)
    }

    fn take(&mut self, limit: i32) {
        if limit > 0 {
            self.used += 1;
        }
    }
}

#[derive(Default)]
pub struct SendBudget {
    windows: Mutex<HashMap<SessionId, (Window, Window)>>,
}

impl SendBudget {
    /// Takes one unit, or answers the whole seconds to wait (the minute window first).
    pub fn admit(
        &self,
        session: &SessionId,
        per_min: i32,
        per_hour: i32,
        now: i64,
    ) -> Result<(), u64> {
        let Ok(mut all) = self.windows.lock() else {
            // Fail closed, like the reference's store failure.
            return Err(1);
        };
        let (minute, hour) = all.entry(session.clone()).or_default();
        let wait = minute
            .wait(now, MINUTE_MS, per_min)
            .or(hour.wait(now, HOUR_MS, per_hour));
        if let Some(ms) = wait {
            return Err(u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1));
        }
        minute.take(per_min);
        hour.take(per_hour);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_windows_must_have_room_and_refusals_cost_nothing() {
        let b = SendBudget::default();
        let s = SessionId::generate();
        for _ in 0..2 {
            assert!(b.admit(&s, 2, 3, 0).is_ok());
        }
        assert_eq!(b.admit(&s, 2, 3, 1_000), Err(59), "minute window full");
        // The minute resets; the hour has one unit left.
        assert!(b.admit(&s, 2, 3, 60_000).is_ok());
        assert_eq!(b.admit(&s, 2, 3, 60_001), Err(3540), "hour window full");
        // A limit of 0 disables its window.
        assert!(b.admit(&SessionId::generate(), 0, 0, 0).is_ok());
    }
}
