#ifndef MARL_NN_ADAM_H_
#define MARL_NN_ADAM_H_

// LibTorch's Adam whose step() updates all of a parameter group at once with
// multi-tensor (foreach) ops. Small networks spend most of an update on
// dispatching ops: torch::optim::Adam runs about ten per parameter tensor,
// this runs about ten per group. The arithmetic and its order are Adam's,
// so the results are the same to the last bit; the state, and so the
// checkpoints, are Adam's too. AMSGrad or weight decay fall back to Adam.

#include <torch/optim/adam.h>

namespace marl {
namespace nn {

class ForeachAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_ADAM_H_
