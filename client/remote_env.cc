#include "client/remote_env.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "protocol/protocol_arrays.h"
#include "protocol/protocol_convert.h"

namespace marl {

absl::StatusOr<std::map<std::string, std::string>> ParseSettingsFlag(
    const std::string& text) {
  std::map<std::string, std::string> settings;
  size_t start = 0;
  while (start < text.size()) {
    // Split at the next comma outside brackets.
    size_t end = start;
    int depth = 0;
    while (end < text.size() && !(text[end] == ',' && depth == 0)) {
      if (text[end] == '[') ++depth;
      if (text[end] == ']') --depth;
      ++end;
    }
    // Spaces around items, names and values ("a=1, b=2") are not part of
    // them.
    const absl::string_view item = absl::StripAsciiWhitespace(
        absl::string_view(text).substr(start, end - start));
    start = end + 1;
    if (item.empty()) continue;
    const size_t equals = item.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("setting '", item, "' is not name=value"));
    }
    const std::string name(absl::StripAsciiWhitespace(item.substr(0, equals)));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("setting '", item, "' has an empty name"));
    }
    const std::string value(
        absl::StripAsciiWhitespace(item.substr(equals + 1)));
    if (!settings.emplace(name, value).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("setting '", name, "' given twice"));
    }
  }
  return settings;
}

absl::StatusOr<std::unique_ptr<RemoteEnv>> RemoteEnv::Make(
    EnvClient* client, const std::string& env_name,
    const std::map<std::string, std::string>& settings, int num_copies,
    uint64_t seed, bool auto_reset) {
  proto::MakeRequest make;
  make.set_name(env_name);
  make.set_num_copies(num_copies);
  make.set_seed(seed);
  make.set_auto_reset(auto_reset ? proto::SAME_STEP : proto::NONE);
  if (!settings.empty()) {
    // Text settings take the types the server declares.
    absl::StatusOr<proto::ListEnvironmentsResponse> list =
        client->ListEnvironments();
    if (!list.ok()) return list.status();
    const proto::EnvironmentInfo* info = nullptr;
    for (const proto::EnvironmentInfo& env : list->environments()) {
      if (env.name() == env_name) info = &env;
    }
    if (info == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("the server has no environment '", env_name, "'"));
    }
    for (const auto& [name, text] : settings) {
      const proto::SettingSpec* declared = nullptr;
      for (const proto::SettingSpec& spec : info->settings()) {
        if (spec.name() == name) declared = &spec;
      }
      if (declared == nullptr) {
        std::string known;
        for (const proto::SettingSpec& spec : info->settings()) {
          absl::StrAppend(&known, known.empty() ? "" : ", ", spec.name());
        }
        return absl::InvalidArgumentError(
            absl::StrCat("environment '", env_name, "' has no setting '", name,
                         "'; known: ", known.empty() ? "(none)" : known));
      }
      absl::StatusOr<SettingValue> like = FromProto(declared->default_value());
      if (!like.ok()) return like.status();
      absl::StatusOr<SettingValue> value = ParseSettingValue(text, *like);
      if (!value.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("setting '", name, "': ", value.status().message()));
      }
      proto::Setting* setting = make.add_settings();
      setting->set_name(name);
      ToProto(*value, setting->mutable_value());
    }
  }
  absl::StatusOr<proto::MakeResponse> made = client->Make(make);
  if (!made.ok()) return made.status();
  std::unique_ptr<RemoteEnv> env(
      new RemoteEnv(client, made->handle(), made->spec()));
  absl::StatusOr<EnvSpec> spec = FromProto(made->spec());
  if (!spec.ok()) return spec.status();
  env->spec_ = *std::move(spec);
  env->step_request_.set_handle(env->handle_);
  env->discrete_.resize(env->num_agents());
  env->continuous_.resize(env->num_agents());
  for (int agent = 0; agent < env->num_agents(); ++agent) {
    env->step_request_.add_actions();
    const Space& space = env->spec_.action_spaces[agent];
    const int64_t count = env->num_copies() * space.FlatSize();
    if (space.is_integer()) {
      env->discrete_[agent].assign(count, 0);
    } else {
      // Start at a legal action: the middle of the box.
      env->continuous_[agent].resize(count);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t k = i % space.FlatSize();
        env->continuous_[agent][i] = 0.5f * (space.low[k] + space.high[k]);
      }
    }
  }
  return env;
}

RemoteEnv::RemoteEnv(EnvClient* client, uint64_t handle,
                     proto::EnvSpec proto_spec)
    : client_(client), handle_(handle), proto_spec_(std::move(proto_spec)) {}

RemoteEnv::~RemoteEnv() {
  // Best effort: a vanished server expires the handle by itself, so once a
  // call went unanswered, closing would only wait a full timeout again.
  if (client_->connection_lost()) return;
  client_->Close(handle_).IgnoreError();
}

absl::StatusOr<const proto::TimeStep*> RemoteEnv::Reset(
    const std::vector<uint64_t>& seeds) {
  proto::ResetRequest request;
  request.set_handle(handle_);
  request.mutable_seeds()->Add(seeds.begin(), seeds.end());
  return client_->Reset(request);
}

std::vector<int64_t>& RemoteEnv::discrete_actions(int agent) {
  return discrete_[agent];
}

std::vector<float>& RemoteEnv::continuous_actions(int agent) {
  return continuous_[agent];
}

absl::Status RemoteEnv::StartStep() {
  // Copy into the reused request (capacity kept across steps).
  for (int agent = 0; agent < num_agents(); ++agent) {
    proto::AgentActions* actions = step_request_.mutable_actions(agent);
    SetArray<int64_t>(discrete_[agent], actions->mutable_discrete());
    SetArray<float>(continuous_[agent], actions->mutable_continuous());
  }
  return client_->StartStep(step_request_);
}

absl::StatusOr<const proto::TimeStep*> RemoteEnv::FinishStep() {
  return client_->FinishStep();
}

absl::StatusOr<const proto::TimeStep*> RemoteEnv::Step() {
  if (absl::Status s = StartStep(); !s.ok()) return s;
  return FinishStep();
}

}  // namespace marl
