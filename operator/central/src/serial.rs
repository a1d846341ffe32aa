//! Zone serials: unix time, strictly increasing, never reused.

/// The serial of a zone's next version: `max(old + 1, now)`.
///
/// Designate stamps a plain `utcnow_ts()`, so two changes within a second
/// share a serial and secondaries miss the second one; `old + 1` rules that out.
pub fn next_serial(old: Option<i64>, now_unix: i64) -> i64 {
    match old {
        Some(old) => (old + 1).max(now_unix),
        None => now_unix.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_follow_the_clock_and_never_repeat() {
        let cases = [
            (None, 1_700_000_000, 1_700_000_000),
            (Some(1_600_000_000), 1_700_000_000, 1_700_000_000),
            // Same second: still strictly greater.
            (Some(1_700_000_000), 1_700_000_000, 1_700_000_001),
            // Clock behind the serial (bursts, clock step back): keep counting.
            (Some(1_700_000_050), 1_700_000_000, 1_700_000_051),
            (None, 0, 1),
        ];
        for (old, now, want) in cases {
            assert_eq!(next_serial(old, now), want, "old={old:?} now={now}");
        }
    }
}
