//! What this connection knows about polls: their options (votes carry only option hashes)
//! and secrets (votes are encrypted with the poll's secret). Filled from polls sent and seen;
//! bounded, oldest forgotten first. A restart forgets it, then the crate's stored secrets are
//! the fallback and options are unknown (votes are reported without option texts).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use whatsapp_rust::wacore::poll::compute_option_hash;

/// How many polls are remembered.
const CAPACITY: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownPoll {
    pub options: Vec<String>,
    pub secret: Option<Vec<u8>>,
    /// The author in the crate's text form (keys the vote encryption).
    pub creator: String,
}

#[derive(Debug, Default)]
pub(crate) struct PollBook {
    inner: Mutex<Book>,
}

#[derive(Debug, Default)]
struct Book {
    polls: HashMap<String, KnownPoll>,
    order: VecDeque<String>,
}

impl PollBook {
    pub(crate) fn remember(&self, id: &str, poll: KnownPoll) {
        let Ok(mut book) = self.inner.lock() else {
            return;
        };
        if book.polls.insert(id.to_owned(), poll).is_none() {
            book.order.push_back(id.to_owned());
        }
        while book.order.len() > CAPACITY {
            if let Some(oldest) = book.order.pop_front() {
                book.polls.remove(&oldest);
            }
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<KnownPoll> {
        self.inner.lock().ok()?.polls.get(id).cloned()
    }
}

/// The option texts whose hashes are in `hashes`, in the poll's order.
pub(crate) fn selected_options(options: &[String], hashes: &[Vec<u8>]) -> Vec<String> {
    options
        .iter()
        .filter(|name| {
            let hash = compute_option_hash(name);
            hashes.iter().any(|h| h.as_slice() == hash.as_slice())
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_resolve_to_option_texts() {
        let options = vec!["Rice".to_owned(), "Noodles".to_owned(), "Soup".to_owned()];
        let hashes = vec![
            compute_option_hash("Soup").to_vec(),
            compute_option_hash("Rice").to_vec(),
        ];
        assert_eq!(selected_options(&options, &hashes), ["Rice", "Soup"]);
        assert!(selected_options(&options, &[vec![0; 32]]).is_empty());
    }

    #[test]
    fn the_book_forgets_the_oldest_past_capacity() {
        let book = PollBook::default();
        let poll = KnownPoll {
            options: vec!["a".into()],
            secret: None,
            creator: "1@s.whatsapp.net".into(),
        };
        for n in 0..=CAPACITY {
            book.remember(&n.to_string(), poll.clone());
        }
        assert_eq!(book.get("0"), None);
        assert_eq!(book.get(&CAPACITY.to_string()), Some(poll));
    }
}
