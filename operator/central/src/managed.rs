//! Managed records: the SOA and apex NS sets Central generates for every
//! PRIMARY zone from its pool's NS records.

use uuid::Uuid;

use crate::model::{NsRecord, Rrset, Soa};

/// Namespace of the ids of managed recordsets (uuid v5 of zone id + type),
/// so the same zone always gets the same SOA and NS recordset ids.
const MANAGED_ID_NAMESPACE: Uuid = Uuid::from_u128(0x5d0c_7a1e_49b3_4a55_9a84_0b5b_1f0e_d3a1);

/// The id of a zone's managed recordset of `type_`.
pub fn managed_rrset_id(zone_id: &str, type_: &str) -> String {
    Uuid::new_v5(
        &MANAGED_ID_NAMESPACE,
        format!("{zone_id}/{type_}").as_bytes(),
    )
    .to_string()
}

/// The SOA MNAME: the NS record with the lowest priority, the first of equals.
pub fn mname(ns_records: &[NsRecord]) -> Option<&str> {
    ns_records
        .iter()
        .enumerate()
        .min_by_key(|(i, ns)| (ns.priority, *i))
        .map(|(_, ns)| ns.hostname.as_str())
}

/// The SOA RNAME of an email: `@` becomes `.`, dots of the local part are escaped.
pub fn rname(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let domain = domain.trim_end_matches('.');
            format!("{}.{domain}.", local.replace('.', "\\."))
        }
        None => format!("{}.", email.trim_end_matches('.')),
    }
}

/// SOA rdata in presentation format.
pub fn soa_rdata(soa: &Soa, serial: i64) -> String {
    format!(
        "{} {} {serial} {} {} {} {}",
        soa.mname,
        rname(&soa.email),
        soa.refresh,
        soa.retry,
        soa.expire,
        soa.minimum
    )
}

/// The managed SOA recordset at `serial`.
pub fn soa_rrset(zone_id: &str, zone_name: &str, soa: &Soa, serial: i64) -> Rrset {
    Rrset {
        id: managed_rrset_id(zone_id, "SOA"),
        name: zone_name.to_string(),
        type_: "SOA".into(),
        ttl: None,
        records: vec![soa_rdata(soa, serial)],
        description: None,
        managed: true,
    }
}

/// The managed apex NS recordset: one record per pool NS record, by priority.
pub fn apex_ns_rrset(zone_id: &str, zone_name: &str, ns_records: &[NsRecord]) -> Rrset {
    Rrset {
        id: managed_rrset_id(zone_id, "NS"),
        name: zone_name.to_string(),
        type_: "NS".into(),
        ttl: None,
        records: apex_ns_records(ns_records),
        description: None,
        managed: true,
    }
}

/// The apex NS records: the pool's nameservers by priority, equals in
/// their order.
pub fn apex_ns_records(ns_records: &[NsRecord]) -> Vec<String> {
    let mut sorted: Vec<(usize, &NsRecord)> = ns_records.iter().enumerate().collect();
    sorted.sort_by_key(|(i, ns)| (ns.priority, *i));
    sorted
        .into_iter()
        .map(|(_, ns)| ns.hostname.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(hostname: &str, priority: i64) -> NsRecord {
        NsRecord {
            hostname: hostname.into(),
            priority,
        }
    }

    #[test]
    fn mname_is_lowest_priority_first_of_equals() {
        let pool = [ns("b.", 2), ns("a.", 1), ns("c.", 1)];
        assert_eq!(mname(&pool), Some("a."));
        assert_eq!(mname(&[]), None);
    }

    #[test]
    fn rname_escapes_dots_of_the_local_part() {
        for (email, want) in [
            ("hostmaster@example.com", "hostmaster.example.com."),
            ("first.last@example.com", "first\\.last.example.com."),
            ("admin@example.com.", "admin.example.com."),
        ] {
            assert_eq!(rname(email), want);
        }
    }

    #[test]
    fn soa_renders_designate_layout() {
        let soa = Soa {
            mname: "ns1.example.org.".into(),
            email: "admin@example.com".into(),
            refresh: 3500,
            retry: 600,
            expire: 86400,
            minimum: 3600,
        };
        assert_eq!(
            soa_rdata(&soa, 1_700_000_000),
            "ns1.example.org. admin.example.com. 1700000000 3500 600 86400 3600"
        );
    }

    #[test]
    fn managed_ids_are_stable_uuids() {
        let a = managed_rrset_id("z1", "SOA");
        assert_eq!(a, managed_rrset_id("z1", "SOA"));
        assert_ne!(a, managed_rrset_id("z1", "NS"));
        assert!(Uuid::parse_str(&a).is_ok());
    }

    #[test]
    fn apex_ns_orders_by_priority() {
        let rrset = apex_ns_rrset("z", "example.com.", &[ns("b.", 2), ns("a.", 1)]);
        assert_eq!(rrset.records, vec!["a.", "b."]);
        assert!(rrset.managed);
    }
}
