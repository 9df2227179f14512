//! Alerts for a console that is not being looked at: a count of new visitor messages in the tab
//! title, a short chime (on unless the operator turned it off in this browser) and a desktop
//! notification (permission asked from a click, never on load). Plain logic here ([`Unseen`]);
//! the browser calls are [`show`], [`chime`] and [`notify`].

use std::cell::RefCell;

use wasm_bindgen::JsCast;

/// Visitor messages the operator has not seen: those that arrived while the tab was hidden or
/// in a conversation other than the one on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unseen(pub u32);

impl Unseen {
    /// A message arrived. Returns whether it counts (and so alerts).
    pub fn arrived(&mut self, from_visitor: bool, on_screen: bool, tab_hidden: bool) -> bool {
        let counts = from_visitor && (tab_hidden || !on_screen);
        if counts {
            self.0 = self.0.saturating_add(1);
        }
        counts
    }

    /// The operator looked (the tab is visible again, or they opened a conversation).
    pub fn seen(&mut self) {
        self.0 = 0;
    }

    /// `(3) Porchlight console`, or the plain title when nothing is unseen.
    pub fn title(self, base: &str) -> String {
        if self.0 == 0 {
            base.to_owned()
        } else {
            format!("({}) {base}", self.0)
        }
    }
}

/// Whether the page is hidden (another tab, minimised).
pub fn tab_hidden() -> bool {
    web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden())
}

pub fn show(title: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(title);
    }
}

/// `Notification.permission` when the browser has notifications: `default`, `granted`, `denied`.
pub fn permission() -> Option<String> {
    let window = web_sys::window()?;
    let notification = js_sys::Reflect::get(&window, &"Notification".into()).ok().filter(|v| v.is_function())?;
    js_sys::Reflect::get(&notification, &"permission".into()).ok()?.as_string()
}

/// Asks for permission (must run inside a click handler); `then` learns the answer.
pub fn ask(then: impl FnOnce(String) + 'static) {
    let Some(request) = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"Notification".into()).ok())
        .and_then(|n| js_sys::Reflect::get(&n, &"requestPermission".into()).ok().map(|f| (n, f)))
    else {
        return;
    };
    let (notification, function) = request;
    let Ok(function) = function.dyn_into::<js_sys::Function>() else { return };
    let Ok(promise) = function.call0(&notification).and_then(|p| p.dyn_into::<js_sys::Promise>()) else { return };
    wasm_bindgen_futures::spawn_local(async move {
        let answer = wasm_bindgen_futures::JsFuture::from(promise).await.ok().and_then(|v| v.as_string());
        then(answer.unwrap_or_else(|| "default".into()));
    });
}

/// A desktop notification, when granted: `title`, and the message as its body.
pub fn notify(title: &str, body: &str) {
    if permission().as_deref() != Some("granted") {
        return;
    }
    let Some(constructor) = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"Notification".into()).ok())
        .and_then(|n| n.dyn_into::<js_sys::Function>().ok())
    else {
        return;
    };
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"body".into(), &body.into());
    // One notification per conversation: a new one replaces the last instead of piling up.
    let _ = js_sys::Reflect::set(&options, &"tag".into(), &"porchlight-visitor-message".into());
    let args = js_sys::Array::of2(&title.into(), &options);
    let _ = js_sys::Reflect::construct(&constructor, &args);
}

/// Where the operator's "no sound" choice is kept (this browser only; the console is our own
/// origin, so this is the site owner's storage, not a host page's).
const SOUND_OFF_KEY: &str = "porchlight-console-sound-off";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Whether alerts make a sound: yes unless turned off here.
pub fn sound_on() -> bool {
    storage().and_then(|s| s.get_item(SOUND_OFF_KEY).ok().flatten()).is_none()
}

pub fn set_sound(on: bool) {
    if let Some(storage) = storage() {
        let _ = if on { storage.remove_item(SOUND_OFF_KEY) } else { storage.set_item(SOUND_OFF_KEY, "1") };
    }
}

thread_local! {
    /// One audio context for the page's life: browsers cap how many a page may create.
    static AUDIO: RefCell<Option<web_sys::AudioContext>> = const { RefCell::new(None) };
}

/// Two short soft tones (0.25 s in all), when sound is on. The operator has clicked in the page
/// (log-in), so the browser lets it play.
pub fn chime() {
    if !sound_on() {
        return;
    }
    AUDIO.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = web_sys::AudioContext::new().ok();
        }
        let Some(context) = cell.as_ref() else { return };
        let _ = context.resume();
        let start = context.current_time();
        for (offset, frequency) in [(0.0, 880.0), (0.12, 1_175.0)] {
            let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain()) else { return };
            oscillator.frequency().set_value(frequency);
            gain.gain().set_value(0.08);
            let _ = oscillator.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&context.destination());
            let _ = oscillator.start_with_when(start + offset);
            let _ = oscillator.stop_with_when(start + offset + 0.12);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_visitor_messages_the_operator_cannot_see_count() {
        let mut unseen = Unseen::default();
        assert!(!unseen.arrived(true, true, false), "on screen in a visible tab");
        assert!(!unseen.arrived(false, false, true), "operators' own replies never alert");
        assert!(unseen.arrived(true, false, false), "another conversation");
        assert!(unseen.arrived(true, true, true), "the tab is hidden");
        assert_eq!(unseen.title("Porchlight"), "(2) Porchlight");
        unseen.seen();
        assert_eq!(unseen.title("Porchlight"), "Porchlight");
    }
}
