//! Checks shared by many parameters. Each returns a [`DomainError::Invalid`] naming the
//! parameter.

use super::DomainError;

pub const MAX_URL_CHARS: usize = 2048;

/// An absolute http(s) URL with a host. `allow_session_placeholder` permits the literal
/// `{CHECKOUT_SESSION_ID}` (success and cancel URLs).
pub fn url(
    value: &str,
    param: &str,
    allow_session_placeholder: bool,
) -> Result<String, DomainError> {
    let value = value.trim();
    let invalid = |why: &str| DomainError::invalid(param, format!("'{value}' {why}"));
    if value.chars().count() > MAX_URL_CHARS {
        return Err(DomainError::invalid(
            param,
            format!("must be at most {MAX_URL_CHARS} characters"),
        ));
    }
    let checked = if allow_session_placeholder {
        value.replace("{CHECKOUT_SESSION_ID}", "session")
    } else {
        value.to_string()
    };
    let rest = checked
        .strip_prefix("https://")
        .or_else(|| checked.strip_prefix("http://"))
        .ok_or_else(|| invalid("is not an absolute http or https URL"))?;
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host_port.rsplit_once('@').map_or(host_port, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err(invalid("has no host"));
    }
    if checked.chars().any(|c| {
        c.is_whitespace() || c.is_control() || c == '{' || c == '}' || c == '<' || c == '>'
    }) {
        return Err(invalid("contains characters that are not allowed in a URL"));
    }
    Ok(value.to_string())
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
                "https://shop.example/s?id={CHECKOUT_SESSION_ID}",
                "u",
                false
            )
            .is_err()
        );
    }
}
