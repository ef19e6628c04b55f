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

}  // namespace marl

#endif  // MARL_RUNTIME_LEARNER_STATE_H_
