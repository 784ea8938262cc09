//! Password hashing with Argon2id (RFC 9106) at the argon2 crate's defaults, which match OWASP's
//! recommendation (19 MiB memory, 2 iterations, 1 lane), and generation of strong random passwords.
//!
//! Each hash gets working memory that goes back to the system when it is done
//! ([`working_memory`]): left to the crate, the 19 MiB came from the allocator's heap of whichever
//! thread hashed and stayed resident there, 19.5 MB more for every thread that ever checked a
//! password (measured on a release server: 21 MB at rest, 82 MB after four sign-ins).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Shortest password accepted for an account.
pub const MIN_LENGTH: usize = 12;
/// Longest accepted: bounds the hashing work an attacker can ask for.
pub const MAX_LENGTH: usize = 256;
/// Characters of generated passwords: no look-alikes (0/O, 1/l/I).
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Length of generated passwords: 20 characters of a 57-letter alphabet is about 116 bits.
const GENERATED_LENGTH: usize = 20;

/// Why a password was refused or could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("passwords must be {MIN_LENGTH} to {MAX_LENGTH} characters long")]
    Length,
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let length = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(PasswordError::Length);
    }
    let salt = SaltString::generate(&mut OsRng);
    argon2id(
        Algorithm::default(),
        Version::default(),
        Params::default(),
        password.as_bytes(),
        salt.as_salt(),
    )
    .map(|h| h.to_string())
    .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored hash. An unparsable hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    if password.len() > MAX_LENGTH * 4 {
        return false;
    }
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(stored).ok()?;
        let (salt, expected) = (parsed.salt?, parsed.hash?);
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        // The output length is the stored hash's.
        let params = Params::try_from(&parsed).ok()?;
        let computed = argon2id(algorithm, version, params, password.as_bytes(), salt).ok()?;
        // `Output` compares in constant time.
        Some(computed.hash? == expected)
    };
    check().unwrap_or(false)
}

/// The PHC hash of `password` with `salt` at these settings, computed in [`working_memory`].
fn argon2id<'a>(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: Salt<'a>,
) -> argon2::password_hash::Result<PasswordHash<'a>> {
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buffer)?;
    let mut memory = working_memory(params.block_count());
    let length = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(length, |out| {
        Ok(argon.hash_password_into_with_memory(password, salt_bytes, out, &mut memory)?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// Argon2's working memory (`blocks` of 1 KiB), reserved larger than glibc's largest mmap threshold
/// (32 MiB on 64-bit systems, which glibc raises towards after freeing a big block): so it is always
/// a mapping of its own, unmapped when the hash is done. Only the blocks used are ever touched, so
/// the reserve beyond them costs address space, not memory.
fn working_memory(blocks: usize) -> Vec<Block> {
    const MAPPED_BLOCKS: usize = 33 * 1024;
    let mut memory = Vec::with_capacity(blocks.max(MAPPED_BLOCKS));
    memory.resize(blocks, Block::default());
    memory
}

/// A random password for accounts created without one.
pub fn generate() -> String {
    let mut bytes = [0u8; GENERATED_LENGTH];
    // The OS random source failing is unrecoverable for a server that must issue secrets.
    getrandom::getrandom(&mut bytes).unwrap_or_else(|e| panic!("the OS random source failed: {e}"));
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let stored = hash("correct horse battery").expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$"), "{stored}");
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse battery!", &stored));
        assert_ne!(
            stored,
            hash("correct horse battery").expect("hash"),
            "salted"
        );
    }

    /// Checked against the argon2 crate's own hasher and verifier, both ways.
    #[test]
    fn hashes_agree_with_the_crates_own_implementation() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash("correct horse battery").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"correct horse battery?", &parsed)
            .is_err());
        // A hash the crate made (another salt, other settings) verifies here.
        let salt = SaltString::generate(&mut OsRng);
        let params = Params::new(8 * 1024, 3, 1, Some(24)).expect("params");
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"tr0ub4dor&3 staple", &salt)
            .expect("hash")
            .to_string();
        assert!(verify("tr0ub4dor&3 staple", &theirs));
        assert!(!verify("tr0ub4dor&3 stapler", &theirs));
        // The same salt and settings give the crate's bytes exactly.
        let again = argon2id(
            Algorithm::Argon2id,
            Version::V0x13,
            params_of(&theirs),
            b"tr0ub4dor&3 staple",
            salt.as_salt(),
        )
        .expect("hash");
        assert_eq!(again.to_string(), theirs);
    }

    fn params_of(phc: &str) -> Params {
        Params::try_from(&PasswordHash::new(phc).expect("parses")).expect("params")
    }

    #[test]
    fn working_memory_is_a_mapping_of_its_own() {
        let memory = working_memory(Params::default().block_count());
        assert_eq!(memory.len(), 19 * 1024, "the default 19 MiB");
        assert!(
            memory.capacity() * std::mem::size_of::<Block>() > 32 * 1024 * 1024,
            "over glibc's largest mmap threshold"
        );
    }

    #[test]
    fn lengths_are_bounded() {
        assert_eq!(hash("short"), Err(PasswordError::Length));
        assert_eq!(
            hash(&"x".repeat(MAX_LENGTH + 1)),
            Err(PasswordError::Length)
        );
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), GENERATED_LENGTH);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
    }
}
