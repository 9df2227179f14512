//! What the widget may promise right now: state, chat estimate, callback and message times.
//! Pure functions of their inputs (the time included), so every rule is tested without a
//! server, a database or a clock.
//!
//! # The chat estimate
//!
//! 1. Samples: conversations started during business hours in the last
//!    [`HISTORY_WINDOW_MS`] (14 days). A sample is the time from the visitor's first message to
//!    the first operator message, capped at [`SAMPLE_CAP_SECS`] (4 h) so one forgotten
//!    conversation cannot explode the estimate. A conversation still unanswered after the cap
//!    counts as a capped sample (it waited at least that long); one unanswered for less is in
//!    the queue instead.
//! 2. Base: with fewer than [`MIN_SAMPLES`] samples, the posted promise (basis `posted`);
//!    otherwise the 80th percentile (nearest rank) of the samples (basis `history`), raised to
//!    the posted promise if lower: under-promise, over-deliver.
//! 3. Queue: conversations started in the last [`QUEUE_WINDOW_MS`] still waiting for a first
//!    reply. A new visitor waits behind them; an operator takes about
//!    [`PARALLEL_CHATS`] conversations at once, so
//!    `expected = base × (PARALLEL_CHATS + queue) / PARALLEL_CHATS`.
//! 4. Rounded up to a whole minute, and capped at [`MAX_ESTIMATE_SECS`] (or the promise, if
//!    that is longer).
//!
//! Every step is monotone, so the estimate is never below the promise and never decreases as
//! the queue grows (both are property-tested).

use porchlight_protocol::{
    Availability, AvailabilityState, CallbackExpectation, ChatExpectation, EstimateBasis, MessageExpectation,
    PresenceStatus, Promises,
};

use super::hours::BusinessHours;

pub const HISTORY_WINDOW_MS: i64 = 14 * 24 * 3_600_000;
pub const SAMPLE_CAP_SECS: u32 = 4 * 3_600;
pub const QUEUE_WINDOW_MS: i64 = SAMPLE_CAP_SECS as i64 * 1_000;
pub const MIN_SAMPLES: usize = 10;
pub const PARALLEL_CHATS: u32 = 2;
pub const MAX_ESTIMATE_SECS: u32 = 8 * 3_600;
/// Busy when the estimate is more than this many times the promise…
pub const BUSY_FACTOR: u32 = 2;
/// …or when this many conversations wait for a first reply.
pub const BUSY_QUEUE: u32 = 5;

/// Whether an operator is at the desk for a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorStatus {
    Online,
    Away,
}

impl OperatorStatus {
    pub fn parse(raw: &str) -> Option<OperatorStatus> {
        match raw {
            "online" => Some(OperatorStatus::Online),
            "away" => Some(OperatorStatus::Away),
            _ => None,
        }
    }

    pub fn from_wire(status: PresenceStatus) -> Option<OperatorStatus> {
        match status {
            PresenceStatus::Online => Some(OperatorStatus::Online),
            PresenceStatus::Away => Some(OperatorStatus::Away),
            PresenceStatus::Unknown => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OperatorStatus::Online => "online",
            OperatorStatus::Away => "away",
        }
    }

    pub fn to_wire(self) -> PresenceStatus {
        match self {
            OperatorStatus::Online => PresenceStatus::Online,
            OperatorStatus::Away => PresenceStatus::Away,
        }
    }
}

/// When a conversation started and when an operator first answered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationTiming {
    pub started_ms: i64,
    pub first_reply_ms: Option<i64>,
}

/// The estimator's inputs, already reduced to numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatInputs<'a> {
    pub posted_secs: u32,
    /// First-response times in seconds (capped or not: the estimator caps them again).
    pub samples_secs: &'a [u32],
    /// Conversations waiting for a first reply right now.
    pub queue: u32,
}

/// The chat estimate described in the module documentation.
pub fn estimate_chat_wait(input: &ChatInputs<'_>) -> ChatExpectation {
    let posted = input.posted_secs;
    let (base, basis) = if input.samples_secs.len() < MIN_SAMPLES {
        (posted, EstimateBasis::Posted)
    } else {
        let mut samples: Vec<u32> = input.samples_secs.iter().map(|&s| s.min(SAMPLE_CAP_SECS)).collect();
        samples.sort_unstable();
        // Nearest rank: the smallest sample with at least 80 % of samples at or below it.
        let rank = (samples.len() * 4).div_ceil(5);
        (samples[rank - 1].max(posted), EstimateBasis::History)
    };
    let parallel = u64::from(PARALLEL_CHATS);
    let queued = u64::from(base).saturating_mul(parallel + u64::from(input.queue));
    let adjusted = queued.div_ceil(parallel);
    let rounded = adjusted.div_ceil(60) * 60;
    let ceiling = u64::from(MAX_ESTIMATE_SECS.max(posted));
    let expected = rounded.min(ceiling) as u32;
    ChatExpectation { expected_wait_secs: expected, posted_secs: posted, basis }
}

/// Splits conversation timings into estimator samples and the current queue.
pub fn samples_and_queue(timings: &[ConversationTiming], hours: &BusinessHours, now_ms: i64) -> (Vec<u32>, u32) {
    let cap_ms = i64::from(SAMPLE_CAP_SECS) * 1_000;
    // The window's openings, resolved once: a busy site has thousands of conversations.
    let openings: Vec<(i64, i64)> = hours
        .openings_after(now_ms - HISTORY_WINDOW_MS)
        .take_while(|o| o.start_ms <= now_ms)
        .map(|o| (o.start_ms, o.end_ms))
        .collect();
    let during_hours = |at_ms: i64| {
        let after = openings.partition_point(|&(start, _)| start <= at_ms);
        after > 0 && at_ms < openings[after - 1].1
    };
    let mut samples = Vec::new();
    let mut queue = 0u32;
    for timing in timings {
        let age = now_ms - timing.started_ms;
        if age < 0 {
            continue;
        }
        match timing.first_reply_ms {
            Some(reply) if age <= HISTORY_WINDOW_MS && during_hours(timing.started_ms) => {
                let secs = (reply - timing.started_ms).clamp(0, cap_ms) / 1_000;
                samples.push(secs as u32);
            }
            Some(_) => {}
            None if age < QUEUE_WINDOW_MS => queue += 1,
            None if age <= HISTORY_WINDOW_MS && during_hours(timing.started_ms) => samples.push(SAMPLE_CAP_SECS),
            None => {}
        }
    }
    (samples, queue)
}

/// Everything the availability answer depends on.
#[derive(Debug, Clone)]
pub struct AvailabilityInputs<'a> {
    pub now_ms: i64,
    pub hours: &'a BusinessHours,
    pub promises: &'a Promises,
    pub presence: OperatorStatus,
    pub timings: &'a [ConversationTiming],
}

/// Rounds an instant down to its minute: availability is computed per minute, so polls within
/// one minute get the same answer (and the same `ETag`).
pub fn floor_to_minute(ms: i64) -> i64 {
    ms.div_euclid(60_000) * 60_000
}

/// When a callback requested at `now_ms` is due: `callback_business_hours` of business time
/// later, plus `extra_business_ms` the ledger's calibration adds (0 unless recent callback
/// promises broke too often). Falls back to plain hours only if the schedule has no opening at
/// all ahead.
pub fn callback_due_ms(hours: &BusinessHours, promises: &Promises, now_ms: i64, extra_business_ms: i64) -> i64 {
    let business_ms = i64::from(promises.callback_business_hours) * 3_600_000 + extra_business_ms.max(0);
    hours.add_business_time(now_ms, business_ms).unwrap_or(now_ms + business_ms)
}

/// When a message left at `now_ms` will have been answered: the end of the
/// `message_reply_business_days`th business day after today — counted from `extra_business_ms`
/// of business time later when the ledger's calibration adds some.
pub fn message_reply_by_ms(hours: &BusinessHours, promises: &Promises, now_ms: i64, extra_business_ms: i64) -> i64 {
    let days = promises.message_reply_business_days;
    let from_ms = if extra_business_ms > 0 {
        hours.add_business_time(now_ms, extra_business_ms).unwrap_or(now_ms + extra_business_ms)
    } else {
        now_ms
    };
    hours.end_of_business_day(from_ms, days).unwrap_or(from_ms + i64::from(days.max(1)) * 24 * 3_600_000)
}

pub fn availability(input: &AvailabilityInputs<'_>) -> Availability {
    let now = input.now_ms;
    let (samples, queue) = samples_and_queue(input.timings, input.hours, now);
    let chat = estimate_chat_wait(&ChatInputs {
        posted_secs: input.promises.chat_first_reply_secs,
        samples_secs: &samples,
        queue,
    });
    let open = input.hours.is_open(now);
    let slow = u64::from(chat.expected_wait_secs) > u64::from(chat.posted_secs) * u64::from(BUSY_FACTOR);
    let state = match (open, input.presence) {
        (false, _) => AvailabilityState::Closed,
        (true, OperatorStatus::Away) => AvailabilityState::NobodyOnline,
        (true, OperatorStatus::Online) if slow || queue >= BUSY_QUEUE => AvailabilityState::Busy,
        (true, OperatorStatus::Online) => AvailabilityState::Open,
    };
    Availability {
        state,
        now_ms: now,
        chat,
        callback: CallbackExpectation { due_ms: callback_due_ms(input.hours, input.promises, now, 0) },
        message: MessageExpectation { reply_by_ms: message_reply_by_ms(input.hours, input.promises, now, 0) },
        next_open_ms: if open { None } else { input.hours.next_open_ms(now) },
        closes_ms: if open { input.hours.closes_ms(now) } else { None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn riga() -> BusinessHours {
        BusinessHours::weekdays_nine_to_six(jiff::tz::db().get("Europe/Riga").unwrap())
    }

    /// Tuesday 10 March 2026, 10:00 in Riga (08:00 UTC).
    const TUESDAY_10: i64 = 1_773_129_600_000;
    const MIN: i64 = 60_000;

    fn chat(posted: u32, samples: &[u32], queue: u32) -> ChatExpectation {
        estimate_chat_wait(&ChatInputs { posted_secs: posted, samples_secs: samples, queue })
    }

    #[test]
    fn the_test_instant_is_tuesday_ten_in_riga() {
        let ts = jiff::Timestamp::from_millisecond(TUESDAY_10).unwrap();
        let local = jiff::tz::db().get("Europe/Riga").unwrap().to_datetime(ts);
        assert_eq!(local.strftime("%a %Y-%m-%d %H:%M").to_string(), "Tue 2026-03-10 10:00");
    }

    #[test]
    fn empty_history_gives_the_posted_promise() {
        assert_eq!(
            chat(300, &[], 0),
            ChatExpectation { expected_wait_secs: 300, posted_secs: 300, basis: EstimateBasis::Posted }
        );
        // Nine samples are still too few, however slow.
        assert_eq!(chat(300, &[3_000; 9], 0).basis, EstimateBasis::Posted);
        assert_eq!(chat(300, &[3_000; 9], 0).expected_wait_secs, 300);
    }

    #[test]
    fn history_uses_the_80th_percentile() {
        // 10 samples: 60, 120, …, 600 s. p80 (nearest rank 8) is 480 s.
        let samples: Vec<u32> = (1..=10).map(|i| i * 60).collect();
        let estimate = chat(120, &samples, 0);
        assert_eq!(estimate.basis, EstimateBasis::History);
        assert_eq!(estimate.expected_wait_secs, 480);
    }

    #[test]
    fn fast_history_never_shows_less_than_the_promise() {
        let estimate = chat(300, &[10; 50], 0);
        assert_eq!(estimate.basis, EstimateBasis::History);
        assert_eq!(estimate.expected_wait_secs, 300);
    }

    #[test]
    fn outliers_do_not_explode_the_estimate() {
        // Two forgotten conversations among twenty quick ones: p80 is unaffected.
        let mut samples = vec![120; 20];
        samples.extend([30 * 24 * 3_600, u32::MAX]);
        assert_eq!(chat(60, &samples, 0).expected_wait_secs, 120);
        // Even when most samples are huge, each counts as at most the 4-hour cap.
        assert_eq!(chat(60, &[u32::MAX; 12], 0).expected_wait_secs, SAMPLE_CAP_SECS);
        // And the queue adjustment stops at the overall ceiling.
        assert_eq!(chat(60, &[u32::MAX; 12], 1_000_000).expected_wait_secs, MAX_ESTIMATE_SECS);
    }

    #[test]
    fn queue_scales_the_estimate_by_parallel_chats() {
        assert_eq!(chat(300, &[], 2).expected_wait_secs, 600);
        assert_eq!(chat(300, &[], 1).expected_wait_secs, 480); // 450 s, rounded up to a minute
    }

    #[test]
    fn samples_come_from_open_hours_and_unanswered_ones_are_queue_or_capped() {
        let hours = riga();
        let now = TUESDAY_10;
        let timings = [
            // Answered after 2 minutes, started at 09:30 today: a sample.
            ConversationTiming { started_ms: now - 30 * MIN, first_reply_ms: Some(now - 28 * MIN) },
            // Started on Sunday (closed): not a sample.
            ConversationTiming { started_ms: now - 2 * 24 * 60 * MIN, first_reply_ms: Some(now - 24 * 60 * MIN) },
            // Waiting for 5 minutes: the queue.
            ConversationTiming { started_ms: now - 5 * MIN, first_reply_ms: None },
            // Unanswered since yesterday 11:00 (open): a capped sample.
            ConversationTiming { started_ms: now - 23 * 60 * MIN, first_reply_ms: None },
            // Older than 14 days: ignored.
            ConversationTiming { started_ms: now - HISTORY_WINDOW_MS - 7 * 24 * 60 * MIN, first_reply_ms: Some(now) },
            // Answered the next morning: capped at 4 hours.
            ConversationTiming { started_ms: now - 7 * 24 * 60 * MIN, first_reply_ms: Some(now - 6 * 24 * 60 * MIN) },
        ];
        let (mut samples, queue) = samples_and_queue(&timings, &hours, now);
        samples.sort_unstable();
        assert_eq!(samples, vec![120, SAMPLE_CAP_SECS, SAMPLE_CAP_SECS]);
        assert_eq!(queue, 1);
    }

    fn inputs<'a>(
        now_ms: i64,
        hours: &'a BusinessHours,
        promises: &'a Promises,
        presence: OperatorStatus,
        timings: &'a [ConversationTiming],
    ) -> AvailabilityInputs<'a> {
        AvailabilityInputs { now_ms, hours, promises, presence, timings }
    }

    #[test]
    fn each_state_follows_hours_presence_and_load() {
        let hours = riga();
        let promises = Promises::default();
        let open = availability(&inputs(TUESDAY_10, &hours, &promises, OperatorStatus::Online, &[]));
        assert_eq!(open.state, AvailabilityState::Open);
        assert_eq!(open.next_open_ms, None);
        assert_eq!(open.closes_ms, Some(TUESDAY_10 + 8 * 60 * MIN));
        assert_eq!(open.callback.due_ms, TUESDAY_10 + 2 * 60 * MIN);
        assert_eq!(open.message.reply_by_ms, TUESDAY_10 + (24 + 8) * 60 * MIN);

        let away = availability(&inputs(TUESDAY_10, &hours, &promises, OperatorStatus::Away, &[]));
        assert_eq!(away.state, AvailabilityState::NobodyOnline);

        let night = TUESDAY_10 + 12 * 60 * MIN; // 22:00
        let closed = availability(&inputs(night, &hours, &promises, OperatorStatus::Online, &[]));
        assert_eq!(closed.state, AvailabilityState::Closed);
        assert_eq!(closed.next_open_ms, Some(TUESDAY_10 + 23 * 60 * MIN));
        assert_eq!(closed.closes_ms, None);
        assert_eq!(closed.callback.due_ms, TUESDAY_10 + 25 * 60 * MIN);

        // Twelve conversations yesterday from 09:00, each answered after 20 minutes.
        let monday_nine = TUESDAY_10 - 25 * 60 * MIN;
        let slow: Vec<ConversationTiming> = (0..12)
            .map(|i| ConversationTiming {
                started_ms: monday_nine + i * MIN,
                first_reply_ms: Some(monday_nine + i * MIN + 20 * MIN),
            })
            .collect();
        let busy = availability(&inputs(TUESDAY_10, &hours, &promises, OperatorStatus::Online, &slow));
        assert_eq!(busy.state, AvailabilityState::Busy);
        assert_eq!(busy.chat.expected_wait_secs, 1_200);
        assert_eq!(busy.chat.basis, EstimateBasis::History);

        let queue: Vec<ConversationTiming> = (0..BUSY_QUEUE as i64)
            .map(|i| ConversationTiming { started_ms: TUESDAY_10 - i * MIN, first_reply_ms: None })
            .collect();
        let crowded = availability(&inputs(TUESDAY_10, &hours, &promises, OperatorStatus::Online, &queue));
        assert_eq!(crowded.state, AvailabilityState::Busy);
    }

    proptest! {
        #[test]
        fn estimate_is_never_below_the_posted_promise(
            posted in prop_oneof![1u32..3_600, 1u32..100_000],
            samples in proptest::collection::vec(prop_oneof![0u32..3_600, any::<u32>()], 0..40),
            queue in prop_oneof![0u32..10, 0u32..100_000],
        ) {
            let estimate = chat(posted, &samples, queue);
            prop_assert!(estimate.expected_wait_secs >= posted);
            prop_assert_eq!(estimate.posted_secs, posted);
        }

        #[test]
        fn estimate_is_non_decreasing_in_queue_length(
            posted in prop_oneof![1u32..3_600, 1u32..100_000],
            samples in proptest::collection::vec(prop_oneof![0u32..3_600, any::<u32>()], 0..40),
            queue in prop_oneof![0u32..10, 0u32..100_000],
            more in prop_oneof![0u32..3, 0u32..1_000],
        ) {
            let shorter = chat(posted, &samples, queue);
            let longer = chat(posted, &samples, queue + more);
            prop_assert!(longer.expected_wait_secs >= shorter.expected_wait_secs);
        }

        #[test]
        fn estimate_is_bounded_by_the_ceiling_or_the_promise(
            posted in 1u32..100_000,
            samples in proptest::collection::vec(any::<u32>(), 0..40),
            queue in any::<u32>(),
        ) {
            let estimate = chat(posted, &samples, queue);
            prop_assert!(estimate.expected_wait_secs <= MAX_ESTIMATE_SECS.max(posted));
        }
    }
}
