//! Closed sets of names: grant types, authentication methods, algorithms, configuration choices.
//! strum derives each enum's spellings, parser and list of variants from its attributes; these
//! helpers word a refused name the same way for all of them.

use strum::IntoEnumIterator;

/// Every name of `T` in declaration order: `a, b, c`.
pub fn names<T: IntoEnumIterator + Into<&'static str>>() -> String {
    T::iter().map(Into::into).collect::<Vec<&str>>().join(", ")
}

/// `{what} '{value}' (supported: a, b, c)`.
pub fn unsupported<T: IntoEnumIterator + Into<&'static str>>(what: &str, value: &str) -> String {
    format!("{what} '{value}' (supported: {})", names::<T>())
}

/// `{shown} is not a, b or c`.
pub fn not_one_of<T: IntoEnumIterator + Into<&'static str>>(shown: &str) -> String {
    let names: Vec<&str> = T::iter().map(Into::into).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{shown} is not {} or {last}", rest.join(", "))
        }
        _ => format!("{shown} is not {}", names.concat()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, strum::EnumIter, strum::IntoStaticStr)]
    #[strum(serialize_all = "kebab-case")]
    enum Colour {
        Red,
        DeepBlue,
        Green,
    }

    #[test]
    fn refusals_list_every_name_in_order() {
        assert_eq!(
            unsupported::<Colour>("unknown colour", "pink"),
            "unknown colour 'pink' (supported: red, deep-blue, green)"
        );
        assert_eq!(
            not_one_of::<Colour>("'pink'"),
            "'pink' is not red, deep-blue or green"
        );
    }
}
