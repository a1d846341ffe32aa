//! Encoding responses (pure): headers of responses, one message filled with
//! as many records as fit, and UDP size limits.

use hickory_proto::ProtoError;
use hickory_proto::op::{
    Edns, Header, HeaderCounts, Message, MessageType, Metadata, Query, ResponseCode,
};
use hickory_proto::rr::Record;
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

/// The largest DNS message over TCP.
pub(crate) const TCP_MAX: u16 = u16::MAX;
/// Room kept for the TSIG record of a signed message: key and algorithm
/// names, a 64-byte MAC and the fixed fields.
pub(crate) const TSIG_ROOM: u16 = 400;
/// UDP payload without EDNS (RFC 1035).
const UDP_PLAIN: u16 = 512;
/// The largest UDP payload we send, whatever a client offers (the DNS flag
/// day 2020 value, which avoids fragmentation).
pub(crate) const UDP_MAX: u16 = 1232;

/// The header of a response to `request` (id, opcode, RD and CD echoed).
pub(crate) fn response_metadata(request: &Metadata, rcode: ResponseCode) -> Metadata {
    let mut metadata = Metadata::response_from_request(request);
    metadata.response_code = rcode;
    metadata
}

/// An answer to `request` without records: its question echoed, and an EDNS
/// record when it had one (RFC 6891).
pub(crate) fn response(request: &Message, rcode: ResponseCode, authoritative: bool) -> Message {
    let mut message = Message::new(request.id, MessageType::Response, request.op_code);
    message.metadata = response_metadata(&request.metadata, rcode);
    message.metadata.authoritative = authoritative;
    message.add_queries(request.queries.iter().cloned());
    if request.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(UDP_MAX);
        message.set_edns(edns);
    }
    message
}

/// The largest UDP response to `request`: what its EDNS offers, within
/// 512 ..= [`UDP_MAX`].
pub(crate) fn udp_limit(request: &Message) -> u16 {
    request.edns.as_ref().map_or(UDP_PLAIN, |edns| {
        edns.max_payload().clamp(UDP_PLAIN, UDP_MAX)
    })
}

/// `message` encoded within `max` bytes: when it does not fit, its records
/// are dropped and TC is set (the client retries over TCP).
pub(crate) fn encode_within(message: &Message, max: u16) -> Result<Vec<u8>, ProtoError> {
    let bytes = message.to_vec()?;
    if bytes.len() <= usize::from(max) {
        return Ok(bytes);
    }
    message.truncate().to_vec()
}

/// One message being filled with records (answer section), for transfers.
pub(crate) struct Chunk {
    metadata: Metadata,
    buf: Vec<u8>,
    answers: u16,
    max: u16,
}

impl Chunk {
    /// A message of at most `max` bytes with `query` as its question.
    pub(crate) fn new(metadata: Metadata, query: &Query, max: u16) -> Result<Self, ProtoError> {
        let mut buf = Vec::with_capacity(usize::from(max));
        {
            let mut encoder = BinEncoder::new(&mut buf);
            encoder.set_max_size(max);
            // Counts are written by `finish`.
            Header {
                metadata,
                counts: HeaderCounts::default(),
            }
            .emit(&mut encoder)?;
            query.emit(&mut encoder)?;
        }
        Ok(Self {
            metadata,
            buf,
            answers: 0,
            max,
        })
    }

    /// Appends records from the front of `records` while they fit; returns
    /// how many were taken.
    pub(crate) fn push(&mut self, records: &[Record]) -> Result<usize, ProtoError> {
        let start = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        let mut encoder = BinEncoder::with_offset(&mut self.buf, start);
        encoder.set_max_size(self.max);
        // An answer count is 16 bits.
        let room = usize::from(u16::MAX - self.answers);
        let taken = match encoder.emit_all(records.iter().take(room)) {
            Ok(taken) => taken,
            Err(ProtoError::NotAllRecordsWritten { count, .. }) => count,
            Err(error) => return Err(error),
        };
        // A record cut short by the size limit leaves bytes past the offset.
        encoder.trim();
        self.answers += u16::try_from(taken).unwrap_or(u16::MAX);
        Ok(taken)
    }

    pub(crate) fn answers(&self) -> u16 {
        self.answers
    }

    /// The encoded message.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, ProtoError> {
        let header = Header {
            metadata: self.metadata,
            counts: HeaderCounts {
                queries: 1,
                answers: self.answers,
                authorities: 0,
                additionals: 0,
            },
        };
        let mut encoder = BinEncoder::new(&mut self.buf);
        header.emit(&mut encoder)?;
        Ok(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::OpCode;
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{Name, RData, RecordType};

    use super::*;

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| {
                Record::from_rdata(
                    Name::from_ascii(format!("host{i}.example.com.")).unwrap(),
                    300,
                    RData::A(A::new(192, 0, 2, (i % 250) as u8)),
                )
            })
            .collect()
    }

    fn metadata() -> Metadata {
        let mut metadata = Metadata::new(7, MessageType::Response, OpCode::Query);
        metadata.authoritative = true;
        metadata
    }

    fn query() -> Query {
        Query::query(Name::from_ascii("example.com.").unwrap(), RecordType::AXFR)
    }

    #[test]
    fn chunks_hold_what_fits_and_decode() {
        let all = records(5000);
        let mut decoded = Vec::new();
        let mut rest = &all[..];
        while !rest.is_empty() {
            let mut chunk = Chunk::new(metadata(), &query(), 16_384).unwrap();
            // Pushed in two halves, as pages come.
            let half = rest.len().min(100);
            let mut taken = chunk.push(&rest[..half]).unwrap();
            if taken == half {
                taken += chunk.push(&rest[half..]).unwrap();
            }
            assert!(taken > 0);
            assert_eq!(usize::from(chunk.answers()), taken);
            let bytes = chunk.finish().unwrap();
            assert!(bytes.len() <= 16_384);
            let message = Message::from_vec(&bytes).unwrap();
            assert_eq!(message.id, 7);
            assert!(message.authoritative);
            assert!(!message.truncation);
            assert_eq!(message.queries, vec![query()]);
            decoded.extend(message.answers);
            rest = &rest[taken..];
        }
        assert_eq!(decoded, all);
    }

    #[test]
    fn a_record_larger_than_the_message_is_not_taken() {
        let mut chunk = Chunk::new(metadata(), &query(), 40).unwrap();
        assert_eq!(chunk.push(&records(1)).unwrap(), 0);
        let message = Message::from_vec(&chunk.finish().unwrap()).unwrap();
        assert!(message.answers.is_empty());
    }

    #[test]
    fn udp_answers_too_big_are_truncated() {
        let mut request = Message::query();
        request.add_query(Query::query(
            Name::from_ascii("example.com.").unwrap(),
            RecordType::A,
        ));
        assert_eq!(udp_limit(&request), 512);
        let mut answer = response(&request, ResponseCode::NoError, true);
        answer.add_answers(records(100));
        let bytes = encode_within(&answer, udp_limit(&request)).unwrap();
        let decoded = Message::from_vec(&bytes).unwrap();
        assert!(decoded.truncation);
        assert!(decoded.answers.is_empty());
        assert_eq!(decoded.id, request.id);

        let mut edns = Edns::new();
        edns.set_max_payload(4096);
        request.set_edns(edns);
        assert_eq!(udp_limit(&request), UDP_MAX);
        let answer = response(&request, ResponseCode::NoError, true);
        assert_eq!(answer.edns.as_ref().unwrap().max_payload(), UDP_MAX);
    }
}
