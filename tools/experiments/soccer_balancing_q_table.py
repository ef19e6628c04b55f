#!/usr/bin/python3
"""Win/draw/loss table and plot of the soccer Balancing-Q runs.

Reads OUT/runs (run format, docs/RUN_FORMAT.md): training runs
<setting>_seed<k> (their final evaluation plays greedy policies against the
training opponent) and evaluation runs <setting>_eval_<opponent>_<policy>_
seed<k> (tools/sweep.py's names; <setting>_seed<k>_eval_<opponent>_<policy>,
as the script named them before, is read too). Soccer returns are -1, 0 or
+1 per episode, so player_0's win and loss rates follow exactly from an
evaluation's mean m and population variance v of returns: W - L = m and
W + L = v + m^2. Writes OUT/summary.md
and OUT/soccer_balancing_q.png (player_0's training return per setting, and
the win/draw/loss rates per evaluation).
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

# Training runs, and evaluation runs as tools/sweep.py names them (ending
# in _seed<k>); then evaluation runs as the script named them before.
EVAL = r"_eval_(?P<opponent>[a-z]+)_(?P<policy>[a-z]+)"
NAMES = [re.compile(r"^(?P<setting>.+?)(?:%s)?_seed(?P<seed>\d+)$" % EVAL),
         re.compile(r"^(?P<setting>.+)_seed(?P<seed>\d+)%s$" % EVAL)]


def records(run):
    return [json.loads(line) for line in open(run / "metrics.jsonl")]


def win_draw_loss(run):
    evals = [r for r in records(run)
             if r["phase"] == "eval" and r["agent"] == "player_0"]
    m, sd = evals[-1]["eval_return"], evals[-1]["eval_return_std"]
    v = sd * sd
    win, loss = (m + m * m + v) / 2, (m * m + v - m) / 2
    # Rounding can leave -1e-16: clamp.
    return max(win, 0.0), max(1 - win - loss, 0.0), max(loss, 0.0)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out")
    args = p.parse_args()
    out = pathlib.Path(args.out)
    rates = collections.defaultdict(list)  # (setting, evaluation) -> [wdl]
    curves = collections.defaultdict(list)  # setting -> [{step: return}]
    speed = collections.defaultdict(list)
    for run in sorted((out / "runs").iterdir()):
        match = next(filter(None, (n.match(run.name) for n in NAMES)), None)
        if not match or not (run / "summary.json").exists():
            continue
        setting = match["setting"]
        if match["opponent"] is None:
            evaluation = "training opponent, greedy"
            curves[setting].append({
                r["step"]: r["episode_return"] for r in records(run)
                if r["phase"] == "train" and r["agent"] == "player_0"
                and r.get("episode_return") is not None})
            speed[setting].append(json.loads(
                (run / "summary.json").read_text())["steps_per_second"])
        else:
            opponent = ("training opponent" if match["opponent"] == "trained"
                        else "uniform random opponent")
            evaluation = "%s, %s" % (opponent, match["policy"])
        rates[(setting, evaluation)].append(win_draw_loss(run))

    lines = ["| setting | evaluation (player_0's policy) | seeds | win | "
             "draw | loss |", "|---|---|---|---|---|---|"]
    for (setting, evaluation), rs in sorted(rates.items()):
        a = np.array(rs)
        cells = ["%.3f +- %.3f" % (a[:, k].mean(), a[:, k].std())
                 for k in range(3)]
        lines.append("| %s | %s | %d | %s |" % (setting, evaluation, len(rs),
                                                " | ".join(cells)))
    lines.append("")
    lines.append("| setting | training steps/s (mean) |")
    lines.append("|---|---|")
    for setting, s in sorted(speed.items()):
        lines.append("| %s | %.0f |" % (setting, np.mean(s)))

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4), dpi=80)
    for setting, cs in sorted(curves.items()):
        steps = sorted(set.intersection(*[set(c) for c in cs]))
        y = np.array([[c[s] for s in steps] for c in cs])
        left.plot(steps, y.mean(axis=0), label=setting)
        left.fill_between(steps, y.mean(axis=0) - y.std(axis=0),
                          y.mean(axis=0) + y.std(axis=0), alpha=0.15)
    left.set_xlabel("environment steps")
    left.set_ylabel("player_0 training return")
    left.set_title("training (sampling policies), mean +- sd over seeds",
                   fontsize=9)
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    labels, bottoms = [], None
    keys = sorted(rates)
    means = np.array([np.array(rates[k]).mean(axis=0) for k in keys])
    bottoms = np.zeros(len(keys))
    for k, (name, colour) in enumerate(
            [("win", "tab:green"), ("draw", "tab:gray"), ("loss", "tab:red")]):
        right.barh(range(len(keys)), means[:, k], left=bottoms, color=colour,
                   label=name)
        bottoms += means[:, k]
    labels = ["%s: %s" % k for k in keys]
    right.set_yticks(range(len(keys)))
    right.set_yticklabels(labels, fontsize=7)
    right.set_xlabel("player_0 rate (mean over seeds)")
    right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    right.set_title("evaluation", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "soccer_balancing_q.png")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
