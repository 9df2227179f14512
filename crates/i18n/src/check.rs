//! Checks of one app's bundles against its keys and against English, shared by the widget's and
//! the console's bundle tests (native only). Each function returns the problems it found, one
//! line each, so a test can list them all at once.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::{Keys, PluralRules};

/// The languages both apps ship a bundle for.
pub const LANGUAGES: &[&str] = &["en", "lv", "th", "it", "eo", "el", "ar"];

/// A bundle's JSON text as an object; panics (the test fails) on anything else.
pub fn parse_bundle(tag: &str, text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        other => panic!("{tag}.json is not a JSON object: {other:?}"),
    }
}

/// `{name}` placeholders of a string; `{{Name}}` document placeholders count once as `{Name}`.
pub fn placeholders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else { break };
        out.insert(rest[start + 1..start + len].trim_start_matches('{').to_owned());
        rest = &rest[start + len + 1..];
    }
    out
}

/// [`key_problems`] of every language's bundle and English's [`order_problems`]; `text` reads
/// a bundle by its tag.
pub fn all_key_problems<K: Keys>(text: impl Fn(&str) -> String) -> Vec<String> {
    let keys = LANGUAGES.iter().flat_map(|tag| key_problems::<K>(tag, &parse_bundle(tag, &text(tag))));
    keys.chain(order_problems::<K>(&text("en"))).collect()
}

/// [`translation_problems`] of every language's bundle; `text` reads a bundle by its tag.
pub fn all_translation_problems(text: impl Fn(&str) -> String) -> Vec<String> {
    let english = parse_bundle("en", &text("en"));
    LANGUAGES.iter().flat_map(|tag| translation_problems(tag, &parse_bundle(tag, &text(tag)), &english)).collect()
}

/// Keys of `K` the bundle lacks, and names in it that are no key.
pub fn key_problems<K: Keys>(tag: &str, bundle: &Map<String, Value>) -> Vec<String> {
    let names: BTreeSet<&str> = K::ALL.iter().map(|k| k.name()).collect();
    let missing = names.iter().filter(|name| !bundle.contains_key(**name)).map(|name| format!("{tag}: missing {name}"));
    let unknown =
        bundle.keys().filter(|name| !names.contains(name.as_str())).map(|name| format!("{tag}: unknown key {name}"));
    missing.chain(unknown).collect()
}

/// English's key order against `K`'s: on the wire a bundle is its values in English's key order
/// ([`crate::to_wire`]) and the app reads them by `Key` position, so the two orders must be one.
pub fn order_problems<K: Keys>(english: &str) -> Vec<String> {
    let written = match crate::key_order(english) {
        Ok(names) => names,
        Err(e) => return vec![format!("en: {e}")],
    };
    let declared: Vec<&str> = K::ALL.iter().map(|k| k.name()).collect();
    match written.iter().zip(&declared).position(|(w, d)| w != d) {
        Some(at) => vec![format!(
            "en: key {at} is {} but the Key list has {} there (the bundles must list the keys in the Key list's order)",
            written[at], declared[at]
        )],
        None if written.len() != declared.len() => {
            vec![format!("en: {} keys, the Key list has {}", written.len(), declared.len())]
        }
        None => Vec::new(),
    }
}

/// Each string against English: the same placeholders, not empty, and for counted strings
/// exactly the plural categories the language needs.
pub fn translation_problems(tag: &str, bundle: &Map<String, Value>, english: &Map<String, Value>) -> Vec<String> {
    let needed: BTreeSet<&str> = PluralRules::of(tag).categories().iter().map(|c| c.name()).collect();
    let mut problems = Vec::new();
    for (name, value) in bundle {
        let Some(en) = english.get(name) else { continue };
        match (en, value) {
            (Value::String(en), Value::String(text)) => {
                if placeholders(en) != placeholders(text) {
                    problems.push(format!(
                        "{tag}.{name}: placeholders {:?}, English has {:?}",
                        placeholders(text),
                        placeholders(en)
                    ));
                }
                if text.trim().is_empty() {
                    problems.push(format!("{tag}.{name}: empty"));
                }
            }
            (Value::Object(en_forms), Value::Object(forms)) => {
                let have: BTreeSet<&str> = forms.keys().map(String::as_str).collect();
                if have != needed {
                    problems.push(format!("{tag}.{name}: categories {have:?}, {tag} needs {needed:?}"));
                }
                let en_other = en_forms.get("other").and_then(Value::as_str).unwrap_or("");
                for (category, text) in forms {
                    let mut got = placeholders(text.as_str().unwrap_or(""));
                    let mut expected = placeholders(en_other);
                    // A form for one exact number ("a minute", "دقيقة واحدة") may leave the
                    // number out; the general form must show it.
                    if category != "other" {
                        got.insert("n".into());
                        expected.insert("n".into());
                    }
                    if got != expected {
                        problems
                            .push(format!("{tag}.{name}.{category}: placeholders {got:?}, English has {expected:?}"));
                    }
                }
            }
            _ => problems.push(format!("{tag}.{name}: a string in one bundle and counted in the other")),
        }
    }
    problems
}

/// Unbalanced or unclosed braces (an editor that mirrors right-to-left text could turn `{n}`
/// into `}n{`, which would show as is).
pub fn brace_problems(tag: &str, bundle: &Map<String, Value>) -> Vec<String> {
    fn check(tag: &str, name: &str, text: &str, problems: &mut Vec<String>) {
        let mut open = false;
        for c in text.chars() {
            match (c, open) {
                ('{', false) => open = true,
                ('}', true) => open = false,
                ('{' | '}', _) => {
                    problems.push(format!("{tag}.{name}: unbalanced braces in {text:?}"));
                    return;
                }
                _ => {}
            }
        }
        if open {
            problems.push(format!("{tag}.{name}: unclosed brace in {text:?}"));
        }
    }
    let mut problems = Vec::new();
    for (name, value) in bundle {
        match value {
            Value::String(text) => check(tag, name, text, &mut problems),
            Value::Object(forms) => {
                for text in forms.values() {
                    check(tag, name, text.as_str().unwrap_or(""), &mut problems);
                }
            }
            _ => problems.push(format!("{tag}.{name}: neither a string nor an object")),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::keys! {
        Hello,
        Minutes,
    }

    #[test]
    fn reports_missing_and_unknown_keys_wrong_categories_dropped_placeholders_and_braces() {
        let english =
            parse_bundle("en", r#"{"Hello": "Hi {name}", "Minutes": {"one": "{n} minute", "other": "{n} minutes"}}"#);
        let latvian = parse_bundle(
            "lv",
            r#"{"Hello": "Sveiki", "Extra": "x", "Minutes": {"one": "{n} minūte", "other": "}n{ minūtes"}}"#,
        );
        assert_eq!(key_problems::<Key>("lv", &latvian), ["lv: unknown key Extra"]);
        assert_eq!(key_problems::<Key>("en", &english), Vec::<String>::new());
        let problems = translation_problems("lv", &latvian, &english);
        assert!(problems.iter().any(|p| p.starts_with("lv.Hello: placeholders")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("lv.Minutes: categories")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("lv.Minutes.other: placeholders")), "{problems:?}");
        assert_eq!(brace_problems("lv", &latvian).len(), 1);
        assert_eq!(translation_problems("en", &english, &english), Vec::<String>::new());
    }

    #[test]
    fn reports_a_bundle_whose_key_order_is_not_the_key_lists() {
        assert_eq!(order_problems::<Key>(r#"{"Hello": "Hi", "Minutes": {"other": "{n}"}}"#), Vec::<String>::new());
        let swapped = order_problems::<Key>(r#"{"Minutes": {"other": "{n}"}, "Hello": "Hi"}"#);
        assert_eq!(swapped.len(), 1);
        assert!(swapped[0].starts_with("en: key 0 is Minutes but the Key list has Hello"), "{swapped:?}");
        assert_eq!(order_problems::<Key>(r#"{"Hello": "Hi"}"#), ["en: 1 keys, the Key list has 2"]);
    }
}
