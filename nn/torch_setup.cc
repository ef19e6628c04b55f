#include "nn/torch_setup.h"

#include <torch/torch.h>

#include <mutex>

namespace marl {
namespace nn {

void UseOneThreadPerProcess() {
  static std::once_flag once;
  std::call_once(once, [] { at::set_num_threads(1); });
}

}  // namespace nn
}  // namespace marl
