#!/usr/bin/python3
"""Beauty-contest table and mean-action view (tools/experiments/).

For every run under RESULTS/p<p>/ (the shared run format; other entries
there, such as tools/sweep.py's logs/, are skipped), reads the eval
records' greedy_action of every agent, and
  * writes a derived run under RESULTS/mean_action/p<p>/<run>/ whose
    metrics.jsonl holds one whole-run record (agent "") per eval step with
    mean_greedy_action = the mean over agents, so //tools:plot_runs can draw
    one line per algorithm (--group-by algorithm) instead of one per agent;
  * prints a markdown table: per p and algorithm, the final mean action
    (mean +- std over seeds), distance to the equilibrium (0 for p < 1, 100
    for p > 1), and the steps taken to converge: the first eval step from
    which the mean action stays within TOL of the equilibrium (n/a if the
    final one is not).
"""
import json
import os
import statistics
import sys

TOL = 5.0


def read_evals(run):
    by_step = {}
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("phase") != "eval" or r.get("agent") in ("", None):
                continue
            x = r.get("greedy_action")
            if x is None:
                continue
            by_step.setdefault(r["step"], []).append(x)
    return sorted((s, statistics.mean(v)) for s, v in by_step.items())


def converged_step(curve, eq):
    step = None
    for s, x in curve:
        if abs(x - eq) <= TOL:
            if step is None:
                step = s
        else:
            step = None
    return step


def main():
    results = sys.argv[1]
    rows = []
    for pdir in sorted(os.listdir(results)):
        if not pdir.startswith("p"):
            continue
        p = float(pdir[1:])
        eq = 0.0 if p < 1 else 100.0
        groups = {}
        for run in sorted(os.listdir(os.path.join(results, pdir))):
            path = os.path.join(results, pdir, run)
            # A run is a directory holding config.json or metrics.jsonl (as
            # for //tools:plot_runs): not tools/sweep.py's logs/, grid.json
            # and sweep_summary.md beside the runs.
            if not any(os.path.isfile(os.path.join(path, f))
                       for f in ("config.json", "metrics.jsonl")):
                continue
            if not os.path.exists(os.path.join(path, "summary.json")):
                print(f"warning: {path} has no summary.json (crashed or "
                      "unfinished); skipped", file=sys.stderr)
                continue
            with open(os.path.join(path, "config.json")) as f:
                config = json.load(f)
            curve = read_evals(path)
            if not curve:
                continue
            view = os.path.join(results, "mean_action", pdir, run)
            os.makedirs(view, exist_ok=True)
            with open(os.path.join(view, "config.json"), "w") as f:
                json.dump(config, f, indent=2)
            with open(os.path.join(view, "metrics.jsonl"), "w") as f:
                for s, x in curve:
                    f.write(json.dumps({"time": 0, "step": s, "episode": s,
                                        "agent": "", "phase": "eval",
                                        "mean_greedy_action": x}) + "\n")
            groups.setdefault(config["algorithm"], []).append(
                (curve[-1][1], converged_step(curve, eq), curve[-1][0]))
        for algo, runs in sorted(groups.items()):
            finals = [r[0] for r in runs]
            steps = [r[1] for r in runs if r[1] is not None]
            std = statistics.stdev(finals) if len(finals) > 1 else 0.0
            mean = statistics.mean(finals)
            rows.append((p, algo, len(runs), mean, std, abs(mean - eq),
                         f"{len(steps)}/{len(runs)}",
                         f"{statistics.mean(steps):.0f}" if steps else "n/a",
                         runs[0][2]))
    print(f"| p | algorithm | seeds | final mean action "
          f"| |final - equilibrium| "
          f"| seeds converged (within {TOL:g}) | steps to converge (mean) "
          f"| steps run |")
    print("|---|---|---|---|---|---|---|---|")
    for p, algo, n, mean, std, dist, conv, steps, total in rows:
        print(f"| {p:g} | {algo} | {n} | {mean:.2f} ± {std:.2f} | {dist:.2f} "
              f"| {conv} | {steps} | {total} |")


if __name__ == "__main__":
    main()
