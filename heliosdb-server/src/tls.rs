//! TLS for the server: rustls (ring provider) with the configured minimum
//! protocol version, and client-certificate verification when `ca_file` is
//! set (clients without a certificate signed by that CA are refused).

use std::path::Path;
use std::sync::Arc;

use heliosdb_core::config::SslConfig;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::{Result, ServerError};

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| ServerError::Tls(format!("reading certificates {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "no certificate found in {}",
            path.display()
        )));
    }
    Ok(certs)
}

/// The protocol versions allowed by `min_tls_version` ("1.2" by default).
pub(crate) fn versions(min: Option<&str>) -> Result<&'static [&'static SupportedProtocolVersion]> {
    static FROM_12: [&SupportedProtocolVersion; 2] =
        [&rustls::version::TLS13, &rustls::version::TLS12];
    static FROM_13: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    match min.map(str::trim) {
        None | Some("1.2") | Some("TLSv1.2") => Ok(&FROM_12),
        Some("1.3") | Some("TLSv1.3") => Ok(&FROM_13),
        Some(other) => Err(ServerError::Config(format!(
            "server.ssl.min_tls_version must be \"1.2\" or \"1.3\", not \"{other}\""
        ))),
    }
}

/// Builds the acceptor and returns it with the certificate chain's PEM
/// (for SCRAM channel binding).
pub(crate) fn acceptor(ssl: &SslConfig) -> Result<(TlsAcceptor, Vec<u8>)> {
    let cert_file = ssl.cert_file.as_deref().ok_or_else(|| {
        ServerError::Config("ssl_enabled needs server.ssl.cert_file and key_file".into())
    })?;
    let key_file = ssl.key_file.as_deref().ok_or_else(|| {
        ServerError::Config("ssl_enabled needs server.ssl.cert_file and key_file".into())
    })?;
    let chain = certs(cert_file)?;
    let pem = std::fs::read(cert_file)
        .map_err(|e| ServerError::Tls(format!("reading {}: {e}", cert_file.display())))?;
    // The key's parse error is not shown: it could quote key material.
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|_| {
        ServerError::Tls(format!(
            "no usable private key (PEM, PKCS#8/PKCS#1/SEC1) in {}",
            key_file.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions(ssl.min_tls_version.as_deref())?)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let builder = match &ssl.ca_file {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in certs(ca)? {
                roots
                    .add(c)
                    .map_err(|e| ServerError::Tls(format!("CA file {}: {e}", ca.display())))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| ServerError::Tls(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| ServerError::Tls(format!("certificate and key: {e}")))?;
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), pem))
}
