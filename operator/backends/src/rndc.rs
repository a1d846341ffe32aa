//! A native client for BIND 9's control channel, the protocol `rndc` speaks
//! (ISCCC), so that a command costs a TCP exchange instead of starting the
//! `rndc` binary (15 to 35 ms a call).
//!
//! The protocol, as BIND 9.18 speaks it (`lib/isccc`, `bin/rndc`):
//! - A message is a 4-byte big-endian length, then the version (1, 4 bytes)
//!   and a table of entries: a key (1 length byte, then the name) and a typed
//!   value (1 type byte: 1 binary, 2 table, 3 list; a 4-byte length; the
//!   bytes). Numbers travel as decimal text.
//! - The table's first entry is `_auth`, holding the HMAC of every byte of the
//!   table after that entry, base64-encoded: `hmd5` (22 characters, the
//!   padding dropped) for hmac-md5, `hsha` (an algorithm byte, then 88
//!   characters, zero-filled) for the SHA ones. Then `_ctrl` (`_ser`ial,
//!   `_tim`e, `_exp`iry, `_nonce`, `_rpl` on replies) and `_data` (the
//!   command in `type`; `result`, `err` and `text` in the answer).
//! - An exchange, on one connection: a `null` request, answered with a nonce;
//!   the command carrying that nonce, answered with its result. named closes
//!   the connection, without a word, on a request it refuses: a wrong key or
//!   algorithm, a time more than 5 minutes off its clock, a serial and time
//!   it has seen in the last 15 minutes, a wrong nonce.
//!
//! [`encode`] and [`decode`] are the pure codec; [`RndcClient`] the IO.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::Error;

const DRIVER: &str = "bind9";

/// The largest request named reads (`controlconf.c`); it drops the
/// connection on a longer one, which would read as a refused key.
pub const MAX_REQUEST: usize = 32 * 1024;
/// The largest answer read, as rndc allows.
const MAX_ANSWER: usize = 1024 * 1024;
/// Seconds a request stays valid, as rndc sets it.
const REQUEST_LIFETIME: u32 = 60;
/// How deep tables and lists may nest in an answer (BIND's own bound).
const MAX_DEPTH: usize = 10;

const TYPE_BINARY: u8 = 1;
const TYPE_TABLE: u8 = 2;
const TYPE_LIST: u8 = 3;

/// The base64 characters of an hmac-md5 signature kept on the wire.
const HMD5_CHARS: usize = 22;
/// The room for the base64 of any SHA signature (SHA-512's 64 bytes).
const HSHA_CHARS: usize = 88;

/// The HMAC algorithms of rndc keys: TSIG's, by the same names.
pub use designate_mdns::TsigAlgorithm as Algorithm;

/// BIND's number for an algorithm (DST's), sent in `hsha` signatures.
const fn dst_code(algorithm: Algorithm) -> u8 {
    match algorithm {
        Algorithm::HmacMd5 => 157,
        Algorithm::HmacSha1 => 161,
        Algorithm::HmacSha224 => 162,
        Algorithm::HmacSha256 => 163,
        Algorithm::HmacSha384 => 164,
        Algorithm::HmacSha512 => 165,
    }
}

/// An rndc key: its algorithm and secret. Its name is not part of it, as
/// the protocol does not carry it: named tries each key its `controls`
/// clause lists. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ControlKey {
    algorithm: Algorithm,
    secret: Vec<u8>,
}

impl ControlKey {
    pub fn new(algorithm: Algorithm, secret: Vec<u8>) -> Self {
        Self { algorithm, secret }
    }

    /// A key as named.conf writes it: the algorithm's name and the base64
    /// secret (white space ignored, as named does).
    pub fn from_base64(algorithm: &str, secret: &str) -> Result<Self, Error> {
        let algorithm = algorithm.parse::<Algorithm>().map_err(invalid)?;
        let compact: String = secret.split_ascii_whitespace().collect();
        let secret = BASE64
            .decode(compact)
            .ok()
            .filter(|s| !s.is_empty())
            // The secret itself stays out of the message.
            .ok_or_else(|| invalid("the rndc key's secret is not base64"))?;
        Ok(Self { algorithm, secret })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `_auth` entry's signature field for the table bytes `signed`.
    fn signature(&self, signed: &[u8]) -> Vec<u8> {
        let text = BASE64.encode(self.algorithm.mac(&self.secret, signed));
        match self.algorithm {
            Algorithm::HmacMd5 => text.as_bytes()[..HMD5_CHARS].to_vec(),
            _ => {
                let mut field = Vec::with_capacity(1 + HSHA_CHARS);
                field.push(dst_code(self.algorithm));
                field.extend_from_slice(text.as_bytes());
                field.resize(1 + HSHA_CHARS, 0);
                field
            }
        }
    }

    /// The `_auth` table's key for this algorithm's signature.
    fn signature_name(&self) -> &'static str {
        match self.algorithm {
            Algorithm::HmacMd5 => "hmd5",
            _ => "hsha",
        }
    }
}

impl fmt::Debug for ControlKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidTarget {
        driver: DRIVER,
        message: message.into(),
    }
}

fn failed(server: &str, message: impl Into<String>) -> Error {
    Error::Failed {
        driver: DRIVER,
        server: server.to_string(),
        message: message.into(),
    }
}

fn unauthorized(server: &str, message: impl Into<String>) -> Error {
    Error::Unauthorized {
        driver: DRIVER,
        server: server.to_string(),
        message: message.into(),
    }
}

fn unreachable(server: &str, message: impl Into<String>) -> Error {
    Error::Unreachable {
        driver: DRIVER,
        server: server.to_string(),
        message: message.into(),
    }
}

/// The fields of a control message that rndc and named use; requests and
/// answers alike.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// `_ctrl._ser`: named refuses a serial and time it has seen; an answer
    /// repeats its request's.
    pub serial: u32,
    /// `_ctrl._tim`: seconds since the epoch.
    pub time: u32,
    /// `_ctrl._exp`: after it, named refuses the request.
    pub expires: Option<u32>,
    /// `_ctrl._nonce`: given by named's first answer, repeated by the command.
    pub nonce: Option<u32>,
    /// `_ctrl._rpl`: set on answers.
    pub reply: bool,
    /// `_data.type`: the command, its words joined by spaces.
    pub command: Option<String>,
    /// `_data.result`: BIND's result code; 0 is success.
    pub result: Option<u32>,
    /// `_data.err`: the result code's text, when it is not success.
    pub err: Option<String>,
    /// `_data.text`: what the command has to say.
    pub text: Option<String>,
}

impl Message {
    /// A request as rndc makes it: valid for a minute from `time`.
    pub fn request(serial: u32, time: u32, command: &str, nonce: Option<u32>) -> Self {
        Self {
            serial,
            time,
            expires: Some(time.saturating_add(REQUEST_LIFETIME)),
            nonce,
            command: Some(command.to_string()),
            ..Self::default()
        }
    }
}

fn put_key(out: &mut Vec<u8>, key: &str) {
    let len = u8::try_from(key.len()).expect("ISCCC keys are short constants");
    out.push(len);
    out.extend_from_slice(key.as_bytes());
}

fn put_value(out: &mut Vec<u8>, kind: u8, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("ISCCC values are under 4 GiB");
    out.push(kind);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_binary(out: &mut Vec<u8>, key: &str, bytes: &[u8]) {
    put_key(out, key);
    put_value(out, TYPE_BINARY, bytes);
}

fn put_table(out: &mut Vec<u8>, key: &str, table: &[u8]) {
    put_key(out, key);
    put_value(out, TYPE_TABLE, table);
}

/// `message` as a framed, signed control message, ready to send.
pub fn encode(message: &Message, key: &ControlKey) -> Vec<u8> {
    let mut ctrl = Vec::new();
    put_binary(&mut ctrl, "_ser", message.serial.to_string().as_bytes());
    put_binary(&mut ctrl, "_tim", message.time.to_string().as_bytes());
    if let Some(expires) = message.expires {
        put_binary(&mut ctrl, "_exp", expires.to_string().as_bytes());
    }
    if let Some(nonce) = message.nonce {
        put_binary(&mut ctrl, "_nonce", nonce.to_string().as_bytes());
    }
    if message.reply {
        put_binary(&mut ctrl, "_rpl", b"1");
    }
    let mut data = Vec::new();
    if let Some(command) = &message.command {
        put_binary(&mut data, "type", command.as_bytes());
    }
    if let Some(result) = message.result {
        put_binary(&mut data, "result", result.to_string().as_bytes());
    }
    if let Some(err) = &message.err {
        put_binary(&mut data, "err", err.as_bytes());
    }
    if let Some(text) = &message.text {
        put_binary(&mut data, "text", text.as_bytes());
    }
    let mut signed = Vec::new();
    put_table(&mut signed, "_ctrl", &ctrl);
    put_table(&mut signed, "_data", &data);

    let mut auth = Vec::new();
    put_binary(&mut auth, key.signature_name(), &key.signature(&signed));
    let mut body = 1u32.to_be_bytes().to_vec();
    put_table(&mut body, "_auth", &auth);
    body.extend_from_slice(&signed);

    let mut frame = u32::try_from(body.len())
        .expect("ISCCC messages are under 4 GiB")
        .to_be_bytes()
        .to_vec();
    frame.extend_from_slice(&body);
    frame
}

/// A value read off the wire, borrowing its bytes.
#[derive(Debug)]
enum Value<'a> {
    Binary(&'a [u8]),
    Table(Vec<(&'a [u8], Value<'a>)>),
    /// Checked and skipped: no field rndc reads is a list.
    List,
}

impl<'a> Value<'a> {
    /// A table's entry; the last of a repeated key wins, as in BIND.
    fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Table(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| *k == key.as_bytes())
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn binary(&self, key: &str) -> Option<&'a [u8]> {
        match self.get(key) {
            Some(Value::Binary(bytes)) => Some(bytes),
            _ => None,
        }
    }
}

/// Splits `n` bytes off the front of `input`.
fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if input.len() < n {
        return None;
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Some(head)
}

fn take_u32(input: &mut &[u8]) -> Option<u32> {
    take(input, 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn parse_value<'a>(input: &mut &'a [u8], depth: usize) -> Result<Value<'a>, String> {
    let kind = take(input, 1).ok_or("truncated value")?[0];
    let len = take_u32(input).ok_or("truncated value")?;
    let bytes = usize::try_from(len)
        .ok()
        .and_then(|len| take(input, len))
        .ok_or("truncated value")?;
    match kind {
        TYPE_BINARY => Ok(Value::Binary(bytes)),
        TYPE_TABLE | TYPE_LIST if depth >= MAX_DEPTH => Err("nested too deep".into()),
        TYPE_TABLE => parse_table(bytes, depth + 1).map(|(table, _)| table),
        TYPE_LIST => {
            let mut rest = bytes;
            while !rest.is_empty() {
                parse_value(&mut rest, depth + 1)?;
            }
            Ok(Value::List)
        }
        other => Err(format!("unknown value type {other}")),
    }
}

/// A table, and the bytes after its first entry: what `_auth` signs when it
/// is that entry.
fn parse_table(bytes: &[u8], depth: usize) -> Result<(Value<'_>, &[u8]), String> {
    let mut rest = bytes;
    let mut entries = Vec::new();
    let mut after_first = rest;
    while !rest.is_empty() {
        let len = take(&mut rest, 1).ok_or("truncated key")?[0];
        let key = take(&mut rest, usize::from(len)).ok_or("truncated key")?;
        entries.push((key, parse_value(&mut rest, depth)?));
        if entries.len() == 1 {
            after_first = rest;
        }
    }
    Ok((Value::Table(entries), after_first))
}

/// Compares without stopping at the first difference, so that the time
/// taken tells nothing about a signature.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads and verifies a control message (its frame's body, without the
/// length); `server` names the sender in errors. A signature that does not
/// match `key` is [`Error::Unauthorized`], anything malformed
/// [`Error::Failed`].
pub fn decode(body: &[u8], key: &ControlKey, server: &str) -> Result<Message, Error> {
    let malformed = |why: String| failed(server, format!("malformed control message: {why}"));
    let mut rest = body;
    match take_u32(&mut rest) {
        Some(1) => {}
        Some(version) => return Err(malformed(format!("unknown version {version}"))),
        None => return Err(malformed("truncated version".into())),
    }
    let (message, signed) = parse_table(rest, 0).map_err(malformed)?;
    let signature = match &message {
        Value::Table(entries) if entries.first().is_some_and(|(k, _)| *k == b"_auth") => {
            entries[0].1.binary(key.signature_name())
        }
        _ => None,
    };
    let signature = signature.ok_or_else(|| {
        unauthorized(
            server,
            format!("the answer is not signed with {}", key.algorithm),
        )
    })?;
    if !same_bytes(signature, &key.signature(signed)) {
        return Err(unauthorized(
            server,
            "the answer's signature does not match the key",
        ));
    }

    let section = |name: &str| match message.get(name) {
        Some(table @ Value::Table(_)) => Ok(table),
        _ => Err(malformed(format!("no {name} section"))),
    };
    let (ctrl, data) = (section("_ctrl")?, section("_data")?);
    let text = |table: &Value<'_>, key: &str| {
        table
            .binary(key)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let number = |table: &Value<'_>, key: &str| -> Result<Option<u32>, Error> {
        text(table, key)
            .map(|t| {
                t.parse()
                    .map_err(|_| malformed(format!("{key} is not a number: {t:?}")))
            })
            .transpose()
    };
    let required =
        |key: &str| number(ctrl, key)?.ok_or_else(|| malformed(format!("no _ctrl.{key}")));
    Ok(Message {
        serial: required("_ser")?,
        time: required("_tim")?,
        expires: number(ctrl, "_exp")?,
        nonce: number(ctrl, "_nonce")?,
        reply: ctrl.binary("_rpl").is_some(),
        command: text(data, "type"),
        result: number(data, "result")?,
        err: text(data, "err"),
        text: text(data, "text"),
    })
}

/// named's answer to a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RndcReply {
    /// BIND's result code; 0 is success.
    pub result: u32,
    /// The result code's text when the command failed, e.g. `already exists`
    /// (addzone), `not found` (delzone, refresh, modzone of a missing zone).
    pub err: Option<String>,
    /// What the command printed, e.g. `status`'s report, or the details of a
    /// failure; empty when none.
    pub text: String,
}

impl RndcReply {
    fn from_answer(answer: Message) -> Self {
        Self {
            result: answer.result.unwrap_or(0),
            err: answer.err,
            text: answer.text.unwrap_or_default(),
        }
    }

    /// Whether the command succeeded; rndc's exit status.
    pub fn succeeded(&self) -> bool {
        self.result == 0 && self.err.is_none()
    }

    /// What `rndc` prints for this answer to `command` (stderr, then stdout),
    /// e.g. `rndc: 'addzone' failed: already exists\n` and the text: callers
    /// that read rndc's output read this alike.
    pub fn rndc_output(&self, command: &str) -> String {
        let name = command.split_whitespace().next().unwrap_or_default();
        let mut output = String::new();
        if let Some(err) = &self.err {
            output.push_str(&format!("rndc: '{name}' failed: {err}\n"));
        }
        if !self.text.is_empty() {
            output.push_str(&self.text);
            output.push('\n');
        }
        output
    }
}

/// Commands in flight at once to one server. named's control channel
/// listens with a backlog of 5 (`controlconf.c`): connections beyond it are
/// dropped and retried by TCP a second or more later, and named runs
/// `addzone` and the like one at a time anyway. So commands to one server
/// wait their turn here, process-wide.
const TURNS_PER_SERVER: usize = 4;

fn server_turns(server: &str) -> Arc<Semaphore> {
    static TURNS: LazyLock<Mutex<HashMap<String, Arc<Semaphore>>>> =
        LazyLock::new(Default::default);
    let mut turns = TURNS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    turns
        .entry(server.to_string())
        .or_insert_with(|| Arc::new(Semaphore::new(TURNS_PER_SERVER)))
        .clone()
}

/// The next message serial, shared by all clients of the process: named
/// refuses a serial and time it has seen from anyone in the last 15 minutes,
/// so two clients of one server must not count alike. Starts at random, as
/// rndc does, to stay apart from other processes.
fn next_serial() -> u32 {
    static NEXT: LazyLock<AtomicU32> = LazyLock::new(|| AtomicU32::new(rand::random()));
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn unix_now() -> u32 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

/// A client of one named's control channel. Each command is its own
/// connection, as with rndc: nothing is shared between calls, so clones
/// run commands concurrently from any task.
#[derive(Clone, Debug)]
pub struct RndcClient {
    host: String,
    port: u16,
    key: ControlKey,
    timeout: Duration,
}

impl RndcClient {
    /// A client of the control channel at `host` (an address or a name) and
    /// `port`; `timeout` bounds a whole command, connecting included.
    pub fn new(host: impl Into<String>, port: u16, key: ControlKey, timeout: Duration) -> Self {
        Self {
            host: host.into(),
            port,
            key,
            timeout,
        }
    }

    /// `host:port`, as errors name the server.
    pub fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Runs `command` (rndc's arguments joined by spaces, e.g.
    /// `delzone example.org`). A command named runs and fails is still an
    /// answer: [`RndcReply::succeeded`] tells. Errors: [`Error::Unreachable`]
    /// (no address, no connection, a broken one), [`Error::Timeout`],
    /// [`Error::Unauthorized`] (named closed the connection, as it does on a
    /// wrong key, algorithm or clock; or its answer's signature is wrong),
    /// [`Error::Failed`] (a malformed answer, a command too long for named).
    pub async fn command(&self, command: &str) -> Result<RndcReply, Error> {
        let server = self.server();
        if command.len() > MAX_REQUEST {
            return Err(failed(
                &server,
                format!(
                    "command of {} bytes is longer than named accepts",
                    command.len()
                ),
            ));
        }
        let reply = tokio::time::timeout(self.timeout, self.exchange(command, &server))
            .await
            .map_err(|_| Error::Timeout {
                driver: DRIVER,
                server: server.clone(),
                timeout: self.timeout,
            })??;
        tracing::debug!(
            driver = DRIVER,
            %server,
            command = command.split_whitespace().next().unwrap_or_default(),
            result = reply.result,
            err = reply.err.as_deref(),
            "rndc command"
        );
        Ok(reply)
    }

    /// Connects, gets a nonce, sends the command with it, reads its answer.
    async fn exchange(&self, command: &str, server: &str) -> Result<RndcReply, Error> {
        let _turn = server_turns(server)
            .acquire_owned()
            .await
            .map_err(|_| failed(server, "the command queue closed"))?;
        let mut stream = self.connect(server).await?;
        let greeting = self.round_trip(&mut stream, "null", None, server).await?;
        let nonce = greeting.nonce.filter(|n| *n != 0);
        let answer = self.round_trip(&mut stream, command, nonce, server).await?;
        Ok(RndcReply::from_answer(answer))
    }

    async fn connect(&self, server: &str) -> Result<TcpStream, Error> {
        let addresses: Vec<_> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| unreachable(server, format!("couldn't get address: {e}")))?
            .collect();
        let mut last = None;
        for address in addresses {
            match TcpStream::connect(address).await {
                Ok(stream) => {
                    // Each message is one write, answered before the next.
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(e) => last = Some(format!("connect failed: {address}: {e}")),
            }
        }
        Err(unreachable(
            server,
            last.unwrap_or_else(|| "couldn't get address: none found".into()),
        ))
    }

    /// Sends one request and reads its answer, checked to be the answer to it.
    async fn round_trip(
        &self,
        stream: &mut TcpStream,
        command: &str,
        nonce: Option<u32>,
        server: &str,
    ) -> Result<Message, Error> {
        let request = Message::request(next_serial(), unix_now(), command, nonce);
        let frame = encode(&request, &self.key);
        if frame.len() - 4 > MAX_REQUEST {
            return Err(failed(
                server,
                format!(
                    "request of {} bytes is longer than named accepts",
                    frame.len() - 4
                ),
            ));
        }
        stream
            .write_all(&frame)
            .await
            .map_err(|e| unreachable(server, format!("send failed: {e}")))?;
        let body = read_frame(stream, server).await?;
        let answer = decode(&body, &self.key, server)?;
        // A signed answer to another request (replayed, or out of turn)
        // tells nothing about this one.
        if answer.serial != request.serial {
            return Err(failed(
                server,
                format!(
                    "answer to request {} instead of {}",
                    answer.serial, request.serial
                ),
            ));
        }
        Ok(answer)
    }
}

/// Reads one length-prefixed message; its body.
async fn read_frame(stream: &mut TcpStream, server: &str) -> Result<Vec<u8>, Error> {
    let read_error = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            // What rndc reports as "connection to remote host closed".
            unauthorized(
                server,
                "connection to remote host closed: named refused the request \
                 (wrong key or algorithm, this host not allowed, or clocks \
                 more than 5 minutes apart)",
            )
        } else {
            unreachable(server, format!("recv failed: {e}"))
        }
    };
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).await.map_err(read_error)?;
    let length = usize::try_from(u32::from_be_bytes(length)).unwrap_or(usize::MAX);
    if length == 0 || length > MAX_ANSWER {
        return Err(failed(
            server,
            format!("answer of {length} bytes is out of bounds"),
        ));
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.map_err(read_error)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "test:953";
    /// Where an `hsha` signature's characters start in a message body: after
    /// the version, the `_auth` and `hsha` headers and the algorithm byte.
    const HSHA_AT: usize = 4 + 22;
    /// Where the signed bytes start in an `hsha` message body.
    const SIGNED_AT: usize = HSHA_AT + HSHA_CHARS;

    fn key(algorithm: Algorithm) -> ControlKey {
        ControlKey::new(algorithm, b"a secret of some thirty-two bytes".to_vec())
    }

    fn answer() -> Message {
        Message {
            serial: 7,
            time: 1_700_000_000,
            expires: Some(1_700_000_060),
            nonce: Some(0xdead_beef),
            reply: true,
            command: Some("addzone".into()),
            result: Some(18),
            err: Some("already exists".into()),
            text: Some("zone z.test already exists".into()),
        }
    }

    /// The frame's body, as `decode` takes it.
    fn body(frame: &[u8]) -> &[u8] {
        let length = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
        assert_eq!(usize::try_from(length).unwrap(), frame.len() - 4);
        &frame[4..]
    }

    #[test]
    fn messages_round_trip_under_every_algorithm() {
        for algorithm in Algorithm::ALL {
            let key = key(algorithm);
            for message in [
                Message::request(1, 1_700_000_000, "null", None),
                Message::request(
                    u32::MAX,
                    0,
                    "addzone z.test '{ type secondary; }';",
                    Some(42),
                ),
                answer(),
                Message::default(),
            ] {
                let frame = encode(&message, &key);
                assert_eq!(
                    decode(body(&frame), &key, SERVER).unwrap(),
                    message,
                    "{algorithm}"
                );
            }
        }
    }

    #[test]
    fn requests_expire_a_minute_after_their_time() {
        let request = Message::request(3, 1000, "status", Some(9));
        assert_eq!(request.expires, Some(1060));
        assert_eq!(request.command.as_deref(), Some("status"));
        assert!(!request.reply);
    }

    /// The `_auth` entry is laid out exactly as BIND's fixed templates: named
    /// reads it as the first entry and compares the signature byte for byte.
    #[test]
    fn the_signature_entry_has_bind_s_layout() {
        let frame = encode(&answer(), &key(Algorithm::HmacMd5));
        let head = b"\x00\x00\x00\x01\x05_auth\x02\x00\x00\x00\x20\x04hmd5\x01\x00\x00\x00\x16";
        assert_eq!(&frame[4..4 + head.len()], head);
        let field = &frame[4 + head.len()..][..HMD5_CHARS];
        assert!(field.iter().all(u8::is_ascii_graphic));
        assert_eq!(&frame[4 + head.len() + HMD5_CHARS..][..6], b"\x05_ctrl");

        for algorithm in Algorithm::ALL.into_iter().skip(1) {
            let frame = encode(&answer(), &key(algorithm));
            let head = b"\x00\x00\x00\x01\x05_auth\x02\x00\x00\x00\x63\x04hsha\x01\x00\x00\x00\x59";
            assert_eq!(&frame[4..4 + head.len()], head, "{algorithm}");
            let field = &frame[4 + head.len()..][..1 + HSHA_CHARS];
            assert_eq!(field[0], dst_code(algorithm));
            // Base64 of the digest, zero-filled to 88 characters.
            let text: Vec<u8> = field[1..].iter().copied().take_while(|b| *b != 0).collect();
            let digest = BASE64.decode(&text).unwrap();
            let digest_len = match algorithm {
                Algorithm::HmacSha1 => 20,
                Algorithm::HmacSha224 => 28,
                Algorithm::HmacSha256 => 32,
                Algorithm::HmacSha384 => 48,
                _ => 64,
            };
            assert_eq!(digest.len(), digest_len, "{algorithm}");
            assert!(field[1 + text.len()..].iter().all(|b| *b == 0));
            assert_eq!(&frame[4 + head.len() + 1 + HSHA_CHARS..][..6], b"\x05_ctrl");
        }
    }

    /// The signature covers every byte after the `_auth` entry.
    #[test]
    fn the_signature_is_the_hmac_of_the_rest_of_the_table() {
        let key = key(Algorithm::HmacSha256);
        let frame = encode(&answer(), &key);
        let body = body(&frame);
        let digest = Algorithm::HmacSha256.mac(&key.secret, &body[SIGNED_AT..]);
        let field = &body[HSHA_AT..SIGNED_AT];
        let text: Vec<u8> = field.iter().copied().take_while(|b| *b != 0).collect();
        assert_eq!(BASE64.decode(text).unwrap(), digest);
    }

    #[test]
    fn a_tampered_message_is_unauthorized() {
        let key = key(Algorithm::HmacSha256);
        let frame = encode(&answer(), &key);
        let body = body(&frame);
        let text_at = body
            .windows(b"z.test".len())
            .position(|w| w == b"z.test")
            .unwrap();
        let mut tampered = body.to_vec();
        tampered[text_at] = b'y';
        let error = decode(&tampered, &key, SERVER).unwrap_err();
        assert!(matches!(error, Error::Unauthorized { .. }), "{error}");

        // A signature byte changed.
        let mut tampered = body.to_vec();
        tampered[HSHA_AT] ^= 1;
        let error = decode(&tampered, &key, SERVER).unwrap_err();
        assert!(matches!(error, Error::Unauthorized { .. }), "{error}");
    }

    #[test]
    fn another_key_or_algorithm_is_unauthorized() {
        let frame = encode(&answer(), &key(Algorithm::HmacSha256));
        let others = [
            ControlKey::new(Algorithm::HmacSha256, b"another secret".to_vec()),
            key(Algorithm::HmacSha512),
            key(Algorithm::HmacSha1),
            key(Algorithm::HmacMd5),
        ];
        for other in others {
            let error = decode(body(&frame), &other, SERVER).unwrap_err();
            assert!(
                matches!(error, Error::Unauthorized { .. }),
                "{other:?}: {error}"
            );
        }
    }

    #[test]
    fn an_unsigned_message_is_unauthorized() {
        let key = key(Algorithm::HmacSha256);
        let frame = encode(&answer(), &key);
        // The body without its `_auth` entry.
        let mut unsigned = 1u32.to_be_bytes().to_vec();
        unsigned.extend_from_slice(&body(&frame)[SIGNED_AT..]);
        let error = decode(&unsigned, &key, SERVER).unwrap_err();
        assert!(matches!(error, Error::Unauthorized { .. }), "{error}");
    }

    #[test]
    fn truncated_or_garbled_messages_are_errors() {
        let key = key(Algorithm::HmacSha384);
        let frame = encode(&answer(), &key);
        let body = body(&frame);
        for end in 0..body.len() {
            assert!(decode(&body[..end], &key, SERVER).is_err(), "cut at {end}");
        }
        let mut version = body.to_vec();
        version[3] = 2;
        let error = decode(&version, &key, SERVER).unwrap_err();
        assert!(matches!(error, Error::Failed { .. }), "{error}");
        assert!(error.to_string().contains("version 2"), "{error}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut value = Vec::new();
        put_value(&mut value, TYPE_BINARY, b"x");
        for _ in 0..MAX_DEPTH + 2 {
            let mut outer = Vec::new();
            put_value(&mut outer, TYPE_LIST, &value);
            value = outer;
        }
        let mut input = &value[..];
        assert!(parse_value(&mut input, 0).unwrap_err().contains("deep"));
    }

    #[test]
    fn a_signed_message_without_sections_is_malformed() {
        let key = key(Algorithm::HmacSha256);
        let mut signed = Vec::new();
        put_binary(&mut signed, "_ctrl", b"not a table");
        let mut auth = Vec::new();
        put_binary(&mut auth, "hsha", &key.signature(&signed));
        let mut body = 1u32.to_be_bytes().to_vec();
        put_table(&mut body, "_auth", &auth);
        body.extend_from_slice(&signed);
        let error = decode(&body, &key, SERVER).unwrap_err();
        assert!(matches!(error, Error::Failed { .. }), "{error}");
        assert!(error.to_string().contains("_ctrl"), "{error}");
    }

    #[test]
    fn keys_of_unknown_algorithms_are_refused() {
        let error = ControlKey::from_base64("hmac-sha3", "c2VjcmV0").unwrap_err();
        assert!(matches!(error, Error::InvalidTarget { .. }), "{error}");
        let upper = ControlKey::from_base64("HMAC-SHA384", "c2VjcmV0").unwrap();
        assert_eq!(upper.algorithm(), Algorithm::HmacSha384);
    }

    #[test]
    fn keys_are_read_from_base64_and_never_printed() {
        let key = ControlKey::from_base64("hmac-sha256", " c2VjcmV0\n c2VjcmV0 ").unwrap();
        assert_eq!(key.secret, b"secretsecret");
        assert_eq!(key.algorithm(), Algorithm::HmacSha256);
        assert!(!format!("{key:?}").contains("secret\""));
        assert!(!format!("{key:?}").contains("c2Vj"));

        for secret in ["not base64!", ""] {
            let error = ControlKey::from_base64("hmac-sha256", secret).unwrap_err();
            assert!(matches!(error, Error::InvalidTarget { .. }), "{error}");
        }
        let error = ControlKey::from_base64("rsa", "c2VjcmV0").unwrap_err();
        assert!(error.to_string().contains("rsa"), "{error}");
    }

    #[test]
    fn replies_read_as_rndc_prints_them() {
        let failure = RndcReply::from_answer(answer());
        assert!(!failure.succeeded());
        assert_eq!(
            failure.rndc_output("addzone z.test '{ type secondary; };'"),
            "rndc: 'addzone' failed: already exists\nzone z.test already exists\n"
        );

        let success = RndcReply::from_answer(Message {
            result: Some(0),
            text: Some("version: BIND 9".into()),
            ..Message::default()
        });
        assert!(success.succeeded());
        assert_eq!(success.rndc_output("status"), "version: BIND 9\n");

        let silent = RndcReply::from_answer(Message::default());
        assert!(silent.succeeded());
        assert_eq!(silent.rndc_output("refresh z.test"), "");
    }

    #[test]
    fn serials_differ_from_call_to_call() {
        let (a, b) = (next_serial(), next_serial());
        assert_ne!(a, b);
    }

    #[test]
    fn servers_are_named_with_their_port() {
        let key = key(Algorithm::HmacSha256);
        let timeout = Duration::from_secs(1);
        assert_eq!(
            RndcClient::new("127.0.0.1", 953, key.clone(), timeout).server(),
            "127.0.0.1:953"
        );
        assert_eq!(
            RndcClient::new("::1", 953, key, timeout).server(),
            "[::1]:953"
        );
    }
}
