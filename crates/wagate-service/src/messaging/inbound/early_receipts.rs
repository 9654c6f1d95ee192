//! Receipts that arrive before the message they name is stored. A sent message's delivery
//! receipt can reach the node while the send that produced it is still storing the row (the
//! network answers the send and sends the receipt at about the same time; the row is written
//! in the next group commit). Such a receipt is parked here and applied when the send has
//! stored its message ([`crate::InboundHandler::sent_stored`]).
//!
//! No receipt falls between the two: both sides decide under this structure's lock. A send
//! marks its message stored (after the commit) and takes what is parked for it; a receipt that
//! found no row parks only if its message is not marked, and is retried at once if it is —
//! the row was committed after the receipt looked.
//!
//! Bounded: a parked receipt is kept for [`PARK_AGE`] (one for a message this node never
//! stores — sent from the phone before this session existed, say — is dropped then), a mark
//! for [`MARK_AGE`] (far longer than a receipt takes from its lookup to this lock); at most
//! [`CAPACITY`] of each, the oldest dropped first.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use wagate_domain::SessionId;
use wagate_domain::engine::Receipt;

const PARK_AGE: Duration = Duration::from_secs(60);
const MARK_AGE: Duration = Duration::from_secs(10);
const CAPACITY: usize = 50_000;

type Key = (SessionId, String);

#[derive(Default)]
pub(super) struct EarlyReceipts {
    /// Per message, its receipts in arrival order (with their parking number), each naming
    /// that message alone.
    parked: HashMap<Key, Vec<(u64, Receipt)>>,
    /// Parking order, for expiry and the capacity bound; entries of taken receipts stay until
    /// they reach the front.
    parked_order: VecDeque<(Instant, u64, Key)>,
    /// Receipts in `parked`.
    parked_count: usize,
    next: u64,
    /// Messages a send stored recently.
    marks: HashSet<Key>,
    mark_order: VecDeque<(Instant, Key)>,
}

impl EarlyReceipts {
    /// For `ids` of `receipt` that named no stored message: parks the receipt for each id
    /// not marked stored, and answers the others, to be retried now.
    pub(super) fn park_unless_stored(
        &mut self,
        session: &SessionId,
        receipt: &Receipt,
        ids: &[String],
    ) -> Vec<String> {
        let now = Instant::now();
        self.expire(now);
        let mut retry = Vec::new();
        for id in ids {
            let key = (session.clone(), id.clone());
            if self.marks.contains(&key) {
                retry.push(id.clone());
                continue;
            }
            let single = Receipt {
                ids: vec![id.clone()],
                ..receipt.clone()
            };
            self.next += 1;
            self.parked
                .entry(key.clone())
                .or_default()
                .push((self.next, single));
            self.parked_order.push_back((now, self.next, key));
            self.parked_count += 1;
        }
        while self.parked_count > CAPACITY {
            self.drop_oldest_parked();
        }
        retry
    }

    /// Marks `id` stored and takes the receipts parked for it, in arrival order.
    pub(super) fn stored(&mut self, session: &SessionId, id: &str) -> Vec<Receipt> {
        let now = Instant::now();
        self.expire(now);
        let key = (session.clone(), id.to_owned());
        if self.marks.insert(key.clone()) {
            self.mark_order.push_back((now, key.clone()));
            if self.marks.len() > CAPACITY
                && let Some((_, oldest)) = self.mark_order.pop_front()
            {
                self.marks.remove(&oldest);
            }
        }
        let taken = self.parked.remove(&key).unwrap_or_default();
        self.parked_count -= taken.len();
        taken.into_iter().map(|(_, r)| r).collect()
    }

    /// Drops expired marks and receipts, and order entries of taken receipts, from the front.
    fn expire(&mut self, now: Instant) {
        while let Some((at, _)) = self.mark_order.front() {
            if now.duration_since(*at) < MARK_AGE {
                break;
            }
            if let Some((_, key)) = self.mark_order.pop_front() {
                self.marks.remove(&key);
            }
        }
        while let Some((at, number, key)) = self.parked_order.front() {
            let live = self
                .parked
                .get(key)
                .and_then(|receipts| receipts.first())
                .is_some_and(|(n, _)| n == number);
            if live && now.duration_since(*at) < PARK_AGE {
                return;
            }
            self.drop_oldest_parked();
        }
    }

    /// Drops the receipt at the front of the parking order, unless it was taken already.
    fn drop_oldest_parked(&mut self) {
        let Some((_, number, key)) = self.parked_order.pop_front() else {
            return;
        };
        if let Some(receipts) = self.parked.get_mut(&key)
            && receipts.first().is_some_and(|(n, _)| *n == number)
        {
            receipts.remove(0);
            self.parked_count -= 1;
            if receipts.is_empty() {
                self.parked.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_domain::Jid;
    use wagate_domain::engine::ReceiptKind;

    fn receipt(ids: &[&str], kind: ReceiptKind) -> Receipt {
        Receipt {
            chat: Jid::parse("628111@s.whatsapp.net").unwrap(),
            sender: Jid::parse("628111@s.whatsapp.net").unwrap(),
            ids: ids.iter().map(|id| (*id).to_owned()).collect(),
            kind,
            timestamp: 1,
        }
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    #[test]
    fn parked_receipts_are_taken_once_per_message_in_arrival_order() {
        let mut early = EarlyReceipts::default();
        let (s, other) = (SessionId::generate(), SessionId::generate());
        let delivered = receipt(&["A", "B"], ReceiptKind::Delivered);
        assert!(
            early
                .park_unless_stored(&s, &delivered, &ids(&["A", "B"]))
                .is_empty()
        );
        let read = receipt(&["A"], ReceiptKind::Read);
        assert!(early.park_unless_stored(&s, &read, &ids(&["A"])).is_empty());
        assert!(early.stored(&other, "A").is_empty(), "another session's");
        let a: Vec<_> = early
            .stored(&s, "A")
            .into_iter()
            .map(|r| (r.kind, r.ids))
            .collect();
        assert_eq!(
            a,
            [
                (ReceiptKind::Delivered, ids(&["A"])),
                (ReceiptKind::Read, ids(&["A"]))
            ]
        );
        assert!(early.stored(&s, "A").is_empty(), "taken once");
        assert_eq!(early.stored(&s, "B").len(), 1);
        assert_eq!(early.parked_count, 0);
    }

    #[test]
    fn a_receipt_for_a_message_marked_stored_is_retried_not_parked() {
        let mut early = EarlyReceipts::default();
        let s = SessionId::generate();
        assert!(early.stored(&s, "A").is_empty());
        let r = receipt(&["A", "B"], ReceiptKind::Delivered);
        assert_eq!(early.park_unless_stored(&s, &r, &ids(&["A", "B"])), ["A"]);
        assert_eq!(early.parked_count, 1, "only B waits");
    }

    #[test]
    fn the_oldest_are_dropped_beyond_the_capacity_and_the_age() {
        let mut early = EarlyReceipts::default();
        let s = SessionId::generate();
        let r = receipt(&["x"], ReceiptKind::Delivered);
        let many: Vec<String> = (0..=CAPACITY).map(|i| format!("M{i}")).collect();
        early.park_unless_stored(&s, &r, &many);
        assert_eq!(early.parked_count, CAPACITY);
        assert!(early.stored(&s, "M0").is_empty(), "the oldest went first");
        assert_eq!(early.stored(&s, "M1").len(), 1);
        // Age: pretend everything was parked and marked long ago.
        for (at, _, _) in &mut early.parked_order {
            *at -= PARK_AGE;
        }
        for (at, _) in &mut early.mark_order {
            *at -= MARK_AGE;
        }
        assert!(early.stored(&s, "M2").is_empty());
        assert_eq!(early.parked_count, 0);
        assert!(early.parked.is_empty());
        assert_eq!(early.marks.len(), 1, "only the mark just made");
    }
}
