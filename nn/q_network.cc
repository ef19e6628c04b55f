#include "nn/q_network.h"

#include <ATen/ExpandUtils.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace marl {
namespace nn {

torch::Tensor BroadcastConcat(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> defined;
  for (const torch::Tensor& t : tensors) {
    if (t.defined()) defined.push_back(t);
  }
  TORCH_CHECK(!defined.empty(), "BroadcastConcat: no tensors");
  std::vector<int64_t> lead = defined[0].sizes().vec();
  lead.pop_back();
  for (size_t i = 1; i < defined.size(); ++i) {
    TORCH_CHECK(defined[i].dim() >= 1, "BroadcastConcat: need dim >= 1");
    std::vector<int64_t> other = defined[i].sizes().vec();
    other.pop_back();
    lead = at::infer_size(lead, other);
  }
  std::vector<torch::Tensor> expanded;
  for (const torch::Tensor& t : defined) {
    std::vector<int64_t> shape = lead;
    shape.push_back(t.size(-1));
    expanded.push_back(t.expand(shape));
  }
  return torch::cat(expanded, -1);
}

QNetworkImpl::QNetworkImpl(const QNetworkOptions& options, at::Generator& init)
    : options_(options) {
  reset();
  InitializeMlp(mlp_, init, options_.output_init_range);
}

void QNetworkImpl::reset() {
  mlp_ = register_module(
      "mlp",
      MakeMlpLayers(
          options_.obs_dim + options_.action_dim + options_.other_action_dim,
          options_.hidden, 1, options_.activation, Activation::kNone));
}

torch::Tensor QNetworkImpl::forward(const torch::Tensor& obs,
                                    const torch::Tensor& action,
                                    const torch::Tensor& other_action) {
  TORCH_CHECK(other_action.defined() == (options_.other_action_dim > 0),
              "QNetwork: other_action must be given iff other_action_dim > 0");
  return mlp_->forward(BroadcastConcat({obs, action, other_action}));
}

ValueNetworkImpl::ValueNetworkImpl(const ValueNetworkOptions& options,
                                   at::Generator& init)
    : options_(options) {
  reset();
  InitializeMlp(mlp_, init, options_.output_init_range);
}

void ValueNetworkImpl::reset() {
  mlp_ = register_module("mlp",
                         MakeMlpLayers(options_.obs_dim, options_.hidden, 1,
                                       options_.activation, Activation::kNone));
}

torch::Tensor ValueNetworkImpl::forward(const torch::Tensor& obs) {
  return mlp_->forward(obs);
}

namespace {

// Applies fn(target_tensor, source_tensor, is_parameter) over tensors matched
// by name. Matching by name (not position) catches architecture mismatches.
template <typename Fn>
void ForEachPair(torch::nn::Module& target, const torch::nn::Module& source,
                 Fn fn) {
  torch::NoGradGuard no_grad;
  auto source_params = source.named_parameters();
  auto target_params = target.named_parameters();
  TORCH_CHECK(source_params.size() == target_params.size(),
              "Polyak/HardUpdate: parameter count differs");
  for (auto& item : target_params) {
    const torch::Tensor* s = source_params.find(item.key());
    TORCH_CHECK(s != nullptr && s->sizes() == item.value().sizes(),
                "Polyak/HardUpdate: no matching source parameter ", item.key());
    fn(item.value(), *s, true);
  }
  auto source_buffers = source.named_buffers();
  auto target_buffers = target.named_buffers();
  TORCH_CHECK(source_buffers.size() == target_buffers.size(),
              "Polyak/HardUpdate: buffer count differs");
  for (auto& item : target_buffers) {
    const torch::Tensor* s = source_buffers.find(item.key());
    TORCH_CHECK(s != nullptr && s->sizes() == item.value().sizes(),
                "Polyak/HardUpdate: no matching source buffer ", item.key());
    fn(item.value(), *s, false);
  }
}

}  // namespace

void PolyakUpdate(torch::nn::Module& target, const torch::nn::Module& source,
                  double tau) {
  // The floating-point tensors move together: two multi-tensor ops instead
  // of two per tensor (the same arithmetic, t = t (1 - tau) + tau s).
  std::vector<torch::Tensor> targets, sources;
  ForEachPair(target, source,
              [&](torch::Tensor t, const torch::Tensor& s, bool) {
                if (t.is_floating_point()) {
                  targets.push_back(t);
                  sources.push_back(s);
                } else {
                  t.copy_(s);
                }
              });
  if (targets.empty()) return;
  torch::NoGradGuard no_grad;
  at::_foreach_mul_(targets, 1.0 - tau);
  at::_foreach_add_(targets, sources, tau);
}

void HardUpdate(torch::nn::Module& target, const torch::nn::Module& source) {
  ForEachPair(
      target, source,
      [](torch::Tensor t, const torch::Tensor& s, bool) { t.copy_(s); });
}

void Freeze(torch::nn::Module& module) {
  for (torch::Tensor& p : module.parameters()) p.set_requires_grad(false);
}

}  // namespace nn
}  // namespace marl
