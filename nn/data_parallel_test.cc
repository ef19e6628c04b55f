#include "nn/data_parallel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nn/adam.h"
#include "nn/data_parallel_torch.h"
#include "nn/torch_setup.h"

extern char** environ;

namespace marl {
namespace nn {
namespace {

// The test re-executes its own binary as each rank (fork+exec: a clean
// process, no LibTorch threads inherited); this variable names the child's
// job, MARL_DP_TEST_PARENT the parent's pid.
constexpr char kRoleVariable[] = "MARL_DP_TEST_CHILD";
constexpr char kParentVariable[] = "MARL_DP_TEST_PARENT";
constexpr char kPortVariable[] = "MARL_DP_TEST_PORT";

constexpr const char* kGroupVariables[] = {
    "MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "GLOO_SOCKET_IFNAME"};

// ---------------------------------------------------------------------------
// Child side: a rank. Failed checks are printed and counted, but do not
// change which collectives run, so the other ranks are never left waiting.

int failures = 0;

void Check(bool ok, const std::string& what, int rank) {
  if (ok) return;
  ++failures;
  std::fprintf(stderr, "rank %d: FAILED: %s\n", rank, what.c_str());
}

// Collectives must succeed; if one fails the rank stops (exit code 2).
#define CHILD_OK(expr, rank)                                        \
  do {                                                              \
    const absl::Status child_status = (expr);                       \
    if (!child_status.ok()) {                                       \
      std::fprintf(stderr, "rank %d: %s failed: %s\n", rank, #expr, \
                   child_status.ToString().c_str());                \
      return 2;                                                     \
    }                                                               \
  } while (0)

uint64_t Fnv1a(const void* data, size_t size, uint64_t hash) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash = (hash ^ bytes[i]) * 1099511628211ull;
  }
  return hash;
}

// A digest of the parameters' exact bits.
uint64_t ParamsHash(const std::vector<torch::Tensor>& params) {
  uint64_t hash = 14695981039346656037ull;
  for (const torch::Tensor& p : params) {
    const torch::Tensor c = p.detach().contiguous();
    hash = Fnv1a(c.data_ptr(), c.numel() * c.element_size(), hash);
  }
  return hash;
}

constexpr int kSteps = 20;
constexpr int kShard = 8;
constexpr int kIn = 4;
constexpr int kOut = 2;

// Rank r's batch at step s: its own data (the ranks' batches differ).
std::pair<torch::Tensor, torch::Tensor> Shard(int step, int rank) {
  at::Generator gen = at::detail::createCPUGenerator(1000 * step + rank + 1);
  at::Generator truth_gen = at::detail::createCPUGenerator(99);
  const torch::Tensor w = torch::randn({kIn, kOut}, truth_gen);
  const torch::Tensor x = torch::randn({kShard, kIn}, gen);
  const torch::Tensor y = x.matmul(w) + 0.1 * torch::randn({kShard, kOut}, gen);
  return {x, y};
}

torch::nn::Linear FreshModel() {
  torch::manual_seed(7);  // the same initial parameters on every rank
  return torch::nn::Linear(kIn, kOut);
}

void TrainStep(torch::nn::Linear& model, torch::optim::Optimizer& optimizer,
               const torch::Tensor& x, const torch::Tensor& y) {
  optimizer.zero_grad();
  torch::mse_loss(model->forward(x), y).backward();
  optimizer.step();
}

bool AllEqual(const std::vector<uint64_t>& values) {
  for (uint64_t v : values) {
    if (v != values[0]) return false;
  }
  return true;
}

bool AllDistinct(const std::vector<uint64_t>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = i + 1; j < values.size(); ++j) {
      if (values[i] == values[j]) return false;
    }
  }
  return true;
}

int RunCollectives() {
  UseOneThreadPerProcess();
  absl::StatusOr<std::unique_ptr<DataParallelGroup>> joined =
      DataParallelGroup::FromEnvironment();
  if (!joined.ok() || *joined == nullptr) {
    std::fprintf(stderr, "FromEnvironment: %s\n",
                 joined.ok() ? "no group" : joined.status().ToString().c_str());
    return 2;
  }
  DataParallelGroup& group = **joined;
  const int rank = group.rank();
  const int n = group.world_size();

  // (a) BroadcastBytes: rank 0's bytes everywhere, whatever the others had.
  std::string megabyte(1 << 20, '\0');
  for (size_t i = 0; i < megabyte.size(); ++i) {
    megabyte[i] = static_cast<char>((i * 131 + 7) & 0xff);
  }
  for (const std::string& sent :
       {std::string(), std::string("hello\0world", 11), megabyte}) {
    std::string bytes = rank == 0 ? sent : std::string(rank * 3 + 1, 'x');
    CHILD_OK(group.BroadcastBytes(&bytes), rank);
    Check(bytes == sent, absl::StrCat("broadcast of ", sent.size(), " bytes"),
          rank);
  }

  // (b) AllGather: every rank's value, in rank order (high bits included).
  const auto value_of = [](int r) {
    return 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(r + 1);
  };
  absl::StatusOr<std::vector<uint64_t>> gathered =
      group.AllGather(value_of(rank));
  CHILD_OK(gathered.status(), rank);
  std::vector<uint64_t> expected;
  for (int r = 0; r < n; ++r) expected.push_back(value_of(r));
  Check(*gathered == expected, "all-gather in rank order", rank);
  CHILD_OK(group.Barrier(), rank);

  // AverageGradients' arithmetic (Adam below would hide a wrong scale):
  // the mean, with a missing gradient counted as zeros.
  {
    torch::Tensor everywhere = torch::zeros({2, 3}, torch::requires_grad());
    torch::Tensor root_only = torch::zeros({5}, torch::requires_grad());
    everywhere.mutable_grad() = torch::full({2, 3}, rank + 1.0);
    if (rank == 0) root_only.mutable_grad() = torch::full({5}, 6.0);
    CHILD_OK(AverageGradients(group, {everywhere, root_only}), rank);
    Check(torch::equal(everywhere.grad(), torch::full({2, 3}, (n + 1) / 2.0)),
          "mean gradient", rank);
    Check(root_only.grad().defined() &&
              torch::allclose(root_only.grad(), torch::full({5}, 6.0 / n)),
          "mean with a missing gradient", rank);
  }

  // (c) ForeachAdam over the default group, each rank on its own data.
  torch::nn::Linear parallel = FreshModel();
  {
    ForeachAdam optimizer(parallel->parameters(),
                          torch::optim::AdamOptions(1e-2));
    SetDefaultDataParallelGroup(&group);
    for (int step = 0; step < kSteps; ++step) {
      auto [x, y] = Shard(step, rank);
      TrainStep(parallel, optimizer, x, y);
    }
    SetDefaultDataParallelGroup(nullptr);
    CHILD_OK(DataParallelStatus(), rank);
  }
  gathered = group.AllGather(ParamsHash(parallel->parameters()));
  CHILD_OK(gathered.status(), rank);
  Check(AllEqual(*gathered), "replicas bit-identical after averaging", rank);

  // The same as one process on the concatenated batch: equal shards' mean
  // gradients average to the full batch's mean gradient.
  torch::nn::Linear single = FreshModel();
  {
    ForeachAdam optimizer(single->parameters(),
                          torch::optim::AdamOptions(1e-2));
    for (int step = 0; step < kSteps; ++step) {
      std::vector<torch::Tensor> xs, ys;
      for (int r = 0; r < n; ++r) {
        auto [x, y] = Shard(step, r);
        xs.push_back(x);
        ys.push_back(y);
      }
      TrainStep(single, optimizer, torch::cat(xs), torch::cat(ys));
    }
  }
  for (size_t i = 0; i < single->parameters().size(); ++i) {
    const torch::Tensor a = parallel->parameters()[i];
    const torch::Tensor b = single->parameters()[i];
    Check(torch::allclose(a, b, /*rtol=*/1e-5, /*atol=*/1e-6),
          absl::StrCat("parameter ", i, " as one process on the full batch: ",
                       (a - b).abs().max().item<float>(), " apart"),
          rank);
  }
  // Training moved the parameters (the comparison above is not vacuous).
  Check(!torch::allclose(parallel->weight, FreshModel()->weight),
        "training changed the weights", rank);

  // Without the group each rank trains on its own data: they drift apart
  // (so the check above can fail).
  torch::nn::Linear local = FreshModel();
  {
    ForeachAdam optimizer(local->parameters(), torch::optim::AdamOptions(1e-2));
    for (int step = 0; step < kSteps; ++step) {
      auto [x, y] = Shard(step, rank);
      TrainStep(local, optimizer, x, y);
    }
  }
  gathered = group.AllGather(ParamsHash(local->parameters()));
  CHILD_OK(gathered.status(), rank);
  Check(AllDistinct(*gathered), "replicas differ without the group", rank);

  // Parameters with a gradient on some ranks only, or on none, in a second
  // parameter group: every rank ends with the same parameters and defined
  // gradients.
  {
    torch::nn::Linear model = FreshModel();
    torch::Tensor lonely = torch::zeros({3}, torch::requires_grad());
    torch::Tensor never = torch::ones({2}, torch::requires_grad());
    std::vector<torch::optim::OptimizerParamGroup> param_groups = {
        torch::optim::OptimizerParamGroup(model->parameters()),
        torch::optim::OptimizerParamGroup({lonely, never})};
    ForeachAdam optimizer(param_groups, torch::optim::AdamOptions(1e-2));
    SetDefaultDataParallelGroup(&group);
    for (int step = 0; step < 5; ++step) {
      auto [x, y] = Shard(step, rank);
      optimizer.zero_grad();
      torch::Tensor loss = torch::mse_loss(model->forward(x), y);
      if (rank == 0) loss = loss + (lonely * (step + 1.0)).sum();
      loss.backward();
      optimizer.step();
    }
    SetDefaultDataParallelGroup(nullptr);
    CHILD_OK(DataParallelStatus(), rank);
    std::vector<torch::Tensor> all = model->parameters();
    all.push_back(lonely);
    all.push_back(never);
    gathered = group.AllGather(ParamsHash(all));
    CHILD_OK(gathered.status(), rank);
    Check(AllEqual(*gathered), "replicas equal with partial gradients", rank);
    Check(!torch::equal(lonely, torch::zeros({3})),
          "rank 0's gradient moved `lonely` everywhere", rank);
    Check(
        never.grad().defined() && torch::equal(never.grad(), torch::zeros({2})),
        "a parameter without gradients gets zeros", rank);
  }

  CHILD_OK(group.Barrier(), rank);
  return failures == 0 ? 0 : 1;
}

// Options for rank `rank` of 2 on loopback at the port the parent chose
// (false if it gave none).
bool PairOptions(int rank, int timeout_seconds, DataParallelOptions* options) {
  int port = 0;
  const char* port_text = std::getenv(kPortVariable);
  if (port_text == nullptr || !absl::SimpleAtoi(port_text, &port)) {
    return false;
  }
  options->master_addr = "127.0.0.1";
  options->master_port = port;
  options->world_size = 2;
  options->rank = rank;
  options->timeout_seconds = timeout_seconds;
  return true;
}

// (e) Nobody hosts the store at the port: an error within a few seconds.
// As rank 0 (hosting it), nobody else joins: the same.
int RunAlone(int rank) {
  DataParallelOptions options;
  if (!PairOptions(rank, 2, &options)) return 2;
  const int port = options.master_port;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<DataParallelGroup>> group =
      DataParallelGroup::Create(options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::fprintf(stderr, "rank %d alone: %.2f s: %s\n", rank, seconds,
               group.status().ToString().c_str());
  Check(!group.ok(), "joining fails", rank);
  Check(absl::IsDeadlineExceeded(group.status()) ||
            absl::IsUnavailable(group.status()),
        "DEADLINE_EXCEEDED or UNAVAILABLE", rank);
  Check(absl::StrContains(group.status().message(),
                          absl::StrCat("127.0.0.1:", port)),
        "the message names MASTER_ADDR:MASTER_PORT", rank);
  Check(seconds < 10, "fails within a few seconds", rank);
  return failures == 0 ? 0 : 1;
}

// A peer that leaves mid-run: the next optimizer step on the other rank
// records the failure and skips its update, and so do later ones; the
// process carries on (no exception, no abort).
int RunPeerExits(int rank) {
  UseOneThreadPerProcess();
  DataParallelOptions options;
  if (!PairOptions(rank, 10, &options)) return 2;
  absl::StatusOr<std::unique_ptr<DataParallelGroup>> group =
      DataParallelGroup::Create(options);
  CHILD_OK(group.status(), rank);
  CHILD_OK((*group)->Barrier(), rank);
  if (rank == 1) return 0;  // gone, without a word to rank 0
  torch::nn::Linear model = FreshModel();
  ForeachAdam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2));
  const uint64_t before = ParamsHash(model->parameters());
  SetDefaultDataParallelGroup(group->get());
  const auto start = std::chrono::steady_clock::now();
  for (int step = 0; step < 3; ++step) {
    auto [x, y] = Shard(step, rank);
    TrainStep(model, optimizer, x, y);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  SetDefaultDataParallelGroup(nullptr);
  const absl::Status status = DataParallelStatus();
  std::fprintf(stderr, "rank 0 after its peer left: %.2f s: %s\n", seconds,
               status.ToString().c_str());
  Check(!status.ok(), "the failure is recorded", rank);
  Check(ParamsHash(model->parameters()) == before, "no update on its own",
        rank);
  Check(seconds < 15, "fails within the timeout", rank);
  return failures == 0 ? 0 : 1;
}

int RunChild(const std::string& role) {
  // Die with the parent (a killed or crashed test leaves no ranks behind);
  // if it is already gone, stop.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const char* parent = std::getenv(kParentVariable);
  if (parent == nullptr || std::to_string(getppid()) != parent) return 3;
  if (role == "collectives") return RunCollectives();
  if (role == "alone_rank0") return RunAlone(0);
  if (role == "alone_rank1") return RunAlone(1);
  if (role == "peer_exits_rank0") return RunPeerExits(0);
  if (role == "peer_exits_rank1") return RunPeerExits(1);
  std::fprintf(stderr, "unknown role %s\n", role.c_str());
  return 3;
}

// ---------------------------------------------------------------------------
// Parent side.

// A port nobody listens on right now.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

// Child processes that are always reaped: the destructor kills and waits
// for any still running, whichever way the test ends.
class Children {
 public:
  Children() = default;
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;
  ~Children() { KillAll(); }

  // Runs this binary with `role` and the environment plus `variables`.
  bool Spawn(const std::string& role,
             const std::map<std::string, std::string>& variables) {
    std::map<std::string, std::string> env = variables;
    env[kRoleVariable] = role;
    env[kParentVariable] = std::to_string(getpid());
    std::vector<std::string> entries;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      const std::string name = entry.substr(0, entry.find('='));
      if (env.count(name) == 0) entries.push_back(entry);
    }
    for (const auto& [name, value] : env) {
      entries.push_back(name + "=" + value);
    }
    std::vector<char*> envp;
    for (std::string& entry : entries) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::string path = "/proc/self/exe";
    char* argv[] = {path.data(), nullptr};
    pid_t pid;
    // posix_spawn: safe from a process with threads (vfork + exec).
    if (posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv, envp.data()) !=
        0) {
      return false;
    }
    pids_.push_back(pid);
    return true;
  }

  // Waits for every child up to `deadline`, and returns their exit codes
  // (-1: killed or crashed). When one fails or time runs out the others are
  // killed (they would only wait for their lost peer).
  std::vector<int> WaitAll(std::chrono::seconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    std::vector<int> codes(pids_.size(), -1);
    std::vector<bool> done(pids_.size(), false);
    size_t remaining = pids_.size();
    bool failed = false;
    while (remaining > 0) {
      for (size_t i = 0; i < pids_.size(); ++i) {
        if (done[i]) continue;
        int status = 0;
        if (waitpid(pids_[i], &status, WNOHANG) != pids_[i]) continue;
        done[i] = true;
        --remaining;
        codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (codes[i] != 0) failed = true;
      }
      if (remaining == 0) break;
      if (failed || std::chrono::steady_clock::now() > end) {
        if (!failed) ADD_FAILURE() << "children still running at the deadline";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (size_t i = 0; i < pids_.size(); ++i) {
      if (done[i]) pids_[i] = -1;
    }
    KillAll();
    return codes;
  }

 private:
  void KillAll() {
    for (pid_t& pid : pids_) {
      if (pid <= 0) continue;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }

  std::vector<pid_t> pids_;
};

void RunWorld(int world_size) {
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Children children;
  for (int rank = 0; rank < world_size; ++rank) {
    ASSERT_TRUE(children.Spawn("collectives",
                               {{"MASTER_ADDR", "127.0.0.1"},
                                {"MASTER_PORT", std::to_string(port)},
                                {"WORLD_SIZE", std::to_string(world_size)},
                                {"RANK", std::to_string(rank)}}));
  }
  const std::vector<int> codes = children.WaitAll(std::chrono::seconds(40));
  for (int rank = 0; rank < world_size; ++rank) {
    EXPECT_EQ(codes[rank], 0) << "rank " << rank << " (see its stderr)";
  }
}

TEST(DataParallelTest, WorldOfTwo) { RunWorld(2); }

TEST(DataParallelTest, WorldOfFour) { RunWorld(4); }

TEST(DataParallelTest, MissingPeersFailFast) {
  Children children;
  ASSERT_TRUE(children.Spawn("alone_rank1",
                             {{kPortVariable, std::to_string(FreePort())}}));
  ASSERT_TRUE(children.Spawn("alone_rank0",
                             {{kPortVariable, std::to_string(FreePort())}}));
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int> codes = children.WaitAll(std::chrono::seconds(20));
  EXPECT_EQ(codes[0], 0) << "rank 1 without a store";
  EXPECT_EQ(codes[1], 0) << "rank 0 without peers";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
}

TEST(DataParallelTest, LostPeerIsRecordedNotFatal) {
  const std::string port = std::to_string(FreePort());
  Children children;
  ASSERT_TRUE(children.Spawn("peer_exits_rank0", {{kPortVariable, port}}));
  ASSERT_TRUE(children.Spawn("peer_exits_rank1", {{kPortVariable, port}}));
  const std::vector<int> codes = children.WaitAll(std::chrono::seconds(30));
  EXPECT_EQ(codes[0], 0) << "rank 0 (see its stderr)";
  EXPECT_EQ(codes[1], 0) << "rank 1";
}

// Sets the group's variables for one scope (nullopt: unset), restoring
// the previous environment after.
class ScopedGroupEnvironment {
 public:
  explicit ScopedGroupEnvironment(
      const std::map<std::string, std::optional<std::string>>& values) {
    for (const char* name : kGroupVariables) {
      const char* old = std::getenv(name);
      saved_[name] =
          old == nullptr ? std::nullopt : std::optional<std::string>(old);
      unsetenv(name);
    }
    for (const auto& [name, value] : values) {
      if (value.has_value()) setenv(name.c_str(), value->c_str(), 1);
    }
  }
  ~ScopedGroupEnvironment() {
    for (const auto& [name, value] : saved_) {
      if (value.has_value()) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

std::map<std::string, std::optional<std::string>> GoodEnvironment() {
  return {{"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", "29500"},
          {"WORLD_SIZE", "2"},
          {"RANK", "1"}};
}

// (d) Bad values: INVALID_ARGUMENT naming the variable, before any
// connection is tried.
TEST(DataParallelTest, BadEnvironmentIsInvalidArgument) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases =
      {
          {"RANK", "5"},
          {"RANK", "2"},
          {"RANK", "-1"},
          {"RANK", "1 "},
          {"RANK", std::nullopt},
          {"WORLD_SIZE", "abc"},
          {"WORLD_SIZE", ""},
          {"WORLD_SIZE", "0"},
          {"WORLD_SIZE", "1025"},
          {"WORLD_SIZE", "+2"},
          {"WORLD_SIZE", "99999999999999999999999999999999"},
          {"WORLD_SIZE", "4294967298"},  // 2 modulo 2^32
          {"MASTER_PORT", "70000"},
          {"MASTER_PORT", "0"},
          {"MASTER_PORT", "0x50"},
          {"MASTER_PORT", std::nullopt},
          {"MASTER_ADDR", std::nullopt},
          {"MASTER_ADDR", ""},
          {"MASTER_ADDR", "host name"},
          {"MASTER_ADDR", "evil\n\x1b[2J"},
          {"MASTER_ADDR", std::string(300, 'a')},
          {"GLOO_SOCKET_IFNAME", "eth0;reboot"},
      };
  for (const auto& [name, value] : cases) {
    auto env = GoodEnvironment();
    env[name] = value;
    ScopedGroupEnvironment scoped(env);
    absl::StatusOr<std::unique_ptr<DataParallelGroup>> group =
        DataParallelGroup::FromEnvironment();
    const std::string shown = absl::StrCat(name, "=", value.value_or("unset"));
    ASSERT_FALSE(group.ok()) << shown;
    EXPECT_TRUE(absl::IsInvalidArgument(group.status())) << shown;
    // Named first: "RANK=...", "MASTER_ADDR is not set", ...
    EXPECT_TRUE(absl::StartsWith(group.status().message(), name))
        << shown << ": " << group.status();
  }
}

TEST(DataParallelTest, SingleProcessEnvironmentHasNoGroup) {
  {
    auto env = GoodEnvironment();
    env["WORLD_SIZE"] = std::nullopt;
    env["MASTER_PORT"] = "garbage";  // unread without WORLD_SIZE
    ScopedGroupEnvironment scoped(env);
    absl::StatusOr<std::unique_ptr<DataParallelGroup>> group =
        DataParallelGroup::FromEnvironment();
    ASSERT_TRUE(group.ok()) << group.status();
    EXPECT_EQ(*group, nullptr);
  }
  {
    ScopedGroupEnvironment scoped({{"WORLD_SIZE", "1"}, {"RANK", "0"}});
    absl::StatusOr<std::unique_ptr<DataParallelGroup>> group =
        DataParallelGroup::FromEnvironment();
    ASSERT_TRUE(group.ok()) << group.status();
    EXPECT_EQ(*group, nullptr);
  }
  {
    ScopedGroupEnvironment scoped({{"WORLD_SIZE", "1"}, {"RANK", "1"}});
    absl::StatusOr<std::unique_ptr<DataParallelGroup>> group =
        DataParallelGroup::FromEnvironment();
    EXPECT_TRUE(absl::IsInvalidArgument(group.status())) << group.status();
    EXPECT_TRUE(absl::StartsWith(group.status().message(), "RANK"));
  }
}

TEST(DataParallelTest, BadOptionsAreInvalidArgument) {
  const auto create = [](auto edit) {
    DataParallelOptions options;
    options.master_addr = "127.0.0.1";
    options.master_port = 29500;
    options.world_size = 2;
    options.rank = 1;
    edit(options);
    return DataParallelGroup::Create(options).status();
  };
  EXPECT_TRUE(absl::IsInvalidArgument(
      create([](DataParallelOptions& o) { o.rank = 2; })));
  EXPECT_TRUE(absl::IsInvalidArgument(
      create([](DataParallelOptions& o) { o.world_size = 0; })));
  EXPECT_TRUE(absl::IsInvalidArgument(
      create([](DataParallelOptions& o) { o.master_port = 65536; })));
  EXPECT_TRUE(absl::IsInvalidArgument(
      create([](DataParallelOptions& o) { o.master_addr = ""; })));
  EXPECT_TRUE(absl::IsInvalidArgument(
      create([](DataParallelOptions& o) { o.timeout_seconds = 0; })));
}

// Without a group installed, ForeachAdam and the status are untouched.
TEST(DataParallelTest, NoDefaultGroupByDefault) {
  EXPECT_EQ(DefaultDataParallelGroup(), nullptr);
  EXPECT_TRUE(DataParallelStatus().ok());
}

}  // namespace
}  // namespace nn
}  // namespace marl

int main(int argc, char** argv) {
  if (const char* role = std::getenv(marl::nn::kRoleVariable)) {
    return marl::nn::RunChild(role);
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
