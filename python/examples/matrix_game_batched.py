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
        # Per joint action (row-major cell): player_0's and player_1's
        # payoffs and their sum, so a step looks every cell up at once.
        self._table = np.stack([self.payoffs[0], self.payoffs[1],
                                self.payoffs[0] + self.payoffs[1]]).reshape(
                                    3, -1)

    @classmethod
    def estimate_copy_bytes(cls, settings):
        # No state per copy: the settings' arrays, held once (charged to
        # every copy, as the estimate cannot know how many there are).
        return 64 + sum(8 * v.size for v in settings.values()
                        if isinstance(v, np.ndarray))

    def reset_batch(self, copies, seeds=None):
        return self._observations(len(copies))

    def step_batch(self, copies, actions):
        # ValueError for an action outside the matrix.
        cells = np.ravel_multi_index(
            (actions["player_0"], actions["player_1"]),
            self.payoffs[0].shape)
        row, column, welfare = self._table.take(cells, axis=1)
        rewards = {"player_0": row, "player_1": column}
        return (self._observations(len(copies)), rewards, True,
                {"welfare": welfare})

    @staticmethod
    def _observations(rows):
        zeros = np.zeros(rows)  # Discrete(1): always 0
        return {"player_0": zeros, "player_1": zeros}
