use crate::store::StoreError;

/// Why a domain operation did not happen. The HTTP layer renders each variant in the shape of
/// the surface that was called; nothing here knows about HTTP.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No object of this kind with this id is visible to the caller (it may exist in another
    /// account or mode: that is deliberately indistinguishable).
    #[error("no such {object}: '{id}'")]
    NotFound { object: &'static str, id: String },

    /// A parameter names an object (`customer`, `line_items[0][price]`) that the caller cannot
    /// see. Unlike [`DomainError::NotFound`], which is about the object the request is on, this
    /// is a fault of the parameters, as Stripe answers it (400 `resource_missing`).
    #[error("no such {object}: '{id}'")]
    MissingReference {
        object: &'static str,
        id: String,
        param: String,
    },

    /// A parameter failed validation. `code` is Stripe's error code for the failure
    /// (`parameter_invalid`, `url_invalid`, `amount_too_small`...).
    #[error("invalid {param}: {message}")]
    Invalid {
        code: &'static str,
        param: String,
        message: String,
    },

    /// A parameter Stripe defines and kassa does not implement, given a value that would change
    /// something: refused rather than ignored. `value` is what was sent.
    #[error("kassa does not support {param}={value}")]
    Unsupported { param: String, value: String },

    /// The object's state forbids the action; `code` says which rule.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },

    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    /// A parameter that failed validation (`parameter_invalid`).
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::invalid_with("parameter_invalid", param, message)
    }

    /// A parameter that failed validation, with Stripe's specific `code` for the failure.
    pub fn invalid_with(
        code: &'static str,
        param: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        DomainError::Invalid {
            code,
            param: param.into(),
            message: message.into(),
        }
    }

    /// Whether this is a payable total outside what one charge can be (`amount_too_small`,
    /// below the currency's minimum charge, or `amount_too_large`): a fault of the whole
    /// order rather than of one field.
    pub fn is_out_of_bounds(&self) -> bool {
        matches!(
            self,
            DomainError::Invalid {
                code: "amount_too_small" | "amount_too_large",
                ..
            }
        )
    }

    pub fn not_found(object: &'static str, id: impl Into<String>) -> Self {
        DomainError::NotFound {
            object,
            id: id.into(),
        }
    }

    /// `param` names an object the caller cannot see.
    pub fn missing_reference(
        param: impl Into<String>,
        object: &'static str,
        id: impl Into<String>,
    ) -> Self {
        DomainError::MissingReference {
            object,
            id: id.into(),
            param: param.into(),
        }
    }

    /// For `map_err` after looking up an object a parameter names: "not found" becomes a fault
    /// of that parameter.
    pub fn as_reference(param: impl Into<String>) -> impl FnOnce(DomainError) -> DomainError {
        let param = param.into();
        move |error| match error {
            DomainError::NotFound { object, id } => {
                DomainError::MissingReference { object, id, param }
            }
            other => other,
        }
    }

    /// The same error with its parameter named under `prefix`, for an inline object's fields
    /// (`currency` inside `line_items[0][price_data]` is `line_items[0][price_data][currency]`).
    pub fn under(self, prefix: &str) -> DomainError {
        let nest = |param: String| {
            let (head, tail) = param.split_once('[').unwrap_or((&param, ""));
            let tail = if tail.is_empty() {
                String::new()
            } else {
                format!("[{tail}")
            };
            format!("{prefix}[{head}]{tail}")
        };
        match self {
            DomainError::Invalid {
                code,
                param,
                message,
            } => DomainError::Invalid {
                code,
                param: nest(param),
                message,
            },
            DomainError::MissingReference { object, id, param } => DomainError::MissingReference {
                object,
                id,
                param: nest(param),
            },
            DomainError::Unsupported { param, value } => DomainError::Unsupported {
                param: nest(param),
                value,
            },
            other => other,
        }
    }
}
