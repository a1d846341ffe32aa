//! TSIG (RFC 8945) on the server side (pure; the time is an argument):
//! checking a request's signature, and signing every message of the answer,
//! the first over the request's MAC, each next one over the previous MAC
//! (RFC 8945 §5.3.1, as BIND and dig verify multi-message transfers).

use hickory_proto::ProtoError;
use hickory_proto::op::Message;
use hickory_proto::rr::rdata::tsig::{
    TSIG, TsigAlgorithm, TsigError, make_tsig_record, signed_bitmessage_to_buf,
};
use hickory_proto::rr::{Name, Record};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use crate::policy::{TSIG_FUDGE, TransferPolicy, TsigKey};

/// What a request's TSIG (if any) says.
pub(crate) enum Checked {
    Unsigned,
    /// Verified with one of our keys: answers are signed with it.
    Signed(ResponseSigner),
    /// Answered NOTAUTH with the TSIG error.
    Failed(Failure),
}

/// Why a signed request was not accepted.
pub(crate) enum Failure {
    /// BADKEY: a key (or algorithm) we don't have; the answer is unsigned.
    UnknownKey(Name, TsigAlgorithm),
    /// BADSIG: the MAC is wrong; the answer is unsigned.
    BadSignature(TsigKey, TsigAlgorithm),
    /// BADTIME: signed outside its fudge window; the answer is signed.
    BadTime {
        key: TsigKey,
        algorithm: TsigAlgorithm,
        request_mac: Vec<u8>,
    },
}

/// Checks the TSIG of `request` (decoded from `bytes`) at `now` (unix
/// seconds), RFC 8945 §5.2: key, MAC, time.
pub(crate) fn check(bytes: &[u8], request: &Message, policy: &TransferPolicy, now: u64) -> Checked {
    let Some(tsig) = &request.signature else {
        return Checked::Unsigned;
    };
    let unknown = || {
        Checked::Failed(Failure::UnknownKey(
            tsig.name.clone(),
            tsig.data.algorithm.clone(),
        ))
    };
    let Some(key) = policy.key(&tsig.name) else {
        return unknown();
    };
    // The algorithm as the request names it (HMAC-MD5's name has a domain
    // hickory does not map): answers echo it, and their MACs cover it.
    let algorithm = tsig.data.algorithm.clone();
    if algorithm.to_name().to_ascii().parse() != Ok(key.algorithm()) {
        return unknown();
    }
    let bad_signature = || Checked::Failed(Failure::BadSignature(key.clone(), algorithm.clone()));
    let Ok((tbv, record)) = signed_bitmessage_to_buf(bytes, None, true) else {
        return bad_signature();
    };
    if !key.verifies(&tbv, &record.data.mac) {
        return bad_signature();
    }
    let (time, fudge) = (record.data.time, u64::from(record.data.fudge));
    let request_mac = record.data.mac.clone();
    if !(time.saturating_sub(fudge)..=time.saturating_add(fudge)).contains(&now) {
        return Checked::Failed(Failure::BadTime {
            key: key.clone(),
            algorithm,
            request_mac,
        });
    }
    Checked::Signed(ResponseSigner {
        key: key.clone(),
        algorithm,
        oid: record.data.oid,
        previous_mac: request_mac,
        first: true,
    })
}

/// The MAC input of a first answer (RFC 8945 §5.3): the request's MAC, the
/// answer, and the TSIG variables of `stub`.
fn first_tbs(
    request_mac: &[u8],
    message: &[u8],
    stub: &TSIG,
    key_name: &Name,
) -> Result<Vec<u8>, ProtoError> {
    let mut tbs = Vec::with_capacity(message.len() + request_mac.len() + 64);
    let mut encoder = BinEncoder::new(&mut tbs);
    let mac_len = u16::try_from(request_mac.len()).map_err(|_| ProtoError::from("MAC too long"))?;
    encoder.emit_u16(mac_len)?;
    encoder.emit_vec(request_mac)?;
    encoder.emit_vec(message)?;
    stub.emit_tsig_for_mac(&mut encoder, key_name)?;
    Ok(tbs)
}

impl Failure {
    /// Adds the TSIG record of this failure to the (NOTAUTH) answer.
    pub(crate) fn sign(self, message: &mut Vec<u8>, oid: u16, now: u64) -> Result<(), ProtoError> {
        let unsigned = |name: Name, algorithm, error| {
            make_tsig_record(
                name,
                TSIG::new(
                    algorithm,
                    now,
                    TSIG_FUDGE,
                    Vec::new(),
                    oid,
                    Some(error),
                    Vec::new(),
                ),
            )
        };
        let record = match self {
            Self::UnknownKey(name, algorithm) => unsigned(name, algorithm, TsigError::BadKey),
            Self::BadSignature(key, algorithm) => {
                unsigned(key.key_name().clone(), algorithm, TsigError::BadSig)
            }
            Self::BadTime {
                key,
                algorithm,
                request_mac,
            } => {
                // The server's time, in the other data (§5.2.3).
                let other = now.to_be_bytes()[2..].to_vec();
                let stub = TSIG::new(
                    algorithm,
                    now,
                    TSIG_FUDGE,
                    Vec::new(),
                    oid,
                    Some(TsigError::BadTime),
                    other,
                );
                let tbs = first_tbs(&request_mac, message, &stub, key.key_name())?;
                make_tsig_record(key.key_name().clone(), stub.set_mac(key.mac(&tbs)))
            }
        };
        append(message, &record)
    }
}

/// Signs the messages of one answer in order.
pub(crate) struct ResponseSigner {
    key: TsigKey,
    /// The algorithm as the request named it.
    algorithm: TsigAlgorithm,
    /// The request's original id.
    oid: u16,
    /// The request's MAC, then that of the last message signed.
    previous_mac: Vec<u8>,
    first: bool,
}

impl ResponseSigner {
    /// Appends the TSIG record of the next message of the answer.
    pub(crate) fn sign(&mut self, message: &mut Vec<u8>, now: u64) -> Result<(), ProtoError> {
        let stub = TSIG::new(
            self.algorithm.clone(),
            now,
            TSIG_FUDGE,
            Vec::new(),
            self.oid,
            None,
            Vec::new(),
        );
        let tbs = if self.first {
            first_tbs(&self.previous_mac, message, &stub, self.key.key_name())?
        } else {
            // Later messages: previous MAC, message, timers (RFC 8945 §5.3.1).
            let mut tbs = Vec::with_capacity(message.len() + self.previous_mac.len() + 10);
            let mac_len = u16::try_from(self.previous_mac.len())
                .map_err(|_| ProtoError::from("MAC too long"))?;
            tbs.extend_from_slice(&mac_len.to_be_bytes());
            tbs.extend_from_slice(&self.previous_mac);
            tbs.extend_from_slice(message);
            tbs.extend_from_slice(&now.to_be_bytes()[2..]);
            tbs.extend_from_slice(&TSIG_FUDGE.to_be_bytes());
            tbs
        };
        let record = make_tsig_record(
            self.key.key_name().clone(),
            stub.set_mac(self.key.mac(&tbs)),
        );
        self.previous_mac.clone_from(&record.data.mac);
        self.first = false;
        append(message, &record)
    }
}

/// Appends `record` to an encoded message, as its last additional record.
fn append(message: &mut Vec<u8>, record: &Record<TSIG>) -> Result<(), ProtoError> {
    if message.len() < 12 {
        return Err(ProtoError::from("message shorter than a header"));
    }
    let at = u32::try_from(message.len()).map_err(|_| ProtoError::from("message too long"))?;
    record.emit(&mut BinEncoder::with_offset(message, at))?;
    let count = u16::from_be_bytes([message[10], message[11]])
        .checked_add(1)
        .ok_or_else(|| ProtoError::from("too many additional records"))?;
    message[10..12].copy_from_slice(&count.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::{Query, ResponseCode};
    use hickory_proto::rr::RecordType;

    use super::*;
    use crate::policy::TsigKey;
    use crate::wire;

    const NOW: u64 = 1_700_000_000;

    fn key(secret: &str) -> TsigKey {
        TsigKey::new("xfr-key", "hmac-sha256", secret).unwrap()
    }

    fn policy() -> TransferPolicy {
        TransferPolicy {
            keys: vec![key("c2VjcmV0LXNlY3JldA==")],
            ..Default::default()
        }
    }

    /// A signed AXFR request and the verifier of its answers.
    fn signed_request(
        key: &TsigKey,
        at: u64,
    ) -> (Message, Vec<u8>, hickory_proto::rr::TSigVerifier) {
        let mut request = Message::query();
        request.add_query(Query::query(
            Name::from_ascii("example.com.").unwrap(),
            RecordType::AXFR,
        ));
        let verifier = request
            .finalize(&key.signer().unwrap(), at)
            .unwrap()
            .unwrap();
        let bytes = request.to_vec().unwrap();
        (Message::from_vec(&bytes).unwrap(), bytes, verifier)
    }

    fn answer(request: &Message, n: u8) -> Vec<u8> {
        let mut message = wire::response(request, ResponseCode::NoError, true);
        message.add_answer(Record::from_rdata(
            Name::from_ascii("example.com.").unwrap(),
            60,
            hickory_proto::rr::RData::A(hickory_proto::rr::rdata::A::new(192, 0, 2, n)),
        ));
        message.to_vec().unwrap()
    }

    #[test]
    fn every_message_of_an_answer_verifies_in_order() {
        let (request, bytes, mut verifier) = signed_request(&key("c2VjcmV0LXNlY3JldA=="), NOW);
        let Checked::Signed(mut signer) = check(&bytes, &request, &policy(), NOW + 10) else {
            panic!("a good signature");
        };
        let mut messages = Vec::new();
        for n in 0..3 {
            let mut message = answer(&request, n);
            signer.sign(&mut message, NOW + 10).unwrap();
            messages.push(message);
        }
        for message in &messages {
            let verified = verifier.verify(message).unwrap();
            assert_eq!(verified.signature().unwrap().data.oid, request.id);
        }

        // Out of order, the chain breaks.
        let (request, bytes, mut verifier) = signed_request(&key("c2VjcmV0LXNlY3JldA=="), NOW);
        let Checked::Signed(mut signer) = check(&bytes, &request, &policy(), NOW) else {
            panic!("a good signature");
        };
        let mut first = answer(&request, 0);
        let mut second = answer(&request, 1);
        signer.sign(&mut first, NOW).unwrap();
        signer.sign(&mut second, NOW).unwrap();
        assert!(verifier.verify(&second).is_err());
    }

    #[test]
    fn bad_requests_fail_with_their_tsig_error() {
        // Unsigned.
        let mut plain = Message::query();
        plain.add_query(Query::query(Name::root(), RecordType::SOA));
        let bytes = plain.to_vec().unwrap();
        assert!(matches!(
            check(&bytes, &plain, &policy(), NOW),
            Checked::Unsigned
        ));

        // Another key name.
        let other = TsigKey::new("other", "hmac-sha256", "c2VjcmV0LXNlY3JldA==").unwrap();
        let (request, bytes, _) = signed_request(&other, NOW);
        assert!(matches!(
            check(&bytes, &request, &policy(), NOW),
            Checked::Failed(Failure::UnknownKey(..))
        ));
        // Same name, another algorithm.
        let sha512 = TsigKey::new("xfr-key", "hmac-sha512", "c2VjcmV0LXNlY3JldA==").unwrap();
        let (request, bytes, _) = signed_request(&sha512, NOW);
        assert!(matches!(
            check(&bytes, &request, &policy(), NOW),
            Checked::Failed(Failure::UnknownKey(..))
        ));
        // Another secret.
        let (request, bytes, _) = signed_request(&key("b3RoZXI="), NOW);
        assert!(matches!(
            check(&bytes, &request, &policy(), NOW),
            Checked::Failed(Failure::BadSignature(..))
        ));
        // Too old, too new.
        for now in [NOW + 301, NOW - 301] {
            let (request, bytes, _) = signed_request(&key("c2VjcmV0LXNlY3JldA=="), NOW);
            let Checked::Failed(failure) = check(&bytes, &request, &policy(), now) else {
                panic!("out of the fudge window");
            };
            assert!(matches!(failure, Failure::BadTime { .. }));
            let mut message = wire::response(&request, ResponseCode::NotAuth, false)
                .to_vec()
                .unwrap();
            failure.sign(&mut message, request.id, now).unwrap();
            let decoded = Message::from_vec(&message).unwrap();
            assert_eq!(decoded.response_code, ResponseCode::NotAuth);
            assert_eq!(
                decoded.signature().unwrap().data.error,
                Some(TsigError::BadTime)
            );
        }
        // A time before the fudge: no underflow, just out of its window.
        let (request, bytes, _) = signed_request(&key("c2VjcmV0LXNlY3JldA=="), 10);
        assert!(matches!(
            check(&bytes, &request, &policy(), NOW),
            Checked::Failed(Failure::BadTime { .. })
        ));
    }

    #[test]
    fn unknown_key_answers_carry_badkey() {
        let other = TsigKey::new("other", "hmac-sha256", "c2VjcmV0").unwrap();
        let (request, bytes, _) = signed_request(&other, NOW);
        let Checked::Failed(failure) = check(&bytes, &request, &policy(), NOW) else {
            panic!("unknown key");
        };
        let mut message = wire::response(&request, ResponseCode::NotAuth, false)
            .to_vec()
            .unwrap();
        failure.sign(&mut message, request.id, NOW).unwrap();
        let decoded = Message::from_vec(&message).unwrap();
        let tsig = decoded.signature().unwrap();
        assert_eq!(tsig.data.error, Some(TsigError::BadKey));
        assert!(tsig.data.mac.is_empty());
        assert_eq!(tsig.name, Name::from_ascii("other.").unwrap());
    }
}
