//! Any bytes as a certificate: the DER walk (`x509::facts`), a CA bundle and a certificate
//! Secret's `tls.crt` parse without panicking, and a certificate called valid has a validity
//! that begins before it ends or is refused as expired.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xtsync::providers::msgraph::ClientCertificate;
use xtsync::providers::tls::CaBundle;
use xtsync::providers::x509;

/// A key that belongs to no fuzzed certificate: only the certificate side is exercised.
const KEY: &[u8] = include_bytes!("../../src/providers/testdata/client.key");

fuzz_target!(|data: &[u8]| {
    let _ = x509::facts(data);
    let _ = CaBundle::from_pem(data);
    let now = k8s_openapi::jiff::Timestamp::UNIX_EPOCH;
    let _ = ClientCertificate::from_pem(data, KEY, now);
});
