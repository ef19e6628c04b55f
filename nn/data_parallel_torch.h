#ifndef MARL_NN_DATA_PARALLEL_TORCH_H_
#define MARL_NN_DATA_PARALLEL_TORCH_H_

// The LibTorch side of nn/data_parallel.h. A LibTorch header: include it
// from .cc files.

#include <torch/types.h>

#include <vector>

#include "absl/status/status.h"
#include "nn/data_parallel.h"

namespace marl {
namespace nn {

// Replaces each parameter's gradient with its mean over the group's ranks,
// with one all-reduce over one flat float buffer holding every gradient. A
// parameter without a gradient counts as a zero gradient and gets one
// (zeros if no rank had one), so every rank updates the same parameters.
// Every rank must pass the same parameters (shapes, order). INVALID_ARGUMENT
// for a sparse or non-CPU gradient (on every rank alike, before any
// communication); a communication failure leaves the gradients unchanged.
absl::Status AverageGradients(DataParallelGroup& group,
                              const std::vector<torch::Tensor>& params);

// For optimizers: AverageGradients over the default group, if one with more
// than one rank is installed. Returns false when the update must be
// skipped: this average or an earlier one failed (recorded in
// DataParallelStatus()).
bool AverageGradientsOverDefaultGroup(const std::vector<torch::Tensor>& params);

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_DATA_PARALLEL_TORCH_H_
