//! Stored records (presentation format) as wire records (pure).

use designate_storage::ResourceRecord;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use crate::rdata::{SPF, to_rdata};

/// A stored record as a wire record; the reason when its name, type or data
/// does not convert (Designate skips such records, and so does MiniDNS).
/// The rdata is encoded once here: a record that cannot go on the wire is
/// refused alone instead of failing every transfer of its zone.
pub(crate) fn to_record(rr: &ResourceRecord) -> Result<Record, String> {
    let name = Name::from_ascii(&rr.name).map_err(|e| format!("name: {e}"))?;
    let ttl = u32::try_from(rr.ttl.max(0)).unwrap_or(u32::MAX);
    let data = to_rdata(&rr.type_.to_ascii_uppercase(), &rr.data)?;
    data.emit(&mut BinEncoder::new(&mut Vec::new()))
        .map_err(|e| format!("encoding: {e}"))?;
    Ok(Record::from_rdata(name, ttl, data))
}

/// Converts a batch, leaving out (and logging) what does not parse.
pub(crate) fn to_records<'a>(
    zone: &str,
    rrs: impl IntoIterator<Item = &'a ResourceRecord>,
) -> Vec<Record> {
    rrs.into_iter()
        .filter_map(|rr| match to_record(rr) {
            Ok(record) => Some(record),
            Err(error) => {
                tracing::error!(
                    zone,
                    name = %rr.name,
                    type_ = %rr.type_,
                    data = %rr.data,
                    %error,
                    "skipping a record that does not parse"
                );
                None
            }
        })
        .collect()
}

/// A query type as storage spells record types.
pub(crate) fn stored_type(type_: RecordType) -> String {
    if u16::from(type_) == SPF {
        "SPF".into()
    } else {
        type_.to_string()
    }
}

/// The serial of an SOA record.
pub(crate) fn soa_serial(record: &Record) -> Option<u32> {
    match &record.data {
        RData::SOA(soa) => Some(soa.serial),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rr(name: &str, type_: &str, ttl: i64, data: &str) -> ResourceRecord {
        ResourceRecord {
            name: name.into(),
            type_: type_.into(),
            ttl,
            data: data.into(),
        }
    }

    #[test]
    fn designate_types_convert() {
        for (type_, data) in [
            ("A", "192.0.2.1"),
            ("AAAA", "2001:db8::1"),
            ("CNAME", "www.example.com."),
            ("MX", "10 mail.example.com."),
            ("SRV", "10 5 5060 sip.example.com."),
            ("TXT", "\"hello world\" \"again\""),
            ("NS", "ns1.example.org."),
            ("PTR", "host.example.com."),
            ("SSHFP", "1 1 0123456789abcdef0123456789abcdef01234567"),
            (
                "SOA",
                "ns1.example.org. admin.example.com. 1700000000 3500 600 86400 3600",
            ),
            (
                "NAPTR",
                "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com.",
            ),
            ("CAA", "0 issue \"letsencrypt.org\""),
            (
                "TLSA",
                "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            ("SVCB", "1 svc.example.com. alpn=h2"),
            ("HTTPS", "1 . alpn=h2"),
        ] {
            let record = to_record(&rr("x.example.com.", type_, 300, data))
                .unwrap_or_else(|e| panic!("{type_} {data}: {e}"));
            assert_eq!(record.record_type().to_string(), type_);
            assert_eq!(record.ttl, 300);
        }
    }

    #[test]
    fn spf_is_type_99_with_txt_rdata() {
        let spf = to_record(&rr("example.com.", "SPF", 60, "\"v=spf1 -all\"")).unwrap();
        let txt = to_record(&rr("example.com.", "TXT", 60, "\"v=spf1 -all\"")).unwrap();
        assert_eq!(u16::from(spf.record_type()), 99);
        assert_eq!(stored_type(spf.record_type()), "SPF");
        assert_eq!(stored_type(RecordType::SOA), "SOA");
        let encode = |record: &Record| {
            let mut bytes = Vec::new();
            record.data.emit(&mut BinEncoder::new(&mut bytes)).unwrap();
            bytes
        };
        assert_eq!(encode(&spf), encode(&txt));
    }

    #[test]
    fn bad_records_are_reported_and_skipped() {
        for bad in [
            rr("example.com.", "A", 60, "300.1.2.3"),
            rr("example.com.", "BOGUS", 60, "x"),
            rr("bad..name.", "A", 60, "192.0.2.1"),
        ] {
            assert!(to_record(&bad).is_err(), "{bad:?}");
        }
        let good = rr("example.com.", "A", 60, "192.0.2.1");
        let bad = rr("example.com.", "A", 60, "x");
        assert_eq!(to_records("example.com.", [&bad, &good, &bad]).len(), 1);
    }

    #[test]
    fn serial_of_soa_only() {
        let soa = to_record(&rr("example.com.", "SOA", 60, "ns. admin. 42 1 1 1 1")).unwrap();
        assert_eq!(soa_serial(&soa), Some(42));
        let a = to_record(&rr("example.com.", "A", 60, "192.0.2.1")).unwrap();
        assert_eq!(soa_serial(&a), None);
    }
}
