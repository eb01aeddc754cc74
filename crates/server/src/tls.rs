//! HTTPS for the ward server. Phones allow durable storage, the service worker and location only
//! on secure pages, so a ward serves the app over TLS in one of two ways here (the third, a
//! reverse proxy that terminates TLS, is [`super::http::proxy`]):
//! - certificate and key files in PEM, checked at start (readable, parsable, matching, in date);
//! - a public domain name: a Let's Encrypt certificate obtained and renewed by the server itself
//!   over TLS-ALPN-01 (port 443 alone), cached in the data directory; when a renewal fails it is
//!   retried with backoff and the last good certificate goes on serving.

use super::error::ServerError;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig as RustlsConfig;
use rustls_acme::caches::DirCache;
use rustls_acme::{is_tls_alpn_challenge, AcmeConfig};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TlsSource {
    /// PEM files: the certificate chain (leaf first) and its private key.
    Pem {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// Let's Encrypt (or another ACME directory) for these names.
    Acme(AcmeSettings),
}

/// How to ask an ACME directory for a certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct AcmeSettings {
    /// The names the certificate covers (the first is the one phones open).
    pub domains: Vec<String>,
    /// Contact e-mail addresses for expiry notices.
    pub contact: Vec<String>,
    /// The ACME directory's address (Let's Encrypt's production directory by default).
    pub directory: String,
    /// Where account and certificates are kept (under the data directory by default).
    pub cache: PathBuf,
    /// Extra root certificates (PEM) to trust for the directory itself (a test CA).
    pub directory_roots: Option<PathBuf>,
}

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory (untrusted certificates, generous limits) for a trial run.
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

impl AcmeSettings {
    /// Let's Encrypt for `domains`, caching in `data/acme`.
    pub fn lets_encrypt(domains: Vec<String>, contact: Vec<String>, data: &Path) -> Self {
        AcmeSettings {
            domains,
            contact,
            directory: LETS_ENCRYPT.into(),
            cache: data.join("acme"),
            directory_roots: None,
        }
    }
}

/// Accepts TLS connections with the configured certificate.
#[derive(Clone)]
pub struct Tls {
    default: Arc<RustlsConfig>,
    /// ACME's challenge answers, when the certificate comes from ACME.
    challenge: Option<Arc<RustlsConfig>>,
}

/// HTTP/1.1 by ALPN, and the server's order of cipher suites over the client's (ring's order:
/// AES-256-GCM first).
fn protocols(mut config: RustlsConfig) -> Arc<RustlsConfig> {
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.ignore_client_order = true;
    Arc::new(config)
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, ServerError> {
    std::fs::read(path).map_err(|e| {
        ServerError::Invalid(format!("cannot read the {what} {}: {e}", path.display()))
    })
}

/// The validity window of a DER certificate.
fn validity(cert: &CertificateDer<'_>) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let v = parsed.validity();
    let at = |t: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0).ok_or_else(|| "a date out of range".to_string())
    };
    Ok((at(v.not_before)?, at(v.not_after)?))
}

/// Loads and checks PEM files as of `now`: both readable, a certificate and a key found, the key
/// matching the certificate, and the certificate valid at `now`.
pub fn load_pem(cert: &Path, key: &Path, now: DateTime<Utc>) -> Result<Tls, ServerError> {
    let cert_pem = read(cert, "certificate file")?;
    let key_pem = read(key, "key file")?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            ServerError::Invalid(format!(
                "the certificate file {} is not PEM: {e}",
                cert.display()
            ))
        })?;
    let leaf = chain.first().ok_or_else(|| {
        ServerError::Invalid(format!(
            "no certificate (BEGIN CERTIFICATE) in {}",
            cert.display()
        ))
    })?;
    let (from, until) = validity(leaf)
        .map_err(|e| ServerError::Invalid(format!("the certificate in {}: {e}", cert.display())))?;
    if now < from {
        return Err(ServerError::Invalid(format!(
            "the certificate in {} is valid only from {from}",
            cert.display()
        )));
    }
    if now > until {
        return Err(ServerError::Invalid(format!(
            "the certificate in {} expired on {until}; renew it (or use --acme-domain)",
            cert.display()
        )));
    }
    let private = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| ServerError::Invalid(format!("no private key in {}: {e}", key.display())))?;
    let config =
        RustlsConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| ServerError::Internal(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| {
                ServerError::Invalid(format!(
                    "the key {} does not fit the certificate {}: {e}",
                    key.display(),
                    cert.display()
                ))
            })?;
    tracing::info!(cert = %cert.display(), %until, "serving HTTPS with the certificate file");
    Ok(Tls {
        default: protocols(config),
        challenge: None,
    })
}

/// Starts obtaining and renewing a certificate from the ACME directory, in the background for as
/// long as the server runs; connections are served as soon as a certificate is there (at once when
/// one is cached).
pub fn start_acme(settings: &AcmeSettings) -> Result<Tls, ServerError> {
    if settings.domains.is_empty() {
        return Err(ServerError::Invalid(
            "ACME needs at least one domain name".into(),
        ));
    }
    std::fs::create_dir_all(&settings.cache).map_err(|e| {
        ServerError::Invalid(format!(
            "cannot create the certificate cache {}: {e}",
            settings.cache.display()
        ))
    })?;
    let mut config = AcmeConfig::new(settings.domains.clone())
        .contact(settings.contact.iter().map(|e| format!("mailto:{e}")))
        .directory(&settings.directory);
    if let Some(roots) = &settings.directory_roots {
        let pem = read(roots, "directory's root certificate")?;
        let mut store = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| {
                ServerError::Invalid(format!("{} is not PEM: {e}", roots.display()))
            })?;
            store
                .add(cert)
                .map_err(|e| ServerError::Invalid(format!("{}: {e}", roots.display())))?;
        }
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Internal(e.to_string()))?
        .with_root_certificates(store)
        .with_no_client_auth();
        config = config.client_tls_config(Arc::new(client));
    }
    let mut state = config.cache(DirCache::new(settings.cache.clone())).state();
    let challenge = state.challenge_rustls_config();
    let default = protocols((*state.default_rustls_config()).clone());
    let domains = settings.domains.join(", ");
    tokio::spawn(async move {
        // The state retries failed orders itself, waiting longer each time; the last good
        // certificate keeps serving meanwhile.
        while let Some(event) = state.next().await {
            match event {
                Ok(ok) => tracing::info!(%domains, event = ?ok, "certificate"),
                Err(err) => {
                    tracing::error!(%domains, error = ?err, "certificate order failed; retrying")
                }
            }
        }
    });
    Ok(Tls {
        default,
        challenge: Some(challenge),
    })
}

impl Tls {
    /// Loads or starts the certificate of `source`, checked as of `now`.
    pub fn from_source(source: &TlsSource, now: DateTime<Utc>) -> Result<Tls, ServerError> {
        match source {
            TlsSource::Pem { cert, key } => load_pem(cert, key, now),
            TlsSource::Acme(settings) => start_acme(settings),
        }
    }

    /// Runs the TLS handshake on `tcp`. `None` when the connection was an ACME validation, which
    /// is answered here and closed.
    pub async fn accept(&self, tcp: TcpStream) -> io::Result<Option<TlsStream<TcpStream>>> {
        let start = LazyConfigAcceptor::new(Default::default(), tcp).await?;
        if let Some(challenge) = &self.challenge {
            if is_tls_alpn_challenge(&start.client_hello()) {
                tracing::info!("answering an ACME TLS-ALPN-01 validation");
                let mut tls = start.into_stream(challenge.clone()).await?;
                tls.shutdown().await?;
                return Ok(None);
            }
        }
        Ok(Some(start.into_stream(self.default.clone()).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    struct Files {
        dir: tempfile::TempDir,
    }

    impl Files {
        fn write(&self, name: &str, text: &str) -> PathBuf {
            let p = self.dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        }
    }

    fn cert_for(name: &str, from: (i32, u32), until: (i32, u32)) -> rcgen::CertifiedKey {
        let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(from.0, from.1 as u8, 1);
        params.not_after = rcgen::date_time_ymd(until.0, until.1 as u8, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        rcgen::CertifiedKey {
            cert,
            key_pair: key,
        }
    }

    fn at(y: i32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, 15, 0, 0, 0).unwrap()
    }

    fn msg(r: Result<Tls, ServerError>) -> String {
        match r {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_good_pair_loads_and_every_bad_one_is_named() {
        let f = Files {
            dir: tempfile::tempdir().unwrap(),
        };
        let good = cert_for("ward.test", (2026, 1), (2027, 1));
        let other = cert_for("ward.test", (2026, 1), (2027, 1));
        let cert = f.write("cert.pem", &good.cert.pem());
        let key = f.write("key.pem", &good.key_pair.serialize_pem());
        let other_key = f.write("other.pem", &other.key_pair.serialize_pem());
        assert!(load_pem(&cert, &key, at(2026, 11)).is_ok());

        let missing = f.dir.path().join("nope.pem");
        assert!(msg(load_pem(&missing, &key, at(2026, 11)))
            .contains("cannot read the certificate file"));
        assert!(msg(load_pem(&cert, &missing, at(2026, 11))).contains("cannot read the key file"));
        assert!(msg(load_pem(&cert, &other_key, at(2026, 11))).contains("does not fit"));
        assert!(msg(load_pem(&key, &key, at(2026, 11))).contains("no certificate"));
        assert!(msg(load_pem(&cert, &cert, at(2026, 11))).contains("no private key"));
        assert!(msg(load_pem(&cert, &key, at(2027, 2))).contains("expired"));
        assert!(msg(load_pem(&cert, &key, at(2025, 6))).contains("valid only from"));
        let garbage = f.write(
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        );
        assert!(load_pem(&garbage, &key, at(2026, 11)).is_err());
    }
}
