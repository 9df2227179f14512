//! Brand colours: the strict `#rrggbb` form the server accepts, and the WCAG 2.x contrast maths
//! that picks black or white text for a colour. Here rather than in the server so the widget
//! can check a colour (and pick a text colour for one) with exactly the server's rules.

/// White text, as [`text_color_for`] returns it.
pub const WHITE: &str = "#ffffff";
/// Black text, as [`text_color_for`] returns it.
pub const BLACK: &str = "#000000";

/// The minimum contrast WCAG 2.x AA asks for normal-size text.
pub const MIN_TEXT_CONTRAST: f64 = 4.5;

/// Parses exactly `#` and six hex digits (either case). Nothing else: the value ends up in a
/// CSS custom property on the host page, so no keyword, function or short form gets through.
pub fn parse_hex_color(raw: &str) -> Option<[u8; 3]> {
    let hex = raw.strip_prefix('#')?.as_bytes();
    if hex.len() != 6 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let byte = |i: usize| {
        let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
        digit(hex[i]) << 4 | digit(hex[i + 1])
    };
    Some([byte(0), byte(2), byte(4)])
}

/// `#rrggbb` in lower case.
pub fn format_hex_color([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// WCAG 2.x relative luminance (0 = black, 1 = white) of an sRGB colour.
pub fn relative_luminance([r, g, b]: [u8; 3]) -> f64 {
    // sRGB linearisation. WCAG's text says 0.03928 where the sRGB standard says 0.04045; no
    // 8-bit channel value lies between the two (10/255 ≈ 0.0392, 11/255 ≈ 0.0431), so both agree.
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// WCAG 2.x contrast ratio of two colours, from 1 (same) to 21 (black on white).
pub fn contrast_ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    let (light, dark) = if la >= lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

/// [`WHITE`] or [`BLACK`], whichever contrasts more with `background`. The worse of the two
/// best choices over all colours is about 4.58:1 (at luminance ≈ 0.179, where both are equal),
/// so the result always meets [`MIN_TEXT_CONTRAST`]: any brand colour gets readable text.
pub fn text_color_for(background: [u8; 3]) -> &'static str {
    if contrast_ratio(background, [255; 3]) > contrast_ratio(background, [0; 3]) {
        WHITE
    } else {
        BLACK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(raw: &str) -> [u8; 3] {
        parse_hex_color(raw).unwrap()
    }

    #[test]
    fn parses_only_six_digit_hex() {
        assert_eq!(parse_hex_color("#1d4ed8"), Some([0x1d, 0x4e, 0xd8]));
        assert_eq!(parse_hex_color("#FBBF24"), Some([0xfb, 0xbf, 0x24]));
        let short_or_long = ["", "#", "1d4ed8", "#fff", "#1d4ed8ff", "#1d4ed", " #1d4ed8", "#1d4ed8 "];
        let not_hex = ["#gggggg", "red", "#1d4eé8", "rgb(0,0,0)", "#1d4ed8;x", "var(--x)"];
        for bad in short_or_long.into_iter().chain(not_hex) {
            assert_eq!(parse_hex_color(bad), None, "{bad:?}");
        }
        assert_eq!(format_hex_color(rgb("#ABCDEF")), "#abcdef");
    }

    #[test]
    fn contrast_matches_known_values() {
        assert!((contrast_ratio([0; 3], [255; 3]) - 21.0).abs() < 1e-9);
        assert!((contrast_ratio(rgb("#777777"), rgb("#777777")) - 1.0).abs() < 1e-9);
        // Published figures (WebAIM's checker): #1d4ed8 on white 6.70:1, #767676 on white 4.54:1.
        assert!((contrast_ratio(rgb("#1d4ed8"), [255; 3]) - 6.70).abs() < 0.01);
        assert!((contrast_ratio(rgb("#767676"), [255; 3]) - 4.54).abs() < 0.01);
        assert_eq!(contrast_ratio(rgb("#1d4ed8"), [255; 3]), contrast_ratio([255; 3], rgb("#1d4ed8")));
    }

    #[test]
    fn picks_the_better_text_colour() {
        assert_eq!(text_color_for(rgb("#1d4ed8")), WHITE);
        assert!(contrast_ratio(rgb("#1d4ed8"), rgb(WHITE)) >= MIN_TEXT_CONTRAST);
        assert_eq!(text_color_for(rgb("#fbbf24")), BLACK);
        // Mid grey: white gives 4.48:1 (fails AA), black 4.69:1.
        let grey = rgb("#777777");
        assert!(contrast_ratio(grey, [255; 3]) < MIN_TEXT_CONTRAST);
        assert_eq!(text_color_for(grey), BLACK);
        assert!(contrast_ratio(grey, [0; 3]) >= MIN_TEXT_CONTRAST);
        assert_eq!(text_color_for([0; 3]), WHITE);
        assert_eq!(text_color_for([255; 3]), BLACK);
    }

    #[test]
    fn the_chosen_text_colour_always_meets_aa() {
        let mut worst = f64::MAX;
        let steps = (0..=255u8).step_by(5).chain([254, 255]);
        for r in steps.clone() {
            for g in steps.clone() {
                for b in steps.clone() {
                    let background = [r, g, b];
                    let text = text_color_for(background);
                    let ratio = contrast_ratio(background, rgb(text));
                    let other = contrast_ratio(background, rgb(if text == WHITE { BLACK } else { WHITE }));
                    assert!(ratio >= other, "{background:?}: {text} is not the better one");
                    worst = worst.min(ratio);
                }
            }
        }
        // Also every grey, where the two choices come closest to each other.
        for v in 0..=255u8 {
            let grey = [v; 3];
            worst = worst.min(contrast_ratio(grey, rgb(text_color_for(grey))));
        }
        assert!(worst >= MIN_TEXT_CONTRAST, "worst chosen contrast {worst:.3}");
    }
}
