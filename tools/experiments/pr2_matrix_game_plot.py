#!/usr/bin/python3
"""Policy trajectories P(a1=0) vs P(a2=0) of matrix-game runs.

Reads the prob_a0 train records of every run under RUNS (run format,
docs/RUN_FORMAT.md; other entries there, such as tools/sweep.py's logs/,
are skipped), draws one line per run grouped by algorithm, marks the
mixed equilibrium (0.5, 0.5), and writes a markdown summary of where each
run ended and how far it moved in its last quarter.
"""

import argparse
import json
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(run_dir):
    config = json.load(open(os.path.join(run_dir, "config.json")))
    traj = {}
    for line in open(os.path.join(run_dir, "metrics.jsonl")):
        r = json.loads(line)
        if r.get("phase") == "train" and "prob_a0" in r:
            traj.setdefault(r["step"], {})[r["agent"]] = r["prob_a0"]
    steps = sorted(s for s in traj if len(traj[s]) == 2)
    agents = sorted(traj[steps[0]]) if steps else []
    points = [(traj[s][agents[0]], traj[s][agents[1]]) for s in steps]
    summary = {}
    sp = os.path.join(run_dir, "summary.json")
    if os.path.exists(sp):
        summary = json.load(open(sp))
    return config, steps, points, summary


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("runs")
    p.add_argument("--out", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--wall_seconds", type=float, default=float("nan"))
    a = p.parse_args()
    colors = {"pr2_q": "tab:blue", "iga": "tab:red"}
    fig, ax = plt.subplots(figsize=(5, 5), dpi=80)
    rows = []
    for name in sorted(os.listdir(a.runs)):
        d = os.path.join(a.runs, name)
        # A run is a directory holding config.json: not tools/sweep.py's
        # logs/ (nor its grid files) beside the runs.
        if not os.path.isfile(os.path.join(d, "config.json")):
            continue
        config, steps, pts, summary = load(d)
        if not pts:
            continue
        algo = config.get("algorithm", "?")
        xs, ys = zip(*pts)
        ax.plot(xs, ys, color=colors.get(algo, "gray"), lw=0.8, alpha=0.8,
                label=algo if algo not in ax.get_legend_handles_labels()[1]
                else None)
        ax.plot(xs[-1], ys[-1], "o", color=colors.get(algo, "gray"), ms=4)
        tail = pts[len(pts) * 3 // 4:]
        dist = [math.hypot(x - 0.5, y - 0.5) for x, y in tail]
        rows.append((name, algo, pts[-1][0], pts[-1][1],
                     sum(dist) / len(dist), max(dist) - min(dist),
                     summary.get("steps_per_second", float("nan"))))
    ax.plot(0.5, 0.5, "k*", ms=12, label="Nash (0.5, 0.5)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("P(agent 1 plays action 0)")
    ax.set_ylabel("P(agent 2 plays action 0)")
    ax.set_title("wolf game: PR2-Q vs gradient ascent")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out)
    with open(a.summary, "w") as f:
        f.write("| run | algorithm | final P(a1=0) | final P(a2=0) | "
                "mean distance to (0.5,0.5), last quarter | "
                "its range, last quarter | steps/s |\n")
        f.write("|---|---|---|---|---|---|---|\n")
        for r in rows:
            f.write("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.0f |\n" % r)
        f.write("\nwall clock for all runs: %.1f s\n" % a.wall_seconds)


if __name__ == "__main__":
    main()
