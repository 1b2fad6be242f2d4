//! Edge Rate Limiting: rate counters and penalty boxes, shared by every request as at the edge.
//!
//! A rate counter keeps, per entry (typically a client IP), how much was counted in each of the
//! last 60 seconds. The rate over a window of 1, 10 or 60 seconds is what was counted in that
//! window divided by its length; a count looks back 10 to 60 seconds. A penalty box remembers
//! entries until their penalty ends. Everything is driven by the caller's clock (Unix
//! nanoseconds), so a test can step time. None of it is persisted: production's counters are
//! estimates that live in one POP's memory, and a penalty lasts an hour at most.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;

/// Windows a rate can be looked up over, in seconds.
pub const RATE_WINDOWS: [u32; 3] = [1, 10, 60];
/// Durations a count can be looked up over, in seconds.
pub const COUNT_DURATIONS: [u32; 6] = [10, 20, 30, 40, 50, 60];
/// The longest entry production accepts, in bytes.
pub const MAX_ENTRY_BYTES: usize = 256;

/// Seconds of history a counter keeps: the longest window or duration.
const HISTORY_SECS: u64 = 60;
const NS_PER_SEC: u64 = 1_000_000_000;

#[derive(Debug, Default)]
pub struct Erl {
    /// (rate counter, entry) → counts.
    counters: BTreeMap<(String, String), Counts>,
    /// (penalty box, entry) → when the penalty ends, in Unix nanoseconds.
    penalties: BTreeMap<(String, String), u64>,
}

/// What one entry counted in each recent second: (Unix second, count), oldest first.
#[derive(Debug, Default)]
struct Counts {
    seconds: VecDeque<(u64, u64)>,
}

impl Counts {
    fn forget_before(&mut self, now_s: u64) {
        while self.seconds.front().is_some_and(|&(s, _)| s + HISTORY_SECS <= now_s) {
            self.seconds.pop_front();
        }
    }

    fn add(&mut self, now_s: u64, delta: u32) {
        self.forget_before(now_s);
        match self.seconds.back_mut() {
            Some((s, count)) if *s == now_s => *count += delta as u64,
            _ => self.seconds.push_back((now_s, delta as u64)),
        }
    }

    /// What was counted in the last `secs` seconds, this one included.
    fn sum(&self, now_s: u64, secs: u32) -> u64 {
        self.seconds.iter().filter(|&&(s, _)| s + secs as u64 > now_s && s <= now_s).map(|&(_, c)| c).sum()
    }
}

fn key(name: &str, entry: &str) -> (String, String) {
    (String::from(name), String::from(entry))
}

/// A penalty's length: whole minutes (truncated), from one minute to one hour, as the SDKs
/// document for `ttl`.
pub fn penalty_secs(ttl_secs: u32) -> u64 {
    ((ttl_secs / 60) * 60).clamp(60, 3600) as u64
}

impl Erl {
    pub fn increment(&mut self, counter: &str, entry: &str, delta: u32, now_ns: u64) {
        let now_s = now_ns / NS_PER_SEC;
        self.counters.retain(|_, counts| counts.seconds.back().is_some_and(|&(s, _)| s + HISTORY_SECS > now_s));
        self.counters.entry(key(counter, entry)).or_default().add(now_s, delta);
    }

    /// What was counted for `entry` over the last `secs` seconds.
    pub fn count(&self, counter: &str, entry: &str, secs: u32, now_ns: u64) -> u32 {
        let counts = self.counters.get(&key(counter, entry));
        let sum = counts.map_or(0, |c| c.sum(now_ns / NS_PER_SEC, secs));
        u32::try_from(sum).unwrap_or(u32::MAX)
    }

    /// Counted per second, averaged over the last `window` seconds.
    pub fn rate(&self, counter: &str, entry: &str, window: u32, now_ns: u64) -> u32 {
        self.count(counter, entry, window, now_ns) / window.max(1)
    }

    pub fn penalize(&mut self, penalty_box: &str, entry: &str, ttl_secs: u32, now_ns: u64) {
        self.penalties.retain(|_, &mut until| until > now_ns);
        let until = now_ns.saturating_add(penalty_secs(ttl_secs) * NS_PER_SEC);
        self.penalties.insert(key(penalty_box, entry), until);
    }

    pub fn is_penalized(&self, penalty_box: &str, entry: &str, now_ns: u64) -> bool {
        self.penalties.get(&key(penalty_box, entry)).is_some_and(|&until| until > now_ns)
    }

    /// Counts `delta` for `entry`, then checks its rate over `window`: above `limit`, the
    /// entry goes into the penalty box for `ttl_secs`. Answers whether the entry is penalized
    /// (newly, or still from before).
    #[allow(clippy::too_many_arguments)]
    pub fn check_rate(
        &mut self,
        counter: &str,
        entry: &str,
        delta: u32,
        window: u32,
        limit: u32,
        penalty_box: &str,
        ttl_secs: u32,
        now_ns: u64,
    ) -> bool {
        self.increment(counter, entry, delta, now_ns);
        if self.rate(counter, entry, window, now_ns) > limit {
            self.penalize(penalty_box, entry, ttl_secs, now_ns);
        }
        self.is_penalized(penalty_box, entry, now_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000 * NS_PER_SEC;

    fn at(secs: u64) -> u64 {
        T0 + secs * NS_PER_SEC
    }

    #[test]
    fn counts_look_back_over_their_duration() {
        let mut erl = Erl::default();
        erl.increment("rc", "ip", 5, at(0));
        erl.increment("rc", "ip", 7, at(15));
        erl.increment("rc", "other", 100, at(15));
        assert_eq!(erl.count("rc", "ip", 10, at(15)), 7);
        assert_eq!(erl.count("rc", "ip", 20, at(15)), 12);
        assert_eq!(erl.count("rc", "ip", 60, at(59)), 12);
        assert_eq!(erl.count("rc", "ip", 60, at(60)), 7, "the first second has left the 60 s window");
        assert_eq!(erl.count("elsewhere", "ip", 60, at(15)), 0);
    }

    #[test]
    fn a_rate_is_the_count_over_the_window_per_second() {
        let mut erl = Erl::default();
        for s in 0..10 {
            erl.increment("rc", "ip", 25, at(s));
        }
        assert_eq!(erl.rate("rc", "ip", 10, at(9)), 25);
        assert_eq!(erl.rate("rc", "ip", 1, at(9)), 25);
        assert_eq!(erl.rate("rc", "ip", 60, at(9)), 4, "250 over 60 s");
        assert_eq!(erl.rate("rc", "ip", 1, at(10)), 0, "nothing counted in the current second");
    }

    #[test]
    fn check_rate_blocks_above_the_limit_and_keeps_blocking_for_the_penalty() {
        let mut erl = Erl::default();
        let check = |erl: &mut Erl, s| erl.check_rate("rc", "ip", 30, 10, 10, "pb", 120, at(s));
        assert!(!check(&mut erl, 0), "rate 3");
        assert!(!check(&mut erl, 1), "rate 6");
        assert!(!check(&mut erl, 2), "rate 9");
        assert!(check(&mut erl, 3), "rate 12 is above 10");
        assert!(erl.is_penalized("pb", "ip", at(3)));
        assert!(check(&mut erl, 100), "the two-minute penalty still runs, though the rate fell");
        assert!(!erl.is_penalized("pb", "ip", at(123)));
        assert!(!check(&mut erl, 200));
    }

    #[test]
    fn a_rate_at_the_limit_is_not_above_it() {
        let mut erl = Erl::default();
        assert!(!erl.check_rate("rc", "ip", 100, 10, 10, "pb", 60, at(0)));
    }

    #[test]
    fn penalties_last_whole_minutes_between_one_and_sixty() {
        assert_eq!(penalty_secs(0), 60);
        assert_eq!(penalty_secs(119), 60);
        assert_eq!(penalty_secs(600), 600);
        assert_eq!(penalty_secs(100_000), 3600);
        let mut erl = Erl::default();
        erl.penalize("pb", "ip", 90, at(0));
        assert!(erl.is_penalized("pb", "ip", at(59)));
        assert!(!erl.is_penalized("pb", "ip", at(60)));
        assert!(!erl.is_penalized("other box", "ip", at(1)));
    }

    #[test]
    fn forgotten_counters_are_dropped() {
        let mut erl = Erl::default();
        erl.increment("rc", "old", 1, at(0));
        erl.increment("rc", "new", 1, at(61));
        assert_eq!(erl.counters.len(), 1);
    }
}
