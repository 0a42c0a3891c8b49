//! SplitMix64: a tiny, fast, well-mixed PRNG. Used counter-style (`hash(seed, index, salt)`)
//! so any record or request can be derived on its own, in any order.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A well-mixed 64-bit value for (`seed`, `index`, `salt`).
pub(crate) fn hash(seed: u64, index: u64, salt: u64) -> u64 {
    mix(seed ^ mix(index.wrapping_mul(GOLDEN) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03)))
}

/// A uniform `f64` in `[0, 1)` from a 64-bit value.
pub(crate) fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Picks an index from integer `weights` (summing to `total`) with `roll` in `0..total`.
pub(crate) fn weighted(weights: &[u32], roll: u64) -> usize {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    let mut r = roll % total;
    for (i, &w) in weights.iter().enumerate() {
        if r < u64::from(w) {
            return i;
        }
        r -= u64::from(w);
    }
    weights.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_spread() {
        assert_eq!(hash(1, 2, 3), hash(1, 2, 3));
        assert_ne!(hash(1, 2, 3), hash(1, 3, 3));
        assert_ne!(hash(1, 2, 3), hash(2, 2, 3));
        let mean: f64 = (0..10_000).map(|i| unit(hash(7, i, 0))).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert_eq!(weighted(&[1, 0, 1], 1), 2);
    }
}
