"""The copies of one environment made together, with the protocol's batch
semantics: request validation, step counting, truncation at the episode
limit, and the SAME_STEP auto-reset rule with final observations. The
Python counterpart of envs/core/env_batch.cc, with no transport and no
protobuf: results are numpy arrays (copy-major, row r = copies[r]).
"""

import numpy as np

from marl_env import env as env_lib
from marl_env import spaces as spaces_lib
from marl_env.status import (Code, StatusError, failed_precondition, internal,
                             invalid_argument, out_of_range)

_MASK64 = (1 << 64) - 1


def seed_for_copy(seed, copy):
    """SplitMix64 of (seed, copy), bit for bit as EnvBatch::SeedForCopy."""
    z = (int(seed) + 0x9E3779B97F4A7C15 * (int(copy) + 1)) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


class Rows:
    """The result of a batched reset or step (the protocol's TimeStep)."""

    def __init__(self, batch, copies):
        spec = batch.spec
        rows = len(copies)
        self.copies = np.asarray(copies, dtype=np.int32)
        self.observation = [np.zeros((rows, size), np.float32)
                            for size in batch.observation_sizes]
        self.reward = [np.zeros(rows, np.float32) for _ in spec.agent_ids]
        self.action_mask = [np.ones((rows, n), bool) if n else None
                            for n in batch.mask_sizes]
        self.terminated = np.zeros(rows, bool)
        self.truncated = np.zeros(rows, bool)
        self.episode_step = np.zeros(rows, np.int32)
        self.public_observation = (
            np.zeros((rows, spec.public_observation_space.flat_size),
                     np.float32) if spec.has_public_observation else None)
        self.state = (np.zeros((rows, spec.state_space.flat_size), np.float32)
                      if spec.has_state else None)
        self.current_agent = (np.zeros(rows, np.int32) if spec.sequential
                              else None)
        self.info = (np.zeros((rows, len(spec.info_keys)), np.float32)
                     if spec.info_keys else None)
        # Rows that ended and were auto-reset, and their last observations.
        self.final_rows = []
        self.final_observation = [[] for _ in spec.agent_ids]
        self.final_public_observation = []
        self.final_state = []


class EnvBatch:
    """num_copies copies of one registered environment."""

    def __init__(self, env_class, settings, num_copies, seed, auto_reset):
        if num_copies < 1:
            raise invalid_argument(
                "num_copies must be at least 1, got %d" % num_copies)
        self.env_class = env_class
        self.settings = settings
        self.auto_reset = bool(auto_reset)
        self.copies = []
        for c in range(num_copies):
            env = _guarded(env_class.name, None, "construction",
                           lambda: env_class(dict(settings)),
                           user_error=True)
            if c == 0:
                _check_spec(env_class.name, env.spec)
            env.seed(seed_for_copy(seed, c))
            self.copies.append(env)
        spec = self.spec
        self.observation_sizes = [s.flat_size for s in spec.observation_spaces]
        self.action_sizes = [s.flat_size for s in spec.action_spaces]
        self.mask_sizes = [
            s.n if spec.has_action_masks and isinstance(
                s, spaces_lib.Discrete) else 0
            for s in spec.action_spaces]
        self.info_index = {k: i for i, k in enumerate(spec.info_keys)}
        self.episode_step = np.zeros(num_copies, np.int32)
        self.started = np.zeros(num_copies, bool)
        self.finished = np.zeros(num_copies, bool)
        self.legal = [np.ones((num_copies, n), bool) if n else None
                      for n in self.mask_sizes]
        self.current = np.zeros(num_copies, np.int32)

    @classmethod
    def create(cls, name, given_settings, num_copies, seed, auto_reset):
        """Looks `name` up, resolves settings; StatusError on bad input."""
        try:
            env_class = env_lib.find(name)
        except KeyError as error:
            raise StatusError(Code.NOT_FOUND, error.args[0]) from None
        try:
            settings = env_lib.resolve_settings(env_class.settings,
                                                given_settings)
        except ValueError as error:
            raise invalid_argument(str(error)) from None
        return cls(env_class, settings, num_copies, seed, auto_reset)

    @property
    def spec(self):
        return self.copies[0].spec

    @property
    def num_copies(self):
        return len(self.copies)

    def resolve_copies(self, copies):
        """Copy indices (empty = all): in range, no repeats."""
        if len(copies) == 0:
            return np.arange(self.num_copies, dtype=np.int32)
        resolved = np.asarray(copies, dtype=np.int64)
        bad = np.flatnonzero((resolved < 0) | (resolved >= self.num_copies))
        if bad.size:
            raise out_of_range(
                "copy %d does not exist (the handle has %d copies)" %
                (resolved[bad[0]], self.num_copies))
        seen = np.zeros(self.num_copies, bool)
        for c in resolved:
            if seen[c]:
                raise invalid_argument("copy %d listed twice" % c)
            seen[c] = True
        return resolved.astype(np.int32)

    # ------------------------------------------------------------- reset --

    def reset(self, copies, seeds=()):
        """Resets `copies` (resolved); `seeds` empty or one per copy."""
        if len(seeds) and len(seeds) != len(copies):
            raise invalid_argument(
                "got %d seeds for %d copies (give none, or one per copy)" %
                (len(seeds), len(copies)))
        out = Rows(self, copies)
        for row, c in enumerate(copies):
            seed = int(seeds[row]) if len(seeds) else None
            self._reset_copy(row, int(c), seed, out)
            self.episode_step[c] = 0
            self.started[c] = True
            self.finished[c] = False
        return out

    def _reset_copy(self, row, c, seed, out):
        env = self.copies[c]
        if seed is not None:
            env.seed(seed)
        self.started[c] = False  # until the reset succeeds
        observations = _guarded(self.env_class.name, c, "reset",
                                lambda: env.reset(seed))
        self._write_observations(row, c, observations, out)

    # -------------------------------------------------------------- step --

    def check_step(self, copies, discrete, continuous):
        """Validates per-agent packed actions for `copies` (resolved).

        discrete[agent] / continuous[agent]: the request's int64 / float32
        arrays. Returns per-agent [rows, action size] arrays.
        """
        spec = self.spec
        if len(discrete) != spec.num_agents:
            raise invalid_argument(
                "expected actions for %d agents (spec order), got %d" %
                (spec.num_agents, len(discrete)))
        for c in copies:
            if not self.started[c]:
                raise failed_precondition(
                    "copy %d stepped before its first reset" % c)
            if self.finished[c]:
                raise failed_precondition(
                    "copy %d finished its episode; reset it before stepping"
                    % c)
        rows = len(copies)
        packed = []
        for agent, space in enumerate(spec.action_spaces):
            agent_id = spec.agent_ids[agent]
            size = self.action_sizes[agent]
            given, other = ((discrete[agent], continuous[agent])
                            if space.is_integer else
                            (continuous[agent], discrete[agent]))
            if len(other):
                raise invalid_argument(
                    "agent '%s' has a %r action space: send %s actions only"
                    % (agent_id, space,
                       "discrete" if space.is_integer else "continuous"))
            if len(given) != rows * size:
                raise invalid_argument(
                    "agent '%s': expected %d copies x %d = %d actions, got %d"
                    % (agent_id, rows, size, rows * size, len(given)))
            values = np.asarray(given, dtype=np.int64 if space.is_integer
                                else np.float32).reshape(rows, size)
            problem = space.check_flat(values)
            if problem is not None:
                row, message = problem
                raise out_of_range("agent '%s', copy %d: %s" %
                                   (agent_id, copies[row], message))
            if self.mask_sizes[agent]:
                legal = self.legal[agent][copies, values[:, 0]]
                if spec.sequential:
                    # Only the acting agent's action counts.
                    legal |= self.current[copies] != agent
                if not legal.all():
                    row = int(np.flatnonzero(~legal)[0])
                    raise invalid_argument(
                        "agent '%s', copy %d: action %d is masked out "
                        "(illegal)" % (agent_id, copies[row], values[row, 0]))
            packed.append(values)
        return packed

    def step(self, copies, packed):
        """Steps `copies` with actions from check_step."""
        spec = self.spec
        out = Rows(self, copies)
        limit = spec.episode_limit
        integer = [s.is_integer for s in spec.action_spaces]
        scalar = [isinstance(s, spaces_lib.Discrete)
                  for s in spec.action_spaces]
        shapes = [s.shape for s in spec.action_spaces]
        # Python ints for Discrete, arrays otherwise; one list per agent.
        per_agent = []
        for agent, values in enumerate(packed):
            if scalar[agent]:
                per_agent.append(values[:, 0].tolist())
            elif integer[agent]:
                per_agent.append(list(values))
            else:
                per_agent.append(list(values.reshape((-1,) + shapes[agent])))
        ids = spec.agent_ids
        name = self.env_class.name
        for row, c in enumerate(copies):
            c = int(c)
            env = self.copies[c]
            actions = {ids[a]: per_agent[a][row] for a in range(len(ids))}
            self.started[c] = False  # until the step succeeds
            result = _guarded(name, c, "step", lambda: env.step(actions))
            try:
                observations, rewards, terminated, info = result
            except (TypeError, ValueError):
                raise internal(
                    "environment '%s' copy %d: step() must return "
                    "(observations, rewards, terminated, info), got %r" %
                    (name, c, type(result))) from None
            self._write_observations(row, c, observations, out)
            self._write_rewards(row, c, rewards, out)
            self._write_info(row, c, info, out)
            self.started[c] = True
            step = int(self.episode_step[c]) + 1
            self.episode_step[c] = step
            terminated = bool(terminated)
            truncated = not terminated and limit > 0 and step >= limit
            out.terminated[row] = terminated
            out.truncated[row] = truncated
            out.episode_step[row] = step
            if not (terminated or truncated):
                continue
            if not self.auto_reset:
                self.finished[c] = True
                continue
            # Same-step auto-reset: keep the ended episode's last
            # observations, reward, flags and info; the row's observation
            # side becomes the next episode's first.
            out.final_rows.append(row)
            for agent in range(len(ids)):
                out.final_observation[agent].append(
                    out.observation[agent][row].copy())
                out.observation[agent][row] = 0
                if out.action_mask[agent] is not None:
                    out.action_mask[agent][row] = True
            if out.public_observation is not None:
                out.final_public_observation.append(
                    out.public_observation[row].copy())
                out.public_observation[row] = 0
            if out.state is not None:
                out.final_state.append(out.state[row].copy())
                out.state[row] = 0
            if out.current_agent is not None:
                out.current_agent[row] = 0
            self._reset_copy(row, c, None, out)
            self.started[c] = True
            self.episode_step[c] = 0
        return out

    # ----------------------------------------------------------- writing --

    def _write_observations(self, row, c, observations, out):
        spec = self.spec
        name = self.env_class.name
        if not isinstance(observations, dict):
            raise internal("environment '%s' copy %d: observations must be a "
                           "dict keyed by agent id, got %r" %
                           (name, c, type(observations)))
        for agent, agent_id in enumerate(spec.agent_ids):
            if agent_id not in observations:
                continue  # stays 0, as in C++
            value = np.asarray(observations[agent_id],
                               dtype=np.float32).reshape(-1)
            if value.size != self.observation_sizes[agent]:
                raise internal(
                    "environment '%s' copy %d: observation of '%s' has %d "
                    "numbers, its space %r has %d" %
                    (name, c, agent_id, value.size,
                     spec.observation_spaces[agent],
                     self.observation_sizes[agent]))
            out.observation[agent][row] = value
        env = self.copies[c]
        if spec.has_public_observation:
            out.public_observation[row] = self._flat(
                c, "public_observation", env.public_observation,
                out.public_observation.shape[1])
        if spec.has_state:
            out.state[row] = self._flat(c, "state", env.state,
                                        out.state.shape[1])
        if spec.sequential:
            current = _guarded(name, c, "current_agent", env.current_agent)
            if not 0 <= int(current) < spec.num_agents:
                raise internal("environment '%s' copy %d: current_agent() = "
                               "%r is not an agent index" % (name, c, current))
            out.current_agent[row] = int(current)
            self.current[c] = int(current)
        for agent, n in enumerate(self.mask_sizes):
            if not n:
                continue
            mask = _guarded(name, c, "action_mask",
                            lambda: env.action_mask(spec.agent_ids[agent]))
            mask = np.asarray(mask, dtype=bool).reshape(-1)
            if mask.size != n:
                raise internal("environment '%s' copy %d: action_mask('%s') "
                               "has %d entries, expected %d" %
                               (name, c, spec.agent_ids[agent], mask.size, n))
            out.action_mask[agent][row] = mask
            self.legal[agent][c] = mask

    def _flat(self, c, what, method, size):
        value = np.asarray(_guarded(self.env_class.name, c, what, method),
                           dtype=np.float32).reshape(-1)
        if value.size != size:
            raise internal("environment '%s' copy %d: %s() has %d numbers, "
                           "expected %d" %
                           (self.env_class.name, c, what, value.size, size))
        return value

    def _write_rewards(self, row, c, rewards, out):
        spec = self.spec
        if isinstance(rewards, dict):
            for agent, agent_id in enumerate(spec.agent_ids):
                if agent_id in rewards:
                    out.reward[agent][row] = float(rewards[agent_id])
            unknown = set(rewards) - set(spec.agent_ids)
            if unknown:
                raise internal("environment '%s' copy %d: rewards for "
                               "unknown agents %s" %
                               (self.env_class.name, c, sorted(unknown)))
        else:
            shared = float(rewards)  # one reward for everyone
            for agent in range(spec.num_agents):
                out.reward[agent][row] = shared

    def _write_info(self, row, c, info, out):
        if not info:
            return
        for key, value in info.items():
            index = self.info_index.get(key)
            if index is None:
                raise internal("environment '%s' copy %d: info key '%s' is "
                               "not in spec.info_keys %s" %
                               (self.env_class.name, c, key,
                                list(self.info_index)))
            out.info[row, index] = float(value)


def _check_spec(name, spec):
    if not isinstance(spec, env_lib.EnvSpec):
        raise internal("environment '%s' did not set self.spec to an EnvSpec "
                       "in __init__" % name)
    try:
        spec.check()
    except ValueError as error:
        raise internal("environment '%s' has a malformed spec: %s" %
                       (name, error)) from None


def _guarded(name, copy, what, function, user_error=False):
    """Calls environment code; its exceptions become statuses.

    With user_error (construction from settings), ValueError and TypeError
    mean bad settings: INVALID_ARGUMENT. Anything else is the environment's
    bug: INTERNAL, and the server carries on.
    """
    try:
        return function()
    except StatusError:
        raise
    except (ValueError, TypeError) as error:
        if user_error:
            raise invalid_argument(str(error)) from None
        raise _bug(name, copy, what, error) from None
    except Exception as error:  # pylint: disable=broad-except
        raise _bug(name, copy, what, error) from None


def _bug(name, copy, what, error):
    where = "environment '%s'" % name
    if copy is not None:
        where += " copy %d" % copy
    return internal("%s raised in %s: %s: %s" %
                    (where, what, type(error).__name__, error))
