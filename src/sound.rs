//! The chime for operator replies, which the visitor turns on (it is off by default: a page
//! must not start making noise by itself). A short, quiet tone made with Web Audio, so there
//! is no sound file to download and nothing for the frame's CSP to allow.
//!
//! Browsers let a frame play audio only after a gesture in that frame. Turning the chime on is
//! such a gesture; after a reload the next one is the visitor's next message (see `unlock`).
//! Until then a reply stays silent rather than ringing late.

use std::cell::RefCell;

use web_sys::{AudioContext, AudioContextState};

thread_local! {
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

fn with_context(f: impl FnOnce(&AudioContext)) {
    CONTEXT.with(|context| {
        let mut context = context.borrow_mut();
        if context.is_none() {
            *context = AudioContext::new().ok();
        }
        if let Some(context) = context.as_ref() {
            f(context);
        }
    });
}

/// Lets the chime play from now on; call it from the visitor's click or key press.
pub fn unlock() {
    with_context(|context| {
        let _ = context.resume();
    });
}

/// A short, quiet rising tone (660 → 880 Hz, a fifth of a second).
pub fn chime() {
    with_context(|context| {
        if context.state() != AudioContextState::Running {
            // Allowed once the frame has seen a gesture (any click in it); silent until then.
            let _ = context.resume();
            return;
        }
        let (Ok(tone), Ok(volume)) = (context.create_oscillator(), context.create_gain()) else { return };
        let at = context.current_time();
        let _ = tone.frequency().set_value_at_time(660.0, at);
        let _ = tone.frequency().linear_ramp_to_value_at_time(880.0, at + 0.2);
        let _ = volume.gain().set_value_at_time(0.12, at);
        let _ = volume.gain().exponential_ramp_to_value_at_time(0.001, at + 0.2);
        let _ =
            tone.connect_with_audio_node(&volume).and_then(|_| volume.connect_with_audio_node(&context.destination()));
        let _ = tone.start();
        let _ = tone.stop_with_when(at + 0.2);
    });
}
