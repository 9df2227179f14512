//! The widget's own JSON reader (`porchlight_protocol::json`, no serde in the WASM) against
//! `serde_json`: random documents read to the same tree, and random text is accepted or refused
//! by both alike. Bounded for CI (`PORCHLIGHT_FUZZ_CASES` raises it, as in `fuzz.rs`).

use porchlight_protocol::json::{Json, MAX_DEPTH};
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    let cases = std::env::var("PORCHLIGHT_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// What our reader should make of what serde_json read.
fn expected(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => n.as_i64().map_or(Json::OtherNumber, Json::Int),
        Value::String(s) => Json::String(s.clone()),
        Value::Array(items) => Json::Array(items.iter().map(expected).collect()),
        Value::Object(fields) => Json::Object(fields.iter().map(|(k, v)| (k.clone(), expected(v))).collect()),
    }
}

fn documents() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\"\\\\/\u{0}-\u{1f}\u{7f}-\u{ffff}]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Nesting depth of a text, counting brackets outside strings.
fn depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for c in text.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (false, _, '"') => in_string = true,
            (false, _, '[' | '{') => {
                depth += 1;
                max = max.max(depth);
            }
            (false, _, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn documents_read_to_the_same_tree_compact_and_pretty(value in documents()) {
        for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
            prop_assert_eq!(Json::parse(&text), Some(expected(&value)), "{}", text);
            prop_assert_eq!(Json::error_at(&text), None);
        }
    }

    #[test]
    fn text_is_accepted_or_refused_by_both_alike(text in "[\\[\\]{}\",:0-9a-z\\\\. +eE-]{0,40}") {
        prop_assume!(depth(&text) <= MAX_DEPTH);
        let ours = Json::parse(&text);
        let theirs = serde_json::from_str::<Value>(&text);
        prop_assert_eq!(ours.is_some(), theirs.is_ok(), "{:?}: ours {:?}, serde {:?}", text, ours, theirs);
        if let (Some(ours), Ok(theirs)) = (&ours, &theirs) {
            // serde_json keeps one of duplicate keys; compare only texts without duplicates.
            if !matches!(theirs, Value::Object(_)) || !text.contains(',') {
                prop_assert_eq!(ours, &expected(theirs));
            }
        }
    }

    #[test]
    fn a_refused_text_says_where_reading_stopped(text in "[\\[\\]{}\",:0-9a-z .-]{1,30}") {
        match Json::error_at(&text) {
            None => prop_assert!(Json::parse(&text).is_some()),
            Some(at) => {
                prop_assert!(Json::parse(&text).is_none());
                prop_assert!(at <= text.len());
            }
        }
    }
}

#[test]
fn error_positions_point_at_the_fault() {
    assert_eq!(Json::error_at(r#"{"a": 1}"#), None);
    assert_eq!(Json::error_at(r#"{"a": 1,}"#), Some(8), "the stray comma's closing brace");
    assert_eq!(Json::error_at(r#"[1, 2] x"#), Some(7), "trailing text");
    assert_eq!(Json::error_at(r#"{"a": tru}"#), Some(6), "a broken literal");
}
