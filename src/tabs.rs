//! The panel's three tabs and their keyboard order.

use crate::i18n::Key;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Chat,
    Callback,
    Rating,
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Chat, Tab::Callback, Tab::Rating];

    /// The tab button's id, also its `data-testid`.
    pub fn id(self) -> &'static str {
        match self {
            Tab::Chat => "pl-tab-chat",
            Tab::Callback => "pl-tab-callback",
            Tab::Rating => "pl-tab-rating",
        }
    }

    pub fn panel_id(self) -> &'static str {
        match self {
            Tab::Chat => "pl-tabpanel-chat",
            Tab::Callback => "pl-tabpanel-callback",
            Tab::Rating => "pl-tabpanel-rating",
        }
    }

    pub fn label(self) -> Key {
        match self {
            Tab::Chat => Key::TabChat,
            Tab::Callback => Key::TabCallback,
            Tab::Rating => Key::TabRating,
        }
    }

    /// The id of the control to focus when the visitor is sent to this tab.
    pub fn first_control_id(self) -> &'static str {
        match self {
            Tab::Chat => "pl-chat-input",
            Tab::Callback => "pl-cb-name",
            Tab::Rating => "pl-rating-bad",
        }
    }

    /// Where a key press in the tab list moves the selection (WAI-ARIA tabs pattern, wrapping).
    pub fn after_key(self, key: &str) -> Option<Tab> {
        let i = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0);
        let n = Tab::ALL.len();
        match key {
            "ArrowRight" | "ArrowDown" => Some(Tab::ALL[(i + 1) % n]),
            "ArrowLeft" | "ArrowUp" => Some(Tab::ALL[(i + n - 1) % n]),
            "Home" => Some(Tab::ALL[0]),
            "End" => Some(Tab::ALL[n - 1]),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_keys_wrap() {
        assert_eq!(Tab::Chat.after_key("ArrowRight"), Some(Tab::Callback));
        assert_eq!(Tab::Rating.after_key("ArrowRight"), Some(Tab::Chat));
        assert_eq!(Tab::Chat.after_key("ArrowLeft"), Some(Tab::Rating));
        assert_eq!(Tab::Callback.after_key("Home"), Some(Tab::Chat));
        assert_eq!(Tab::Chat.after_key("End"), Some(Tab::Rating));
        assert_eq!(Tab::Chat.after_key("a"), None);
    }
}
