#include "nn/torch_setup.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <mutex>

namespace marl {
namespace nn {

void UseOneThreadPerProcess() {
  static std::once_flag once;
  std::call_once(once, [] { at::set_num_threads(1); });
}

ScopedInitSeed::ScopedInitSeed(uint64_t seed)
    : generator_(at::detail::getDefaultCPUGenerator()),
      saved_state_(generator_.get_state()) {
  torch::manual_seed(seed);
}

ScopedInitSeed::~ScopedInitSeed() { generator_.set_state(saved_state_); }

}  // namespace nn
}  // namespace marl
