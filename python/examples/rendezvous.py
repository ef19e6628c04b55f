"""`py_rendezvous`: two agents on a line (or in a box) must meet.

Agents "a" and "b" start at uniformly random points of [-1, 1]^dims. Each
step both choose a velocity in Box(-max_speed, max_speed, (dims,)); the
positions move by it and are clipped to [-1, 1]. Both get the same reward,
minus their distance after the move. The game terminates (the agents met)
when the distance is at most meet_radius; otherwise the server truncates it
after episode_length steps. Each agent observes its own position, then the
other's (2 * dims numbers). Info key "distance".

Uniformly random play scores about -11 per episode with the defaults;
walking straight at each other scores about -0.6.
"""

import math

import numpy as np

from marl_env import Box, Env, EnvSpec, Setting, register


@register("py_rendezvous",
          "two agents on a line (or in a box) must meet; shared reward "
          "-distance per step (Python)")
class Rendezvous(Env):
    settings = [
        Setting("episode_length", 25, "steps before truncation (>= 1)"),
        Setting("dims", 1, "dimensions of the space the agents move in"),
        Setting("max_speed", 0.2, "largest move per step along each axis"),
        Setting("meet_radius", 0.1, "the agents have met within this "
                "distance"),
    ]

    def __init__(self, settings):
        super().__init__(settings)
        if settings["episode_length"] < 1:
            raise ValueError("episode_length must be >= 1, got %d" %
                             settings["episode_length"])
        if not 1 <= settings["dims"] <= 16:
            raise ValueError("dims must be in [1, 16], got %d" %
                             settings["dims"])
        if not settings["max_speed"] > 0 or not settings["meet_radius"] >= 0:
            raise ValueError("max_speed must be > 0 and meet_radius >= 0")
        self.dims = settings["dims"]
        self.meet_radius = settings["meet_radius"]
        speed = settings["max_speed"]
        self.spec = EnvSpec(
            agent_ids=["a", "b"],
            observation_spaces=Box(-1.0, 1.0, (2 * self.dims,)),
            action_spaces=Box(-speed, speed, (self.dims,)),
            episode_limit=settings["episode_length"],
            info_keys=["distance"])
        self.positions = np.zeros((2, self.dims))

    def reset(self, seed=None):
        super().reset(seed)
        self.positions = self.rng.uniform(-1.0, 1.0, size=(2, self.dims))
        return self._observations()

    def step(self, actions):
        # np.minimum/maximum: np.clip costs several times more on tiny arrays.
        moved = self.positions + np.array([actions["a"], actions["b"]],
                                          dtype=np.float64)
        self.positions = np.minimum(np.maximum(moved, -1.0), 1.0)
        distance = self.distance()
        return (self._observations(), -distance,
                distance <= self.meet_radius, {"distance": distance})

    def distance(self):
        gap = self.positions[0] - self.positions[1]
        return math.sqrt(float(gap @ gap))

    def _observations(self):
        a, b = self.positions
        return {"a": np.concatenate([a, b]), "b": np.concatenate([b, a])}
