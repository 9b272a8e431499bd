//! A JSON object written straight into a byte buffer, for the token hot path (an access token's
//! claims, the token response): serde's derive with `flatten` goes through a generic map
//! serializer and a growing buffer, which cost more per token than the rest of Tessera's own
//! work. Strings are escaped as JSON requires; those that need no escaping (token strings,
//! scopes, URLs: nearly all of them) are copied as they are.

use serde::Serialize;

/// One JSON object being written; `finish` hands the bytes over.
pub struct JsonObject {
    buf: Vec<u8>,
    /// No member written yet at the current nesting level.
    first: bool,
}

impl JsonObject {
    /// An object of about `capacity` bytes (more is fine: the buffer grows).
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        buf.push(b'{');
        Self { buf, first: true }
    }

    /// Opens a member named by one of our own literals: written as it is.
    fn key(&mut self, key: &'static str) {
        debug_assert!(needs_no_escape(key), "{key}");
        // `,"` (or just `"` for the first member) in one copy, room for all of it made once.
        let opening: &[u8] = if self.first { b"\"" } else { b",\"" };
        self.first = false;
        self.buf.reserve(opening.len() + key.len() + 2);
        self.buf.extend_from_slice(opening);
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    pub fn str(&mut self, key: &'static str, value: &str) -> &mut Self {
        self.key(key);
        push_str(&mut self.buf, value);
        self
    }

    /// A string member whose value is a compact JWS or JWE Tessera made: base64url and dots
    /// by construction, so copied without the escaping scan (most of a token response's bytes).
    pub fn compact_token(&mut self, key: &'static str, token: &str) -> &mut Self {
        debug_assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "not a compact token"
        );
        self.key(key);
        self.buf.reserve(token.len() + 2);
        self.buf.push(b'"');
        self.buf.extend_from_slice(token.as_bytes());
        self.buf.push(b'"');
        self
    }

    /// A string member whose value is `parts` joined by `separator`, written as one string.
    pub fn joined<'a>(
        &mut self,
        key: &'static str,
        parts: impl IntoIterator<Item = &'a str>,
        separator: &str,
    ) -> &mut Self {
        self.key(key);
        self.buf.push(b'"');
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                push_str_contents(&mut self.buf, separator);
            }
            push_str_contents(&mut self.buf, part);
        }
        self.buf.push(b'"');
        self
    }

    pub fn int(&mut self, key: &'static str, value: i64) -> &mut Self {
        self.key(key);
        self.value_bytes(value);
        self
    }

    pub fn uint(&mut self, key: &'static str, value: u64) -> &mut Self {
        self.key(key);
        self.value_bytes(value);
        self
    }

    /// A member of any serializable value (arrays, objects).
    pub fn value(&mut self, key: &'static str, value: &impl Serialize) -> &mut Self {
        self.key(key);
        self.value_bytes(value);
        self
    }

    /// A member whose name is not ours (a configured claim): the name is escaped too.
    pub fn member(&mut self, name: &str, value: &impl Serialize) -> &mut Self {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        push_str(&mut self.buf, name);
        self.buf.push(b':');
        self.value_bytes(value);
        self
    }

    fn value_bytes(&mut self, value: impl Serialize) {
        serde_json::to_writer(&mut self.buf, &value).expect("a JSON value serializes into memory");
    }

    /// A member whose value is an object, written by `members`.
    pub fn object(
        &mut self,
        key: &'static str,
        members: impl FnOnce(&mut JsonObject),
    ) -> &mut Self {
        self.key(key);
        self.buf.push(b'{');
        self.first = true;
        members(self);
        self.buf.push(b'}');
        self.first = false;
        self
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(b'}');
        self.buf
    }
}

/// Whether `s` goes into a JSON string as it is: no quote, backslash or control character.
fn needs_no_escape(s: &str) -> bool {
    // Eight bytes at a time (SWAR): a byte below 0x20, or equal to '"' or '\\', sets its high
    // bit in `flagged`. Bytes of 0x80 and above are never flagged (UTF-8 goes through as is).
    const LOW: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |x: u64| x.wrapping_sub(LOW) & !x & HIGH;
    let mut chunks = s.as_bytes().chunks_exact(8);
    let mut flagged = 0;
    for chunk in &mut chunks {
        let x = u64::from_ne_bytes(chunk.try_into().expect("eight bytes"));
        // Below 0x20: x - 0x20 borrows into the high bit, for bytes without it set already.
        let control = x.wrapping_sub(LOW * 0x20) & !x & HIGH;
        flagged |= control
            | has_zero(x ^ (LOW * u64::from(b'"')))
            | has_zero(x ^ (LOW * u64::from(b'\\')));
    }
    flagged == 0
        && chunks
            .remainder()
            .iter()
            .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

fn push_str_contents(buf: &mut Vec<u8>, s: &str) {
    if needs_no_escape(s) {
        buf.extend_from_slice(s.as_bytes());
    } else {
        // serde_json's escaping, without the quotes it adds.
        let quoted = serde_json::to_vec(s).expect("a string serializes");
        buf.extend_from_slice(&quoted[1..quoted.len() - 1]);
    }
}

/// `s` as a JSON string, quotes included.
pub fn push_str(buf: &mut Vec<u8>, s: &str) {
    if needs_no_escape(s) {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        serde_json::to_writer(&mut *buf, s).expect("a string serializes into memory");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn writes_what_serde_json_reads_back() {
        let mut object = JsonObject::with_capacity(8);
        object
            .str("plain", "abc.DEF-_~")
            .str("escaped", "a\"b\\c\nd\u{1}é")
            .member("k\"ey", &"v")
            .joined("scope", ["a", "b\"", "c"], " ")
            .joined("empty", [], " ")
            .int("neg", -5)
            .uint("big", u64::MAX)
            .value("arr", &json!(["x", 1, {"y": null}]))
            .object("nested", |inner| {
                inner.str("one", "1").object("deeper", |deeper| {
                    deeper.uint("two", 2);
                });
            })
            .object("empty_object", |_| {})
            .str("after", "z");
        let bytes = object.finish();
        let parsed: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            parsed,
            json!({
                "plain": "abc.DEF-_~",
                "escaped": "a\"b\\c\nd\u{1}é",
                "k\"ey": "v",
                "scope": "a b\" c",
                "empty": "",
                "neg": -5,
                "big": u64::MAX,
                "arr": ["x", 1, {"y": null}],
                "nested": {"one": "1", "deeper": {"two": 2}},
                "empty_object": {},
                "after": "z",
            })
        );
    }

    #[test]
    fn escaping_is_seen_anywhere_in_a_string() {
        let safe = "abcdefghijklmnopqrstuvwxyz.ABC-_~é/:%20 !#$";
        assert!(needs_no_escape(safe));
        for bad in ['"', '\\', '\n', '\u{0}', '\u{1f}'] {
            for at in 0..safe.len() {
                if !safe.is_char_boundary(at) {
                    continue;
                }
                let text = format!("{}{bad}{}", &safe[..at], &safe[at..]);
                assert!(!needs_no_escape(&text), "{text:?}");
                let mut buf = Vec::new();
                push_str(&mut buf, &text);
                assert_eq!(buf, serde_json::to_vec(&text).unwrap());
            }
        }
        assert!(needs_no_escape("\u{7f}\u{20}"));
    }

    #[test]
    fn a_compact_token_is_written_as_serde_writes_it() {
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_Zz09";
        let mut object = JsonObject::with_capacity(0);
        object.compact_token("access_token", token);
        assert_eq!(
            object.finish(),
            serde_json::to_vec(&json!({ "access_token": token })).unwrap()
        );
    }

    #[test]
    fn an_empty_object_is_braces() {
        assert_eq!(JsonObject::with_capacity(0).finish(), b"{}");
    }
}
