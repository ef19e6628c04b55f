"""Which option acts where: a taxi map coloured by the option the agent
acted with in each cell, and how long its options ran, from the
eval_trace.jsonl of soft-option runs (docs/RUN_FORMAT.md; written with
--eval_trace_episodes=N).

    python3 tools/plot_option_map.py RUN [RUN ...] --out map.png

One row of panels per run: for `taxi`, one panel with the passenger
waiting and one with it in the taxi (the observation's flag after the
cells); for other maps (`taxi_meeting`), one panel per agent. A cell's
colour is the option used most often there, its shade the share of the
cell's steps with that option; walls are black, depots lettered. Prints
per run the mean option duration (steps between option changes within an
episode, an episode's end cutting the last one short) and each option's
share of the steps.
"""

import argparse
import collections
import json
import os
import sys


def load_run(run):
    """(env name, map rows, trace records) of a run directory."""
    with open(os.path.join(run, "config.json")) as f:
        config = json.load(f)
    spec = config.get("env_spec", {})
    settings = {s["name"]: s["value"] for s in spec.get("settings", [])}
    text = settings.get("map", {}).get("stringValue")
    if text is None:
        raise ValueError("%s: no map setting in config.json (a taxi run?)" %
                         run)
    rows = text.split("/")
    records = []
    with open(os.path.join(run, "eval_trace.jsonl")) as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
    if not records or "latent" not in records[0]:
        raise ValueError("%s: the trace has no latent state (options)" % run)
    return spec.get("name", ""), rows, records


def argmax(values):
    return max(range(len(values)), key=lambda k: values[k])


def panel_key(env, record, cells):
    """Which panel a step belongs to."""
    if env == "taxi":
        return ("passenger in the taxi" if record["observation"][cells] > 0.5
                else "passenger waiting")
    return "agent " + record["agent"]


def option_counts(env, rows, records):
    """{panel: {cell: Counter(option -> steps)}}."""
    cells = len(rows) * len(rows[0])
    counts = collections.defaultdict(
        lambda: collections.defaultdict(collections.Counter))
    for record in records:
        cell = argmax(record["observation"][:cells])
        counts[panel_key(env, record, cells)][cell][
            argmax(record["latent"])] += 1
    return counts


def option_durations(records):
    """Lengths of the runs of one option within each (episode, agent)."""
    by_episode = collections.defaultdict(list)
    for record in records:
        by_episode[(record["episode"], record["agent"])].append(record)
    durations = []
    for steps in by_episode.values():
        steps.sort(key=lambda r: r["t"])
        length, last = 0, None
        for record in steps:
            option = argmax(record["latent"])
            if option != last and length:
                durations.append(length)
                length = 0
            last = option
            length += 1
        if length:
            durations.append(length)
    return durations


def option_shares(records):
    counts = collections.Counter(argmax(r["latent"]) for r in records)
    total = sum(counts.values())
    return {k: counts[k] / total for k in sorted(counts)}


def draw(runs, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    colours = plt.get_cmap("tab10")
    loaded = [(run,) + load_run(run) for run in runs]
    panels = max(len(option_counts(env, rows, records))
                 for _, env, rows, records in loaded)
    fig, axes = plt.subplots(len(loaded), panels, squeeze=False,
                             figsize=(3.2 * panels, 3.2 * len(loaded)))
    for i, (run, env, rows, records) in enumerate(loaded):
        height, width = len(rows), len(rows[0])
        counts = option_counts(env, rows, records)
        for j, key in enumerate(sorted(counts)):
            ax = axes[i][j]
            image = [[(1.0, 1.0, 1.0)] * width for _ in range(height)]
            for y in range(height):
                for x in range(width):
                    if rows[y][x] == "#":
                        image[y][x] = (0.0, 0.0, 0.0)
                    used = counts[key].get(y * width + x)
                    if used:
                        option, n = used.most_common(1)[0]
                        share = n / sum(used.values())
                        image[y][x] = tuple(
                            1 - share * (1 - c)
                            for c in to_rgb(colours(option % 10)))
                    if rows[y][x].isalpha():
                        ax.text(x, y, rows[y][x], ha="center", va="center")
            ax.imshow(image)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title("%s\n%s" % (os.path.basename(run.rstrip("/")), key),
                         fontsize=8)
        for j in range(len(counts), panels):
            axes[i][j].axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(k)) for k in
               range(max(len(r[3][0]["latent"]) for r in loaded))]
    fig.legend(handles, ["option %d" % k for k in range(len(handles))],
               loc="lower center", ncol=len(handles))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(out, dpi=110)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories")
    parser.add_argument("--out", required=True, help="the PNG to write")
    args = parser.parse_args(argv)
    try:
        for run in args.runs:
            _, _, records = load_run(run)
            durations = option_durations(records)
            shares = option_shares(records)
            print("%s: mean option duration %.2f steps over %d options "
                  "used; shares %s" % (
                      run, sum(durations) / len(durations), len(durations),
                      " / ".join("%d: %.2f" % kv for kv in shares.items())))
        draw(args.runs, args.out)
    except (OSError, ValueError, KeyError) as error:
        print("plot_option_map: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
