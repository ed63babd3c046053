//! Certificates made in the test with `openssl` (installed by `tests/env/setup.sh`, as the
//! control plane's service-account key is): a private CA and a server certificate it signs,
//! and self-signed RSA client certificates for Graph apps. Nothing is checked in.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A certificate and its private key, PEM.
#[derive(Clone, Debug)]
pub struct Pem {
    pub certificate: String,
    pub key: String,
    pub certificate_path: PathBuf,
    pub key_path: PathBuf,
}

/// A folder of certificates made for one test.
pub struct Pki {
    dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    pub fn new() -> Pki {
        Pki {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn read(&self, name: &str) -> Pem {
        let certificate_path = self.dir.path().join(format!("{name}.crt"));
        let key_path = self.dir.path().join(format!("{name}.key"));
        Pem {
            certificate: std::fs::read_to_string(&certificate_path).expect("certificate"),
            key: std::fs::read_to_string(&key_path).expect("key"),
            certificate_path,
            key_path,
        }
    }

    /// A CA certificate (`basicConstraints CA:TRUE`) named `name`.
    pub fn ca(&self, name: &str) -> Pem {
        let (crt, key) = (format!("{name}.crt"), format!("{name}.key"));
        openssl(
            self.dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &crt,
                "-days",
                "2",
                "-subj",
                &format!("/CN={name}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        self.read(name)
    }

    /// A server certificate for 127.0.0.1 and localhost, signed by `ca`.
    pub fn server(&self, name: &str, ca: &Pem) -> Pem {
        let (crt, key, csr, ext) = (
            format!("{name}.crt"),
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.ext"),
        );
        std::fs::write(
            self.dir.path().join(&ext),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .expect("extensions");
        openssl(
            self.dir.path(),
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                "/CN=127.0.0.1",
            ],
        );
        let (ca_crt, ca_key) = (ca.certificate_path.to_string_lossy(), ca.key_path.to_string_lossy());
        openssl(
            self.dir.path(),
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca_crt,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
        self.read(name)
    }

    /// A self-signed RSA certificate, as an app registration's certificate credential is.
    pub fn client(&self, name: &str, days: u32) -> Pem {
        let (crt, key) = (format!("{name}.crt"), format!("{name}.key"));
        openssl(
            self.dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &crt,
                "-days",
                &days.to_string(),
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        self.read(name)
    }

    /// `notAfter` of a certificate, as openssl reads it (RFC 3339).
    pub fn not_after(pem: &Pem) -> String {
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in"])
            .arg(&pem.certificate_path)
            .output()
            .expect("openssl runs");
        let text = String::from_utf8_lossy(&out.stdout);
        // "notAfter=2026-12-31 10:00:00Z"
        text.trim().trim_start_matches("notAfter=").replacen(' ', "T", 1)
    }
}
