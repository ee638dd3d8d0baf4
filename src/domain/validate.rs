//! Checks shared by many parameters. Each returns a [`DomainError::Invalid`] naming the
//! parameter.

use super::DomainError;

pub const MAX_URL_CHARS: usize = 2048;

/// Stripe's template for the session id in success and cancel URLs, as sent and as an SDK
/// that URL-encodes it leaves it.
const SESSION_TEMPLATES: [&str; 2] = ["{CHECKOUT_SESSION_ID}", "%7BCHECKOUT_SESSION_ID%7D"];

/// A merchant's absolute http(s) URL, read as browsers read it (the WHATWG URL standard):
/// `allow_session_template` lets the success and cancel URLs carry `{CHECKOUT_SESSION_ID}`,
/// substituted before parsing. The URL is kept as sent. Refused with `url_invalid`: relative
/// URLs, other schemes, whitespace, control characters and `<>{}`, more than 2048 characters,
/// and hosts that a Content-Security-Policy source cannot name (an underscore in a domain),
/// since kassa's pages must allow the redirect there in their `form-action`.
pub fn url(value: &str, param: &str, allow_session_template: bool) -> Result<String, DomainError> {
    let value = value.trim();
    let invalid =
        |why: &str| DomainError::invalid_with("url_invalid", param, format!("'{value}' {why}"));
    if value.chars().count() > MAX_URL_CHARS {
        return Err(DomainError::invalid_with(
            "url_invalid",
            param,
            format!("must be at most {MAX_URL_CHARS} characters"),
        ));
    }
    let text = if allow_session_template {
        with_session_id(value, "cs_x")
    } else {
        value.to_string()
    };
    if text
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '{' | '}' | '<' | '>'))
    {
        return Err(invalid("contains characters that are not allowed in a URL"));
    }
    parse_web_url(&text).map_err(invalid)?;
    Ok(value.to_string())
}

/// `template` with every form of `{CHECKOUT_SESSION_ID}` replaced by `session_id`.
pub fn with_session_id(template: &str, session_id: &str) -> String {
    SESSION_TEMPLATES
        .iter()
        .fold(template.to_string(), |url, t| url.replace(t, session_id))
}

/// Parses an absolute http(s) URL whose host a CSP source can name.
pub fn parse_web_url(text: &str) -> Result<url::Url, &'static str> {
    let parsed = url::Url::parse(text).map_err(|_| "is not an absolute http or https URL")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("is not an absolute http or https URL");
    }
    match parsed.host() {
        None => Err("has no host"),
        Some(url::Host::Domain(domain))
            if !domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
        {
            Err(
                "has a host that browsers cannot be sent to from kassa's pages (only letters, digits, '-' and '.' may name a host)",
            )
        }
        Some(_) => Ok(parsed),
    }
}

/// The ASCII origin of a merchant URL (`https://xn--bcher-kva.example`), as a page's
/// Content-Security-Policy names it: international domain names in punycode, no credentials,
/// no path.
pub fn csp_origin(template: &str) -> Option<String> {
    let parsed = parse_web_url(&with_session_id(template, "cs_x")).ok()?;
    Some(parsed.origin().ascii_serialization())
}

/// A string of at most `max` characters; `min_one` refuses empty (after trimming).
pub fn text(value: &str, param: &str, max: usize, min_one: bool) -> Result<String, DomainError> {
    if min_one && value.trim().is_empty() {
        return Err(DomainError::invalid(param, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            param,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(value.to_string())
}

/// An optional text where an empty string means "none" (Stripe's way of unsetting).
pub fn optional_text(
    value: Option<String>,
    param: &str,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match value {
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => text(&v, param, max, false).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(url("https://shop.example/ok?x=1", "u", false).is_ok());
        assert!(url("http://127.0.0.1:3000/hook", "u", false).is_ok());
        assert!(url("http://[::1]:3000/", "u", false).is_ok());
        assert!(url("ftp://shop.example", "u", false).is_err());
        assert!(url("/relative", "u", false).is_err());
        assert!(url("https://", "u", false).is_err());
        assert!(url("https://shop.example/a b", "u", false).is_err());
        assert!(url("https://shop.example/s?id={CHECKOUT_SESSION_ID}", "u", true).is_ok());
        assert!(
            url(
                "https://shop.example/s?id=%7BCHECKOUT_SESSION_ID%7D",
                "u",
                true
            )
            .is_ok()
        );
        assert!(
            url(
                "https://shop.example/s?id={CHECKOUT_SESSION_ID}",
                "u",
                false
            )
            .is_err()
        );
    }

    #[test]
    fn urls_are_read_as_browsers_read_them() {
        assert_eq!(
            url("https://bücher.example/ok", "u", false).unwrap(),
            "https://bücher.example/ok",
            "kept as sent"
        );
        assert_eq!(
            csp_origin("https://bücher.example/ok?s={CHECKOUT_SESSION_ID}").as_deref(),
            Some("https://xn--bcher-kva.example")
        );
        assert_eq!(
            csp_origin("https://user:secret@shop.example:8443/ok").as_deref(),
            Some("https://shop.example:8443")
        );
        let error = url("https://my_shop.example/ok", "success_url", true).unwrap_err();
        assert!(
            matches!(&error, DomainError::Invalid { code: "url_invalid", param, .. } if param == "success_url"),
            "{error:?}"
        );
        assert_eq!(csp_origin("https://evil.example;script-src *"), None);
        assert_eq!(csp_origin("javascript:alert(1)"), None);
    }
}
