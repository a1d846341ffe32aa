//! Reading a master's answer to an IXFR (RFC 1995 §4), pure: when the
//! answer is complete, and what it says (nothing newer, the whole zone, or
//! the differences version by version).

use crate::client::TransferredRecord;

/// What a master answered an IXFR with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ixfr {
    /// Its SOA alone: nothing newer than the serial asked from.
    UpToDate,
    /// The whole zone, as an AXFR gives it (SOA first, no closing SOA).
    Full(Vec<TransferredRecord>),
    /// The zone's new SOA and the differences leading to it, oldest first.
    Incremental {
        soa: TransferredRecord,
        differences: Vec<Difference>,
    },
}

/// One version's change: these records removed, then these added (SOAs
/// left out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Difference {
    pub removed: Vec<TransferredRecord>,
    pub added: Vec<TransferredRecord>,
}

/// The serial of an SOA record in presentation format.
fn serial(record: &TransferredRecord) -> Option<u32> {
    if record.type_ != "SOA" {
        return None;
    }
    record.data.split_whitespace().nth(2)?.parse().ok()
}

/// Whether `a` is after `b` in serial number arithmetic (RFC 1982).
fn newer(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 1 << 31
}

/// The shape of an answer, from its first two records.
#[derive(PartialEq)]
enum Shape {
    /// One record so far.
    Open,
    /// The whole zone: its second record is no SOA, or the closing SOA of
    /// an empty zone.
    Full,
    Incremental,
}

fn shape(records: &[TransferredRecord]) -> Shape {
    let new = records.first().and_then(serial);
    match records.get(1) {
        None => Shape::Open,
        Some(second) if second.type_ != "SOA" || serial(second) == new => Shape::Full,
        Some(_) => Shape::Incremental,
    }
}

/// Whether `records` (the answer so far, opening with the zone's SOA) is
/// a whole answer to an IXFR from `asked`; `message_end` when no record of
/// the current message is left to read.
pub(crate) fn complete(records: &[TransferredRecord], asked: u32, message_end: bool) -> bool {
    let Some(new) = records.first().and_then(serial) else {
        return false;
    };
    let closed = records.len() > 1 && records.last().and_then(serial) == Some(new);
    match shape(records) {
        // The SOA alone ends the answer only with its message.
        Shape::Open => message_end && !newer(new, asked),
        Shape::Full => closed,
        // The new serial opens the answer, ends the last difference and
        // closes the answer.
        Shape::Incremental => {
            closed && records.iter().filter(|r| serial(r) == Some(new)).count() == 3
        }
    }
}

/// A complete answer to an IXFR from `asked`, read.
pub(crate) fn read(mut records: Vec<TransferredRecord>, asked: u32) -> Result<Ixfr, &'static str> {
    match shape(&records) {
        Shape::Open => {
            let new = records.first().and_then(serial).ok_or("no SOA")?;
            if newer(new, asked) {
                return Err("a newer serial with no records");
            }
            Ok(Ixfr::UpToDate)
        }
        Shape::Full => {
            records.pop();
            Ok(Ixfr::Full(records))
        }
        Shape::Incremental => {
            let mut rest = records.into_iter();
            let soa = rest.next().ok_or("no SOA")?;
            let mut rest: Vec<TransferredRecord> = rest.collect();
            // The closing SOA.
            rest.pop();
            let mut differences = Vec::new();
            let mut from = Some(asked);
            let mut records = rest.into_iter().peekable();
            while let Some(old) = records.next() {
                if serial(&old) != from {
                    return Err("a difference that does not follow the previous one");
                }
                let mut difference = Difference::default();
                let mut to = None;
                for record in records.by_ref() {
                    if record.type_ == "SOA" {
                        to = serial(&record);
                        break;
                    }
                    difference.removed.push(record);
                }
                if to.is_none() {
                    return Err("a difference without its new SOA");
                }
                while let Some(record) = records.next_if(|r| r.type_ != "SOA") {
                    difference.added.push(record);
                }
                differences.push(difference);
                from = to;
            }
            if from != serial(&soa) {
                return Err("differences that do not lead to the new serial");
            }
            Ok(Ixfr::Incremental { soa, differences })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soa(serial: u32) -> TransferredRecord {
        rr(
            "SOA",
            &format!("ns1.example.org. admin.example.org. {serial} 60 10 600 30"),
        )
    }

    fn rr(type_: &str, data: &str) -> TransferredRecord {
        TransferredRecord {
            name: "example.org.".into(),
            type_: type_.into(),
            ttl: 60,
            data: data.into(),
        }
    }

    fn a(last: u8) -> TransferredRecord {
        rr("A", &format!("192.0.2.{last}"))
    }

    /// Feeds `records` one by one, as one message; where it completes.
    fn completes_at(records: &[TransferredRecord], asked: u32) -> Option<usize> {
        (1..=records.len()).find(|&n| {
            complete(&records[..n], asked, false)
                || (n == records.len() && complete(&records[..n], asked, true))
        })
    }

    #[test]
    fn two_differences_are_read_in_order() {
        let answer = vec![
            soa(12),
            soa(10),
            a(1),
            soa(11),
            a(2),
            soa(11),
            a(2),
            soa(12),
            a(3),
            a(4),
            soa(12),
        ];
        assert_eq!(completes_at(&answer, 10), Some(answer.len()));
        assert_eq!(
            read(answer, 10),
            Ok(Ixfr::Incremental {
                soa: soa(12),
                differences: vec![
                    Difference {
                        removed: vec![a(1)],
                        added: vec![a(2)],
                    },
                    Difference {
                        removed: vec![a(2)],
                        added: vec![a(3), a(4)],
                    },
                ],
            })
        );
        // A difference with nothing removed or added reads too.
        let bare = vec![soa(12), soa(10), soa(12), soa(12)];
        assert_eq!(completes_at(&bare, 10), Some(4));
        assert_eq!(
            read(bare, 10),
            Ok(Ixfr::Incremental {
                soa: soa(12),
                differences: vec![Difference::default()],
            })
        );
    }

    #[test]
    fn a_whole_zone_and_an_up_to_date_soa_are_told_apart() {
        let full = vec![soa(12), a(1), rr("NS", "ns1.example.org."), soa(12)];
        assert_eq!(completes_at(&full, 10), Some(4));
        assert_eq!(read(full.clone(), 10), Ok(Ixfr::Full(full[..3].to_vec())));
        // An empty zone: its SOA twice.
        assert_eq!(
            read(vec![soa(12), soa(12)], 10),
            Ok(Ixfr::Full(vec![soa(12)]))
        );
        // The SOA alone: complete only at the message's end, and only when
        // not newer than asked.
        assert!(!complete(&[soa(10)], 10, false));
        assert!(complete(&[soa(10)], 10, true));
        assert_eq!(read(vec![soa(10)], 10), Ok(Ixfr::UpToDate));
        assert!(!complete(&[soa(12)], 10, true));
        assert!(read(vec![soa(12)], 10).is_err());
        // Serial arithmetic: 1 is after 4294967295.
        assert!(newer(1, u32::MAX));
        assert!(!newer(u32::MAX, 1));
    }

    #[test]
    fn differences_that_do_not_chain_are_refused() {
        // Asked from 10, the master starts at 9.
        let answer = vec![soa(12), soa(9), a(1), soa(12), a(2), soa(12)];
        assert!(read(answer, 10).is_err());
        // A gap between differences.
        let answer = vec![soa(12), soa(10), soa(11), soa(5), soa(12), soa(12)];
        assert!(read(answer, 10).is_err());
    }
}
