#include "runtime/learner_state.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/learner_state.pb.h"

namespace marl {

LearnerStateWriter::LearnerStateWriter(const std::string& learner,
                                       absl::Span<const int64_t> shape)
    : state_(std::make_unique<runtime::LearnerState>()) {
  state_->set_learner(learner);
  state_->mutable_shape()->Add(shape.begin(), shape.end());
}

LearnerStateWriter::~LearnerStateWriter() = default;
LearnerStateWriter::LearnerStateWriter(LearnerStateWriter&&) noexcept = default;

LearnerStateWriter& LearnerStateWriter::Bytes(const std::string& name,
                                              std::string bytes) {
  runtime::LearnerStatePart* part = state_->add_parts();
  part->set_name(name);
  part->set_bytes(std::move(bytes));
  return *this;
}

LearnerStateWriter& LearnerStateWriter::Ints(const std::string& name,
                                             absl::Span<const int64_t> values) {
  runtime::LearnerStatePart* part = state_->add_parts();
  part->set_name(name);
  part->mutable_ints()->Add(values.begin(), values.end());
  return *this;
}

LearnerStateWriter& LearnerStateWriter::Doubles(
    const std::string& name, absl::Span<const double> values) {
  runtime::LearnerStatePart* part = state_->add_parts();
  part->set_name(name);
  part->mutable_doubles()->Add(values.begin(), values.end());
  return *this;
}

LearnerStateWriter& LearnerStateWriter::Engine(const std::string& name,
                                               const std::mt19937_64& engine) {
  // The standard's text form: the whole state, portable across builds.
  std::ostringstream text;
  text << engine;
  return Bytes(name, text.str());
}

std::string LearnerStateWriter::Finish() const {
  return state_->SerializeAsString();
}

LearnerStateReader::LearnerStateReader(
    std::unique_ptr<runtime::LearnerState> state)
    : state_(std::move(state)) {}
LearnerStateReader::~LearnerStateReader() = default;
LearnerStateReader::LearnerStateReader(LearnerStateReader&&) noexcept = default;

absl::StatusOr<LearnerStateReader> LearnerStateReader::Open(
    const std::string& bytes, const std::string& learner,
    absl::Span<const int64_t> shape) {
  auto state = std::make_unique<runtime::LearnerState>();
  if (!state->ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("the checkpoint's learner state (", bytes.size(),
                     " bytes) does not parse as a marl.runtime.LearnerState"));
  }
  if (state->learner() != learner) {
    return absl::InvalidArgumentError(
        absl::StrCat("the checkpoint holds the state of learner '",
                     state->learner(), "', not '", learner, "'"));
  }
  if (!std::equal(state->shape().begin(), state->shape().end(), shape.begin(),
                  shape.end())) {
    return absl::InvalidArgumentError(absl::StrCat(
        learner, ": the checkpoint fits sizes [",
        absl::StrJoin(state->shape(), ", "), "], this environment needs [",
        absl::StrJoin(shape, ", "), "]"));
  }
  std::set<std::string> names;
  for (const runtime::LearnerStatePart& part : state->parts()) {
    if (!names.insert(part.name()).second) {
      return absl::DataLossError(absl::StrCat(learner, " checkpoint: part '",
                                              part.name(), "' appears twice"));
    }
  }
  return LearnerStateReader(std::move(state));
}

const runtime::LearnerStatePart* LearnerStateReader::Find(
    const std::string& name) const {
  for (const runtime::LearnerStatePart& part : state_->parts()) {
    if (part.name() == name) return &part;
  }
  return nullptr;
}

bool LearnerStateReader::Has(const std::string& name) const {
  return Find(name) != nullptr;
}

absl::Status LearnerStateReader::Missing(const std::string& name) const {
  return absl::DataLossError(
      absl::StrCat(state_->learner(), " checkpoint: no part '", name, "'"));
}

absl::Status LearnerStateReader::Bytes(const std::string& name,
                                       std::string* bytes) const {
  const runtime::LearnerStatePart* part = Find(name);
  if (part == nullptr) return Missing(name);
  *bytes = part->bytes();
  return absl::OkStatus();
}

namespace {

template <typename T, typename Field>
absl::Status ReadValues(const std::string& learner, const std::string& name,
                        const Field& field, int64_t count,
                        std::vector<T>* values) {
  if (count >= 0 && field.size() != count) {
    return absl::DataLossError(absl::StrCat(learner, " checkpoint: part '",
                                            name, "' holds ", field.size(),
                                            " values, expected ", count));
  }
  values->assign(field.begin(), field.end());
  return absl::OkStatus();
}

}  // namespace

absl::Status LearnerStateReader::Ints(const std::string& name, int64_t count,
                                      std::vector<int64_t>* values) const {
  const runtime::LearnerStatePart* part = Find(name);
  if (part == nullptr) return Missing(name);
  return ReadValues(state_->learner(), name, part->ints(), count, values);
}

absl::Status LearnerStateReader::Doubles(const std::string& name, int64_t count,
                                         std::vector<double>* values) const {
  const runtime::LearnerStatePart* part = Find(name);
  if (part == nullptr) return Missing(name);
  return ReadValues(state_->learner(), name, part->doubles(), count, values);
}

absl::Status LearnerStateReader::Engine(const std::string& name,
                                        std::mt19937_64* engine) const {
  std::string text;
  if (absl::Status s = Bytes(name, &text); !s.ok()) return s;
  std::istringstream in(text);
  std::mt19937_64 restored;
  if (!(in >> restored)) {
    return absl::DataLossError(
        absl::StrCat(state_->learner(), " checkpoint: part '", name,
                     "' is not a random engine's state"));
  }
  *engine = restored;
  return absl::OkStatus();
}

}  // namespace marl
