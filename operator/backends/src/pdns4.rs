//! The `pdns4` driver: zones as secondaries of the masters, through the HTTP
//! API of the PowerDNS authoritative server (4.x).
//!
//! Options, as Designate names them: `api_endpoint` (`http://host:port` or
//! `https://...`; as in Designate only the scheme and authority count),
//! `api_token` (the `X-API-Key`, usually from the target's Secret),
//! `tsigkey_name` (a TSIG key known to PowerDNS that signs the transfers from
//! the masters; with `tsigkey_algorithm` and `tsigkey_secret`, which the
//! controllers give from the zone's `TsigKey`, it is installed through the
//! API's `tsigkeys` first: `PUT` over the key of that name, or `POST`
//! where there is none), `api_ca_cert` (a PEM file of CAs for an https endpoint; the
//! system's roots without it, where Designate would skip verification).
//!
//! Requests, under `/api/v1/servers/localhost/zones`:
//! - create: `POST` `{"name", "kind": "Slave", "masters"}`; when the zone
//!   exists (409, or 422 "already exists"), `PUT /<zone>` with the kind and
//!   masters instead (Designate deletes and recreates it, which takes the
//!   zone down meanwhile); then `PUT /<zone>/axfr-retrieve`, so that the
//!   transfer starts now rather than at PowerDNS's next check
//!   (`xfr-cycle-interval`, 60 s by default). A new zone whose records the
//!   controllers give (every type one PowerDNS reads as hickory writes it)
//!   is created with them (`rrsets`, the serial kept: `soa_edit_api` empty)
//!   and served at once, with no retrieve: still a secondary, it checks its
//!   masters' serial at its next cycle, and transfers when NOTIFYed.
//! - update: `PUT /<zone>/axfr-retrieve`; create on 404.
//! - delete: `DELETE /<zone>`; 404 (or 422 "Could not find") is done too.
//!
//! `Slave` is the kind every 4.x release accepts (4.5 and later also take
//! `Secondary`, and answer `Slave`).

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use hickory_proto::rr::{Record, RecordType};
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::json;

use crate::{
    Backend, Error, HostPort, Reply, TSIGKEY_ALGORITHM, TSIGKEY_NAME, TSIGKEY_SECRET, Target,
    resolve_masters, zone_name,
};

pub const TYPE: &str = "pdns4";

/// Limit on one request, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest answer read (zone objects without records are small).
const MAX_ANSWER: usize = 1 << 20;
const ZONES: &str = "/api/v1/servers/localhost/zones";
const KEYS: &str = "/api/v1/servers/localhost/tsigkeys";

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidTarget {
        driver: TYPE,
        message: message.into(),
    }
}

/// What a request is for: it decides which answers are not errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Create,
    SetMasters,
    Retrieve,
    Delete,
    ServerInfo,
    LookUpKey,
    AddKey,
    DeleteKey,
}

/// One API request, before the endpoint and the API key are added.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Request {
    pub action: Action,
    pub method: Method,
    pub path: String,
    pub body: Option<serde_json::Value>,
}

fn masters_json(masters: &[SocketAddr]) -> Vec<String> {
    // `SocketAddr` brackets IPv6 addresses, as PowerDNS wants them.
    masters.iter().map(SocketAddr::to_string).collect()
}

/// Record types whose presentation form (hickory's) PowerDNS's API reads
/// the same way; a zone with any other is transferred.
const PRESENTABLE: [RecordType; 8] = [
    RecordType::SOA,
    RecordType::NS,
    RecordType::A,
    RecordType::AAAA,
    RecordType::CNAME,
    RecordType::MX,
    RecordType::PTR,
    RecordType::SRV,
];

/// Records beyond which a new zone is transferred rather than sent in one
/// request (PowerDNS's `webserver-max-bodysize` is 2 MB by default; an
/// A record takes about 60 bytes of JSON).
const SEED_MAX_RECORDS: usize = 10_000;

/// The records as the API's `rrsets` (one per owner and type, in the order
/// first seen); `None` when one is not [`PRESENTABLE`], would need escapes
/// or punycode spelled out, or there are more than [`SEED_MAX_RECORDS`].
pub(crate) fn rrsets_json(records: &[Record]) -> Option<serde_json::Value> {
    if records.len() > SEED_MAX_RECORDS {
        return None;
    }
    let mut rrsets: Vec<(String, RecordType, u32, Vec<serde_json::Value>)> = Vec::new();
    let mut at: HashMap<(String, RecordType), usize> = HashMap::new();
    for record in records {
        let type_ = record.record_type();
        let (name, content) = (record.name.to_ascii(), record.data.to_string());
        let plain = |text: &str| text.is_ascii() && !text.contains('\\');
        if !PRESENTABLE.contains(&type_) || !plain(&content) || !plain(&name) {
            return None;
        }
        let content = json!({"content": content, "disabled": false});
        match at.get(&(name.clone(), type_)) {
            Some(&i) => rrsets[i].3.push(content),
            None => {
                at.insert((name.clone(), type_), rrsets.len());
                rrsets.push((name, type_, record.ttl, vec![content]));
            }
        }
    }
    let rrsets = rrsets
        .into_iter()
        .map(|(name, type_, ttl, records)| {
            json!({"name": name, "type": type_.to_string(), "ttl": ttl, "records": records})
        })
        .collect();
    Some(serde_json::Value::Array(rrsets))
}

pub(crate) fn create_request(zone: &str, masters: &[SocketAddr], tsigkey: Option<&str>) -> Request {
    let mut body = json!({
        "name": format!("{zone}."),
        "kind": "Slave",
        "masters": masters_json(masters),
    });
    if let Some(key) = tsigkey {
        body["slave_tsig_key_ids"] = json!([key]);
    }
    Request {
        action: Action::Create,
        method: Method::POST,
        path: ZONES.to_string(),
        body: Some(body),
    }
}

/// The zone's kind, masters and key, on a zone that exists (the key may
/// have been set or changed since it was made).
pub(crate) fn set_masters_request(
    zone: &str,
    masters: &[SocketAddr],
    tsigkey: Option<&str>,
) -> Request {
    let mut body = json!({"kind": "Slave", "masters": masters_json(masters)});
    if let Some(key) = tsigkey {
        body["slave_tsig_key_ids"] = json!([key]);
    }
    Request {
        action: Action::SetMasters,
        method: Method::PUT,
        path: format!("{ZONES}/{zone}."),
        body: Some(body),
    }
}

/// The TSIG key of that name (without its trailing dot) on PowerDNS.
pub(crate) fn key_lookup_request(name: &str) -> Request {
    Request {
        action: Action::LookUpKey,
        method: Method::GET,
        path: format!("{KEYS}/{name}."),
        body: None,
    }
}

/// Adds the key the zones transfer with.
pub(crate) fn add_key_request(name: &str, material: &KeyMaterial) -> Request {
    Request {
        action: Action::AddKey,
        method: Method::POST,
        path: KEYS.to_string(),
        body: Some(json!({"name": name, "algorithm": material.algorithm, "key": material.secret})),
    }
}

/// Removes every key of that name. PowerDNS keys a key by name and
/// algorithm: a POST or PUT with another algorithm adds a second key of
/// the same name, and transfers would go on using the first.
pub(crate) fn delete_key_request(name: &str) -> Request {
    Request {
        action: Action::DeleteKey,
        method: Method::DELETE,
        path: format!("{KEYS}/{name}."),
        body: None,
    }
}

/// Whether PowerDNS's key (a `TSIGKey` object) is `material`.
fn same_key(installed: &serde_json::Value, material: &KeyMaterial) -> bool {
    installed["algorithm"] == material.algorithm.as_str()
        && installed["key"] == material.secret.as_str()
}

pub(crate) fn retrieve_request(zone: &str) -> Request {
    Request {
        action: Action::Retrieve,
        method: Method::PUT,
        path: format!("{ZONES}/{zone}./axfr-retrieve"),
        body: None,
    }
}

pub(crate) fn delete_request(zone: &str) -> Request {
    Request {
        action: Action::Delete,
        method: Method::DELETE,
        path: format!("{ZONES}/{zone}."),
        body: None,
    }
}

pub(crate) fn server_info_request() -> Request {
    Request {
        action: Action::ServerInfo,
        method: Method::GET,
        path: "/api/v1/servers/localhost".to_string(),
        body: None,
    }
}

/// PowerDNS's message in an error answer: `{"error": ...}` or plain text.
fn error_message(body: &str) -> String {
    let text = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string());
    text.chars().take(300).collect()
}

/// Reads an answer: success, the answers idempotency tolerates for this
/// action, or an error by its kind.
pub(crate) fn outcome(
    action: Action,
    status: StatusCode,
    body: &str,
    server: &str,
) -> Result<Reply, Error> {
    let message = error_message(body);
    let exists = status == StatusCode::CONFLICT
        || (status == StatusCode::UNPROCESSABLE_ENTITY && message.contains("already exists"));
    let missing = status == StatusCode::NOT_FOUND
        || (status == StatusCode::UNPROCESSABLE_ENTITY && message.contains("Could not find"));
    match action {
        _ if status.is_success() => Ok(Reply::Done),
        Action::Create if exists => Ok(Reply::Exists),
        Action::Retrieve | Action::Delete | Action::LookUpKey | Action::DeleteKey if missing => {
            Ok(Reply::Missing)
        }
        _ if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN => {
            Err(Error::Unauthorized {
                driver: TYPE,
                server: server.to_string(),
                message: format!("HTTP {status}: {message}"),
            })
        }
        _ => Err(Error::Failed {
            driver: TYPE,
            server: server.to_string(),
            message: format!("{action:?}: HTTP {status}: {message}"),
        }),
    }
}

/// The driver's settings, read from a target.
#[derive(Clone, PartialEq)]
pub(crate) struct Settings {
    https: bool,
    /// `host:port` of the API.
    authority: String,
    api_token: String,
    tsigkey: Option<String>,
    /// The key's algorithm and secret, when the operator gives them: the
    /// key is then installed on PowerDNS before its zones use it.
    key_material: Option<KeyMaterial>,
    ca_cert: Option<String>,
    masters: Vec<HostPort>,
}

/// A TSIG key's algorithm and (base64) secret; never printed.
#[derive(Clone, PartialEq)]
pub(crate) struct KeyMaterial {
    algorithm: String,
    secret: String,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("https", &self.https)
            .field("authority", &self.authority)
            .field("tsigkey", &self.tsigkey)
            .field("ca_cert", &self.ca_cert)
            .field("masters", &self.masters)
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub(crate) fn from_target(target: &Target) -> Result<Self, Error> {
        if target.masters.is_empty() {
            return Err(invalid("the target has no masters to transfer zones from"));
        }
        let endpoint = target
            .get("api_endpoint")
            .ok_or_else(|| invalid("option api_endpoint is required"))?;
        let uri: http::Uri = endpoint
            .parse()
            .map_err(|_| invalid(format!("api_endpoint {endpoint:?} is not a URL")))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(invalid(format!("api_endpoint {endpoint:?} is not http(s)"))),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| invalid(format!("api_endpoint {endpoint:?} has no host")))?
            .to_string();
        let api_token = target
            .get("api_token")
            .ok_or_else(|| invalid("option api_token is required"))?
            .to_string();
        Ok(Self {
            https,
            authority,
            api_token,
            tsigkey: target.get(TSIGKEY_NAME).map(str::to_string),
            key_material: target
                .get(TSIGKEY_ALGORITHM)
                .zip(target.get(TSIGKEY_SECRET))
                .map(|(algorithm, secret)| KeyMaterial {
                    algorithm: algorithm.to_string(),
                    secret: secret.to_string(),
                }),
            ca_cert: target.get("api_ca_cert").map(str::to_string),
            masters: target.masters.clone(),
        })
    }

    fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }
}

/// TLS for an https endpoint: the CAs of `api_ca_cert`, or the system's.
fn connector(settings: &Settings) -> Result<HttpsConnector<HttpConnector>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match (settings.https, &settings.ca_cert) {
        (true, None) => builder
            .with_provider_and_native_roots(provider)
            .map_err(|e| invalid(format!("no system CA certificates: {e}")))?,
        (https, ca_cert) => {
            let mut roots = rustls::RootCertStore::empty();
            if let (true, Some(path)) = (https, ca_cert) {
                let unreadable = |e: &dyn fmt::Display| invalid(format!("api_ca_cert {path}: {e}"));
                for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
                    roots
                        .add(cert.map_err(|e| unreadable(&e))?)
                        .map_err(|e| unreadable(&e))?;
                }
                if roots.is_empty() {
                    return Err(unreadable(&"no certificate in the file"));
                }
            }
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| invalid(format!("TLS: {e}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            builder.with_tls_config(config)
        }
    };
    Ok(builder.https_or_http().enable_http1().build())
}

/// An answer of the API.
struct Answer {
    status: StatusCode,
    body: String,
}

/// The `pdns4` driver of one target.
pub struct Pdns4 {
    settings: Settings,
    api_key: HeaderValue,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl fmt::Debug for Pdns4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pdns4")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Pdns4 {
    pub fn new(target: &Target) -> Result<Self, Error> {
        let settings = Settings::from_target(target)?;
        let mut api_key = HeaderValue::from_str(&settings.api_token)
            .map_err(|_| invalid("api_token holds characters an HTTP header cannot"))?;
        // Keeps it out of hyper's and http's debug output.
        api_key.set_sensitive(true);
        let client = Client::builder(TokioExecutor::new()).build(connector(&settings)?);
        Ok(Self {
            settings,
            api_key,
            client,
        })
    }

    pub async fn create_zone(&self, zone: &str) -> Result<(), Error> {
        self.create(zone, None).await
    }

    /// [`Pdns4::create_zone`] with the zone's records (a master file as
    /// [`designate_mdns::zone_file`] writes it), served as soon as PowerDNS
    /// answers, without a first SOA query and transfer; a zone whose records
    /// PowerDNS's API might read otherwise is transferred instead.
    pub async fn create_zone_with(&self, zone: &str, content: &str) -> Result<(), Error> {
        let rrsets = designate_mdns::zone_file_records(content).and_then(|r| rrsets_json(&r));
        if let Some(rrsets) = rrsets {
            match self.create(zone, Some(rrsets)).await {
                Ok(()) => return Ok(()),
                // PowerDNS's own checks refused the records: as a bare
                // secondary, which transfers them, instead.
                Err(error) => {
                    tracing::warn!(driver = TYPE, zone, %error, "zone not created with its records: it transfers them");
                }
            }
        }
        self.create(zone, None).await
    }

    async fn create(&self, zone: &str, rrsets: Option<serde_json::Value>) -> Result<(), Error> {
        let zone = zone_name(zone)?;
        let masters = resolve_masters(&self.settings.masters).await?;
        self.install_key().await?;
        let tsigkey = self.settings.tsigkey.as_deref();
        let mut created = create_request(zone, &masters, tsigkey);
        let seeded = rrsets.is_some();
        if let (Some(rrsets), Some(body)) = (rrsets, created.body.as_mut()) {
            body["rrsets"] = rrsets;
            // The serial as given (PowerDNS's default edits it on API writes).
            body["soa_edit_api"] = json!("");
        }
        match self.call(&created).await? {
            // An existing zone keeps its records: it transfers the new ones.
            Reply::Exists => {
                self.call(&set_masters_request(zone, &masters, tsigkey))
                    .await?;
            }
            _ if seeded => return Ok(()),
            _ => {}
        }
        // Missing here means a concurrent delete won; nothing is left to do.
        self.call(&retrieve_request(zone)).await?;
        Ok(())
    }

    pub async fn update_zone(&self, zone: &str) -> Result<(), Error> {
        let name = zone_name(zone)?;
        match self.call(&retrieve_request(name)).await? {
            Reply::Missing => self.create_zone(zone).await,
            Reply::Done | Reply::Exists => Ok(()),
        }
    }

    pub async fn delete_zone(&self, zone: &str) -> Result<(), Error> {
        let zone = zone_name(zone)?;
        self.call(&delete_request(zone)).await?;
        Ok(())
    }

    /// Puts the transfers' key on PowerDNS, when its material is given.
    async fn install_key(&self) -> Result<(), Error> {
        let (Some(name), Some(material)) = (&self.settings.tsigkey, &self.settings.key_material)
        else {
            return Ok(());
        };
        let name = name.trim_end_matches('.');
        if let Some(installed) = self.fetch(&key_lookup_request(name)).await? {
            if same_key(&installed, material) {
                return Ok(());
            }
            self.call(&delete_key_request(name)).await?;
        }
        self.call(&add_key_request(name, material)).await?;
        Ok(())
    }

    /// Whether the API answers and takes the key.
    pub(crate) async fn server_info(&self) -> Result<(), Error> {
        self.call(&server_info_request()).await.map(drop)
    }

    /// The JSON an answer holds; `None` when what was asked is missing.
    async fn fetch(&self, request: &Request) -> Result<Option<serde_json::Value>, Error> {
        let (reply, body) = self.exchange(request).await?;
        if reply == Reply::Missing {
            return Ok(None);
        }
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|e| Error::Failed {
                driver: TYPE,
                server: self.settings.authority.clone(),
                message: format!("{:?} {}: not JSON: {e}", request.method, request.path),
            })
    }

    async fn call(&self, request: &Request) -> Result<Reply, Error> {
        self.exchange(request).await.map(|(reply, _)| reply)
    }

    async fn exchange(&self, request: &Request) -> Result<(Reply, String), Error> {
        let server = &self.settings.authority;
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, self.send(request))
            .await
            .map_err(|_| Error::Timeout {
                driver: TYPE,
                server: server.clone(),
                timeout: REQUEST_TIMEOUT,
            })??;
        tracing::debug!(driver = TYPE, %server, method = %request.method, path = %request.path, status = %answer.status, "PowerDNS API");
        let reply = outcome(request.action, answer.status, &answer.body, server)?;
        Ok((reply, answer.body))
    }

    async fn send(&self, request: &Request) -> Result<Answer, Error> {
        let unreachable = |message: String| Error::Unreachable {
            driver: TYPE,
            server: self.settings.authority.clone(),
            message,
        };
        let body = request
            .body
            .as_ref()
            .map_or_else(Bytes::new, |json| Bytes::from(json.to_string()));
        let http_request = http::Request::builder()
            .method(request.method.clone())
            .uri(format!("{}{}", self.settings.base_url(), request.path))
            .header("X-API-Key", self.api_key.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .body(Full::new(body))
            .map_err(|e| invalid(format!("request: {e}")))?;
        let response = self
            .client
            .request(http_request)
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| unreachable(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// An error with its causes, as the client's own message is terse.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

impl Backend for Pdns4 {
    fn create_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Pdns4::create_zone(self, zone))
    }

    fn loads_zone_content(&self) -> bool {
        true
    }

    fn create_zone_with<'a>(
        &'a self,
        zone: &'a str,
        content: &'a str,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Pdns4::create_zone_with(self, zone, content))
    }

    fn update_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Pdns4::update_zone(self, zone))
    }

    fn delete_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Pdns4::delete_zone(self, zone))
    }

    fn acts_on_notify_at_once(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::new(TYPE)
            .master("192.0.2.1", 5354)
            .option("api_endpoint", "http://127.0.0.1:8081/ignored/path")
            .with_secrets([("api_token", "s3cret")])
    }

    fn masters() -> Vec<SocketAddr> {
        vec![
            "192.0.2.1:5354".parse().unwrap(),
            "[2001:db8::1]:53".parse().unwrap(),
        ]
    }

    #[test]
    fn zones_are_created_as_slaves_of_the_masters() {
        let request = create_request("example.com", &masters(), None);
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, "/api/v1/servers/localhost/zones");
        assert_eq!(
            request.body.unwrap(),
            json!({"name": "example.com.", "kind": "Slave", "masters": ["192.0.2.1:5354", "[2001:db8::1]:53"]})
        );
        let signed = create_request("example.com", &masters()[..1], Some("mdns-key"));
        assert_eq!(
            signed.body.unwrap()["slave_tsig_key_ids"],
            json!(["mdns-key"])
        );
    }

    #[test]
    fn other_requests_address_the_zone_by_its_name() {
        let keyed = set_masters_request("a.test", &masters()[..1], Some("mdns-key"));
        assert_eq!(
            keyed.body.unwrap()["slave_tsig_key_ids"],
            json!(["mdns-key"])
        );
        let put = set_masters_request("a.test", &masters()[..1], None);
        assert_eq!(
            (put.method, put.path.as_str()),
            (Method::PUT, "/api/v1/servers/localhost/zones/a.test.")
        );
        assert_eq!(
            put.body.unwrap(),
            json!({"kind": "Slave", "masters": ["192.0.2.1:5354"]})
        );
        let retrieve = retrieve_request("a.test");
        assert_eq!(
            (retrieve.method, retrieve.path.as_str(), retrieve.body),
            (
                Method::PUT,
                "/api/v1/servers/localhost/zones/a.test./axfr-retrieve",
                None
            )
        );
        let delete = delete_request("a.test");
        assert_eq!(
            (delete.method, delete.path.as_str(), delete.body),
            (
                Method::DELETE,
                "/api/v1/servers/localhost/zones/a.test.",
                None
            )
        );
    }

    #[test]
    fn answers_are_read_for_idempotency_and_error_kinds() {
        let s = "127.0.0.1:8081";
        let ok = |action, status: u16, body| {
            outcome(action, StatusCode::from_u16(status).unwrap(), body, s)
        };
        assert_eq!(ok(Action::Create, 201, "{}").unwrap(), Reply::Done);
        assert_eq!(ok(Action::Create, 409, "Conflict").unwrap(), Reply::Exists);
        assert_eq!(
            ok(
                Action::Create,
                422,
                r#"{"error": "Domain 'a.test.' already exists"}"#
            )
            .unwrap(),
            Reply::Exists
        );
        assert_eq!(ok(Action::Delete, 204, "").unwrap(), Reply::Done);
        assert_eq!(
            ok(Action::Delete, 404, "Not Found").unwrap(),
            Reply::Missing
        );
        assert_eq!(
            ok(
                Action::Delete,
                422,
                r#"{"error": "Could not find domain 'a.test.'"}"#
            )
            .unwrap(),
            Reply::Missing
        );
        assert_eq!(
            ok(Action::Retrieve, 404, "Not Found").unwrap(),
            Reply::Missing
        );
        // Only the action's own tolerated answers pass.
        assert_eq!(
            ok(Action::Create, 404, "Not Found").unwrap_err().reason(),
            "BackendFailed"
        );
        assert_eq!(
            ok(Action::Delete, 409, "Conflict").unwrap_err().reason(),
            "BackendFailed"
        );
        assert_eq!(
            ok(Action::SetMasters, 404, "Not Found")
                .unwrap_err()
                .reason(),
            "BackendFailed"
        );
        let denied = ok(Action::Create, 401, "Unauthorized").unwrap_err();
        assert_eq!(denied.reason(), "BackendUnauthorized");
        assert_eq!(
            denied.to_string(),
            "pdns4 at 127.0.0.1:8081: credentials refused: HTTP 401 Unauthorized: Unauthorized"
        );
        let failed = ok(
            Action::Create,
            422,
            r#"{"error": "DNS Name 'a.test' is not canonical"}"#,
        )
        .unwrap_err();
        assert_eq!(
            failed.to_string(),
            "pdns4 at 127.0.0.1:8081: Create: HTTP 422 Unprocessable Entity: DNS Name 'a.test' is not canonical"
        );
        assert_eq!(
            ok(Action::ServerInfo, 403, "").unwrap_err().reason(),
            "BackendUnauthorized"
        );
    }

    #[test]
    fn settings_come_from_the_options_and_the_secret() {
        let s = Settings::from_target(&target()).unwrap();
        assert_eq!(s.base_url(), "http://127.0.0.1:8081");
        assert_eq!(s.api_token, "s3cret");
        assert!(!format!("{s:?}").contains("s3cret"));
        let pdns = Pdns4::new(&target()).unwrap();
        assert!(!format!("{pdns:?}").contains("s3cret"));
        for (key, value) in [
            ("api_endpoint", "ftp://x"),
            ("api_endpoint", "not a url"),
            ("api_endpoint", ""),
        ] {
            let error = Settings::from_target(&target().option(key, value)).unwrap_err();
            assert_eq!(error.reason(), "InvalidTarget", "{key}={value}");
        }
        let no_token = Target::new(TYPE)
            .master("192.0.2.1", 53)
            .option("api_endpoint", "http://h:1");
        assert_eq!(
            Settings::from_target(&no_token).unwrap_err().reason(),
            "InvalidTarget"
        );
        let bad_token = target().with_secrets([("api_token", "a\nb")]);
        assert_eq!(
            Pdns4::new(&bad_token).unwrap_err().reason(),
            "InvalidTarget"
        );
    }

    #[test]
    fn https_endpoints_trust_the_given_ca() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["pdns.test".into()]).unwrap();
        let pem = dir.path().join("ca.pem");
        std::fs::write(&pem, ca.cert.pem()).unwrap();
        let https = target().option("api_endpoint", "https://pdns.test:8443");
        Pdns4::new(
            &https
                .clone()
                .option("api_ca_cert", pem.display().to_string()),
        )
        .unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        for path in [empty, dir.path().join("missing.pem")] {
            let error = Pdns4::new(
                &https
                    .clone()
                    .option("api_ca_cert", path.display().to_string()),
            )
            .unwrap_err();
            assert_eq!(error.reason(), "InvalidTarget", "{error}");
        }
    }

    fn a(name: &str, last: u8) -> Record {
        use hickory_proto::rr::rdata::A;
        use hickory_proto::rr::{Name, RData};
        Record::from_rdata(
            Name::from_ascii(name).unwrap(),
            300,
            RData::A(A::new(192, 0, 2, last)),
        )
    }

    #[test]
    fn records_become_one_rrset_per_owner_and_type() {
        let records = [a("x.example.", 1), a("y.example.", 2), a("x.example.", 3)];
        assert_eq!(
            rrsets_json(&records).unwrap(),
            json!([
                {"name": "x.example.", "type": "A", "ttl": 300, "records": [
                    {"content": "192.0.2.1", "disabled": false},
                    {"content": "192.0.2.3", "disabled": false}]},
                {"name": "y.example.", "type": "A", "ttl": 300, "records": [
                    {"content": "192.0.2.2", "disabled": false}]},
            ])
        );
    }

    #[test]
    fn other_types_and_large_zones_are_transferred_instead() {
        use hickory_proto::rr::rdata::TXT;
        use hickory_proto::rr::{Name, RData};
        let txt = Record::from_rdata(
            Name::from_ascii("t.example.").unwrap(),
            300,
            RData::TXT(TXT::new(vec!["x".into()])),
        );
        assert_eq!(rrsets_json(&[a("x.example.", 1), txt]), None);
        let many: Vec<Record> = (0..=SEED_MAX_RECORDS)
            .map(|i| a(&format!("h{i}.example."), 1))
            .collect();
        assert_eq!(rrsets_json(&many), None);
        assert!(rrsets_json(&many[1..]).is_some());
    }
}
