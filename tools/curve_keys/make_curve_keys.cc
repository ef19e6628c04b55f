// make_curve_keys: writes a CURVE key pair as ZeroMQ certificate files,
// OUT_DIR/NAME.key (public: give it to the other side) and
// OUT_DIR/NAME.key_secret (keep it; mode 0600). The files are the format
// pyzmq's zmq.auth.load_certificate reads.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "protocol/curve.h"
#include "protocol/working_directory.h"

ABSL_FLAG(std::string, out_dir, "",
          "Required. Existing directory to write NAME.key and "
          "NAME.key_secret into.");
ABSL_FLAG(std::string, name, "",
          "Required. Base name of the files, e.g. 'server' or 'agent1'.");
ABSL_FLAG(bool, overwrite, false,
          "Replace existing files of that name (their old keys stop "
          "working).");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes a CURVE key pair for env_server and its clients.\n"
      "  make_curve_keys --out_dir=DIR --name=NAME\n"
      "Server: env_server --curve_secret_key_file=DIR/server.key_secret\n"
      "Client: --curve_server_key_file=DIR/server.key "
      "[--curve_client_key_file=DIR/NAME.key_secret]");
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "tools/curve_keys/make_curve_keys.cc");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    std::fprintf(stderr,
                 "make_curve_keys: unexpected argument '%s' (flags are "
                 "--name=value)\n",
                 positional[1]);
    return 2;
  }
  // Under `bazel run` a relative --out_dir means the caller's directory.
  if (absl::Status s = marl::EnterBazelRunDirectory(); !s.ok()) {
    std::fprintf(stderr, "make_curve_keys: %s\n",
                 std::string(s.message()).c_str());
    return 1;
  }
  const std::string out_dir = absl::GetFlag(FLAGS_out_dir);
  const std::string name = absl::GetFlag(FLAGS_name);
  if (out_dir.empty() || name.empty()) {
    std::fprintf(stderr,
                 "make_curve_keys: --out_dir and --name are required\n");
    return 2;
  }
  absl::StatusOr<marl::CurveKeyPair> keys = marl::GenerateCurveKeyPair();
  absl::Status status =
      keys.ok() ? marl::WriteCurveCertificates(out_dir, name, *keys,
                                               absl::GetFlag(FLAGS_overwrite))
                : keys.status();
  if (!status.ok()) {
    std::fprintf(stderr, "make_curve_keys: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  std::printf("wrote %s/%s.key (public) and %s/%s.key_secret (secret)\n",
              out_dir.c_str(), name.c_str(), out_dir.c_str(), name.c_str());
  return 0;
}
