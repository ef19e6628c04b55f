#!/usr/bin/python3
"""The Stackelberg experiments' tables and plot (stackelberg.sh).

Reads every run OUT/<variant>_<game>_seed<seed>/ (the shared run format):
the leader's train records carry `leader_exact_value` (its greedy
memory-one policy against best-responding followers, ties for it),
`stackelberg_value` (the game's exact value) and `leader_policy` (the
greedy policy, state 0 least significant); its eval records the greedy
leader's return against the learned follower.

A run has solved its game at a logged step when leader_exact_value is
within 1e-6 of stackelberg_value; its steps to success are the first
logged step from which every later record is solved (so a leader that
passes through the optimum and leaves does not count).

    stackelberg_table.py OUT --experiment games --variants contextual \
        --games pd,battle --plot docs/results/stackelberg_games.png
"""
import argparse
import os
import statistics
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The run reader of tools/plot_runs.py (one reader of the run format).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import plot_runs  # noqa: E402

SOLVED = 1e-6
# Memory states as the environment numbers them: 1 + a_leader + 2 a_follower.
STATES = ["start", "(0,0)", "(1,0)", "(0,1)", "(1,1)"]


def mean_sd(xs, digits=2):
    if not xs:
        return "n/a"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return "%.*f ± %.*f" % (digits, statistics.mean(xs), digits, sd)


def read_run(path):
    """The leader's exact-measure records and its last eval return."""
    train, eval_return = [], None
    for r in plot_runs.load_run(path).records:
        if r.get("agent") != "leader":
            continue
        if r.get("phase") == "eval":
            eval_return = r["eval_return"]
        elif "leader_exact_value" in r:
            train.append(r)
    return train, eval_return


def steps_to_success(train):
    """The first logged step from which every record is solved, or None."""
    step = None
    for r in train:
        if r["leader_exact_value"] >= r["stackelberg_value"] - SOLVED:
            if step is None:
                step = r["step"]
        else:
            step = None
    return step


def policy_string(index, states=5):
    actions = []
    for _ in range(states):
        actions.append(int(index) % 2)
        index = int(index) // 2
    return " ".join(str(a) for a in actions)


def collect(out, variants, games, seeds):
    runs = {}
    for variant in variants:
        for game in games:
            for seed in seeds:
                name = "%s_%s_seed%d" % (variant, game, seed)
                path = os.path.join(out, name)
                if not os.path.exists(os.path.join(path, "metrics.jsonl")):
                    continue
                train, eval_return = read_run(path)
                if not train:
                    continue
                runs[(variant, game, seed)] = {
                    "train": train,
                    "eval": eval_return,
                    "value": train[-1]["stackelberg_value"],
                    "exact": train[-1]["leader_exact_value"],
                    "policy": train[-1].get("leader_policy"),
                    "success": steps_to_success(train),
                    "steps": train[-1]["step"],
                }
    return runs


def seeds_in(out):
    seeds = set()
    for name in os.listdir(out):
        if "_seed" in name:
            try:
                seeds.add(int(name.rsplit("_seed", 1)[1]))
            except ValueError:
                pass
    return sorted(seeds)


def games_table(runs, variant, games):
    print("| game | Stackelberg value | leader's exact value | leader's eval "
          "return | solved | steps to success (median) |")
    print("|---|---|---|---|---|---|")
    solved_games = 0
    for game in games:
        rs = [r for (v, g, _), r in sorted(runs.items())
              if v == variant and g == game]
        if not rs:
            continue
        solved = [r for r in rs if r["success"] is not None]
        solved_games += len(solved) == len(rs)
        median = (statistics.median(r["success"] for r in solved)
                  if solved else None)
        print("| %s | %g | %s | %s | %d/%d | %s |" % (
            game, rs[0]["value"], mean_sd([r["exact"] for r in rs]),
            mean_sd([r["eval"] for r in rs if r["eval"] is not None]),
            len(solved), len(rs),
            "{:,}".format(int(median)) if median is not None else "never"))
    print("\nGames solved in every seed: %d of %d." %
          (solved_games, len(games)))


def follower_play(values, game, policy):
    """How a best-responding follower (clock, discount 0.9) plays against
    `policy`: memory_one_values --leader's row, or None."""
    if not values:
        return None
    out = subprocess.run(
        [values, "--games=stackelberg_" + game, "--follower_clock",
         "--follower_discount=0.9", "--leader=" + policy],
        capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1].split("|")[5].strip()


def strategies_table(runs, variant, game, values):
    rs = [(s, r) for (v, g, s), r in sorted(runs.items())
          if v == variant and g == game]
    if not rs:
        return
    print("\n%s, %s: the learned leader's action per memory state "
          "(previous (leader, follower) actions), and how a best-responding "
          "follower plays against it:\n" % (game, variant))
    print("| seed | " + " | ".join(STATES) +
          " | exact value | follower's play |")
    print("|---|" + "---|" * (len(STATES) + 2))
    for seed, r in rs:
        if r["policy"] is None:
            continue
        policy = policy_string(r["policy"])
        print("| %d | %s | %g | %s |" % (
            seed, " | ".join(policy.split()), r["exact"],
            follower_play(values, game, policy) or "n/a"))


def efficiency_table(runs, variants, games):
    print("| oracle | runs solved | steps to success: median (IQR) over "
          "solved runs | games solved in every seed |")
    print("|---|---|---|---|")
    for variant in variants:
        rs = [r for (v, _, _), r in runs.items() if v == variant]
        steps = sorted(r["success"] for r in rs if r["success"] is not None)
        every = sum(
            1 for game in games
            if all(r["success"] is not None
                   for (v, g, _), r in runs.items()
                   if v == variant and g == game)
            and any(v == variant and g == game for (v, g, _) in runs))
        if steps:
            q = (statistics.quantiles(steps, n=4) if len(steps) > 1
                 else steps * 3)
            spread = "{:,} ({:,} - {:,})".format(
                int(statistics.median(steps)), int(q[0]), int(q[2]))
        else:
            spread = "never"
        print("| %s | %d/%d | %s | %d of %d |" % (
            variant, len(steps), len(rs), spread, every, len(games)))
    print("\nPer game, steps to success (median over solved seeds; "
          "solved/seeds):\n")
    print("| game | " + " | ".join(variants) + " |")
    print("|---|" + "---|" * len(variants))
    for game in games:
        cells = []
        for variant in variants:
            rs = [r for (v, g, _), r in runs.items()
                  if v == variant and g == game]
            steps = [r["success"] for r in rs if r["success"] is not None]
            cells.append("%s (%d/%d)" % (
                "{:,}".format(int(statistics.median(steps))) if steps
                else "never", len(steps), len(rs)))
        print("| %s | %s |" % (game, " | ".join(cells)))


def plot_games(runs, variants, games, path):
    fig, ax = plt.subplots(figsize=(13, 4))
    xs = list(range(len(games)))
    width = 0.8 / (2 * len(variants))
    colors = ["#4477aa", "#ee6677", "#228833"]
    for i, variant in enumerate(variants):
        values, means, sds, evals = [], [], [], []
        for game in games:
            rs = [r for (v, g, _), r in runs.items()
                  if v == variant and g == game]
            values.append(rs[0]["value"] if rs else float("nan"))
            exact = [r["exact"] for r in rs]
            means.append(statistics.mean(exact) if exact else float("nan"))
            sds.append(statistics.stdev(exact) if len(exact) > 1 else 0.0)
            ev = [r["eval"] for r in rs if r["eval"] is not None]
            evals.append(statistics.mean(ev) if ev else float("nan"))
        left = [x - 0.4 + (2 * i + 0.5) * width for x in xs]
        right = [x + width for x in left]
        color = colors[i % len(colors)]
        ax.bar(left, values, width, color=color, alpha=0.35,
               label="%s: Stackelberg value" % variant)
        ax.bar(right, means, width, yerr=sds, capsize=2, color=color,
               label="%s: learned leader's exact value" % variant)
        ax.plot(right, evals, "k.", markersize=4,
                label="eval return" if i == 0 else None)
    ax.set_xticks(xs)
    ax.set_xticklabels(games, rotation=30, ha="right")
    ax.set_ylabel("leader's return (10 steps, offset -2.5)")
    ax.set_title("Contextual Stackelberg learning on the twelve games "
                 "(mean ± sd over seeds)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_efficiency(runs, variants, path):
    fig, ax = plt.subplots(figsize=(7, 4))
    for variant in variants:
        rs = [r for (v, _, _), r in runs.items() if v == variant]
        if not rs:
            continue
        budget = max(r["steps"] for r in rs)
        steps = sorted(r["success"] for r in rs if r["success"] is not None)
        xs = [0] + [s for s in steps for _ in (0, 1)] + [budget]
        ys = [0]
        for i in range(len(steps)):
            ys += [i / len(rs), (i + 1) / len(rs)]
        ys.append(len(steps) / len(rs))
        ax.plot(xs, ys, label="%s (%d runs)" % (variant, len(rs)))
    ax.set_xscale("symlog", linthresh=10000)
    ax.set_xlabel("environment steps (queries, follower and leader episodes)")
    ax.set_ylabel("fraction of runs solved for good")
    ax.set_ylim(0, 1.02)
    ax.set_title("Steps to the Stackelberg value, twelve games x seeds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--experiment", choices=["games", "efficiency"],
                   required=True)
    p.add_argument("--variants", required=True)
    p.add_argument("--games", required=True)
    p.add_argument("--plot", required=True)
    p.add_argument("--values", default="",
                   help="memory_one_values, to show how followers answer "
                   "the learned leaders")
    a = p.parse_args()
    variants = a.variants.split(",")
    games = a.games.split(",")
    runs = collect(a.out, variants, games, seeds_in(a.out))
    if not runs:
        raise SystemExit("no runs with exact measures under " + a.out)
    if a.experiment == "games":
        for variant in variants:
            print("\n%s:\n" % variant)
            games_table(runs, variant, games)
        for game in ("pd", "battle"):
            strategies_table(runs, variants[0], game, a.values)
        plot_games(runs, variants, games, a.plot)
    else:
        efficiency_table(runs, variants, games)
        plot_efficiency(runs, variants, a.plot)
    print("\nplot: " + a.plot)


if __name__ == "__main__":
    main()
