#include "envs/core/message_channel.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "envs/core/checked_size.h"

namespace marl {

SettingDecl MessageSizeDecl() {
  return {kMessageSizeSetting,
          absl::StrCat("K > 0: every agent also sends a message in [0, K) "
                       "(one more action component) and observes each "
                       "partner's last message as a one-hot (the protocol's "
                       "message channel, at most ",
                       kMaxMessageSize, "); 0: none"),
          int64_t{0}};
}

namespace {

// Floats an observation of `space` takes once flat (one-hots for the
// integer kinds).
absl::StatusOr<int64_t> FlatObservationFloats(const Space& space) {
  switch (space.kind) {
    case Space::Kind::kBox:
      return space.CheckedFlatSize();
    case Space::Kind::kDiscrete:
      return space.n;
    case Space::Kind::kMultiDiscrete: {
      int64_t total = 0;
      for (const int64_t n : space.nvec) {
        if (!CheckedAdd(total, n, &total)) {
          return absl::ResourceExhaustedError("observation too large");
        }
      }
      return total;
    }
  }
  return absl::InternalError("unknown space kind");
}

// Writes one observation of `space` (packed as floats) flat into `out`.
void WriteFlatObservation(const Space& space, const float* in, float* out) {
  switch (space.kind) {
    case Space::Kind::kBox:
      std::copy_n(in, space.FlatSize(), out);
      return;
    case Space::Kind::kDiscrete: {
      std::fill_n(out, space.n, 0.0f);
      const float index = in[0];
      // An index out of range (an environment's bug) leaves all zeros.
      if (index >= 0 && index < static_cast<float>(space.n)) {
        out[static_cast<int64_t>(index)] = 1.0f;
      }
      return;
    }
    case Space::Kind::kMultiDiscrete: {
      for (size_t k = 0; k < space.nvec.size(); ++k) {
        const int64_t n = space.nvec[k];
        std::fill_n(out, n, 0.0f);
        if (in[k] >= 0 && in[k] < static_cast<float>(n)) {
          out[static_cast<int64_t>(in[k])] = 1.0f;
        }
        out += n;
      }
      return;
    }
  }
}

class MessageChannelEnv final : public Env {
 public:
  MessageChannelEnv(std::unique_ptr<Env> inner, EnvSpec spec)
      : inner_(std::move(inner)),
        spec_(std::move(spec)),
        inner_layout_(inner_->spec()) {
    const EnvSpec& inner_spec = inner_->spec();
    const int n = inner_spec.num_agents();
    observation_.resize(n);
    reward_.assign(n, 0.0f);
    action_.resize(n);
    message_.assign(n, 0);
    for (int a = 0; a < n; ++a) {
      messages_at_.push_back(MessageOffset(spec_, a, a == 0 ? 1 : 0));
      observation_[a].resize(inner_layout_.observation_size[a]);
      action_[a].resize(inner_layout_.action_size[a]);
      buffers_.observation.push_back(observation_[a].data());
      buffers_.reward.push_back(&reward_[a]);
      buffers_.action_mask.push_back(nullptr);  // specs with masks refused
      actions_.discrete.push_back(action_[a].data());
      actions_.continuous.push_back(nullptr);  // Box actions refused
    }
    public_.resize(inner_layout_.public_observation_size);
    state_.resize(inner_layout_.state_size);
    info_.resize(inner_layout_.info_size);
    buffers_.terminated = &terminated_;
    if (inner_spec.has_public_observation) {
      buffers_.public_observation = public_.data();
    }
    if (inner_spec.has_state) buffers_.state = state_.data();
    if (inner_spec.sequential) buffers_.current_agent = &current_agent_;
    buffers_.info = info_.data();
  }

  const EnvSpec& spec() const override { return spec_; }
  void Seed(uint64_t seed) override { inner_->Seed(seed); }

  void Reset(const Output& out) override {
    Clear();
    inner_->Reset(Output(buffers_, inner_layout_, 0));
    std::fill(message_.begin(), message_.end(), -1);  // nothing sent yet
    WriteOut(out);
  }

  void Step(const Actions& actions, const Output& out) override {
    for (size_t a = 0; a < action_.size(); ++a) {
      const int64_t* values = actions.discrete_values(static_cast<int>(a));
      std::copy_n(values, action_[a].size(), action_[a].data());
      message_[a] = values[action_[a].size()];  // the last component
    }
    Clear();
    inner_->Step(Actions(actions_, inner_layout_, 0),
                 Output(buffers_, inner_layout_, 0));
    WriteOut(out);
  }

 private:
  // What the batch runner clears before each call, for the inner row.
  void Clear() {
    for (auto& observation : observation_) {
      std::fill(observation.begin(), observation.end(), 0.0f);
    }
    std::fill(reward_.begin(), reward_.end(), 0.0f);
    std::fill(public_.begin(), public_.end(), 0.0f);
    std::fill(state_.begin(), state_.end(), 0.0f);
    std::fill(info_.begin(), info_.end(), 0.0f);
    terminated_ = false;
    current_agent_ = 0;
  }

  void WriteOut(const Output& out) const {
    const EnvSpec& inner_spec = inner_->spec();
    const int n = inner_spec.num_agents();
    const int64_t k = spec_.message_size;
    for (int a = 0; a < n; ++a) {
      float* observation = out.observation(a);
      WriteFlatObservation(inner_spec.observation_spaces[a],
                           observation_[a].data(), observation);
      // The partners' one-hots follow, in agent order.
      float* one_hot = observation + messages_at_[a];
      for (int partner = 0; partner < n; ++partner) {
        if (partner == a) continue;
        std::fill_n(one_hot, k, 0.0f);
        if (message_[partner] >= 0) one_hot[message_[partner]] = 1.0f;
        one_hot += k;
      }
      out.set_reward(a, reward_[a]);
    }
    if (inner_spec.has_public_observation) {
      std::copy(public_.begin(), public_.end(), out.public_observation());
    }
    if (inner_spec.has_state) {
      std::copy(state_.begin(), state_.end(), out.state());
    }
    std::copy(info_.begin(), info_.end(), out.info());
    if (inner_spec.sequential) out.set_current_agent(current_agent_);
    if (terminated_) out.set_terminated(true);
  }

  std::unique_ptr<Env> inner_;
  EnvSpec spec_;
  BatchLayout inner_layout_;
  // One row of the inner environment's results and actions.
  std::vector<std::vector<float>> observation_;
  std::vector<float> reward_, public_, state_, info_;
  bool terminated_ = false;
  int32_t current_agent_ = 0;
  BatchBuffers buffers_;
  std::vector<std::vector<int64_t>> action_;
  BatchActions actions_;
  std::vector<int64_t> message_;      // per agent, the last sent; -1 none
  std::vector<int64_t> messages_at_;  // per agent, where its one-hots start
};

}  // namespace

absl::StatusOr<EnvSpec> MessageChannelSpec(const EnvSpec& spec,
                                           int64_t message_size) {
  if (message_size < 1 || message_size > kMaxMessageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(kMessageSizeSetting, " must be in [0, ", kMaxMessageSize,
                     "], got ", message_size));
  }
  const int n = spec.num_agents();
  if (n < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("the message channel (", kMessageSizeSetting,
                     ") needs at least two agents; this environment has ", n));
  }
  if (spec.has_action_masks) {
    return absl::InvalidArgumentError(
        absl::StrCat("the message channel (", kMessageSizeSetting,
                     ") cannot carry action masks, and this environment "
                     "sends them"));
  }
  // Messages: n agents see n - 1 one-hots of message_size floats each.
  int64_t added = 0;
  if (!CheckedMul(static_cast<int64_t>(n) * (n - 1), message_size, &added)) {
    added = kMaxMessageChannelFloats + 1;
  }
  EnvSpec result = spec;
  result.message_size = message_size;
  for (int a = 0; a < n && added <= kMaxMessageChannelFloats; ++a) {
    const Space& action = spec.action_spaces[a];
    if (action.is_box()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the message channel (", kMessageSizeSetting,
                       ") needs Discrete or MultiDiscrete actions; agent '",
                       spec.agent_ids[a], "' acts in ", action.DebugString()));
    }
    std::vector<int64_t> nvec =
        action.is_discrete() ? std::vector<int64_t>{action.n} : action.nvec;
    nvec.push_back(message_size);
    result.action_spaces[a] = Space::MultiDiscrete(std::move(nvec));

    const Space& observation = spec.observation_spaces[a];
    absl::StatusOr<int64_t> own = FlatObservationFloats(observation);
    if (!own.ok()) return own.status();
    if (!observation.is_box() && !CheckedAdd(added, *own, &added)) {
      added = kMaxMessageChannelFloats + 1;  // past any limit
      break;
    }
    if (added > kMaxMessageChannelFloats) break;
    const int64_t total = *own + (n - 1) * message_size;
    std::vector<float> low(total, 0.0f), high(total, 1.0f);
    if (observation.is_box()) {
      std::copy(observation.low.begin(), observation.low.end(), low.begin());
      std::copy(observation.high.begin(), observation.high.end(), high.begin());
    }
    result.observation_spaces[a] =
        Space::Box({total}, std::move(low), std::move(high));
  }
  if (added > kMaxMessageChannelFloats) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the message channel (", kMessageSizeSetting, "=", message_size,
        ") would add more than ", kMaxMessageChannelFloats,
        " observation floats per copy for ", n, " agents"));
  }
  return result;
}

absl::StatusOr<std::unique_ptr<Env>> AddMessageChannel(
    std::unique_ptr<Env> inner, int64_t message_size) {
  absl::StatusOr<EnvSpec> spec =
      MessageChannelSpec(inner->spec(), message_size);
  if (!spec.ok()) return spec.status();
  return std::unique_ptr<Env>(
      new MessageChannelEnv(std::move(inner), *std::move(spec)));
}

int64_t MessageOffset(const EnvSpec& spec, int agent, int partner) {
  const int n = spec.num_agents();
  const int64_t k = spec.message_size;
  const int64_t first = spec.observation_spaces[agent].FlatSize() - (n - 1) * k;
  const int slot = partner < agent ? partner : partner - 1;
  return first + slot * k;
}

}  // namespace marl
