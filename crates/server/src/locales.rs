//! The widget's languages. Each bundle (`src/i18n/{tag}.json` in the widget crate) is compiled
//! into the server, which inlines the visitor's one into the frame document: the WASM carries
//! no strings, and the frame needs no second request for them.

/// `(primary language subtag, bundle JSON)`, English first (the fallback).
const BUNDLES: &[(&str, &str)] = &[
    ("en", include_str!("../../../src/i18n/en.json")),
    ("lv", include_str!("../../../src/i18n/lv.json")),
    ("th", include_str!("../../../src/i18n/th.json")),
    ("it", include_str!("../../../src/i18n/it.json")),
    ("eo", include_str!("../../../src/i18n/eo.json")),
    ("el", include_str!("../../../src/i18n/el.json")),
    ("ar", include_str!("../../../src/i18n/ar.json")),
];

/// Languages written right to left.
const RTL: &[&str] = &["ar"];

/// A language the widget speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    pub tag: &'static str,
    pub bundle: &'static str,
}

impl Language {
    pub const ENGLISH: Language = Language { tag: BUNDLES[0].0, bundle: BUNDLES[0].1 };

    /// The first of `candidates` (a comma-separated list of BCP 47 tags, best first: the
    /// loader sends `data-locale`, the host page's `<html lang>`, then `navigator.languages`)
    /// whose language we speak, else English.
    pub fn pick(candidates: &str) -> Language {
        candidates
            .split(',')
            .filter_map(|tag| {
                let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
                BUNDLES.iter().find(|(t, _)| *t == primary)
            })
            .map(|(tag, bundle)| Language { tag, bundle })
            .next()
            .unwrap_or(Language::ENGLISH)
    }

    pub fn by_tag(tag: &str) -> Option<Language> {
        BUNDLES.iter().find(|(t, _)| *t == tag).map(|(tag, bundle)| Language { tag, bundle })
    }

    pub fn all() -> impl Iterator<Item = Language> {
        BUNDLES.iter().map(|(tag, bundle)| Language { tag, bundle })
    }

    /// The bundle without its indentation, as it goes on the wire (parsed once per language).
    fn minified(self) -> &'static str {
        static MINIFIED: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
            BUNDLES
                .iter()
                .map(|(_, json)| match serde_json::from_str::<serde_json::Value>(json) {
                    Ok(value) => value.to_string(),
                    Err(_) => (*json).to_owned(), // the bundle test reports it; serve it as is
                })
                .collect()
        });
        let index = BUNDLES.iter().position(|(tag, _)| *tag == self.tag).unwrap_or(0);
        &MINIFIED[index]
    }

    pub fn dir(self) -> &'static str {
        if RTL.contains(&self.tag) {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// `frame_html` with this language on `<html>` and its bundle inlined before `</head>` as a
    /// JSON data block (not executed, so the frame's `script-src` allows it). `</` is escaped so
    /// no string can end the block.
    pub fn inline_into(self, frame_html: &str) -> String {
        let json = self.minified().replace("</", "<\\/");
        let html = frame_html.replacen("<html lang=\"en\">", &format!("<html lang=\"{}\" dir=\"{}\">", self.tag, self.dir()), 1);
        html.replacen(
            "</head>",
            &format!("<script type=\"application/json\" id=\"pl-strings\">{json}</script>\n</head>"),
            1,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_first_language_we_speak() {
        assert_eq!(Language::pick("lv-LV").tag, "lv");
        assert_eq!(Language::pick("fr,th-TH,en").tag, "th", "unknown languages are skipped");
        assert_eq!(Language::pick("FR-be, AR").tag, "ar");
        assert_eq!(Language::pick("").tag, "en");
        assert_eq!(Language::pick("xx,zz").tag, "en");
        assert_eq!(Language::pick("el_GR").tag, "el");
    }

    #[test]
    fn inlines_the_bundle_and_direction() {
        let html = "<!doctype html>\n<html lang=\"en\">\n<head>\n<title>x</title>\n</head>\n<body></body></html>";
        let out = Language::pick("ar").inline_into(html);
        assert!(out.contains("<html lang=\"ar\" dir=\"rtl\">"));
        assert!(out.contains("<script type=\"application/json\" id=\"pl-strings\">{"));
        assert_eq!(out.matches("</script>").count(), 1);
        assert!(Language::pick("en").inline_into(html).contains("dir=\"ltr\""));
    }

    #[test]
    fn every_bundle_is_a_json_object() {
        for language in Language::all() {
            let value: serde_json::Value = serde_json::from_str(language.bundle).unwrap_or_else(|e| panic!("{}: {e}", language.tag));
            assert!(value.is_object(), "{}", language.tag);
        }
    }
}
