//! Passwords and the random secrets that stand for a login.
//!
//! A password is kept twice: as an argon2id hash (what a login checks), and sealed with
//! AES-256-GCM under `secret.key` in the data dir. The sealed copy is what Subsonic's token
//! auth (`t = md5(password + salt)`) needs, which no hash can answer; Navidrome keeps its
//! passwords encrypted for the same reason. Whoever has both the database and the key file
//! has the passwords: back them up apart.
//!
//! API keys and session cookies are 256 random bits: they are looked up by their SHA-256,
//! which is enough for a secret that is not guessable (a slow hash is for passwords).

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// An argon2id hash of `password` (PHC string, with its own random salt; the crate's default
/// parameters: 19 MiB, 2 passes, as OWASP recommends).
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

/// Whether `password` matches a hash made by [`hash`]; constant-time in the comparison.
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Why a password is refused.
pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("a password needs at least {MIN_PASSWORD_LEN} characters"));
    }
    Ok(())
}

/// Seals and opens passwords with the data dir's key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Sealer {
        Sealer {
            cipher: Aes256Gcm::new(&key.into()),
        }
    }

    /// `nonce (12 bytes) || ciphertext+tag`.
    pub fn seal(&self, password: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let mut sealed = nonce.to_vec();
        sealed.extend(
            self.cipher
                .encrypt(&nonce, password.as_bytes())
                .expect("AES-GCM encrypts any short input"),
        );
        sealed
    }

    /// The password, if `sealed` was made by this key.
    pub fn open(&self, sealed: &[u8]) -> Option<String> {
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// A fresh secret: 256 random bits, base64url, with a prefix that says what it is (so a
/// leaked one is recognisable in a log or a repository).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What a secret is stored and looked up as.
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// An API key's public id: the first bytes of its digest, so it names the key without
/// revealing it.
pub fn key_id(secret: &str) -> String {
    digest(secret)[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` is Subsonic's md5(password + salt), in hex (either case), compared in
/// constant time.
pub fn token_matches(password: &str, salt: &str, token: &str) -> bool {
    use md5::Digest as _;
    let expected: String = md5::Md5::new()
        .chain_update(password.as_bytes())
        .chain_update(salt.as_bytes())
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let token = token.to_ascii_lowercase();
    expected.len() == token.len()
        && expected
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// Whether two secrets are the same, in time that tells nothing of either (their digests are
/// compared, so not even their lengths show).
pub fn same_secret(a: &str, b: &str) -> bool {
    digest(a)
        .iter()
        .zip(digest(b).iter())
        .fold(0u8, |diff, (x, y)| diff | (x ^ y))
        == 0
}

/// A password for the first admin when the server starts beyond loopback with no user.
pub fn one_time_password() -> String {
    let mut bytes = [0u8; 15];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsE", &h));
        assert!(!verify("correct horse", "not a hash"));
        assert_ne!(hash("correct horse"), h, "salted");
    }

    #[test]
    fn a_sealed_password_opens_with_its_key_only() {
        let sealer = Sealer::new([3; 32]);
        let sealed = sealer.seal("pässwörd");
        assert_eq!(sealer.open(&sealed).as_deref(), Some("pässwörd"));
        assert_eq!(Sealer::new([4; 32]).open(&sealed), None);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open(&tampered), None);
        assert_eq!(sealer.open(&[1, 2]), None);
        assert_ne!(sealer.seal("pässwörd"), sealed, "a fresh nonce each time");
    }

    #[test]
    fn secrets_are_the_same_only_when_equal() {
        assert!(same_secret("pässwörd", "pässwörd"));
        assert!(!same_secret("pässwörd", "pässwörD"));
        assert!(!same_secret("pässwörd", "pässwörd "));
        assert!(!same_secret("", "x"));
    }

    /// The example of the Subsonic API's documentation (api-reference, "Authentication").
    #[test]
    fn the_specs_token_example_matches() {
        assert!(token_matches("sesame", "c19b2d", "26719a1196d2a940705a59634eb18eab"));
        assert!(token_matches("sesame", "c19b2d", "26719A1196D2A940705A59634EB18EAB"));
        assert!(!token_matches("sesame", "c19b2e", "26719a1196d2a940705a59634eb18eab"));
        assert!(!token_matches("sesame", "c19b2d", "26719a"));
    }

    #[test]
    fn secrets_are_random_and_named_by_their_digest() {
        let (a, b) = (new_secret("aa_"), new_secret("aa_"));
        assert_ne!(a, b);
        assert!(a.starts_with("aa_") && a.len() == 3 + 43, "{a}");
        assert_eq!(key_id(&a).len(), 12);
        assert_eq!(key_id(&a), key_id(&a));
        assert!(check_strength("short").is_err());
        assert!(check_strength("long enough").is_ok());
    }
}
