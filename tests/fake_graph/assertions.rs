//! Client authentication at the fake's token endpoint, as Entra does it (Microsoft Learn:
//! "Microsoft identity platform application authentication certificate credentials",
//! "Workload identity federation", "OAuth 2.0 client credentials flow"): a client secret, or
//! a JWT client assertion — signed with a certificate registered on the app (`x5t#S256`), or
//! issued by an identity provider the app federates with (issuer, subject, audience). What
//! Entra refuses is refused, with its `invalid_client` error and an `AADSTS` code: an unknown
//! or wrongly signed assertion, another audience, an assertion outside its time range, a `jti`
//! seen before. Signatures are checked with webpki and ring, never with xtsync's own code.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The audience Entra expects in a federated token (Microsoft Learn, "Workload identity
/// federation": `api://AzureADTokenExchange`).
pub const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Clock skew Entra tolerates on `exp` and `nbf`.
const SKEW_SECONDS: i64 = 300;

/// A federated identity credential of an app: tokens of `issuer` about `subject` for
/// `audience` stand for the app.
#[derive(Clone, Debug)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

/// An identity provider's RSA signing key: (kid, modulus, exponent).
pub type IssuerKey = (String, Vec<u8>, Vec<u8>);

/// The token endpoint's memory of client authentication.
#[derive(Default)]
pub struct Assertions {
    /// Signing keys of identity providers by issuer: (kid, modulus, exponent).
    pub issuers: BTreeMap<String, Vec<IssuerKey>>,
    /// Every `jti` accepted, per client id.
    seen: BTreeSet<(String, String)>,
    /// Added to the fake's clock (seconds): a clock that runs ahead of the operator's.
    pub clock_offset: i64,
    /// The last client assertion presented, accepted or not.
    pub last: Option<String>,
}

/// The credentials of one app registration.
#[derive(Clone, Debug, Default)]
pub struct AppCredentials {
    pub secret: Option<String>,
    /// DER certificates uploaded to the app ("Certificates & secrets").
    pub certificates: Vec<Vec<u8>>,
    pub federated: Vec<FederatedCredential>,
}

/// Why authentication failed: Entra's HTTP status, `error`, and `AADSTS…` description.
pub struct Refusal {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

fn invalid_client(description: String) -> Refusal {
    Refusal {
        status: 401,
        error: "invalid_client",
        description,
    }
}

/// A JWT's three parts, decoded.
struct Jwt {
    header: Value,
    claims: Value,
    signed: String,
    signature: Vec<u8>,
}

fn parse(jwt: &str) -> Option<Jwt> {
    let (signed, signature) = jwt.rsplit_once('.')?;
    let (header, claims) = signed.split_once('.')?;
    let json = |part: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(part).ok()?).ok();
    Some(Jwt {
        header: json(header)?,
        claims: json(claims)?,
        signed: signed.to_owned(),
        signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
    })
}

impl Assertions {
    fn now(&self) -> i64 {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        i64::try_from(since).unwrap_or_default() + self.clock_offset
    }

    /// Authenticates the client of a token request (`form`) for `client_id`, whose token
    /// endpoint is `token_url`.
    pub fn authenticate(
        &mut self,
        app: &AppCredentials,
        client_id: &str,
        token_url: &str,
        form: &BTreeMap<String, String>,
    ) -> Result<(), Refusal> {
        let field = |k: &str| form.get(k).map(String::as_str);
        match (field("client_secret"), field("client_assertion_type"), field("client_assertion")) {
            (Some(secret), None, None) if app.secret.as_deref() == Some(secret) => Ok(()),
            (Some(_), None, None) => Err(invalid_client(format!(
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ))),
            (None, Some(JWT_BEARER), Some(assertion)) => {
                self.last = Some(assertion.to_owned());
                let jwt = parse(assertion).ok_or_else(|| {
                    invalid_client("AADSTS50027: JWT token is invalid or malformed.".to_owned())
                })?;
                if jwt.header.get("x5t#S256").is_some() || jwt.header.get("x5t").is_some() {
                    self.certificate(app, client_id, token_url, &jwt)
                } else {
                    self.federated(app, &jwt)
                }
            }
            _ => Err(Refusal {
                status: 401,
                error: "invalid_client",
                description: "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned(),
            }),
        }
    }

    /// A certificate assertion: a registered certificate by thumbprint, its signature, then
    /// the claims.
    fn certificate(
        &mut self,
        app: &AppCredentials,
        client_id: &str,
        token_url: &str,
        jwt: &Jwt,
    ) -> Result<(), Refusal> {
        let thumbprint = jwt.header.get("x5t#S256").and_then(Value::as_str).unwrap_or_default();
        let registered = app
            .certificates
            .iter()
            .find(|der| URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, der)) == thumbprint);
        let verified = registered.is_some_and(|der| {
            let der = rustls_pki_types::CertificateDer::from(der.as_slice());
            let algorithm = match jwt.header.get("alg").and_then(Value::as_str) {
                Some("RS256") => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
                Some("PS256") => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
                _ => return false,
            };
            webpki::EndEntityCert::try_from(&der)
                .and_then(|cert| cert.verify_signature(algorithm, jwt.signed.as_bytes(), &jwt.signature))
                .is_ok()
        });
        if !verified {
            return Err(invalid_client(format!(
                "AADSTS700027: Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}']"
            )));
        }
        let claim = |name: &str| jwt.claims.get(name).and_then(Value::as_str).unwrap_or_default();
        if claim("iss") != client_id || claim("sub") != client_id {
            return Err(invalid_client(
                "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter.".to_owned(),
            ));
        }
        if claim("aud") != token_url {
            return Err(invalid_client(format!(
                "AADSTS700212: The client assertion's audience '{}' is not the token endpoint '{token_url}'.",
                claim("aud")
            )));
        }
        self.in_time(jwt)?;
        let jti = claim("jti");
        if jti.is_empty() || !self.seen.insert((client_id.to_owned(), jti.to_owned())) {
            return Err(invalid_client(format!(
                "AADSTS700236: The client assertion with jti '{jti}' was presented before (a replayed assertion)."
            )));
        }
        Ok(())
    }

    /// `exp` not passed and `nbf` reached, each within the tolerated skew.
    fn in_time(&self, jwt: &Jwt) -> Result<(), Refusal> {
        let now = self.now();
        let exp = jwt.claims.get("exp").and_then(Value::as_i64).unwrap_or_default();
        let nbf = jwt.claims.get("nbf").and_then(Value::as_i64).unwrap_or(i64::MIN);
        if now > exp + SKEW_SECONDS || now + SKEW_SECONDS < nbf {
            return Err(invalid_client(format!(
                "AADSTS700024: Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}, expiry time of assertion {exp}."
            )));
        }
        Ok(())
    }

    /// A federated token: signed by its issuer's key, then matched against the app's federated
    /// identity credentials by issuer, subject and audience.
    fn federated(&mut self, app: &AppCredentials, jwt: &Jwt) -> Result<(), Refusal> {
        let claim = |name: &str| {
            jwt.claims
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let issuer = claim("iss");
        let kid = jwt.header.get("kid").and_then(Value::as_str).unwrap_or_default();
        let signed = self.issuers.get(&issuer).is_some_and(|keys| {
            keys.iter()
                .filter(|(id, _, _)| kid.is_empty() || id == kid)
                .any(|(_, n, e)| {
                    ring::signature::RsaPublicKeyComponents { n, e }
                        .verify(
                            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                            jwt.signed.as_bytes(),
                            &jwt.signature,
                        )
                        .is_ok()
                })
        });
        if !signed {
            return Err(invalid_client(format!(
                "AADSTS700211: No matching federated identity record found for presented assertion issuer '{issuer}'."
            )));
        }
        let audiences: Vec<String> = match jwt.claims.get("aud") {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        let of_issuer: Vec<&FederatedCredential> = app.federated.iter().filter(|f| f.issuer == issuer).collect();
        let subject = claim("sub");
        let Some(record) = of_issuer.iter().find(|f| f.subject == subject) else {
            return Err(invalid_client(format!(
                "AADSTS700213: No matching federated identity record found for presented assertion subject '{subject}'."
            )));
        };
        if !audiences.contains(&record.audience) {
            return Err(invalid_client(format!(
                "AADSTS700212: No matching federated identity record found for presented assertion audience '{}'.",
                audiences.join(",")
            )));
        }
        self.in_time(jwt)
    }
}
