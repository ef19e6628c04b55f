"""py_costly_game: a two-player coordination game whose every step burns
`step_us` microseconds of CPU, as a simulator would: the environment the
scaling benchmark spreads over servers (tools/benchmarks/scaling_benchmark.py;
serve it with env_server_py --module=tools/benchmarks/costly_env.py).
Each player picks 0 or 1 and both earn 1 when they agree; one step per
episode."""

import time

from marl_env import Discrete, Env, EnvSpec, Setting, register


@register("py_costly_game", "a coordination game whose steps burn CPU time")
class CostlyGame(Env):
    settings = [Setting("step_us", 200, "CPU microseconds per step (0-1e6)")]

    def __init__(self, settings):
        super().__init__(settings)
        if not 0 <= settings["step_us"] <= 1000000:
            raise ValueError("step_us must be in [0, 1000000]")
        self.seconds = settings["step_us"] * 1e-6
        self.spec = EnvSpec(agent_ids=["player_0", "player_1"],
                            observation_spaces=Discrete(1),
                            action_spaces=Discrete(2), episode_limit=1)

    def reset(self, seed=None):
        super().reset(seed)
        return {"player_0": 0, "player_1": 0}

    def step(self, actions):
        # Busy, not asleep: the cost is CPU, as a simulator's is.
        end = time.perf_counter() + self.seconds
        while time.perf_counter() < end:
            pass
        reward = float(actions["player_0"] == actions["player_1"])
        return ({"player_0": 0, "player_1": 0},
                {"player_0": reward, "player_1": reward}, True, {})
