#ifndef MARL_LEARNERS_TORCH_STATE_H_
#define MARL_LEARNERS_TORCH_STATE_H_

// A learner's LibTorch parts in its checkpoint state (runtime/learner_state.h):
// each network and optimizer as a bytes part holding LibTorch's own archive
// of it, each generator as its state, each loose tensor (a learned
// temperature) as its values; named "module/<key>", "optimizer/<key>",
// "generator/<key>" and "tensor/<key>". A LibTorch header: include it from
// .cc files.

#include <ATen/core/Generator.h>
#include <torch/nn.h>
#include <torch/optim.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "runtime/learner_state.h"

namespace marl {

struct TorchParts {
  std::vector<std::pair<std::string, torch::nn::Module*>> modules;
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers;
  std::vector<std::pair<std::string, at::Generator*>> generators;
  // Restored in place (copied into the existing tensor, without grad).
  std::vector<std::pair<std::string, torch::Tensor*>> tensors;
};

// Adds every part to `writer`; INTERNAL if LibTorch fails to save one.
absl::Status WriteTorchParts(const TorchParts& parts,
                             LearnerStateWriter* writer);

// Restores every part from `reader`; DATA_LOSS naming the part when it is
// missing or LibTorch cannot load it into the learner's (same-shaped)
// networks. Parts restored before a failure stay restored: the caller
// discards a learner that failed to load.
absl::Status ReadTorchParts(const LearnerStateReader& reader,
                            const TorchParts& parts);

}  // namespace marl

#endif  // MARL_LEARNERS_TORCH_STATE_H_
