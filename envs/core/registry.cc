#include "envs/core/registry.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace marl {

EnvRegistry& EnvRegistry::Global() {
  static EnvRegistry* const registry = new EnvRegistry();
  return *registry;
}

void EnvRegistry::Register(EnvRegistration registration) {
  const std::string name = registration.name;
  if (!registrations_.emplace(name, std::move(registration)).second) {
    // Two environments with one name is a programming error caught at start.
    std::fprintf(stderr, "environment '%s' registered twice\n", name.c_str());
    std::abort();
  }
}

std::vector<const EnvRegistration*> EnvRegistry::List() const {
  std::vector<const EnvRegistration*> list;
  for (const auto& [name, registration] : registrations_) {
    list.push_back(&registration);
  }
  return list;
}

absl::StatusOr<const EnvRegistration*> EnvRegistry::Find(
    const std::string& name) const {
  auto it = registrations_.find(name);
  if (it == registrations_.end()) {
    std::vector<std::string> known;
    for (const auto& entry : registrations_) known.push_back(entry.first);
    return absl::NotFoundError(
        absl::StrCat("unknown environment '", name,
                     "'; known: ", absl::StrJoin(known, ", ")));
  }
  return &it->second;
}

absl::StatusOr<std::unique_ptr<Env>> EnvRegistry::Make(
    const std::string& name,
    const std::map<std::string, SettingValue>& given) const {
  absl::StatusOr<const EnvRegistration*> registration = Find(name);
  if (!registration.ok()) return registration.status();
  absl::StatusOr<Settings> settings =
      Settings::Resolve((*registration)->settings, given);
  if (!settings.ok()) return settings.status();
  return (*registration)->factory(*settings);
}

}  // namespace marl
