//! The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) and
//! SCRAM-SHA-256-PLUS (`tls-server-end-point` channel binding, RFC 5929),
//! worked from the stored verifier: `StoredKey` checks the client's proof,
//! `ServerKey` signs the answer. pgwire's `ScramAuth` needs the
//! `SaltedPassword` itself, from which a login can be made, so the
//! exchange is ours; pgwire still frames the messages and finishes the
//! startup.
//!
//! What the exchange does beyond pgwire's: the client-final nonce must be
//! the one this server issued; the proof is compared in constant time; a
//! client that says it could bind the channel (`y`) when `-PLUS` was
//! offered is refused (a downgrade); `-PLUS` must bind, plain SCRAM must
//! not; authorization identities and mandatory extensions are refused, as
//! PostgreSQL does. Malformed messages end the login with FATAL 08P01 and
//! a reason that never quotes the message.
//!
//! An unknown user is challenged like a known one — a 16-byte salt derived
//! from the name under the server's secret (`users::mock_salt`), the
//! default iteration count — and its proof is checked, in the same time,
//! against a key no proof matches; it then fails exactly as a wrong
//! password does.

use std::fmt::Debug;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use futures::{Sink, SinkExt};
use heliosdb_core::StorageEngine;
use pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata,
    DefaultServerParameterProvider,
};
use pgwire::api::{ClientInfo, PgWireConnectionState, METADATA_USER};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use rand::RngCore;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::users::{self, hmac, sha256, ScramVerifier};
use crate::{Result, ServerError};

const SCRAM_SHA_256: &str = "SCRAM-SHA-256";
const SCRAM_SHA_256_PLUS: &str = "SCRAM-SHA-256-PLUS";
const CHANNEL_BINDING: &str = "tls-server-end-point";

/// Random bytes in the server's part of the nonce (PostgreSQL's count).
const SERVER_NONCE_BYTES: usize = 18;

/// `tls-server-end-point` channel-binding data for a certificate chain in
/// PEM: the hash of the first (the server's) certificate, with the hash of
/// its signature algorithm, SHA-256 for MD5 and SHA-1 (RFC 5929 §4.1).
///
/// # Errors
/// No certificate, or a signature algorithm the RFC gives no hash for
/// (Ed25519): the server then offers SCRAM-SHA-256 without `-PLUS`.
pub(crate) fn tls_server_end_point(pem: &[u8]) -> Result<Vec<u8>> {
    use sha2::Digest;
    use x509_certificate::certificate::CapturedX509Certificate;
    use x509_certificate::SignatureAlgorithm as Alg;
    let certs = CapturedX509Certificate::from_pem_multiple(pem)
        .map_err(|e| ServerError::Tls(format!("reading the certificate: {e}")))?;
    let leaf = certs
        .first()
        .ok_or_else(|| ServerError::Tls("no certificate".into()))?;
    let der = leaf.constructed_data();
    Ok(match leaf.signature_algorithm() {
        Some(Alg::RsaSha1 | Alg::RsaSha256 | Alg::EcdsaSha256) => {
            sha2::Sha256::digest(der).to_vec()
        }
        Some(Alg::RsaSha384 | Alg::EcdsaSha384) => sha2::Sha384::digest(der).to_vec(),
        Some(Alg::RsaSha512) => sha2::Sha512::digest(der).to_vec(),
        _ => {
            return Err(ServerError::Tls(
                "the certificate's signature algorithm defines no tls-server-end-point hash".into(),
            ))
        }
    })
}

fn fatal(msg: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        "XX000".into(),
        msg.into(),
    )))
}

fn malformed(why: &str) -> PgWireError {
    PgWireError::InvalidScramMessage(why.to_string())
}

/// Where a connection's login stands.
enum State {
    /// No startup message yet.
    Initial,
    /// The SASL mechanisms were sent; `plus_offered`: `-PLUS` among them.
    MechanismsSent { plus_offered: bool },
    /// The server-first message was sent.
    ServerFirstSent(Box<Exchange>),
    /// Logged in (or refused: the connection ends).
    Done,
}

/// What the server keeps between its two SCRAM messages.
struct Exchange {
    user: String,
    /// `None`: an unknown user, whose proof nothing matches.
    verifier: Option<ScramVerifier>,
    /// What the client-final's `c=` must carry: the GS2 header, then the
    /// certificate hash when the channel is bound.
    cbind_input: Vec<u8>,
    /// Client nonce followed by ours.
    nonce: String,
    client_first_bare: String,
    server_first: String,
}

/// The parts of a client-first message the exchange uses.
#[derive(Debug, PartialEq, Eq)]
struct ClientFirst<'a> {
    /// GS2 header, e.g. `n,,` or `p=tls-server-end-point,,`.
    gs2_header: &'a str,
    /// The client binds the channel (`p=`).
    binds: bool,
    bare: &'a str,
    nonce: &'a str,
}

/// A printable nonce per RFC 5802: `%x21-2B / %x2D-7E`.
fn valid_nonce(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

fn parse_client_first(
    data: &[u8],
    plus: bool,
    plus_offered: bool,
) -> PgWireResult<ClientFirst<'_>> {
    let s = std::str::from_utf8(data).map_err(|_| malformed("client-first is not UTF-8"))?;
    let (flag, rest) = s
        .split_once(',')
        .ok_or_else(|| malformed("client-first has no GS2 header"))?;
    let (authzid, bare) = rest
        .split_once(',')
        .ok_or_else(|| malformed("client-first has no GS2 header"))?;
    if !authzid.is_empty() {
        return Err(malformed("authorization identities are not supported"));
    }
    let binds = match flag {
        "n" | "y" if plus => {
            return Err(malformed(
                "SCRAM-SHA-256-PLUS chosen without channel binding",
            ))
        }
        "n" => false,
        // The client could have bound the channel but thought the server
        // could not: with -PLUS offered, someone removed it on the way.
        "y" if plus_offered => {
            return Err(malformed(
                "the client supports channel binding, which the server offered",
            ))
        }
        "y" => false,
        f => match f.strip_prefix("p=") {
            Some(_) if !plus => {
                return Err(malformed("channel binding requested with SCRAM-SHA-256"))
            }
            Some(CHANNEL_BINDING) => true,
            Some(_) => return Err(malformed("unsupported channel binding type")),
            None => return Err(malformed("invalid channel binding flag")),
        },
    };
    let gs2_header = &s[..flag.len() + authzid.len() + 2];
    let mut attrs = bare.split(',');
    let user = attrs.next().unwrap_or_default();
    if user.starts_with("m=") {
        return Err(malformed("mandatory extensions are not supported"));
    }
    // The user name here is ignored, as PostgreSQL ignores it: the startup
    // message's is the one that logs in.
    if !user.starts_with("n=") {
        return Err(malformed("client-first has no user name attribute"));
    }
    let nonce = attrs
        .next()
        .and_then(|a| a.strip_prefix("r="))
        .ok_or_else(|| malformed("client-first has no nonce"))?;
    if !valid_nonce(nonce) {
        return Err(malformed("invalid client nonce"));
    }
    Ok(ClientFirst {
        gs2_header,
        binds,
        bare,
        nonce,
    })
}

/// The parts of a client-final message: (without-proof, proof).
fn parse_client_final<'a>(
    data: &'a [u8],
    exchange: &Exchange,
) -> PgWireResult<(&'a str, [u8; 32])> {
    let s = std::str::from_utf8(data).map_err(|_| malformed("client-final is not UTF-8"))?;
    let (without_proof, proof) = s
        .rsplit_once(",p=")
        .ok_or_else(|| malformed("client-final has no proof"))?;
    let mut attrs = without_proof.split(',');
    let cbind = attrs
        .next()
        .and_then(|a| a.strip_prefix("c="))
        .ok_or_else(|| malformed("client-final has no channel binding"))?;
    let nonce = attrs
        .next()
        .and_then(|a| a.strip_prefix("r="))
        .ok_or_else(|| malformed("client-final has no nonce"))?;
    if attrs.next().is_some() {
        return Err(malformed("unexpected attribute in client-final"));
    }
    let cbind = B64
        .decode(cbind)
        .map_err(|_| malformed("channel binding is not base64"))?;
    if cbind != exchange.cbind_input {
        return Err(malformed("channel binding does not match"));
    }
    if nonce != exchange.nonce {
        return Err(malformed("nonce does not match"));
    }
    let proof = Zeroizing::new(
        B64.decode(proof)
            .map_err(|_| malformed("proof is not base64"))?,
    );
    let proof: [u8; 32] = proof
        .as_slice()
        .try_into()
        .map_err(|_| malformed("proof is not 32 bytes"))?;
    Ok((without_proof, proof))
}

/// Checks a client proof against `StoredKey`:
/// `ClientKey = proof XOR HMAC(StoredKey, AuthMessage)`, then
/// `H(ClientKey) == StoredKey`, compared in constant time.
fn proof_matches(stored_key: &[u8; 32], auth_message: &[u8], proof: &[u8; 32]) -> bool {
    let signature = Zeroizing::new(hmac(stored_key, auth_message));
    let mut client_key = Zeroizing::new([0u8; 32]);
    for (k, (p, s)) in client_key
        .iter_mut()
        .zip(proof.iter().zip(signature.iter()))
    {
        *k = p ^ s;
    }
    sha256(client_key.as_ref()).ct_eq(stored_key).into()
}

/// The startup handler: the SASL exchange on stored verifiers.
pub(crate) struct ScramStartup {
    params: DefaultServerParameterProvider,
    engine: Arc<StorageEngine>,
    mock_secret: Arc<Zeroizing<[u8; 32]>>,
    /// `tls-server-end-point` data; `None`: no `-PLUS`.
    cert_hash: Option<Arc<Vec<u8>>>,
    state: tokio::sync::Mutex<State>,
}

impl Debug for ScramStartup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramStartup")
            .field("channel_binding", &self.cert_hash.is_some())
            .finish_non_exhaustive()
    }
}

impl ScramStartup {
    pub(crate) fn new(
        params: DefaultServerParameterProvider,
        engine: Arc<StorageEngine>,
        mock_secret: Arc<Zeroizing<[u8; 32]>>,
        cert_hash: Option<Arc<Vec<u8>>>,
    ) -> Self {
        ScramStartup {
            params,
            engine,
            mock_secret,
            cert_hash,
            state: tokio::sync::Mutex::new(State::Initial),
        }
    }

    /// Handles a startup-phase message (pgwire's `StartupHandler` contract).
    pub(crate) async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut state = self.state.lock().await;
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                if !matches!(*state, State::Initial) {
                    return Err(PgWireError::InvalidSASLState);
                }
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                if client.metadata().get(METADATA_USER).is_none() {
                    return Err(PgWireError::UserNameRequired);
                }
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                let plus_offered = self.cert_hash.is_some() && client.is_secure();
                let mut mechanisms = Vec::with_capacity(2);
                if plus_offered {
                    mechanisms.push(SCRAM_SHA_256_PLUS.to_string());
                }
                mechanisms.push(SCRAM_SHA_256.to_string());
                client
                    .send(PgWireBackendMessage::Authentication(Authentication::SASL(
                        mechanisms,
                    )))
                    .await?;
                *state = State::MechanismsSent { plus_offered };
            }
            PgWireFrontendMessage::PasswordMessageFamily(msg) => {
                match std::mem::replace(&mut *state, State::Done) {
                    State::MechanismsSent { plus_offered } => {
                        let initial = msg.into_sasl_initial_response()?;
                        let plus = match initial.auth_method.as_str() {
                            SCRAM_SHA_256 => false,
                            SCRAM_SHA_256_PLUS if plus_offered => true,
                            other => {
                                return Err(PgWireError::UnsupportedSASLAuthMethod(
                                    other.chars().take(32).collect(),
                                ))
                            }
                        };
                        let data = initial
                            .data
                            .ok_or_else(|| malformed("empty client-first"))?;
                        let exchange = self.server_first(client, &data, plus, plus_offered).await?;
                        let server_first = Bytes::from(exchange.server_first.clone());
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLContinue(server_first),
                            ))
                            .await?;
                        *state = State::ServerFirstSent(Box::new(exchange));
                    }
                    State::ServerFirstSent(exchange) => {
                        let response = msg.into_sasl_response()?;
                        let server_final = Self::server_final(&response.data, &exchange)?;
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLFinal(Bytes::from(server_final)),
                            ))
                            .await?;
                        finish_authentication(client, &self.params).await?;
                    }
                    State::Initial | State::Done => return Err(PgWireError::InvalidSASLState),
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Parses client-first, looks the user up and builds server-first.
    async fn server_first<C: ClientInfo>(
        &self,
        client: &C,
        data: &[u8],
        plus: bool,
        plus_offered: bool,
    ) -> PgWireResult<Exchange> {
        let first = parse_client_first(data, plus, plus_offered)?;
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .ok_or(PgWireError::UserNameRequired)?;
        let engine = self.engine.clone();
        let name = user.clone();
        let verifier = tokio::task::spawn_blocking(move || users::verifier(&engine, &name))
            .await
            .map_err(|_| fatal("credential lookup failed"))?
            .map_err(|e| fatal(&e.to_string()))?;
        let (salt, iterations) = match &verifier {
            Some(v) => (v.salt.clone(), v.iterations),
            None => (
                users::mock_salt(&self.mock_secret, &user),
                users::SCRAM_ITERATIONS,
            ),
        };
        let mut ours = [0u8; SERVER_NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut ours);
        let nonce = format!("{}{}", first.nonce, B64.encode(ours));
        let server_first = format!("r={nonce},s={},i={iterations}", B64.encode(&salt));
        let mut cbind_input = first.gs2_header.as_bytes().to_vec();
        if first.binds {
            // `plus` was only accepted when offered, which needs the hash.
            let hash = self
                .cert_hash
                .as_deref()
                .ok_or_else(|| malformed("channel binding is not available"))?;
            cbind_input.extend_from_slice(hash);
        }
        Ok(Exchange {
            user,
            verifier,
            cbind_input,
            nonce,
            client_first_bare: first.bare.to_string(),
            server_first,
        })
    }

    /// Checks client-final's proof; returns server-final (`v=…`).
    fn server_final(data: &[u8], exchange: &Exchange) -> PgWireResult<String> {
        let (without_proof, proof) = parse_client_final(data, exchange)?;
        let auth_message = format!(
            "{},{},{without_proof}",
            exchange.client_first_bare, exchange.server_first
        );
        // An unknown user's proof is checked as long, against a random key.
        let mut decoy = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(decoy.as_mut());
        let stored_key = exchange
            .verifier
            .as_ref()
            .map_or(&*decoy, |v| &*v.stored_key);
        let ok = proof_matches(stored_key, auth_message.as_bytes(), &proof);
        match &exchange.verifier {
            Some(v) if ok => {
                let signature = hmac(v.server_key.as_ref(), auth_message.as_bytes());
                Ok(format!("v={}", B64.encode(signature)))
            }
            _ => Err(PgWireError::InvalidPassword(exchange.user.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_first_rules() {
        let ok = parse_client_first(b"n,,n=,r=abc", false, true).unwrap();
        assert_eq!((ok.gs2_header, ok.binds, ok.nonce), ("n,,", false, "abc"));
        assert_eq!(ok.bare, "n=,r=abc");
        let p = parse_client_first(b"p=tls-server-end-point,,n=x,r=q", true, true).unwrap();
        assert_eq!((p.gs2_header, p.binds), ("p=tls-server-end-point,,", true));
        assert!(parse_client_first(b"y,,n=,r=a", false, false).is_ok());
        for (bad, plus, offered, why) in [
            (&b"y,,n=,r=a"[..], false, true, "supports channel binding"),
            (b"n,,n=,r=a", true, true, "without channel binding"),
            (
                b"p=tls-server-end-point,,n=,r=a",
                false,
                true,
                "with SCRAM-SHA-256",
            ),
            (
                b"p=tls-unique,,n=,r=a",
                true,
                true,
                "unsupported channel binding",
            ),
            (b"n,a=bob,n=,r=a", false, false, "authorization"),
            (b"n,,m=x,n=,r=a", false, false, "mandatory"),
            (b"n,,n=,r=", false, false, "invalid client nonce"),
            (b"n,,n=,r=a\x7f", false, false, "invalid client nonce"),
            (b"n,,n=", false, false, "no nonce"),
            (b"n,,r=a", false, false, "no user name"),
            (b"n", false, false, "GS2"),
            (b"\xff,,n=,r=a", false, false, "UTF-8"),
            (b"x,,n=,r=a", false, false, "flag"),
        ] {
            let e = parse_client_first(bad, plus, offered)
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    fn exchange() -> Exchange {
        Exchange {
            user: "u".into(),
            verifier: None,
            cbind_input: b"n,,".to_vec(),
            nonce: "abcXYZ".into(),
            client_first_bare: "n=,r=abc".into(),
            server_first: "r=abcXYZ,s=c2FsdA==,i=4096".into(),
        }
    }

    #[test]
    fn client_final_rules() {
        let x = exchange();
        let proof = B64.encode([1u8; 32]);
        let good = format!("c=biws,r=abcXYZ,p={proof}");
        let (without, p) = parse_client_final(good.as_bytes(), &x).unwrap();
        assert_eq!((without, p), ("c=biws,r=abcXYZ", [1u8; 32]));
        for (bad, why) in [
            (
                format!("c=biws,r=abcXYZ,p={}", B64.encode([1u8; 31])),
                "32 bytes",
            ),
            ("c=biws,r=abcXYZ,p=***".to_string(), "base64"),
            (format!("c=biws,r=abcXYQ,p={proof}"), "nonce does not match"),
            (format!("c=biws,r=abc,p={proof}"), "nonce does not match"),
            (
                format!("c=eSws,r=abcXYZ,p={proof}"),
                "channel binding does not",
            ),
            (format!("c=#,r=abcXYZ,p={proof}"), "not base64"),
            (
                format!("c=biws,r=abcXYZ,x=1,p={proof}"),
                "unexpected attribute",
            ),
            ("c=biws,r=abcXYZ".to_string(), "no proof"),
            ("c=biws,r=ab".to_string(), "no proof"),
            (format!("r=abcXYZ,p={proof}"), "no channel binding"),
            (format!("c=biws,p={proof}"), "no nonce"),
        ] {
            let e = parse_client_final(bad.as_bytes(), &x)
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains(&proof), "the error quotes the message: {e}");
        }
    }

    /// RFC 7677 §3's example exchange, checked from the verifier alone.
    #[test]
    fn rfc7677_example_verifies_from_stored_and_server_keys() {
        let salted = pgwire::api::auth::sasl::scram::gen_salted_password(
            "pencil",
            &B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap(),
            4096,
        );
        let client_key = hmac(&salted, b"Client Key");
        let stored = sha256(&client_key);
        let server_key = hmac(&salted, b"Server Key");
        let auth = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
                    r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                    s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
                    c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let proof: [u8; 32] = B64
            .decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap()
            .try_into()
            .unwrap();
        assert!(proof_matches(&stored, auth.as_bytes(), &proof));
        let mut wrong = proof;
        wrong[0] ^= 1;
        assert!(!proof_matches(&stored, auth.as_bytes(), &wrong));
        assert_eq!(
            B64.encode(hmac(&server_key, auth.as_bytes())),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }
}
