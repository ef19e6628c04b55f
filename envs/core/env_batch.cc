#include "envs/core/env_batch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "envs/core/checked_size.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"

namespace marl {

absl::StatusOr<std::unique_ptr<EnvBatch>> EnvBatch::Create(
    const std::string& env_name,
    const std::map<std::string, SettingValue>& settings, int num_copies,
    uint64_t seed, bool auto_reset, const MemoryCheck& check) {
  if (num_copies < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_copies must be at least 1, got ", num_copies));
  }
  const EnvRegistry& registry = EnvRegistry::Global();
  absl::StatusOr<const EnvRegistration*> registration = registry.Find(env_name);
  if (!registration.ok()) return registration.status();
  absl::StatusOr<Settings> resolved =
      Settings::Resolve(AcceptedSettings(**registration), settings);
  if (!resolved.ok()) return resolved.status();
  absl::StatusOr<int64_t> copy_bytes =
      EstimateCopyBytes(**registration, *resolved);
  if (!copy_bytes.ok()) return copy_bytes.status();
  // Saturating: an estimate past int64 is over any budget anyway.
  constexpr int64_t kSaturated = std::numeric_limits<int64_t>::max();
  int64_t estimate;
  if (!CheckedMul(*copy_bytes, num_copies, &estimate)) estimate = kSaturated;
  if (check) {
    if (absl::Status status = check(estimate); !status.ok()) return status;
  }
  std::vector<std::unique_ptr<Env>> copies;
  copies.reserve(num_copies);
  for (int c = 0; c < num_copies; ++c) {
    absl::StatusOr<std::unique_ptr<Env>> env =
        BuildCopy(**registration, *resolved);
    if (!env.ok()) return env.status();
    (*env)->Seed(SeedForCopy(seed, c));
    copies.push_back(*std::move(env));
    if (c == 0) {
      // The spec is known now: add the buffers and the spec's own cost
      // before building the rest.
      const EnvSpec& spec = copies[0]->spec();
      int64_t row_bytes = RowBytesEstimate(spec);
      if (spec.message_size > 0) {
        // Each copy's message channel holds a spec and a row of its own.
        if (!CheckedAdd(row_bytes, row_bytes, &row_bytes) ||
            !CheckedAdd(row_bytes, SpecBytesEstimate(spec), &row_bytes)) {
          row_bytes = kSaturated;
        }
      }
      int64_t buffers;
      if (!CheckedMul(row_bytes, num_copies, &buffers) ||
          !CheckedAdd(estimate, buffers, &estimate) ||
          !CheckedAdd(estimate, SpecBytesEstimate(spec), &estimate)) {
        estimate = kSaturated;
      }
      if (check) {
        if (absl::Status status = check(estimate); !status.ok()) return status;
      }
    }
  }
  auto batch = std::unique_ptr<EnvBatch>(
      new EnvBatch(std::move(copies), *std::move(resolved), auto_reset));
  batch->name_ = env_name;
  batch->estimated_bytes_ = estimate;
  return batch;
}

namespace {

// Copies one row of `size` values. Rows are mostly one or a few values,
// where a call to memmove (what std::copy_n becomes) costs more than the
// copy.
template <typename From, typename To>
inline void CopyRow(const From* from, int64_t size, To* to) {
  if (size == 1) {
    *to = *from;
  } else {
    std::copy_n(from, size, to);
  }
}

// Fills `size` values (one row of a field), without a call for one value.
template <typename T>
inline void FillRow(T* row, int64_t size, T value) {
  if (size == 1) {
    *row = value;
  } else {
    std::fill_n(row, size, value);
  }
}

// An estimate's total, saturating at INT64_MAX (over any budget anyway).
int64_t Saturated(const ByteEstimate& estimate) {
  absl::StatusOr<int64_t> total = estimate.Total();
  return total.ok() ? *total : std::numeric_limits<int64_t>::max();
}

}  // namespace

int64_t EnvBatch::SpecBytesEstimate(const EnvSpec& spec) {
  // Per agent, its protocol form (an AgentSpec with an id and two Space
  // messages, about 400 bytes with the allocator's overhead) is held by
  // the server and copied into the make response, plus the serialized
  // bytes, and the per-agent tables of a step: budget 1.375 KiB (measured in
  // an optimised build: 1.25 KiB), and the spaces' own elements (Box: shape,
  // low, high; MultiDiscrete: nvec) three times over. A space too large to
  // count (FlatSize() < 0) saturates the estimate.
  constexpr int64_t kPerAgent = 1408;
  constexpr int64_t kPerElement = 3 * 3 * sizeof(double);
  ByteEstimate estimate;
  estimate.AddBytes(1, 4096);
  for (int agent = 0; agent < spec.num_agents(); ++agent) {
    estimate.AddBytes(1, kPerAgent)
        .AddBytes(3, static_cast<int64_t>(spec.agent_ids[agent].size()))
        .AddBytes(spec.observation_spaces[agent].FlatSize(), kPerElement)
        .AddBytes(spec.action_spaces[agent].FlatSize(), kPerElement);
  }
  if (spec.has_public_observation) {
    estimate.AddBytes(spec.public_observation_space.FlatSize(), kPerElement);
  }
  if (spec.has_state)
    estimate.AddBytes(spec.state_space.FlatSize(), kPerElement);
  return Saturated(estimate);
}

int64_t EnvBatch::RowBytesEstimate(const EnvSpec& spec) {
  // Per copy and per value (up to 8 bytes): the response's observation and
  // final observation, the batch's final-observation scratch, the client's
  // copy; masks, rewards, flags and actions likewise a few times over.
  constexpr int64_t kPerValue = 4 * sizeof(int64_t);
  const BatchLayout layout(spec);
  ByteEstimate estimate;
  estimate.AddBytes(8 + layout.info_size, kPerValue);  // flags, steps, ids
  for (int agent = 0; agent < spec.num_agents(); ++agent) {
    estimate.AddBytes(layout.observation_size[agent], kPerValue)
        .AddBytes(layout.action_size[agent], kPerValue)
        .AddBytes(layout.mask_size[agent], kPerValue)
        .AddBytes(2, kPerValue);  // reward, its scratch
  }
  estimate.AddBytes(layout.public_observation_size, kPerValue)
      .AddBytes(layout.state_size, kPerValue);
  return Saturated(estimate);
}

uint64_t EnvBatch::SeedForCopy(uint64_t seed, int copy) {
  // SplitMix64 of (seed, copy): neighbouring seeds and copies get unrelated
  // streams, unlike seed + copy where seed s copy 1 equals seed s+1 copy 0.
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (static_cast<uint64_t>(copy) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

EnvBatch::EnvBatch(std::vector<std::unique_ptr<Env>> copies, Settings settings,
                   bool auto_reset)
    : copies_(std::move(copies)),
      settings_(std::move(settings)),
      layout_(copies_[0]->spec()),
      auto_reset_(auto_reset),
      episode_step_(copies_.size(), 0),
      started_(copies_.size(), 0),
      finished_(copies_.size(), 0),
      ended_scratch_(copies_.size(), 0) {
  const EnvSpec& s = spec();
  const size_t n = copies_.size();
  legal_.resize(s.num_agents());
  for (int agent = 0; agent < s.num_agents(); ++agent) {
    legal_[agent].assign(n * layout_.mask_size[agent], 1);
  }
  current_agent_.assign(n, 0);
  // A step touches each copy at most once, so per-row scratch for
  // num_copies rows is enough for any request; allocated once.
  if (auto_reset_) {
    reward_scratch_.resize(n * s.num_agents());
    terminated_scratch_.reset(new bool[n]());
    info_scratch_.resize(n * layout_.info_size);
  }
}

absl::StatusOr<std::vector<int32_t>> EnvBatch::ResolveCopies(
    absl::Span<const int32_t> copies) const {
  std::vector<int32_t> resolved;
  if (copies.empty()) {
    resolved.resize(copies_.size());
    for (size_t c = 0; c < copies_.size(); ++c) resolved[c] = c;
    return resolved;
  }
  std::vector<char> seen(copies_.size(), 0);
  for (int32_t c : copies) {
    if (c < 0 || c >= num_copies()) {
      return absl::OutOfRangeError(
          absl::StrCat("copy ", c, " does not exist (the handle has ",
                       num_copies(), " copies)"));
    }
    if (seen[c]) {
      return absl::InvalidArgumentError(
          absl::StrCat("copy ", c, " listed twice"));
    }
    seen[c] = 1;
  }
  resolved.assign(copies.begin(), copies.end());
  return resolved;
}

void EnvBatch::ClearRows(const BatchBuffers& out, int64_t rows) const {
  // Rows 0..rows-1 are contiguous in every field: one fill per field.
  const EnvSpec& s = spec();
  for (int agent = 0; agent < s.num_agents(); ++agent) {
    std::fill_n(out.reward[agent], rows, 0.0f);
  }
  std::fill_n(out.terminated, rows, false);
  std::fill_n(out.truncated, rows, false);
  if (out.info != nullptr) {
    std::fill_n(out.info, rows * layout_.info_size, 0.0f);
  }
  for (int agent = 0; agent < s.num_agents(); ++agent) {
    std::fill_n(out.observation[agent], rows * layout_.observation_size[agent],
                0.0f);
    if (out.action_mask[agent] != nullptr) {
      std::fill_n(out.action_mask[agent], rows * layout_.mask_size[agent],
                  true);
    }
  }
  if (out.public_observation != nullptr) {
    std::fill_n(out.public_observation, rows * layout_.public_observation_size,
                0.0f);
  }
  if (out.state != nullptr) {
    std::fill_n(out.state, rows * layout_.state_size, 0.0f);
  }
  if (out.current_agent != nullptr) std::fill_n(out.current_agent, rows, 0);
}

absl::Status EnvBatch::Reset(absl::Span<const int32_t> copies,
                             absl::Span<const uint64_t> seeds,
                             const BatchBuffers& out,
                             const ParallelFor& parallel) {
  if (!seeds.empty() && seeds.size() != copies.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("got ", seeds.size(), " seeds for ", copies.size(),
                     " copies (give none, or one per copy)"));
  }
  auto reset_row = [&](int64_t row) {
    const int32_t c = copies[row];
    if (!seeds.empty()) copies_[c]->Seed(seeds[row]);
    copies_[c]->Reset(Output(out, layout_, row));
    episode_step_[c] = 0;
    started_[c] = 1;
    finished_[c] = 0;
    out.episode_step[row] = 0;
    if (out.current_agent != nullptr)
      current_agent_[c] = out.current_agent[row];
    for (int agent = 0; agent < spec().num_agents(); ++agent) {
      if (out.action_mask[agent] == nullptr) continue;
      const int64_t n = layout_.mask_size[agent];
      std::copy_n(out.action_mask[agent] + row * n, n,
                  legal_[agent].begin() + c * n);
    }
  };
  const int64_t rows = static_cast<int64_t>(copies.size());
  ClearRows(out, rows);
  if (parallel) {
    parallel(rows, reset_row);
  } else {
    for (int64_t row = 0; row < rows; ++row) reset_row(row);
  }
  return absl::OkStatus();
}

namespace {

// Whether all `rows` x `size` packed values are in `space`: what
// Space::CheckInteger and Space::CheckFloat accept, row by row.
bool AllInSpace(const Space& space, int64_t size, int64_t rows,
                const int64_t* discrete, const float* continuous) {
  bool inside = true;
  // 0 <= v < n as one unsigned comparison, for n >= 0 (a valid space; any
  // other fails here and is named by the checks row by row).
  if (space.is_discrete()) {
    if (space.n < 0) return false;
    const uint64_t n = static_cast<uint64_t>(space.n);
    for (int64_t i = 0; i < rows; ++i) {
      inside &= static_cast<uint64_t>(discrete[i]) < n;
    }
  } else if (space.is_multi_discrete()) {
    const int64_t* nvec = space.nvec.data();
    for (int64_t k = 0; k < size; ++k) {
      if (nvec[k] < 0) return false;
    }
    for (int64_t row = 0; row < rows; ++row, discrete += size) {
      for (int64_t k = 0; k < size; ++k) {
        inside &=
            static_cast<uint64_t>(discrete[k]) < static_cast<uint64_t>(nvec[k]);
      }
    }
  } else {
    const float* low = space.low.data();
    const float* high = space.high.data();
    for (int64_t row = 0; row < rows; ++row, continuous += size) {
      for (int64_t k = 0; k < size; ++k) {
        // NaN fails both comparisons.
        inside &= continuous[k] >= low[k] && continuous[k] <= high[k];
      }
    }
  }
  return inside;
}

// Whether every row's Discrete action (in range) is legal under its copy's
// mask; in turn-based games only the acting agent's action counts.
bool AllLegal(absl::Span<const int32_t> copies, int agent,
              const int64_t* values, const char* legal, int64_t n,
              bool sequential, const int32_t* current_agent) {
  bool all = true;
  for (size_t row = 0; row < copies.size(); ++row) {
    const int32_t c = copies[row];
    all &= (sequential && current_agent[c] != agent) ||
           legal[c * n + values[row]] != 0;
  }
  return all;
}

}  // namespace

absl::Status EnvBatch::CheckStep(absl::Span<const int32_t> copies,
                                 const PackedActions& actions) const {
  const EnvSpec& s = spec();
  const int64_t rows = static_cast<int64_t>(copies.size());
  if (static_cast<int>(actions.discrete.size()) != s.num_agents() ||
      static_cast<int>(actions.continuous.size()) != s.num_agents()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected actions for ", s.num_agents(), " agents, got ",
                     actions.discrete.size()));
  }
  // Usually every copy is ready: checked without a branch per copy first.
  bool ready = true;
  for (int32_t c : copies) ready &= started_[c] && !finished_[c];
  for (int32_t c : ready ? absl::Span<const int32_t>() : copies) {
    if (!started_[c]) {
      return absl::FailedPreconditionError(
          absl::StrCat("copy ", c, " stepped before its first reset"));
    }
    if (finished_[c]) {
      return absl::FailedPreconditionError(absl::StrCat(
          "copy ", c, " finished its episode; reset it before stepping"));
    }
  }
  for (int agent = 0; agent < s.num_agents(); ++agent) {
    const Space& space = s.action_spaces[agent];
    const int64_t size = layout_.action_size[agent];
    const std::string& id = s.agent_ids[agent];
    const bool integer = space.is_integer();
    const int64_t given = integer ? actions.discrete[agent].size()
                                  : actions.continuous[agent].size();
    const int64_t other = integer ? actions.continuous[agent].size()
                                  : actions.discrete[agent].size();
    if (other != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("agent '", id, "' has a ", space.DebugString(),
                       " action space: send ",
                       integer ? "discrete" : "continuous", " actions only"));
    }
    if (given != rows * size) {
      return absl::InvalidArgumentError(
          absl::StrCat("agent '", id, "': expected ", rows, " copies x ", size,
                       " = ", rows * size, " actions, got ", given));
    }
    // The common case, every action valid, is checked without a call or a
    // status per row; the loop below finds and names the first problem.
    const int64_t n = layout_.mask_size[agent];
    if (AllInSpace(space, size, rows, actions.discrete[agent].data(),
                   actions.continuous[agent].data()) &&
        (n == 0 || AllLegal(copies, agent, actions.discrete[agent].data(),
                            legal_[agent].data(), n, s.sequential,
                            current_agent_.data()))) {
      continue;
    }
    for (int64_t row = 0; row < rows; ++row) {
      absl::Status status =
          integer
              ? space.CheckInteger(actions.discrete[agent].data() + row * size)
              : space.CheckFloat(actions.continuous[agent].data() + row * size);
      if (!status.ok()) {
        return absl::Status(status.code(),
                            absl::StrCat("agent '", id, "', copy ", copies[row],
                                         ": ", status.message()));
      }
      // In turn-based games only the acting agent's action counts.
      const bool acting = !s.sequential || current_agent_[copies[row]] == agent;
      if (n > 0 && acting) {
        const int64_t a = actions.discrete[agent][row];
        if (!legal_[agent][copies[row] * n + a]) {
          return absl::InvalidArgumentError(
              absl::StrCat("agent '", id, "', copy ", copies[row], ": action ",
                           a, " is masked out (illegal)"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> EnvBatch::Step(absl::Span<const int32_t> copies,
                                   const PackedActions& actions,
                                   const BatchBuffers& out,
                                   const FinalBuffers& final_out,
                                   const ParallelFor& parallel) {
  const EnvSpec& s = spec();
  const int num_agents = s.num_agents();
  const int64_t rows = static_cast<int64_t>(copies.size());
  // What a row needs is looked up once per step, not per row: a cheap
  // environment's row costs a few tens of nanoseconds, most of it the
  // batch's bookkeeping.
  BatchActions& pointers = action_pointers_;
  pointers.discrete.clear();
  pointers.continuous.clear();
  observations_.clear();
  masks_.clear();
  for (int agent = 0; agent < num_agents; ++agent) {
    pointers.discrete.push_back(actions.discrete[agent].data());
    pointers.continuous.push_back(actions.continuous[agent].data());
    observations_.push_back(
        {out.observation[agent],
         agent < static_cast<int>(final_out.observation.size())
             ? final_out.observation[agent]
             : nullptr,
         layout_.observation_size[agent]});
    if (out.action_mask[agent] != nullptr) {
      masks_.push_back({out.action_mask[agent], legal_[agent].data(),
                        layout_.mask_size[agent]});
    }
  }
  if (out.public_observation != nullptr) {
    observations_.push_back({out.public_observation,
                             final_out.public_observation,
                             layout_.public_observation_size});
  }
  if (out.state != nullptr) {
    observations_.push_back({out.state, final_out.state, layout_.state_size});
  }
  if (auto_reset_) {
    // An auto-reset writes the new episode's observation side into `out`
    // and its reward, termination and info into scratch: the row keeps
    // the ended episode's.
    reset_out_.observation = out.observation;
    reset_out_.action_mask = out.action_mask;
    reset_out_.public_observation = out.public_observation;
    reset_out_.state = out.state;
    reset_out_.current_agent = out.current_agent;
    reset_out_.episode_step = out.episode_step;
    reset_out_.truncated = out.truncated;
    reset_out_.reward.clear();
    for (int agent = 0; agent < num_agents; ++agent) {
      reset_out_.reward.push_back(reward_scratch_.data() +
                                  agent * num_copies());
    }
    reset_out_.terminated = terminated_scratch_.get();
    reset_out_.info = out.info != nullptr ? info_scratch_.data() : nullptr;
  } else {
    observations_.clear();  // nothing to save
  }
  const int32_t* const copy_of_row = copies.data();
  const std::unique_ptr<Env>* const envs = copies_.data();
  int32_t* const episode_step = episode_step_.data();
  char* const ended_rows = ended_scratch_.data();
  const int32_t episode_limit = s.episode_limit;
  // A row after its step: counts and truncation; with auto-reset, an
  // ended row's last observations go to its own place in final_out
  // (compacted below) and its fields are cleared as for a reset, which is
  // listed in `to_reset`. Inlined into the loop below: a call per row is a
  // tenth of a cheap row.
  auto finish_row = [&, this](int64_t row, int64_t* to_reset,
                              int64_t& num_reset) ABSL_ATTRIBUTE_ALWAYS_INLINE {
    const int32_t c = copy_of_row[row];
    const int32_t step = episode_step[c] + 1;
    const bool terminated = out.terminated[row];
    const bool truncated =
        !terminated && episode_limit > 0 && step >= episode_limit;
    out.truncated[row] = truncated;
    out.episode_step[row] = step;
    const bool ended = terminated || truncated;
    ended_rows[row] = ended;
    if (!ended) {
      episode_step[c] = step;
      return;
    }
    if (!auto_reset_) {
      episode_step[c] = step;
      finished_[c] = 1;
      return;
    }
    for (const ObservationField& field : observations_) {
      float* row_values = field.out + row * field.size;
      if (field.final != nullptr) {
        CopyRow(row_values, field.size, field.final + row * field.size);
      }
      FillRow(row_values, field.size, 0.0f);
    }
    for (const MaskField& mask : masks_) {
      FillRow(mask.out + row * mask.size, mask.size, true);
    }
    if (out.current_agent != nullptr) out.current_agent[row] = 0;
    to_reset[num_reset++] = row;
    episode_step[c] = 0;
  };
  // What a row keeps for the next step, once its reset (if any) is done:
  // whose turn it is and its masks (for checking the next actions).
  const bool keeps_rows = out.current_agent != nullptr || !masks_.empty();
  auto keep_row = [&, this](int64_t row) ABSL_ATTRIBUTE_ALWAYS_INLINE {
    if (!auto_reset_ && ended_rows[row]) return;  // finished: nothing next
    const int32_t c = copy_of_row[row];
    if (out.current_agent != nullptr) {
      current_agent_[c] = out.current_agent[row];
    }
    for (const MaskField& mask : masks_) {
      CopyRow(mask.out + row * mask.size, mask.size,
              mask.legal + c * mask.size);
    }
  };
  // Runs of up to kRun rows: the environment steps a run in one call
  // (Env::StepRows), its rows are finished, the ended ones reset in one
  // call (Env::ResetRows), and what the rows keep is kept. Runs are short
  // enough that their rows are still in cache when finished.
  constexpr int64_t kRun = 64;
  auto step_run = [&, this](int64_t begin, int64_t end) {
    int64_t run[kRun];
    for (int64_t row = begin; row < end; ++row) run[row - begin] = row;
    envs[copy_of_row[begin]]->StepRows({envs,
                                        copy_of_row,
                                        {run, static_cast<size_t>(end - begin)},
                                        pointers,
                                        out,
                                        layout_});
    int64_t to_reset[kRun];
    int64_t num_reset = 0;
    for (int64_t row = begin; row < end; ++row) {
      finish_row(row, to_reset, num_reset);
    }
    if (num_reset > 0) {
      envs[copy_of_row[to_reset[0]]]->ResetRows(
          {envs,
           copy_of_row,
           {to_reset, static_cast<size_t>(num_reset)},
           no_actions_,
           reset_out_,
           layout_});
    }
    if (keeps_rows) {
      for (int64_t row = begin; row < end; ++row) keep_row(row);
    }
  };
  ClearRows(out, rows);
  if (parallel) {
    parallel(rows, [&](int64_t row) { step_run(row, row + 1); });
  } else {
    for (int64_t begin = 0; begin < rows; begin += kRun) {
      step_run(begin, std::min(begin + kRun, rows));
    }
  }
  for (int agent = 0; agent < num_agents; ++agent) {
    const float* rewards = out.reward[agent];
    bool bounded = true;
    for (int64_t row = 0; row < rows; ++row) {
      // Also false for NaN.
      bounded &= std::fabs(rewards[row]) <= kMaxAbsReward;
    }
    if (bounded) continue;
    for (int64_t row = 0; row < rows; ++row) {
      if (std::fabs(rewards[row]) <= kMaxAbsReward) continue;
      return absl::InternalError(absl::StrCat(
          "environment '", name_, "' gave agent '", s.agent_ids[agent],
          "' of copy ", copies[row], " the reward ", rewards[row],
          " (rewards must be finite and within ", kMaxAbsReward,
          "): the environment's settings allow rewards it should have "
          "refused; close this handle"));
    }
  }
  if (!auto_reset_) return 0;
  // Compact the final observations of ended rows, in row order (in place:
  // an ended row only moves down).
  int ended = 0;
  if (final_out.rows != nullptr) final_out.rows->clear();
  for (int64_t row = 0; row < rows; ++row) {
    if (!ended_rows[row]) continue;
    if (final_out.rows != nullptr) final_out.rows->push_back(row);
    if (ended != row) {
      for (const ObservationField& field : observations_) {
        if (field.final == nullptr) continue;
        CopyRow(field.final + row * field.size, field.size,
                field.final + ended * field.size);
      }
    }
    ++ended;
  }
  return ended;
}

}  // namespace marl

namespace marl {

LocalBatch::LocalBatch(std::unique_ptr<EnvBatch> batch)
    : batch_(std::move(batch)) {
  const EnvSpec& s = batch_->spec();
  const BatchLayout& layout = batch_->layout();
  const int64_t n = batch_->num_copies();
  const int num_agents = s.num_agents();
  all_copies_.resize(n);
  for (int64_t c = 0; c < n; ++c) all_copies_[c] = c;
  observation_.resize(num_agents);
  reward_.resize(num_agents);
  final_observation_.resize(num_agents);
  mask_storage_.resize(num_agents);
  mask_view_.resize(num_agents);
  for (int agent = 0; agent < num_agents; ++agent) {
    observation_[agent].assign(n * layout.observation_size[agent], 0.0f);
    final_observation_[agent].assign(n * layout.observation_size[agent], 0.0f);
    reward_[agent].assign(n, 0.0f);
    buffers_.observation.push_back(observation_[agent].data());
    buffers_.reward.push_back(reward_[agent].data());
    final_buffers_.observation.push_back(final_observation_[agent].data());
    if (layout.mask_size[agent] > 0) {
      mask_storage_[agent].reset(new bool[n * layout.mask_size[agent]]);
      buffers_.action_mask.push_back(mask_storage_[agent].get());
    } else {
      buffers_.action_mask.push_back(nullptr);
    }
  }
  terminated_.reset(new bool[n]());
  truncated_.reset(new bool[n]());
  episode_step_.assign(n, 0);
  buffers_.terminated = terminated_.get();
  buffers_.truncated = truncated_.get();
  buffers_.episode_step = episode_step_.data();
  if (s.has_public_observation) {
    public_.assign(n * layout.public_observation_size, 0.0f);
    final_public_.assign(n * layout.public_observation_size, 0.0f);
    buffers_.public_observation = public_.data();
    final_buffers_.public_observation = final_public_.data();
  }
  if (s.has_state) {
    state_.assign(n * layout.state_size, 0.0f);
    final_state_.assign(n * layout.state_size, 0.0f);
    buffers_.state = state_.data();
    final_buffers_.state = final_state_.data();
  }
  if (s.sequential) {
    current_agent_.assign(n, 0);
    buffers_.current_agent = current_agent_.data();
  }
  if (layout.info_size > 0) {
    info_.assign(n * layout.info_size, 0.0f);
    buffers_.info = info_.data();
  }
  final_buffers_.rows = &final_rows_;
}

absl::Status LocalBatch::ResetAll(absl::Span<const uint64_t> seeds) {
  final_rows_.clear();
  return batch_->Reset(all_copies_, seeds, buffers_);
}

absl::Status LocalBatch::StepAll(
    const std::vector<std::vector<int64_t>>& discrete,
    const std::vector<std::vector<float>>& continuous) {
  const int num_agents = spec().num_agents();
  PackedActions actions;
  for (int agent = 0; agent < num_agents; ++agent) {
    const bool integer = spec().action_spaces[agent].is_integer();
    actions.discrete.push_back(integer &&
                                       agent < static_cast<int>(discrete.size())
                                   ? absl::Span<const int64_t>(discrete[agent])
                                   : absl::Span<const int64_t>());
    actions.continuous.push_back(
        !integer && agent < static_cast<int>(continuous.size())
            ? absl::Span<const float>(continuous[agent])
            : absl::Span<const float>());
  }
  if (absl::Status status = batch_->CheckStep(all_copies_, actions);
      !status.ok()) {
    return status;
  }
  return batch_->Step(all_copies_, actions, buffers_, final_buffers_).status();
}

const std::vector<bool>& LocalBatch::action_mask(int agent) const {
  const int64_t size = batch_->num_copies() * batch_->layout().mask_size[agent];
  const bool* data = mask_storage_[agent].get();
  mask_view_[agent].assign(data, data + (data ? size : 0));
  return mask_view_[agent];
}

}  // namespace marl
