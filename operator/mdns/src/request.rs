//! Reading a request (pure): what it asks, or the error code it gets.

use hickory_proto::op::{Header, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

use crate::records::soa_serial;
use crate::wire;

/// The bytes of a request, decoded.
pub(crate) enum Decoded {
    /// Too short for a header, or not a query at all (a response): never
    /// answered, so that two servers cannot ping-pong.
    Ignore,
    /// A header but no valid message: answered FORMERR (this is that answer).
    Malformed(Message),
    Request(Message),
}

pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    let Ok(header) = Header::read(&mut BinDecoder::new(bytes)) else {
        return Decoded::Ignore;
    };
    if header.message_type == MessageType::Response {
        return Decoded::Ignore;
    }
    match Message::from_vec(bytes) {
        Ok(message) => Decoded::Request(message),
        Err(_) => {
            let mut answer = Message::new(header.id, MessageType::Response, header.op_code);
            answer.metadata = wire::response_metadata(&header.metadata, ResponseCode::FormErr);
            Decoded::Malformed(answer)
        }
    }
}

/// What a well-formed request asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// An RRset (the SOA polls and any other query).
    Lookup {
        name: Name,
        type_: RecordType,
    },
    Axfr {
        zone: Name,
    },
    /// With the serial the client has (its SOA in the authority section).
    Ixfr {
        zone: Name,
        serial: u32,
    },
    /// With the serial the sender announces, when it gives one.
    Notify {
        zone: Name,
        serial: Option<u32>,
    },
}

/// What `request` asks, or the code of the error it gets: FORMERR without
/// exactly one question or (IXFR) without the client's SOA, NOTIMP for
/// opcodes other than QUERY and NOTIFY, REFUSED for classes other than IN.
pub(crate) fn classify(request: &Message) -> Result<Ask, ResponseCode> {
    if !matches!(request.op_code, OpCode::Query | OpCode::Notify) {
        return Err(ResponseCode::NotImp);
    }
    let [query] = request.queries.as_slice() else {
        return Err(ResponseCode::FormErr);
    };
    if query.query_class() != DNSClass::IN {
        return Err(ResponseCode::Refused);
    }
    let name = query.name().clone();
    let type_ = query.query_type();
    if request.op_code == OpCode::Notify {
        let serial = request
            .answers
            .iter()
            .filter(|rr| rr.name.eq_ignore_root(&name))
            .find_map(soa_serial);
        return Ok(Ask::Notify { zone: name, serial });
    }
    match type_ {
        RecordType::AXFR => Ok(Ask::Axfr { zone: name }),
        RecordType::IXFR => request
            .authorities
            .iter()
            .filter(|rr| rr.name.eq_ignore_root(&name))
            .find_map(soa_serial)
            .map(|serial| Ask::Ixfr { zone: name, serial })
            .ok_or(ResponseCode::FormErr),
        _ => Ok(Ask::Lookup { name, type_ }),
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::Query;
    use hickory_proto::rr::rdata::SOA;
    use hickory_proto::rr::{RData, Record};
    use proptest::prelude::*;

    use super::*;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn soa(zone: &str, serial: u32) -> Record {
        Record::from_rdata(
            name(zone),
            0,
            RData::SOA(SOA::new(name("ns."), name("admin."), serial, 1, 1, 1, 1)),
        )
    }

    fn query(type_: RecordType) -> Message {
        let mut message = Message::query();
        message.add_query(Query::query(name("example.com."), type_));
        message
    }

    fn classify_bytes(message: &Message) -> Result<Ask, ResponseCode> {
        match decode(&message.to_vec().unwrap()) {
            Decoded::Request(request) => classify(&request),
            _ => panic!("a well-formed request"),
        }
    }

    #[test]
    fn asks() {
        assert_eq!(
            classify_bytes(&query(RecordType::SOA)),
            Ok(Ask::Lookup {
                name: name("example.com."),
                type_: RecordType::SOA
            })
        );
        assert_eq!(
            classify_bytes(&query(RecordType::AXFR)),
            Ok(Ask::Axfr {
                zone: name("example.com.")
            })
        );
        let mut ixfr = query(RecordType::IXFR);
        ixfr.add_authority(soa("EXAMPLE.com.", 41));
        assert_eq!(
            classify_bytes(&ixfr),
            Ok(Ask::Ixfr {
                zone: name("example.com."),
                serial: 41
            })
        );
        let mut notify = query(RecordType::SOA);
        notify.metadata.op_code = OpCode::Notify;
        assert_eq!(
            classify_bytes(&notify),
            Ok(Ask::Notify {
                zone: name("example.com."),
                serial: None
            })
        );
        notify.add_answer(soa("example.com.", 7));
        assert_eq!(
            classify_bytes(&notify),
            Ok(Ask::Notify {
                zone: name("example.com."),
                serial: Some(7)
            })
        );
    }

    #[test]
    fn errors() {
        // IXFR without the client's SOA, or with another zone's.
        assert_eq!(
            classify_bytes(&query(RecordType::IXFR)),
            Err(ResponseCode::FormErr)
        );
        let mut ixfr = query(RecordType::IXFR);
        ixfr.add_authority(soa("example.net.", 41));
        assert_eq!(classify_bytes(&ixfr), Err(ResponseCode::FormErr));
        // No question, two questions.
        assert_eq!(
            classify_bytes(&Message::query()),
            Err(ResponseCode::FormErr)
        );
        let mut two = query(RecordType::SOA);
        two.add_query(Query::query(name("example.net."), RecordType::SOA));
        assert_eq!(classify_bytes(&two), Err(ResponseCode::FormErr));
        // Other opcodes, other classes.
        for op_code in [OpCode::Update, OpCode::Status, OpCode::Unknown(3)] {
            let mut message = query(RecordType::SOA);
            message.metadata.op_code = op_code;
            assert_eq!(classify_bytes(&message), Err(ResponseCode::NotImp));
        }
        let mut chaos = Message::query();
        let mut q = Query::query(name("version.bind."), RecordType::TXT);
        q.set_query_class(DNSClass::CH);
        chaos.add_query(q);
        assert_eq!(classify_bytes(&chaos), Err(ResponseCode::Refused));
    }

    #[test]
    fn garbage_is_ignored_or_formerr() {
        assert!(matches!(decode(&[]), Decoded::Ignore));
        assert!(matches!(decode(&[0; 11]), Decoded::Ignore));
        // A response: never answered.
        let mut response = query(RecordType::SOA);
        response.metadata.message_type = MessageType::Response;
        assert!(matches!(
            decode(&response.to_vec().unwrap()),
            Decoded::Ignore
        ));
        // A header claiming a question that is not there.
        let mut bytes = query(RecordType::SOA).to_vec().unwrap();
        bytes.truncate(14);
        let Decoded::Malformed(answer) = decode(&bytes) else {
            panic!("FORMERR");
        };
        assert_eq!(answer.response_code, ResponseCode::FormErr);
        assert_eq!(answer.id, u16::from_be_bytes([bytes[0], bytes[1]]));
        assert_eq!(answer.message_type, MessageType::Response);
        // A label pointer to itself.
        let mut looped = bytes[..12].to_vec();
        looped.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1]);
        assert!(matches!(decode(&looped), Decoded::Malformed(_)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Decoded::Request(message) = decode(&bytes) {
                let _ = classify(&message);
            }
        }

        #[test]
        fn mutated_requests_decode_without_panic(
            type_ in prop::sample::select(vec![RecordType::SOA, RecordType::AXFR, RecordType::IXFR, RecordType::A]),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut message = query(type_);
            message.add_authority(soa("example.com.", 1));
            let mut bytes = message.to_vec().unwrap();
            for (at, value) in flips {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            if let Decoded::Request(message) = decode(&bytes) {
                let _ = classify(&message);
            }
        }
    }
}
