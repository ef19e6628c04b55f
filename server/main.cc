// env_server: serves every registered environment over the protocol in
// protocol/proto/env_protocol.proto until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "envs/core/registry.h"
#include "protocol/endpoint.h"
#include "protocol/working_directory.h"
#include "server/env_server.h"

ABSL_FLAG(std::string, endpoint, "tcp://127.0.0.1:5555",
          "Comma-separated endpoints to bind: tcp://HOST:PORT (loopback by "
          "default; port 0 picks a free one), ipc://PATH, inproc://NAME.");
ABSL_FLAG(int, workers, 1,
          "Worker threads that step the copies of expensive batches beside "
          "the thread running the request (see --parallel_min_us).");
ABSL_FLAG(int64_t, parallel_min_us, 200,
          "A reset or step is split over the --workers only when predicted "
          "(the handle's measured time per copy on one thread, times its "
          "copies) to take at least this many microseconds; cheaper ones run "
          "on one thread, as waking a worker costs tens of microseconds "
          "(so do a handle's first reset and step: not yet measured). "
          "0 = split every batch.");
ABSL_FLAG(int, idle_timeout_seconds, 600,
          "Close handles unused for this long (0 = never).");
ABSL_FLAG(int, max_copies_per_handle, 1 << 16,
          "Largest num_copies a make request may ask for.");
ABSL_FLAG(int, max_handles, 1 << 12,
          "Most handles open at once, all clients together (0 = no limit).");
ABSL_FLAG(int, max_handles_per_client, 1 << 10,
          "Most handles one client may hold at once (a client is its CURVE "
          "key under CURVE, else its connection; 0 = no limit).");
ABSL_FLAG(int64_t, max_message_bytes, int64_t{64} << 20,
          "Largest request frame accepted; ZeroMQ drops the connection of a "
          "peer that sends a bigger one (0 = no limit).");
ABSL_FLAG(int64_t, max_handle_bytes, int64_t{1} << 30,
          "Memory estimate one handle may take (its copies and buffers, "
          "estimated from the settings before anything is built; 0 = no "
          "limit).");
ABSL_FLAG(int64_t, max_client_bytes, int64_t{2} << 30,
          "Memory estimate one client's handles may take together (0 = no "
          "limit).");
ABSL_FLAG(int64_t, max_server_bytes, int64_t{4} << 30,
          "Memory estimate all handles may take together (0 = no limit).");
ABSL_FLAG(int, request_threads, 2,
          "Threads running requests that may be slow (makes, and resets and "
          "steps predicted to take over --inline_budget_us), so they never "
          "hold up other clients.");
ABSL_FLAG(int64_t, inline_budget_us, 250,
          "Resets and steps predicted (from the handle's measured cost per "
          "copy) to take at most this long run on the serving thread.");
ABSL_FLAG(bool, list, false,
          "Print the registered environments and their settings, then exit.");
ABSL_FLAG(bool, allow_remote_clients, false,
          "Allow binding tcp addresses other than loopback (127.0.0.0/8, ::1, "
          "localhost). Risk: anyone who can reach the port can run "
          "environments here and use this machine's CPU and memory; use "
          "CURVE (--curve_secret_key_file, --curve_authorized_keys) to admit "
          "only known clients.");
ABSL_FLAG(std::string, curve_secret_key_file, "",
          "This server's secret CURVE certificate (NAME.key_secret, from "
          "make_curve_keys): turns on CURVE encryption and authentication. "
          "Clients need the matching public NAME.key.");
ABSL_FLAG(std::string, curve_authorized_keys, "",
          "A directory of clients' public CURVE certificates (*.key): only "
          "those clients are served. Empty: any client that knows this "
          "server's public key is served. Needs --curve_secret_key_file.");

namespace {
marl::EnvServer* g_server = nullptr;
void HandleSignal(int) {
  if (g_server != nullptr) g_server->Stop();
}
}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Environment server: speaks the marl.env.v3 protocol over ZeroMQ.\n"
      "  env_server --endpoint=tcp://127.0.0.1:5555");
  // --help lists this file's flags (Abseil's default matches only a file
  // named after the binary, env_server.cc).
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "server/main.cc");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);
  // Relative key-file paths under `bazel run` mean the caller's directory.
  if (absl::Status s = marl::EnterBazelRunDirectory(); !s.ok()) {
    std::fprintf(stderr, "env_server: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_list)) {
    for (const marl::EnvRegistration* env :
         marl::EnvRegistry::Global().List()) {
      std::printf("%s: %s\n", env->name.c_str(), env->description.c_str());
      for (const marl::SettingDecl& decl : marl::AcceptedSettings(*env)) {
        std::printf("    %s (%s, default %s): %s\n", decl.name.c_str(),
                    marl::SettingTypeName(decl.default_value).c_str(),
                    marl::SettingValueToString(decl.default_value).c_str(),
                    decl.description.c_str());
      }
    }
    return 0;
  }
  marl::ServerOptions options;
  options.worker_threads = absl::GetFlag(FLAGS_workers);
  options.parallel_min_us = absl::GetFlag(FLAGS_parallel_min_us);
  options.idle_handle_timeout_seconds =
      absl::GetFlag(FLAGS_idle_timeout_seconds);
  options.max_copies_per_handle = absl::GetFlag(FLAGS_max_copies_per_handle);
  options.max_handles = absl::GetFlag(FLAGS_max_handles);
  options.max_handles_per_client = absl::GetFlag(FLAGS_max_handles_per_client);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.max_handle_bytes = absl::GetFlag(FLAGS_max_handle_bytes);
  options.max_client_bytes = absl::GetFlag(FLAGS_max_client_bytes);
  options.max_server_bytes = absl::GetFlag(FLAGS_max_server_bytes);
  options.request_threads = absl::GetFlag(FLAGS_request_threads);
  options.inline_budget_us = absl::GetFlag(FLAGS_inline_budget_us);
  for (const auto& [name, value] : std::vector<std::pair<const char*, int64_t>>{
           {"max_handles", options.max_handles},
           {"max_handles_per_client", options.max_handles_per_client},
           {"max_message_bytes", options.max_message_bytes},
           {"max_handle_bytes", options.max_handle_bytes},
           {"max_client_bytes", options.max_client_bytes},
           {"max_server_bytes", options.max_server_bytes},
           {"inline_budget_us", options.inline_budget_us},
           {"parallel_min_us", options.parallel_min_us},
           {"idle_timeout_seconds", options.idle_handle_timeout_seconds},
           {"workers", options.worker_threads}}) {
    if (value < 0) {
      std::fprintf(stderr, "env_server: --%s must be >= 0, got %lld\n", name,
                   static_cast<long long>(value));
      return 1;
    }
  }
  if (options.max_copies_per_handle < 1 || options.request_threads < 1) {
    std::fprintf(stderr,
                 "env_server: --max_copies_per_handle and --request_threads "
                 "must be >= 1\n");
    return 1;
  }
  options.curve_secret_key_file = absl::GetFlag(FLAGS_curve_secret_key_file);
  options.curve_authorized_keys = absl::GetFlag(FLAGS_curve_authorized_keys);

  const std::vector<std::string> endpoints =
      absl::StrSplit(absl::GetFlag(FLAGS_endpoint), ',', absl::SkipEmpty());
  std::string warning;
  if (absl::Status status = marl::CheckServerExposure(
          endpoints, absl::GetFlag(FLAGS_allow_remote_clients),
          !options.curve_secret_key_file.empty(), &warning);
      !status.ok()) {
    std::fprintf(stderr, "env_server: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  if (!warning.empty())
    std::fprintf(stderr, "env_server: %s\n", warning.c_str());

  zmq::context_t context(1);
  marl::EnvServer server(&context, options);
  for (const std::string& endpoint : endpoints) {
    if (absl::Status status = server.Bind(endpoint); !status.ok()) {
      std::fprintf(stderr, "env_server: %s\n",
                   std::string(status.message()).c_str());
      return 1;
    }
    std::printf("env_server: listening on %s\n",
                server.last_endpoint().c_str());
  }
  std::fflush(stdout);
  g_server = &server;
  std::signal(SIGINT, HandleSignal);
  std::signal(SIGTERM, HandleSignal);
  server.Run();
  std::printf("env_server: stopped\n");
  return 0;
}
