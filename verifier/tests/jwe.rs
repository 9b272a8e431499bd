//! The JWE mechanism (aws-lc-rs) against an independent implementation, josekit on OpenSSL:
//! each opens what the other encrypted, for every key management, curve and content
//! encryption this crate takes; and what must be refused is.
#![cfg(feature = "jwe")]

use josekit::jwe::{JweDecrypter, JweEncrypter, JweHeader};
use josekit::jwk::alg::ec::EcCurve;
use josekit::jwk::Jwk;
use serde_json::{Map, Value};
use tessera_verifier::jwe::{
    ContentEncryption, DecryptionKey, DirectKey, EncryptionKey, Jwe, Protected,
};
use tessera_verifier::{Error, KeyManagementAlg};

const ENCS: [ContentEncryption; 2] = [ContentEncryption::A256Gcm, ContentEncryption::A128CbcHs256];
const PLAINTEXT: &[u8] = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

/// The recipients' private keys josekit makes: RSA 2048 and each NIST curve.
fn private_keys() -> Vec<(KeyManagementAlg, Jwk)> {
    vec![
        (
            KeyManagementAlg::RsaOaep256,
            Jwk::generate_rsa_key(2048).unwrap(),
        ),
        (
            KeyManagementAlg::EcdhEsA256Kw,
            Jwk::generate_ec_key(EcCurve::P256).unwrap(),
        ),
        (
            KeyManagementAlg::EcdhEsA256Kw,
            Jwk::generate_ec_key(EcCurve::P384).unwrap(),
        ),
        (
            KeyManagementAlg::EcdhEsA256Kw,
            Jwk::generate_ec_key(EcCurve::P521).unwrap(),
        ),
    ]
}

fn members(jwk: &Jwk) -> Map<String, Value> {
    jwk.as_ref().clone()
}

fn josekit_encrypter(alg: KeyManagementAlg, public: &Jwk) -> Box<dyn JweEncrypter> {
    match alg {
        KeyManagementAlg::RsaOaep256 => Box::new(
            josekit::jwe::RSA_OAEP_256
                .encrypter_from_jwk(public)
                .unwrap(),
        ),
        KeyManagementAlg::EcdhEsA256Kw => Box::new(
            josekit::jwe::ECDH_ES_A256KW
                .encrypter_from_jwk(public)
                .unwrap(),
        ),
    }
}

fn josekit_decrypter(alg: KeyManagementAlg, private: &Jwk) -> Box<dyn JweDecrypter> {
    match alg {
        KeyManagementAlg::RsaOaep256 => Box::new(
            josekit::jwe::RSA_OAEP_256
                .decrypter_from_jwk(private)
                .unwrap(),
        ),
        KeyManagementAlg::EcdhEsA256Kw => Box::new(
            josekit::jwe::ECDH_ES_A256KW
                .decrypter_from_jwk(private)
                .unwrap(),
        ),
    }
}

fn josekit_encrypt(
    alg: KeyManagementAlg,
    private: &Jwk,
    enc: &str,
    header: impl FnOnce(&mut JweHeader),
) -> String {
    let mut jwe_header = JweHeader::new();
    jwe_header.set_content_encryption(enc);
    jwe_header.set_content_type("JWT");
    header(&mut jwe_header);
    let encrypter = josekit_encrypter(alg, &private.to_public_key().unwrap());
    josekit::jwe::serialize_compact(PLAINTEXT, &jwe_header, encrypter.as_ref()).unwrap()
}

fn open(key: &DecryptionKey, token: &str) -> Result<Vec<u8>, Error> {
    key.decrypt(&Jwe::parse(token, 4096)?, &ENCS)
}

#[test]
fn what_josekit_encrypts_opens_for_every_alg_curve_and_enc() {
    for (alg, private) in private_keys() {
        let curve = private.curve().unwrap_or("RSA").to_owned();
        let key = DecryptionKey::from_jwk(&members(&private), alg).unwrap();
        for enc in ENCS {
            let token = josekit_encrypt(alg, &private, enc.as_str(), |_| {});
            assert_eq!(
                open(&key, &token).as_deref(),
                Ok(PLAINTEXT),
                "{alg:?} {curve} {enc:?}"
            );
            // Only the content encryptions the caller allows.
            let jwe = Jwe::parse(&token, 4096).unwrap();
            let others: Vec<_> = ENCS.into_iter().filter(|other| *other != enc).collect();
            assert_eq!(key.decrypt(&jwe, &others), Err(Error::AlgorithmNotAllowed));
        }
    }
}

#[test]
fn ecdh_party_info_enters_the_key_derivation() {
    let (alg, private) = private_keys().swap_remove(1);
    let key = DecryptionKey::from_jwk(&members(&private), alg).unwrap();
    let token = josekit_encrypt(alg, &private, "A256GCM", |header| {
        header.set_agreement_partyuinfo(b"Alice");
        header.set_agreement_partyvinfo(b"Bob");
    });
    assert_eq!(open(&key, &token).as_deref(), Ok(PLAINTEXT));
}

#[test]
fn what_this_crate_encrypts_josekit_opens() {
    for (alg, private) in private_keys() {
        let mut public = members(&private.to_public_key().unwrap());
        public.insert("kid".into(), "rs-1".into());
        let key = EncryptionKey::from_jwk(&public, alg).unwrap();
        let protected = Protected {
            cty: Some("JWT"),
            kid: key.kid(),
            ..Protected::default()
        };
        let token = key.encrypt(&protected, PLAINTEXT).unwrap();
        let (payload, header) =
            josekit::jwe::deserialize_compact(&token, josekit_decrypter(alg, &private).as_ref())
                .unwrap();
        assert_eq!(payload, PLAINTEXT, "{alg:?} {:?}", private.curve());
        assert_eq!(header.algorithm(), Some(alg.as_str()));
        assert_eq!(header.content_encryption(), Some("A256GCM"));
        assert_eq!(header.content_type(), Some("JWT"));
        assert_eq!(header.key_id(), Some("rs-1"));
        // And this crate opens its own.
        let own = DecryptionKey::from_jwk(&members(&private), alg).unwrap();
        assert_eq!(open(&own, &token).as_deref(), Ok(PLAINTEXT));
    }
}

#[test]
fn dir_tokens_open_both_ways() {
    let secret = Jwk::generate_oct_key(32).unwrap();
    let k = secret.parameter("k").unwrap().as_str().unwrap();
    let bytes = base64_url(k);
    let key = DirectKey::new(&bytes).unwrap();
    let protected = Protected {
        typ: Some("x+jwt"),
        kid: Some("s1"),
        ..Protected::default()
    };
    let ours = key.encrypt(&protected, PLAINTEXT).unwrap();
    let decrypter = josekit::jwe::Dir.decrypter_from_jwk(&secret).unwrap();
    let (payload, header) = josekit::jwe::deserialize_compact(&ours, &decrypter).unwrap();
    assert_eq!(payload, PLAINTEXT);
    assert_eq!(header.token_type(), Some("x+jwt"));

    let mut header = JweHeader::new();
    header.set_content_encryption("A256GCM");
    let encrypter = josekit::jwe::Dir.encrypter_from_jwk(&secret).unwrap();
    let theirs = josekit::jwe::serialize_compact(PLAINTEXT, &header, &encrypter).unwrap();
    let jwe = Jwe::parse(&theirs, 4096).unwrap();
    assert_eq!(key.decrypt(&jwe).as_deref(), Ok(PLAINTEXT));
    // A dir key opens only dir A256GCM, and only with its own key.
    let other = DirectKey::new(&[7u8; 32]).unwrap();
    assert_eq!(other.decrypt(&jwe), Err(Error::Decryption));
    assert!(DirectKey::new(&[7u8; 16]).is_err());
    let mut header = JweHeader::new();
    header.set_content_encryption("A128CBC-HS256");
    let encrypter = josekit::jwe::Dir.encrypter_from_bytes([7u8; 32]).unwrap();
    let cbc = josekit::jwe::serialize_compact(PLAINTEXT, &header, &encrypter).unwrap();
    let jwe = Jwe::parse(&cbc, 4096).unwrap();
    assert_eq!(other.decrypt(&jwe), Err(Error::AlgorithmNotAllowed));
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

fn encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn any_changed_part_fails_to_open() {
    for (alg, private) in private_keys() {
        let key = DecryptionKey::from_jwk(&members(&private), alg).unwrap();
        for enc in ENCS {
            let token = josekit_encrypt(alg, &private, enc.as_str(), |_| {});
            let parts: Vec<&str> = token.split('.').collect();
            for index in 1..5 {
                let mut bytes = base64_url(parts[index]);
                if bytes.is_empty() {
                    continue;
                }
                bytes[0] ^= 1;
                let mut changed = parts.clone();
                let flipped = encode(&bytes);
                changed[index] = &flipped;
                let changed = changed.join(".");
                assert_eq!(
                    open(&key, &changed),
                    Err(Error::Decryption),
                    "{alg:?} {enc:?} part {index}"
                );
                // Shortened: every length is checked before a key is used.
                let mut short = parts.clone();
                let cut = encode(&base64_url(parts[index])[1..]);
                short[index] = &cut;
                assert_eq!(open(&key, &short.join(".")), Err(Error::Decryption));
            }
            // The header is authenticated: one more member and the tag no longer fits.
            let mut header: Value = serde_json::from_slice(&base64_url(parts[0])).unwrap();
            header["x"] = "y".into();
            let header = encode(header.to_string().as_bytes());
            let changed = [&header[..], parts[1], parts[2], parts[3], parts[4]].join(".");
            assert_eq!(open(&key, &changed), Err(Error::Decryption));
        }
    }
}

#[test]
fn an_ephemeral_key_off_its_curve_is_refused() {
    let (alg, private) = private_keys().swap_remove(1);
    let key = DecryptionKey::from_jwk(&members(&private), alg).unwrap();
    let token = josekit_encrypt(alg, &private, "A256GCM", |_| {});
    let parts: Vec<&str> = token.split('.').collect();
    let mut header: Value = serde_json::from_slice(&base64_url(parts[0])).unwrap();
    let mut y = base64_url(header["epk"]["y"].as_str().unwrap());
    y[31] ^= 1;
    header["epk"]["y"] = encode(&y).into();
    let header = encode(header.to_string().as_bytes());
    let changed = [&header[..], parts[1], parts[2], parts[3], parts[4]].join(".");
    assert_eq!(open(&key, &changed), Err(Error::Decryption));
    // Published keys are checked when they are read.
    let mut public = members(&private.to_public_key().unwrap());
    public.insert("y".into(), encode(&y).into());
    assert!(EncryptionKey::from_jwk(&public, alg).is_err());
    let mut mismatched = members(&private);
    mismatched.insert("y".into(), encode(&y).into());
    assert!(DecryptionKey::from_jwk(&mismatched, alg).is_err());
}

#[test]
fn keys_that_do_not_fit_are_refused() {
    let small = Jwk::generate_rsa_key(1024).unwrap();
    let rsa = KeyManagementAlg::RsaOaep256;
    assert!(DecryptionKey::from_jwk(&members(&small), rsa).is_err());
    assert!(EncryptionKey::from_jwk(&members(&small.to_public_key().unwrap()), rsa).is_err());
    let ec = Jwk::generate_ec_key(EcCurve::P256).unwrap();
    assert!(DecryptionKey::from_jwk(&members(&ec), rsa).is_err());
    assert!(EncryptionKey::from_jwk(&members(&ec), rsa).is_err());
    let ed = Jwk::generate_ed_key(josekit::jwk::alg::ed::EdCurve::Ed25519).unwrap();
    let ecdh = KeyManagementAlg::EcdhEsA256Kw;
    assert!(DecryptionKey::from_jwk(&members(&ed), ecdh).is_err());
    // A key without its private members cannot decrypt.
    let public = members(&ec.to_public_key().unwrap());
    assert!(DecryptionKey::from_jwk(&public, ecdh).is_err());
    let mut rsa_public = members(&Jwk::generate_rsa_key(2048).unwrap());
    rsa_public.remove("qi");
    assert!(DecryptionKey::from_jwk(&rsa_public, rsa).is_err());
}

#[test]
fn compact_jwes_are_bounded_and_well_formed() {
    let (alg, private) = private_keys().swap_remove(1);
    let token = josekit_encrypt(alg, &private, "A256GCM", |_| {});
    assert!(matches!(
        Jwe::parse(&token, 16),
        Err(Error::TooLarge(tessera_verifier::Limit::Header))
    ));
    assert!(matches!(
        Jwe::parse(&format!("{token}.x"), 4096),
        Err(Error::Malformed(_))
    ));
    let four = token.rsplit_once('.').unwrap().0;
    assert!(matches!(Jwe::parse(four, 4096), Err(Error::Malformed(_))));
    let bad = format!("{}.!!", four);
    assert!(matches!(Jwe::parse(&bad, 4096), Err(Error::Malformed(_))));
}
