#include "agents/soft_option/option_acting.h"

#include "absl/strings/str_cat.h"
#include "agents/soft_option/soft_option_losses.h"

namespace marl {
namespace soft_option {

const std::vector<int64_t>& OptionActing::Choose(
    ActingStream stream, const std::vector<bool>& first,
    const torch::Tensor& termination, const torch::Tensor& master, bool greedy,
    at::Generator& generator) {
  const int64_t n = static_cast<int64_t>(first.size());
  std::vector<int64_t>& previous = previous_[static_cast<int>(stream)];
  if (static_cast<int64_t>(previous.size()) != n) previous.assign(n, -1);
  const torch::Tensor uniforms =
      greedy ? torch::zeros({n, 2}) : torch::rand({n, 2}, generator);
  std::vector<bool> terminated;
  options_ = SelectOptions(previous, first, termination, master, uniforms,
                           greedy, &terminated);
  if (stream == ActingStream::kProbe) return options_;  // keeps no state
  previous = options_;
  if (stream != ActingStream::kTrain) return options_;
  if (uses_.empty()) uses_.assign(m_, 0);
  for (int64_t c = 0; c < n; ++c) {
    ++uses_[options_[c]];
    ++acts_;
    if (first[c]) continue;
    ++steps_;
    ends_ += terminated[c];
  }
  return options_;
}

torch::Tensor OptionActing::AtChosen(const torch::Tensor& heads,
                                     int64_t width) const {
  const int64_t n = heads.size(0);
  const torch::Tensor option =
      torch::tensor(options_, torch::kInt64).view({n, 1, 1});
  return heads.view({n, m_, width})
      .gather(1, option.expand({n, 1, width}))
      .squeeze(1);
}

void OptionActing::AppendMetrics(
    std::vector<std::pair<std::string, double>>* out) const {
  if (steps_ > 0) {
    const double rate = static_cast<double>(ends_) / steps_;
    out->emplace_back("termination_rate", rate);
    if (rate > 0) out->emplace_back("mean_option_length", 1.0 / rate);
  }
  for (int z = 0; z < m_ && !uses_.empty(); ++z) {
    out->emplace_back(absl::StrCat("option_", z, "_share"),
                      static_cast<double>(uses_[z]) / acts_);
  }
}

}  // namespace soft_option
}  // namespace marl
