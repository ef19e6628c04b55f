#ifndef MARL_AGENTS_SOFT_OPTION_OPTION_ACTING_H_
#define MARL_AGENTS_SOFT_OPTION_OPTION_ACTING_H_

// How a soft-option agent picks the option it acts with (the acting rule
// above thesis eq. 4.1), kept per acting stream: each stream's copies
// remember their last option, so evaluation episodes never disturb the
// training copies' options. Shared by the single-agent learner and each
// agent of the communicating one. LibTorch header: include from .cc files
// and tests.

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/joint_learner.h"

namespace marl {
namespace soft_option {

class OptionActing {
 public:
  explicit OptionActing(int num_options) : m_(num_options) {}

  // The options of the n copies of an Act call on `stream`: per copy, an
  // episode's first step (first[c]) terminates; else the copy's previous
  // option on the stream terminates with probability termination[c, z']
  // ([n, m]); on termination the master draws from master[c] ([n, m]),
  // else the option stays. greedy: choices are the most likely ones and
  // draw nothing from `generator` (evaluations leave training alone).
  // Probe calls keep no state; training calls count for Metrics.
  const std::vector<int64_t>& Choose(ActingStream stream,
                                     const std::vector<bool>& first,
                                     const torch::Tensor& termination,
                                     const torch::Tensor& master, bool greedy,
                                     at::Generator& generator);

  // The options of the last Choose.
  const std::vector<int64_t>& options() const { return options_; }

  // The outputs of each copy's option (of the last Choose) from a network
  // with one head of `width` outputs per option: [n, m * width] -> [n,
  // width].
  torch::Tensor AtChosen(const torch::Tensor& heads, int64_t width) const;

  // Counted on the training stream: termination_rate (the share of steps
  // that could keep their option where it ended), mean_option_length (its
  // inverse), option_<z>_share.
  void AppendMetrics(std::vector<std::pair<std::string, double>>* out) const;

 private:
  int m_;
  std::map<int, std::vector<int64_t>> previous_;  // per stream; -1: none
  std::vector<int64_t> options_;
  int64_t steps_ = 0, ends_ = 0, acts_ = 0;
  std::vector<int64_t> uses_;
};

}  // namespace soft_option
}  // namespace marl

#endif  // MARL_AGENTS_SOFT_OPTION_OPTION_ACTING_H_
