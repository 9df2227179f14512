//! The console's language bundles (`crates/console/i18n/*.json`) against its keys: none missing,
//! none unknown, none unused in the code or `index.html`, every plural category each language
//! needs, and the same placeholders as English (a translator who drops `{promise}` would hide
//! what was promised).

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::path::PathBuf;

use porchlight_console::i18n::{Catalog, Key, Locale, Plural, PluralRules};
use serde_json::Value;

const LANGUAGES: &[&str] = &["en", "lv", "th", "it", "eo", "el", "ar"];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bundle_text(tag: &str) -> String {
    let path = crate_dir().join("i18n").join(format!("{tag}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn bundle(tag: &str) -> serde_json::Map<String, Value> {
    match serde_json::from_str(&bundle_text(tag)) {
        Ok(Value::Object(map)) => map,
        other => panic!("{tag}.json is not a JSON object: {other:?}"),
    }
}

/// `{name}` placeholders of a string; `{{Name}}` document placeholders count once as `{Name}`.
fn placeholders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else { break };
        out.insert(rest[start + 1..start + len].trim_start_matches('{').to_owned());
        rest = &rest[start + len + 1..];
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
                    for (category, text) in forms {
                        let text = text.as_str().unwrap_or("");
                        let mut got = placeholders(text);
                        let mut expected = placeholders(en_other);
                        // A form for one exact number ("نجمة واحدة") may leave the number
                        // out; the general form must show it.
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

/// The code that shows strings: the console's Rust sources and its document template.
fn code() -> (String, String) {
    let mut rust = String::new();
    for entry in std::fs::read_dir(crate_dir().join("src")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            rust.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let html = std::fs::read_to_string(crate_dir().join("index.html")).unwrap();
    (rust, html)
}

/// Every key is shown somewhere: a string nobody shows is a string translators pay for.
#[test]
fn every_key_is_used() {
    let (rust, html) = code();
    let unused: Vec<&str> = Key::ALL
        .iter()
        .map(|k| k.name())
        .filter(|name| !rust.contains(&format!("Key::{name}")) && !html.contains(&format!("{{{{{name}}}}}")))
        .collect();
    assert!(unused.is_empty(), "keys no code uses: {unused:?}");
}

/// `index.html` names only keys that exist (the server leaves an unknown `{{Name}}` as is).
#[test]
fn the_document_template_names_known_keys() {
    let (_, html) = code();
    let names: BTreeSet<&str> = Key::ALL.iter().map(|k| k.name()).collect();
    let used = placeholders(&html);
    assert!(!used.is_empty(), "index.html has its title and loading line as placeholders");
    for name in &used {
        assert!(names.contains(name.as_str()), "index.html names unknown key {{{{{name}}}}}");
    }
}

#[test]
fn every_bundle_parses_into_a_complete_catalog() {
    for tag in LANGUAGES {
        let catalog = Catalog::from_json(tag, &bundle_text(tag)).unwrap();
        for key in Key::ALL {
            assert!(catalog.entry(*key).is_some(), "{tag}: {}", key.name());
        }
        assert_eq!(catalog.rules(), PluralRules::of(tag));
    }
}

#[test]
fn counts_pick_the_languages_plural_form() {
    let load = |tag: &str| Locale::new(Catalog::from_json(tag, &bundle_text(tag)).unwrap());
    let en = load("en");
    assert_eq!(en.count(Key::RatingsTotal, 1, &[("days", "30")]), "1 rating in the last 30 days");
    assert_eq!(en.count(Key::RatingStars, 3, &[]), "3 stars");
    let lv = load("lv");
    assert_eq!(lv.count(Key::RatingStars, 1, &[]), "1 zvaigzne");
    // Latvian "one" covers 21, 31 … (not 11); 10 is "zero", which takes the plural here.
    assert_eq!(lv.count(Key::RatingStars, 21, &[]), "21 zvaigzne");
    assert_eq!(lv.count(Key::RatingStars, 11, &[]), "11 zvaigznes");
    assert_eq!(lv.count(Key::RatingStars, 10, &[]), "10 zvaigznes");
    assert_eq!(lv.count(Key::RatingStars, 3, &[]), "3 zvaigznes");
    let ar = load("ar");
    assert_eq!(ar.count(Key::RatingStars, 2, &[]), "نجمتان");
    assert_eq!(ar.count(Key::RatingStars, 3, &[]), "3 نجوم");
    for tag in LANGUAGES {
        let locale = load(tag);
        let rules = PluralRules::of(tag);
        for n in [0u64, 1, 2, 3, 5, 11, 21, 100] {
            let text = locale.count(Key::RatingsTotal, n, &[("days", "30")]);
            assert!(text.contains("30"), "{tag} RatingsTotal({n}) = {text:?} hides the period");
            if rules.select(n) == Plural::Other {
                assert!(text.contains(&n.to_string()), "{tag} RatingsTotal({n}) = {text:?} hides the number");
            }
        }
    }
}

/// Placeholders are well formed in every string (an editor that mirrors right-to-left text
/// could turn `{n}` into `}n{`, which would show as is).
#[test]
fn placeholders_are_well_formed() {
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
    for tag in LANGUAGES {
        for (name, value) in bundle(tag) {
            match value {
                Value::String(text) => check(tag, &name, &text, &mut problems),
                Value::Object(forms) => {
                    for text in forms.values() {
                        check(tag, &name, text.as_str().unwrap_or(""), &mut problems);
                    }
                }
                _ => problems.push(format!("{tag}.{name}: neither a string nor an object")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
