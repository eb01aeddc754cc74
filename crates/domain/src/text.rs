//! Limits on free text, checked before anything is written.

use thiserror::Error;

/// Longest description, handover note or correction, in characters.
pub const LONG_TEXT_MAX: usize = 2000;
/// Longest short field (vehicle plate), in characters.
pub const SHORT_TEXT_MAX: usize = 20;
/// Longest "people involved" or manual check-in reason, in characters.
pub const MEDIUM_TEXT_MAX: usize = 500;

/// A text field that breaks a rule; `field` is a translation key of the field's name.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TextError {
    /// A required field is empty.
    #[error("{field} is required")]
    Required {
        /// Which field.
        field: &'static str,
    },
    /// A field is longer than allowed.
    #[error("{field} is {len} characters; at most {max} are allowed")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Trims `text` and checks it against `max`; an empty result is `None`.
pub fn optional(field: &'static str, text: &str, max: usize) -> Result<Option<String>, TextError> {
    let t = text.trim();
    let len = t.chars().count();
    if len > max {
        return Err(TextError::TooLong { field, len, max });
    }
    Ok(if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    })
}

/// Like [`optional`], but an empty text is an error.
pub fn required(field: &'static str, text: &str, max: usize) -> Result<String, TextError> {
    optional(field, text, max)?.ok_or(TextError::Required { field })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_counts_characters_not_bytes() {
        assert_eq!(optional("f", "  ", 5), Ok(None));
        // Vietnamese letters are several bytes each; the limit is in characters.
        assert_eq!(optional("f", " đường ", 5), Ok(Some("đường".into())));
        assert_eq!(
            optional("f", "đườngg", 5),
            Err(TextError::TooLong {
                field: "f",
                len: 6,
                max: 5
            })
        );
        assert_eq!(
            required("f", "\n", 5),
            Err(TextError::Required { field: "f" })
        );
    }
}
