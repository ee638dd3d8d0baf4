//! CSRF protection of the pages' forms (the hosted checkout's, the customer portal's): a token
//! in every form that must match a cookie set with the page (double submit), so another site,
//! which can neither read the page nor set the cookie, cannot post them.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use super::escape;
use crate::domain::ids;

const CSRF_COOKIE: &str = "kassa_csrf";

/// The CSRF token of this browser: the cookie's, or a new one set with the page. The cookie is
/// `SameSite=Lax`, so arriving from the shop keeps it (and other open tabs keep working); the
/// token in the form is what another site cannot know.
pub struct Csrf {
    token: String,
    cookie: Option<String>,
    /// The cookie to set with the page, when the browser had none.
    pub set_cookie: Option<HeaderValue>,
}

impl Csrf {
    /// The token of a request to a page under `path` (`/checkout`, `/portal`), the cookie's
    /// path: each family of pages has its own.
    pub fn for_page(headers: &HeaderMap, public_url: &str, path: &str) -> Csrf {
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, value)| *name == CSRF_COOKIE && value.len() == 32)
            .map(|(_, value)| value.to_string());
        match cookie {
            Some(token) => Csrf {
                token: token.clone(),
                cookie: Some(token),
                set_cookie: None,
            },
            None => {
                let token = ids::random_base62(32);
                let secure = if public_url.starts_with("https://") {
                    "; Secure"
                } else {
                    ""
                };
                let set_cookie = HeaderValue::from_str(&format!(
                    "{CSRF_COOKIE}={token}; Path={path}; HttpOnly; SameSite=Lax{secure}"
                ))
                .ok();
                Csrf {
                    token,
                    cookie: None,
                    set_cookie,
                }
            }
        }
    }

    /// Whether a submitted form carries the token of the cookie it came with.
    pub fn accepts(&self, fields: &[(String, String)]) -> bool {
        let Some(cookie) = &self.cookie else {
            return false;
        };
        fields
            .iter()
            .find(|(name, _)| name == "csrf")
            .is_some_and(|(_, token)| constant_time_eq(token.as_bytes(), cookie.as_bytes()))
    }

    /// The form's hidden field.
    pub fn input(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            escape(&self.token)
        )
    }

    /// Sets the cookie on a page's response, if the browser has none yet.
    pub fn set_on(&self, response: &mut Response) {
        if let Some(cookie) = &self.set_cookie {
            response
                .headers_mut()
                .insert(header::SET_COOKIE, cookie.clone());
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
