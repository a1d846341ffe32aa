//! HTTPS for the control plane: a CA kept in the data dir (so written
//! kubeconfigs stay valid across restarts) signs a fresh serving
//! certificate at every start, for the names clients reach it by (so a
//! change of listen address or `--tls-san` is taken at the next start).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::Error;

/// A serving certificate and the CA clients trust.
pub struct Tls {
    pub ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

fn tls_error(e: impl std::fmt::Display) -> Error {
    Error::Io(std::io::Error::other(format!("tls: {e}")))
}

fn ca_params() -> Result<CertificateParams, Error> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "designate-operator CA");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

impl Tls {
    /// Loads (or creates) the CA under `dir/pki` and issues a serving
    /// certificate for `hosts` (names or IP addresses).
    pub fn load_or_create(dir: &Path, hosts: &[String]) -> Result<Self, Error> {
        let pki = dir.join("pki");
        std::fs::create_dir_all(&pki)?;
        let (ca_key_path, ca_cert_path) = (pki.join("ca.key"), pki.join("ca.crt"));
        let (ca_key, ca_pem) = match (
            std::fs::read_to_string(&ca_key_path),
            std::fs::read_to_string(&ca_cert_path),
        ) {
            (Ok(key), Ok(cert)) => (KeyPair::from_pem(&key).map_err(tls_error)?, cert),
            _ => {
                let key = KeyPair::generate().map_err(tls_error)?;
                let cert = ca_params()?.self_signed(&key).map_err(tls_error)?;
                crate::write_private(&ca_key_path, &key.serialize_pem())?;
                std::fs::write(&ca_cert_path, cert.pem())?;
                (key, cert.pem())
            }
        };
        let issuer = Issuer::new(ca_params()?, ca_key);
        let key = KeyPair::generate().map_err(tls_error)?;
        for host in hosts {
            Self::check_name(host).map_err(|reason| tls_error(format!("{host:?}: {reason}")))?;
        }
        let mut params = CertificateParams::new(hosts.to_vec()).map_err(tls_error)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "designate-apiserver");
        let cert = params.signed_by(&key, &issuer).map_err(tls_error)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    cert.der().clone(),
                    CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(tls_error)?,
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .map_err(tls_error)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem,
            config: Arc::new(config),
        })
    }

    /// The names the serving certificate for `listen` carries: loopback
    /// (the local kubeconfig's), the listen address or, for an unspecified
    /// one, every address of the host it accepts on (IPv4 only for
    /// `0.0.0.0`) and the host name, then `extra` (`--tls-san`).
    pub fn serving_names(listen: IpAddr, extra: &[String]) -> Vec<String> {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).into();
        if listen.is_unspecified() {
            names.extend(
                host_addresses()
                    .into_iter()
                    .filter(|ip| listen.is_ipv6() || ip.is_ipv4())
                    .map(|ip| ip.to_string()),
            );
            names.extend(host_name().filter(|name| Self::check_name(name).is_ok()));
        } else {
            names.push(listen.to_string());
        }
        names.extend(extra.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        names.retain(|name| seen.insert(name.to_ascii_lowercase()));
        names
    }

    /// Whether `name` can be a subject alternative name: an IP address, or
    /// a DNS name (its first label may be `*`).
    pub fn check_name(name: &str) -> Result<(), String> {
        if name.parse::<IpAddr>().is_ok() {
            return Ok(());
        }
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.is_empty() || name.len() > 253 {
            return Err("not an IP address or a DNS name of 1 to 253 characters".into());
        }
        for (i, label) in name.split('.').enumerate() {
            let ok = (i == 0 && label == "*")
                || (!label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            if !ok {
                return Err(format!("{label:?} is not a DNS label"));
            }
        }
        Ok(())
    }

    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
    }
}

/// The host's addresses but loopback and IPv6 link-local (unusable in a
/// URL without a zone); none if they cannot be listed.
#[cfg(unix)]
fn host_addresses() -> Vec<IpAddr> {
    let Ok(interfaces) = nix::ifaddrs::getifaddrs() else {
        tracing::warn!("cannot list the host's addresses for the serving certificate");
        return Vec::new();
    };
    interfaces
        .filter_map(|interface| {
            let address = interface.address?;
            match (address.as_sockaddr_in(), address.as_sockaddr_in6()) {
                (Some(v4), _) => Some(IpAddr::V4(v4.ip())),
                (_, Some(v6)) => Some(IpAddr::V6(v6.ip())),
                _ => None,
            }
        })
        .filter(|ip| match ip {
            IpAddr::V4(ip) => !ip.is_loopback(),
            IpAddr::V6(ip) => !ip.is_loopback() && !ip.is_unicast_link_local(),
        })
        .collect()
}

#[cfg(not(unix))]
fn host_addresses() -> Vec<IpAddr> {
    Vec::new()
}

#[cfg(unix)]
fn host_name() -> Option<String> {
    nix::unistd::gethostname().ok()?.into_string().ok()
}

#[cfg(not(unix))]
fn host_name() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::Tls;

    #[test]
    fn names_a_certificate_may_carry() {
        for good in [
            "192.0.2.1",
            "fd00::2",
            "api.example.net",
            "*.example.net",
            "vm",
            "a_b.example.",
        ] {
            assert_eq!(Tls::check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "a b",
            "-a.example",
            "a..b",
            "api.*.example",
            "ex\u{e4}mple.net",
        ] {
            assert!(Tls::check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_given_address_is_named_with_loopback_and_the_extra_names() {
        let names = Tls::serving_names(
            "192.0.2.7".parse().unwrap(),
            &["Api.Example.net".into(), "127.0.0.1".into()],
        );
        assert_eq!(
            names,
            [
                "localhost",
                "127.0.0.1",
                "::1",
                "192.0.2.7",
                "Api.Example.net"
            ]
        );
    }
}
