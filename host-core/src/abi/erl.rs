//! `fastly_erl`: Edge Rate Limiting — rate counters and penalty boxes named by the guest,
//! shared by every request (`stores::erl`), driven by the host's wall clock.
//!
//! Counters and boxes need no declaration: production creates them on first use. A window
//! other than 1, 10 or 60 s, a count duration other than 10…60 s in steps of 10, or an entry
//! longer than 256 bytes is INVAL, as the documentation of the VCL and SDK functions says.

use super::{AbiError, AbiResult, Cx, Registry};
use crate::status::Status;
use crate::stores::erl::{COUNT_DURATIONS, MAX_ENTRY_BYTES, RATE_WINDOWS};

const M: &str = "fastly_erl";

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "check_rate", check_rate);
    r.func(M, "ratecounter_increment", ratecounter_increment);
    r.func(M, "ratecounter_lookup_rate", ratecounter_lookup_rate);
    r.func(M, "ratecounter_lookup_count", ratecounter_lookup_count);
    r.func(M, "penaltybox_add", penaltybox_add);
    r.func(M, "penaltybox_has", penaltybox_has);
}

/// A counter or box name and an entry, read from the guest.
fn name_and_entry<'m>(cx: &'m Cx<'_>, name: (u32, u32), entry: (u32, u32)) -> Result<(&'m str, &'m str), AbiError> {
    let entry = cx.mem.str(entry.0, entry.1)?;
    if entry.len() > MAX_ENTRY_BYTES {
        return Err(Status::Inval.into());
    }
    Ok((cx.mem.str(name.0, name.1)?, entry))
}

fn rate_window(window: u32) -> Result<u32, AbiError> {
    RATE_WINDOWS.contains(&window).then_some(window).ok_or(Status::Inval.into())
}

/// Counts `delta` for the entry, and puts it in the penalty box for `ttl` seconds when its rate
/// over `window` is above `limit`. `blocked_out` gets 1 while the entry is penalized.
#[allow(clippy::too_many_arguments)]
fn check_rate(
    cx: &mut Cx<'_>,
    rc: u32,
    rc_len: u32,
    entry: u32,
    entry_len: u32,
    delta: u32,
    window: u32,
    limit: u32,
    pb: u32,
    pb_len: u32,
    ttl: u32,
    blocked_out: u32,
) -> AbiResult {
    let window = rate_window(window)?;
    let (counter, entry) = name_and_entry(cx, (rc, rc_len), (entry, entry_len))?;
    let penalty_box = cx.mem.str(pb, pb_len)?;
    let now = cx.st.platform.unix_time_ns();
    let blocked = cx.st.stores.lock().erl.check_rate(counter, entry, delta, window, limit, penalty_box, ttl, now);
    cx.mem.write_u32(blocked_out, blocked as u32)
}

fn ratecounter_increment(cx: &mut Cx<'_>, rc: u32, rc_len: u32, entry: u32, entry_len: u32, delta: u32) -> AbiResult {
    let (counter, entry) = name_and_entry(cx, (rc, rc_len), (entry, entry_len))?;
    let now = cx.st.platform.unix_time_ns();
    cx.st.stores.lock().erl.increment(counter, entry, delta, now);
    Ok(())
}

fn ratecounter_lookup_rate(cx: &mut Cx<'_>, rc: u32, rc_len: u32, entry: u32, entry_len: u32, window: u32, out: u32) -> AbiResult {
    let window = rate_window(window)?;
    let (counter, entry) = name_and_entry(cx, (rc, rc_len), (entry, entry_len))?;
    let now = cx.st.platform.unix_time_ns();
    let rate = cx.st.stores.lock().erl.rate(counter, entry, window, now);
    cx.mem.write_u32(out, rate)
}

fn ratecounter_lookup_count(cx: &mut Cx<'_>, rc: u32, rc_len: u32, entry: u32, entry_len: u32, duration: u32, out: u32) -> AbiResult {
    if !COUNT_DURATIONS.contains(&duration) {
        return Err(Status::Inval.into());
    }
    let (counter, entry) = name_and_entry(cx, (rc, rc_len), (entry, entry_len))?;
    let now = cx.st.platform.unix_time_ns();
    let count = cx.st.stores.lock().erl.count(counter, entry, duration, now);
    cx.mem.write_u32(out, count)
}

/// Penalizes the entry for `ttl` seconds, in whole minutes from one to sixty.
fn penaltybox_add(cx: &mut Cx<'_>, pb: u32, pb_len: u32, entry: u32, entry_len: u32, ttl: u32) -> AbiResult {
    let (penalty_box, entry) = name_and_entry(cx, (pb, pb_len), (entry, entry_len))?;
    let now = cx.st.platform.unix_time_ns();
    cx.st.stores.lock().erl.penalize(penalty_box, entry, ttl, now);
    Ok(())
}

fn penaltybox_has(cx: &mut Cx<'_>, pb: u32, pb_len: u32, entry: u32, entry_len: u32, out: u32) -> AbiResult {
    let (penalty_box, entry) = name_and_entry(cx, (pb, pb_len), (entry, entry_len))?;
    let now = cx.st.platform.unix_time_ns();
    let has = cx.st.stores.lock().erl.is_penalized(penalty_box, entry, now);
    cx.mem.write_u32(out, has as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;

    /// `check_rate(rc "hits", entry, delta, window, limit 10, pb "box", ttl 60)`.
    fn check(g: &mut TestGuest, entry: &str, delta: u32, window: u32) -> (Status, u32) {
        let (rc, e, pb, out) = (g.put("hits"), g.put(entry), g.put("box"), g.alloc(4));
        let status = g.status(|cx| check_rate(cx, rc.0, rc.1, e.0, e.1, delta, window, 10, pb.0, pb.1, 60, out));
        (status, g.u32_at(out))
    }

    fn lookup(g: &mut TestGuest, f: fn(&mut Cx<'_>, u32, u32, u32, u32, u32, u32) -> AbiResult, entry: &str, secs: u32) -> (Status, u32) {
        let (rc, e, out) = (g.put("hits"), g.put(entry), g.alloc(4));
        let status = g.status(|cx| f(cx, rc.0, rc.1, e.0, e.1, secs, out));
        (status, g.u32_at(out))
    }

    fn has(g: &mut TestGuest, entry: &str) -> u32 {
        let (pb, e, out) = (g.put("box"), g.put(entry), g.alloc(4));
        assert_eq!(g.status(|cx| penaltybox_has(cx, pb.0, pb.1, e.0, e.1, out)), Status::Ok);
        g.u32_at(out)
    }

    #[test]
    fn the_fourth_weighted_hit_goes_over_the_limit_and_lands_in_the_box() {
        let mut g = TestGuest::new();
        let results: alloc::vec::Vec<_> = (0..4).map(|_| check(&mut g, "203.0.113.7", 30, 10)).collect();
        assert_eq!(results, [(Status::Ok, 0), (Status::Ok, 0), (Status::Ok, 0), (Status::Ok, 1)]);
        assert_eq!(has(&mut g, "203.0.113.7"), 1);
        assert_eq!(has(&mut g, "198.51.100.1"), 0);
        assert_eq!(lookup(&mut g, ratecounter_lookup_count, "203.0.113.7", 10), (Status::Ok, 120));
        assert_eq!(lookup(&mut g, ratecounter_lookup_rate, "203.0.113.7", 10), (Status::Ok, 12));
        assert_eq!(lookup(&mut g, ratecounter_lookup_rate, "203.0.113.7", 60), (Status::Ok, 2));
    }

    #[test]
    fn counters_are_shared_with_other_requests() {
        let mut g = TestGuest::new();
        let (rc, e) = (g.put("hits"), g.put("k"));
        assert_eq!(g.status(|cx| ratecounter_increment(cx, rc.0, rc.1, e.0, e.1, 7)), Status::Ok);
        let now = g.state.platform.unix_time_ns();
        assert_eq!(g.state.stores.lock().erl.count("hits", "k", 10, now), 7);
    }

    #[test]
    fn penaltybox_add_then_has() {
        let mut g = TestGuest::new();
        let (pb, e) = (g.put("box"), g.put("client"));
        assert_eq!(g.status(|cx| penaltybox_add(cx, pb.0, pb.1, e.0, e.1, 300)), Status::Ok);
        assert_eq!(has(&mut g, "client"), 1);
    }

    #[test]
    fn windows_durations_and_entries_out_of_range_are_inval() {
        let mut g = TestGuest::new();
        assert_eq!(check(&mut g, "ip", 1, 5).0, Status::Inval);
        assert_eq!(lookup(&mut g, ratecounter_lookup_rate, "ip", 30).0, Status::Inval);
        assert_eq!(lookup(&mut g, ratecounter_lookup_count, "ip", 15).0, Status::Inval);
        assert_eq!(lookup(&mut g, ratecounter_lookup_count, "ip", 60), (Status::Ok, 0));
        let long = "x".repeat(257);
        assert_eq!(check(&mut g, &long, 1, 1).0, Status::Inval);
        assert_eq!(check(&mut g, &"x".repeat(256), 1, 1).0, Status::Ok);
    }
}
