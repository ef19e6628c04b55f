#include "learners/soft_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace marl {

double SoftMax(const double* x, int64_t n, double temperature) {
  return SoftMaxWithPrior(x, nullptr, n, temperature);
}

double SoftMaxWithPrior(const double* x, const double* prior, int64_t n,
                        double temperature) {
  double max_x = -std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < n; ++k) {
    if (prior == nullptr || prior[k] > 0) max_x = std::max(max_x, x[k]);
  }
  if (!std::isfinite(max_x)) return max_x;
  double total = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (prior != nullptr && !(prior[k] > 0)) continue;
    const double w = prior == nullptr ? 1.0 : prior[k];
    total += w * std::exp((x[k] - max_x) / temperature);
  }
  return max_x + temperature * std::log(total);
}

void SoftmaxPolicy(const double* x, const double* prior, const bool* mask,
                   int64_t n, double temperature, double* out) {
  auto legal = [&](int64_t k) {
    return (mask == nullptr || mask[k]) && (prior == nullptr || prior[k] > 0);
  };
  double max_x = -std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < n; ++k) {
    if (legal(k)) max_x = std::max(max_x, x[k]);
  }
  if (!std::isfinite(max_x)) {  // nothing legal with weight: uniform fallback
    int64_t count = 0;
    for (int64_t k = 0; k < n; ++k) count += (mask == nullptr || mask[k]);
    for (int64_t k = 0; k < n; ++k) {
      out[k] = count == 0                     ? 1.0 / n
               : (mask == nullptr || mask[k]) ? 1.0 / count
                                              : 0.0;
    }
    return;
  }
  double total = 0;
  for (int64_t k = 0; k < n; ++k) {
    out[k] = legal(k) ? (prior == nullptr ? 1.0 : prior[k]) *
                            std::exp((x[k] - max_x) / temperature)
                      : 0.0;
    total += out[k];
  }
  for (int64_t k = 0; k < n; ++k) out[k] /= total;
}

int64_t SampleIndex(const double* p, int64_t n, std::mt19937_64* rng) {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(*rng);
  double cumulative = 0;
  int64_t last = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (p[k] <= 0) continue;
    last = k;
    cumulative += p[k];
    if (u < cumulative) return k;
  }
  return last;  // rounding left u just above the total
}

int64_t ArgMax(const double* x, const bool* mask, int64_t n) {
  int64_t best = -1;
  for (int64_t k = 0; k < n; ++k) {
    if (mask != nullptr && !mask[k]) continue;
    if (best < 0 || x[k] > x[best]) best = k;
  }
  return best < 0 ? 0 : best;
}

}  // namespace marl
