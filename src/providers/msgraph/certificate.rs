//! Certificate credentials (Microsoft Learn, "Microsoft identity platform application
//! authentication certificate credentials"): instead of a client secret, each token request
//! carries a JWT client assertion signed with the app's certificate key — RS256, the
//! certificate's SHA-256 thumbprint as `x5t#S256`, `aud` the token endpoint, `iss` = `sub` =
//! the client id, a unique `jti`, and an `exp` 10 minutes after `iat` (RFC 7523 §3).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

use crate::providers::x509;

/// How long an assertion is valid: "short — 5-10 minutes after nbf" (Microsoft Learn).
pub const ASSERTION_LIFETIME: SignedDuration = SignedDuration::from_secs(600);

/// An app's certificate and its private key, checked to belong together.
pub struct ClientCertificate {
    key: RsaKeyPair,
    /// `x5t#S256`: base64url of the SHA-256 of the certificate's DER.
    thumbprint: String,
    not_after: Timestamp,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("thumbprint", &self.thumbprint)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Why a certificate Secret cannot be used; the message names the key at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("tls.crt holds no PEM certificate")]
    NoCertificate,
    #[error("tls.crt is not an X.509 certificate: {0}")]
    BadCertificate(String),
    #[error("tls.key holds no PEM private key")]
    NoKey,
    #[error("tls.key is not an RSA private key of 2048 bits or more: {0}")]
    NotRsa(String),
    #[error("tls.key is not the private key of the certificate in tls.crt")]
    KeyMismatch,
    #[error("the certificate in tls.crt expired at {0}")]
    Expired(Timestamp),
}

impl ClientCertificate {
    /// The certificate (the first of `tls.crt`, a chain may follow) and key of a
    /// `kubernetes.io/tls` Secret, at `now`.
    pub fn from_pem(certificate: &[u8], key: &[u8], now: Timestamp) -> Result<Self, CertificateError> {
        let der = CertificateDer::pem_slice_iter(certificate)
            .next()
            .and_then(Result::ok)
            .ok_or(CertificateError::NoCertificate)?;
        let facts = x509::facts(&der).map_err(CertificateError::BadCertificate)?;
        let key = match PrivateKeyDer::from_pem_slice(key).map_err(|_| CertificateError::NoKey)? {
            PrivateKeyDer::Pkcs8(pkcs8) => RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(pkcs1) => RsaKeyPair::from_der(pkcs1.secret_pkcs1_der()),
            _ => return Err(CertificateError::NotRsa("an EC key".into())),
        }
        .map_err(|e| CertificateError::NotRsa(e.to_string()))?;
        if key.public().as_ref() != facts.public_key {
            return Err(CertificateError::KeyMismatch);
        }
        if facts.not_after <= now {
            return Err(CertificateError::Expired(facts.not_after));
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, &der);
        Ok(ClientCertificate {
            key,
            thumbprint: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            not_after: facts.not_after,
        })
    }

    /// When the certificate expires (`status.credentialExpiry`).
    pub fn not_after(&self) -> Timestamp {
        self.not_after
    }

    /// `x5t#S256` of the certificate, which also tells one certificate from another.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A client assertion for `client_id` at the token endpoint `audience`, issued at `now`.
    pub fn assertion(&self, client_id: &str, audience: &str, now: Timestamp) -> Result<String, String> {
        let rng = SystemRandom::new();
        let header = json!({ "alg": "RS256", "typ": "JWT", "x5t#S256": self.thumbprint });
        let issued = now.as_second();
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": jti(&rng)?,
            "nbf": issued,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME.as_secs(),
        });
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &rng, signed.as_bytes(), &mut signature)
            .map_err(|_| "the client assertion could not be signed".to_owned())?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// A random (version 4) GUID: "a GUID" is what Microsoft Learn asks of `jti`.
fn jti(rng: &SystemRandom) -> Result<String, String> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes)
        .map_err(|_| "no randomness for the assertion's jti".to_owned())?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    const CERTIFICATE: &[u8] = include_bytes!("../testdata/client.crt");
    const KEY: &[u8] = include_bytes!("../testdata/client.key");
    /// A PKCS#1 ("RSA PRIVATE KEY") key of no certificate here.
    const OTHER_KEY: &[u8] = include_bytes!("../testdata/other.key");

    fn now() -> Timestamp {
        "2026-12-01T00:00:00Z".parse().expect("a time")
    }

    fn part(jwt: &str, index: usize) -> Value {
        let segment = jwt.split('.').nth(index).expect("a JWT segment");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
    }

    #[test]
    fn an_assertion_carries_what_entra_checks_and_verifies_against_the_certificate() {
        let certificate = ClientCertificate::from_pem(CERTIFICATE, KEY, now()).expect("a credential");
        let audience = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
        let jwt = certificate.assertion("app", audience, now()).expect("signed");
        let header = part(&jwt, 0);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["x5t#S256"], certificate.thumbprint());
        let claims = part(&jwt, 1);
        assert_eq!(
            (claims["aud"].as_str(), claims["iss"].as_str(), claims["sub"].as_str()),
            (Some(audience), Some("app"), Some("app"))
        );
        let (iat, exp) = (
            claims["iat"].as_i64().expect("iat"),
            claims["exp"].as_i64().expect("exp"),
        );
        assert!(exp > iat && exp - iat <= 600, "exp at most 10 minutes after iat");
        // The signature verifies with the certificate's own public key (webpki, not our parser).
        let der = CertificateDer::from_pem_slice(CERTIFICATE).expect("certificate");
        let cert = webpki::EndEntityCert::try_from(&der).expect("parsed");
        let (signed, signature) = jwt.rsplit_once('.').expect("three parts");
        let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
        cert.verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
            .expect("the signature verifies");
        let again = certificate.assertion("app", audience, now()).expect("signed");
        assert_ne!(part(&again, 1)["jti"], claims["jti"], "every assertion has its own jti");
    }

    #[test]
    fn a_key_of_another_certificate_an_expired_certificate_and_garbage_are_refused() {
        assert_eq!(
            ClientCertificate::from_pem(CERTIFICATE, OTHER_KEY, now()).err(),
            Some(CertificateError::KeyMismatch)
        );
        let later: Timestamp = "2040-01-01T00:00:00Z".parse().expect("a time");
        assert!(matches!(
            ClientCertificate::from_pem(CERTIFICATE, KEY, later),
            Err(CertificateError::Expired(_))
        ));
        assert_eq!(
            ClientCertificate::from_pem(b"hello", KEY, now()).err(),
            Some(CertificateError::NoCertificate)
        );
        assert_eq!(
            ClientCertificate::from_pem(CERTIFICATE, b"hello", now()).err(),
            Some(CertificateError::NoKey)
        );
        assert!(!format!("{:?}", ClientCertificate::from_pem(CERTIFICATE, KEY, now())).contains("PRIVATE"));
    }
}
