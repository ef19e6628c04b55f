#!/usr/bin/python3
"""Plot learning curves and summarize runs in the shared run format.

Reads <run>/config.json and <run>/metrics.jsonl (docs/RUN_FORMAT.md), plots
one metric against the step for every run and agent, writes a PNG and
prints a markdown summary table.

    plot_runs.py runs/ --metric episode_return --phase train \\
        --out curves.png --summary summary.md --smooth 10 --group-by algorithm

A RUN_DIR is a run directory or a parent directory of runs (any direct
subdirectory holding config.json or metrics.jsonl). With --group-by KEY,
runs with the same config[KEY] and env_name (e.g. seeds of one algorithm)
are drawn as one mean line with a +-1 std band; KEY "variant" is the run
name without a trailing "_seed<N>" (variants of one algorithm apart).
"""

import argparse
import dataclasses
import json
import math
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers or in CI

import matplotlib.pyplot as plt  # noqa: E402  (must follow use("Agg"))
import numpy as np  # noqa: E402

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
# Label for records whose "agent" is empty (about the whole run).
RUN_LEVEL_AGENT = "-"


@dataclasses.dataclass
class Run:
    """One run directory as read from disk."""

    path: str
    config: dict
    records: list
    bad_lines: int = 0

    @property
    def name(self):
        return str(self.config.get("run_name") or
                   os.path.basename(os.path.normpath(self.path)))

    def get(self, key):
        if key == "variant" and "variant" not in self.config:
            return re.sub(r"_seed\d+$", "", self.name)
        value = self.config.get(key)
        return "?" if value is None or value == "" else str(value)


@dataclasses.dataclass
class Series:
    """One metric of one agent of one run, sorted by step."""

    run: Run
    agent: str
    steps: np.ndarray
    values: np.ndarray


def warn(message):
    print("plot_runs: " + message, file=sys.stderr)


def is_run_dir(path):
    return (os.path.isfile(os.path.join(path, CONFIG_FILE)) or
            os.path.isfile(os.path.join(path, METRICS_FILE)))


def find_runs(paths):
    """Expands the arguments into run directories, in a stable order."""
    runs = []
    for path in paths:
        if not os.path.isdir(path):
            warn(f"{path}: no such directory; skipped")
        elif is_run_dir(path):
            runs.append(path)
        else:
            children = sorted(
                os.path.join(path, name) for name in os.listdir(path)
                if os.path.isdir(os.path.join(path, name)))
            found = [child for child in children if is_run_dir(child)]
            if not found:
                warn(f"{path}: neither a run directory ({CONFIG_FILE} or "
                     f"{METRICS_FILE}) nor a directory of runs; skipped")
            runs.extend(found)
    return runs


def load_run(path):
    """Reads a run, tolerating missing files and bad metric lines."""
    config = {}
    config_path = os.path.join(path, CONFIG_FILE)
    try:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        if not isinstance(config, dict):
            warn(f"{config_path}: not a JSON object; ignored")
            config = {}
    except FileNotFoundError:
        warn(f"{path}: no {CONFIG_FILE}; algorithm, env and seed unknown")
    except (OSError, ValueError) as e:
        warn(f"{config_path}: unreadable ({e}); ignored")

    records = []
    bad_lines = 0
    metrics_path = os.path.join(path, METRICS_FILE)
    try:
        with open(metrics_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    bad_lines += 1
                    continue
                if isinstance(record, dict):
                    records.append(record)
                else:
                    bad_lines += 1
    except FileNotFoundError:
        warn(f"{path}: no {METRICS_FILE}; the run has no records yet")
    except OSError as e:
        warn(f"{metrics_path}: unreadable ({e})")
    if bad_lines:
        warn(f"{metrics_path}: skipped {bad_lines} unparseable line(s)")
    return Run(path=path, config=config, records=records,
               bad_lines=bad_lines)


def is_number(value):
    # bool is an int subclass but never a metric; None is a NaN/Inf.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def extract_series(run, metric, phase, agent_filter=None):
    """The metric's series per agent, in order of first appearance."""
    points = {}
    for record in run.records:
        if phase and record.get("phase") != phase:
            continue
        if agent_filter and record.get("agent") != agent_filter:
            continue
        step, value = record.get("step"), record.get(metric)
        if not is_number(step) or not is_number(value):
            continue
        if not math.isfinite(value):
            continue
        agent = record.get("agent") or RUN_LEVEL_AGENT
        points.setdefault(str(agent), []).append((step, value))
    result = []
    for agent, pairs in points.items():
        steps = np.array([p[0] for p in pairs], dtype=float)
        values = np.array([p[1] for p in pairs], dtype=float)
        order = np.argsort(steps, kind="stable")
        result.append(Series(run, agent, steps[order], values[order]))
    return result


def smooth(values, window):
    """Trailing moving average over up to `window` points."""
    if window <= 1 or len(values) == 0:
        return values
    sums = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def final_value(values):
    """Mean of the last 10% of the records (at least one)."""
    count = max(1, math.ceil(0.1 * len(values)))
    return float(np.mean(values[-count:]))


def aggregate(curves):
    """Mean and std over curves [(steps, values)] on the union of steps.

    Each curve is linearly interpolated inside its own step range only, so
    a shorter run stops contributing where it stops; `count` says how many
    runs cover each step.
    """
    grid = np.unique(np.concatenate([steps for steps, _ in curves]))
    stacked = np.full((len(curves), len(grid)), np.nan)
    for i, (steps, values) in enumerate(curves):
        inside = (grid >= steps[0]) & (grid <= steps[-1])
        stacked[i, inside] = np.interp(grid[inside], steps, values)
    count = np.sum(~np.isnan(stacked), axis=0)
    mean = np.nanmean(stacked, axis=0)
    std = np.nanstd(stacked, axis=0)
    return grid, mean, std, count


def format_number(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value + 0.0:.6g}"  # + 0.0 turns -0.0 into 0.0


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] * len(header)) + "|"]
    for row in rows:
        cells = [str(cell).replace("|", "\\|") for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_rows(runs, all_series, best_of):
    """One row per run and agent; runs without data get one n/a row."""
    rows = []
    by_run = {}
    for series in all_series:
        by_run.setdefault(id(series.run), []).append(series)
    for run in runs:
        entries = by_run.get(id(run))
        if not entries:
            rows.append([run.name, "", run.get("algorithm"),
                         run.get("env_name"), run.get("seed"), "n/a", 0,
                         "n/a", "n/a"])
            continue
        for series in entries:
            best = best_of(series.values)
            rows.append([run.name, series.agent, run.get("algorithm"),
                         run.get("env_name"), run.get("seed"),
                         format_number(int(series.steps[-1])),
                         len(series.values),
                         format_number(final_value(series.values)),
                         format_number(float(best))])
    return rows


def group_key(run, key):
    return (run.get(key), run.get("env_name"))


def build_summary(runs, all_series, args):
    best_of = np.min if args.best == "min" else np.max
    parts = [f"## {args.metric} ({args.phase or 'all phases'})", "",
             markdown_table(
                 ["run", "agent", "algorithm", "env", "seed", "steps",
                  "records", "final", "best"],
                 summary_rows(runs, all_series, best_of))]
    if args.group_by:
        groups = {}
        for series in all_series:
            key = group_key(series.run, args.group_by) + (series.agent,)
            groups.setdefault(key, []).append(final_value(series.values))
        rows = []
        for (group, env, agent), finals in sorted(groups.items()):
            rows.append([group, env, agent, len(finals),
                         format_number(float(np.mean(finals))),
                         format_number(float(np.std(finals)))])
        parts += ["", markdown_table(
            [args.group_by, "env", "agent", "runs", "final mean",
             "final std"], rows)]
    return "\n".join(parts) + "\n"


def plot(all_series, args):
    """Draws the curves into args.out; returns the number of lines."""
    fig, ax = plt.subplots(figsize=(9, 5.5))
    # Twenty distinct colours before any repeats (the default cycle has ten);
    # tab20 pairs each hue with its light shade, so the ten hues come first.
    colors = plt.get_cmap("tab20").colors
    ax.set_prop_cycle(color=colors[0::2] + colors[1::2])
    lines = 0
    if args.group_by:
        groups = {}
        for series in all_series:
            key = group_key(series.run, args.group_by) + (series.agent,)
            groups.setdefault(key, []).append(series)
        for (group, env, agent), members in sorted(groups.items()):
            curves = [(s.steps, smooth(s.values, args.smooth))
                      for s in members]
            grid, mean, std, _ = aggregate(curves)
            label = f"{group} / {env}"
            if agent != RUN_LEVEL_AGENT:
                label += f" / {agent}"
            label += f" (n={len(members)})"
            (line,) = ax.plot(grid, mean, label=label)
            if len(members) > 1:
                ax.fill_between(grid, mean - std, mean + std,
                                color=line.get_color(), alpha=0.2,
                                linewidth=0)
            lines += 1
    else:
        for series in all_series:
            label = series.run.name
            if series.agent != RUN_LEVEL_AGENT:
                label += f" / {series.agent}"
            ax.plot(series.steps, smooth(series.values, args.smooth),
                    label=label)
            lines += 1
    ax.set_xlabel("step")
    ax.set_ylabel(args.metric)
    title = f"{args.metric} ({args.phase or 'all phases'})"
    if args.smooth > 1:
        title += f", moving average of {args.smooth}"
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if lines == 0:
        ax.text(0.5, 0.5, f"no '{args.metric}' records", ha="center",
                va="center", transform=ax.transAxes)
    elif lines <= 20:
        ax.legend(fontsize="small")
    else:
        ax.legend(fontsize="xx-small", ncol=2)
    fig.tight_layout()
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    plt.close(fig)
    return lines


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                        help="a run directory, or a directory of runs")
    parser.add_argument("--metric", default="episode_return",
                        help="metric key to plot (default: %(default)s)")
    parser.add_argument("--phase", default="train",
                        help='records of this phase only ("train", "eval"); '
                             '"" for all (default: %(default)s)')
    parser.add_argument("--out", default="curves.png",
                        help="PNG to write (default: %(default)s)")
    parser.add_argument("--summary", metavar="FILE",
                        help="also write the markdown summary here")
    parser.add_argument("--smooth", type=int, default=1, metavar="N",
                        help="plot a trailing moving average over N records "
                             "(the summary always uses raw values)")
    parser.add_argument("--group-by", metavar="KEY",
                        help="config.json key (e.g. algorithm), or "
                             "'variant' (the run name without _seed<N>): "
                             "runs with the same KEY and env_name become "
                             "one mean line with a +-std band")
    parser.add_argument("--agent", metavar="ID",
                        help="records of this agent only (e.g. player_0 in "
                        "games where every agent gets the same reward)")
    parser.add_argument("--best", choices=["max", "min"], default="max",
                        help="how 'best' is picked (min for losses)")
    args = parser.parse_args(argv)
    if args.smooth < 1:
        parser.error("--smooth must be >= 1")
    return args


def main(argv=None):
    # `bazel run` starts us in the runfiles tree; relative paths on the
    # command line mean the caller's directory.
    if os.environ.get("BUILD_WORKING_DIRECTORY"):
        os.chdir(os.environ["BUILD_WORKING_DIRECTORY"])
    args = parse_args(argv)
    run_dirs = find_runs(args.run_dirs)
    if not run_dirs:
        warn("no runs found")
        return 2
    runs = [load_run(path) for path in run_dirs]
    all_series = []
    for run in runs:
        all_series.extend(extract_series(run, args.metric, args.phase,
                                         args.agent))

    lines = plot(all_series, args)
    summary = build_summary(runs, all_series, args)
    print(summary, end="")
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            f.write(summary)
    if lines == 0:
        warn(f"no '{args.metric}' records with phase '{args.phase}' in any "
             f"run; {args.out} is empty")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
