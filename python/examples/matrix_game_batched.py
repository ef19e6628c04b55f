"""`py_matrix_game_batched`: py_matrix_game (examples/matrix_game.py)
written with the batched API (marl_env.env.BatchedEnv): every copy in one
numpy step, with the same settings, checks and results.
"""

import numpy as np

from examples.matrix_game import MatrixGame
from marl_env import register
from marl_env.env import BatchedEnv


@register("py_matrix_game_batched",
          "py_matrix_game written with the batched API: every copy in one "
          "numpy step (Python)")
class MatrixGameBatched(BatchedEnv):
    settings = MatrixGame.settings

    def __init__(self, settings, num_copies):
        super().__init__(settings, num_copies)
        # The one-copy game checks the settings and builds the spec; every
        # copy shares its payoffs (a one-shot game has no other state).
        game = MatrixGame(settings)
        self.spec = game.spec
        self.payoffs = game.payoffs

    @classmethod
    def estimate_copy_bytes(cls, settings):
        # No state per copy: the settings' arrays, held once (charged to
        # every copy, as the estimate cannot know how many there are).
        return 64 + sum(8 * v.size for v in settings.values()
                        if isinstance(v, np.ndarray))

    def reset_batch(self, copies, seeds=None):
        return self._observations(len(copies))

    def step_batch(self, copies, actions):
        a0, a1 = actions["player_0"], actions["player_1"]
        rewards = {"player_0": self.payoffs[0][a0, a1],
                   "player_1": self.payoffs[1][a0, a1]}
        info = {"welfare": rewards["player_0"] + rewards["player_1"]}
        return self._observations(len(copies)), rewards, True, info

    @staticmethod
    def _observations(rows):
        zeros = np.zeros(rows)  # Discrete(1): always 0
        return {"player_0": zeros, "player_1": zeros}
