//! The two facts xtsync needs from an X.509 certificate (RFC 5280 §4.1): when it expires, and
//! the public key it certifies. A DER walk over `tbsCertificate` — bounded by the input, every
//! length checked — rather than a general ASN.1 library for two fields.

use k8s_openapi::jiff::Timestamp;
use k8s_openapi::jiff::civil::DateTime;

/// What a certificate says of itself, as far as xtsync reads it.
#[derive(Debug, PartialEq, Eq)]
pub struct CertificateFacts<'a> {
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// `subjectPublicKey`'s bits (for RSA: the `RSAPublicKey` DER of RFC 8017 §A.1.1).
    pub public_key: &'a [u8],
}

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT Version`.
const VERSION: u8 = 0xa0;

/// One DER element: its tag and its contents.
struct Element<'a> {
    tag: u8,
    contents: &'a [u8],
}

/// Splits the first DER element off `input` (X.690 §8.1: single-byte tags, definite lengths).
fn element(input: &[u8]) -> Result<(Element<'_>, &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER length")?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err("unsupported DER length".into());
        }
        let (bytes, rest) = rest.split_at(count);
        (bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b)), rest)
    };
    if rest.len() < length {
        return Err("DER element longer than its input".into());
    }
    let (contents, rest) = rest.split_at(length);
    Ok((Element { tag, contents }, rest))
}

/// The first element of `input`, which must carry `tag`.
fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<(Element<'a>, &'a [u8]), String> {
    let (found, rest) = element(input)?;
    if found.tag != tag {
        return Err(format!("{what}: expected DER tag {tag:#04x}, found {:#04x}", found.tag));
    }
    Ok((found, rest))
}

/// The validity and the public key of the DER certificate `der`.
pub fn facts(der: &[u8]) -> Result<CertificateFacts<'_>, String> {
    let (certificate, _) = expect(der, SEQUENCE, "Certificate")?;
    let (tbs, _) = expect(certificate.contents, SEQUENCE, "tbsCertificate")?;
    let mut rest = tbs.contents;
    if rest.first() == Some(&VERSION) {
        rest = element(rest)?.1;
    }
    let (_serial, rest) = element(rest)?;
    let (_signature, rest) = expect(rest, SEQUENCE, "signature")?;
    let (_issuer, rest) = expect(rest, SEQUENCE, "issuer")?;
    let (validity, rest) = expect(rest, SEQUENCE, "validity")?;
    let (_subject, rest) = expect(rest, SEQUENCE, "subject")?;
    let (spki, _) = expect(rest, SEQUENCE, "subjectPublicKeyInfo")?;
    let (not_before, after) = element(validity.contents)?;
    let (not_after, _) = element(after)?;
    let (_algorithm, key) = expect(spki.contents, SEQUENCE, "algorithm")?;
    let (bits, _) = expect(key, BIT_STRING, "subjectPublicKey")?;
    // The first octet of a BIT STRING counts the unused bits of the last: a key has none.
    let public_key = match bits.contents.split_first() {
        Some((0, key)) => key,
        _ => return Err("subjectPublicKey is not a whole number of octets".into()),
    };
    Ok(CertificateFacts {
        not_before: time(&not_before)?,
        not_after: time(&not_after)?,
        public_key,
    })
}

/// `Time` (RFC 5280 §4.1.2.5): UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or GeneralizedTime
/// `YYYYMMDDHHMMSSZ`.
fn time(element: &Element<'_>) -> Result<Timestamp, String> {
    let text = std::str::from_utf8(element.contents).map_err(|_| "a validity time is not ASCII")?;
    let digits = text.strip_suffix('Z').ok_or("a validity time is not in UTC")?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid validity time '{text}'"));
    }
    let number = |range: std::ops::Range<usize>| -> Result<i16, String> {
        digits
            .get(range)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| format!("invalid validity time '{text}'"))
    };
    let (year, rest) = match (element.tag, digits.len()) {
        (UTC_TIME, 12) => {
            let yy = number(0..2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        (GENERALIZED_TIME, 14) => (number(0..4)?, 4),
        _ => return Err(format!("invalid validity time '{text}'")),
    };
    let field = |i: usize| number(rest + 2 * i..rest + 2 * i + 2);
    let parts = (field(0)?, field(1)?, field(2)?, field(3)?, field(4)?);
    let month = i8::try_from(parts.0).map_err(|e| e.to_string())?;
    let day = i8::try_from(parts.1).map_err(|e| e.to_string())?;
    let (hour, minute, second) = (parts.2 as i8, parts.3 as i8, parts.4 as i8);
    DateTime::new(year, month, day, hour, minute, second, 0)
        .and_then(|dt| dt.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC))
        .map(|zoned| zoned.timestamp())
        .map_err(|e| format!("invalid validity time '{text}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate made with `openssl req -x509 -newkey rsa:2048 -days 3650`, whose
    /// `openssl x509 -enddate` says `notAfter=Dec  2 07:18:13 2036 GMT`.
    pub const CERTIFICATE: &str = include_str!("testdata/client.crt");

    fn der() -> Vec<u8> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        CertificateDer::from_pem_slice(CERTIFICATE.as_bytes())
            .expect("a PEM certificate")
            .to_vec()
    }

    #[test]
    fn validity_and_key_of_a_certificate_openssl_made() {
        let der = der();
        let facts = facts(&der).expect("facts");
        assert_eq!(facts.not_after.to_string(), "2036-12-02T07:18:13Z");
        assert!(facts.not_before < facts.not_after);
        // RSAPublicKey ::= SEQUENCE { modulus, publicExponent }
        assert_eq!(facts.public_key.first(), Some(&SEQUENCE));
    }

    #[test]
    fn utc_time_years_wrap_at_1950_and_generalized_time_is_read_whole() {
        let utc = |s: &str| {
            time(&Element {
                tag: UTC_TIME,
                contents: s.as_bytes(),
            })
        };
        assert_eq!(utc("491231235959Z").expect("2049").to_string(), "2049-12-31T23:59:59Z");
        assert_eq!(utc("500101000000Z").expect("1950").to_string(), "1950-01-01T00:00:00Z");
        let generalized = Element {
            tag: GENERALIZED_TIME,
            contents: b"20510101000000Z",
        };
        assert_eq!(time(&generalized).expect("2051").to_string(), "2051-01-01T00:00:00Z");
        assert!(utc("4912312359Z").is_err());
        assert!(utc("491331235959Z").is_err(), "month 13");
        assert!(utc("49123123595+Z").is_err());
    }

    #[test]
    fn every_cut_of_a_certificate_is_an_error_never_a_panic() {
        let der = der();
        for end in 0..der.len() {
            let _ = facts(&der[..end]);
        }
        let mut flipped = der.clone();
        for i in 0..flipped.len().min(64) {
            flipped[i] ^= 0xff;
            let _ = facts(&flipped);
            flipped[i] ^= 0xff;
        }
        assert!(facts(b"not DER").is_err());
    }
}
