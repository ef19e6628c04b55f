#include "runtime/public_observation_fold.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/observation_encoder.h"

namespace marl {
namespace {

class PublicObservationFold : public JointLearner {
 public:
  PublicObservationFold(const EnvSpec& spec,
                        std::unique_ptr<JointLearner> inner)
      : inner_(std::move(inner)),
        public_size_(spec.public_observation_space.FlatSize()) {
    for (int a = 0; a < spec.num_agents(); ++a) {
      encoders_.emplace_back(spec.agent_ids[a], spec.observation_spaces[a]);
    }
  }

  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override {
    if (!status_.ok()) return;
    status_ = Fold(observation, public_, num_copies, &acting_);
    if (!status_.ok()) return;
    inner_->Act(Pointers(acting_), num_copies, deterministic, discrete,
                continuous);
  }

  void Learn(const TransitionBatch& batch) override {
    if (!status_.ok()) return;
    status_ = Fold(batch.observation, batch.public_observation,
                   batch.num_copies, &observation_);
    if (status_.ok()) {
      status_ = Fold(batch.next_observation, batch.next_public_observation,
                     batch.num_copies, &next_observation_);
    }
    if (!status_.ok()) return;
    TransitionBatch folded = batch;
    folded.observation = Pointers(observation_);
    folded.next_observation = Pointers(next_observation_);
    inner_->Learn(folded);
  }

  void SetPublicObservation(const float* public_observation) override {
    public_ = public_observation;
    inner_->SetPublicObservation(public_observation);
  }
  void SetActionMasks(const std::vector<const bool*>& masks) override {
    inner_->SetActionMasks(masks);
  }
  void SetActingContext(ActingStream stream, const bool* first) override {
    inner_->SetActingContext(stream, first);
  }
  std::vector<std::pair<std::string, double>> Metrics(
      int agent) const override {
    return inner_->Metrics(agent);
  }
  absl::StatusOr<std::string> Save() const override { return inner_->Save(); }
  absl::Status Load(const std::string& bytes) override {
    return inner_->Load(bytes);
  }
  absl::Span<const float> LastLatents(int agent) const override {
    return inner_->LastLatents(agent);
  }
  absl::Status status() const override {
    return status_.ok() ? inner_->status() : status_;
  }
  bool TakesTurns() const override { return inner_->TakesTurns(); }
  std::string AgentNote(int agent) const override {
    return inner_->AgentNote(agent);
  }
  std::string ConfigJson() const override { return inner_->ConfigJson(); }

 private:
  // Per agent, [copies, encoded own observation + public observation].
  absl::Status Fold(const std::vector<const float*>& observation,
                    const float* public_observation, int copies,
                    std::vector<std::vector<float>>* out) const {
    if (public_observation == nullptr) {
      return absl::InternalError(
          "--observe_public: the loop passed no public observation");
    }
    out->resize(encoders_.size());
    for (size_t a = 0; a < encoders_.size(); ++a) {
      const int64_t own = encoders_[a].size();
      const int64_t width = own + public_size_;
      std::vector<float>& rows = (*out)[a];
      rows.resize(static_cast<size_t>(copies * width));
      for (int c = 0; c < copies; ++c) {
        float* row = rows.data() + c * width;
        absl::Status s = encoders_[a].Encode(
            observation[a] + c * encoders_[a].raw_size(), 1, row);
        if (!s.ok()) return s;
        std::copy_n(public_observation + c * public_size_, public_size_,
                    row + own);
      }
    }
    return absl::OkStatus();
  }

  static std::vector<const float*> Pointers(
      const std::vector<std::vector<float>>& rows) {
    std::vector<const float*> out;
    for (const std::vector<float>& r : rows) out.push_back(r.data());
    return out;
  }

  std::unique_ptr<JointLearner> inner_;
  int64_t public_size_;
  std::vector<ObservationEncoder> encoders_;
  const float* public_ = nullptr;
  std::vector<std::vector<float>> acting_, observation_, next_observation_;
  absl::Status status_;
};

// Appends the bounds of each float a `space` observation is sent as.
void AppendBounds(const Space& space, std::vector<float>* low,
                  std::vector<float>* high) {
  if (space.is_box()) {
    low->insert(low->end(), space.low.begin(), space.low.end());
    high->insert(high->end(), space.high.begin(), space.high.end());
    return;
  }
  const std::vector<int64_t> counts =
      space.is_discrete() ? std::vector<int64_t>{space.n} : space.nvec;
  for (int64_t n : counts) {
    low->push_back(0.0f);
    high->push_back(static_cast<float>(n - 1));
  }
}

}  // namespace

absl::StatusOr<EnvSpec> SpecObservingPublic(const EnvSpec& spec) {
  if (!spec.has_public_observation) {
    return absl::InvalidArgumentError(
        "--observe_public: the environment has no public observation");
  }
  EnvSpec out = spec;
  for (int a = 0; a < spec.num_agents(); ++a) {
    const Space& own = spec.observation_spaces[a];
    std::vector<float> low, high;
    if (own.is_discrete()) {  // one-hot, as ObservationEncoder sends it
      low.assign(own.n, 0.0f);
      high.assign(own.n, 1.0f);
    } else {
      AppendBounds(own, &low, &high);
    }
    AppendBounds(spec.public_observation_space, &low, &high);
    const int64_t size = static_cast<int64_t>(low.size());
    out.observation_spaces[a] =
        Space::Box({size}, std::move(low), std::move(high));
  }
  return out;
}

LearnerFactory ObservePublic(LearnerFactory inner) {
  return [inner = std::move(inner)](
             const EnvSpec& spec,
             uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<EnvSpec> folded = SpecObservingPublic(spec);
    if (!folded.ok()) return folded.status();
    absl::StatusOr<std::unique_ptr<JointLearner>> learner =
        inner(*folded, seed);
    if (!learner.ok()) return learner.status();
    return std::unique_ptr<JointLearner>(
        std::make_unique<PublicObservationFold>(spec, *std::move(learner)));
  };
}

}  // namespace marl
