#!/usr/bin/python3
"""Reward curves and final joint actions of the thesis Fig 3.1 / 3.2 runs.

Reads every run under OUT/<game>/runs (run format, docs/RUN_FORMAT.md),
groups runs by name without the _seed<k> suffix, and writes
OUT/thesis_games.png (one row per game, one column per player: mean and
spread over seeds of the training reward, i.e. the mean over each logged
iteration's roll-outs) and OUT/summary.md (per algorithm: final greedy joint
actions, 1-based like the thesis, final evaluation returns and final
training rewards per player, throughput).
"""

import argparse
import collections
import json
import pathlib
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PLAYERS = ["player_0", "player_1"]


def load(run_dir):
    curves = {p: {} for p in PLAYERS}
    for line in open(run_dir / "metrics.jsonl"):
        r = json.loads(line)
        if (r.get("phase") == "train" and r.get("agent") in curves
                and r.get("episode_return") is not None):
            curves[r["agent"]][r["step"]] = r["episode_return"]
    summary = json.loads((run_dir / "summary.json").read_text())
    return curves, summary


def final_train(curve, tail=5):
    steps = sorted(curve)[-tail:]
    return float(np.mean([curve[s] for s in steps])) if steps else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out")
    p.add_argument("--games", default="thesis_coop,thesis_zero_sum")
    args = p.parse_args()
    out = pathlib.Path(args.out)
    games = args.games.split(",")
    lines = [
        "| game | algorithm | seeds | greedy joint actions, 1-based "
        "(seeds) | eval return p1 / p2 (mean) | final train reward p1 / p2 "
        "(mean +- sd) | steps/s (mean) |",
        "|---|---|---|---|---|---|---|",
    ]
    fig, axes = plt.subplots(len(games), 2, figsize=(10, 3.6 * len(games)),
                             dpi=80, squeeze=False)
    for row, game in enumerate(games):
        groups = collections.defaultdict(list)
        for run in sorted((out / game / "runs").iterdir()):
            if (run / "summary.json").exists():
                groups[re.sub(r"_seed\d+$", "", run.name)].append(load(run))
        for algo, runs in sorted(groups.items()):
            joints = collections.Counter(
                (int(s["greedy_action_player_0"]) + 1,
                 int(s["greedy_action_player_1"]) + 1) for _, s in runs)
            evals = [np.mean([s["final_eval_return_" + q] for _, s in runs])
                     for q in PLAYERS]
            finals = [[final_train(c[q]) for c, _ in runs] for q in PLAYERS]
            lines.append("| %s | %s | %d | %s | %.2f / %.2f | %.2f +- %.2f / "
                         "%.2f +- %.2f | %.0f |" % (
                             game, algo, len(runs),
                             ", ".join("(%d,%d) x%d" % (j + (c,))
                                       for j, c in joints.most_common()),
                             evals[0], evals[1],
                             np.mean(finals[0]), np.std(finals[0]),
                             np.mean(finals[1]), np.std(finals[1]),
                             np.mean([s["steps_per_second"]
                                      for _, s in runs])))
            for col, player in enumerate(PLAYERS):
                steps = sorted(set.intersection(
                    *[set(c[player]) for c, _ in runs]))
                if not steps:
                    continue
                y = np.array([[c[player][s] for s in steps] for c, _ in runs])
                ax = axes[row][col]
                mean, sd = y.mean(axis=0), y.std(axis=0)
                ax.plot(steps, mean, label=algo, lw=1.2)
                ax.fill_between(steps, mean - sd, mean + sd, alpha=0.15)
        for col, player in enumerate(PLAYERS):
            ax = axes[row][col]
            ax.set_title("%s, %s (mean +- sd over seeds)" % (game, player),
                         fontsize=9)
            ax.set_xlabel("environment steps (roll-outs)", fontsize=8)
            ax.set_ylabel("training reward", fontsize=8)
            ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "thesis_games.png")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
