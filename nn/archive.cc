#include "nn/archive.h"

#include <torch/torch.h>

#include <cstring>
#include <sstream>

namespace marl {
namespace nn {

void WriteBytes(torch::serialize::OutputArchive& archive,
                const std::string& key, absl::string_view bytes) {
  torch::Tensor t =
      torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  if (!bytes.empty())
    std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  archive.write(key, t);
}

bool TryReadBytes(torch::serialize::InputArchive& archive,
                  const std::string& key, std::string* bytes) {
  torch::Tensor t;
  if (!archive.try_read(key, t)) return false;
  t = t.to(torch::kUInt8).contiguous();
  bytes->assign(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()),
                static_cast<size_t>(t.numel()));
  return true;
}

void WriteRandomEngine(torch::serialize::OutputArchive& archive,
                       const std::string& key, const std::mt19937_64& engine) {
  std::ostringstream text;
  text << engine;
  WriteBytes(archive, key, text.str());
}

absl::Status ReadRandomEngine(torch::serialize::InputArchive& archive,
                              const std::string& key, std::mt19937_64* engine) {
  std::string bytes;
  if (!TryReadBytes(archive, key, &bytes)) {
    return absl::NotFoundError(key + ": not in the checkpoint");
  }
  std::istringstream text(bytes);
  std::mt19937_64 restored;
  if (!(text >> restored)) {
    return absl::DataLossError(key + ": not a random engine's state");
  }
  *engine = restored;
  return absl::OkStatus();
}

}  // namespace nn
}  // namespace marl
