"""Test helpers: start a server binary on a free port, and a turn-based
toy environment that uses every optional part of a spec."""

import os
import re
import subprocess
import time

import numpy as np

from marl_env import Discrete, Box, Env, EnvSpec, Setting, register


def start_server(argv, timeout=30.0):
    """Starts a server binary (C++ env_server or env_server_py) with
    --endpoint=tcp://127.0.0.1:0; returns (process, endpoint)."""
    process = subprocess.Popen(
        list(argv) + ["--endpoint=tcp://127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.match(r"env_server: listening on (\S+)", line)
        if match:
            return process, match.group(1)
    process.kill()
    raise RuntimeError("server %s did not start:\n%s" % (argv, "".join(lines)))


def stop_server(process, timeout=10.0):
    """SIGTERM, then waits; returns (exit code, remaining output)."""
    if process.poll() is None:
        process.terminate()
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return None, output
    return process.returncode, output


def runfile(path):
    """A data dependency's path (tests run in the runfiles tree)."""
    return os.path.join(os.environ.get("TEST_SRCDIR", ""), "marl", path) \
        if not os.path.exists(path) else path


@register("test_turns", "turn-based toy game using every optional spec part "
          "(tests only)")
class TurnGame(Env):
    """Two players take turns picking 0, 1 or 2; 2 is illegal on the first
    turn and right after the other player picked 2. Public observation: the
    turn counter; state: (counter, running total). The game ends when the
    total reaches `target`; the start total is random in [0, 3)."""

    settings = [Setting("target", 6, "total that ends the game"),
                Setting("limit", 0, "episode limit (0 = none)"),
                Setting("crash_on", -1, "turn at which step() raises (tests "
                        "of environment bugs)")]

    def __init__(self, settings):
        super().__init__(settings)
        self.target = settings["target"]
        self.crash_on = settings["crash_on"]
        if self.target < 1:
            raise ValueError("target must be >= 1")
        if not 0 <= settings["limit"] < 2 ** 31:
            raise ValueError("limit must be in [0, 2^31), got %d" %
                             settings["limit"])
        self.spec = EnvSpec(
            agent_ids=["first", "second"],
            observation_spaces=Box(0, 100, (1,)),
            action_spaces=Discrete(3),
            episode_limit=settings["limit"],
            info_keys=["total"],
            public_observation_space=Box(0, 1000, (1,)),
            state_space=Box(0, 1000, (2,)),
            has_action_masks=True,
            sequential=True)

    def reset(self, seed=None):
        super().reset(seed)
        self.turn = 0
        self.total = int(self.rng.integers(3))
        self.last = -1
        return self._observations()

    def step(self, actions):
        actor = self.spec.agent_ids[self.turn % 2]
        action = actions[actor]
        if self.turn == self.crash_on:
            raise RuntimeError("crash_on reached")
        self.total += action
        self.last = action
        self.turn += 1
        return (self._observations(), {actor: float(action)},
                self.total >= self.target, {"total": self.total})

    def _observations(self):
        return {"first": [self.total], "second": [self.total]}

    def public_observation(self):
        return [self.turn]

    def state(self):
        return np.array([self.turn, self.total])

    def action_mask(self, agent_id):
        return [True, True, self.turn > 0 and self.last != 2]

    def current_agent(self):
        return self.turn % 2
