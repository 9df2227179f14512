//! Whether anyone is really there: a site is staffed when one of its operators chose "online"
//! for it *and* their console is alive. A console is alive while its event stream is open (TCP
//! keep-alive ends the stream of a vanished peer within ~50 s, see the accept loop, `http::net`) or while it
//! sends heartbeats (every [`HEARTBEAT_MS`], and any console request; a background tab's timers
//! may be throttled to one a minute, which the open stream covers). A console that stops (closed
//! tab, sleeping laptop, lost network) is away after [`EXPIRY_MS`] without anyone doing anything. An explicit
//! "away" stays away. The choice is stored; liveness is kept in memory, so after a restart
//! everyone is away until their console's next heartbeat, which is the honest default.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::app::assignment::Member;
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::availability::OperatorStatus;
use crate::domain::Site;

/// How often the console says it is alive.
pub const HEARTBEAT_MS: i64 = 20_000;
/// An operator whose console has not been heard from for this long is away.
pub const EXPIRY_MS: i64 = 60_000;

/// When each operator's console was last heard from (server clock, ms).
#[derive(Debug, Default)]
pub struct Liveness {
    last_seen: Mutex<HashMap<String, i64>>,
    /// Open console event streams per operator.
    streams: Mutex<HashMap<String, usize>>,
    /// Operators whose console said it is leaving (tab closed, logged out) and has not been heard
    /// from since: the end of their event stream, which follows, is not a sign of life.
    left: Mutex<std::collections::HashSet<String>>,
}

/// An open console event stream; the operator counts as live while one is held.
pub struct StreamGuard {
    state: crate::app::state::AppState,
    operator_id: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let liveness = self.state.liveness();
        let mut streams = liveness.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = streams.get_mut(&self.operator_id) {
            *n -= 1;
            if *n == 0 {
                streams.remove(&self.operator_id);
            }
        }
        drop(streams);
        // The stream ending is the last sign of life (the expiry counts from now), unless the
        // console said it was leaving.
        if !liveness.left.lock().unwrap_or_else(|p| p.into_inner()).contains(&self.operator_id) {
            liveness.touch(&self.operator_id, self.state.clock().now_ms());
        }
    }
}

impl Liveness {
    pub fn touch(&self, operator_id: &str, now_ms: i64) {
        self.left.lock().unwrap_or_else(|p| p.into_inner()).remove(operator_id);
        let mut seen = self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded by the number of operator accounts; drop the long-gone now and then.
        if seen.len() > 10_000 {
            seen.retain(|_, at| now_ms - *at <= EXPIRY_MS);
        }
        seen.insert(operator_id.to_owned(), now_ms);
    }

    /// The operator's console is leaving (logged out, or its tab closed): away at once, unless
    /// another console of theirs keeps an event stream open.
    pub fn forget(&self, operator_id: &str) {
        self.left.lock().unwrap_or_else(|p| p.into_inner()).insert(operator_id.to_owned());
        self.last_seen.lock().unwrap_or_else(|p| p.into_inner()).remove(operator_id);
    }

    pub fn is_live(&self, operator_id: &str, now_ms: i64) -> bool {
        if self.streams.lock().unwrap_or_else(|p| p.into_inner()).contains_key(operator_id) {
            return true;
        }
        let seen = self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(operator_id).is_some_and(|at| now_ms - at <= EXPIRY_MS)
    }

    /// Notes an open console event stream of `operator_id` until the guard is dropped.
    pub fn stream_opened(state: &crate::app::state::AppState, operator_id: &str) -> StreamGuard {
        *state
            .liveness()
            .streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(operator_id.to_owned())
            .or_insert(0) += 1;
        StreamGuard { state: state.clone(), operator_id: operator_id.to_owned() }
    }
}

/// The rule, without I/O: staffed when an operator of the site is online (chose online, console
/// alive: [`crate::app::assignment::Member::online`]); else what automation set with the operator
/// token (`PUT /v1/sites/{site}/presence`); else the site's `presence_default` (`"online"` for
/// sites that only take callbacks and messages).
pub fn site_status(staffed: bool, automation: Option<OperatorStatus>, default: OperatorStatus) -> OperatorStatus {
    if staffed {
        OperatorStatus::Online
    } else {
        automation.unwrap_or(default)
    }
}

/// The site's presence now, as visitors are told it, given its team.
pub async fn site_presence(state: &AppState, site: &Site, team: &[Member]) -> Result<OperatorStatus, AppError> {
    let automation = state.store().presence(&site.id).await?.map(|(status, _)| status);
    Ok(site_status(team.iter().any(|m| m.online), automation, site.presence_default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use OperatorStatus::{Away, Online};

    #[test]
    fn a_console_that_stops_is_away_after_the_expiry() {
        let live = Liveness::default();
        live.touch("op-a", 1_000);
        assert!(live.is_live("op-a", 1_000 + EXPIRY_MS));
        assert!(!live.is_live("op-a", 1_001 + EXPIRY_MS));
        assert!(!live.is_live("op-b", 1_000));
        live.touch("op-a", 100_000);
        live.forget("op-a");
        assert!(!live.is_live("op-a", 100_000));
    }

    #[test]
    fn only_an_online_operator_staffs_a_site_else_automation_else_the_default() {
        assert_eq!(site_status(true, None, Away), Online);
        assert_eq!(site_status(false, None, Away), Away, "nobody online (gone quiet, or chose away)");
        assert_eq!(site_status(false, Some(Away), Online), Away, "automation beats the default");
        assert_eq!(site_status(false, None, Online), Online, "presence_default = online");
        assert_eq!(site_status(false, Some(Online), Away), Online, "automation");
    }
}
