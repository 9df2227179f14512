//! The language bundles (`src/i18n/*.json`) against the widget's keys: none missing, none
//! unknown, none unused in the code, every plural category each language needs, and the same
//! placeholders as English (a translator who drops `{when}` would hide the promised time).

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::path::Path;

use porchlight_widget::i18n::{Catalog, Key, Locale, Plural, PluralRules};
use serde_json::Value;

const LANGUAGES: &[&str] = &["en", "lv", "th", "it", "eo", "el", "ar"];

fn bundle(tag: &str) -> serde_json::Map<String, Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/i18n").join(format!("{tag}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => map,
        other => panic!("{tag}.json is not a JSON object: {other:?}"),
    }
}

fn placeholders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else { break };
        out.insert(rest[start + 1..start + len].to_owned());
        rest = &rest[start + len..];
    }
    out
}

#[test]
fn every_language_has_every_key_and_nothing_else() {
    let names: BTreeSet<&str> = Key::ALL.iter().map(|k| k.name()).collect();
    let mut problems = Vec::new();
    for tag in LANGUAGES {
        let bundle = bundle(tag);
        for name in &names {
            if !bundle.contains_key(*name) {
                problems.push(format!("{tag}: missing {name}"));
            }
        }
        for name in bundle.keys() {
            if !names.contains(name.as_str()) {
                problems.push(format!("{tag}: unknown key {name}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn counted_strings_have_each_plural_category_and_the_same_placeholders_as_english() {
    let english = bundle("en");
    let mut problems = Vec::new();
    for tag in LANGUAGES {
        let rules = PluralRules::of(tag);
        let needed: BTreeSet<&str> = rules.categories().iter().map(|c| c.name()).collect();
        for (name, value) in bundle(tag) {
            let Some(en) = english.get(&name) else { continue };
            match (en, &value) {
                (Value::String(en), Value::String(text)) => {
                    if placeholders(en) != placeholders(text) {
                        problems.push(format!("{tag}.{name}: placeholders {:?}, English has {:?}", placeholders(text), placeholders(en)));
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
                    let mut expected = placeholders(en_other);
                    for (category, text) in forms {
                        let text = text.as_str().unwrap_or("");
                        let mut got = placeholders(text);
                        // A form for one exact number ("a minute", "دقيقة واحدة") may leave
                        // the number out; the general form must show it.
                        if category != "other" {
                            got.insert("n".into());
                            expected.insert("n".into());
                        }
                        if got != expected {
                            problems.push(format!("{tag}.{name}.{category}: placeholders {got:?}, English has {expected:?}"));
                        }
                    }
                }
                _ => problems.push(format!("{tag}.{name}: a string in one bundle and counted in the other")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every key is used somewhere in the widget's code: a string nobody shows is a string
/// translators pay for.
#[test]
fn every_key_is_used() {
    let mut code = String::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            code.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let unused: Vec<&str> = Key::ALL.iter().map(|k| k.name()).filter(|name| !code.contains(&format!("Key::{name}"))).collect();
    assert!(unused.is_empty(), "keys no code uses: {unused:?}");
}

#[test]
fn every_bundle_parses_into_a_complete_catalog() {
    for tag in LANGUAGES {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/i18n").join(format!("{tag}.json"));
        let catalog = Catalog::from_json(tag, &std::fs::read_to_string(path).unwrap()).unwrap();
        for key in Key::ALL {
            assert!(catalog.entry(*key).is_some(), "{tag}: {}", key.name());
        }
        assert_eq!(catalog.rules(), PluralRules::of(tag));
    }
}

#[test]
fn counts_pick_the_languages_plural_form() {
    let load = |tag: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/i18n").join(format!("{tag}.json"));
        Locale::new(Catalog::from_json(tag, &std::fs::read_to_string(path).unwrap()).unwrap())
    };
    let en = load("en");
    assert_eq!(en.count(Key::InMinutes, 1, &[]), "in 1 minute");
    assert_eq!(en.count(Key::InMinutes, 5, &[]), "in 5 minutes");
    // Each language's forms differ where its rules say they do.
    for tag in LANGUAGES {
        let locale = load(tag);
        let rules = PluralRules::of(tag);
        for n in [0u64, 1, 2, 3, 5, 11, 21, 100] {
            let form = rules.select(n);
            let text = locale.count(Key::InDays, n, &[]);
            if form == Plural::Other {
                assert!(text.contains(&n.to_string()), "{tag} InDays({n}) = {text:?} hides the number");
            }
        }
    }
}
