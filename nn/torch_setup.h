#ifndef MARL_NN_TORCH_SETUP_H_
#define MARL_NN_TORCH_SETUP_H_

// LibTorch's process-wide state, touched in one place.

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace marl {
namespace nn {

// Small networks run on one intra-op thread: faster at these sizes, and
// results do not depend on the machine's core count. Applied once per
// process; later calls do nothing.
void UseOneThreadPerProcess();

// Network constructors draw their initial weights from LibTorch's global
// generator. Within this scope that generator is seeded with `seed`; its
// state is put back when the scope ends. So a learner's initial weights
// depend on its own seed only, and nothing else sees the draws. Not for
// concurrent use from several threads (the loop builds learners on one).
class ScopedInitSeed {
 public:
  explicit ScopedInitSeed(uint64_t seed);
  ~ScopedInitSeed();
  ScopedInitSeed(const ScopedInitSeed&) = delete;
  ScopedInitSeed& operator=(const ScopedInitSeed&) = delete;

 private:
  at::Generator generator_;
  at::Tensor saved_state_;
};

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_TORCH_SETUP_H_
