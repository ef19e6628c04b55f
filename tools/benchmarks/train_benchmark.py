"""Training speed of the C++ agents against plain Python ports, on the max
of two quadratics, side by side in one run, per algorithm:

  sac     the C++ agent //agents/independent (--learner=sac defaults)
          against tools/benchmarks/sac_port.py
  maddpg  the C++ agent //agents/maddpg (its defaults) against
          tools/benchmarks/maddpg_port.py

The C++ agents run as bazel builds them (-c opt), with no --endpoint, so
they embed their environment server; the ports are plain Python + PyTorch
with the environment in numpy (tools/benchmarks/port_common.py). Both run
as fresh processes with one torch and one OpenBLAS thread, for the same
transitions and seeds, repeat by repeat interleaved (the first one
alternating), so a slow spell of the machine hits both. Both measure the
wall time of their training loop (environment reset and the final
evaluation excluded): the C++ agent reports it as steps_per_second in the
summary.json of its run directory (docs/RUN_FORMAT.md), the port the same
way. The ratio is the median of the per-repeat ratios. Evaluation and
logging are minimised (one final evaluation, one train record at the end
for the update count); the final evaluation returns and the gradient
updates per agent are shown so a reader sees both learn the same task the
same way.

    bazel run //tools/benchmarks:train_benchmark -- --cpu=0
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from tools.benchmarks import bench_util

# Per algorithm: its title, the C++ agent (a runfile), the C++ agent's
# flags, the port's module and flags (the same settings), the players.
BEAUTY = ["--hidden=10,10", "--batch_size=64", "--warmup=1000"]
ALGORITHMS = {
    "sac": ("independent SAC, max of two quadratics",
            "agents/independent/independent",
            ["--learner=sac", "--env=max_of_two_quadratics"], "sac_port", [],
            2),
    "maddpg": ("MADDPG, max of two quadratics", "agents/maddpg/maddpg",
               ["--env=max_of_two_quadratics"], "maddpg_port", [], 2),
    # The beauty contest's settings (docs/RESULTS.md): ten agents with
    # 10-10 networks, where a step's cost is its ops, not its arithmetic.
    "maddpg_beauty": (
        "MADDPG, beauty contest (10 agents, p = 0.7, 10-10 networks, batch "
        "64)", "agents/maddpg/maddpg",
        ["--env=beauty_contest", "--env_settings=num_agents=10,p=0.7"] +
        BEAUTY, "maddpg_port",
        ["--env=beauty_contest", "--num_agents=10", "--p=0.7"] + BEAUTY, 10),
}
# The repository root: the ports run as modules from it.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def label(algorithm, impl):
    agent, port = ALGORITHMS[algorithm][1], ALGORITHMS[algorithm][3]
    return ("C++ //" + agent.rsplit("/", 1)[0] if impl == "cpp" else
            "Python PyTorch port (%s.py)" % port)


def agents(algorithm):
    return ["player_%d" % i for i in range(ALGORITHMS[algorithm][5])]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", maxsplit=1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6000,
                        help="training transitions per run (over all 8 "
                        "environment copies)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each implementation, interleaved")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the first repeat; repeat r uses "
                        "seed + r for both implementations")
    parser.add_argument("--cpu", type=int, default=-1,
                        help="pin this process and both trainers to this CPU "
                        "(-1: no pinning)")
    parser.add_argument("--eval_episodes", type=int, default=100,
                        help="episodes of each run's final evaluation (not "
                        "timed)")
    parser.add_argument("--algorithms", default=",".join(ALGORITHMS),
                        help="comma-separated: %s" % ", ".join(ALGORITHMS))
    parser.add_argument("--sac_agent", default=ALGORITHMS["sac"][1],
                        help="the C++ SAC agent binary")
    parser.add_argument("--maddpg_agent", default=ALGORITHMS["maddpg"][1],
                        help="the C++ MADDPG agent binary")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds one run may take")
    args = parser.parse_args(argv)
    args.algorithms = [a for a in args.algorithms.split(",") if a]
    unknown = sorted(set(args.algorithms) - set(ALGORITHMS))
    if unknown or not args.algorithms:
        parser.error("--algorithms: from %s, got %s" % (
            ", ".join(ALGORITHMS), unknown or "none"))
    if not 1 <= args.steps <= 10**8:
        parser.error("--steps: from 1 to 10^8")
    if not 1 <= args.repeats <= 1000:
        parser.error("--repeats: from 1 to 1000")
    if not 0 <= args.seed <= 2**63 - 1000:
        parser.error("--seed: from 0 to 2^63 - 1000")
    if not 1 <= args.eval_episodes <= 10**6:
        parser.error("--eval_episodes: from 1 to 10^6")
    if not 0 < args.timeout <= 86400:
        parser.error("--timeout: in (0, 86400] seconds")
    if args.cpu >= 0 and args.cpu not in os.sched_getaffinity(0):
        parser.error("--cpu=%d: not one of this machine's CPUs %s" %
                     (args.cpu, sorted(os.sched_getaffinity(0))))
    return args


def _environment():
    env = dict(os.environ)
    # Both sides on one BLAS thread (the C++ agents would restart
    # themselves to get it; the port reads it when torch loads).
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        [ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def _run(argv, timeout, name):
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              env=_environment(), timeout=timeout,
                              check=False, cwd=ROOT)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError("%s did not finish within %g s" %
                           (name, timeout)) from error
    if done.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s" % (
            name, done.returncode, done.stdout[-4000:]))
    return done.stdout


def _read_json(path, name):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as error:
        raise RuntimeError("%s: no readable %s: %s" % (name, path, error)) \
            from error
    if not isinstance(data, dict):
        raise RuntimeError("%s: %s is not a JSON object" % (name, path))
    return data


def _number(summary, key, name):
    value = summary.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RuntimeError("%s: summary has no number %r" % (name, key))
    return float(value)


def _agent(args, algorithm):
    flag = "sac_agent" if algorithm == "sac" else "maddpg_agent"
    return bench_util.runfile(getattr(args, flag))


def run_cpp(args, algorithm, seed, workdir, name):
    """One C++ training run; returns its result."""
    run_name = "%s_cpp_seed%d" % (algorithm, seed)
    _run([_agent(args, algorithm)] + ALGORITHMS[algorithm][2] +
         ["--steps=%d" % args.steps, "--seed=%d" % seed,
          "--runs_root=" + workdir, "--run_name=" + run_name,
          "--eval_episodes=%d" % args.eval_episodes,
          # One train record, at the end: its update counts.
          "--log_every=%d" % args.steps,
          "--progress_seconds=1000000"], args.timeout, name)
    directory = os.path.join(workdir, run_name)
    summary = _read_json(os.path.join(directory, "summary.json"), name)
    updates = {}
    metrics = os.path.join(directory, "metrics.jsonl")
    try:
        with open(metrics, encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                if isinstance(record, dict) and \
                        record.get("phase") == "train" and \
                        isinstance(record.get("updates"), (int, float)):
                    updates[record.get("agent")] = int(record["updates"])
    except (OSError, ValueError) as error:
        raise RuntimeError("%s: no readable %s: %s" % (name, metrics, error)) \
            from error
    return _result(summary, updates, agents(algorithm), name)


def run_python(args, algorithm, seed, workdir, name):
    """One run of the Python port; returns its result."""
    path = os.path.join(workdir, "%s_python_seed%d.json" % (algorithm, seed))
    _run([sys.executable, "-m",
          "tools.benchmarks." + ALGORITHMS[algorithm][3]] +
         ALGORITHMS[algorithm][4] +
         ["--steps=%d" % args.steps, "--seed=%d" % seed,
          "--eval_episodes=%d" % args.eval_episodes,
          "--summary=" + path], args.timeout, name)
    summary = _read_json(path, name)
    players = agents(algorithm)
    updates = {a: int(_number(summary, "updates_" + a, name))
               for a in players}
    return _result(summary, updates, players, name)


def _result(summary, updates, players, name):
    result = {
        "steps": int(_number(summary, "total_steps", name)),
        "seconds": _number(summary, "train_seconds", name),
        "rate": _number(summary, "steps_per_second", name),
        "eval": [_number(summary, "final_eval_return_" + a, name)
                 for a in players],
        "greedy": [_number(summary, "greedy_action_" + a, name)
                   for a in players],
        "updates": [updates.get(a) for a in players],
        # The port's torch (the C++ summary has none).
        "torch": "%s, %s torch thread(s)" % (summary.get("torch_version"),
                                             summary.get("torch_threads")),
    }
    if not result["rate"] > 0:
        raise RuntimeError("%s: no training rate in its summary" % name)
    return result


def spread(values):
    return (max(values) - min(values)) / statistics.median(values)


def run(args, out):
    start = time.monotonic()
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})  # the trainers inherit it
    for algorithm in args.algorithms:
        agent = _agent(args, algorithm)
        if not os.access(agent, os.X_OK):
            raise RuntimeError("no C++ agent binary at %s (--%s_agent)" %
                               (agent, algorithm))
    out.write(
        "train_benchmark: %s on max_of_two_quadratics, %d transitions per "
        "run (8 copies, agent defaults), %d repeats interleaved, seeds "
        "%d..%d; %d hardware threads, %s, load average %.2f at start; C++ "
        "agent build: %s; Python %s\n" % (
            ", ".join(ALGORITHMS[a][0] for a in args.algorithms), args.steps,
            args.repeats, args.seed, args.seed + args.repeats - 1,
            os.cpu_count(),
            "pinned to CPU %d" % args.cpu if args.cpu >= 0 else "not pinned",
            os.getloadavg()[0],
            bench_util.build_of(_agent(args, args.algorithms[0])),
            platform.python_version()))
    out.flush()
    all_results = {}
    runners = {"cpp": run_cpp, "python": run_python}
    with tempfile.TemporaryDirectory(prefix="train_benchmark_") as workdir:
        for algorithm in args.algorithms:
            results = {"cpp": [], "python": []}
            for r in range(args.repeats):
                seed = args.seed + r
                order = ("cpp", "python") if r % 2 == 0 else ("python", "cpp")
                for impl in order:
                    results[impl].append(runners[impl](
                        args, algorithm, seed, workdir, "%s %s run (seed %d)"
                        % (algorithm, impl, seed)))
            check_agreement(args, algorithm, results)
            out.write("\n## %s\n\n" % ALGORITHMS[algorithm][0])
            write_tables(args, algorithm, results, out)
            out.write("\nPython port: torch %s\n" %
                      results["python"][0]["torch"])
            out.flush()
            all_results[algorithm] = results
    out.write("\ntotal time %.1f s\n" % (time.monotonic() - start))
    out.flush()
    return all_results


def check_agreement(args, algorithm, results):
    """Both implementations trained the same transitions and updates."""
    for r in range(args.repeats):
        cpp, python = results["cpp"][r], results["python"][r]
        if cpp["steps"] != python["steps"]:
            raise RuntimeError("%s, repeat %d: C++ trained %d transitions, "
                               "the port %d" % (algorithm, r, cpp["steps"],
                                                python["steps"]))
        if cpp["updates"] != python["updates"]:
            raise RuntimeError(
                "%s, repeat %d: gradient updates per agent differ: C++ %s, "
                "port %s (the port's update schedule no longer matches)" %
                (algorithm, r, cpp["updates"], python["updates"]))


def _shown(values, fmt):
    """Two agents' values, or the mean of more (with their number)."""
    if len(values) <= 2:
        return ", ".join(fmt % x for x in values)
    return (fmt + " (mean of %d)") % (statistics.mean(values), len(values))


def _updates(values):
    if len(set(values)) == 1 and len(values) > 2:
        return "%s (each of %d)" % (values[0], len(values))
    return "/".join(str(u) for u in values)


def write_tables(args, algorithm, results, out):
    players = agents(algorithm)
    out.write("| repeat | seed | implementation | transitions/s | train s | "
              "updates per agent | final eval return (%s) | greedy joint "
              "action |\n|--:|--:|---|--:|--:|--:|--:|--:|\n" %
              (", ".join(players) if len(players) <= 2 else "agents' mean"))
    for r in range(args.repeats):
        for impl in ("cpp", "python"):
            result = results[impl][r]
            out.write("| %d | %d | %s | %.0f | %.2f | %s | %s | (%s) |\n" % (
                r + 1, args.seed + r, label(algorithm, impl), result["rate"],
                result["seconds"], _updates(result["updates"]),
                _shown(result["eval"], "%.3f"),
                _shown(result["greedy"], "%.2f")))

    ratios = [c["rate"] / p["rate"]
              for c, p in zip(results["cpp"], results["python"])]
    out.write("\n| implementation | transitions/s (median) | spread | train "
              "s (median) | final eval return (median of agents' mean) |\n"
              "|---|--:|--:|--:|--:|\n")
    for impl in ("cpp", "python"):
        rates = [x["rate"] for x in results[impl]]
        out.write("| %s | %.0f | %.0f%% | %.2f | %.3f |\n" % (
            label(algorithm, impl), statistics.median(rates),
            100 * spread(rates),
            statistics.median(x["seconds"] for x in results[impl]),
            statistics.median(statistics.mean(x["eval"])
                              for x in results[impl])))
    out.write("| **C++ / Python transitions/s** (median of per-repeat "
              "ratios) | **%.2fx** | %.0f%% | | |\n" % (
                  statistics.median(ratios), 100 * spread(ratios)))


def main(argv=None, out=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run(args, out or sys.stdout)
    except RuntimeError as error:
        sys.stderr.write("train_benchmark: error: %s\n" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
