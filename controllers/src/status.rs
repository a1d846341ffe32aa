//! Pure status building: what a Zone or Recordset should show for an
//! outcome. Timestamps of unchanged parts are kept, so an unchanged outcome
//! yields an equal status and no write.

use designate_central::Error as Refusal;
use designate_crd::{
    NameserverStatus, RecordsetStatus, ResourceAction, ResourceStatus, ZoneStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// The `Ready` condition, keeping the transition time when its status holds.
pub fn ready(
    current: &[Condition],
    ok: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
    now: &Time,
) -> Condition {
    let status = if ok { "True" } else { "False" };
    let last_transition_time = match current.iter().find(|c| c.type_ == "Ready") {
        Some(old) if old.status == status => old.last_transition_time.clone(),
        _ => now.clone(),
    };
    Condition {
        type_: "Ready".into(),
        status: status.into(),
        reason: reason.into(),
        message,
        observed_generation: generation,
        last_transition_time,
    }
}

/// A refusal as a condition message: records are named by their position.
pub fn describe(error: &Refusal) -> String {
    match error {
        Refusal::InvalidRecords(records) => records
            .iter()
            .map(|r| format!("records[{}]: {}", r.index, r.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Whether the pool's nameservers serve a published change (a pool
/// without nameservers has nothing to wait for).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// Enough nameservers serve it (the pool's threshold).
    Confirmed,
    /// Not yet.
    Waiting,
    /// Not within the propagation timeout.
    Failed,
}

/// What happened to a zone in this reconcile.
#[derive(Clone, Debug)]
pub struct ZoneOutcome<'a> {
    pub refusal: Option<&'a Refusal>,
    /// The published serial, if the zone is published.
    pub serial: Option<i64>,
    pub pool: Option<&'a str>,
    pub confirmation: Confirmation,
    /// Per-nameserver lines; `None` keeps the current ones.
    pub nameservers: Option<Vec<NameserverStatus>>,
    /// Why the nameservers cannot be asked to serve it yet (reason,
    /// message), while waiting.
    pub blocked: Option<(&'static str, String)>,
    /// Why a secondary zone's masters did not give it (reason, message,
    /// and whether it ever transferred): PENDING until its first transfer
    /// (as Designate shows such a zone), ERROR once it had a copy (served
    /// meanwhile).
    pub transfer_failed: Option<(&'static str, String, bool)>,
    /// A secondary zone's masters gave a new copy in this reconcile.
    pub transferred: bool,
    /// The SOA record a secondary zone serves (none for a primary: REST
    /// makes its SOA from the pool and settings).
    pub soa: Option<String>,
}

pub fn zone_status(
    current: Option<&ZoneStatus>,
    generation: Option<i64>,
    outcome: ZoneOutcome<'_>,
    now: &Time,
) -> ZoneStatus {
    let current = current.cloned().unwrap_or_default();
    let was_active = current.status == Some(ResourceStatus::Active)
        || current.action == Some(ResourceAction::Update)
        || current.action == Some(ResourceAction::None);
    let change = if outcome.serial.is_some() && was_active {
        ResourceAction::Update
    } else {
        ResourceAction::Create
    };
    let (status, action, ok, reason, message) = match (outcome.refusal, outcome.serial) {
        (Some(refusal), _) => (
            ResourceStatus::Error,
            change,
            false,
            refusal.reason(),
            describe(refusal),
        ),
        (None, _) if outcome.transfer_failed.is_some() => {
            let (reason, message, had_copy) = outcome.transfer_failed.unwrap_or_default();
            let status = if had_copy {
                ResourceStatus::Error
            } else {
                ResourceStatus::Pending
            };
            (status, change, false, reason, message)
        }
        (None, Some(serial)) => match outcome.confirmation {
            Confirmation::Confirmed => (
                ResourceStatus::Active,
                ResourceAction::None,
                true,
                "Published",
                format!("serial {serial} is served"),
            ),
            Confirmation::Waiting => {
                let (reason, why) = outcome.blocked.unwrap_or((
                    "WaitingForNameservers",
                    "waiting for the pool's nameservers".into(),
                ));
                (
                    ResourceStatus::Pending,
                    change,
                    false,
                    reason,
                    format!("serial {serial} is published; {why}"),
                )
            }
            Confirmation::Failed => (
                ResourceStatus::Error,
                change,
                false,
                "PropagationTimeout",
                format!("serial {serial} is not served by enough of the pool's nameservers"),
            ),
        },
        (None, None) => (
            ResourceStatus::Pending,
            ResourceAction::Create,
            false,
            "Pending",
            "waiting to be published".into(),
        ),
    };
    let updated_at = if outcome.serial.is_some() && outcome.serial != current.serial {
        Some(now.clone())
    } else {
        current.updated_at.clone()
    };
    ZoneStatus {
        status: Some(status),
        action: Some(action),
        serial: outcome.serial,
        pool: outcome.pool.map(str::to_string),
        conditions: vec![ready(
            &current.conditions,
            ok,
            reason,
            message,
            generation,
            now,
        )],
        observed_generation: generation,
        created_at: current.created_at.clone().or_else(|| Some(now.clone())),
        updated_at,
        transferred_at: if outcome.transferred {
            Some(now.clone())
        } else {
            current.transferred_at
        },
        nameservers: outcome.nameservers.unwrap_or(current.nameservers),
        soa: outcome.soa,
    }
}

/// What happened to a recordset in its zone's reconcile.
#[derive(Clone, Debug)]
pub enum RecordsetOutcome<'a> {
    /// Published as asked, at the serial that last changed it.
    Published {
        serial: i64,
        confirmation: Confirmation,
    },
    /// Refused; `serial` is that of the content still published, if any.
    Refused {
        refusal: &'a Refusal,
        serial: Option<i64>,
    },
    /// Its zone is not published (refused, or absent).
    ZoneNotReady { reason: &'a str, message: String },
}

pub fn recordset_status(
    current: Option<&RecordsetStatus>,
    generation: Option<i64>,
    outcome: RecordsetOutcome<'_>,
    now: &Time,
) -> RecordsetStatus {
    let current = current.cloned().unwrap_or_default();
    let (status, action, serial, ok, reason, message) = match outcome {
        RecordsetOutcome::Published {
            serial,
            confirmation: Confirmation::Confirmed,
        } => (
            ResourceStatus::Active,
            ResourceAction::None,
            Some(serial),
            true,
            "Published",
            format!("published in zone serial {serial}"),
        ),
        RecordsetOutcome::Published {
            serial,
            confirmation: Confirmation::Failed,
        } => (
            ResourceStatus::Error,
            if current.serial.is_some() {
                ResourceAction::Update
            } else {
                ResourceAction::Create
            },
            Some(serial),
            false,
            "PropagationTimeout",
            format!("published in zone serial {serial}; not served by enough nameservers"),
        ),
        RecordsetOutcome::Published { serial, .. } => (
            ResourceStatus::Pending,
            if current.serial.is_some() {
                ResourceAction::Update
            } else {
                ResourceAction::Create
            },
            Some(serial),
            false,
            "WaitingForNameservers",
            format!("published in zone serial {serial}; waiting for the pool's nameservers"),
        ),
        RecordsetOutcome::Refused { refusal, serial } => (
            ResourceStatus::Error,
            if serial.is_some() {
                ResourceAction::Update
            } else {
                ResourceAction::Create
            },
            serial,
            false,
            refusal.reason(),
            describe(refusal),
        ),
        RecordsetOutcome::ZoneNotReady { reason, message } => (
            ResourceStatus::Pending,
            ResourceAction::Create,
            current.serial,
            false,
            reason,
            message,
        ),
    };
    let updated_at = if serial.is_some() && serial != current.serial {
        Some(now.clone())
    } else {
        current.updated_at.clone()
    };
    RecordsetStatus {
        status: Some(status),
        action: Some(action),
        serial,
        conditions: vec![ready(
            &current.conditions,
            ok,
            reason,
            message,
            generation,
            now,
        )],
        observed_generation: generation,
        created_at: current.created_at.clone().or_else(|| Some(now.clone())),
        updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_central::{QuotaResource, RecordError};

    fn at(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn a_secondary_that_cannot_transfer_is_pending_until_it_had_a_copy() {
        let failed = |had_copy| ZoneOutcome {
            transfer_failed: Some(("MastersUnreachable", "master down".into(), had_copy)),
            ..published(1)
        };
        let never = zone_status(None, Some(1), failed(false), &at(1));
        assert_eq!(never.status, Some(ResourceStatus::Pending));
        assert_eq!(never.conditions[0].reason, "MastersUnreachable");
        let lost = zone_status(None, Some(1), failed(true), &at(1));
        assert_eq!(lost.status, Some(ResourceStatus::Error));
        assert_eq!(lost.conditions[0].message, "master down");
    }

    #[test]
    fn transferred_at_moves_with_each_transfer_only() {
        let transferred = ZoneOutcome {
            transferred: true,
            ..published(5)
        };
        let first = zone_status(None, Some(1), transferred.clone(), &at(10));
        assert_eq!(first.transferred_at, Some(at(10)));
        // A check that found the master's serial unchanged keeps it.
        let checked = zone_status(Some(&first), Some(1), published(5), &at(20));
        assert_eq!(checked, first);
        let again = zone_status(Some(&first), Some(1), transferred, &at(30));
        assert_eq!(again.transferred_at, Some(at(30)));
        // A primary zone never has one.
        assert_eq!(
            zone_status(None, Some(1), published(1), &at(1)).transferred_at,
            None
        );
    }

    fn published(serial: i64) -> ZoneOutcome<'static> {
        ZoneOutcome {
            refusal: None,
            serial: Some(serial),
            pool: Some("default"),
            confirmation: Confirmation::Confirmed,
            nameservers: None,
            blocked: None,
            transfer_failed: None,
            transferred: false,
            soa: None,
        }
    }

    #[test]
    fn published_zone_is_active_and_stable() {
        let first = zone_status(None, Some(1), published(100), &at(10));
        assert_eq!(first.status, Some(ResourceStatus::Active));
        assert_eq!(first.action, Some(ResourceAction::None));
        assert_eq!(first.serial, Some(100));
        assert_eq!(first.conditions[0].status, "True");
        // The same outcome later: an equal status, so no write.
        assert_eq!(
            zone_status(Some(&first), Some(1), published(100), &at(99)),
            first
        );
        // A new serial moves updatedAt only.
        let next = zone_status(Some(&first), Some(1), published(101), &at(20));
        assert_eq!(next.updated_at, Some(at(20)));
        assert_eq!(next.created_at, Some(at(10)));
        assert_eq!(next.conditions[0].last_transition_time, at(10));
    }

    #[test]
    fn refused_zone_shows_error_with_reason() {
        let refusal = Refusal::DuplicateZone("Duplicate Zone".into());
        let status = zone_status(
            None,
            Some(1),
            ZoneOutcome {
                refusal: Some(&refusal),
                serial: None,
                pool: None,
                confirmation: Confirmation::Confirmed,
                nameservers: None,
                blocked: None,
                transfer_failed: None,
                transferred: false,
                soa: None,
            },
            &at(1),
        );
        assert_eq!(status.status, Some(ResourceStatus::Error));
        assert_eq!(status.action, Some(ResourceAction::Create));
        assert_eq!(status.conditions[0].reason, "DuplicateZone");
        assert_eq!(status.conditions[0].status, "False");
    }

    #[test]
    fn invalid_record_is_named_in_the_condition() {
        let refusal = Refusal::InvalidRecords(vec![RecordError {
            index: 1,
            message: "'300.1.1.1' is not a 'A' Record".into(),
        }]);
        let status = recordset_status(
            None,
            Some(2),
            RecordsetOutcome::Refused {
                refusal: &refusal,
                serial: None,
            },
            &at(1),
        );
        assert_eq!(status.status, Some(ResourceStatus::Error));
        assert_eq!(status.conditions[0].reason, "InvalidRecord");
        assert_eq!(
            status.conditions[0].message,
            "records[1]: '300.1.1.1' is not a 'A' Record"
        );
        assert_eq!(status.observed_generation, Some(2));
    }

    #[test]
    fn refused_update_keeps_the_published_serial() {
        let refusal = Refusal::OverQuota(QuotaResource::RecordsetRecords);
        let status = recordset_status(
            None,
            Some(3),
            RecordsetOutcome::Refused {
                refusal: &refusal,
                serial: Some(7),
            },
            &at(1),
        );
        assert_eq!(status.serial, Some(7));
        assert_eq!(status.action, Some(ResourceAction::Update));
        assert_eq!(status.conditions[0].reason, "OverQuota");
    }
}
