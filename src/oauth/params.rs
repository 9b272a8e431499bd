//! The parameters of a protocol request, from a form body (RFC 6749), a JSON body (older
//! clients) or a query string, into one ordered value. Parameters without a value count as
//! omitted (RFC 6749 3.1); a parameter given twice is an error (RFC 6749 3.2), except those
//! defined to repeat (RFC 8707 `resource`, RFC 8693 `audience`).

use super::error::OAuthError;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// Parameters that may appear more than once.
const REPEATABLE: [&str; 2] = ["resource", "audience"];
/// The parameters a JSON body may give as an object (the provider grant's credentials).
const OBJECTS: [&str; 1] = ["details"];
/// Parameter names are echoed in error descriptions: keep them short.
const MAX_NAME_IN_MESSAGE: usize = 64;

/// The parameters of a request, in order.
#[derive(Debug, Default, Clone)]
pub struct Params {
    text: Vec<(String, String)>,
    /// JSON object values (e.g. the provider grant's `details`), kept as they came.
    objects: Vec<(String, Value)>,
}

impl Params {
    /// The value of a single-valued parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.text
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::missing_parameter(name))
    }

    /// Every value of a repeatable parameter.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.text
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn object(&self, name: &str) -> Option<&Value> {
        self.objects
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some() || self.object(name).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.objects.is_empty()
    }

    /// Every text parameter, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.text
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Parameters made from `pairs` that were checked when they were first read (a pushed
    /// request's, back from its seal).
    pub fn from_checked_pairs(pairs: Vec<(String, String)>) -> Params {
        Params {
            text: pairs,
            objects: Vec::new(),
        }
    }

    /// The text parameters, in order, for storing (see `from_checked_pairs`).
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.text
    }

    /// Drops every value of `name`.
    pub fn remove(&mut self, name: &str) {
        self.text.retain(|(key, _)| key != name);
        self.objects.retain(|(key, _)| key != name);
    }

    /// Sets a single-valued parameter, replacing its value.
    pub fn set(&mut self, name: &str, value: String) {
        self.text.retain(|(key, _)| key != name);
        self.text.push((name.to_owned(), value));
    }

    /// Adds the query string's parameters; one given in both places is `invalid_request`.
    pub fn merge_query(&mut self, query: Params) -> Result<(), OAuthError> {
        for (name, value) in query.text {
            if self.contains(&name) {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter {} is given in both the query string and the body",
                    printable(&name)
                )));
            }
            self.text.push((name, value));
        }
        Ok(())
    }

    fn push_text(&mut self, name: String, value: String) -> Result<(), OAuthError> {
        if value.is_empty() {
            return Ok(());
        }
        self.check_not_repeated(&name)?;
        self.text.push((name, value));
        Ok(())
    }

    fn check_not_repeated(&self, name: &str) -> Result<(), OAuthError> {
        if !REPEATABLE.contains(&name) && self.contains(name) {
            return Err(OAuthError::invalid_request(format!(
                "the parameter {} is repeated",
                printable(name)
            )));
        }
        Ok(())
    }

    /// Parameters from `application/x-www-form-urlencoded` bytes, strictly: every pair has `=`,
    /// every escape is `%` and two hex digits, every name and value is UTF-8.
    pub fn from_form(body: &[u8]) -> Result<Params, OAuthError> {
        let malformed = || OAuthError::invalid_request("the form body is malformed");
        let mut params = Params::default();
        for pair in memchr_split(b'&', body).filter(|pair| !pair.is_empty()) {
            let eq = memchr::memchr(b'=', pair).ok_or_else(malformed)?;
            let name = form_decode(&pair[..eq]).ok_or_else(malformed)?;
            let value = form_decode(&pair[eq + 1..]).ok_or_else(malformed)?;
            if name.is_empty() {
                return Err(malformed());
            }
            params.push_text(name, value)?;
        }
        Ok(params)
    }

    /// Parameters from a JSON object: strings; `null` omitted; arrays of strings for the
    /// repeatable parameters; an object for the parameters that are objects (`details`), kept
    /// as it is. Anything else is refused, so a body means exactly what its schema says.
    pub fn from_json(body: &[u8]) -> Result<Params, OAuthError> {
        let entries: JsonEntries = serde_json::from_slice(body).map_err(|err| {
            let message = err.to_string();
            if let Some(name) = message.strip_prefix(REPEATED_MARK) {
                let name = name.split(" at line").next().unwrap_or_default();
                OAuthError::invalid_request(format!(
                    "the parameter {} is repeated",
                    printable(name)
                ))
            } else if err.is_data() {
                OAuthError::invalid_request("the JSON body must be an object")
            } else {
                OAuthError::invalid_request("the JSON body is malformed")
            }
        })?;
        let mut params = Params::default();
        for (name, value) in entries.0 {
            match value {
                Value::Null => {}
                Value::Object(_) if OBJECTS.contains(&name.as_str()) => {
                    params.check_not_repeated(&name)?;
                    params.objects.push((name, value));
                }
                _ if OBJECTS.contains(&name.as_str()) => {
                    return Err(OAuthError::invalid_request(format!(
                        "the parameter {name} must be a JSON object"
                    )))
                }
                Value::String(text) => params.push_text(name, text)?,
                Value::Array(items) if REPEATABLE.contains(&name.as_str()) => {
                    for item in items {
                        let Value::String(text) = item else {
                            return Err(OAuthError::invalid_request(format!(
                                "the parameter {name} must be a string or a list of strings"
                            )));
                        };
                        // A list names values: an empty one is a mistake, not an omission.
                        if text.is_empty() {
                            return Err(OAuthError::invalid_request(format!(
                                "the parameter {name} lists an empty string"
                            )));
                        }
                        params.push_text(name.clone(), text)?;
                    }
                }
                // Numbers, booleans, and objects where a string belongs.
                _ => {
                    return Err(OAuthError::invalid_request(format!(
                        "the parameter {} must be a string",
                        printable(&name)
                    )))
                }
            }
        }
        Ok(params)
    }
}

/// A name as it may appear in an error description: printable ASCII, bounded.
pub fn printable(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(MAX_NAME_IN_MESSAGE)
        .collect()
}

/// `input` split at each `separator`, as `split` does, found with memchr rather than byte by byte.
fn memchr_split(separator: u8, input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(input);
    std::iter::from_fn(move || {
        let current = rest?;
        Some(match memchr::memchr(separator, current) {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                &current[..at]
            }
            None => {
                rest = None;
                current
            }
        })
    })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one `application/x-www-form-urlencoded` component; `None` when malformed.
pub fn form_decode(input: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    // The runs between escapes are copied whole: a client assertion is hundreds of bytes of
    // base64url without one, and a byte-at-a-time loop cost more than the rest of its request.
    while let Some(at) = memchr::memchr2(b'+', b'%', rest) {
        out.extend_from_slice(&rest[..at]);
        if rest[at] == b'+' {
            out.push(b' ');
            rest = &rest[at + 1..];
        } else {
            let high = hex(*rest.get(at + 1)?)?;
            let low = hex(*rest.get(at + 2)?)?;
            out.push(high << 4 | low);
            rest = &rest[at + 3..];
        }
    }
    out.extend_from_slice(rest);
    String::from_utf8(out).ok()
}

const REPEATED_MARK: &str = "repeated parameter: ";

/// A JSON object's members in order, refusing a member named twice.
struct JsonEntries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for JsonEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = JsonEntries;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonEntries, A::Error> {
                let mut entries: Vec<(String, Value)> = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    if entries.iter().any(|(seen, _)| *seen == name) {
                        return Err(serde::de::Error::custom(format!("{REPEATED_MARK}{name}")));
                    }
                    entries.push((name, value));
                }
                Ok(JsonEntries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// The parameters of a request to a compatible route: the body's, plus the query string's when
/// the route takes them.
pub fn route_params(
    query: &str,
    content_type: Option<&str>,
    body: &[u8],
    query_parameters: bool,
) -> Result<Params, OAuthError> {
    if !query_parameters || query.is_empty() {
        return parse_body(content_type, body);
    }
    let mut params = if body.iter().all(u8::is_ascii_whitespace) {
        Params::default()
    } else {
        parse_body(content_type, body)?
    };
    params.merge_query(Params::from_form(query.as_bytes())?)?;
    if params.is_empty() {
        return Err(OAuthError::invalid_request("no parameter in body request"));
    }
    Ok(params)
}

/// The media type of a `Content-Type` value, without parameters, lowercase.
fn essence(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The parameters of a body, by its content type (the `Content-Type` header's value).
pub fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Params, OAuthError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(OAuthError::invalid_request("no parameter in body request"));
    }
    match essence(content_type).as_str() {
        "application/x-www-form-urlencoded" => Params::from_form(body),
        "application/json" => Params::from_json(body),
        "" => Err(OAuthError::invalid_request(
            "the request has no Content-Type; send application/x-www-form-urlencoded or application/json",
        )),
        _ => Err(OAuthError::invalid_request(
            "the content type is not supported; send application/x-www-form-urlencoded or application/json",
        )),
    }
}

/// The parameters of a body that must be a form (`application/x-www-form-urlencoded`).
pub fn parse_form_body(content_type: Option<&str>, body: &[u8]) -> Result<Params, OAuthError> {
    if essence(content_type) != "application/x-www-form-urlencoded" {
        return Err(OAuthError::invalid_request(
            "the content type is not supported; send application/x-www-form-urlencoded",
        ));
    }
    parse_body(content_type, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_is_strict() {
        assert_eq!(form_decode(b"a+b%20c%2B").as_deref(), Some("a b c+"));
        assert_eq!(form_decode(b"%zz"), None);
        assert_eq!(form_decode(b"%4"), None);
        assert_eq!(form_decode(b"%FF"), None);
        assert_eq!(form_decode(b"").as_deref(), Some(""));
        assert_eq!(form_decode(b"%").as_deref(), None);
        assert_eq!(form_decode(b"ab%").as_deref(), None);
        assert_eq!(form_decode(b"+%2b+").as_deref(), Some(" + "));
        assert_eq!(form_decode(b"%C3%A9t%c3%a9").as_deref(), Some("été"));
    }

    /// Bodies made of pieces from `pieces`, the same every run.
    fn made_bodies(pieces: &[&str]) -> Vec<String> {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..2000)
            .map(|_| {
                let mut body = String::new();
                for _ in 0..(state % 24) {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    body.push_str(pieces[(state >> 33) as usize % pieces.len()]);
                }
                body
            })
            .collect()
    }

    #[test]
    fn form_decoding_is_what_the_url_crate_decodes() {
        let pieces = [
            "a", "Z9", "+", "%20", "%2B", "%2b", "%C3%A9", "-._~", "%25", "%26",
        ];
        for body in made_bodies(&pieces) {
            let expected = url::form_urlencoded::parse(format!("k={body}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            assert_eq!(form_decode(body.as_bytes()), Some(expected), "{body}");
        }
    }

    #[test]
    fn forms_split_as_slices_split() {
        for body in made_bodies(&["a", "&", "b=", "=", "&&", "c=d"]) {
            let expected: Vec<&[u8]> = body.as_bytes().split(|&b| b == b'&').collect();
            let split: Vec<&[u8]> = memchr_split(b'&', body.as_bytes()).collect();
            assert_eq!(split, expected, "{body}");
        }
    }

    #[test]
    fn empty_values_are_omitted_and_repeats_refused() {
        let params = Params::from_form(b"a=&b=1&resource=x&resource=y").unwrap();
        assert_eq!(params.get("a"), None);
        assert_eq!(params.all("resource").collect::<Vec<_>>(), ["x", "y"]);
        let err = Params::from_form(b"b=1&b=2").unwrap_err();
        assert_eq!(err.description, "the parameter b is repeated");
        assert!(Params::from_form(b"novalue").is_err());
    }

    /// The form fuzzer's first crash (fuzz/corpus/form/empty_value_only): one pair whose name
    /// holds NUL bytes and whose value is empty. The body is well formed and the pair counts as
    /// omitted (RFC 6749 3.1), so no parameters is the right answer; the target's property
    /// that a non-empty body yields some parameter was wrong.
    #[test]
    fn a_body_of_one_valueless_pair_has_no_parameters() {
        let mut body = b"gr".to_vec();
        body.extend([0; 31]);
        body.extend(b"ur`");
        body.extend([0; 7]);
        body.extend(b".[2=");
        assert_eq!(
            body,
            std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("fuzz/corpus/form/empty_value_only")
            )
            .unwrap()
        );
        let params = Params::from_form(&body).unwrap();
        assert!(params.is_empty());
        assert_eq!(
            parse_body(Some("application/x-www-form-urlencoded"), &body)
                .unwrap()
                .get("grant_type"),
            None
        );
    }

    #[test]
    fn json_bodies() {
        let params =
            Params::from_json(br#"{"a":"x","z":null,"details":{"k":1},"resource":["r1","r2"]}"#)
                .unwrap();
        assert_eq!(params.get("a"), Some("x"));
        assert!(!params.contains("z"));
        assert!(params.object("details").is_some());
        for (body, description) in [
            (&br#"{"n":5}"#[..], "the parameter n must be a string"),
            (br#"{"t":true}"#, "the parameter t must be a string"),
            (br#"{"d":{"k":1}}"#, "the parameter d must be a string"),
            (
                br#"{"details":"x"}"#,
                "the parameter details must be a JSON object",
            ),
            (
                br#"{"resource":["r1",""]}"#,
                "the parameter resource lists an empty string",
            ),
        ] {
            assert_eq!(
                Params::from_json(body).unwrap_err().description,
                description
            );
        }
        assert_eq!(params.all("resource").count(), 2);
        let err = Params::from_json(br#"{"a":"1","a":"2"}"#).unwrap_err();
        assert_eq!(err.description, "the parameter a is repeated");
        assert_eq!(
            Params::from_json(b"[1]").unwrap_err().description,
            "the JSON body must be an object"
        );
        assert_eq!(
            Params::from_json(b"{").unwrap_err().description,
            "the JSON body is malformed"
        );
    }
}
