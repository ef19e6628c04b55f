"""`py_rendezvous_batched`: py_rendezvous (examples/rendezvous.py) written
with the batched API (marl_env.env.BatchedEnv): every copy in one numpy step,
each drawing its start from its own stream, so for the same seed and actions
it plays the same episodes as `py_rendezvous`.
"""

import numpy as np

from examples.rendezvous import Rendezvous
from marl_env import register
from marl_env.env import BatchedEnv


@register("py_rendezvous_batched",
          "py_rendezvous written with the batched API: every copy in one "
          "numpy step, the same episodes (Python)")
class RendezvousBatched(BatchedEnv):
    settings = Rendezvous.settings

    def __init__(self, settings, num_copies):
        super().__init__(settings, num_copies)
        game = Rendezvous(settings)  # checks the settings, builds the spec
        self.spec = game.spec
        self.dims = game.dims
        self.meet_radius = game.meet_radius
        # positions[c] = (a's, b's) position in copy c.
        self.positions = np.zeros((num_copies, 2, self.dims))

    def reset_batch(self, copies, seeds=None):
        # Copy c draws from its own stream, as its one-copy form would.
        self.positions[copies] = self.draw(
            copies, lambda rng: rng.uniform(-1.0, 1.0, size=(2, self.dims)))
        return self._observations(copies)

    def step_batch(self, copies, actions):
        moved = self.positions[copies] + np.stack(
            [actions["a"], actions["b"]], axis=1).astype(np.float64)
        positions = np.minimum(np.maximum(moved, -1.0), 1.0)
        self.positions[copies] = positions
        gap = positions[:, 0] - positions[:, 1]
        distance = np.sqrt(np.einsum("ij,ij->i", gap, gap))
        return (self._observations(copies), -distance,
                distance <= self.meet_radius, {"distance": distance})

    def _observations(self, copies):
        positions = self.positions[copies]
        rows = len(copies)
        return {"a": positions.reshape(rows, -1),
                "b": positions[:, ::-1].reshape(rows, -1)}
