#ifndef MARL_ENVS_CORE_REGISTRY_H_
#define MARL_ENVS_CORE_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"

namespace marl {

// Builds one copy from resolved settings; an error status for settings that
// pass type checks but make no sense (a ragged payoff matrix, n < 2, ...).
using EnvFactory =
    std::function<absl::StatusOr<std::unique_ptr<Env>>(const Settings&)>;

// An upper estimate of the bytes one copy holds (the Env object, its spec
// and its state), from the resolved settings alone, before any copy is
// built: the server checks it against its memory budget first, so settings
// such as num_agents or a payoff's shape cannot allocate past the budget.
// An error status for settings out of range.
using CopyBytesEstimate =
    std::function<absl::StatusOr<int64_t>(const Settings&)>;

struct EnvRegistration {
  std::string name;
  std::string description;  // one line
  std::vector<SettingDecl> settings;
  EnvFactory factory;
  // Optional; without it, DefaultCopyBytesEstimate.
  CopyBytesEstimate estimate_copy_bytes = nullptr;
};

// The estimate for environments that give none: a fixed overhead plus the
// size of every setting value (an environment keeps copies of its arrays).
int64_t DefaultCopyBytesEstimate(const Settings& settings);

// The settings `registration` accepts: its own declarations, then those
// every environment has, which the registry adds (message_size: the
// protocol's message channel, envs/core/message_channel.h).
std::vector<SettingDecl> AcceptedSettings(const EnvRegistration& registration);

// One copy from settings resolved against AcceptedSettings: the factory's
// environment, behind the message channel when message_size > 0 (an error
// naming the environment when it cannot host one).
absl::StatusOr<std::unique_ptr<Env>> BuildCopy(
    const EnvRegistration& registration, const Settings& settings);

// The registration's estimate (or the default) for `settings`.
absl::StatusOr<int64_t> EstimateCopyBytes(const EnvRegistration& registration,
                                          const Settings& settings);

// The process-wide table of environments. Environments add themselves at
// static-initialisation time with MARL_REGISTER_ENV, so adding one touches no
// central list (their cc_library needs alwayslink = 1).
class EnvRegistry {
 public:
  static EnvRegistry& Global();

  void Register(EnvRegistration registration);
  // Sorted by name.
  std::vector<const EnvRegistration*> List() const;
  // NOT_FOUND, listing the known names, for an unknown one.
  absl::StatusOr<const EnvRegistration*> Find(const std::string& name) const;

  // Resolves `given` against AcceptedSettings and builds one copy
  // (BuildCopy).
  absl::StatusOr<std::unique_ptr<Env>> Make(
      const std::string& name,
      const std::map<std::string, SettingValue>& given) const;

 private:
  std::map<std::string, EnvRegistration> registrations_;
};

struct EnvRegisterer {
  explicit EnvRegisterer(EnvRegistration registration) {
    EnvRegistry::Global().Register(std::move(registration));
  }
};

#define MARL_REGISTER_ENV_CONCAT_INNER(a, b) a##b
#define MARL_REGISTER_ENV_CONCAT(a, b) MARL_REGISTER_ENV_CONCAT_INNER(a, b)
// MARL_REGISTER_ENV({"name", "description", {settings...}, factory});
#define MARL_REGISTER_ENV(...)                                 \
  static const ::marl::EnvRegisterer MARL_REGISTER_ENV_CONCAT( \
      marl_env_registerer_, __COUNTER__)(::marl::EnvRegistration __VA_ARGS__)

}  // namespace marl

#endif  // MARL_ENVS_CORE_REGISTRY_H_
