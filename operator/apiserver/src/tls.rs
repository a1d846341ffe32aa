//! HTTPS for the control plane: a CA kept in the data dir (so written
//! kubeconfigs stay valid across restarts) signs a fresh serving
//! certificate for the listen address at every start.

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

    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
    }
}
