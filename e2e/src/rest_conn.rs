//! A keep-alive HTTP/1.1 client of the REST API for the benchmarks (one
//! connection per simulated client; the body is read, not decoded, while
//! timed), and the waits they share.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive HTTP/1.1 connection to the REST API, as one client.
pub struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    project: &'static str,
}

/// One answer: status and body.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.chars().take(300).collect()
    }
}

impl Conn {
    /// A connection of `project` (noauth, admin) to the REST API at `addr`.
    pub fn new(addr: SocketAddr, project: &'static str) -> Self {
        Self {
            addr,
            stream: None,
            buf: Vec::with_capacity(64 * 1024),
            project,
        }
    }

    pub async fn send(&mut self, method: &str, path: &str, body: Option<&[u8]>) -> Result<Answer> {
        for attempt in 0..2 {
            let reused = self.stream.is_some();
            if self.stream.is_none() {
                let stream = TcpStream::connect(self.addr)
                    .await
                    .with_context(|| format!("connecting to {}", self.addr))?;
                stream.set_nodelay(true)?;
                self.stream = Some(stream);
                self.buf.clear();
            }
            match self.exchange(method, path, body).await {
                Ok(Some(answer)) => return Ok(answer),
                // The server closed an idle kept-alive connection: once more.
                Ok(None) if reused && attempt == 0 => self.stream = None,
                Ok(None) => {
                    self.stream = None;
                    bail!("{method} {path}: connection closed before an answer");
                }
                Err(error) => {
                    self.stream = None;
                    return Err(error.context(format!("{method} {path}")));
                }
            }
        }
        bail!("{method} {path}: no answer")
    }

    /// `None` when the connection was closed before any byte of an answer.
    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Option<Answer>> {
        let (addr, project) = (self.addr, self.project);
        let stream = self.stream.as_mut().expect("connected");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nX-Auth-Project-ID: {project}\r\nX-Roles: admin\r\n"
        );
        if let Some(body) = body {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        if let Some(body) = body {
            bytes.extend_from_slice(body);
        }
        if stream.write_all(&bytes).await.is_err() {
            return Ok(None);
        }
        self.buf.clear();
        let mut chunk = vec![0u8; 64 * 1024];
        // The head.
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at;
            }
            let n = match stream.read(&mut chunk).await {
                Ok(n) => n,
                Err(_) if self.buf.is_empty() => return Ok(None),
                Err(error) => return Err(error.into()),
            };
            if n == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                bail!("connection closed inside the head of an answer");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| anyhow!("bad status line in {head:?}"))?;
        let mut length = None;
        let mut chunked = false;
        let mut close = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut rest = self.buf.split_off(head_end + 4);
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(at) = find(&rest, b"\r\n") {
                        break at;
                    }
                    read_more(stream, &mut rest, &mut chunk).await?;
                };
                let size_text = String::from_utf8_lossy(&rest[..line_end]).into_owned();
                let size =
                    usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                        .with_context(|| format!("bad chunk size {size_text:?}"))?;
                while rest.len() < line_end + 2 + size + 2 {
                    read_more(stream, &mut rest, &mut chunk).await?;
                }
                body.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
                rest.drain(..line_end + 2 + size + 2);
                if size == 0 {
                    break;
                }
            }
            body
        } else if let Some(length) = length {
            while rest.len() < length {
                read_more(stream, &mut rest, &mut chunk).await?;
            }
            rest.truncate(length);
            rest
        } else if status == 204 || status == 304 {
            Vec::new()
        } else {
            // Until the server closes.
            close = true;
            loop {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                rest.extend_from_slice(&chunk[..n]);
            }
            rest
        };
        if close {
            self.stream = None;
        }
        Ok(Some(Answer { status, body }))
    }

    pub async fn get(&mut self, path: &str) -> Result<Answer> {
        self.send("GET", path, None).await
    }

    pub async fn post(&mut self, path: &str, body: &Value) -> Result<Answer> {
        let bytes = body.to_string().into_bytes();
        self.send("POST", path, Some(&bytes)).await
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn read_more(stream: &mut TcpStream, into: &mut Vec<u8>, chunk: &mut [u8]) -> Result<()> {
    let n = stream.read(chunk).await?;
    if n == 0 {
        bail!("connection closed inside the body of an answer");
    }
    into.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// `metadata.total_count` of a list.
pub async fn total_count(conn: &mut Conn, path: &str) -> Result<u64> {
    let answer = conn.get(path).await?;
    if answer.status != 200 {
        bail!("GET {path}: {} {}", answer.status, answer.snippet());
    }
    answer.json()["metadata"]["total_count"]
        .as_u64()
        .ok_or_else(|| anyhow!("GET {path}: no metadata.total_count"))
}

/// Waits until no zone and no recordset of the project is PENDING (the
/// controllers caught up); how long that took.
pub async fn settle(conn: &mut Conn, timeout: Duration) -> Result<Duration> {
    let start = Instant::now();
    loop {
        let zones = total_count(conn, "/v2/zones?limit=1&status=PENDING").await?;
        let recordsets = total_count(conn, "/v2/recordsets?limit=1&status=PENDING").await?;
        if zones == 0 && recordsets == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            bail!("{zones} zones and {recordsets} recordsets still PENDING after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the REST API counts `want` (zones, recordsets with SOA and
/// NS) and none of them is PENDING; when each happened, from `start`.
pub async fn wait_loaded(
    conn: &mut Conn,
    (want_zones, want_recordsets): (u64, u64),
    start: Instant,
    timeout: Duration,
) -> Result<(Duration, Duration)> {
    let deadline = Instant::now() + timeout;
    let mut seen_at = None;
    let mut last_print = Instant::now();
    loop {
        let zones = total_count(conn, "/v2/zones?limit=1").await?;
        let recordsets = total_count(conn, "/v2/recordsets?limit=1").await?;
        if seen_at.is_none() && zones >= want_zones && recordsets >= want_recordsets {
            seen_at = Some(start.elapsed());
            eprintln!(
                "  the REST API counts {zones} zones and {recordsets} recordsets (SOA and NS included) after {:.1} s",
                start.elapsed().as_secs_f64()
            );
        }
        if let Some(seen_at) = seen_at {
            let pending_zones = total_count(conn, "/v2/zones?limit=1&status=PENDING").await?;
            // A filter on status walks every recordset (2 s at 1,200,000):
            // asked only once no zone is PENDING, so the wait does not take
            // a core from the operator it measures.
            let pending_rs = match pending_zones {
                0 => Some(total_count(conn, "/v2/recordsets?limit=1&status=PENDING").await?),
                _ => None,
            };
            if pending_rs == Some(0) {
                return Ok((seen_at, start.elapsed()));
            }
            if last_print.elapsed() > Duration::from_secs(10) {
                match pending_rs {
                    Some(rs) => eprintln!("  PENDING: {pending_zones} zones, {rs} recordsets"),
                    None => eprintln!("  PENDING: {pending_zones} zones"),
                }
                last_print = Instant::now();
            }
        } else if last_print.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "  the REST API counts {zones}/{want_zones} zones, {recordsets}/{want_recordsets} recordsets"
            );
            last_print = Instant::now();
        }
        if Instant::now() >= deadline {
            bail!("the load did not settle within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
