#!/usr/bin/python3
"""Runs an experiment grid: every combination of the grid's axes, per seed.

A grid is a JSON object:

    {
      "agent": "stackelberg",
      "flags": {"env": "iterated_matrix_game", "steps": 300000},
      "env_settings": {"roles": "stackelberg", "reward_offset": -2.5},
      "axes": [
        {"variant": {
          "contextual": {"env_settings": {"query_states": "[0,1,2,3,4]"}},
          "inner_outer": {"flags": {"oracle": "inner_outer"}}}},
        {"game": {
          "pd": {"env_settings": {"game": "stackelberg_pd"}},
          "battle": {"env_settings": {"game": "stackelberg_battle"}}}}
      ],
      "seeds": [1, 2, 3]
    }

`agent` names a binary under the build's bazel-bin: NAME for
agents/NAME/NAME, PACKAGE/NAME for agents/PACKAGE/NAME (e.g. pr2/pr2_ac);
`flags` and `env_settings` are every run's; each axis maps a value's name
to what that value adds or overrides (`agent`, `flags`, `env_settings`);
an optional `overrides` object holds flags over every run, after the axes
(what --flags sets).
A run is one value of every axis and one seed; its name is the values'
names joined by "_" and "_seed<N>" (e.g. contextual_pd_seed1); it runs as

    <binary> --<flag>=<value> ... --env_settings=<k>=<v>,... --seed=<N>
        --runs_root=OUT --run_name=<name>

and writes the shared run format (docs/RUN_FORMAT.md) under OUT/<name>/,
its screen output to OUT/logs/<name>.log. The grid as run (with --seeds
and --flags) is kept as OUT/grid.json, so `sweep.py OUT/grid.json --out
OUT` runs it again. A run whose directory already holds summary.json is
done and is skipped, so a sweep that was stopped goes on where it was. At
the end the sweep writes OUT/sweep_summary.md: every run's final values
(summary.json) and their mean and spread per variant (the name without
_seed<N>).

    sweep.py GRID.json --out results/x --jobs 2          # this machine
    sweep.py GRID.json --out results/x --scheduler=slurm --jobs 64
    sweep.py GRID.json --out results/x --dry_run         # the commands
    make_grid | sweep.py - --out results/x               # a grid on stdin

With --scheduler=slurm the runs not yet done become a Slurm job array
(`sbatch --array=0-<n-1>%<jobs> --wait`; arrays of at most 1,000 tasks,
one after another), each task running one run as above (OUT must be on a
file system the nodes share; the binaries too). --sbatch_args passes
more to sbatch (a partition, a time limit). The sweep waits for the array,
then gathers as locally: the same runs, the same files.
tools/testing/slurm_cluster.sh starts a one-node cluster on this machine.
"""
import argparse
import collections
import concurrent.futures
import itertools
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
AGENT = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?$")
FLAG = re.compile(r"^[a-z][a-z0-9_]*$")
# Flags the sweep sets itself.
RESERVED = {"seed", "runs_root", "run_name", "env_settings"}
MAX_RUNS = 100000
# Slurm's default MaxArraySize is 1001: arrays of at most 1,000 tasks.
MAX_ARRAY = 1000


class GridError(ValueError):
    """A grid that cannot be run, with what is wrong in it."""


def _scalar(where, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise GridError("%s: %r is not a finite number" % (where, value))
        return repr(value)
    if isinstance(value, str):
        if any(c in value for c in "\n\0"):
            raise GridError("%s: a value with a newline or NUL" % where)
        return value
    raise GridError("%s: %r is not a number, string or boolean" %
                    (where, value))


def _part(where, part, allowed):
    """Checks one object of agent / flags / env_settings overrides."""
    if not isinstance(part, dict):
        raise GridError("%s must be an object" % where)
    unknown = set(part) - allowed
    if unknown:
        raise GridError("%s: unknown key(s) %s (allowed: %s)" % (
            where, ", ".join(sorted(unknown)), ", ".join(sorted(allowed))))
    if "agent" in part and not (isinstance(part["agent"], str) and
                                AGENT.match(part["agent"])):
        raise GridError("%s.agent must be an agent's binary: NAME "
                        "(agents/NAME/NAME) or PACKAGE/NAME "
                        "(agents/PACKAGE/NAME), got %r" %
                        (where, part["agent"]))
    for key in ("flags", "env_settings"):
        values = part.get(key, {})
        if not isinstance(values, dict):
            raise GridError("%s.%s must be an object" % (where, key))
        for name, value in values.items():
            if key == "flags" and (not FLAG.match(name) or name in RESERVED):
                raise GridError(
                    "%s.flags: %r is not a flag the sweep passes on (flag "
                    "names are lower_case; %s are set by the sweep)" % (
                        where, name, ", ".join(sorted(RESERVED))))
            if key == "env_settings" and (not FLAG.match(name)):
                raise GridError("%s.env_settings: %r is not a setting name"
                                % (where, name))
            _scalar("%s.%s.%s" % (where, key, name), value)


def expand(grid):
    """The grid's runs: a list of (name, agent, flags, env_settings, seed),
    flags and settings as ordered dicts of strings. GridError if the grid
    is malformed."""
    if not isinstance(grid, dict):
        raise GridError("a grid is a JSON object")
    _part("grid", {k: v for k, v in grid.items()
                   if k not in ("axes", "seeds", "overrides")},
          {"agent", "flags", "env_settings"})
    overrides = grid.get("overrides", {})
    _part("overrides", {"flags": overrides}, {"flags"})
    seeds = grid.get("seeds")
    if (not isinstance(seeds, list) or not seeds or
            not all(isinstance(s, int) and not isinstance(s, bool) and
                    0 <= s < 2 ** 63 for s in seeds) or
            len(set(seeds)) != len(seeds)):
        raise GridError("seeds must be a non-empty list of distinct "
                        "integers in [0, 2^63)")
    axes = grid.get("axes", [])
    if not isinstance(axes, list):
        raise GridError("axes must be a list")
    choices = []
    for i, axis in enumerate(axes):
        if not (isinstance(axis, dict) and len(axis) == 1):
            raise GridError("axes[%d] must be an object with one key, the "
                            "axis's name" % i)
        (axis_name, values), = axis.items()
        if not isinstance(values, dict) or not values:
            raise GridError("axis %r must map value names to overrides" %
                            axis_name)
        for value_name, part in values.items():
            if not NAME.match(value_name):
                raise GridError(
                    "axis %r: value name %r must be letters, digits, '_', "
                    "'.', '+' or '-'" % (axis_name, value_name))
            _part("axis %r value %r" % (axis_name, value_name), part,
                  {"agent", "flags", "env_settings"})
        choices.append(list(values.items()))
    count = len(seeds)
    for c in choices:
        count *= len(c)
    if count > MAX_RUNS:
        raise GridError("the grid has %d runs; at most %d" %
                        (count, MAX_RUNS))
    runs = []
    for combination in itertools.product(*choices):
        agent = grid.get("agent")
        flags = {k: _scalar(k, v) for k, v in grid.get("flags", {}).items()}
        settings = {k: _scalar(k, v)
                    for k, v in grid.get("env_settings", {}).items()}
        for _, part in combination + ((None, {"flags": overrides}),):
            agent = part.get("agent", agent)
            flags.update({k: _scalar(k, v)
                          for k, v in part.get("flags", {}).items()})
            settings.update({k: _scalar(k, v)
                             for k, v in part.get("env_settings",
                                                  {}).items()})
        if agent is None:
            raise GridError("no agent for the run %s: set \"agent\" in the "
                            "grid or in an axis value" %
                            "_".join(n for n, _ in combination))
        for seed in seeds:
            name = "_".join([n for n, _ in combination] +
                            ["seed%d" % seed])
            runs.append((name, agent, flags, settings, seed))
    twice = sorted(n for n, c in collections.Counter(
        r[0] for r in runs).items() if c > 1)
    if twice:
        raise GridError("two runs would share the name %s: rename an axis "
                        "value" % twice[0])
    return runs


def command(run, bazel_bin, out):
    """The argv of one run."""
    name, agent, flags, settings, seed = run
    package, _, binary = agent.rpartition("/")
    argv = [os.path.join(bazel_bin, "agents", package or binary, binary)]
    argv += ["--%s=%s" % (k, v) for k, v in flags.items()]
    if settings:
        argv.append("--env_settings=" +
                    ",".join("%s=%s" % kv for kv in settings.items()))
    argv += ["--seed=%d" % seed, "--runs_root=" + out, "--run_name=" + name]
    return argv


def done(out, name):
    return os.path.exists(os.path.join(out, name, "summary.json"))


def run_one(argv, name, out):
    """Runs one command, its screen output to OUT/logs/<name>.log; returns
    its exit code."""
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    with open(os.path.join(out, "logs", name + ".log"), "w") as log:
        return subprocess.call(argv, stdout=log, stderr=subprocess.STDOUT)


def run_local(argvs, names, out, jobs):
    """Runs the commands `jobs` at a time; the names of those that failed."""
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        finished = 0
        for i, code in enumerate(pool.map(
                lambda i: run_one(argvs[i], names[i], out),
                range(len(argvs)))):
            finished += 1
            status = "ok" if code == 0 else "FAILED (exit %d)" % code
            print("[%d/%d] %s %s" % (finished, len(argvs), names[i], status),
                  flush=True)
            if code != 0:
                failed.append(names[i])
    return failed


def run_slurm(argvs, names, out, jobs, sbatch_args):
    """Submits the commands as Slurm job arrays and waits for them; the
    names of the runs that did not finish (no summary.json)."""
    work = os.path.join(out, "sweep")
    os.makedirs(work, exist_ok=True)
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    commands = os.path.join(work, "commands.json")
    with open(commands, "w") as f:
        json.dump([{"name": n, "argv": a} for n, a in zip(names, argvs)], f)
    script = os.path.join(work, "job.sh")
    with open(script, "w") as f:
        f.write("#!/bin/bash\n# One run of the sweep: task OFFSET + "
                "SLURM_ARRAY_TASK_ID of commands.json.\n"
                "exec %s %s --run_one $(( $1 + SLURM_ARRAY_TASK_ID )) %s\n"
                % (shlex.quote(sys.executable),
                   shlex.quote(os.path.abspath(__file__)),
                   shlex.quote(commands)))
    os.chmod(script, 0o755)
    for offset in range(0, len(argvs), MAX_ARRAY):
        count = min(MAX_ARRAY, len(argvs) - offset)
        argv = (["sbatch", "--parsable", "--wait",
                 "--array=0-%d%%%d" % (count - 1, jobs),
                 "--job-name=sweep",
                 "--output=" + os.path.join(out, "logs", "slurm_%A_%a.out")]
                + shlex.split(sbatch_args) + [script, str(offset)])
        sbatch = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        shown = -1
        while sbatch.poll() is None:
            finished = sum(done(out, n) for n in names[offset:offset + count])
            if finished != shown:
                print("[%d/%d] runs of this array finished" %
                      (finished, count), flush=True)
                shown = finished
            time.sleep(2)
        stdout, stderr = sbatch.communicate()
        if sbatch.returncode != 0 and not stdout.strip():
            raise RuntimeError("sbatch failed: %s" % stderr.strip())
        print("sweep: Slurm job %s ended (%d runs)" %
              (stdout.strip().split(";")[0], count), flush=True)
    return [n for n in names if not done(out, n)]


def summarize(out, names):
    """Writes OUT/sweep_summary.md from the runs' summary.json files."""
    rows, keys = {}, []
    for name in names:
        path = os.path.join(out, name, "summary.json")
        try:
            with open(path) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            continue
        values = {k: v for k, v in summary.items()
                  if isinstance(v, (int, float)) and not isinstance(v, bool)
                  and k.startswith("final_")}
        rows[name] = values
        keys += [k for k in values if k not in keys]
    lines = ["| run | " + " | ".join(keys) + " |",
             "|---|" + "---|" * len(keys)]
    for name in names:
        if name in rows:
            lines.append("| %s | %s |" % (name, " | ".join(
                "%g" % rows[name][k] if k in rows[name] else ""
                for k in keys)))
        else:
            lines.append("| %s | (no summary: failed or not run) |" % name)
    groups = {}
    for name in names:
        if name in rows:
            groups.setdefault(re.sub(r"_seed\d+$", "", name), []).append(
                rows[name])
    lines += ["", "| variant | runs | " + " | ".join(keys) + " |",
              "|---|---|" + "---|" * len(keys)]
    for variant, members in groups.items():
        cells = []
        for k in keys:
            xs = [m[k] for m in members if k in m]
            if not xs:
                cells.append("")
            elif len(xs) == 1:
                cells.append("%g" % xs[0])
            else:
                cells.append("%g ± %g" % (statistics.mean(xs),
                                          statistics.stdev(xs)))
        lines.append("| %s | %d | %s |" %
                     (variant, len(members), " | ".join(cells)))
    with open(os.path.join(out, "sweep_summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]))
    p.add_argument("grid", help="the grid's JSON file; - for stdin")
    p.add_argument("--out", default="",
                   help="the runs' root (one directory per run; required)")
    p.add_argument("--jobs", type=int, default=2,
                   help="runs at a time: on this machine, or the Slurm "
                   "array's limit (default 2)")
    p.add_argument("--bazel_bin", default="",
                   help="the build's bazel-bin (default: `bazel info "
                   "bazel-bin`)")
    p.add_argument("--dry_run", action="store_true",
                   help="print the commands and run nothing")
    p.add_argument("--scheduler", choices=["local", "slurm"],
                   default="local",
                   help="run on this machine, or as Slurm job arrays")
    p.add_argument("--sbatch_args", default="",
                   help="more sbatch arguments (--scheduler=slurm), split "
                   "as a shell would, e.g. '--partition=long --time=2:00:00'")
    p.add_argument("--seeds", default="",
                   help="seeds to run instead of the grid's, e.g. '1 2 3'")
    p.add_argument("--flags", default="",
                   help="flags for every run, over the grid's and the "
                   "axes', e.g. 'steps=4000 eval_every=500'")
    p.add_argument("--run_one", type=int, default=None,
                   help=argparse.SUPPRESS)  # a Slurm task: GRID is then
    # the sweep's commands.json and this its index
    a = p.parse_args(argv)
    if a.run_one is not None:
        with open(a.grid) as f:
            task = json.load(f)[a.run_one]
        return run_one(task["argv"], task["name"],
                       os.path.dirname(os.path.dirname(a.grid)))
    if not a.out:
        p.error("--out is required")
    if not 1 <= a.jobs <= 1024:
        p.error("--jobs must be in [1, 1024]")
    try:
        if a.grid == "-":
            grid = json.load(sys.stdin)
        else:
            with open(a.grid) as f:
                grid = json.load(f)
        if not isinstance(grid, dict):
            raise GridError("a grid is a JSON object")
        if a.seeds:
            grid["seeds"] = [int(x) for x in a.seeds.split()]
        for pair in a.flags.split():
            name, eq, value = pair.partition("=")
            if not eq:
                raise GridError("--flags: %r is not name=value" % pair)
            grid.setdefault("overrides", {})[name.lstrip("-")] = value
        runs = expand(grid)
    except (OSError, ValueError) as e:
        print("sweep: %s: %s" % (a.grid, e), file=sys.stderr)
        return 2
    bazel_bin = a.bazel_bin or subprocess.run(
        ["bazel", "info", "bazel-bin"], capture_output=True, text=True,
        check=True).stdout.strip()
    out = os.path.abspath(a.out)
    names = [r[0] for r in runs]
    argvs = [command(r, bazel_bin, out) for r in runs]
    if a.dry_run:
        for argv in argvs:
            print(" ".join(argv))
        return 0
    for argv in {argv[0] for argv in argvs}:
        if not os.access(argv, os.X_OK):
            print("sweep: %s is not an executable (build the agent first: "
                  "bazel build //agents/<agent>)" % argv, file=sys.stderr)
            return 2
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "grid.json"), "w") as f:
        json.dump(grid, f, indent=1)
    start = time.time()
    todo = [i for i, name in enumerate(names) if not done(out, name)]
    print("sweep: %d runs, %d done before, %d to run, %d at a time" % (
        len(runs), len(runs) - len(todo), len(todo), a.jobs), flush=True)
    todo_argvs = [argvs[i] for i in todo]
    todo_names = [names[i] for i in todo]
    if a.scheduler == "slurm":
        try:
            failed = run_slurm(todo_argvs, todo_names, out, a.jobs,
                               a.sbatch_args) if todo else []
        except (OSError, RuntimeError) as e:
            print("sweep: %s (is Slurm installed and SLURM_CONF set?)" % e,
                  file=sys.stderr)
            return 2
    else:
        failed = run_local(todo_argvs, todo_names, out, a.jobs)
    summarize(out, names)
    print("sweep: %d runs in %.0f s; summary in %s" % (
        len(todo), time.time() - start,
        os.path.join(out, "sweep_summary.md")), flush=True)
    if failed:
        print("sweep: %d run(s) failed, logs in %s: %s" % (
            len(failed), os.path.join(out, "logs"), ", ".join(failed)),
            file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
