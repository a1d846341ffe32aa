//! A zone as a master file, for a nameserver that loads a new zone with its
//! data instead of transferring it first (BIND's SOA queries wait in its
//! `serial-query-rate` limiter; a zone loaded from a file does not).
//!
//! Every record is written in RFC 3597's generic form (`TYPEn \# len hex`)
//! from the very wire rdata an AXFR from MiniDNS carries: no presentation
//! format to get subtly wrong (quoting, escapes, types a server spells
//! otherwise), so the server holds exactly what a transfer would give it.

use std::fmt::Write;

use designate_storage::Storage;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecoder, BinEncodable, BinEncoder, Restrict};

use crate::Error;
use crate::handler::PAGE_RRSETS;
use crate::records::to_records;

/// A zone changing under every read is left to the server's own transfer.
const TRIES: usize = 3;
/// Hex digits per word: short tokens for the server's lexer (BIND's holds
/// 8 KiB), which RFC 3597 lets split anywhere.
const HEX_WORD: usize = 64;

/// The zone `zone_id` as of one serial: its SOA first, then every record an
/// AXFR would carry. `None` when the zone is gone, or when it kept changing
/// while it was read.
pub async fn zone_file(storage: &Storage, zone_id: &str) -> Result<Option<String>, Error> {
    for _ in 0..TRIES {
        let Some(mut snapshot) = storage.zone_snapshot(zone_id, PAGE_RRSETS).await? else {
            return Ok(None);
        };
        let name = snapshot.zone().zone.name.clone();
        let mut text = String::new();
        for record in to_records(&name, [snapshot.soa()]) {
            push_generic(&mut text, &record)?;
        }
        loop {
            match snapshot.next_page().await {
                Ok(Some(page)) => {
                    for record in to_records(&name, &page) {
                        push_generic(&mut text, &record)?;
                    }
                }
                Ok(None) => return Ok(Some(text)),
                Err(designate_storage::Error::Conflict { .. }) => break,
                Err(other) => return Err(other.into()),
            }
        }
    }
    Ok(None)
}

/// One record as a master file line in the generic form.
fn push_generic(text: &mut String, record: &Record) -> Result<(), Error> {
    let mut rdata = Vec::new();
    record.data.emit(&mut BinEncoder::new(&mut rdata))?;
    // Owner names in ASCII (punycode): a name's Display is Unicode.
    let _ = write!(
        text,
        "{} {} IN TYPE{} \\# {}",
        record.name.to_ascii(),
        record.ttl,
        u16::from(record.record_type()),
        rdata.len()
    );
    for word in rdata.chunks(HEX_WORD / 2) {
        text.push(' ');
        for byte in word {
            let _ = write!(text, "{byte:02x}");
        }
    }
    text.push('\n');
    Ok(())
}

/// The records of a master file [`zone_file`] wrote, for a server that
/// takes records rather than a file; `None` for any other text.
pub fn zone_file_records(text: &str) -> Option<Vec<Record>> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(read_generic)
        .collect()
}

/// One line [`push_generic`] wrote.
fn read_generic(line: &str) -> Option<Record> {
    let mut fields = line.split_ascii_whitespace();
    let name = Name::from_ascii(fields.next()?).ok()?;
    let ttl = fields.next()?.parse().ok()?;
    let type_: u16 = match (fields.next()?, fields.next()?) {
        ("IN", type_) => type_.strip_prefix("TYPE")?.parse().ok()?,
        _ => return None,
    };
    let len: u16 = match (fields.next()?, fields.next()?) {
        ("\\#", len) => len.parse().ok()?,
        _ => return None,
    };
    let hex: String = fields.collect();
    let rdata = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    if rdata.len() != usize::from(len) {
        return None;
    }
    let mut decoder = BinDecoder::new(&rdata);
    let data = RData::read(&mut decoder, RecordType::from(type_), Restrict::new(len)).ok()?;
    Some(Record::from_rdata(name, ttl, data))
}

#[cfg(test)]
mod tests {
    use designate_storage::ResourceRecord;

    use super::*;
    use crate::records::to_record;

    fn line(name: &str, type_: &str, data: &str) -> String {
        let record = to_record(&ResourceRecord {
            name: name.into(),
            type_: type_.into(),
            ttl: 300,
            data: data.into(),
        })
        .unwrap();
        let mut text = String::new();
        push_generic(&mut text, &record).unwrap();
        text
    }

    #[test]
    fn records_are_written_in_the_generic_form_of_their_wire_data() {
        assert_eq!(
            line("www.example.org.", "A", "192.0.2.1"),
            "www.example.org. 300 IN TYPE1 \\# 4 c0000201\n"
        );
        // Quotes and semicolons are bytes like any other, and the strings
        // are as MiniDNS serves them (one, under 255 characters, as Central
        // reads TXT): nothing for the server to read otherwise.
        assert_eq!(
            line("t.example.org.", "TXT", r#""a\"b;c" "x y""#),
            "t.example.org. 300 IN TYPE16 \\# 12 0b6122623b63222022782079\n"
        );
        assert_eq!(
            line("*.example.org.", "MX", "10 mail.example.org."),
            "*.example.org. 300 IN TYPE15 \\# 20 000a046d61696c076578616d706c65036f726700\n"
        );
    }

    #[test]
    fn owner_names_are_written_in_ascii() {
        assert_eq!(
            line("xn--bcher-kva.example.", "A", "192.0.2.1"),
            "xn--bcher-kva.example. 300 IN TYPE1 \\# 4 c0000201\n"
        );
    }

    #[test]
    fn written_records_read_back_as_they_were() {
        let records = [
            (
                "example.org.",
                "SOA",
                "ns1.example.org. h.example.org. 7 3600 600 86400 300",
            ),
            ("example.org.", "NS", "ns1.example.net."),
            ("xn--bcher-kva.example.org.", "AAAA", "2001:db8::1"),
            ("t.example.org.", "TXT", &format!("\"{}\"", "x".repeat(200))),
            ("*.example.org.", "MX", "10 mail.example.org."),
        ];
        let text: String = records.iter().map(|(n, t, d)| line(n, t, d)).collect();
        let read = zone_file_records(&text).unwrap();
        let shown: Vec<(String, String, u32, String)> = read
            .iter()
            .map(|r| {
                (
                    r.name.to_ascii(),
                    r.record_type().to_string(),
                    r.ttl,
                    r.data.to_string(),
                )
            })
            .collect();
        assert_eq!(shown.len(), records.len());
        for ((name, type_, data), (read_name, read_type, ttl, read_data)) in
            records.iter().zip(&shown)
        {
            assert_eq!(
                (name, type_, ttl),
                (&read_name.as_str(), &read_type.as_str(), &300)
            );
            if *type_ != "TXT" {
                assert_eq!(data, read_data);
            }
        }
        assert_eq!(zone_file_records("x.example. 300 IN A 192.0.2.1\n"), None);
        assert_eq!(
            zone_file_records("x.example. 300 IN TYPE1 \\# 5 c0000201\n"),
            None,
            "a length that is not the data's"
        );
    }

    #[test]
    fn long_rdata_is_split_into_short_words() {
        let long = format!("\"{}\"", "x".repeat(200));
        let text = line("t.example.org.", "TXT", &long);
        let words: Vec<&str> = text.split_whitespace().skip(6).collect();
        assert_eq!(words.concat().len(), 2 * 201);
        assert!(words.iter().all(|w| w.len() <= HEX_WORD), "{words:?}");
    }
}
