use crate::store::StoreError;

/// Why a domain operation did not happen. The HTTP layer renders each variant in the shape of
/// the surface that was called; nothing here knows about HTTP.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No object of this kind with this id is visible to the caller (it may exist in another
    /// account or mode: that is deliberately indistinguishable).
    #[error("no such {object}: '{id}'")]
    NotFound { object: &'static str, id: String },

    /// A parameter failed validation.
    #[error("invalid {param}: {message}")]
    Invalid { param: String, message: String },

    /// A payable total outside what one charge can be: `amount_too_small` (below the
    /// currency's minimum charge) or `amount_too_large`. `param` is what set the total.
    #[error("invalid {param}: {message}")]
    AmountOutOfBounds {
        code: &'static str,
        param: String,
        message: String,
    },

    /// The object's state forbids the action; `code` says which rule.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },

    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            param: param.into(),
            message: message.into(),
        }
    }

    pub fn not_found(object: &'static str, id: impl Into<String>) -> Self {
        DomainError::NotFound {
            object,
            id: id.into(),
        }
    }
}
