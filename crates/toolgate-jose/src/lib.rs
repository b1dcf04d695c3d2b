//! The small slice of JOSE that toolgate needs: compact JWS with RS256, RSA keys, and JWK sets.
//!
//! Why not a general JWT crate: Entra validation needs the raw header (`nonce`, `crit`, `x5t`) and
//! every claim check with its own precise reason, so toolgate parses the header itself and only
//! needs signature primitives. Verification keys are parsed once (`ParsedPublicKey`) so each
//! verification pays only for the RSA operation.

mod base64url;
mod jwk;
mod jws;
mod rsa_key;

pub use base64url::{decode as base64url_decode, encode as base64url_encode};
pub use jwk::{Jwk, JwkSet};
pub use jws::{CompactJws, JwsError, encode_compact};
pub use rsa_key::{KeyError, RsaPublicKey, RsaSigningKey};
