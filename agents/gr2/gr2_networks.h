#ifndef MARL_AGENTS_GR2_GR2_NETWORKS_H_
#define MARL_AGENTS_GR2_GR2_NETWORKS_H_

// LibTorch parts of GR2: an ensemble MLP that holds one independent network
// per agent and evaluates all of them in one batched matrix product (ten
// agents' tiny 10-unit nets cost one call, not ten), and the auxiliary
// dominance loss. Include only from .cc files.

#include <torch/nn.h>

#include <cstdint>
#include <vector>

namespace marl {
namespace gr2 {

// n independent MLPs: x [n, B, in] -> [n, B, out]; ReLU hidden layers,
// optional tanh output. Init per member as torch::nn::Linear's default,
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), so the reference hyper-parameters keep
// their meaning. Members share nothing: the gradient of a sum of per-member
// losses is each member's own gradient.
class EnsembleMlpImpl : public torch::nn::Module {
 public:
  EnsembleMlpImpl(int64_t members, int64_t in,
                  const std::vector<int64_t>& hidden, int64_t out,
                  bool tanh_output);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::vector<torch::Tensor> weights_;  // [n, in, out]
  std::vector<torch::Tensor> biases_;   // [n, 1, out]
  bool tanh_output_;
};
TORCH_MODULE(EnsembleMlp);

// GR2's auxiliary loss in hinge form, mean over all elements:
// mean(relu(Q(s, a^i_{k-2}, a^-i_{k-1}) - Q(s, a^i_k, a^-i_{k-1}))). Zero
// when level k weakly dominates level k-2 everywhere, positive otherwise;
// its gradient pushes Q(level k) up where it is behind.
torch::Tensor LevelDominanceLoss(const torch::Tensor& q_level_k,
                                 const torch::Tensor& q_level_k_minus_2);

}  // namespace gr2
}  // namespace marl

#endif  // MARL_AGENTS_GR2_GR2_NETWORKS_H_
