#!/usr/bin/python3
"""The public-belief experiments' table (tools/experiments/public_belief_*.sh).

For every run under OUT/<variant>_seed<seed>/ (the shared run format),
reads player_0's greedy evaluations and the public belief's probability of
player_0's true private observation (`belief_on_true`, train records), and
prints a markdown table: per variant the final return (mean +- std over
seeds), how many seeds reach BEST and GOOD, the median first evaluation
step at or above GOOD, the final belief, and the per-seed returns.

    public_belief_table.py OUT --variants belief,no_belief --good 8.5 \
        --best 9.5 --note "optimum 10"
"""
import argparse
import glob
import json
import os
import statistics


def mean_sd(xs):
    if not xs:
        return "n/a"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return "%.2f ± %.2f" % (statistics.mean(xs), sd)


def read_run(run):
    """(player_0's eval records, its last belief_on_true or None)."""
    evals, belief = [], None
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue  # a line cut by a killed run
            if r.get("agent") != "player_0":
                continue
            if r.get("phase") == "eval":
                evals.append(r)
            elif r.get("phase") == "train" and "belief_on_true" in r:
                belief = r["belief_on_true"]
    return evals, belief


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the experiment's runs directory")
    parser.add_argument("--variants", required=True,
                        help="comma-separated run-name prefixes, in order")
    parser.add_argument("--good", type=float, required=True,
                        help="the return whose first evaluation is reported")
    parser.add_argument("--best", type=float, required=True,
                        help="a second, higher return counted per seed")
    parser.add_argument("--note", default="", help="printed under the table")
    args = parser.parse_args()

    final, first_good, belief = {}, {}, {}
    for cfg in glob.glob(os.path.join(args.out, "*", "config.json")):
        run = os.path.dirname(cfg)
        variant, seed = os.path.basename(run).rsplit("_seed", 1)
        evals, b = read_run(run)
        if not evals:
            continue
        key = (variant, int(seed))
        final[key] = evals[-1]["eval_return"]
        hits = [r["step"] for r in evals if r["eval_return"] >= args.good]
        first_good[key] = hits[0] if hits else None
        if b is not None:
            belief[key] = b

    print("\nfinal greedy evaluation (mean ± std over seeds):\n")
    print("| agent | seeds | return | >= %g | >= %g | first eval >= %g "
          "(median step) | belief on player_0's card | per seed |"
          % (args.best, args.good, args.good))
    print("|---|---|---|---|---|---|---|---|")
    for variant in args.variants.split(","):
        rows = sorted((s, v) for (k, s), v in final.items() if k == variant)
        xs = [v for _, v in rows]
        steps = [first_good[(variant, s)] for s, _ in rows
                 if first_good[(variant, s)] is not None]
        bs = [belief[(variant, s)] for s, _ in rows if (variant, s) in belief]
        print("| %s | %d | %s | %d | %d | %s | %s | %s |" % (
            variant, len(rows), mean_sd(xs),
            sum(x >= args.best for x in xs), sum(x >= args.good for x in xs),
            ("%d (%d seeds)" % (statistics.median(steps), len(steps)))
            if steps else "never",
            mean_sd(bs) if bs else "-", " ".join("%.2f" % x for x in xs)))
    if args.note:
        print("\n" + args.note)


if __name__ == "__main__":
    main()
