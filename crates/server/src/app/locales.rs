//! The widget's and the operator console's languages. Each bundle (`src/i18n/{tag}.json` in the
//! widget crate, `crates/console/i18n/{tag}.json` for the console) is compiled into the server,
//! which inlines the user's one into the app's document: the WASM carries no strings, and the
//! document needs no second request for them.

/// `(primary language subtag, bundle JSON)`, English first (the fallback).
const BUNDLES: &[(&str, &str)] = &[
    ("en", include_str!("../../../../src/i18n/en.json")),
    ("lv", include_str!("../../../../src/i18n/lv.json")),
    ("th", include_str!("../../../../src/i18n/th.json")),
    ("it", include_str!("../../../../src/i18n/it.json")),
    ("eo", include_str!("../../../../src/i18n/eo.json")),
    ("el", include_str!("../../../../src/i18n/el.json")),
    ("ar", include_str!("../../../../src/i18n/ar.json")),
];

/// The operator console's bundles: the same languages, in the same order.
const CONSOLE_BUNDLES: &[(&str, &str)] = &[
    ("en", include_str!("../../../console/i18n/en.json")),
    ("lv", include_str!("../../../console/i18n/lv.json")),
    ("th", include_str!("../../../console/i18n/th.json")),
    ("it", include_str!("../../../console/i18n/it.json")),
    ("eo", include_str!("../../../console/i18n/eo.json")),
    ("el", include_str!("../../../console/i18n/el.json")),
    ("ar", include_str!("../../../console/i18n/ar.json")),
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
        pick_in(BUNDLES, candidates.split(','))
    }

    /// The console's language for an `Accept-Language` header (`ar, en-US;q=0.9`): the first of
    /// its languages, by descending q-value and then in the order sent, that the console speaks;
    /// else English. `q=0` ("not this one") and `*` never pick a language.
    pub fn for_console(accept_language: &str) -> Language {
        let mut ranked: Vec<(u16, &str)> = accept_language
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                    .next()
                    .map_or(Some(1000), quality)?;
                (q > 0 && !tag.is_empty() && tag != "*").then_some((q, tag))
            })
            .collect();
        // Stable: equal q-values keep the order the browser sent.
        ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
        pick_in(CONSOLE_BUNDLES, ranked.into_iter().map(|(_, tag)| tag))
    }

    pub fn by_tag(tag: &str) -> Option<Language> {
        BUNDLES.iter().find(|(t, _)| *t == tag).map(|(tag, bundle)| Language { tag, bundle })
    }

    pub fn all() -> impl Iterator<Item = Language> {
        BUNDLES.iter().map(|(tag, bundle)| Language { tag, bundle })
    }

    /// The bundle as it goes on the wire: its values in its app's English key order, a JSON
    /// array without key names (`porchlight_i18n::to_wire`; converted once per bundle, of the
    /// widget's and the console's).
    fn wire(self) -> &'static str {
        static WIRE: std::sync::LazyLock<Vec<(&'static str, String)>> = std::sync::LazyLock::new(|| {
            let of_app = |table: &'static [(&'static str, &'static str)]| {
                let english = table[0].1;
                table.iter().map(move |(_, json)| match porchlight_i18n::to_wire(json, english) {
                    Ok(wire) => (*json, wire),
                    // The bundle tests report a malformed bundle; the app then shows nothing.
                    Err(_) => (*json, "[]".to_owned()),
                })
            };
            of_app(BUNDLES).chain(of_app(CONSOLE_BUNDLES)).collect()
        });
        // By content, not address: the tables are consts, whose data may be duplicated per use.
        WIRE.iter().find(|(json, _)| *json == self.bundle).map_or("[]", |(_, wire)| wire.as_str())
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
        let json = self.wire().replace("</", "<\\/");
        let html = frame_html.replacen(
            "<html lang=\"en\">",
            &format!("<html lang=\"{}\" dir=\"{}\">", self.tag, self.dir()),
            1,
        );
        html.replacen(
            "</head>",
            &format!("<script type=\"application/json\" id=\"pl-strings\">{json}</script>\n</head>"),
            1,
        )
    }

    /// The console document: like [`Language::inline_into`], after filling the template's own
    /// `{{Key}}` placeholders (its `<title>` and the line shown while the WASM loads) with this
    /// language's strings, HTML-escaped. An unknown name is left as is (the console's bundle
    /// test checks the template's names).
    pub fn inline_into_console(self, console_html: &str) -> String {
        let strings = serde_json::from_str::<serde_json::Value>(self.bundle).unwrap_or_default();
        let mut out = String::with_capacity(console_html.len());
        let mut rest = console_html;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                rest = &rest[start..];
                break;
            };
            match strings.get(&after[..end]).and_then(serde_json::Value::as_str) {
                Some(text) => out.push_str(&escape_html(text)),
                None => out.push_str(&rest[start..start + 2 + end + 2]),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        self.inline_into(&out)
    }
}

/// The first candidate whose primary subtag has a bundle in `table`, else English.
fn pick_in<'a>(
    table: &'static [(&'static str, &'static str)],
    candidates: impl IntoIterator<Item = &'a str>,
) -> Language {
    candidates
        .into_iter()
        .filter_map(|tag| {
            let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
            table.iter().find(|(t, _)| *t == primary)
        })
        .map(|(tag, bundle)| Language { tag, bundle })
        .next()
        .unwrap_or(Language { tag: table[0].0, bundle: table[0].1 })
}

/// An `Accept-Language` q-value in thousandths (`0.8` → 800); `None` when malformed, which
/// drops the entry.
fn quality(raw: &str) -> Option<u16> {
    let value: f32 = raw.trim().parse().ok()?;
    (0.0..=1.0).contains(&value).then(|| (value * 1000.0).round() as u16)
}

/// Text made safe to put in HTML, in element content or a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
        assert!(out.contains("<script type=\"application/json\" id=\"pl-strings\">[\""), "the wire form: an array");
        assert_eq!(out.matches("</script>").count(), 1);
        assert!(Language::pick("en").inline_into(html).contains("dir=\"ltr\""));
    }

    #[test]
    fn every_bundle_is_a_json_object() {
        for language in Language::all() {
            let value: serde_json::Value =
                serde_json::from_str(language.bundle).unwrap_or_else(|e| panic!("{}: {e}", language.tag));
            assert!(value.is_object(), "{}", language.tag);
        }
        for (tag, bundle) in CONSOLE_BUNDLES {
            let value: serde_json::Value =
                serde_json::from_str(bundle).unwrap_or_else(|e| panic!("console {tag}: {e}"));
            assert!(value.is_object(), "console {tag}");
        }
    }

    #[test]
    fn the_console_speaks_the_widgets_languages() {
        let widget: Vec<&str> = Language::all().map(|l| l.tag).collect();
        let console: Vec<&str> = CONSOLE_BUNDLES.iter().map(|(tag, _)| *tag).collect();
        assert_eq!(widget, console);
    }

    #[test]
    fn console_language_from_accept_language() {
        let pick = |header: &str| Language::for_console(header).tag;
        assert_eq!(pick("ar"), "ar");
        assert_eq!(pick("lv-LV,lv;q=0.9,en-US;q=0.8,en;q=0.7"), "lv");
        assert_eq!(pick("fr-FR, fr;q=0.9, el;q=0.8, en;q=0.7"), "el", "unsupported languages are skipped");
        assert_eq!(pick("en;q=0.5, th;q=0.9"), "th", "a higher q-value wins over order");
        assert_eq!(pick("it;q=0.8, eo;q=0.8"), "it", "equal q-values keep the order sent");
        assert_eq!(pick("ar;q=0, lv"), "lv", "q=0 means not this one");
        assert_eq!(pick("ar;q=abc, th"), "th", "a malformed q-value drops the entry");
        assert_eq!(pick("*"), "en");
        assert_eq!(pick(""), "en");
        assert_eq!(pick("de-CH, fr"), "en", "nothing we speak: English");
        assert_eq!(pick("  EL-gr ;Q=1"), "el");
        // The console's own bundle, not the widget's.
        let ar = Language::for_console("ar");
        assert!(ar.bundle.contains("\"LoginSubmit\""));
        assert!(!Language::pick("ar").bundle.contains("\"LoginSubmit\""));
    }

    #[test]
    fn inlines_the_console_bundle_and_fills_the_document() {
        let html = "<!doctype html>\n<html lang=\"en\">\n<head>\n<title>{{ConsoleTitle}}</title>\n</head>\n\
                    <body><p>{{Loading}}</p><p>{{NoSuchKey}}</p><p>{{unclosed</p></body></html>";
        let out = Language::for_console("ar-EG,en;q=0.5").inline_into_console(html);
        assert!(out.contains("<html lang=\"ar\" dir=\"rtl\">"));
        assert!(out.contains("<title>وحدة تحكم Porchlight</title>"), "{out}");
        assert!(out.contains("<p>جارٍ التحميل…</p>"));
        assert!(out.contains("<p>{{NoSuchKey}}</p>"), "unknown names stay");
        assert!(out.contains("<p>{{unclosed</p>"));
        assert!(out.contains("<script type=\"application/json\" id=\"pl-strings\">[\""), "the wire form: an array");
        assert!(out.contains("\"وحدة تحكم Porchlight\""), "{out}");
        assert!(!out.contains("\"ConsoleTitle\""), "no key names on the wire");
        assert_eq!(out.matches("</script>").count(), 1);
        let en = Language::for_console("").inline_into_console(html);
        assert!(en.contains("<html lang=\"en\" dir=\"ltr\">"));
        assert!(en.contains("<title>Porchlight console</title>"));
        assert_eq!(escape_html("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
