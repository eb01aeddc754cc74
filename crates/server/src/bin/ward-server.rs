//! The ward server: `serve` runs the sync API and the PWA; the other commands administer the ward.

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};
use patrol_domain::ward::WardSetup;
use patrol_domain::ward::DEMO_WARD;
use patrol_server::admin::{self, AdminCommand};
use patrol_server::app::{Application, ServerConfig, Transport};
use patrol_server::db::ServerDb;
use patrol_server::http::limit::Limit;
use patrol_server::http::proxy::TrustedProxies;
use patrol_server::tls::{AcmeSettings, TlsSource, LETS_ENCRYPT_STAGING};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "ward-server",
    version,
    about = "Ward server for the patrol companion"
)]
struct Cli {
    /// Where the database lives.
    #[arg(long, env = "WARD_DATA", default_value = "ward-data", global = true)]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API and the web app.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "WARD_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// The built web app (make web).
        #[arg(long, default_value = "dist")]
        dist: PathBuf,
        /// On first start with no ward, create the demo ward and print an enrollment link.
        #[arg(long)]
        demo: bool,
        /// The address members open, for links and QR codes.
        #[arg(long, env = "WARD_PUBLIC_URL")]
        public_url: Option<String>,
        /// Enrollment attempts one address may make at once (then one per 5 s).
        #[arg(long, default_value_t = 10.0)]
        enroll_burst: f64,
        /// Pushes and pulls per second one device may make (bursts of twice that).
        #[arg(long, default_value_t = 20.0)]
        push_rate: f64,
        /// Requests per second one client address may make (bursts of six times that).
        #[arg(long, default_value_t = 100.0)]
        address_rate: f64,
        /// Open connections at most; more wait their turn.
        #[arg(long, default_value_t = 1024)]
        max_connections: usize,
        /// Open connections from one client address at most (an IPv6 /64 counts as one; a proxy
        /// named with --behind-proxy is not held to it); more are closed as they come. Raise it
        /// when many phones reach the server through one carrier address.
        #[arg(long, default_value_t = 64)]
        max_connections_per_address: usize,
        /// Stored photos each ward may hold, in MiB (uploads past it are refused: 507 ward_quota).
        #[arg(long, env = "WARD_PHOTO_QUOTA_MIB", default_value_t = 5 * 1024)]
        photo_quota_mib: u64,
        #[command(flatten)]
        https: HttpsArgs,
    },
    #[command(flatten)]
    Admin(AdminCommand),
}

/// How phones reach the server: HTTPS from certificate files or Let's Encrypt, or plain HTTP behind
/// a reverse proxy. With none of these, plain HTTP is served on loopback addresses only.
#[derive(clap::Args)]
struct HttpsArgs {
    /// The certificate chain (PEM), with --tls-key.
    #[arg(long, env = "WARD_TLS_CERT", requires = "tls_key", conflicts_with_all = ["acme_domain", "behind_proxy"])]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM), with --tls-cert.
    #[arg(long, env = "WARD_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A public domain name to obtain and renew a Let's Encrypt certificate for (TLS-ALPN-01, port 443 only); repeatable.
    #[arg(
        long,
        env = "WARD_ACME_DOMAIN",
        value_delimiter = ',',
        conflicts_with = "behind_proxy"
    )]
    acme_domain: Vec<String>,
    /// An e-mail address for the certificate authority's expiry notices; repeatable.
    #[arg(
        long,
        env = "WARD_ACME_CONTACT",
        value_delimiter = ',',
        requires = "acme_domain"
    )]
    acme_contact: Vec<String>,
    /// The ACME directory (default: Let's Encrypt; "staging" for Let's Encrypt's staging directory).
    #[arg(long, env = "WARD_ACME_DIRECTORY", requires = "acme_domain")]
    acme_directory: Option<String>,
    /// Extra root certificates (PEM) to trust for the ACME directory itself (a private or test CA).
    #[arg(long, requires = "acme_domain")]
    acme_directory_roots: Option<PathBuf>,
    /// Plain HTTP behind a reverse proxy that terminates TLS: the proxy's address or network, whose X-Forwarded-For is believed; repeatable.
    #[arg(long, env = "WARD_BEHIND_PROXY", value_delimiter = ',', value_parser = TrustedProxies::parse_one)]
    behind_proxy: Vec<ipnet::IpNet>,
}

impl HttpsArgs {
    fn transport(self, data: &std::path::Path) -> Transport {
        if let (Some(cert), Some(key)) = (self.tls_cert, self.tls_key) {
            return Transport::Tls(TlsSource::Pem { cert, key });
        }
        if !self.acme_domain.is_empty() {
            let mut acme = AcmeSettings::lets_encrypt(self.acme_domain, self.acme_contact, data);
            match self.acme_directory.as_deref() {
                Some("staging") => acme.directory = LETS_ENCRYPT_STAGING.into(),
                Some(url) => acme.directory = url.into(),
                None => {}
            }
            acme.directory_roots = self.acme_directory_roots;
            return Transport::Tls(TlsSource::Acme(acme));
        }
        if !self.behind_proxy.is_empty() {
            return Transport::BehindProxy(TrustedProxies::new(self.behind_proxy));
        }
        Transport::Plain
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    // Drills and browser tests run the server on another night: its clock, as the app's
    // (crates/clock), is the machine's plus this offset. Nothing sets it in a real deployment.
    if let Ok(ms) = std::env::var("PATROL_CLOCK_OFFSET_MS") {
        let ms: i64 = ms
            .parse()
            .map_err(|e| anyhow::anyhow!("PATROL_CLOCK_OFFSET_MS '{ms}': {e}"))?;
        tracing::warn!(
            offset_ms = ms,
            "the server's clock is offset (PATROL_CLOCK_OFFSET_MS)"
        );
        patrol_clock::set_offset_ms(ms);
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            addr,
            dist,
            demo,
            public_url,
            enroll_burst,
            push_rate,
            address_rate,
            max_connections,
            max_connections_per_address,
            photo_quota_mib,
            https,
        } => {
            let mut config = ServerConfig::new(addr, &cli.data);
            config.limits.enroll_per_address = Limit {
                burst: enroll_burst.max(1.0),
                per_second: 0.2,
            };
            config.limits.per_device = Limit {
                burst: (2.0 * push_rate).max(1.0),
                per_second: push_rate.max(0.1),
            };
            config.limits.per_address = Limit {
                burst: (6.0 * address_rate).max(1.0),
                per_second: address_rate.max(0.1),
            };
            config.conn.max_connections = max_connections.max(1);
            config.conn.per_address = max_connections_per_address.max(1);
            config.photo_quota = photo_quota_mib.saturating_mul(1024 * 1024);
            config.transport = https.transport(&cli.data);
            if !dist.join("index.html").exists() {
                tracing::warn!(dist = %dist.display(), "no built web app there (run make web); serving the API only");
            }
            config.dist = Some(dist);
            let app = Application::build(config)
                .await
                .with_context(|| format!("starting the server on {}", cli.data.display()))?;
            let local = app.local_addr();
            let public_url = public_url.unwrap_or_else(|| app.url());
            let shared = app.shared();
            if demo {
                let setup = WardSetup::from_json(DEMO_WARD)?;
                let name = setup.ward.name.clone();
                let code = shared
                    .write(move |db| {
                        if db.has_wards()? {
                            return Ok(None);
                        }
                        db.load_setup(&setup)?;
                        db.issue_code("demo-m1", Duration::days(7), Utc::now())
                            .map(Some)
                    })
                    .await?;
                if let Some(code) = code {
                    println!("Created the DEMO ward '{name}' (not a real ward). Enroll a phone as its leader:");
                    admin::print_code(&public_url, &code, None)?;
                }
            }
            let epoch = shared.read(patrol_server::db::epoch).await?;
            tracing::info!(%local, %epoch, "ward server listening");
            println!("Serving on {}/ (data in {})", app.url(), cli.data.display());
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Admin(cmd) => {
            let mut db = ServerDb::open(&cli.data)
                .with_context(|| format!("opening the database in {}", cli.data.display()))?;
            admin::run(&mut db, cmd)?;
        }
    }
    Ok(())
}
