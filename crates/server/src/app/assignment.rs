//! The team on a site right now: who is online (a live console and "online" chosen), how many
//! chats each carries against their capacity, who gets a new conversation (the least loaded with
//! room), and whether the site is busy (everyone online is full).

use std::collections::HashSet;

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::availability::OperatorStatus;
use crate::domain::Site;
use crate::store::assignment::OperatorLoad;

/// One operator of the site as availability and assignment see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub load: OperatorLoad,
    pub online: bool,
}

impl Member {
    pub fn has_room(&self) -> bool {
        self.online && self.load.open < self.load.capacity
    }
}

pub async fn team(state: &AppState, site: &Site) -> Result<Vec<Member>, AppError> {
    let now_ms = state.clock().now_ms();
    let online: HashSet<String> = state
        .store()
        .operator_presence(&site.id)
        .await?
        .into_iter()
        .filter(|(id, status)| *status == OperatorStatus::Online && state.liveness().is_live(id, now_ms))
        .map(|(id, _)| id)
        .collect();
    Ok(state
        .store()
        .operator_loads(&site.id)
        .await?
        .into_iter()
        .map(|load| Member { online: online.contains(&load.id), load })
        .collect())
}

/// Who should take a new conversation: the online operator with room and the fewest chats.
pub fn pick(team: &[Member]) -> Option<&Member> {
    team.iter().filter(|m| m.has_room()).min_by_key(|m| (m.load.open, m.load.id.clone()))
}

/// Everyone online is at capacity (and someone is online).
pub fn all_full(team: &[Member]) -> bool {
    team.iter().any(|m| m.online) && !team.iter().any(Member::has_room)
}

/// A new conversation goes to the least loaded online operator of `team` with room, if any.
pub async fn assign_new(state: &AppState, team: &[Member], conversation_id: &str) -> Result<Option<String>, AppError> {
    let Some(member) = pick(team) else { return Ok(None) };
    state.store().assign(conversation_id, Some(&member.load.id)).await?;
    Ok(Some(member.load.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, open: u32, online: bool) -> Member {
        Member { load: OperatorLoad { id: id.into(), name: id.into(), capacity: 3, open }, online }
    }

    #[test]
    fn the_least_loaded_online_operator_with_room_gets_it() {
        let team = vec![member("a", 2, true), member("b", 1, true), member("c", 0, false)];
        assert_eq!(pick(&team).unwrap().load.id, "b", "c has none but is away");
        assert!(!all_full(&team));
        let full = vec![member("a", 3, true), member("b", 3, true), member("c", 0, false)];
        assert!(pick(&full).is_none());
        assert!(all_full(&full), "everyone online is full: busy");
        assert!(!all_full(&[member("a", 0, false)]), "nobody online is not busy");
    }
}
