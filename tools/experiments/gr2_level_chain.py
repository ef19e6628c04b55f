#!/usr/bin/python3
"""Why GR2-L3 does not settle at the wolf game's mixed equilibrium.

An idealised GR2 on the 2x2 wolf / PR2 matrix game (EXPERIMENTS.md §1): each
agent's level 0 is the soft best response softmax(payoff @ replay / alpha)
to the other agent's replayed actions (what GR2's Discrete level 0
converges to), and level k answers the other agent's level k - 1 greedily,
down to the level-0 draws. The agents play level k and the replay counts
what they play. Prints, per level, how far the level-0 policies end from
(0.5, 0.5), and the level-1 and level-3 actions for every pair of level-0
draws: in this game the greedy responses cycle with period 4, so level 3
always plays the opposite of level 1, reversing the fictitious-play
correction that makes levels 1, 2 and 4 converge (docs/RESULTS.md, "PR2
matrix game").

    python3 tools/experiments/gr2_level_chain.py
"""
import numpy as np

A = np.array([[0, 3], [1, 2]], float)  # agent 1's payoff (rows)
B = np.array([[3, 2], [0, 1]], float)  # agent 2's payoff (columns)
BEST_RESPONSE = (lambda column: int(np.argmax(A[:, column])),
                 lambda row: int(np.argmax(B[row, :])))


def level(agent, k, level0):
    """The agent's level-k action, given both agents' level-0 draws."""
    if k == 0:
        return level0[agent]
    return BEST_RESPONSE[agent](level(1 - agent, k - 1, level0))


def run(k, seed, steps=20000, alpha=0.3):
    """Mean distance of the level-0 policies from (0.5, 0.5) over the last
    quarter, and the final P(a = 0) of both agents."""
    rng = np.random.default_rng(seed)
    counts = [np.ones(2), np.ones(2)]  # the replay: actions played
    distances = []
    for t in range(steps):
        p = counts[0] / counts[0].sum()
        q = counts[1] / counts[1].sum()
        pi0 = [np.exp(A @ q / alpha), np.exp(p @ B / alpha)]
        pi0 = [v / v.sum() for v in pi0]
        level0 = [rng.choice(2, p=pi0[0]), rng.choice(2, p=pi0[1])]
        for agent in (0, 1):
            counts[agent][level(agent, k, level0)] += 1
        if t > steps * 3 // 4:
            distances.append(np.hypot(pi0[0][0] - 0.5, pi0[1][0] - 0.5))
    return np.mean(distances), pi0[0][0], pi0[1][0]


def main():
    for k in range(5):
        runs = [run(k, seed) for seed in range(5)]
        print("level %d: distance from (0.5, 0.5) over the last quarter %s;"
              " final P(a=0) %s" % (
                  k, " ".join("%.2f" % d for d, _, _ in runs),
                  " ".join("(%.2f,%.2f)" % (a, b) for _, a, b in runs)))
    for level0 in ((0, 0), (0, 1), (1, 0), (1, 1)):
        print("level-0 draws %s: level 1 plays %s, level 3 plays %s" % (
            level0, [level(i, 1, level0) for i in (0, 1)],
            [level(i, 3, level0) for i in (0, 1)]))


if __name__ == "__main__":
    main()
