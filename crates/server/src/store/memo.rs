//! Facts that never change once stored, remembered in memory so the hottest path (a chat
//! message: 10,000 a second in the benchmark) skips a read on the pool. A read is a hand-off to
//! one of sqlx's SQLite threads and back, which costs more CPU than the lookup itself.
//!
//! Only facts that stay true are remembered: a conversation's site never changes, and a token,
//! once valid for a conversation, is never revoked. A conversation is deleted only by an erase
//! or its retention, which makes the memo forget it in the same step. So the memo never answers
//! anything the database would not.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// A bounded map: when full it starts over, which keeps the hot set without bookkeeping per hit.
pub(crate) struct Memo<K, V> {
    entries: Mutex<HashMap<K, V>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub(crate) fn new(capacity: usize) -> Memo<K, V> {
        Memo { entries: Mutex::new(HashMap::new()), capacity }
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    pub(crate) fn remember(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, value);
    }

    /// Drops every entry whose key matches.
    pub(crate) fn forget(&self, matches: impl Fn(&K) -> bool) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).retain(|key, _| !matches(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_full_then_starts_over() {
        let memo = Memo::new(2);
        memo.remember("a", 1);
        memo.remember("b", 2);
        assert_eq!((memo.get(&"a"), memo.get(&"b"), memo.get(&"c")), (Some(1), Some(2), None));
        memo.remember("c", 3);
        assert_eq!((memo.get(&"a"), memo.get(&"c")), (None, Some(3)));
    }
}
