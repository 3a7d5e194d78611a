//! What the unit tests share: the seeded generator for random test values.

use rand::SeedableRng;

/// The generator for one test, and its seed: printed (so a failing test shows it) and
/// replayable with `LEAKSWEEP_TEST_SEED`.
pub fn seeded() -> (rand::rngs::StdRng, u64) {
    let seed = std::env::var("LEAKSWEEP_TEST_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(rand::random);
    eprintln!("random test values: LEAKSWEEP_TEST_SEED={seed}");
    (rand::rngs::StdRng::seed_from_u64(seed), seed)
}
