//! The STARTTLS server configuration of SMTP intake.
//!
//! A backup MX is reached by other MTAs, which practically never verify the certificate of an
//! MX (opportunistic TLS), so a self-signed certificate still buys encryption against passive
//! eavesdroppers: with no certificate configured one is generated at start, and a warning says
//! so. Production deployments configure a real certificate (`RelayConfig::tls`), which MTA-STS
//! and DANE senders need.

use crate::config::{RelayConfig, TlsFiles};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Why no TLS acceptor could be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    #[error("{0} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey(PathBuf),
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("invalid TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The acceptor for STARTTLS: the PEM certificate chain and key named by `config.tls`, or,
/// with none configured, a self-signed certificate for `config.hostname` (development).
pub fn acceptor(config: &RelayConfig) -> Result<TlsAcceptor, TlsError> {
    let (chain, key) = match &config.tls {
        Some(files) => load(files)?,
        None => {
            let generated = self_signed(&config.hostname)?;
            tracing::warn!(
                hostname = %config.hostname,
                "no TLS certificate configured: STARTTLS uses a self-signed certificate \
                 generated at start (fine for development; configure a real one in production)"
            );
            generated
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(TlsAcceptor::from(Arc::new(server)))
}

type CertAndKey = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn load(files: &TlsFiles) -> Result<CertAndKey, TlsError> {
    let chain = rustls_pemfile::certs(&mut reader(&files.cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Read {
            path: files.cert.clone(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(files.cert.clone()));
    }
    let key = rustls_pemfile::private_key(&mut reader(&files.key)?)
        .map_err(|source| TlsError::Read {
            path: files.key.clone(),
            source,
        })?
        .ok_or_else(|| TlsError::NoKey(files.key.clone()))?;
    Ok((chain, key))
}

fn reader(path: &Path) -> Result<BufReader<std::fs::File>, TlsError> {
    std::fs::File::open(path)
        .map(BufReader::new)
        .map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
}

fn self_signed(hostname: &str) -> Result<CertAndKey, TlsError> {
    let generated = rcgen::generate_simple_self_signed(vec![hostname.to_owned()])?;
    let key = PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der());
    Ok((vec![generated.cert.der().clone()], key.into()))
}
