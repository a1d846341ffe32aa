//! oslo.messaging's `transport_url`, as Designate and every OpenStack
//! service configure their bus:
//! `rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost?ssl=1`.
//!
//! Parsed as oslo's `TransportURL.parse` does: hosts separated by commas,
//! each with its own optional credentials (percent-encoded), IPv6 hosts in
//! brackets, the path (percent-decoded) as the virtual host. A host without
//! credentials takes the previous host's, as oslo's rabbit driver does, and
//! `guest`/`guest` when no host has any. `ssl` in the query (`1`, `true`,
//! `yes`, `on`) turns TLS on for every host (default port 5671 then).

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::Error;

/// AMQP's port without and with TLS.
const PORT: u16 = 5672;
const TLS_PORT: u16 = 5671;

/// A parsed `transport_url`: the brokers to try, in order.
#[derive(Clone, PartialEq, Eq)]
pub struct TransportUrl {
    pub brokers: Vec<Broker>,
}

/// One broker of the list.
#[derive(Clone, PartialEq, Eq)]
pub struct Broker {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub vhost: String,
    pub tls: bool,
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Debug for TransportUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.brokers).finish()
    }
}

/// Where the broker is, never its password (this is what logs show).
impl fmt::Display for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "amqps" } else { "amqp" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "{scheme}://{}@{host}:{}/{}",
            self.username, self.port, self.vhost
        )
    }
}

impl Broker {
    /// Opens an AMQP connection to it.
    pub async fn connect(&self) -> Result<lapin::Connection, lapin::Error> {
        use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
        let uri = AMQPUri {
            scheme: if self.tls {
                AMQPScheme::AMQPS
            } else {
                AMQPScheme::AMQP
            },
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo {
                    username: self.username.clone(),
                    password: self.password.clone(),
                },
                host: self.host.clone(),
                port: self.port,
            },
            vhost: self.vhost.clone(),
            query: AMQPQueryString::default(),
        };
        lapin::Connection::connect_uri(uri, lapin::ConnectionProperties::default()).await
    }
}

impl TransportUrl {
    /// Parses `url`; the error says what is wrong without repeating it
    /// (it may hold a password).
    pub fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |message: &str| Error::InvalidTransportUrl(message.to_string());
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("no scheme (rabbit://...)"))?;
        if scheme != "rabbit" {
            return Err(invalid(&format!(
                "driver {scheme:?} is not supported (rabbit:// is)"
            )));
        }
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let (netloc, path) = match rest.split_once('/') {
            Some((netloc, path)) => (netloc, path),
            None => (rest, ""),
        };
        let tls = tls_requested(query)?;
        let vhost = match decode(path)? {
            vhost if vhost.is_empty() => "/".to_string(),
            vhost => vhost,
        };
        let mut brokers = Vec::new();
        let mut credentials: Option<(String, String)> = None;
        for host in netloc.split(',').filter(|h| !h.is_empty()) {
            let (userinfo, hostport) = match host.rsplit_once('@') {
                Some((userinfo, hostport)) => (Some(userinfo), hostport),
                None => (None, host),
            };
            if let Some(userinfo) = userinfo {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                credentials = Some((decode(user)?, decode(password)?));
            }
            let (host, port) = split_host_port(hostport)?;
            let (username, password) = credentials
                .clone()
                .unwrap_or_else(|| ("guest".into(), "guest".into()));
            brokers.push(Broker {
                host,
                port: port.unwrap_or(if tls { TLS_PORT } else { PORT }),
                username,
                password,
                vhost: vhost.clone(),
                tls,
            });
        }
        if brokers.is_empty() {
            return Err(invalid("no broker host"));
        }
        Ok(Self { brokers })
    }
}

fn decode(text: &str) -> Result<String, Error> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::InvalidTransportUrl("percent-encoding is not UTF-8".into()))
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), Error> {
    let invalid = |message: &str| Error::InvalidTransportUrl(message.to_string());
    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("an IPv6 host lacks its closing bracket"))?;
        match after {
            "" => (host, None),
            port => (
                host,
                Some(
                    port.strip_prefix(':')
                        .ok_or_else(|| invalid("junk after an IPv6 host"))?,
                ),
            ),
        }
    } else {
        match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(invalid("a broker without a host"));
    }
    let port = port
        .map(|p| {
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| invalid("a port is not a number from 1 to 65535"))
        })
        .transpose()?;
    Ok((host.to_string(), port))
}

fn tls_requested(query: Option<&str>) -> Result<bool, Error> {
    let mut tls = false;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "ssl" {
            tls = match value.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(Error::InvalidTransportUrl(
                        "ssl is neither true nor false".into(),
                    ));
                }
            };
        }
    }
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker(host: &str, port: u16, user: &str, password: &str, vhost: &str) -> Broker {
        Broker {
            host: host.into(),
            port,
            username: user.into(),
            password: password.into(),
            vhost: vhost.into(),
            tls: false,
        }
    }

    #[test]
    fn oslo_urls_parse_into_brokers() {
        let url = TransportUrl::parse("rabbit://guest:guest@127.0.0.1:5672/").unwrap();
        assert_eq!(
            url.brokers,
            [broker("127.0.0.1", 5672, "guest", "guest", "/")]
        );

        // Several hosts, each with credentials; a vhost.
        let url = TransportUrl::parse("rabbit://a:pa@h1:5672,b:pb@h2:5673/designate").unwrap();
        assert_eq!(
            url.brokers,
            [
                broker("h1", 5672, "a", "pa", "designate"),
                broker("h2", 5673, "b", "pb", "designate")
            ]
        );

        // A host without credentials takes the previous ones; no port: 5672.
        let url = TransportUrl::parse("rabbit://u:p@h1,h2:5673").unwrap();
        assert_eq!(url.brokers[1], broker("h2", 5673, "u", "p", "/"));
        let url = TransportUrl::parse("rabbit://h1").unwrap();
        assert_eq!(url.brokers, [broker("h1", 5672, "guest", "guest", "/")]);

        // Percent-encoded credentials and vhost; '@' and ':' in a password.
        let url = TransportUrl::parse("rabbit://us%40er:p%3Aw%40d@h1/%2Fv").unwrap();
        assert_eq!(url.brokers, [broker("h1", 5672, "us@er", "p:w@d", "/v")]);
        let url = TransportUrl::parse("rabbit://u:p:w@d@h1/").unwrap();
        assert_eq!(url.brokers, [broker("h1", 5672, "u", "p:w@d", "/")]);

        // IPv6, TLS.
        let url = TransportUrl::parse("rabbit://u:p@[::1]:5671,[fe80::1]/?ssl=1").unwrap();
        assert_eq!(
            (
                url.brokers[0].host.as_str(),
                url.brokers[0].port,
                url.brokers[1].port
            ),
            ("::1", 5671, 5671)
        );
        assert!(url.brokers.iter().all(|b| b.tls));
        assert_eq!(url.brokers[0].to_string(), "amqps://u@[::1]:5671//");
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_them() {
        for url in [
            "guest:secret@h1",
            "amqp://guest:secret@h1",
            "rabbit://",
            "rabbit://guest:secret@",
            "rabbit://guest:secret@h1:notaport",
            "rabbit://guest:secret@h1:0",
            "rabbit://guest:secret@h1:70000",
            "rabbit://guest:secret@[::1",
            "rabbit://guest:secret@h1/?ssl=maybe",
            "rabbit://guest:secret@h1/%ff",
        ] {
            let error = TransportUrl::parse(url).unwrap_err();
            assert!(!error.to_string().contains("secret"), "{url}: {error}");
        }
    }

    #[test]
    fn passwords_never_show_in_logs() {
        let url = TransportUrl::parse("rabbit://guest:s3cret@h1,h2/").unwrap();
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(!url.brokers[1].to_string().contains("s3cret"));
    }
}
