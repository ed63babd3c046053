//! Private CAs and TLS failures. A Tenant's `caBundleRef` adds CA certificates to the public
//! roots for its directory (not instead of them); a handshake that fails says why, with the
//! certificate problem rustls found, instead of a generic "unreachable".

use std::collections::HashMap;
use std::sync::Mutex;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// At most this many HTTP clients with extra roots are kept (one per distinct bundle); more
/// distinct bundles than this start the cache over rather than grow it.
const CLIENTS_KEPT: usize = 32;

/// CA certificates from a Tenant's `caBundleRef`, checked to be PEM certificates.
#[derive(Clone, Debug)]
pub struct CaBundle {
    certificates: Vec<CertificateDer<'static>>,
    digest: [u8; 32],
}

impl CaBundle {
    /// The certificates of a PEM bundle; `field` names the reference in the error.
    pub fn from_pem(pem: &[u8]) -> Result<CaBundle, String> {
        let mut certificates = Vec::new();
        for (index, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let der = item.map_err(|e| format!("certificate {} is not valid PEM: {e}", index + 1))?;
            super::x509::facts(&der)
                .map_err(|e| format!("certificate {} is not an X.509 certificate: {e}", index + 1))?;
            certificates.push(der);
        }
        if certificates.is_empty() {
            return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, pem).as_ref());
        Ok(CaBundle { certificates, digest })
    }
}

/// HTTP clients that trust the public roots and one bundle more, one per bundle, so that the
/// Tenants of one private CA share connection pools.
#[derive(Default)]
pub struct TrustingClients {
    clients: Mutex<HashMap<[u8; 32], reqwest::Client>>,
}

impl TrustingClients {
    /// A client that also trusts `bundle`.
    pub fn client(&self, bundle: &CaBundle) -> Result<reqwest::Client, String> {
        if let Some(client) = self.clients.lock().ok().and_then(|c| c.get(&bundle.digest).cloned()) {
            return Ok(client);
        }
        let mut builder = super::client_builder();
        for der in &bundle.certificates {
            let certificate = reqwest::Certificate::from_der(der).map_err(|e| super::describe(&e))?;
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder.build().map_err(|e| super::describe(&e))?;
        if let Ok(mut clients) = self.clients.lock() {
            if clients.len() >= CLIENTS_KEPT {
                clients.clear();
            }
            clients.insert(bundle.digest, client.clone());
        }
        Ok(client)
    }
}

/// What went wrong in a TLS handshake, when that is why `error` happened.
pub fn failure(error: &reqwest::Error) -> Option<String> {
    rustls_error(error, 0).map(explain)
}

/// The rustls error among `error`'s causes. An I/O error hides the error it wraps from
/// `source()`; `get_ref` shows it. `depth` bounds the search.
fn rustls_error<'e>(error: &'e (dyn std::error::Error + 'static), depth: usize) -> Option<&'e rustls::Error> {
    if depth > 16 {
        return None;
    }
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let wrapped = error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| rustls_error(inner, depth + 1));
    wrapped.or_else(|| error.source().and_then(|source| rustls_error(source, depth + 1)))
}

fn explain(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
            "invalid peer certificate: UnknownIssuer (signed by a CA that is neither a public root nor in caBundleRef)"
                .to_owned()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERTIFICATE: &str = include_str!("testdata/client.crt");

    #[test]
    fn a_bundle_holds_pem_certificates_and_nothing_else() {
        let two = format!("{CERTIFICATE}\n{CERTIFICATE}");
        assert_eq!(
            CaBundle::from_pem(two.as_bytes()).expect("a bundle").certificates.len(),
            2
        );
        assert!(
            CaBundle::from_pem(b"")
                .expect_err("empty")
                .contains("no PEM certificate")
        );
        assert!(CaBundle::from_pem(b"just text").is_err());
        let garbled = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(
            CaBundle::from_pem(garbled.as_bytes())
                .expect_err("not X.509")
                .contains("certificate 1")
        );
    }

    #[test]
    fn one_client_per_bundle() {
        let clients = TrustingClients::default();
        let bundle = CaBundle::from_pem(CERTIFICATE.as_bytes()).expect("a bundle");
        clients.client(&bundle).expect("a client");
        clients.client(&bundle).expect("the same client");
        assert_eq!(clients.clients.lock().expect("lock").len(), 1);
    }
}
