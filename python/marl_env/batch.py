"""The copies of one environment made together, with the protocol's batch
semantics: request validation, step counting, truncation at the episode
limit, and the SAME_STEP auto-reset rule with final observations. The
Python counterpart of envs/core/env_batch.cc, with no transport and no
protobuf: results are numpy arrays (copy-major, row r = copies[r]).

Both forms of environment run through one vectorised path: a BatchedEnv
directly, one-copy Envs through _OneCopyEnvs, which loops over the copies
and stacks their answers into the same arrays. With the setting
message_size > 0, either is behind marl_env.message_channel.MessageChannel
(the protocol's message channel), in the same interface.
"""

import numpy as np

from marl_env import env as env_lib
from marl_env import message_channel
from marl_env import spaces as spaces_lib
from marl_env.status import (Code, StatusError, describe, failed_precondition,
                             internal, invalid_argument, out_of_range)

_MASK64 = (1 << 64) - 1
# The rows of a reset or step that cover every row of its Rows.
_EVERY_ROW = slice(None)
_max = np.maximum.reduce  # without ndarray.max's Python wrapper
# (Half the reward limit)^2: see EnvBatch._write_rewards.
_QUICK_SQUARED_REWARD = (env_lib.MAX_ABS_REWARD / 2) ** 2


def seed_for_copy(seed, copy):
    """SplitMix64 of (seed, copy), bit for bit as EnvBatch::SeedForCopy."""
    z = (int(seed) + 0x9E3779B97F4A7C15 * (int(copy) + 1)) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def seeds_for_copies(seed, copies):
    """seed_for_copy(seed, c) for every c in `copies`, as a uint64 array
    (numpy's uint64 arithmetic wraps, as SplitMix64 wants)."""
    z = (np.asarray(copies, dtype=np.uint64) + np.uint64(1)) * np.uint64(
        0x9E3779B97F4A7C15) + np.uint64(int(seed) & _MASK64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class Rows:
    """The result of a batched reset or step (the protocol's TimeStep):
    numpy arrays with one row per copy in `copies`, and, for rows that ended
    and were auto-reset in the same step, `final_rows` and the ended
    episodes' last observations (one row per final row)."""

    def __init__(self, batch, copies):
        spec = batch.spec
        rows = len(copies)
        self.copies = np.asarray(copies, dtype=np.int32)
        # Observations, rewards, episode steps and flags: stored by the
        # reset or step that fills these Rows (EnvBatch); flags that are
        # the same for every row may be shared read-only arrays.
        self.observation = [None] * len(batch.observation_sizes)
        self.reward = None
        self.episode_step = None
        self.terminated = self.truncated = None
        self.action_mask = ([np.ones((rows, n), bool) if n else None
                             for n in batch.mask_sizes]
                            if batch.has_masks else list(batch.no_masks))
        if batch.has_extras:
            self.public_observation = (
                np.zeros((rows, batch.public_observation_size), np.float32)
                if spec.has_public_observation else None)
            self.state = (np.zeros((rows, batch.state_size), np.float32)
                          if spec.has_state else None)
            self.current_agent = (np.zeros(rows, np.int32) if spec.sequential
                                  else None)
        else:
            self.public_observation = self.state = self.current_agent = None
        self.info = (np.zeros((rows, len(spec.info_keys)), np.float32)
                     if spec.info_keys else None)
        # Rows that ended and were auto-reset, and their last observations
        # ([len(final_rows), size] each; None where the spec has no such
        # part).
        # (Shared read-only empty arrays until rows end: replaced, never
        # written.)
        self.final_rows = _NO_ROWS
        self.final_observation = list(batch.no_final_observation)
        self.final_public_observation = batch.no_final_public_observation
        self.final_state = batch.no_final_state


class EnvBatch:
    """num_copies copies of one registered environment (an Env or a
    BatchedEnv)."""

    def __init__(self, env_class, settings, num_copies, seed, auto_reset):
        if num_copies < 1:
            raise invalid_argument(
                "num_copies must be at least 1, got %d" % num_copies)
        self.env_class = env_class
        self.name = env_class.name
        self.settings = settings
        self.auto_reset = bool(auto_reset)
        if issubclass(env_class, env_lib.BatchedEnv):
            self.env = _guarded(self.name, None, "construction",
                                lambda: env_class(dict(settings), num_copies),
                                user_error=True)
            _check_spec(self.name, getattr(self.env, "spec", None))
            rngs = getattr(self.env, "rngs", None)
            if (getattr(self.env, "num_copies", None) != num_copies or
                    not isinstance(rngs, env_lib.CopyRngs) or
                    len(rngs) != num_copies):
                raise internal(
                    "environment '%s' did not call BatchedEnv.__init__("
                    "settings, num_copies) with its %d copies" %
                    (self.name, num_copies))
        else:
            self.env = _OneCopyEnvs(env_class, settings, num_copies)
        message_size = settings.get(env_lib.MESSAGE_SIZE_SETTING, 0)
        if message_size:
            # The copies behind the protocol's message channel; an error
            # names the environment (INVALID_ARGUMENT, RESOURCE_EXHAUSTED).
            self.env = message_channel.add_message_channel(
                self.env, message_size, self.name)
        self._spec = self.env.spec
        all_copies = np.arange(num_copies, dtype=np.intp)
        _guarded(self.name, None, "seed", self.env.seed, all_copies,
                 seeds_for_copies(seed, all_copies))
        spec = self.spec
        self.observation_sizes = [s.flat_size for s in spec.observation_spaces]
        self.action_sizes = [s.flat_size for s in spec.action_spaces]
        self.mask_sizes = [
            s.n if spec.has_action_masks and isinstance(
                s, spaces_lib.Discrete) else 0
            for s in spec.action_spaces]
        self.public_observation_size = (
            spec.public_observation_space.flat_size
            if spec.has_public_observation else 0)
        self.state_size = spec.state_space.flat_size if spec.has_state else 0
        self.info_index = {k: i for i, k in enumerate(spec.info_keys)}
        self.has_masks = any(self.mask_sizes)
        self.no_masks = (None,) * len(self.mask_sizes)
        self.has_extras = (spec.has_public_observation or spec.has_state or
                           spec.sequential or self.has_masks)
        # What step_batch receives for each agent: [rows] for Discrete,
        # [rows, *shape] otherwise.
        self._action_shapes = [
            () if isinstance(s, spaces_lib.Discrete) else tuple(s.shape)
            for s in spec.action_spaces]
        # Precomputed for every request: agent ids, per-agent action
        # layout, the empty final arrays of Rows.
        self._agent_ids = tuple(spec.agent_ids)
        self._agent_set = frozenset(spec.agent_ids)
        self._actions = tuple(
            (agent_id, space, space.is_integer, size, mask, shape)
            for agent_id, space, size, mask, shape in zip(
                spec.agent_ids, spec.action_spaces, self.action_sizes,
                self.mask_sizes, self._action_shapes))
        # Agents that all act in one space, without masks, have their
        # actions copied and checked together (one array, one check).
        spaces = spec.action_spaces
        self._joint_action_space = (
            spaces[0] if len(spaces) > 1 and not any(self.mask_sizes) and
            all(s == spaces[0] for s in spaces[1:]) else None)
        space = self._joint_action_space
        self._joint_action_layout = None if space is None else (
            space, space.is_integer,
            np.dtype(np.int64 if space.is_integer else np.float32),
            space.flat_size)
        self.no_final_observation = tuple(
            _read_only(np.zeros((0, size), np.float32))
            for size in self.observation_sizes)
        self.no_final_public_observation = (
            _read_only(np.zeros((0, self.public_observation_size),
                                np.float32))
            if spec.has_public_observation else None)
        self.no_final_state = (
            _read_only(np.zeros((0, self.state_size), np.float32))
            if spec.has_state else None)
        # What resolve_copies returns for "every copy" (int32), and the
        # same indices for environment calls (intp) and as final rows:
        # read-only, shared by every request. A request for every copy
        # indexes the per-copy state below with a slice, not these.
        self.every_copy = _read_only(np.arange(num_copies, dtype=np.int32))
        self._every_index = _read_only(np.arange(num_copies, dtype=np.intp))
        # Flags the same for every row (Rows.terminated, truncated), and the
        # per-copy step increment: shared, read-only.
        self._all_true = _read_only(np.ones(num_copies, bool))
        self._all_false = _read_only(np.zeros(num_copies, bool))
        self._ones = _read_only(np.ones(num_copies, np.int32))
        self.episode_step = np.zeros(num_copies, np.int32)
        self.started = np.zeros(num_copies, bool)
        self.finished = np.zeros(num_copies, bool)
        # True: every copy started and none finished, as of the last
        # request; None: unknown (see _every_copy_ready). Saves checking
        # the arrays before each step of every copy.
        self._all_ready = None
        self.legal = [np.ones((num_copies, n), bool) if n else None
                      for n in self.mask_sizes]
        self.current = np.zeros(num_copies, np.int32)

    @classmethod
    def create(cls, name, given_settings, num_copies, seed, auto_reset):
        """Looks `name` up, resolves settings (the environment's own and
        message_size, env.accepted_settings); StatusError on bad input."""
        try:
            env_class = env_lib.find(name)
        except KeyError as error:
            raise StatusError(Code.NOT_FOUND, error.args[0]) from None
        try:
            settings = env_lib.resolve_settings(
                env_lib.accepted_settings(env_class), given_settings)
        except ValueError as error:
            raise invalid_argument(str(error)) from None
        return cls(env_class, settings, num_copies, seed, auto_reset)

    @property
    def spec(self):
        return self._spec

    @property
    def num_copies(self):
        return len(self.episode_step)

    def resolve_copies(self, copies):
        """Copy indices (empty = all): in range, no repeats."""
        if len(copies) == 0:
            return self.every_copy
        resolved = _as_array(copies, np.int64)
        bad = np.flatnonzero((resolved < 0) | (resolved >= self.num_copies))
        if bad.size:
            raise out_of_range(
                "copy %d does not exist (the handle has %d copies)" %
                (resolved[bad[0]], self.num_copies))
        if np.bincount(resolved, minlength=self.num_copies).max() > 1:
            # The first repeat in request order, as a loop would find it.
            first = np.zeros(self.num_copies, bool)
            for c in resolved.tolist():
                if first[c]:
                    raise invalid_argument("copy %d listed twice" % c)
                first[c] = True
        return resolved.astype(np.int32)

    # ------------------------------------------------------------- reset --

    def reset(self, copies, seeds=()):
        """Resets `copies` (resolved); `seeds` empty or one per copy."""
        if len(seeds) and len(seeds) != len(copies):
            raise invalid_argument(
                "got %d seeds for %d copies (give none, or one per copy)" %
                (len(seeds), len(copies)))
        out = Rows(self, copies)
        index, copies = self._indices(copies)
        rows = len(copies)
        out.reward = [np.zeros(rows, np.float32) for _ in self._agent_ids]
        out.episode_step = np.zeros(rows, np.int32)
        out.terminated = out.truncated = self._flags(False, rows)
        seeds = _as_array(seeds, np.uint64) if len(seeds) else None
        self._reset_rows(out, _EVERY_ROW, copies, index, seeds)
        self.started[index] = True
        self.episode_step[index] = 0
        self.finished[index] = False
        if index is _EVERY_ROW:
            self._all_ready = True
        return out

    def _flags(self, value, rows):
        """A shared read-only [rows] array of `value`."""
        flags = self._all_true if value else self._all_false
        return flags if rows == len(flags) else flags[:rows]

    def _indices(self, copies):
        """(index into per-copy state, copies as intp for the environment)
        for resolved `copies`: a slice for every copy."""
        if copies is self.every_copy:
            return _EVERY_ROW, self._every_index
        copies = np.asarray(copies, dtype=np.intp)
        return copies, copies

    def _reset_rows(self, out, rows, copies, index, seeds):
        """Resets `copies` (per-copy state `index`) into `rows` of `out`
        (their observation side is already clear, or, for every row,
        replaced here). If it fails, the copies need a reset (started is
        False); on success the caller marks copies not started before."""
        env = self.env
        self._all_ready = None
        try:
            if seeds is not None:
                _guarded(self.name, None, "seed", env.seed, copies, seeds)
            observations = _guarded(self.name, None, "reset_batch",
                                    env.reset_batch, copies, seeds)
            self._write_observations(out, rows, copies, observations,
                                     "reset_batch")
            if self.has_extras:
                self._write_extras(out, rows, copies, index)
        except BaseException:
            self.started[index] = False
            raise

    # -------------------------------------------------------------- step --

    def check_step(self, copies, discrete, continuous):
        """Validates per-agent packed actions for `copies` (resolved).

        discrete[agent] / continuous[agent]: the request's int64 / float32
        values (numpy arrays, e.g. from convert.step_actions, or
        sequences). Returns per-agent [rows, action size] arrays, the
        caller's own (writable).
        """
        spec = self.spec
        if len(discrete) != spec.num_agents:
            raise invalid_argument(
                "expected actions for %d agents (spec order), got %d" %
                (spec.num_agents, len(discrete)))
        if copies is not self.every_copy or not self._every_copy_ready():
            started, finished = self.started, self.finished
            index = np.asarray(copies, dtype=np.intp)
            waiting = ~started[index] | finished[index]
            if waiting.any():
                c = int(index[np.flatnonzero(waiting)[0]])
                if not started[c]:
                    raise failed_precondition(
                        "copy %d stepped before its first reset" % c)
                raise failed_precondition(
                    "copy %d finished its episode; reset it before "
                    "stepping" % c)
        rows = len(copies)
        if self._joint_action_space is not None:
            packed = self._check_joint_actions(copies, discrete, continuous)
            if packed is not None:
                return packed
        packed = []
        for agent, (agent_id, space, is_integer, size, mask_size,
                    _) in enumerate(self._actions):
            given, other = ((discrete[agent], continuous[agent])
                            if is_integer else
                            (continuous[agent], discrete[agent]))
            if len(other):
                raise invalid_argument(
                    "agent '%s' has a %r action space: send %s actions only"
                    % (agent_id, space,
                       "discrete" if is_integer else "continuous"))
            if len(given) != rows * size:
                raise invalid_argument(
                    "agent '%s': expected %d copies x %d = %d actions, got %d"
                    % (agent_id, rows, size, rows * size, len(given)))
            dtype = np.int64 if is_integer else np.float32
            # A copy: the environment gets arrays of its own, never a view
            # of the request's bytes.
            values = (given.astype(dtype) if isinstance(given, np.ndarray)
                      else _as_array(given, dtype)).reshape(rows, size)
            problem = space.check_flat(values)
            if problem is not None:
                row, message = problem
                raise out_of_range("agent '%s', copy %d: %s" %
                                   (agent_id, copies[row], message))
            if mask_size:
                index = np.asarray(copies, dtype=np.intp)
                legal = self.legal[agent][index, values[:, 0]]
                if spec.sequential:
                    # Only the acting agent's action counts.
                    legal |= self.current[index] != agent
                if not legal.all():
                    row = int(np.flatnonzero(~legal)[0])
                    raise invalid_argument(
                        "agent '%s', copy %d: action %d is masked out "
                        "(illegal)" % (agent_id, copies[row], values[row, 0]))
            packed.append(values)
        return packed

    def _check_joint_actions(self, copies, discrete, continuous):
        """check_step's actions when every agent acts in the same space
        (no masks), for the usual request: arrays of that space's type, of
        the right sizes. Returns None for anything else, which the
        per-agent checks then answer (in their order)."""
        space, is_integer, dtype, size = self._joint_action_layout
        given, other = ((discrete, continuous) if is_integer else
                        (continuous, discrete))
        rows = len(copies)
        if len(other) != len(given):
            return None
        shape = (rows * size,)
        ndarray = np.ndarray
        for values, unused in zip(given, other):
            if len(unused) or not isinstance(values, ndarray) or \
                    values.dtype != dtype or values.shape != shape:
                return None
        agents = len(given)
        # A new array: the environment gets arrays of its own.
        joint = np.concatenate(given).reshape(agents * rows, size)
        problem = space.check_flat(joint)
        if problem is not None:
            row, message = problem
            raise out_of_range("agent '%s', copy %d: %s" %
                               (self._agent_ids[row // rows],
                                copies[row % rows], message))
        return list(joint.reshape(agents, rows, size))

    def _every_copy_ready(self):
        if self._all_ready is None:
            self._all_ready = bool(self.started.all() and
                                   not self.finished.any())
        return self._all_ready

    def step(self, copies, packed):
        """Steps `copies` with actions from check_step.

        If the environment fails (an exception, or malformed results), the
        request fails with INTERNAL and every copy in it needs a reset.
        """
        out = Rows(self, copies)
        index, copies = self._indices(copies)
        rows = len(copies)
        actions = {agent_id: values.reshape((rows,) + shape)
                   for (agent_id, _, _, _, _, shape), values in zip(
                       self._actions, packed)}
        # Every copy stays ready after a step of all of them that was ready
        # before (check_step), unless ended copies wait for a reset.
        stays_ready = index is _EVERY_ROW and self._all_ready
        self._all_ready = None
        try:
            ended = self._step_rows(out, rows, copies, index, actions)
        except BaseException:
            self.started[index] = False  # the copies need a reset
            raise
        if ended:
            # A failed auto-reset leaves only the ended copies unstarted.
            self._end_rows(out, rows, copies, index, ended == rows)
            if not self.auto_reset:
                stays_ready = False  # ended copies wait for a reset
        self._all_ready = stays_ready or None
        return out

    def _step_rows(self, out, rows, copies, index, actions):
        """step's work, into `out`; returns how many rows ended."""
        result = _guarded(self.name, None, "step_batch", self.env.step_batch,
                          copies, actions)
        try:
            observations, rewards, terminated, info = result
        except (TypeError, ValueError):
            raise internal(
                "environment '%s': step_batch() must return (observations, "
                "rewards, terminated, info), got %s" %
                (self.name, describe(result))) from None
        self._write_observations(out, _EVERY_ROW, copies, observations,
                                 "step_batch")
        self._write_rewards(out, copies, rewards)
        if info is not None:
            self._write_info(out, rows, info)
        given = terminated
        terminated = self._column(given, rows, bool, "terminated")
        if terminated is given:
            terminated = terminated.copy()  # Rows own their arrays
        if self.has_extras:
            self._write_extras(out, _EVERY_ROW, copies, index)
        if index is _EVERY_ROW:
            steps = self.episode_step + self._ones
        else:
            steps = self.episode_step[index] + 1
        out.episode_step = steps
        limit = self.spec.episode_limit
        if terminated.ndim == 0:  # one value for every row
            ended_all = bool(terminated)
            out.terminated = self._flags(ended_all, rows)
            if ended_all or limit <= 0:
                out.truncated = self._flags(False, rows)
                count = rows if ended_all else 0
            else:
                out.truncated = steps >= limit
                count = np.count_nonzero(out.truncated)
        else:
            out.terminated = terminated
            if limit > 0:
                out.truncated = ~terminated & (steps >= limit)
                count = np.count_nonzero(terminated | out.truncated)
            else:
                out.truncated = self._flags(False, rows)
                count = np.count_nonzero(terminated)
        if count == rows and self.auto_reset:
            # Every row ended and starts its next episode at once (e.g. a
            # one-shot game): the steps stored are 0.
            self.episode_step[index] = 0
        else:
            self.episode_step[index] = steps
        return count

    def _end_rows(self, out, rows, copies, index, everyone):
        """The rows of a step that ended (terminated or truncated): marked
        finished, or, with auto-reset, reset in the same step (the ended
        episodes' last observations move to out.final_*)."""
        if everyone:  # e.g. one-shot games: slices beat index arrays
            ended_rows, ended_copies, ended_index = _EVERY_ROW, copies, index
        else:
            ended_rows = np.flatnonzero(out.terminated | out.truncated)
            ended_copies = ended_index = copies[ended_rows]
        if not self.auto_reset:
            self.finished[ended_index] = True
            return
        # Same-step auto-reset: keep the ended episodes' last observations,
        # rewards, flags and infos; the rows' observation side becomes the
        # next episode's first.
        if everyone:
            out.final_rows = self.every_copy[:rows]  # 0 .. rows-1
            # The arrays move over; the reset stores fresh ones.
            out.final_observation = out.observation
            out.observation = [None] * len(out.final_observation)
        else:
            out.final_rows = ended_rows.astype(np.int32)
            for agent, observation in enumerate(out.observation):
                out.final_observation[agent] = observation[ended_rows]
                observation[ended_rows] = 0
        for mask in out.action_mask:
            if mask is not None:
                mask[ended_rows] = True
        if out.public_observation is not None:
            out.final_public_observation = out.public_observation[
                ended_rows].copy()
            out.public_observation[ended_rows] = 0
        if out.state is not None:
            out.final_state = out.state[ended_rows].copy()
            out.state[ended_rows] = 0
        if out.current_agent is not None:
            out.current_agent[ended_rows] = 0
        self._reset_rows(out, ended_rows, ended_copies, ended_index, None)
        if not everyone:
            self.episode_step[ended_index] = 0

    # ----------------------------------------------------------- writing --

    def _fail(self, message, *args):
        return internal("environment '%s': " % self.name + message % args)

    def _block(self, value, rows, size, what, dtype=np.float32, copy=False):
        """`value` as [rows, size] (with `copy`, always a new array), or
        INTERNAL saying what is wrong. `what`: a description, or a (format,
        args) pair formatted only on failure (the usual case formats
        nothing)."""
        try:
            array = (np.array(value, dtype=dtype) if copy else
                     np.asarray(value, dtype=dtype))
        except (TypeError, ValueError) as error:
            raise self._fail("%s is not an array of numbers (%s)",
                             _text(what), error) from None
        if array.ndim == 0 or array.shape[0] != rows or \
                array.size != rows * size:
            raise self._fail("%s has shape %s; expected %d rows (one per "
                             "copy) of %d numbers", _text(what), array.shape,
                             rows, size)
        return array.reshape(rows, size)

    def _column(self, value, rows, dtype, what):
        """`value` as [rows], or a scalar (that counts for every row when
        assigned to a row slice). `what` as for _block."""
        try:
            array = np.asarray(value, dtype=dtype)
        except (TypeError, ValueError, OverflowError):
            array = None
        if array is None or (array.shape != (rows,) and array.ndim != 0):
            raise self._fail("%s must be one value or %d (one per copy), "
                             "got %s", _text(what), rows, describe(value))
        return array

    def _write_observations(self, out, rows, copies, observations, method):
        """Into `rows` of out.observation; for every row (_EVERY_ROW), as
        new arrays of their own (the environment may keep what it
        returned)."""
        if not isinstance(observations, dict):
            raise self._fail("%s() must return observations as a dict keyed "
                             "by agent id, got %s", method,
                             describe(observations))
        n = len(copies)
        every = rows is _EVERY_ROW
        arrays = out.observation
        for agent, (agent_id, size) in enumerate(zip(
                self._agent_ids, self.observation_sizes)):
            value = observations.get(agent_id)
            if value is None:
                # 0, as in C++ (rows of a partial reset are cleared).
                if every:
                    arrays[agent] = np.zeros((n, size), np.float32)
                continue
            # The usual case checked inline: numbers of the right count
            # and rows (_block says what is wrong otherwise).
            try:
                block = (np.array(value, dtype=np.float32) if every else
                         np.asarray(value, dtype=np.float32))
                good = block.ndim and block.shape[0] == n and \
                    block.size == n * size
            except (TypeError, ValueError):
                good = False
            if not good:
                block = self._block(
                    value, n, size,
                    ("%s() observation of '%s' (space %r)",
                     (method, agent_id, self.spec.observation_spaces[agent])),
                    copy=every)
            elif block.ndim != 2:
                block = block.reshape(n, size)
            if every:
                arrays[agent] = block
            else:
                arrays[agent][rows] = block

    def _write_extras(self, out, rows, copies, index):
        """The optional parts the spec declares (if has_extras), after a
        reset or step (`index`: `copies` in the per-copy state)."""
        spec = self.spec
        env = self.env
        n = len(copies)
        if spec.has_public_observation:
            value = _guarded(self.name, None, "public_observation_batch",
                             env.public_observation_batch, copies)
            out.public_observation[rows] = self._block(
                value, n, self.public_observation_size,
                "public_observation_batch()")
        if spec.has_state:
            value = _guarded(self.name, None, "state_batch",
                             env.state_batch, copies)
            out.state[rows] = self._block(value, n, self.state_size,
                                          "state_batch()")
        if spec.sequential:
            value = _guarded(self.name, None, "current_agent_batch",
                             env.current_agent_batch, copies)
            current = self._block(value, n, 1, "current_agent_batch()",
                                  np.float64).reshape(n)
            bad = np.flatnonzero((current < 0) |
                                 (current >= spec.num_agents) |
                                 (current != np.floor(current)))
            if bad.size:
                raise self._fail("copy %d: current agent %r is not an agent "
                                 "index", copies[bad[0]], current[bad[0]])
            current = current.astype(np.int32)
            out.current_agent[rows] = current
            self.current[index] = current
        for agent, size in enumerate(self.mask_sizes):
            if not size:
                continue
            agent_id = spec.agent_ids[agent]
            value = _guarded(self.name, None, "action_mask_batch",
                             env.action_mask_batch, copies, agent_id)
            mask = self._block(value, n, size, ("action_mask_batch(copies, "
                                                "'%s')", (agent_id,)), bool)
            out.action_mask[agent][rows] = mask
            self.legal[agent][index] = mask

    def _write_rewards(self, out, copies, rewards):
        """out.reward: new float32 arrays, each reward checked."""
        rows = len(copies)
        agent_ids = self._agent_ids
        if isinstance(rewards, dict):
            if not self._agent_set.issuperset(rewards):
                raise self._fail("rewards for unknown agents %s",
                                 sorted(set(rewards) - self._agent_set))
            per_agent = [rewards.get(agent_id, 0.0)
                         for agent_id in agent_ids]
        else:
            per_agent = [rewards] * len(agent_ids)  # shared by everyone
        out.reward = written = []
        for agent_id, value in zip(agent_ids, per_agent):
            reward = self._column(value, rows, np.float64,
                                  ("reward of '%s'", (agent_id,)))
            # One dot product when all is well (a numpy reduction costs
            # several times more): a sum of squares within
            # _QUICK_SQUARED_REWARD bounds every |reward| by half the limit
            # (whatever its rounding), and is NaN or inf if any reward is.
            if not reward.dot(reward) <= _QUICK_SQUARED_REWARD and \
                    not _max(np.abs(reward), axis=None, initial=0.0) <= \
                    env_lib.MAX_ABS_REWARD:
                bad = ~(np.abs(reward) <= env_lib.MAX_ABS_REWARD)
                reward = np.broadcast_to(reward, (rows,))
                row = int(np.flatnonzero(np.broadcast_to(bad, (rows,)))[0])
                raise self._fail(
                    "copy %d: reward %r for agent '%s' is not finite or "
                    "exceeds %g in magnitude (check the environment's "
                    "settings)", copies[row], float(reward[row]), agent_id,
                    env_lib.MAX_ABS_REWARD)
            if reward.ndim:
                written.append(reward.astype(np.float32))
            else:  # one value for every row
                column = np.empty(rows, np.float32)
                column.fill(reward)
                written.append(column)

    def _write_info(self, out, rows, info):
        if info is None:
            return
        if not isinstance(info, dict):
            raise self._fail("info must be a dict keyed by info key, or "
                             "None; got %s", describe(info))
        for key, value in info.items():
            index = self.info_index.get(key)
            if index is None:
                raise self._fail("info key '%s' is not in spec.info_keys %s",
                                 key, list(self.info_index))
            out.info[:, index] = self._column(value, rows, np.float64,
                                              ("info '%s'", (key,)))


class _OneCopyEnvs(env_lib.BatchedEnv):
    """One-copy Envs seen as a BatchedEnv: a loop over the copies that
    stacks their answers, so the runner has one path for both forms. Errors
    name the copy."""

    def __init__(self, env_class, settings, num_copies):
        # Not BatchedEnv.__init__: each copy owns its rng.
        self.config = dict(settings)
        self.num_copies = num_copies
        self.name = env_class.name
        self.copies = []
        for c in range(num_copies):
            env = _guarded(self.name, None, "construction",
                           lambda: env_class(dict(settings)),
                           user_error=True)
            if c == 0:
                _check_spec(self.name, env.spec)
            self.copies.append(env)
        self.spec = self.copies[0].spec
        self.rngs = None
        self._sizes = [s.flat_size for s in self.spec.observation_spaces]
        self._scalar = [isinstance(s, spaces_lib.Discrete)
                        for s in self.spec.action_spaces]

    def _bug(self, c, what, error):
        if isinstance(error, StatusError):
            return error
        return _bug(self.name, c, what, error)

    def seed(self, copies, seeds):
        envs = self.copies
        for c, seed in zip(copies.tolist(), seeds.tolist()):
            envs[c].seed(seed)

    def reset_batch(self, copies, seeds=None):
        envs = self.copies
        copies = copies.tolist()
        seeds = [None] * len(copies) if seeds is None else seeds.tolist()
        results = []
        c = None
        try:
            for c, seed in zip(copies, seeds):
                results.append(envs[c].reset(seed))
        except Exception as error:  # pylint: disable=broad-except
            raise self._bug(c, "reset", error) from None
        return self._stack_observations(copies, results)

    def step_batch(self, copies, actions):
        envs = self.copies
        copies = copies.tolist()
        ids = self.spec.agent_ids
        # Python ints for Discrete, arrays otherwise; one list per agent.
        per_agent = [actions[agent_id].tolist() if scalar
                     else list(actions[agent_id])
                     for agent_id, scalar in zip(ids, self._scalar)]
        results = []
        c = None
        try:
            for c, row_actions in zip(copies, zip(*per_agent)):
                results.append(envs[c].step(dict(zip(ids, row_actions))))
        except Exception as error:  # pylint: disable=broad-except
            raise self._bug(c, "step", error) from None
        for c, result in zip(copies, results):
            if not (isinstance(result, tuple) and len(result) == 4):
                raise internal(
                    "environment '%s' copy %d: step() must return "
                    "(observations, rewards, terminated, info), got %s" %
                    (self.name, c, describe(result)))
        observations, rewards, terminated, info = zip(*results)
        return (self._stack_observations(copies, observations),
                self._stack_rewards(copies, rewards),
                self._stack_terminated(copies, terminated),
                self._stack_info(copies, info))

    # Stacking: a fast path for well-formed answers; on any problem, a
    # per-copy pass that names the copy at fault.

    def _stack_observations(self, copies, results):
        stacked = {}
        for agent, agent_id in enumerate(self.spec.agent_ids):
            size = self._sizes[agent]
            try:
                array = np.asarray([o.get(agent_id, _ZEROS) for o in results],
                                   dtype=np.float32)
                if array.size == len(results) * size:
                    stacked[agent_id] = array.reshape(len(results), size)
                    continue
            except (AttributeError, TypeError, ValueError):
                pass
            stacked[agent_id] = self._observations_slowly(copies, results,
                                                          agent)
        return stacked

    def _observations_slowly(self, copies, results, agent):
        spec = self.spec
        agent_id = spec.agent_ids[agent]
        size = self._sizes[agent]
        array = np.zeros((len(results), size), np.float32)
        for row, (c, observations) in enumerate(zip(copies, results)):
            if not isinstance(observations, dict):
                raise internal(
                    "environment '%s' copy %d: observations must be a dict "
                    "keyed by agent id, got %s" %
                    (self.name, c, describe(observations)))
            if agent_id not in observations:
                continue
            try:
                value = np.asarray(observations[agent_id],
                                   dtype=np.float32).reshape(-1)
            except (TypeError, ValueError) as error:
                raise internal("environment '%s' copy %d: observation of "
                               "'%s' is not numbers (%s)" %
                               (self.name, c, agent_id, error)) from None
            if value.size != size:
                raise internal(
                    "environment '%s' copy %d: observation of '%s' has %d "
                    "numbers, its space %r has %d" %
                    (self.name, c, agent_id, value.size,
                     spec.observation_spaces[agent], size))
            array[row] = value
        return array

    def _stack_rewards(self, copies, rewards):
        ids = self.spec.agent_ids
        stacked = {agent_id: [] for agent_id in ids}
        known = set(ids)
        try:
            for c, reward in zip(copies, rewards):
                if isinstance(reward, dict):
                    if not known.issuperset(reward):
                        raise internal(
                            "environment '%s' copy %d: rewards for unknown "
                            "agents %s" % (self.name, c,
                                           sorted(set(reward) - known)))
                    for agent_id in ids:
                        stacked[agent_id].append(
                            float(reward.get(agent_id, 0.0)))
                else:
                    shared = float(reward)  # one reward for everyone
                    for agent_id in ids:
                        stacked[agent_id].append(shared)
        except (TypeError, ValueError) as error:
            raise internal("environment '%s' copy %d: rewards must be a "
                           "number or a dict of numbers (%s)" %
                           (self.name, c, error)) from None
        return stacked

    def _stack_terminated(self, copies, terminated):
        try:
            return [bool(t) for t in terminated]
        except (TypeError, ValueError):
            for c, t in zip(copies, terminated):
                try:
                    bool(t)
                except (TypeError, ValueError) as error:
                    raise internal("environment '%s' copy %d: terminated "
                                   "must be a bool (%s)" %
                                   (self.name, c, error)) from None
            raise

    def _stack_info(self, copies, infos):
        keys = self.spec.info_keys
        if not keys and not any(infos):
            return None
        index = {k: i for i, k in enumerate(keys)}
        table = np.zeros((len(infos), len(keys)))
        for row, (c, info) in enumerate(zip(copies, infos)):
            if not info:
                continue
            try:
                for key, value in info.items():
                    table[row, index[key]] = float(value)
            except KeyError as error:
                raise internal("environment '%s' copy %d: info key '%s' is "
                               "not in spec.info_keys %s" %
                               (self.name, c, error.args[0], list(keys))
                               ) from None
            except (AttributeError, TypeError, ValueError) as error:
                raise internal("environment '%s' copy %d: info must be a "
                               "dict of numbers (%s)" %
                               (self.name, c, error)) from None
        return {key: table[:, i] for i, key in enumerate(keys)}

    def _each(self, copies, what, function, size, dtype=np.float32):
        """Stacks function(env) over copies as [n, size]."""
        envs = self.copies
        array = np.zeros((len(copies), size), dtype)
        c = None
        try:
            for row, c in enumerate(copies.tolist()):
                value = np.asarray(function(envs[c]), dtype=dtype).reshape(-1)
                if value.size != size:
                    raise internal("environment '%s' copy %d: %s() has %d "
                                   "entries, expected %d" %
                                   (self.name, c, what, value.size, size))
                array[row] = value
        except Exception as error:  # pylint: disable=broad-except
            raise self._bug(c, what, error) from None
        return array

    def public_observation_batch(self, copies):
        return self._each(copies, "public_observation",
                          lambda env: env.public_observation(),
                          self.spec.public_observation_space.flat_size)

    def state_batch(self, copies):
        return self._each(copies, "state", lambda env: env.state(),
                          self.spec.state_space.flat_size)

    def action_mask_batch(self, copies, agent_id):
        n = self.spec.action_spaces[self.spec.agent_ids.index(agent_id)].n
        return self._each(copies, "action_mask('%s')" % agent_id,
                          lambda env: env.action_mask(agent_id), n, bool)

    def current_agent_batch(self, copies):
        current = self._each(copies, "current_agent",
                             lambda env: env.current_agent(), 1, np.float64)
        return current.reshape(-1)


_ZEROS = 0.0  # a missing observation, before the slow pass sizes it


def _read_only(array):
    array.flags.writeable = False
    return array


_NO_ROWS = _read_only(np.zeros(0, np.int32))


def _as_array(values, dtype):
    """A numpy array of `values` (an array, a list, or a protobuf repeated
    field such as ResetRequest.seeds); np.fromiter reads a repeated field
    faster than np.asarray."""
    if isinstance(values, np.ndarray):
        return values.astype(dtype, copy=False)
    try:
        return np.fromiter(values, dtype, len(values))
    except (TypeError, ValueError, OverflowError):
        return np.asarray(values, dtype=dtype)


def _text(what):
    """A description given as text or as (format, args)."""
    return what if isinstance(what, str) else what[0] % what[1]


def _check_spec(name, spec):
    if not isinstance(spec, env_lib.EnvSpec):
        raise internal("environment '%s' did not set self.spec to an EnvSpec "
                       "in __init__" % name)
    try:
        spec.check()
        if spec.message_size:
            raise ValueError("message_size is %d; it belongs to the "
                             "server's message channel (setting "
                             "message_size), an environment leaves it 0" %
                             spec.message_size)
    except ValueError as error:
        raise internal("environment '%s' has a malformed spec: %s" %
                       (name, error)) from None


def _guarded(name, copy, what, function, *args, user_error=False):
    """Calls function(*args), environment code; its exceptions become
    statuses.

    With user_error (construction from settings), ValueError and TypeError
    mean bad settings: INVALID_ARGUMENT. Running out of memory is
    RESOURCE_EXHAUSTED. Anything else is the environment's bug: INTERNAL,
    and the server carries on.
    """
    try:
        return function(*args)
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
    if isinstance(error, MemoryError):
        return StatusError(Code.RESOURCE_EXHAUSTED,
                           "%s ran out of memory in %s" % (where, what))
    return internal("%s raised in %s: %s: %s" %
                    (where, what, type(error).__name__, error))
