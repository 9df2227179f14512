//! One-click rating as plain state: the visitor's choice, what the server recorded, and the
//! attempt under way. `rating_view` draws it.

use porchlight_protocol::{NewRating, RatingReceipt, RatingScale, RatingValue};

use crate::api::ApiFailure;

/// One request to make: `seq` tells a late answer to an older choice from the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub seq: u32,
    pub key: String,
    pub body: NewRating,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatingState {
    /// What the visitor picked last.
    chosen: Option<RatingValue>,
    /// What the server last confirmed for the current choice.
    recorded: Option<RatingReceipt>,
    /// The current choice's attempt (kept after a failure, so a retry reuses its key).
    attempt: Option<Attempt>,
    pending: bool,
    error: Option<ApiFailure>,
    seq: u32,
}

impl RatingState {
    pub fn chosen(&self) -> Option<RatingValue> {
        self.chosen
    }

    pub fn pending(&self) -> bool {
        self.pending
    }

    pub fn error(&self) -> Option<&ApiFailure> {
        self.error.as_ref()
    }

    /// The receipt of the current choice, once recorded: show "Thank you!".
    pub fn recorded(&self) -> Option<&RatingReceipt> {
        self.recorded.as_ref()
    }

    /// A negative rating was recorded: offer chat or a callback.
    pub fn offers_recovery(&self) -> bool {
        self.recorded.as_ref().is_some_and(|r| r.value.is_negative())
    }

    /// The visitor picked `value`. A new choice is a new submission with a new key; picking the
    /// value that is already recorded or on its way does nothing; picking the value that failed
    /// retries it with its key.
    pub fn choose(&mut self, value: RatingValue, scale: RatingScale, new_key: impl FnOnce() -> String) -> Option<Attempt> {
        if self.chosen == Some(value) {
            if self.pending || self.recorded.is_some() {
                return None;
            }
            if let Some(failed) = self.attempt.clone() {
                return self.start(failed);
            }
        }
        self.chosen = Some(value);
        self.recorded = None;
        self.seq = self.seq.wrapping_add(1);
        let body = NewRating { value: value.as_str().to_owned(), scale, page: None, comment: None, context: None };
        let attempt = Attempt { seq: self.seq, key: new_key(), body };
        self.start(attempt)
    }

    /// Sends the failed choice again, with the same key.
    pub fn retry(&mut self) -> Option<Attempt> {
        if self.pending || self.error.is_none() {
            return None;
        }
        let attempt = self.attempt.clone()?;
        self.start(attempt)
    }

    fn start(&mut self, attempt: Attempt) -> Option<Attempt> {
        self.pending = true;
        self.error = None;
        self.attempt = Some(attempt.clone());
        Some(attempt)
    }

    /// The answer to attempt `seq`. Answers to older choices are ignored (the newer choice wins).
    pub fn finish(&mut self, seq: u32, outcome: Result<RatingReceipt, ApiFailure>) {
        if seq != self.seq {
            return;
        }
        self.pending = false;
        match outcome {
            Ok(receipt) => {
                self.recorded = Some(receipt);
                self.attempt = None;
            }
            Err(failure) => self.error = Some(failure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(value: RatingValue) -> RatingReceipt {
        RatingReceipt { id: "r1".into(), value, created_ms: 1, token: None, changeable_until_ms: None, undone: false }
    }

    #[test]
    fn a_choice_is_posted_once_and_thanked() {
        let mut state = RatingState::default();
        let attempt = state.choose(RatingValue::Good, RatingScale::Faces3, || "key-00000001".into()).unwrap();
        assert_eq!(attempt.body.value, "good");
        assert_eq!(attempt.body.page, None);
        assert!(attempt.body.validate().is_ok());
        assert_eq!(state.choose(RatingValue::Good, RatingScale::Faces3, || unreachable!()), None);
        state.finish(attempt.seq, Ok(receipt(RatingValue::Good)));
        assert!(state.recorded().is_some());
        assert!(!state.offers_recovery());
        assert_eq!(state.choose(RatingValue::Good, RatingScale::Faces3, || unreachable!()), None);
    }

    #[test]
    fn negative_ratings_offer_recovery() {
        let mut state = RatingState::default();
        let attempt = state.choose(RatingValue::Bad, RatingScale::Faces3, || "key-00000001".into()).unwrap();
        assert!(!state.offers_recovery(), "not before it is recorded");
        state.finish(attempt.seq, Ok(receipt(RatingValue::Bad)));
        assert!(state.offers_recovery());
    }

    #[test]
    fn a_changed_choice_gets_a_new_key_and_wins_over_a_late_answer() {
        let mut state = RatingState::default();
        let first = state.choose(RatingValue::Bad, RatingScale::Faces3, || "key-00000001".into()).unwrap();
        let second = state.choose(RatingValue::Good, RatingScale::Faces3, || "key-00000002".into()).unwrap();
        assert_ne!(first.key, second.key);
        state.finish(first.seq, Ok(receipt(RatingValue::Bad)));
        assert!(state.recorded().is_none() && state.pending());
        state.finish(second.seq, Ok(receipt(RatingValue::Good)));
        assert_eq!(state.recorded().unwrap().value, RatingValue::Good);
    }

    #[test]
    fn a_failed_choice_is_retried_with_the_same_key() {
        let mut state = RatingState::default();
        let first = state.choose(RatingValue::Neutral, RatingScale::Faces3, || "key-00000001".into()).unwrap();
        assert_eq!(state.retry(), None, "nothing to retry while pending");
        state.finish(first.seq, Err(ApiFailure::Offline));
        assert_eq!(state.error(), Some(&ApiFailure::Offline));
        assert_eq!(state.chosen(), Some(RatingValue::Neutral), "the choice stays checked");
        let again = state.retry().unwrap();
        assert_eq!(again, first);
        assert_eq!(state.error(), None);
        // Clicking the same face after a failure is a retry too.
        state.finish(again.seq, Err(ApiFailure::Offline));
        let clicked = state.choose(RatingValue::Neutral, RatingScale::Faces3, || unreachable!()).unwrap();
        assert_eq!(clicked.key, "key-00000001");
    }
}
