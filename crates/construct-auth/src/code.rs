//! One-time pairing codes: decimal digits from the system CSPRNG, without modulo bias.

use ring::rand::{SecureRandom, SystemRandom};

use crate::token::RandomUnavailable;

/// A code of `length` decimal digits, each uniform over 0-9.
///
/// Each digit comes from one random byte; bytes of 250 and above are rejected, because 256 is not a
/// multiple of 10 and keeping them would make 0-5 slightly more likely than 6-9.
pub fn generate_code(rng: &SystemRandom, length: usize) -> Result<String, RandomUnavailable> {
    let mut code = String::with_capacity(length);
    let mut buf = [0u8; 32];
    while code.len() < length {
        rng.fill(&mut buf).map_err(|_| RandomUnavailable)?;
        for byte in buf.iter().filter(|b| **b < 250) {
            if code.len() == length {
                break;
            }
            code.push(char::from(b'0' + byte % 10));
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_length_and_only_digits() {
        let rng = SystemRandom::new();
        for length in [6, 8, 12] {
            let code = generate_code(&rng, length).unwrap();
            assert_eq!(code.len(), length);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn digits_are_roughly_uniform() {
        let rng = SystemRandom::new();
        let mut counts = [0u32; 10];
        for _ in 0..2_000 {
            for b in generate_code(&rng, 10).unwrap().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        // 20 000 digits: each expected 2 000; a biased generator or a stuck digit would be far outside.
        for (digit, count) in counts.iter().enumerate() {
            assert!((1_700..=2_300).contains(count), "digit {digit} appeared {count} times: {counts:?}");
        }
    }
}
