//! Propagation: whether the pool's nameservers serve a published serial.
//! Pure: the zone controller asks each nameserver for its SOA serial
//! (observe), this decides what the zone shows and when to look again.
//!
//! Designate waits 5 s before its first poll and then 15 s between polls;
//! here the first look comes milliseconds after the NOTIFY and the interval
//! grows with the time already waited, so a fast nameserver is confirmed
//! fast and a slow one is not hammered.

use std::time::Duration;

use designate_crd::{NameserverStatus, ResourceStatus};

/// First poll delay after a change is published.
pub const FIRST_POLL: Duration = Duration::from_millis(5);
/// Longest delay between two polls.
pub const MAX_POLL: Duration = Duration::from_secs(2);

/// What one nameserver answered for the zone's SOA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// It serves the zone at this serial.
    Serial(i64),
    /// It does not serve the zone (NXDOMAIN, REFUSED, NOTAUTH, SERVFAIL).
    NotServed,
    /// No answer (timeout, connection refused).
    Unreachable(String),
}

/// One nameserver of the pool and its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub host: String,
    pub port: i32,
    pub answer: Answer,
}

/// What the zone shows for its nameservers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// At least the threshold of nameservers serve the serial (or newer).
    Confirmed,
    /// Not yet; look again after this long.
    Waiting(Duration),
    /// The timeout passed below the threshold.
    Failed,
}

/// The verdict for `serial`, published `waited` ago.
pub fn verdict(
    serial: i64,
    observations: &[Observation],
    threshold_percentage: u8,
    waited: Duration,
    timeout: Duration,
) -> Verdict {
    if observations.is_empty() {
        return Verdict::Confirmed;
    }
    let serving = observations
        .iter()
        .filter(|o| matches!(o.answer, Answer::Serial(s) if serial_reached(s, serial)))
        .count();
    // Integer percentages as Designate compares them: serving/total >= threshold.
    if serving * 100 >= observations.len() * usize::from(threshold_percentage) {
        Verdict::Confirmed
    } else if waited >= timeout {
        Verdict::Failed
    } else {
        Verdict::Waiting(next_poll(waited).min(timeout - waited))
    }
}

/// The delay before the next poll: a quarter of the time waited so far,
/// within [`FIRST_POLL`, `MAX_POLL`].
pub fn next_poll(waited: Duration) -> Duration {
    (waited / 4).clamp(FIRST_POLL, MAX_POLL)
}

/// Whether a nameserver at `seen` serves `wanted` or a later version
/// (RFC 1982 serial arithmetic: serials wrap at 2^32).
pub fn serial_reached(seen: i64, wanted: i64) -> bool {
    let (seen, wanted) = (seen as u32, wanted as u32);
    seen == wanted || seen.wrapping_sub(wanted) < (1 << 31)
}

/// The per-nameserver status lines of a zone at `serial`.
pub fn nameserver_statuses(
    serial: i64,
    observations: &[Observation],
    failed: bool,
) -> Vec<NameserverStatus> {
    observations
        .iter()
        .map(|o| {
            let (seen, status, message) = match &o.answer {
                Answer::Serial(s) if serial_reached(*s, serial) => {
                    (Some(*s), ResourceStatus::Active, None)
                }
                Answer::Serial(s) => (
                    Some(*s),
                    pending_or_error(failed),
                    Some(format!("serves serial {s}, not yet {serial}")),
                ),
                Answer::NotServed => (
                    None,
                    pending_or_error(failed),
                    Some("does not serve the zone".to_string()),
                ),
                Answer::Unreachable(error) => (
                    None,
                    pending_or_error(failed),
                    Some(format!("no answer: {error}")),
                ),
            };
            NameserverStatus {
                host: o.host.clone(),
                port: o.port,
                serial: seen,
                status: Some(status),
                message,
            }
        })
        .collect()
}

fn pending_or_error(failed: bool) -> ResourceStatus {
    if failed {
        ResourceStatus::Error
    } else {
        ResourceStatus::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(port: i32, answer: Answer) -> Observation {
        Observation {
            host: "127.0.0.1".into(),
            port,
            answer,
        }
    }

    const TIMEOUT: Duration = Duration::from_secs(30);

    #[test]
    fn confirmed_at_the_threshold_only() {
        let two = [ns(1, Answer::Serial(10)), ns(2, Answer::Serial(9))];
        let ms = Duration::from_millis;
        assert_eq!(verdict(10, &two, 50, ms(1), TIMEOUT), Verdict::Confirmed);
        assert!(matches!(
            verdict(10, &two, 100, ms(1), TIMEOUT),
            Verdict::Waiting(_)
        ));
        // A newer serial than asked counts as served.
        let newer = [ns(1, Answer::Serial(11)), ns(2, Answer::Serial(12))];
        assert_eq!(verdict(10, &newer, 100, ms(1), TIMEOUT), Verdict::Confirmed);
        // No nameservers: nothing to wait for.
        assert_eq!(verdict(10, &[], 100, ms(1), TIMEOUT), Verdict::Confirmed);
    }

    #[test]
    fn error_only_after_the_timeout() {
        let down = [
            ns(1, Answer::Serial(10)),
            ns(2, Answer::Unreachable("timed out".into())),
        ];
        assert!(matches!(
            verdict(10, &down, 100, Duration::from_secs(29), TIMEOUT),
            Verdict::Waiting(_)
        ));
        assert_eq!(verdict(10, &down, 100, TIMEOUT, TIMEOUT), Verdict::Failed);
        // Above the threshold a dead nameserver does not fail the zone.
        assert_eq!(verdict(10, &down, 50, TIMEOUT, TIMEOUT), Verdict::Confirmed);
    }

    #[test]
    fn polls_back_off_from_milliseconds() {
        assert_eq!(next_poll(Duration::ZERO), FIRST_POLL);
        assert_eq!(
            next_poll(Duration::from_millis(100)),
            Duration::from_millis(25)
        );
        assert_eq!(next_poll(Duration::from_secs(60)), MAX_POLL);
        // Never past the timeout.
        let down = [ns(1, Answer::NotServed)];
        assert_eq!(
            verdict(10, &down, 100, Duration::from_millis(29_999), TIMEOUT),
            Verdict::Waiting(Duration::from_millis(1))
        );
    }

    #[test]
    fn serials_compare_with_wraparound() {
        assert!(serial_reached(5, 5));
        assert!(serial_reached(6, 5));
        assert!(!serial_reached(4, 5));
        assert!(serial_reached(1, i64::from(u32::MAX)));
    }

    #[test]
    fn statuses_never_show_active_for_an_older_serial() {
        let lines = nameserver_statuses(
            10,
            &[
                ns(1, Answer::Serial(10)),
                ns(2, Answer::Serial(9)),
                ns(3, Answer::NotServed),
            ],
            false,
        );
        let status: Vec<_> = lines.iter().map(|l| l.status).collect();
        assert_eq!(
            status,
            [
                Some(ResourceStatus::Active),
                Some(ResourceStatus::Pending),
                Some(ResourceStatus::Pending)
            ]
        );
        assert_eq!(lines[1].serial, Some(9));
        let failed = nameserver_statuses(10, &[ns(2, Answer::Serial(9))], true);
        assert_eq!(failed[0].status, Some(ResourceStatus::Error));
    }
}
