#ifndef MARL_RUNTIME_LEARNER_STATE_H_
#define MARL_RUNTIME_LEARNER_STATE_H_

// A learner's checkpoint state in the one layout every learner uses
// (runtime/learner_state.proto): the learner's name, the sizes it fits, and
// named parts (bytes, integers, doubles). Learners made of other learners
// (one per agent) nest their states as bytes parts. No LibTorch here:
// nn/torch_state.h adds networks, optimizers and generators.

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace marl {

namespace runtime {
class LearnerState;
class LearnerStatePart;
}  // namespace runtime

class LearnerStateWriter {
 public:
  // `learner` names the learner (its algorithm or kind); `shape` holds the
  // sizes and variants its state fits, checked by the reader.
  LearnerStateWriter(const std::string& learner,
                     absl::Span<const int64_t> shape);
  ~LearnerStateWriter();
  LearnerStateWriter(LearnerStateWriter&&) noexcept;

  LearnerStateWriter& Bytes(const std::string& name, std::string bytes);
  LearnerStateWriter& Ints(const std::string& name,
                           absl::Span<const int64_t> values);
  LearnerStateWriter& Doubles(const std::string& name,
                              absl::Span<const double> values);
  // A random engine's whole state (it goes on where it stopped).
  LearnerStateWriter& Engine(const std::string& name,
                             const std::mt19937_64& engine);
  // A model part: the state of a network, an optimizer or a learned
  // tensor, which data-parallel ranks keep identical.
  LearnerStateWriter& Model(const std::string& name, std::string bytes);
  // A model part whose bytes differ between processes that hold the same
  // state (an optimizer's archive names tensors by address): shared, but
  // left out of DigestModel.
  LearnerStateWriter& ProcessModel(const std::string& name, std::string bytes);
  // Another learner's whole state (its Finish()), e.g. one per agent.
  LearnerStateWriter& Nested(const std::string& name, std::string bytes);

  // The serialized state.
  std::string Finish() const;

 private:
  std::unique_ptr<runtime::LearnerState> state_;
};

class LearnerStateReader {
 public:
  // Parses `bytes` and checks they are `learner`'s state for `shape`:
  // DATA_LOSS for bytes that do not parse, INVALID_ARGUMENT (naming both)
  // for another learner's or another shape's state.
  static absl::StatusOr<LearnerStateReader> Open(
      const std::string& bytes, const std::string& learner,
      absl::Span<const int64_t> shape);
  ~LearnerStateReader();
  LearnerStateReader(LearnerStateReader&&) noexcept;

  bool Has(const std::string& name) const;
  // Each reads one part; DATA_LOSS naming the part when it is missing or
  // (where `count` >= 0) holds another number of values. Outputs change
  // only on OK.
  absl::Status Bytes(const std::string& name, std::string* bytes) const;
  absl::Status Ints(const std::string& name, int64_t count,
                    std::vector<int64_t>* values) const;
  absl::Status Doubles(const std::string& name, int64_t count,
                       std::vector<double>* values) const;
  absl::Status Engine(const std::string& name, std::mt19937_64* engine) const;

 private:
  explicit LearnerStateReader(std::unique_ptr<runtime::LearnerState> state);
  // The part named `name`, or null.
  const runtime::LearnerStatePart* Find(const std::string& name) const;
  absl::Status Missing(const std::string& name) const;

  std::unique_ptr<runtime::LearnerState> state_;
};

// Data-parallel ranks (training_loop.cc) share the model parts of their
// learners' states (LearnerStateWriter::Model, in nested states too).

// `own` with every model part replaced by `shared`'s part of the same name
// (rank 0's): the ranks then hold the same networks and optimizers, and
// keep their own random streams and experience. INVALID_ARGUMENT if the
// two are not states of the same learner with the same model parts.
absl::StatusOr<std::string> WithModelOf(const std::string& own,
                                        const std::string& shared);

// A digest (FNV-1a, the same in every process) of the model parts but the
// process-specific ones, in order, and how many there are.
struct ModelDigest {
  uint64_t digest = 0;
  int64_t parts = 0;
};
absl::StatusOr<ModelDigest> DigestModel(const std::string& state);

}  // namespace marl

#endif  // MARL_RUNTIME_LEARNER_STATE_H_
