#ifndef MARL_ENVS_CORE_RANDOM_DRAWS_H_
#define MARL_ENVS_CORE_RANDOM_DRAWS_H_

// Draws from a copy's stream (Env::rng()) built from raw bits, so that an
// environment's trajectories do not depend on the standard library's
// distribution implementations (which differ between libraries and
// versions): the same seed gives the same episode everywhere.

#include <cstdint>
#include <random>

namespace marl {

// 0 or 1, each with probability 1/2 (the stream's top bit).
inline int CoinFlip(std::mt19937_64& rng) {
  return static_cast<int>(rng() >> 63);
}

// True with probability p (clamped to [0, 1]), from one draw: the draw is
// at least (1 - p) 2^64, so at p = 1/2 it is CoinFlip() == 1.
inline bool Bernoulli(std::mt19937_64& rng, double p) {
  const uint64_t draw = rng();
  if (!(p > 0.0)) return false;
  if (p >= 1.0) return true;
  const double threshold = (1.0 - p) * 0x1.0p64;
  // 1 - p rounds to 1 for p below 2^-54: never, as near as a double says.
  if (threshold >= 0x1.0p64) return false;
  return draw >= static_cast<uint64_t>(threshold);
}

// Uniform on [0, 1), 53 random bits.
inline double UniformDouble(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Uniform on {0, ..., n - 1} for n >= 1, exactly (Lemire's multiply-shift
// with rejection of the biased low products).
inline uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n) {
  unsigned __int128 product =
      static_cast<unsigned __int128>(rng()) * static_cast<unsigned __int128>(n);
  uint64_t low = static_cast<uint64_t>(product);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      product = static_cast<unsigned __int128>(rng()) *
                static_cast<unsigned __int128>(n);
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

}  // namespace marl

#endif  // MARL_ENVS_CORE_RANDOM_DRAWS_H_
