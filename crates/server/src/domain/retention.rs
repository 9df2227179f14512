//! How long a site keeps personal data (`[sites.retention]`), and the instants before which
//! each kind of row is past it.

const DAY_MS: i64 = 86_400_000;

/// What a retention pass removes or anonymises, each past its own age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// Conversations (messages, tokens, e-mails about them) with no message since the cutoff.
    Conversations,
    /// Comments and page titles of ratings (the value stays, for the reports).
    RatingComments,
    /// Callback requests (names, phones, notes) created and due before the cutoff.
    Callbacks,
    /// Visitors' e-mail addresses on conversations with no message since the cutoff.
    VisitorEmails,
    /// Delivered and dead webhook rows, sent and failed e-mail rows (copies of what was sent).
    FinishedOutbox,
}

/// Days each kind of personal data is kept. Defaults (docs/privacy.md): a conversation a year
/// after its last message, a callback request 90 days after it was due, a visitor's e-mail
/// address and a rating's comment a year, copies of sent webhooks and e-mails 30 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub conversations_days: u32,
    pub rating_comments_days: u32,
    pub callbacks_days: u32,
    pub visitor_emails_days: u32,
    pub sent_outbox_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            conversations_days: 365,
            rating_comments_days: 365,
            callbacks_days: 90,
            visitor_emails_days: 365,
            sent_outbox_days: 30,
        }
    }
}

/// The longest a site may set (a century): beyond it a cutoff means nothing.
pub const MAX_DAYS: u32 = 36_500;

impl Retention {
    /// Each kind of row with the instant before which it is past retention at `now_ms`.
    pub fn cutoffs(&self, now_ms: i64) -> [(Purge, i64); 5] {
        let before = |days: u32| now_ms - i64::from(days) * DAY_MS;
        [
            (Purge::Conversations, before(self.conversations_days)),
            (Purge::RatingComments, before(self.rating_comments_days)),
            (Purge::Callbacks, before(self.callbacks_days)),
            (Purge::VisitorEmails, before(self.visitor_emails_days)),
            (Purge::FinishedOutbox, before(self.sent_outbox_days)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_cut_at_its_own_age() {
        let retention = Retention { callbacks_days: 2, ..Retention::default() };
        let now = 1_000 * DAY_MS;
        let cutoffs = retention.cutoffs(now);
        assert_eq!(cutoffs[0], (Purge::Conversations, 635 * DAY_MS));
        assert_eq!(cutoffs[2], (Purge::Callbacks, 998 * DAY_MS));
        assert_eq!(cutoffs[4], (Purge::FinishedOutbox, 970 * DAY_MS));
    }
}
