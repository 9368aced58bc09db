//! Signed, expiring stream tokens: `/stream/<token>` serves only what the server handed out.
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`, with
//! payload `v1|<expires unix secs>|<track id>|<variant>` (variant: the audio format chosen for
//! the client, empty when the source has one format). The key lives in the data dir; rotating it
//! invalidates every token. Checks take the clock as an input so they test without sleeping.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::model::{TrackId, Variant};

type HmacSha256 = Hmac<Sha256>;

/// The secret that signs tokens: 32 random bytes.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SigningKey(bytes)
    }

    pub fn random() -> Self {
        SigningKey(rand::random())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub track_id: TrackId,
    /// The audio variant for sources that offer several.
    pub variant: Option<Variant>,
    /// Unix seconds after which the token is refused.
    pub expires_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a stream token")]
    Malformed,
    #[error("bad signature")]
    Forged,
    #[error("expired")]
    Expired,
}

const VERSION: &str = "v1";

pub fn sign(key: &SigningKey, claims: &Claims) -> String {
    let variant = claims.variant.map_or("", Variant::as_str);
    let payload = format!("{VERSION}|{}|{}|{variant}", claims.expires_at, claims.track_id);
    let mut mac = key.mac();
    mac.update(payload.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
}

/// Checks the signature first, then expiry against `now` (unix seconds).
pub fn verify(key: &SigningKey, token: &str, now: u64) -> Result<Claims, TokenError> {
    let (payload_b64, tag_b64) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let payload = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| TokenError::Malformed)?;
    let tag = URL_SAFE_NO_PAD.decode(tag_b64).map_err(|_| TokenError::Malformed)?;
    let mut mac = key.mac();
    mac.update(&payload);
    // A token that decodes but fails the MAC was made or altered by someone without the key.
    mac.verify_slice(&tag).map_err(|_| TokenError::Forged)?;
    let payload = std::str::from_utf8(&payload).map_err(|_| TokenError::Malformed)?;
    let mut parts = payload.splitn(4, '|');
    let (Some(VERSION), Some(expires), Some(track_id), Some(variant)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    // A token signed by this key names a well-formed id and variant; one from a build that
    // named them otherwise is malformed.
    let variant = match variant {
        "" => None,
        v => Some(Variant::parse(v).ok_or(TokenError::Malformed)?),
    };
    let track_id = TrackId::parse(track_id).map_err(|_| TokenError::Malformed)?;
    let expires_at: u64 = expires.parse().map_err(|_| TokenError::Malformed)?;
    if now >= expires_at {
        return Err(TokenError::Expired);
    }
    Ok(Claims {
        track_id,
        variant,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn claims() -> Claims {
        Claims {
            track_id: TrackId::parse("abc123").unwrap(),
            variant: None,
            expires_at: 1_000,
        }
    }

    #[test]
    fn round_trip() {
        let key = SigningKey::random();
        let token = sign(&key, &claims());
        assert_eq!(verify(&key, &token, 999), Ok(claims()));
    }

    #[test]
    fn expires_at_the_deadline() {
        let key = SigningKey::random();
        let token = sign(&key, &claims());
        assert_eq!(verify(&key, &token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn another_key_is_forged() {
        let token = sign(&SigningKey::random(), &claims());
        assert_eq!(verify(&SigningKey::random(), &token, 0), Err(TokenError::Forged));
    }

    #[test]
    fn altered_payload_is_forged() {
        let key = SigningKey::random();
        let token = sign(&key, &claims());
        let (_, tag) = token.split_once('.').unwrap();
        let other = URL_SAFE_NO_PAD.encode("v1|99999999999|abc123|opus");
        assert_eq!(verify(&key, &format!("{other}.{tag}"), 0), Err(TokenError::Forged));
    }

    #[test]
    fn garbage_is_malformed() {
        let key = SigningKey::random();
        for bad in ["", "nodot", "!!!.???", "a.b.c"] {
            assert_eq!(verify(&key, bad, 0), Err(TokenError::Malformed), "{bad}");
        }
    }

    #[test]
    fn token_is_url_safe() {
        let token = sign(
            &SigningKey::random(),
            &Claims {
                track_id: TrackId::parse("yt-x_y-z").unwrap(),
                variant: Some(Variant::M4a),
                expires_at: u64::MAX,
            },
        );
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
    }

    proptest! {
        #[test]
        fn any_claims_round_trip(track_id in "[A-Za-z0-9_-]{1,64}", variant in proptest::option::of(proptest::sample::select(Variant::ALL)), expires_at in 1u64.., now in 0u64..) {
            let key = SigningKey::random();
            let c = Claims { track_id: TrackId::parse(&track_id).unwrap(), variant, expires_at };
            let got = verify(&key, &sign(&key, &c), now);
            if now < expires_at { prop_assert_eq!(got, Ok(c)); } else { prop_assert_eq!(got, Err(TokenError::Expired)); }
        }

        #[test]
        fn flipping_any_byte_breaks_the_token(pos in 0usize..200, key_bytes in any::<[u8; 32]>()) {
            let key = SigningKey::from_bytes(key_bytes);
            let token = sign(&key, &claims());
            let mut bytes = token.clone().into_bytes();
            let i = pos % bytes.len();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            prop_assume!(altered != token);
            prop_assert!(verify(&key, &altered, 0).is_err());
        }

        /// Anything in the token's place in `/stream/{token}`: an error, never a panic.
        #[test]
        fn any_string_is_refused(token in prop_oneof!["\\PC{0,120}", "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,60}"]) {
            prop_assert!(verify(&SigningKey::random(), &token, 0).is_err());
        }
    }
}
