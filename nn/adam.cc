#include "nn/adam.h"

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nn/data_parallel.h"
#include "nn/data_parallel_torch.h"

namespace marl {
namespace nn {

torch::Tensor ForeachAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = {};
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  // Data-parallel runs average the gradients over the ranks first: one
  // collective for all groups. A failed average cannot be returned and must
  // not throw (learners let no exception escape; one escaping would abort
  // the process): it is recorded in DataParallelStatus(), which the
  // training loop checks after each learner call, and the update is
  // skipped, on this and every later step, so this rank never updates on
  // its own gradients.
  if (DefaultDataParallelGroup() != nullptr) {
    std::vector<torch::Tensor> all_params;
    for (const auto& group : param_groups_) {
      all_params.insert(all_params.end(), group.params().begin(),
                        group.params().end());
    }
    if (!AverageGradientsOverDefaultGroup(all_params)) return loss;
  }
  // Decided for all groups before any update, so none is updated twice.
  for (auto& group : param_groups_) {
    auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
    if (options.amsgrad() || options.weight_decay() != 0) {
      // Not on our fast path. The closure has run (and the gradients are
      // averaged): Adam must not run it again.
      torch::optim::Adam::step();
      return loss;
    }
  }
  for (auto& group : param_groups_) {
    auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
    const double beta1 = std::get<0>(options.betas());
    const double beta2 = std::get<1>(options.betas());
    // Parameters with the same step count share their bias corrections:
    // one foreach pass per count (normally there is one).
    std::map<int64_t, std::vector<torch::Tensor>> params, grads, avgs, sqs;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      TORCH_CHECK(!p.grad().is_sparse(), "ForeachAdam: sparse gradient");
      const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto found = state_.find(key);
      if (found == state_.end()) {
        auto state = std::make_unique<torch::optim::AdamParamState>();
        state->step(0);
        state->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        state->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        found = state_.emplace(key, std::move(state)).first;
      }
      auto& state = static_cast<torch::optim::AdamParamState&>(*found->second);
      state.step(state.step() + 1);
      params[state.step()].push_back(p);
      grads[state.step()].push_back(p.grad());
      avgs[state.step()].push_back(state.exp_avg());
      sqs[state.step()].push_back(state.exp_avg_sq());
    }
    for (auto& [step, ps] : params) {
      const double bias_correction1 = 1 - std::pow(beta1, step);
      const double bias_correction2 = 1 - std::pow(beta2, step);
      std::vector<torch::Tensor>& g = grads[step];
      std::vector<torch::Tensor>& exp_avg = avgs[step];
      std::vector<torch::Tensor>& exp_avg_sq = sqs[step];
      // exp_avg.mul_(beta1).add_(grad, 1 - beta1)
      at::_foreach_mul_(exp_avg, beta1);
      at::_foreach_add_(exp_avg, g, 1 - beta1);
      // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
      at::_foreach_mul_(exp_avg_sq, beta2);
      at::_foreach_addcmul_(exp_avg_sq, g, g, 1 - beta2);
      // denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps)
      std::vector<torch::Tensor> denom = at::_foreach_sqrt(exp_avg_sq);
      at::_foreach_div_(denom, std::sqrt(bias_correction2));
      at::_foreach_add_(denom, options.eps());
      // p.addcdiv_(exp_avg, denom, -lr / bias_correction1)
      at::_foreach_addcdiv_(ps, exp_avg, denom,
                            -options.lr() / bias_correction1);
    }
  }
  return loss;
}

}  // namespace nn
}  // namespace marl
