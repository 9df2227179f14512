//! Property-based fuzzing of decoding and validation: arbitrary bytes, arbitrary JSON values and
//! almost-valid bodies go through `serde_json` into every request type and through its
//! `validate`. Nothing may panic, and what validation accepts must respect the documented limits.
//!
//! Bounded for CI (256 cases per property, a few seconds in all). For a longer local run:
//! `PORCHLIGHT_FUZZ_CASES=100000 cargo test -p porchlight-protocol --test fuzz --release`.

use porchlight_protocol::callback::{MAX_NAME_CHARS, MAX_NOTE_CHARS, MAX_PHONE_DIGITS, MIN_PHONE_DIGITS};
use porchlight_protocol::chat::MAX_MESSAGE_CHARS;
use porchlight_protocol::frame::{FrameToLoader, LoaderToFrame};
use porchlight_protocol::rating::{MAX_COMMENT_CHARS, MAX_PAGE_PATH_CHARS};
use porchlight_protocol::validate::is_valid_key;
use porchlight_protocol::{
    ApiError, NewCallback, NewConversation, NewMessage, NewRating, PresenceUpdate, RatingChange, RatingScale, SiteId,
};
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    let cases = std::env::var("PORCHLIGHT_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// Decodes `bytes` as every request type and validates what decodes. Panics are the failure.
fn decode_and_validate_all(bytes: &[u8]) {
    if let Ok(r) = serde_json::from_slice::<NewRating>(bytes) {
        if let Ok(value) = r.validate() {
            assert!(r.scale.values().contains(&value));
            assert!(r.comment.as_ref().is_none_or(|c| c.chars().count() <= MAX_COMMENT_CHARS));
            assert!(r.page.as_ref().is_none_or(|p| p.path.chars().count() <= MAX_PAGE_PATH_CHARS));
        }
    }
    if let Ok(c) = serde_json::from_slice::<RatingChange>(bytes) {
        for scale in [RatingScale::Faces3, RatingScale::Thumbs2, RatingScale::Stars5] {
            if let Ok(value) = c.validate(scale) {
                assert!(scale.values().contains(&value));
            }
        }
    }
    if let Ok(c) = serde_json::from_slice::<NewCallback>(bytes) {
        if c.validate().is_ok() {
            let name = c.name.trim().chars().count();
            assert!((1..=MAX_NAME_CHARS).contains(&name), "{c:?}");
            let digits = c.phone.chars().filter(char::is_ascii_digit).count();
            assert!((MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits), "{c:?}");
            assert!(c.note.as_ref().is_none_or(|n| n.chars().count() <= MAX_NOTE_CHARS));
        }
        let _ = c.is_honeypot_filled();
    }
    if let Ok(m) = serde_json::from_slice::<NewMessage>(bytes) {
        if m.validate().is_ok() {
            assert!(is_valid_key(&m.client_id));
            assert!(!m.body.trim().is_empty() && m.body.trim().chars().count() <= MAX_MESSAGE_CHARS);
        }
    }
    if let Ok(c) = serde_json::from_slice::<NewConversation>(bytes) {
        // Field errors of the nested message are reported under `message.`.
        if let Err(errors) = c.validate() {
            assert!(errors.0.iter().all(|e| e.field.starts_with("message.")), "{errors:?}");
        }
    }
    if let Ok(id) = serde_json::from_slice::<SiteId>(bytes) {
        assert_eq!(SiteId::parse(id.as_str()).as_ref(), Ok(&id));
    }
    let _ = serde_json::from_slice::<PresenceUpdate>(bytes);
    let _ = serde_json::from_slice::<ApiError>(bytes);
    let _ = serde_json::from_slice::<LoaderToFrame>(bytes);
    let _ = serde_json::from_slice::<FrameToLoader>(bytes);
}

/// Any JSON value, nested a few levels, with keys that the request types actually use so that
/// objects sometimes decode and reach validation.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("value".to_owned()),
        Just("scale".to_owned()),
        Just("page".to_owned()),
        Just("path".to_owned()),
        Just("title".to_owned()),
        Just("comment".to_owned()),
        Just("context".to_owned()),
        Just("kind".to_owned()),
        Just("ref_id".to_owned()),
        Just("name".to_owned()),
        Just("phone".to_owned()),
        Just("preferred_ms".to_owned()),
        Just("note".to_owned()),
        Just("website".to_owned()),
        Just("message".to_owned()),
        Just("client_id".to_owned()),
        Just("body".to_owned()),
        Just("type".to_owned()),
        Just("status".to_owned()),
        ".{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Strings that stress validation: scale values, phone-like text, control characters, other
/// scripts, and lengths around the limits.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("good".to_owned()),
        Just("5".to_owned()),
        Just("+371 2000 0000".to_owned()),
        Just("client-0001".to_owned()),
        "[0-9 +()./-]{0,40}",
        "[a-z0-9-]{0,70}",
        "\\PC{0,40}",
        ".{0,20}",
        "[\u{0}-\u{1f}\u{7f}\u{85}\u{2028}\u{feff} a]{0,10}",
        (0usize..5000, "\\PC").prop_map(|(n, c)| c.repeat(n)),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_and_validate_all(&bytes);
    }

    #[test]
    fn mutated_valid_bodies_never_panic(
        base in prop_oneof![
            Just(r#"{"value":"good","page":{"path":"/p","title":"T"},"comment":"c","context":{"kind":"chat","ref_id":"cv_1"}}"#),
            Just(r#"{"name":"Anna","phone":"+371 2000 0000","preferred_ms":1,"note":"n","website":""}"#),
            Just(r#"{"message":{"client_id":"client-0001","body":"Hello"},"page":{"path":"/"}}"#),
            Just(r#"{"porchlight":1,"type":"event","name":"rating","detail":{"value":"good"}}"#),
        ],
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = base.as_bytes().to_vec();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        decode_and_validate_all(&bytes);
    }

    #[test]
    fn arbitrary_json_values_never_panic(value in json_value()) {
        decode_and_validate_all(&serde_json::to_vec(&value).unwrap());
        // Wrapped the way the request types nest it.
        let wrapped = serde_json::json!({"value": value.clone(), "message": value.clone(), "page": value});
        decode_and_validate_all(&serde_json::to_vec(&wrapped).unwrap());
    }

    #[test]
    fn near_valid_bodies_validate_without_panicking(
        value in text(), comment in proptest::option::of(text()), path in text(),
        name in text(), phone in text(), note in proptest::option::of(text()), preferred_ms in any::<Option<i64>>(),
        client_id in text(), body in text(),
        scale in prop_oneof![Just("faces3"), Just("thumbs2"), Just("stars5"), Just("stars10")],
    ) {
        let bodies = [
            serde_json::json!({"value": value, "scale": scale, "comment": comment, "page": {"path": path}}),
            serde_json::json!({"name": name, "phone": phone, "note": note, "preferred_ms": preferred_ms}),
            serde_json::json!({"message": {"client_id": client_id, "body": body}, "page": {"path": path}}),
            serde_json::json!({"client_id": client_id, "body": body}),
        ];
        for b in bodies {
            decode_and_validate_all(&serde_json::to_vec(&b).unwrap());
        }
    }

    #[test]
    fn site_ids_accept_exactly_the_documented_alphabet(raw in prop_oneof!["[a-z0-9-]{0,70}", "\\PC{0,20}"]) {
        let valid = (1..=64).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        prop_assert_eq!(SiteId::parse(&raw).is_ok(), valid);
        let json = serde_json::to_string(&raw).unwrap();
        prop_assert_eq!(serde_json::from_str::<SiteId>(&json).is_ok(), valid);
    }

    #[test]
    fn keys_accept_exactly_the_documented_alphabet(raw in prop_oneof!["[A-Za-z0-9_-]{0,70}", "\\PC{0,70}"]) {
        let valid = (8..=64).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        prop_assert_eq!(is_valid_key(&raw), valid);
    }
}
