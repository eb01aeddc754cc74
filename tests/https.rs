//! How phones reach a real ward server on 127.0.0.1: HTTPS from certificate files, plain HTTP
//! refused where phones could not use it, and client addresses believed only from a named proxy.

mod common;

use patrol_server::app::{check_transport, Application, Transport};
use patrol_server::http::limit::Limit;
use patrol_server::http::proxy::TrustedProxies;
use patrol_server::tls::TlsSource;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A certificate for ward.test (valid 1975 to 4096, so the tests never meet its end) in `dir`.
fn certificate(
    dir: &std::path::Path,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    CertificateDer<'static>,
) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["ward.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k, cert.der().clone())
}

/// GET `path` over TLS to `addr`, trusting `root` for ward.test; the whole response as text.
async fn get_tls(addr: &str, root: CertificateDer<'static>, path: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("ward.test").unwrap(), tcp)
        .await
        .expect("the TLS handshake succeeds with the ward's certificate");
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: ward.test\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    tls.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// The cipher suite the server at `addr` picks when the client offers `suites`, in that order of
/// its own preference.
async fn negotiated(
    addr: &str,
    root: CertificateDer<'static>,
    suites: Vec<rustls::SupportedCipherSuite>,
) -> rustls::CipherSuite {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).unwrap();
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: suites,
        ..rustls::crypto::ring::default_provider()
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("ward.test").unwrap(), tcp)
        .await
        .unwrap();
    tls.get_ref().1.negotiated_cipher_suite().unwrap().suite()
}

#[tokio::test]
async fn certificate_files_serve_https_and_nothing_goes_out_in_plain_text() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key, der) = certificate(certs.path());
    let server = common::start_with(|c| {
        c.transport = Transport::Tls(TlsSource::Pem { cert, key });
    })
    .await;
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let addr = server.url.trim_start_matches("https://").to_string();

    let reply = get_tls(&addr, der.clone(), "/api/v1/health").await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"epoch\""), "{reply}");
    // Browsers are told to come back over HTTPS only.
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{reply}"
    );
    // The server's order of cipher suites wins over the client's: AES-256-GCM before ChaCha20.
    use rustls::crypto::ring::cipher_suite::{
        TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
    };
    assert_eq!(
        negotiated(
            &addr,
            der,
            vec![TLS13_CHACHA20_POLY1305_SHA256, TLS13_AES_256_GCM_SHA384]
        )
        .await,
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
    );

    // A plain request to the HTTPS port gets no HTTP answer at all.
    let mut plain = tokio::net::TcpStream::connect(&addr).await.unwrap();
    plain
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: ward.test\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        plain.read_to_end(&mut out),
    )
    .await;
    assert!(!String::from_utf8_lossy(&out).contains("HTTP/1.1 200"));
    assert!(!String::from_utf8_lossy(&out).contains("epoch"));
}

#[tokio::test]
async fn a_bad_certificate_stops_the_start_with_its_reason() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, _key, _) = certificate(certs.path());
    let (_, other_key, _) = certificate(&{
        let d = certs.path().join("other");
        std::fs::create_dir(&d).unwrap();
        d
    });
    let data = tempfile::tempdir().unwrap();
    let mut config = patrol_server::app::ServerConfig::new("127.0.0.1:0", data.path());
    config.transport = Transport::Tls(TlsSource::Pem {
        cert: cert.clone(),
        key: other_key,
    });
    let err = Application::build(config).await.err().expect("refused");
    assert!(err.to_string().contains("does not fit"), "{err}");
    // Nothing was created for a server that did not start.
    assert!(!data.path().join("ward.db").exists());
}

#[test]
fn plain_http_is_refused_where_phones_would_meet_it() {
    let public = "0.0.0.0:8080".parse().unwrap();
    let lan = "192.168.1.10:8080".parse().unwrap();
    let local = "127.0.0.1:8080".parse().unwrap();
    for addr in [public, lan] {
        let err = check_transport(addr, &Transport::Plain)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("https://") && err.contains("--behind-proxy"),
            "{err}"
        );
    }
    assert!(check_transport(local, &Transport::Plain).is_ok());
    assert!(check_transport("[::1]:8080".parse().unwrap(), &Transport::Plain).is_ok());
    let proxy = TrustedProxies::new(vec![TrustedProxies::parse_one("10.0.0.5").unwrap()]);
    assert!(check_transport(public, &Transport::BehindProxy(proxy)).is_ok());
    assert!(check_transport(public, &Transport::BehindProxy(TrustedProxies::default())).is_err());
}

/// Statuses of `n` health checks claiming to come from `forwarded`.
async fn health_from(url: &str, forwarded: &str, n: usize) -> Vec<u16> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for _ in 0..n {
        let resp = client
            .get(format!("{url}/api/v1/health"))
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap();
        out.push(resp.status().as_u16());
    }
    out
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_the_named_proxy() {
    let tight = Limit {
        burst: 2.0,
        per_second: 0.001,
    };
    // The tests' client is the proxy on 127.0.0.1: each forwarded client has its own limit.
    let proxied = common::start_with(|c| {
        c.limits.per_address = tight;
        c.transport = Transport::BehindProxy(TrustedProxies::new(vec![TrustedProxies::parse_one(
            "127.0.0.1",
        )
        .unwrap()]));
    })
    .await;
    assert_eq!(
        health_from(&proxied.url, "203.0.113.1", 3).await,
        [200, 200, 429]
    );
    assert_eq!(
        health_from(&proxied.url, "203.0.113.2", 2).await,
        [200, 200]
    );
    // A client writing its own header in front of the proxy's gains nothing.
    assert_eq!(
        health_from(&proxied.url, "9.9.9.9, 203.0.113.1", 1).await,
        [429]
    );

    // With no proxy named, the header is ignored: every request is 127.0.0.1's.
    let direct = common::start_with(|c| c.limits.per_address = tight).await;
    let mut statuses = health_from(&direct.url, "203.0.113.1", 2).await;
    statuses.extend(health_from(&direct.url, "203.0.113.2", 1).await);
    assert_eq!(statuses, [200, 200, 429]);
}
