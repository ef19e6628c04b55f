"""Measures how training throughput grows with environment servers, copies
and data-parallel learners on this machine, and fits the cost model of
docs/SCALING.md to the measurements.

    bazel run //tools/benchmarks:scaling_benchmark -- [--seconds=3]

Three series, each a real agent binary against real env_server processes
over loopback TCP (or its embedded server), the figure being the run's own
training steps per second (summary.json):

  servers: JAL (a table: learning costs next to nothing, so the protocol
      and the environment dominate) on matrix_game, with 8 and 256 copies,
      embedded and over 1, 2 and 3 servers (--endpoint=A,B,C);
  costly environment: JAL on py_costly_game (a Python environment whose
      steps burn 200 µs of CPU each, served by env_server_py), 32 copies,
      over 1, 2 and 3 servers: where more servers pay;
  learner: MADDPG on matrix_game, 8 copies, acting only (warm-up to the
      end) and learning, over one server: the learner's cost per step;
  ranks: MADDPG with 1, 2 and 4 data-parallel processes (c10d on
      loopback), 8 copies each: total steps per second over all ranks.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile

import bench_util
from marl_env import testing


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Servers:
    """`count` server processes (env_server or env_server_py) on free
    loopback ports."""

    def __init__(self, binary, count, flags=()):
        self.processes, self.endpoints = [], []
        for _ in range(count):
            process, endpoint = testing.start_server([binary] + list(flags))
            self.processes.append(process)
            self.endpoints.append(endpoint)

    def close(self):
        for process in self.processes:
            testing.stop_server(process)


def run_agent(binary, flags, workdir, name, env=None):
    """Starts an agent; returns its Popen and run directory."""
    run_dir = os.path.join(workdir, name)
    log = open(run_dir + ".log", "w")
    proc = subprocess.Popen(
        [binary, "--progress_seconds=600", "--runs_root=" + workdir,
         "--run_name=" + name, "--eval_episodes=1", "--log_every=0"] + flags,
        stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, **(env or {})))
    return proc, run_dir


def steps_per_second(proc, run_dir):
    if proc.wait() != 0:
        sys.exit("benchmark run failed: see " + run_dir + ".log:\n" +
                 open(run_dir + ".log").read())
    return json.load(open(os.path.join(run_dir, "summary.json")))[
        "steps_per_second"]


def measure(binary, flags, workdir, name, steps_for, seconds):
    """Steps per second of a run sized to last about `seconds`: a probe run
    first, then the measured one."""
    probe = steps_per_second(*run_agent(
        binary, flags + ["--steps=%d" % steps_for(2000)], workdir,
        name + "_probe"))
    steps = steps_for(max(2000, int(probe * seconds)))
    return steps_per_second(*run_agent(
        binary, flags + ["--steps=%d" % steps], workdir, name))


def fit_line(xs, ys):
    """Least squares y = a + b x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / max(
        1e-30, sum((x - mx) ** 2 for x in xs))
    return my - b * mx, b


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env_server", default="server/env_server")
    parser.add_argument("--env_server_py", default="python/env_server_py")
    parser.add_argument("--costly_env",
                        default="tools/benchmarks/costly_env.py")
    parser.add_argument("--jal", default="agents/jal/jal")
    parser.add_argument("--maddpg", default="agents/maddpg/maddpg")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="length of each measured run")
    parser.add_argument("--servers", default="1,2,3")
    parser.add_argument("--copies", default="8,256")
    parser.add_argument("--ranks", default="1,2,4")
    args = parser.parse_args()
    server_bin = bench_util.runfile(args.env_server)
    jal = bench_util.runfile(args.jal)
    maddpg = bench_util.runfile(args.maddpg)
    workdir = tempfile.mkdtemp(prefix="marl-scaling.")
    print("builds: env_server %s, jal %s, maddpg %s; %d CPUs" % (
        bench_util.build_of(server_bin), bench_util.build_of(jal),
        bench_util.build_of(maddpg), os.cpu_count()))
    game = ["--env=matrix_game", "--env_settings=game=climbing"]

    # Servers x copies (JAL: the table learns in no time).
    print("\n### Servers and copies (JAL, matrix_game; steps/s)\n")
    counts = [int(c) for c in args.servers.split(",")]
    copies = [int(c) for c in args.copies.split(",")]
    print("| copies | embedded | " + " | ".join(
        "%d server%s" % (k, "" if k == 1 else "s") for k in counts) + " |")
    print("|---|---|" + "---|" * len(counts))
    table = {}
    for n in copies:
        row = []

        def steps_for(s, n=n):  # whole batched steps
            return max(n, s // n * n)
        rate = measure(jal, game + ["--num_copies=%d" % n], workdir,
                       "jal_embedded_%d" % n, steps_for, args.seconds)
        table[(n, 0)] = rate
        row.append(rate)
        for k in counts:
            servers = Servers(server_bin, k)
            try:
                rate = measure(
                    jal, game + ["--num_copies=%d" % n,
                                 "--endpoint=" + ",".join(servers.endpoints)],
                    workdir, "jal_%d_%d" % (k, n), steps_for, args.seconds)
            finally:
                servers.close()
            table[(n, k)] = rate
            row.append(rate)
        print("| %d | " % n + " | ".join("%.0f" % r for r in row) + " |")
    # The model: a batched step of n copies over k servers costs
    # t(n, k) = a_k + b_k n; fitted per k from the copy counts.
    print("\nTime per batched step t(n) = a + b n, fitted per column "
          "(a: per-request cost, b: per-copy cost):\n")
    print("| servers | a (µs per step) | b (µs per copy) |")
    print("|---|---|---|")
    for k in [0] + counts:
        xs = copies
        ys = [1e6 * n / table[(n, k)] for n in copies]
        a, b = fit_line(xs, ys)
        print("| %s | %.1f | %.3f |" % ("embedded" if k == 0 else k, a, b))

    # A costly environment: servers share its work, up to the cores.
    print("\n### A costly environment (JAL, py_costly_game at 200 µs per "
          "step, 32 copies; steps/s)\n")
    print("| servers | steps/s | vs 1 server |")
    print("|---|---|---|")
    py_server = bench_util.runfile(args.env_server_py)
    module = os.path.abspath(bench_util.runfile(args.costly_env))
    one = None
    for k in counts:
        servers = Servers(py_server, k, ["--module=" + module])
        try:
            rate = measure(
                jal, ["--env=py_costly_game", "--num_copies=32",
                      "--endpoint=" + ",".join(servers.endpoints)],
                workdir, "costly_%d" % k, lambda s: max(32, s // 32 * 32),
                args.seconds)
        finally:
            servers.close()
        one = one or rate
        print("| %d | %.0f | %.2fx |" % (k, rate, rate / one))

    # The learner's cost per step (MADDPG acting only vs learning).
    print("\n### The learner (MADDPG, matrix_game, 8 copies, one server; "
          "steps/s)\n")
    servers = Servers(server_bin, 1)
    common = game + ["--num_copies=8", "--endpoint=" + servers.endpoints[0],
                     "--batch_size=256"]
    try:
        acting = measure(maddpg, common + ["--warmup=100000000"], workdir,
                         "maddpg_acting", lambda s: s // 8 * 8, args.seconds)
        learning = measure(maddpg, common + ["--warmup=256"], workdir,
                           "maddpg_learning", lambda s: s // 8 * 8,
                           args.seconds)
    finally:
        servers.close()
    per_step_acting = 1e6 * 8 / acting
    per_step_learning = 1e6 * 8 / learning
    print("| acting only | learning | update cost per batched step |")
    print("|---|---|---|")
    print("| %.0f | %.0f | %.0f µs |" % (acting, learning,
                                         per_step_learning - per_step_acting))

    # Data-parallel ranks (embedded servers, 8 copies each).
    print("\n### Data-parallel learners (MADDPG, 8 copies per rank, embedded "
          "servers; steps/s)\n")
    print("| ranks | per rank | all ranks | vs 1 rank |")
    print("|---|---|---|---|")
    base = None
    flags = game + ["--num_copies=8", "--warmup=256", "--batch_size=256"]
    steps = max(2000, int(learning * args.seconds)) // 8 * 8
    for world in [int(r) for r in args.ranks.split(",")]:
        port = free_port()
        runs = []
        for rank in range(world):
            env = {}
            if world > 1:
                env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                       "WORLD_SIZE": str(world), "RANK": str(rank)}
            runs.append(run_agent(maddpg, flags + ["--steps=%d" % steps],
                                  workdir, "dp%d" % world, env))
        rates = []
        for rank, (proc, run_dir) in enumerate(runs):
            if rank > 0:
                run_dir = "%s_rank%d" % (run_dir, rank)
            rates.append(steps_per_second(proc, run_dir))
        total = sum(rates)
        base = base or total
        print("| %d | %.0f | %.0f | %.2fx |" % (
            world, sum(rates) / world, total, total / base))
    print("\n(runs in %s)" % workdir)


if __name__ == "__main__":
    main()
