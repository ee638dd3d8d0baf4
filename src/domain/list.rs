//! Paging through lists: every list is newest first, by offset (the Loops way) or by cursor
//! (the Stripe way). Ids sort by creation time, so a cursor is just an id.

use super::DomainError;

pub const MAX_LIMIT: u32 = 100;

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// Skip this many of the newest objects.
    Offset(u64),
    /// The objects older than this id (`starting_after`, V3 `cursor`).
    After(String),
    /// The objects newer than this id (`ending_before`).
    Before(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub start: PageStart,
    /// The parameter that gave [`PageStart::After`]'s id, which an error about it names
    /// (`starting_after`, V3's `cursor`, the dashboard's `after`).
    pub after_param: &'static str,
}

impl PageRequest {
    /// This page of a short list held in memory in its own order (a subscription's items, an
    /// invoice's lines), by the cursors over the ids `id` gives; and whether more follow.
    pub fn of_held<'a, T>(&self, items: &'a [T], id: impl Fn(&T) -> &str) -> (&'a [T], bool) {
        let position = |wanted: &str| items.iter().position(|i| id(i) == wanted);
        let limit = self.limit as usize;
        let (start, end) = match &self.start {
            PageStart::After(after) => {
                (position(after).map_or(items.len(), |p| p + 1), items.len())
            }
            PageStart::Before(before) => {
                let end = position(before).unwrap_or(0);
                (end.saturating_sub(limit), end)
            }
            PageStart::Offset(skip) => ((*skip as usize).min(items.len()), items.len()),
        };
        let window = &items[start..end];
        (&window[..window.len().min(limit)], window.len() > limit)
    }

    /// Builds a page request from list parameters, checking them; `default_limit` differs by
    /// surface (50 on `/api/*`, 10 on `/v1`).
    pub fn new(
        limit: Option<i64>,
        default_limit: u32,
        offset: Option<i64>,
        starting_after: Option<String>,
        ending_before: Option<String>,
    ) -> Result<PageRequest, DomainError> {
        let limit = match limit {
            None => default_limit,
            Some(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => n as u32,
            Some(_) => {
                return Err(DomainError::invalid(
                    "limit",
                    format!("must be between 1 and {MAX_LIMIT}"),
                ));
            }
        };
        let starting_after = starting_after.filter(|s| !s.is_empty());
        let ending_before = ending_before.filter(|s| !s.is_empty());
        let start = match (offset, starting_after, ending_before) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(DomainError::invalid(
                    "offset",
                    "cannot be combined with a cursor",
                ));
            }
            (_, Some(_), Some(_)) => {
                return Err(DomainError::invalid(
                    "ending_before",
                    "cannot be combined with starting_after (or cursor)",
                ));
            }
            (Some(n), None, None) if n < 0 => {
                return Err(DomainError::invalid("offset", "must be 0 or more"));
            }
            (Some(n), None, None) => PageStart::Offset(n as u64),
            (None, Some(after), None) => PageStart::After(after),
            (None, None, Some(before)) => PageStart::Before(before),
            (None, None, None) => PageStart::Offset(0),
        };
        Ok(PageRequest {
            limit,
            start,
            after_param: "starting_after",
        })
    }
}

impl PageRequest {
    /// The cursor, with the parameter it came in (`starting_after`, `ending_before`).
    pub fn cursor(&self) -> Option<(&str, &'static str)> {
        match &self.start {
            PageStart::After(id) => Some((id, self.after_param)),
            PageStart::Before(id) => Some((id, "ending_before")),
            PageStart::Offset(_) => None,
        }
    }

    /// Checks that the cursor names an object the caller can see, as Stripe does (a 400
    /// `resource_missing` naming the cursor's parameter); `get` looks the object up.
    pub async fn check_cursor<T, F>(&self, get: impl FnOnce(String) -> F) -> Result<(), DomainError>
    where
        F: std::future::Future<Output = Result<T, DomainError>>,
    {
        match self.cursor() {
            Some((id, param)) => get(id.to_string())
                .await
                .map(|_| ())
                .map_err(DomainError::as_reference(param)),
            None => Ok(()),
        }
    }
}

/// One page of a list, newest first.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Whether more objects follow in the direction of travel.
    pub has_more: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_more: self.has_more,
        }
    }
}

/// Bounds on `created` (`created[gte]=...`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CreatedRange {
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameters_are_checked() {
        assert_eq!(
            PageRequest::new(None, 50, None, None, None).unwrap().limit,
            50
        );
        assert!(PageRequest::new(Some(0), 50, None, None, None).is_err());
        assert!(PageRequest::new(Some(101), 50, None, None, None).is_err());
        assert!(PageRequest::new(None, 10, Some(-1), None, None).is_err());
        assert!(PageRequest::new(None, 10, None, Some("a".into()), Some("b".into())).is_err());
        assert!(PageRequest::new(None, 10, Some(3), Some("a".into()), None).is_err());
        assert_eq!(
            PageRequest::new(Some(5), 10, None, None, Some("x".into())).unwrap(),
            PageRequest {
                limit: 5,
                start: PageStart::Before("x".into()),
                after_param: "starting_after",
            }
        );
    }
}
