#ifndef MARL_NN_Q_NETWORK_H_
#define MARL_NN_Q_NETWORK_H_

// Soft value and Q networks, and target-network updates.
//
// Q(s, a[, a_other]) and V(s) are MLPs on concatenated inputs. Inputs may
// carry different leading dims that broadcast (e.g. obs [B, 1, ds] with
// action particles [B, K, da]), so SVGD and PR2's opponent particles need no
// manual expand. Outputs keep a trailing 1: [..., 1].

#include <ATen/core/Generator.h>
#include <torch/nn.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "nn/mlp.h"

namespace marl {
namespace nn {

struct QNetworkOptions {
  int64_t obs_dim = 0;
  int64_t action_dim = 0;
  // Set > 0 for Q(s, a, a_other): the other agents' (joint) action, as in
  // PR2's Q(s, a^i, a^-i), MADDPG's centralised critic and ROMMEO.
  int64_t other_action_dim = 0;
  std::vector<int64_t> hidden = {100, 100};
  Activation activation = Activation::kRelu;
  double output_init_range = 0.0;  // see MakeMlp
};

// Cloneable, so ->clone() (or CloneTarget below) makes a target copy.
class QNetworkImpl : public torch::nn::Cloneable<QNetworkImpl> {
 public:
  // Initial weights from `init` (MakeMlp).
  QNetworkImpl(const QNetworkOptions& options, at::Generator& init);
  void reset() override;

  // obs [..., obs_dim], action [..., action_dim], other_action
  // [..., other_action_dim] (required iff other_action_dim > 0, else pass an
  // undefined tensor); leading dims broadcast. Returns [..., 1].
  torch::Tensor forward(const torch::Tensor& obs, const torch::Tensor& action,
                        const torch::Tensor& other_action = {});

  const QNetworkOptions& options() const { return options_; }

 private:
  QNetworkOptions options_;
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(QNetwork);

struct ValueNetworkOptions {
  int64_t obs_dim = 0;
  std::vector<int64_t> hidden = {100, 100};
  Activation activation = Activation::kRelu;
  double output_init_range = 0.0;
};

// A state value V(s) (e.g. soft V of soft Q-learning / SAC-v1). [..., 1].
class ValueNetworkImpl : public torch::nn::Cloneable<ValueNetworkImpl> {
 public:
  ValueNetworkImpl(const ValueNetworkOptions& options, at::Generator& init);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& obs);
  const ValueNetworkOptions& options() const { return options_; }

 private:
  ValueNetworkOptions options_;
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(ValueNetwork);

// Concatenates tensors along the last dim after broadcasting their leading
// dims against each other. Undefined tensors are skipped.
torch::Tensor BroadcastConcat(const std::vector<torch::Tensor>& tensors);

// target <- (1 - tau) * target + tau * source for every parameter and every
// floating-point buffer; other buffers (e.g. BatchNorm's step counters) are
// copied. Works for any two modules of the same architecture (matched by
// name; throws on a mismatch). tau = 1 is a hard copy. No autograd.
void PolyakUpdate(torch::nn::Module& target, const torch::nn::Module& source,
                  double tau);
// target <- source (parameters and buffers).
void HardUpdate(torch::nn::Module& target, const torch::nn::Module& source);
// Turns off requires_grad on every parameter (for target networks, so an
// optimizer or a stray backward never touches them).
void Freeze(torch::nn::Module& module);

// A frozen deep copy of a module holder whose Impl is Cloneable (QNetwork,
// ValueNetwork, TanhGaussianPolicy, CategoricalPolicy, Sequential, ...):
//   QNetwork q_target = CloneTarget(q);
template <typename Holder>
Holder CloneTarget(const Holder& source) {
  auto copy = std::dynamic_pointer_cast<typename Holder::ContainedType>(
      source->clone());
  Holder target(copy);
  Freeze(*target);
  return target;
}

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_Q_NETWORK_H_
