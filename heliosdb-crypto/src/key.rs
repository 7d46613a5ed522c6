//! [`SecretKey`]: a 256-bit key that is wiped on drop and never printed, with
//! a constant-time hex codec.

use std::fmt;

use secrecy::{ExposeSecret, SecretBox};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::KEY_LEN;

/// A 256-bit secret key (a KEK or a DEK).
///
/// The bytes live on the heap in a [`secrecy::SecretBox`] and are zeroized
/// when the key is dropped. Read them only through
/// [`expose_secret`](Self::expose_secret), so that every use is one grep away.
///
/// Deliberately missing: `Display`, `Serialize`, `PartialEq` (use the
/// constant-time [`ConstantTimeEq`]) and `Clone` (use
/// [`clone_secret`](Self::clone_secret), which is explicit about making a
/// second copy). `Debug` prints `SecretKey([REDACTED])`.
pub struct SecretKey(SecretBox<[u8; KEY_LEN]>);

impl SecretKey {
    /// Takes ownership of 32 key bytes.
    ///
    /// The bytes are copied into the heap box and this function's copy is
    /// zeroized; the caller's own copy (arrays are `Copy`) is theirs to wipe.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let mut bytes = bytes;
        let key = Self(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            *k = bytes;
        }));
        zeroize::Zeroize::zeroize(&mut bytes);
        key
    }

    /// Copies a key out of a slice; `None` unless it is exactly
    /// [`KEY_LEN`] (32) bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != KEY_LEN {
            return None;
        }
        Some(Self(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            k.copy_from_slice(bytes);
        })))
    }

    /// Parses a key written as 64 hex digits (either case).
    ///
    /// Whitespace around the key, such as the newline at the end of a key
    /// file, is ignored. The digits are decoded in constant time straight
    /// into the zeroizing heap box, so no intermediate copy of the key is
    /// left behind; the input string itself belongs to the caller.
    ///
    /// # Errors
    ///
    /// * [`Error::HexLength`] with the number of characters (after trimming)
    ///   if that is not 64: "Hex key must be 64 characters (32 bytes), got N".
    /// * [`Error::HexDigits`] if any character is not a hex digit.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let hex = hex.trim();
        let chars = hex.chars().count();
        if chars != 2 * KEY_LEN {
            return Err(Error::HexLength(chars));
        }
        // 64 characters but more than 64 bytes: something non-ASCII, which
        // cannot be a hex digit.
        let digits: &[u8; 2 * KEY_LEN] = hex.as_bytes().try_into().map_err(|_| Error::HexDigits)?;

        let mut valid = Choice::from(1);
        let key = SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            valid = decode_hex_ct(digits, k);
        });
        // A rejected key is dropped (and so wiped) here.
        if bool::from(valid) {
            Ok(Self(key))
        } else {
            Err(Error::HexDigits)
        }
    }

    /// Generates a fresh random key from the operating system's RNG
    /// (`getrandom`).
    ///
    /// # Errors
    ///
    /// [`Error::Rng`] if the operating system cannot supply random bytes.
    pub fn generate() -> Result<Self> {
        let mut filled = Ok(());
        let key = SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            filled = crate::nonce::fill_random(k);
        });
        filled.map(|()| Self(key))
    }

    /// The key bytes. Every call site is a place where the secret leaves its
    /// box; keep them few and do not copy the result into unprotected memory.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        self.0.expose_secret()
    }

    /// The key as 64 lowercase hex digits, in a string that is zeroized when
    /// dropped. Encoded in constant time into a buffer allocated once at its
    /// final size, so no partial copy is left in freed memory.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(2 * KEY_LEN));
        for &byte in self.expose_secret() {
            out.push(char::from(encode_nibble_ct(byte >> 4)));
            out.push(char::from(encode_nibble_ct(byte & 0x0f)));
        }
        out
    }

    /// Makes a second, independent copy of the key (wiped on drop like the
    /// first). Named explicitly instead of implementing `Clone` so that
    /// copies of key material are deliberate and easy to find.
    pub fn clone_secret(&self) -> Self {
        Self(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            k.copy_from_slice(self.expose_secret());
        }))
    }
}

impl ConstantTimeEq for SecretKey {
    /// Compares two keys without a data-dependent early exit.
    fn ct_eq(&self, other: &Self) -> Choice {
        self.expose_secret().ct_eq(other.expose_secret())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

/// Decodes 64 hex digits into `out` without branches or table lookups that
/// depend on the digits, returning whether all of them were valid.
///
/// The usual `match` on each character would leak the key's digits through
/// branch timing; this follows the arithmetic approach of libsodium's
/// `sodium_hex2bin` and RustCrypto's `base16ct`.
fn decode_hex_ct(digits: &[u8; 2 * KEY_LEN], out: &mut [u8; KEY_LEN]) -> Choice {
    let mut invalid: i16 = 0;
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = decode_nibble_ct(pair[0]);
        let lo = decode_nibble_ct(pair[1]);
        // Each nibble is 0..=15 when valid and -1 when not; only -1 has bits
        // above the low four.
        invalid |= (hi | lo) & !0x0f;
        // The truncating cast is lossless for valid digits (0..=255); for
        // invalid ones the byte is garbage and the whole key is rejected.
        *byte = ((hi << 4) | (lo & 0x0f)) as u8;
    }
    Choice::from(u8::from(invalid == 0))
}

/// One hex digit to its value 0..=15, or -1 if `c` is not a hex digit; no
/// branches on `c`.
fn decode_nibble_ct(c: u8) -> i16 {
    let c = i16::from(c);
    // `(lo_exclusive - c) & (c - hi_exclusive)` is negative exactly when c
    // lies strictly between the two bounds; shifting right by 8 turns that
    // sign into an all-ones or all-zeros mask.
    let mut value: i16 = -1;
    // '0'..='9' (0x30..=0x39): add c - 0x30 + 1.
    value += (((0x2f - c) & (c - 0x3a)) >> 8) & (c - 0x2f);
    // 'A'..='F' (0x41..=0x46): add c - 0x41 + 10 + 1.
    value += (((0x40 - c) & (c - 0x47)) >> 8) & (c - 0x36);
    // 'a'..='f' (0x61..=0x66): add c - 0x61 + 10 + 1.
    value += (((0x60 - c) & (c - 0x67)) >> 8) & (c - 0x56);
    value
}

/// A value 0..=15 to its lowercase hex digit, with no branch on the value.
fn encode_nibble_ct(n: u8) -> u8 {
    let n = i16::from(n);
    // For n > 9, (9 - n) >> 8 is all ones and adds the gap from ':' to 'a'.
    let c = 0x30 + n + (((9 - n) >> 8) & (i16::from(b'a') - 0x3a));
    // Always 0x30..=0x66, so the cast is lossless.
    c as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn counting_bytes() -> [u8; 32] {
        core::array::from_fn(|i| u8::try_from(i).unwrap())
    }

    #[test]
    fn nibble_decoder_matches_reference_for_every_byte() {
        for c in 0..=255u8 {
            let expected = char::from(c)
                .to_digit(16)
                .map_or(-1, |d| i16::try_from(d).unwrap());
            assert_eq!(decode_nibble_ct(c), expected, "byte {c:#04x}");
        }
    }

    #[test]
    fn nibble_encoder_matches_reference() {
        for n in 0..16u8 {
            let expected = char::from_digit(u32::from(n), 16).unwrap();
            assert_eq!(char::from(encode_nibble_ct(n)), expected);
        }
    }

    #[test]
    fn hex_round_trip() {
        let key = SecretKey::from_hex(HEX).unwrap();
        assert_eq!(key.expose_secret(), &counting_bytes());
        assert_eq!(key.to_hex().as_str(), HEX);
    }

    #[test]
    fn hex_accepts_uppercase_and_surrounding_whitespace() {
        let upper = format!("  {}\n", HEX.to_uppercase());
        let key = SecretKey::from_hex(&upper).unwrap();
        assert_eq!(key.expose_secret(), &counting_bytes());
        let key = SecretKey::from_hex(&format!("{HEX}\r\n")).unwrap();
        assert_eq!(key.expose_secret(), &counting_bytes());
    }

    #[test]
    fn hex_of_63_characters_reports_tutorial_message() {
        let err = SecretKey::from_hex(&HEX[..63]).unwrap_err();
        assert!(matches!(err, Error::HexLength(63)));
        assert_eq!(
            err.to_string(),
            "Hex key must be 64 characters (32 bytes), got 63"
        );
        assert!(matches!(
            SecretKey::from_hex(&format!("{HEX}0")),
            Err(Error::HexLength(65))
        ));
        assert!(matches!(SecretKey::from_hex(""), Err(Error::HexLength(0))));
        assert!(matches!(
            SecretKey::from_hex("  \n"),
            Err(Error::HexLength(0))
        ));
    }

    #[test]
    fn hex_with_a_bad_digit_is_rejected_wherever_it_is() {
        for pos in 0..64 {
            for bad in ['g', 'G', 'x', ' ', '/', ':', '@', '`', 'z'] {
                let mut s = HEX.to_string();
                s.replace_range(pos..=pos, &bad.to_string());
                if s.trim().chars().count() != 64 {
                    // A space at either end is trimmed away: a length error.
                    continue;
                }
                assert!(
                    matches!(SecretKey::from_hex(&s), Err(Error::HexDigits)),
                    "{bad:?} at {pos}"
                );
            }
        }
    }

    #[test]
    fn hex_with_non_ascii_counts_characters_not_bytes() {
        // 63 digits and one two-byte character: 64 characters, 65 bytes.
        let s = format!("{}é", &HEX[..63]);
        assert!(matches!(SecretKey::from_hex(&s), Err(Error::HexDigits)));
        // 64 digits and one more character: the count in characters.
        let s = format!("{HEX}é");
        assert!(matches!(SecretKey::from_hex(&s), Err(Error::HexLength(65))));
    }

    #[test]
    fn from_slice_requires_exactly_32_bytes() {
        let bytes = counting_bytes();
        assert!(SecretKey::from_slice(&bytes[..31]).is_none());
        assert!(SecretKey::from_slice(&[0u8; 33]).is_none());
        let key = SecretKey::from_slice(&bytes).unwrap();
        assert_eq!(key.expose_secret(), &bytes);
        assert_eq!(SecretKey::from_bytes(bytes).expose_secret(), &bytes);
    }

    #[test]
    fn generated_keys_differ_and_clones_match() {
        let a = SecretKey::generate().unwrap();
        let b = SecretKey::generate().unwrap();
        assert!(!bool::from(a.ct_eq(&b)));
        let c = a.clone_secret();
        assert!(bool::from(a.ct_eq(&c)));
        assert_eq!(a.expose_secret(), c.expose_secret());
    }

    #[test]
    fn debug_is_redacted() {
        let key = SecretKey::from_hex(HEX).unwrap();
        assert_eq!(format!("{key:?}"), "SecretKey([REDACTED])");
        assert_eq!(format!("{key:#?}"), "SecretKey([REDACTED])");
    }
}
