#include "agents/gr2/gr2_math.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace marl {
namespace gr2 {

absl::StatusOr<std::vector<double>> PoissonLevelWeights(double lambda,
                                                        int max_level) {
  if (max_level < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max level must be >= 0, got ", max_level));
  }
  if (!std::isfinite(lambda) || lambda <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Poisson mean must be finite and > 0, got ", lambda));
  }
  // lambda^j / j! by recurrence; e^-lambda cancels in the normalisation.
  std::vector<double> w(max_level + 1);
  double term = 1.0, total = 0.0;
  for (int j = 0; j <= max_level; ++j) {
    if (j > 0) term *= lambda / j;
    w[j] = term;
    total += term;
  }
  for (double& x : w) x /= total;
  return w;
}

}  // namespace gr2
}  // namespace marl
