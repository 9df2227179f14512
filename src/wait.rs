//! The header's wait-time line, from `SiteConfig.promises.chat_first_reply_secs`.

use crate::i18n::{Key, Locale};

/// How a promised wait is worded: rounded so it reads like something a person would say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitWording {
    /// Under 90 seconds.
    AboutAMinute,
    /// 2–89 minutes.
    Minutes(u32),
    /// 90 minutes and more, rounded to whole hours (so at least 2).
    Hours(u32),
}

impl WaitWording {
    pub fn from_secs(secs: u32) -> WaitWording {
        if secs < 90 {
            return WaitWording::AboutAMinute;
        }
        let minutes = secs.saturating_add(30) / 60;
        if minutes < 90 {
            WaitWording::Minutes(minutes)
        } else {
            WaitWording::Hours(minutes.saturating_add(30) / 60)
        }
    }

    pub fn text(self, locale: Locale) -> String {
        match self {
            WaitWording::AboutAMinute => locale.text(Key::WaitAboutAMinute).to_owned(),
            WaitWording::Minutes(n) => locale.format(Key::WaitMinutes, &[("n", &n.to_string())]),
            WaitWording::Hours(n) => locale.format(Key::WaitHours, &[("n", &n.to_string())]),
        }
    }
}

pub fn wait_line(locale: Locale, chat_first_reply_secs: u32) -> String {
    WaitWording::from_secs(chat_first_reply_secs).text(locale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use WaitWording::*;

    #[test]
    fn boundaries() {
        assert_eq!(WaitWording::from_secs(0), AboutAMinute);
        assert_eq!(WaitWording::from_secs(89), AboutAMinute);
        assert_eq!(WaitWording::from_secs(90), Minutes(2));
        assert_eq!(WaitWording::from_secs(300), Minutes(5));
        assert_eq!(WaitWording::from_secs(89 * 60), Minutes(89));
        assert_eq!(WaitWording::from_secs(90 * 60), Hours(2));
        assert_eq!(WaitWording::from_secs(4 * 3600), Hours(4));
        assert_eq!(WaitWording::from_secs(u32::MAX), Hours(1_193_046));
    }

    #[test]
    fn english() {
        assert_eq!(wait_line(Locale::En, 300), "Typically replies in about 5 minutes");
        assert_eq!(wait_line(Locale::En, 45), "Typically replies in about a minute");
        assert_eq!(wait_line(Locale::En, 3 * 3600), "Typically replies in about 3 hours");
    }
}
