#include "envs/testing/env_checks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envs/core/env.h"
#include "envs/core/env_batch.h"
#include "envs/core/registry.h"

namespace marl {
namespace {

absl::Status Error(const std::string& name, const std::string& what) {
  return absl::InternalError(absl::StrCat(name, ": ", what));
}

absl::StatusOr<std::unique_ptr<LocalBatch>> MakeBatch(
    const std::string& name, const EnvCheckOptions& options, uint64_t seed) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> batch = EnvBatch::Create(
      name, options.settings, options.num_copies, seed, /*auto_reset=*/true);
  if (!batch.ok()) return batch.status();
  return std::make_unique<LocalBatch>(*std::move(batch));
}

float SampleBoxElement(float low, float high, std::mt19937_64& rng) {
  const int pick = std::uniform_int_distribution<int>(0, 9)(rng);
  if (pick == 0 && std::isfinite(low)) return low;
  if (pick == 1 && std::isfinite(high)) return high;
  if (std::isfinite(low) && std::isfinite(high) && std::isfinite(high - low)) {
    const float x = std::uniform_real_distribution<float>(low, high)(rng);
    return std::clamp(x, low, high);  // float rounding can step past high
  }
  // Unbounded (or overflowing) sides: a normal draw, clamped into the box.
  const float mid = std::isfinite(low)    ? low
                    : std::isfinite(high) ? high
                                          : 0.0f;
  const float x = mid + 10.0f * std::normal_distribution<float>()(rng);
  return std::clamp(x, low, high);
}

// Which agents must have a legal action in row `copy`.
bool IsActing(const EnvSpec& spec, const LocalBatch& batch, int copy,
              int agent) {
  return !spec.sequential || batch.current_agent()[copy] == agent;
}

// Everything a reset or step left in the batch that must be well formed.
absl::Status CheckRows(const std::string& name, const EnvSpec& spec,
                       const LocalBatch& batch, int num_copies,
                       const std::string& when) {
  const BatchLayout layout(spec);
  for (int c = 0; c < num_copies; ++c) {
    const std::string where = absl::StrCat(when, ", copy ", c);
    for (int agent = 0; agent < spec.num_agents(); ++agent) {
      const std::string& id = spec.agent_ids[agent];
      const int64_t size = layout.observation_size[agent];
      if (absl::Status s = CheckObservationInSpace(
              spec.observation_spaces[agent],
              batch.observation(agent).data() + c * size);
          !s.ok()) {
        return Error(name, absl::StrCat(where, ", observation of '", id,
                                        "': ", s.message()));
      }
      const float reward = batch.reward(agent)[c];
      if (!std::isfinite(reward)) {
        return Error(name, absl::StrCat(where, ", reward of '", id,
                                        "' is not finite: ", reward));
      }
      const int64_t n = layout.mask_size[agent];
      if (n > 0 && IsActing(spec, batch, c, agent)) {
        const std::vector<bool>& mask = batch.action_mask(agent);
        if (std::none_of(mask.begin() + c * n, mask.begin() + (c + 1) * n,
                         [](bool legal) { return legal; })) {
          return Error(name, absl::StrCat(where, ": acting agent '", id,
                                          "' has no legal action"));
        }
      }
    }
    if (spec.has_public_observation) {
      const int64_t size = layout.public_observation_size;
      if (absl::Status s = CheckObservationInSpace(
              spec.public_observation_space,
              batch.public_observation().data() + c * size);
          !s.ok()) {
        return Error(
            name, absl::StrCat(where, ", public observation: ", s.message()));
      }
    }
    if (spec.has_state) {
      const int64_t size = layout.state_size;
      if (absl::Status s = CheckObservationInSpace(
              spec.state_space, batch.state().data() + c * size);
          !s.ok()) {
        return Error(name, absl::StrCat(where, ", state: ", s.message()));
      }
    }
    if (spec.sequential) {
      const int32_t current = batch.current_agent()[c];
      if (current < 0 || current >= spec.num_agents()) {
        return Error(name,
                     absl::StrCat(where, ": current_agent ", current,
                                  " outside [0, ", spec.num_agents(), ")"));
      }
    }
    for (int64_t k = 0; k < layout.info_size; ++k) {
      const float value = batch.info()[c * layout.info_size + k];
      if (!std::isfinite(value)) {
        return Error(name, absl::StrCat(where, ", info '", spec.info_keys[k],
                                        "' is not finite: ", value));
      }
    }
  }
  return absl::OkStatus();
}

std::vector<std::vector<bool>> CurrentMasks(const EnvSpec& spec,
                                            const LocalBatch& batch) {
  std::vector<std::vector<bool>> masks(spec.num_agents());
  const BatchLayout layout(spec);
  for (int agent = 0; agent < spec.num_agents(); ++agent) {
    if (layout.mask_size[agent] > 0) masks[agent] = batch.action_mask(agent);
  }
  return masks;
}

// A labelled record of everything a batch returned, for exact comparison.
struct Trajectory {
  std::vector<std::string> labels;
  std::vector<std::vector<float>> values;

  void Add(std::string label, std::vector<float> v) {
    labels.push_back(std::move(label));
    values.push_back(std::move(v));
  }
  template <typename T>
  void AddConverted(std::string label, const std::vector<T>& v) {
    Add(std::move(label), std::vector<float>(v.begin(), v.end()));
  }
};

void Record(const EnvSpec& spec, const LocalBatch& batch, int num_copies,
            const std::string& when, Trajectory* out) {
  const BatchLayout layout(spec);
  for (int agent = 0; agent < spec.num_agents(); ++agent) {
    const std::string& id = spec.agent_ids[agent];
    out->Add(absl::StrCat(when, " observation '", id, "'"),
             batch.observation(agent));
    out->Add(absl::StrCat(when, " reward '", id, "'"), batch.reward(agent));
    if (layout.mask_size[agent] > 0) {
      out->AddConverted(absl::StrCat(when, " action_mask '", id, "'"),
                        batch.action_mask(agent));
    }
    const int64_t ended = static_cast<int64_t>(batch.final_rows().size());
    const std::vector<float>& final_obs = batch.final_observation(agent);
    out->Add(absl::StrCat(when, " final_observation '", id, "'"),
             std::vector<float>(
                 final_obs.begin(),
                 final_obs.begin() + ended * layout.observation_size[agent]));
  }
  std::vector<float> flags;
  for (int c = 0; c < num_copies; ++c) {
    flags.push_back(batch.terminated(c));
    flags.push_back(batch.truncated(c));
    flags.push_back(static_cast<float>(batch.episode_step(c)));
  }
  out->Add(absl::StrCat(when, " terminated/truncated/episode_step"), flags);
  out->AddConverted(absl::StrCat(when, " final_rows"), batch.final_rows());
  out->Add(absl::StrCat(when, " public_observation"),
           batch.public_observation());
  out->Add(absl::StrCat(when, " state"), batch.state());
  out->AddConverted(absl::StrCat(when, " current_agent"),
                    batch.current_agent());
  out->Add(absl::StrCat(when, " info"), batch.info());
}

// Bitwise equality (so NaN == NaN and -0 != +0: "identical" means that).
bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

// OK when identical, else the first difference.
absl::Status Compare(const Trajectory& a, const Trajectory& b) {
  const size_t n = std::min(a.values.size(), b.values.size());
  for (size_t k = 0; k < n; ++k) {
    if (a.labels[k] != b.labels[k] || !SameBits(a.values[k], b.values[k])) {
      return absl::InternalError(
          absl::StrCat(a.labels[k], ": [", absl::StrJoin(a.values[k], ","),
                       "] vs [", absl::StrJoin(b.values[k], ","), "]"));
    }
  }
  if (a.values.size() != b.values.size()) {
    return absl::InternalError(
        absl::StrCat("lengths ", a.values.size(), " vs ", b.values.size()));
  }
  return absl::OkStatus();
}

// One determinism run: phase 0 after a plain reset, phase 1 after a reset
// with explicit seeds. The action stream is seeded from options.seed only,
// and restarted at phase 1, so both phases' actions are independent of
// the make seed (unless masks differ).
absl::StatusOr<std::pair<Trajectory, Trajectory>> PlayForDeterminism(
    const std::string& name, const EnvCheckOptions& options,
    uint64_t make_seed) {
  absl::StatusOr<std::unique_ptr<LocalBatch>> made =
      MakeBatch(name, options, make_seed);
  if (!made.ok()) return made.status();
  LocalBatch& batch = **made;
  const EnvSpec& spec = batch.spec();
  const int copies = options.num_copies;
  Trajectory phases[2];
  for (int phase = 0; phase < 2; ++phase) {
    std::mt19937_64 action_rng(options.seed * 7919 + 17 + phase);
    std::vector<uint64_t> seeds;
    if (phase == 1) {
      for (int c = 0; c < copies; ++c) seeds.push_back(options.seed + 1000 + c);
    }
    if (absl::Status s = batch.ResetAll(seeds); !s.ok()) return s;
    Record(spec, batch, copies, absl::StrCat("phase ", phase, " reset"),
           &phases[phase]);
    std::vector<std::vector<int64_t>> discrete;
    std::vector<std::vector<float>> continuous;
    for (int step = 1; step <= options.determinism_steps; ++step) {
      SampleRandomActions(spec, copies, CurrentMasks(spec, batch), action_rng,
                          &discrete, &continuous);
      if (absl::Status s = batch.StepAll(discrete, continuous); !s.ok()) {
        return s;
      }
      Record(spec, batch, copies, absl::StrCat("phase ", phase, " step ", step),
             &phases[phase]);
    }
  }
  return std::make_pair(std::move(phases[0]), std::move(phases[1]));
}

}  // namespace

absl::Status CheckSpaceWellFormed(const Space& space) {
  return space.Validate();
}

absl::Status CheckObservationInSpace(const Space& space, const float* values) {
  if (space.is_box()) return space.CheckFloat(values);
  const int64_t size = space.FlatSize();
  for (int64_t k = 0; k < size; ++k) {
    const float v = values[k];
    const int64_t n = space.is_discrete() ? space.n : space.nvec[k];
    if (!(v >= 0 && v < n) || v != std::floor(v)) {
      return absl::OutOfRangeError(absl::StrCat("element ", k, " = ", v,
                                                " is not an integer in [0, ", n,
                                                ") of ", space.DebugString()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSpec(const EnvSpec& spec) {
  const int n = spec.num_agents();
  if (n < 1) return absl::InvalidArgumentError("no agents");
  std::set<std::string> ids;
  for (const std::string& id : spec.agent_ids) {
    if (id.empty()) return absl::InvalidArgumentError("empty agent id");
    if (!ids.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("agent id '", id, "' repeated"));
    }
  }
  if (static_cast<int>(spec.observation_spaces.size()) != n ||
      static_cast<int>(spec.action_spaces.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(n, " agents but ", spec.observation_spaces.size(),
                     " observation spaces and ", spec.action_spaces.size(),
                     " action spaces"));
  }
  for (int agent = 0; agent < n; ++agent) {
    const std::string& id = spec.agent_ids[agent];
    if (absl::Status s = CheckSpaceWellFormed(spec.observation_spaces[agent]);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("observation space of '", id, "': ", s.message()));
    }
    if (absl::Status s = CheckSpaceWellFormed(spec.action_spaces[agent]);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("action space of '", id, "': ", s.message()));
    }
  }
  if (spec.has_public_observation) {
    if (absl::Status s = CheckSpaceWellFormed(spec.public_observation_space);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("public observation space: ", s.message()));
    }
  }
  if (spec.has_state) {
    if (absl::Status s = CheckSpaceWellFormed(spec.state_space); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("state space: ", s.message()));
    }
  }
  if (spec.episode_limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("negative episode_limit ", spec.episode_limit));
  }
  std::set<std::string> keys;
  for (const std::string& key : spec.info_keys) {
    if (key.empty()) return absl::InvalidArgumentError("empty info key");
    if (!keys.insert(key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("info key '", key, "' repeated"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRegistration(const std::string& name,
                               const EnvCheckOptions& options) {
  const EnvRegistry& registry = EnvRegistry::Global();
  absl::StatusOr<const EnvRegistration*> registration = registry.Find(name);
  if (!registration.ok()) return registration.status();
  if ((*registration)->description.empty()) {
    return Error(name, "empty description");
  }
  std::set<std::string> names;
  for (const SettingDecl& decl : AcceptedSettings(**registration)) {
    if (decl.name.empty()) return Error(name, "a setting has no name");
    if (decl.description.empty()) {
      return Error(
          name, absl::StrCat("setting '", decl.name, "' has no description"));
    }
    if (!names.insert(decl.name).second) {
      return Error(name,
                   absl::StrCat("setting '", decl.name, "' declared twice"));
    }
  }
  auto check_make = [&](const std::map<std::string, SettingValue>& given,
                        const std::string& which) -> absl::Status {
    absl::StatusOr<std::unique_ptr<Env>> env = registry.Make(name, given);
    if (!env.ok()) {
      return Error(name, absl::StrCat("cannot make with ", which, ": ",
                                      env.status().ToString()));
    }
    if (absl::Status s = CheckSpec((*env)->spec()); !s.ok()) {
      return Error(name, absl::StrCat("spec with ", which, ": ", s.message()));
    }
    // The server asks for the estimate before it builds: it must accept
    // what the factory accepts.
    absl::StatusOr<Settings> settings =
        Settings::Resolve(AcceptedSettings(**registration), given);
    if (!settings.ok()) return settings.status();
    absl::StatusOr<int64_t> bytes =
        EstimateCopyBytes(**registration, *settings);
    if (!bytes.ok()) {
      return Error(name, absl::StrCat("memory estimate with ", which, ": ",
                                      bytes.status().ToString()));
    }
    if (*bytes <= 0) {
      return Error(name, absl::StrCat("memory estimate with ", which, " is ",
                                      *bytes, " bytes"));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check_make({}, "defaults"); !s.ok()) return s;
  if (absl::Status s = check_make(options.settings, "the given settings");
      !s.ok()) {
    return s;
  }
  return absl::OkStatus();
}

void SampleRandomActions(const EnvSpec& spec, int num_copies,
                         const std::vector<std::vector<bool>>& masks,
                         std::mt19937_64& rng,
                         std::vector<std::vector<int64_t>>* discrete,
                         std::vector<std::vector<float>>* continuous) {
  const int n_agents = spec.num_agents();
  discrete->assign(n_agents, {});
  continuous->assign(n_agents, {});
  std::vector<int64_t> legal;
  for (int agent = 0; agent < n_agents; ++agent) {
    const Space& space = spec.action_spaces[agent];
    for (int c = 0; c < num_copies; ++c) {
      if (space.is_discrete()) {
        legal.clear();
        if (agent < static_cast<int>(masks.size()) && !masks[agent].empty()) {
          for (int64_t a = 0; a < space.n; ++a) {
            if (masks[agent][c * space.n + a]) legal.push_back(a);
          }
        }
        if (legal.empty()) {
          (*discrete)[agent].push_back(
              std::uniform_int_distribution<int64_t>(0, space.n - 1)(rng));
        } else {
          (*discrete)[agent].push_back(
              legal[std::uniform_int_distribution<size_t>(
                  0, legal.size() - 1)(rng)]);
        }
      } else if (space.is_multi_discrete()) {
        for (int64_t n : space.nvec) {
          (*discrete)[agent].push_back(
              std::uniform_int_distribution<int64_t>(0, n - 1)(rng));
        }
      } else {
        for (int64_t k = 0; k < space.FlatSize(); ++k) {
          (*continuous)[agent].push_back(
              SampleBoxElement(space.low[k], space.high[k], rng));
        }
      }
    }
  }
}

absl::Status CheckRandomPlay(const std::string& name,
                             const EnvCheckOptions& options) {
  absl::StatusOr<std::unique_ptr<LocalBatch>> made =
      MakeBatch(name, options, options.seed);
  if (!made.ok()) return made.status();
  LocalBatch& batch = **made;
  const EnvSpec& spec = batch.spec();
  if (absl::Status s = CheckSpec(spec); !s.ok()) {
    return Error(name, s.ToString());
  }
  const int copies = options.num_copies;
  const int limit = spec.episode_limit;
  const int bound = limit > 0 ? limit : options.max_episode_steps;
  const BatchLayout layout(spec);

  if (absl::Status s = batch.ResetAll(); !s.ok()) return s;
  if (absl::Status s = CheckRows(name, spec, batch, copies, "after reset");
      !s.ok()) {
    return s;
  }
  for (int c = 0; c < copies; ++c) {
    if (batch.episode_step(c) != 0) {
      return Error(name, absl::StrCat("episode_step ", batch.episode_step(c),
                                      " after reset, copy ", c));
    }
  }

  std::mt19937_64 action_rng(options.seed);
  std::vector<std::vector<int64_t>> discrete;
  std::vector<std::vector<float>> continuous;
  std::vector<int> length(copies, 0);
  int episodes = 0;
  for (int64_t step = 1; episodes < options.num_episodes; ++step) {
    SampleRandomActions(spec, copies, CurrentMasks(spec, batch), action_rng,
                        &discrete, &continuous);
    if (absl::Status s = batch.StepAll(discrete, continuous); !s.ok()) {
      return Error(
          name, absl::StrCat("step ", step,
                             " rejected random legal actions: ", s.ToString()));
    }
    const std::string when = absl::StrCat("step ", step);
    if (absl::Status s = CheckRows(name, spec, batch, copies, when); !s.ok()) {
      return s;
    }
    std::vector<int32_t> expected_final;
    for (int c = 0; c < copies; ++c) {
      const std::string where = absl::StrCat(when, ", copy ", c);
      ++length[c];
      const bool terminated = batch.terminated(c);
      const bool truncated = batch.truncated(c);
      if (truncated && (limit == 0 || length[c] != limit)) {
        return Error(name, absl::StrCat(where, ": truncated after ", length[c],
                                        " steps with episode_limit ", limit));
      }
      if (!terminated && !truncated) {
        if (length[c] >= bound) {
          return Error(name,
                       absl::StrCat(where, ": episode still running after ",
                                    length[c], " steps"));
        }
        if (batch.episode_step(c) != length[c]) {
          return Error(name, absl::StrCat(where, ": episode_step ",
                                          batch.episode_step(c), ", expected ",
                                          length[c]));
        }
        continue;
      }
      // The ended row reports the ended episode: its reward, flags and
      // length (env_batch's reading of the protocol's auto-reset rule).
      if (batch.episode_step(c) != length[c]) {
        return Error(name, absl::StrCat(where, ": ended row has episode_step ",
                                        batch.episode_step(c), ", expected ",
                                        length[c]));
      }
      expected_final.push_back(c);
      length[c] = 0;
      ++episodes;
    }
    if (batch.final_rows() != expected_final) {
      return Error(name, absl::StrCat(when, ": final_rows [",
                                      absl::StrJoin(batch.final_rows(), ","),
                                      "], expected [",
                                      absl::StrJoin(expected_final, ","), "]"));
    }
    for (size_t k = 0; k < expected_final.size(); ++k) {
      for (int agent = 0; agent < spec.num_agents(); ++agent) {
        const int64_t size = layout.observation_size[agent];
        if (absl::Status s = CheckObservationInSpace(
                spec.observation_spaces[agent],
                batch.final_observation(agent).data() + k * size);
            !s.ok()) {
          return Error(name,
                       absl::StrCat(when, ", copy ", expected_final[k],
                                    ", final observation of '",
                                    spec.agent_ids[agent], "': ", s.message()));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDeterminism(const std::string& name,
                              const EnvCheckOptions& options) {
  auto first = PlayForDeterminism(name, options, options.seed);
  if (!first.ok()) return first.status();
  auto second = PlayForDeterminism(name, options, options.seed);
  if (!second.ok()) return second.status();
  for (int phase = 0; phase < 2; ++phase) {
    const Trajectory& a = phase == 0 ? first->first : first->second;
    const Trajectory& b = phase == 0 ? second->first : second->second;
    if (absl::Status s = Compare(a, b); !s.ok()) {
      return Error(name, absl::StrCat("same seed, different trajectories: ",
                                      s.message()));
    }
  }
  auto other = PlayForDeterminism(name, options, options.seed + 1);
  if (!other.ok()) return other.status();
  if (absl::Status s = Compare(first->second, other->second); !s.ok()) {
    return Error(
        name,
        absl::StrCat(
            "reset with explicit seeds did not restart the random streams: ",
            s.message()));
  }
  const absl::Status differs = Compare(first->first, other->first);
  if (options.stochastic && differs.ok()) {
    return Error(
        name,
        "seeds " + absl::StrCat(options.seed) + " and " +
            absl::StrCat(options.seed + 1) +
            " gave identical trajectories for an env declared stochastic");
  }
  if (!options.stochastic && !differs.ok()) {
    return Error(name, absl::StrCat("the make seed changed the trajectory of "
                                    "an env declared deterministic: ",
                                    differs.message()));
  }
  return absl::OkStatus();
}

absl::Status RunEnvChecks(const std::string& name,
                          const EnvCheckOptions& options) {
  if (absl::Status s = CheckRegistration(name, options); !s.ok()) return s;
  if (absl::Status s = CheckRandomPlay(name, options); !s.ok()) return s;
  return CheckDeterminism(name, options);
}

}  // namespace marl
