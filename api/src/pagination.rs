//! Keyset pagination with opaque cursors: `?limit=` (default 50, at most 500) and `?cursor=`
//! from the previous page's `next_cursor`. Pages are ordered by id, so a page costs one index
//! range scan however deep the client goes.

use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<i64>,
}

impl PageRequest {
    /// Checks `limit` and decodes `cursor`, naming the parameter on error.
    pub fn new(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = cursor.map(decode_cursor).transpose()?;
        Ok(PageRequest { limit, after })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the extra row off and returns the page with its `next_cursor`.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        id_of: impl Fn(&T) -> i64,
    ) -> (Vec<T>, Option<String>) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        if rows.len() > limit {
            rows.truncate(limit);
            let next = rows.last().map(|r| encode_cursor(id_of(r)));
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("v1:").and_then(|id| id.parse().ok()))
        .ok_or_else(|| {
            ApiError::field(
                "cursor",
                "not a cursor from this API; pass next_cursor unchanged",
            )
        })
}

/// Declares a page type `{items: [...], next_cursor}` for one item type, so that every list
/// has a named schema in the OpenAPI spec (and a named class in generated SDKs).
#[macro_export]
macro_rules! page_type {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        $(#[$meta])*
        #[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_garbage_names_the_parameter() {
        let page = PageRequest::new(Some(2), None).unwrap_or_else(|e| panic!("{e}"));
        let (rows, next) = page.finish(vec![1, 2, 3], |r| *r);
        assert_eq!(rows, vec![1, 2]);
        let next = next.unwrap_or_else(|| panic!("a next cursor"));
        let again = PageRequest::new(None, Some(&next)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.after, Some(2));
        match PageRequest::new(None, Some("garbage!")) {
            Err(ApiError::Validation(errors)) => assert_eq!(errors[0].field, "cursor"),
            other => panic!("expected a cursor error, got {other:?}"),
        }
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(501), None).is_err());
    }
}
