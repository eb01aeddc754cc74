//! Tokens and codes: random, shown once, stored only as SHA-256 hashes.

use sha2::{Digest, Sha256};

/// A device token: 32 random bytes (256 bits) as hex.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS has randomness");
    hex::encode(b)
}

/// An enrollment code: 10 characters from an alphabet without look-alikes (~50 bits).
pub fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 10];
    getrandom::fill(&mut b).expect("the OS has randomness");
    b.iter()
        .map(|x| ALPHABET[(*x as usize) % ALPHABET.len()] as char)
        .collect()
}

/// SHA-256 of a secret, hex; the only form the server keeps.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}
