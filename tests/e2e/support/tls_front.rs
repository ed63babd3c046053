//! A real TLS endpoint in front of a plain HTTP server (scim2-server): rustls terminates TLS
//! with a certificate made in the test, and each connection is relayed to the upstream. It
//! binds 127.0.0.1, sets TCP_NODELAY, and counts the handshakes that succeeded, so that a test
//! can tell that nothing was sent over a connection the client refused to trust.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};

use super::pki::Pem;

pub struct TlsFront {
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    handshakes: Arc<AtomicUsize>,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    /// Serves `certificate` (a chain may follow it in the PEM) and relays to `upstream`
    /// (`host:port`).
    pub async fn start(certificate: &Pem, upstream: String) -> TlsFront {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(certificate.certificate.as_bytes())
            .collect::<Result<_, _>>()
            .expect("PEM certificates");
        let key = PrivateKeyDer::from_pem_slice(certificate.key.as_bytes()).expect("a PEM key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("a server certificate");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("https://{}", listener.local_addr().expect("address"));
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = handshakes.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                stream.set_nodelay(true).expect("TCP_NODELAY");
                let (acceptor, counted, upstream) = (acceptor.clone(), counted.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut plain) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = plain.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront {
            base,
            handshakes,
            accepting,
        }
    }

    /// TLS handshakes that succeeded so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}
