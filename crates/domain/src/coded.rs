//! `coded!`: the list, stable code and translation key of an enum, written once.

/// The list, count, stable code, parse, place and translation key of an enum whose codes are its
/// variants' names in snake case (strum's derives): a new variant is one line where it is declared.
macro_rules! coded {
    ($t:ident, $key:literal) => {
        impl $t {
            /// Every one, in the order declared: the order shown and counted in.
            pub const ALL: &'static [$t] = <$t as strum::VariantArray>::VARIANTS;
            /// How many there are: the length of every count kept per one.
            pub const COUNT: usize = Self::ALL.len();

            /// The stable code stored and sent (its name in snake case).
            pub fn code(self) -> &'static str {
                self.into()
            }

            /// The one with this stable code.
            pub fn from_code(code: &str) -> Option<Self> {
                code.parse().ok()
            }

            /// Its place in [`Self::ALL`]: its index in every count kept per one.
            pub fn index(self) -> usize {
                self as usize
            }

            /// Translation key of its name.
            pub fn key(self) -> String {
                format!(concat!($key, ".{}"), self.code())
            }
        }
    };
}
