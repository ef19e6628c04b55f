#ifndef MARL_NN_ARCHIVE_H_
#define MARL_NN_ARCHIVE_H_

// Opaque bytes (a replay buffer, a random engine's state) inside a LibTorch
// checkpoint archive, stored as one uint8 tensor.

#include <torch/serialize.h>

#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace marl {
namespace nn {

void WriteBytes(torch::serialize::OutputArchive& archive,
                const std::string& key, absl::string_view bytes);
// False (and `bytes` untouched) if the archive has no such entry.
bool TryReadBytes(torch::serialize::InputArchive& archive,
                  const std::string& key, std::string* bytes);

// A random engine's state (replay sampling, warm-up actions).
void WriteRandomEngine(torch::serialize::OutputArchive& archive,
                       const std::string& key, const std::mt19937_64& engine);
// NOT_FOUND if the archive has no such entry (an older checkpoint),
// DATA_LOSS if it is not an engine's state; `engine` changes only on OK.
absl::Status ReadRandomEngine(torch::serialize::InputArchive& archive,
                              const std::string& key, std::mt19937_64* engine);

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_ARCHIVE_H_
