#include "envs/core/registry.h"

#include <cstdio>
#include <cstdlib>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envs/core/message_channel.h"

namespace marl {

EnvRegistry& EnvRegistry::Global() {
  static EnvRegistry* const registry = new EnvRegistry();
  return *registry;
}

void EnvRegistry::Register(EnvRegistration registration) {
  const std::string name = registration.name;
  for (const SettingDecl& decl : registration.settings) {
    if (decl.name == kMessageSizeSetting) {
      // The registry's own setting: a programming error caught at start.
      std::fprintf(stderr,
                   "environment '%s' declares the reserved setting "
                   "'%s'\n",
                   name.c_str(), decl.name.c_str());
      std::abort();
    }
  }
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

int64_t DefaultCopyBytesEstimate(const Settings& settings) {
  // The Env object, its spec and its engine state: a few kilobytes.
  constexpr int64_t kOverhead = 16 << 10;
  int64_t bytes = kOverhead;
  for (const auto& [name, value] : settings.values()) {
    int64_t size = static_cast<int64_t>(name.size()) + 64;
    if (const auto* text = std::get_if<std::string>(&value)) {
      size += static_cast<int64_t>(text->size());
    } else if (const auto* array = std::get_if<DoubleArray>(&value)) {
      size += static_cast<int64_t>(sizeof(double) * array->values.size() +
                                   sizeof(int64_t) * array->shape.size());
    }
    // Sizes of values already in memory cannot overflow int64 when summed.
    bytes += size;
  }
  return bytes;
}

std::vector<SettingDecl> AcceptedSettings(const EnvRegistration& registration) {
  std::vector<SettingDecl> accepted = registration.settings;
  accepted.push_back(MessageSizeDecl());
  return accepted;
}

absl::StatusOr<std::unique_ptr<Env>> BuildCopy(
    const EnvRegistration& registration, const Settings& settings) {
  absl::StatusOr<std::unique_ptr<Env>> env = registration.factory(settings);
  if (!env.ok()) return env.status();
  const int64_t message_size = settings.GetInt(kMessageSizeSetting);
  if (message_size == 0) return env;
  absl::StatusOr<std::unique_ptr<Env>> channel =
      AddMessageChannel(*std::move(env), message_size);
  if (!channel.ok()) {
    return absl::Status(channel.status().code(),
                        absl::StrCat("environment '", registration.name,
                                     "': ", channel.status().message()));
  }
  return channel;
}

absl::StatusOr<int64_t> EstimateCopyBytes(const EnvRegistration& registration,
                                          const Settings& settings) {
  if (registration.estimate_copy_bytes) {
    return registration.estimate_copy_bytes(settings);
  }
  return DefaultCopyBytesEstimate(settings);
}

absl::StatusOr<std::unique_ptr<Env>> EnvRegistry::Make(
    const std::string& name,
    const std::map<std::string, SettingValue>& given) const {
  absl::StatusOr<const EnvRegistration*> registration = Find(name);
  if (!registration.ok()) return registration.status();
  absl::StatusOr<Settings> settings =
      Settings::Resolve(AcceptedSettings(**registration), given);
  if (!settings.ok()) return settings.status();
  return BuildCopy(**registration, *settings);
}

}  // namespace marl
