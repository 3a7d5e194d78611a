//! Which bytes of a 64-byte block are in the standard base64 alphabet (`A-Z`, `a-z`, `0-9`, `+`,
//! `/`), as one bit per byte: the inner step of the decode pass, which runs over every byte the
//! scanner reads. On x86-64 it takes four 16-byte SSE2 compares and a byte-mask move per 16 bytes;
//! elsewhere eight bytes at a time in a 64-bit word.
//!
//! The only `unsafe` of the crate is here: the call of a function compiled for SSE2, which is part
//! of every x86-64 processor (the x86-64 baseline; `cfg(target_feature = "sse2")` checks that the
//! build targets it). The function itself reads its input through a safe slice.

#![allow(unsafe_code)]

/// Bit `i` set where `block[i]` is in the standard base64 alphabet.
pub(crate) fn b64_mask64(block: &[u8; 64]) -> u64 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: SSE2 is enabled for the whole build (the cfg above), so the processor the
        // binary runs on has it; the function has no other precondition.
        unsafe { sse2::mask64(block) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        portable_mask64(block)
    }
}

/// The same mask, eight bytes at a time in a 64-bit word (the reference, and the path of targets
/// without SSE2).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
pub(crate) fn portable_mask64(block: &[u8; 64]) -> u64 {
    let mut mask = 0u64;
    for (i, w) in block.chunks_exact(8).enumerate() {
        let high = b64_high_bits(u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
        // Gathers the eight high bits, byte j's to bit j: each lands alone in the top byte.
        let packed = (high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= packed << (8 * i);
    }
    mask
}

/// The high bit of each byte of `w` set where that byte is in the standard base64 alphabet, all
/// other bits clear: three range tests on all eight bytes at once. A byte of 0x80 or more is
/// never in it; below that, adding `0x80 - lo` to a byte sets its high bit exactly when it is at
/// least `lo`, and adding `0x7f - hi` leaves it clear exactly when it is at most `hi` (no sum
/// carries into the next byte).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn b64_high_bits(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = w & !HIGH;
    let within = |x: u64, lo: u64, hi: u64| {
        x.wrapping_add(ONES * (0x80 - lo)) & !x.wrapping_add(ONES * (0x7f - hi))
    };
    let letters = within(low | (ONES * 0x20), b'a' as u64, b'z' as u64);
    let slash_digits = within(low, b'/' as u64, b'9' as u64);
    let plus = within(low, b'+' as u64, b'+' as u64);
    (letters | slash_digits | plus) & !w & HIGH
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::*;

    /// A range test on 16 bytes: 0xff where `lo <= b <= lo + len - 1` (unsigned). Adding
    /// `0x80 - lo` moves the range to the bottom of the signed bytes, where one signed compare
    /// tests it.
    #[target_feature(enable = "sse2")]
    fn within(v: __m128i, lo: u8, len: u8) -> __m128i {
        let shifted = _mm_add_epi8(v, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
        _mm_cmplt_epi8(shifted, _mm_set1_epi8(0x80u8.wrapping_add(len) as i8))
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn mask64(block: &[u8; 64]) -> u64 {
        let mut mask = 0u64;
        for (i, c) in block.chunks_exact(16).enumerate() {
            let word = |k: usize| i64::from_le_bytes(c[k..k + 8].try_into().unwrap_or([0; 8]));
            let v = _mm_set_epi64x(word(8), word(0));
            let letters = within(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', 26);
            let slash_digits = within(v, b'/', 11);
            let plus = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'+' as i8));
            let all = _mm_or_si128(_mm_or_si128(letters, slash_digits), plus);
            mask |= u64::from(_mm_movemask_epi8(all) as u16) << (16 * i);
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// The mask by the decode pass's byte table, one byte at a time: the class the block search
    /// must agree with.
    fn by_bytes(block: &[u8; 64]) -> u64 {
        let table = &crate::scan::decode::STD_B64;
        block
            .iter()
            .enumerate()
            .fold(0, |m, (i, &b)| m | u64::from(table[b as usize]) << i)
    }

    #[test]
    fn every_byte_value_at_every_position() {
        for b in 0..=255u8 {
            for at in 0..64 {
                let mut block = [b'.'; 64];
                block[at] = b;
                assert_eq!(
                    b64_mask64(&block),
                    by_bytes(&block),
                    "byte {b:#04x} at {at}"
                );
                assert_eq!(
                    portable_mask64(&block),
                    by_bytes(&block),
                    "byte {b:#04x} at {at}"
                );
            }
        }
    }

    #[test]
    fn random_blocks() {
        let (mut rng, seed) = crate::testing::seeded();
        for _ in 0..20_000 {
            let mut block = [0u8; 64];
            rng.fill(&mut block[..]);
            assert_eq!(b64_mask64(&block), by_bytes(&block), "seed {seed}");
            assert_eq!(portable_mask64(&block), by_bytes(&block), "seed {seed}");
        }
    }
}
