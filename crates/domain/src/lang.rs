//! The languages the app speaks: Vietnamese first, English second.

use serde::{Deserialize, Serialize};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    /// Tiếng Việt, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// The language with `code`, or `None` for a code this build does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        [Lang::Vi, Lang::En].into_iter().find(|l| l.code() == code)
    }

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The other language, for the one-tap switch.
    pub fn other(self) -> Self {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }
}
