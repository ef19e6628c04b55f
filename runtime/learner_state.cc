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

LearnerStateWriter& LearnerStateWriter::Model(const std::string& name,
                                              std::string bytes) {
  Bytes(name, std::move(bytes));
  state_->mutable_parts(state_->parts_size() - 1)->set_model(true);
  return *this;
}

LearnerStateWriter& LearnerStateWriter::ProcessModel(const std::string& name,
                                                     std::string bytes) {
  Model(name, std::move(bytes));
  state_->mutable_parts(state_->parts_size() - 1)->set_process_bytes(true);
  return *this;
}

LearnerStateWriter& LearnerStateWriter::Nested(const std::string& name,
                                               std::string bytes) {
  Bytes(name, std::move(bytes));
  state_->mutable_parts(state_->parts_size() - 1)->set_nested(true);
  return *this;
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

namespace {

absl::Status ParseState(const std::string& bytes, runtime::LearnerState* state,
                        const char* which) {
  if (!state->ParseFromString(bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", which, " learner state does not parse"));
  }
  return absl::OkStatus();
}

// Replaces the model parts of `own` by those of `shared`, in nested states
// too.
absl::Status ReplaceModel(runtime::LearnerState* own,
                          const runtime::LearnerState& shared) {
  if (own->learner() != shared.learner() ||
      own->parts_size() != shared.parts_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("learner states of another layout: '", own->learner(),
                     "' with ", own->parts_size(), " parts, '",
                     shared.learner(), "' with ", shared.parts_size()));
  }
  for (int i = 0; i < own->parts_size(); ++i) {
    runtime::LearnerStatePart* part = own->mutable_parts(i);
    const runtime::LearnerStatePart& other = shared.parts(i);
    if (part->name() != other.name() || part->model() != other.model() ||
        part->nested() != other.nested()) {
      return absl::InvalidArgumentError(
          absl::StrCat("learner states of another layout: part '", part->name(),
                       "' against '", other.name(), "'"));
    }
    if (part->model()) {
      part->set_bytes(other.bytes());
    } else if (part->nested()) {
      runtime::LearnerState inner_own, inner_shared;
      if (absl::Status s = ParseState(part->bytes(), &inner_own, "nested");
          !s.ok()) {
        return s;
      }
      if (absl::Status s =
              ParseState(other.bytes(), &inner_shared, "shared nested");
          !s.ok()) {
        return s;
      }
      if (absl::Status s = ReplaceModel(&inner_own, inner_shared); !s.ok()) {
        return s;
      }
      part->set_bytes(inner_own.SerializeAsString());
    }
  }
  return absl::OkStatus();
}

void Fnv(const std::string& bytes, uint64_t* hash) {
  for (unsigned char c : bytes) {
    *hash ^= c;
    *hash *= 0x100000001b3ULL;
  }
}

absl::Status Digest(const runtime::LearnerState& state, ModelDigest* out) {
  for (const runtime::LearnerStatePart& part : state.parts()) {
    if (part.model() && !part.process_bytes()) {
      Fnv(part.name(), &out->digest);
      Fnv(part.bytes(), &out->digest);
      ++out->parts;
    } else if (part.nested()) {
      runtime::LearnerState inner;
      if (absl::Status s = ParseState(part.bytes(), &inner, "nested");
          !s.ok()) {
        return s;
      }
      if (absl::Status s = Digest(inner, out); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> WithModelOf(const std::string& own,
                                        const std::string& shared) {
  runtime::LearnerState own_state, shared_state;
  if (absl::Status s = ParseState(own, &own_state, "own"); !s.ok()) return s;
  if (absl::Status s = ParseState(shared, &shared_state, "shared"); !s.ok()) {
    return s;
  }
  if (absl::Status s = ReplaceModel(&own_state, shared_state); !s.ok()) {
    return s;
  }
  return own_state.SerializeAsString();
}

absl::StatusOr<ModelDigest> DigestModel(const std::string& state) {
  runtime::LearnerState parsed;
  if (absl::Status s = ParseState(state, &parsed, "own"); !s.ok()) return s;
  ModelDigest out;
  out.digest = 0xcbf29ce484222325ULL;
  if (absl::Status s = Digest(parsed, &out); !s.ok()) return s;
  return out;
}

}  // namespace marl
