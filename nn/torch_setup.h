#ifndef MARL_NN_TORCH_SETUP_H_
#define MARL_NN_TORCH_SETUP_H_

// LibTorch's process-wide state, touched in one place.

namespace marl {
namespace nn {

// Small networks run on one intra-op thread: faster at these sizes, and
// results do not depend on the machine's core count. Applied once per
// process; later calls do nothing.
void UseOneThreadPerProcess();

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_TORCH_SETUP_H_
