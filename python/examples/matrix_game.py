"""`py_matrix_game`: a one-shot two-player matrix game written in Python.

player_0 picks a row (Discrete(n)), player_1 a column (Discrete(m)); each
gets reward_scale times its entry of its payoff matrix and the episode
terminates. There is nothing to observe: the observation is a constant 0
of Discrete(1), as in the C++ `matrix_game`. Info key "welfare" is the sum
of both rewards.

Default payoffs: a coordination game with three equilibria on the
diagonal, worth 5, 3 and 1 to both players; uniformly random play earns 1.
"""

import numpy as np

from marl_env import Discrete, Env, EnvSpec, Setting, register

COORDINATION = [[5.0, 0.0, 0.0],
                [0.0, 3.0, 0.0],
                [0.0, 0.0, 1.0]]


@register("py_matrix_game",
          "one-shot two-player matrix game with payoff matrices as settings "
          "(Python)")
class MatrixGame(Env):
    settings = [
        Setting("payoffs_row", COORDINATION,
                "player_0's payoffs, n x m (row = player_0's action)"),
        Setting("payoffs_column", COORDINATION,
                "player_1's payoffs, n x m (column = player_1's action)"),
        Setting("reward_scale", 1.0, "multiplies every payoff"),
    ]

    def __init__(self, settings):
        super().__init__(settings)
        row = settings["payoffs_row"]
        column = settings["payoffs_column"]
        if row.ndim != 2 or row.shape != column.shape or 0 in row.shape:
            raise ValueError(
                "payoffs_row and payoffs_column must both be n x m (n, m >= "
                "1), got shapes %s and %s" % (row.shape, column.shape))
        if not (np.all(np.isfinite(row)) and np.all(np.isfinite(column))):
            raise ValueError("payoffs must be finite")
        scale = settings["reward_scale"]
        self.payoffs = (scale * row, scale * column)
        n, m = row.shape
        self.spec = EnvSpec(
            agent_ids=["player_0", "player_1"],
            observation_spaces=Discrete(1),
            action_spaces={"player_0": Discrete(n), "player_1": Discrete(m)},
            info_keys=["welfare"])

    def reset(self, seed=None):
        super().reset(seed)
        return {"player_0": 0, "player_1": 0}

    def step(self, actions):
        a0, a1 = actions["player_0"], actions["player_1"]
        rewards = {"player_0": self.payoffs[0][a0, a1],
                   "player_1": self.payoffs[1][a0, a1]}
        info = {"welfare": rewards["player_0"] + rewards["player_1"]}
        return {"player_0": 0, "player_1": 0}, rewards, True, info
