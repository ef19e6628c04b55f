"""marl_env: write multi-agent environments in Python and serve them over
the marl.env.v3 protocol, or drive any server (C++ or Python) from Python.

Authors: subclass Env (one copy at a time) or BatchedEnv (every copy at once
with numpy arrays), declare Settings, build an EnvSpec, @register.
Users:   env = marl_env.make(name, endpoint=...); marl_env.make_batch(...).
"""

import pkgutil

# The package may live in two directories: the sources (python/marl_env) and
# the build's output (bazel-bin/python/marl_env: the client's compiled
# _codec module). Outside Bazel's runfiles, with both parents on sys.path,
# this joins them.
__path__ = pkgutil.extend_path(__path__, __name__)

from marl_env.env import (BatchedEnv, Env, EnvSpec, Setting, find, make_env,
                          register, registered)
from marl_env.spaces import Box, Discrete, MultiDiscrete, Space

__all__ = [
    "BatchedEnv", "Box", "Discrete", "Env", "EnvSpec", "MultiDiscrete",
    "Setting", "Space",
    "find", "make_env", "register", "registered", "make", "make_batch",
]


def make(*args, **kwargs):
    """marl_env.client.make: one copy with PettingZoo-parallel conventions."""
    from marl_env import client  # needs the generated protocol module
    return client.make(*args, **kwargs)


def make_batch(*args, **kwargs):
    """marl_env.client.make_batch: num_envs copies as numpy batches."""
    from marl_env import client
    return client.make_batch(*args, **kwargs)
