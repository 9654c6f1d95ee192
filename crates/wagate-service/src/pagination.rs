//! Page sizes and opaque cursors (api.md §1.7).

/// A request for one page: `limit` already clamped, `cursor` still opaque.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    /// Missing or `0` → 50; below 1 → 1; above 200 → 200.
    pub fn new(limit: Option<i64>, cursor: Option<String>) -> Self {
        let limit = match limit {
            None | Some(0) => Self::DEFAULT_LIMIT,
            Some(n) => n.clamp(1, i64::from(Self::MAX_LIMIT)) as u32,
        };
        Self { limit, cursor }
    }
}

/// One page; `next_cursor` is present only when the page came back full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn new(data: Vec<T>, limit: u32, cursor_of_last: impl FnOnce(&T) -> String) -> Self {
        let next_cursor = if data.len() == limit as usize {
            data.last().map(cursor_of_last)
        } else {
            None
        };
        Self { data, next_cursor }
    }
}

/// A cursor that is the decimal row id of a page's last item (api.md §1.7); anything else is
/// `400 invalid cursor`.
pub fn parse_numeric_cursor(c: &str) -> crate::ServiceResult<i64> {
    let digits = !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| c.parse().ok())
        .flatten()
        .ok_or_else(|| crate::ServiceError::validation("invalid cursor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_cursors_are_decimal_ids() {
        assert_eq!(parse_numeric_cursor("42").unwrap(), 42);
        for bad in ["", "x", "-1", "+1", " 1", "1.5", "99999999999999999999"] {
            assert!(parse_numeric_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limit_follows_the_contract() {
        assert_eq!(PageRequest::new(None, None).limit, 50);
        assert_eq!(PageRequest::new(Some(0), None).limit, 50);
        assert_eq!(PageRequest::new(Some(-5), None).limit, 1);
        assert_eq!(PageRequest::new(Some(201), None).limit, 200);
        assert_eq!(PageRequest::new(Some(7), None).limit, 7);
    }

    #[test]
    fn next_cursor_only_on_full_pages() {
        let full = Page::new(vec![1, 2], 2, |n| n.to_string());
        assert_eq!(full.next_cursor.as_deref(), Some("2"));
        let short = Page::new(vec![1], 2, |n| n.to_string());
        assert_eq!(short.next_cursor, None);
    }
}
