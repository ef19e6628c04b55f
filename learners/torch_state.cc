#include "learners/torch_state.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstring>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace marl {
namespace {

// Part names by kind: a network and its optimizer may share a key.
constexpr char kModule[] = "module/";
constexpr char kOptimizer[] = "optimizer/";
constexpr char kGenerator[] = "generator/";
constexpr char kTensor[] = "tensor/";

// The bytes of a LibTorch archive that `write` fills.
template <typename Write>
std::string ArchiveBytes(Write write) {
  torch::serialize::OutputArchive archive;
  write(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

// Reads the LibTorch archive in `bytes` with `read`.
template <typename Read>
void ReadArchive(const std::string& bytes, Read read) {
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  read(archive);
}

// Every parameter's and buffer's sizes: LibTorch's Module::load replaces a
// tensor of another shape without a word, so the shapes are compared
// around it.
std::vector<std::vector<int64_t>> Shapes(const torch::nn::Module& module) {
  std::vector<std::vector<int64_t>> shapes;
  for (const torch::Tensor& t : module.parameters()) {
    shapes.push_back(t.sizes().vec());
  }
  for (const torch::Tensor& t : module.buffers()) {
    shapes.push_back(t.sizes().vec());
  }
  return shapes;
}

}  // namespace

absl::Status WriteTorchParts(const TorchParts& parts,
                             LearnerStateWriter* writer) {
  std::string name;
  try {
    for (const auto& [key, module] : parts.modules) {
      name = kModule + key;
      writer->Model(name, ArchiveBytes([&](auto& a) { module->save(a); }));
    }
    for (const auto& [key, optimizer] : parts.optimizers) {
      name = kOptimizer + key;
      writer->ProcessModel(name,
                           ArchiveBytes([&](auto& a) { optimizer->save(a); }));
    }
    for (const auto& [key, generator] : parts.generators) {
      name = kGenerator + key;
      const torch::Tensor state = generator->get_state().contiguous();
      writer->Bytes(
          name,
          std::string(reinterpret_cast<const char*>(state.data_ptr<uint8_t>()),
                      static_cast<size_t>(state.numel())));
    }
    for (const auto& [key, tensor] : parts.tensors) {
      name = kTensor + key;
      writer->Model(name, ArchiveBytes([&](auto& a) {
                      a.write("tensor", tensor->detach());
                    }));
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(
        "saving '", name, "' failed: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

absl::Status ReadTorchParts(const LearnerStateReader& reader,
                            const TorchParts& parts) {
  std::string name, bytes;
  try {
    for (const auto& [key, module] : parts.modules) {
      name = kModule + key;
      if (absl::Status s = reader.Bytes(name, &bytes); !s.ok()) return s;
      const std::vector<std::vector<int64_t>> shapes = Shapes(*module);
      ReadArchive(bytes, [&](auto& a) { module->load(a); });
      if (Shapes(*module) != shapes) {
        return absl::DataLossError(absl::StrCat(
            "checkpoint part '", name,
            "' holds a network of other sizes than this learner's"));
      }
    }
    for (const auto& [key, optimizer] : parts.optimizers) {
      name = kOptimizer + key;
      if (absl::Status s = reader.Bytes(name, &bytes); !s.ok()) return s;
      ReadArchive(bytes, [&](auto& a) { optimizer->load(a); });
    }
    for (const auto& [key, generator] : parts.generators) {
      name = kGenerator + key;
      if (absl::Status s = reader.Bytes(name, &bytes); !s.ok()) return s;
      torch::Tensor state =
          torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
      if (!bytes.empty()) {
        std::memcpy(state.data_ptr<uint8_t>(), bytes.data(), bytes.size());
      }
      generator->set_state(state);
    }
    for (const auto& [key, tensor] : parts.tensors) {
      name = kTensor + key;
      if (absl::Status s = reader.Bytes(name, &bytes); !s.ok()) return s;
      torch::Tensor value;
      ReadArchive(bytes, [&](auto& a) { a.read("tensor", value); });
      if (!value.sizes().equals(tensor->sizes())) {
        return absl::DataLossError(
            absl::StrCat("checkpoint part '", name,
                         "' holds a tensor of sizes ", c10::str(value.sizes()),
                         ", this learner's is ", c10::str(tensor->sizes())));
      }
      torch::NoGradGuard no_grad;
      tensor->copy_(value);
    }
  } catch (const c10::Error& e) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint part '", name,
        "' does not load into this learner: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

}  // namespace marl
