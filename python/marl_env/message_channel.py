"""The protocol's message channel (docs/PROTOCOL.md, "Message channel") for
the Python server, bit for bit as the C++ envs/core/message_channel.cc.

Any environment with two or more agents, Discrete or MultiDiscrete actions
and no action masks, made with the reserved setting message_size = K > 0,
gets one more action component per agent, a message in [0, K), and every
agent's observation becomes a flat Box: its own observation (a Box
flattened, bounds kept; Discrete and MultiDiscrete as one-hots per
component), then one K-float one-hot per partner, in agent order, of the
message that partner sent in this step (all zeros at an episode's first
observation: a reset, or the new episode of an auto-reset). The batch runner
(marl_env.batch.EnvBatch) puts MessageChannel around the copies of its
environment; the environment never sees the messages.
"""

import numpy as np

from marl_env import env as env_lib
from marl_env import spaces as spaces_lib
from marl_env.status import (Code, StatusError, describe, internal,
                             invalid_argument)

#: The most observation floats the channel may add to one copy: the
#: messages and the one-hots of Discrete and MultiDiscrete observations,
#: over all agents (C++ marl::kMaxMessageChannelFloats).
MAX_MESSAGE_CHANNEL_FLOATS = 1 << 20


def _debug_string(space):
    """A space as the C++ Space::DebugString writes it (for messages the
    same as the C++ server's)."""
    if isinstance(space, spaces_lib.Discrete):
        return "Discrete(%d)" % space.n
    if isinstance(space, spaces_lib.MultiDiscrete):
        return "MultiDiscrete([%s])" % ",".join(
            str(n) for n in space.nvec.tolist())
    return "Box(shape=[%s])" % ",".join(str(d) for d in space.shape)


def _flat_observation_floats(space):
    """Floats an observation of `space` takes once flat (one-hots for the
    integer kinds)."""
    if isinstance(space, spaces_lib.Discrete):
        return space.n
    if isinstance(space, spaces_lib.MultiDiscrete):
        return int(space.nvec.sum())
    return space.flat_size


def channel_spec(spec, message_size):
    """The spec of an environment with `spec` behind a channel of
    `message_size` messages (C++ MessageChannelSpec).

    Raises StatusError: INVALID_ARGUMENT saying why for a spec that cannot
    host it (one agent, Box actions, action masks) or a message_size outside
    [1, MAX_MESSAGE_SIZE]; RESOURCE_EXHAUSTED past
    MAX_MESSAGE_CHANNEL_FLOATS.
    """
    setting = env_lib.MESSAGE_SIZE_SETTING
    if not 1 <= message_size <= env_lib.MAX_MESSAGE_SIZE:
        raise invalid_argument("%s must be in [0, %d], got %d" %
                               (setting, env_lib.MAX_MESSAGE_SIZE,
                                message_size))
    n = spec.num_agents
    if n < 2:
        raise invalid_argument(
            "the message channel (%s) needs at least two agents; this "
            "environment has %d" % (setting, n))
    if spec.has_action_masks:
        raise invalid_argument(
            "the message channel (%s) cannot carry action masks, and this "
            "environment sends them" % setting)
    # Messages: n agents see n - 1 one-hots of message_size floats each.
    # (Checked in the C++ order: an agent's actions before its
    # observation's one-hots, and nothing once over the limit.)
    added = n * (n - 1) * message_size
    actions = list(spec.action_spaces)
    observations = list(spec.observation_spaces)
    for a in range(n):
        if added > MAX_MESSAGE_CHANNEL_FLOATS:
            break
        action = spec.action_spaces[a]
        if isinstance(action, spaces_lib.Box):
            raise invalid_argument(
                "the message channel (%s) needs Discrete or MultiDiscrete "
                "actions; agent '%s' acts in %s" %
                (setting, spec.agent_ids[a], _debug_string(action)))
        nvec = ([action.n] if isinstance(action, spaces_lib.Discrete)
                else action.nvec.tolist())
        actions[a] = spaces_lib.MultiDiscrete(nvec + [message_size])
        observation = spec.observation_spaces[a]
        own = _flat_observation_floats(observation)
        is_box = isinstance(observation, spaces_lib.Box)
        if not is_box:
            added += own
        if added > MAX_MESSAGE_CHANNEL_FLOATS:
            break
        total = own + (n - 1) * message_size
        low = np.zeros(total, np.float32)
        high = np.ones(total, np.float32)
        if is_box:
            low[:own] = observation.low.reshape(-1)
            high[:own] = observation.high.reshape(-1)
        observations[a] = spaces_lib.Box(low, high, (total,))
    if added > MAX_MESSAGE_CHANNEL_FLOATS:
        raise StatusError(
            Code.RESOURCE_EXHAUSTED,
            "the message channel (%s=%d) would add more than %d observation "
            "floats per copy for %d agents" %
            (setting, message_size, MAX_MESSAGE_CHANNEL_FLOATS, n))
    return env_lib.EnvSpec(
        agent_ids=spec.agent_ids,
        observation_spaces=observations,
        action_spaces=actions,
        episode_limit=spec.episode_limit,
        info_keys=spec.info_keys,
        public_observation_space=spec.public_observation_space,
        state_space=spec.state_space,
        has_action_masks=spec.has_action_masks,
        sequential=spec.sequential,
        message_size=message_size)


def message_offset(spec, agent, partner):
    """Where, in `agent`'s observation under a channel (spec.message_size
    > 0), the one-hot of `partner`'s last message starts (C++
    MessageOffset): size - (n - 1) K + slot K, slot being the partner's
    index among the agents other than `agent`."""
    n = spec.num_agents
    k = spec.message_size
    first = spec.observation_spaces[agent].flat_size - (n - 1) * k
    slot = partner if partner < agent else partner - 1
    return first + slot * k


def add_message_channel(inner, message_size, name):
    """`inner` (a BatchedEnv, or the one-copy adapter) behind the channel;
    errors as channel_spec, naming the environment (C++ BuildCopy)."""
    try:
        return MessageChannel(inner, message_size, name)
    except StatusError as error:
        raise StatusError(error.code, "environment '%s': %s" %
                          (name, error.message)) from None


class MessageChannel:
    """Every copy of an environment behind the channel, in the BatchedEnv
    interface the batch runner uses (seed, reset_batch, step_batch and the
    optional parts, which pass through). It keeps no state of its own:
    the observations of a step carry that step's messages, those of a
    reset none."""

    def __init__(self, inner, message_size, name):
        self.inner = inner
        self.name = name
        self.spec = spec = channel_spec(inner.spec, message_size)
        self.num_copies = inner.num_copies
        self.config = getattr(inner, "config", {})
        self.rngs = getattr(inner, "rngs", None)
        inner_spec = inner.spec
        n = inner_spec.num_agents
        self._agent_ids = tuple(inner_spec.agent_ids)
        # Per agent: Discrete actions reach the environment as [rows].
        self._scalar_action = tuple(
            isinstance(s, spaces_lib.Discrete)
            for s in inner_spec.action_spaces)
        self._inner_sizes = tuple(s.flat_size
                                  for s in inner_spec.observation_spaces)
        self._sizes = tuple(s.flat_size for s in spec.observation_spaces)
        # How each agent's own observation is written (_write_own): a Box
        # as it is (its size); each integer component k of the packed
        # observation as a one-hot of n floats from `start`.
        self._own = []
        for space in inner_spec.observation_spaces:
            if isinstance(space, spaces_lib.Box):
                self._own.append((space.flat_size, ()))
                continue
            nvec = ([space.n] if isinstance(space, spaces_lib.Discrete)
                    else space.nvec.tolist())
            starts = np.concatenate([[0], np.cumsum(nvec)[:-1]]).tolist()
            self._own.append((None, tuple(
                (k, start, np.float32(n))
                for k, (start, n) in enumerate(zip(starts, nvec)))))
        # Per agent: its partners (agent order) and where each one's
        # one-hot starts ([partners, 1], added to [partners, rows]).
        self._heard = []
        for a in range(n):
            partners = [p for p in range(n) if p != a]
            self._heard.append((
                np.array(partners, np.intp),
                np.array([[message_offset(spec, a, p)] for p in partners],
                         np.intp)))
        # arange(rows) * size per (rows, size) seen last: where each row
        # starts in an observation's flat array.
        self._row_starts = {}

    # --------------------------------------------------- pass-through --

    def seed(self, copies, seeds):
        self.inner.seed(copies, seeds)

    def public_observation_batch(self, copies):
        return self.inner.public_observation_batch(copies)

    def state_batch(self, copies):
        return self.inner.state_batch(copies)

    def action_mask_batch(self, copies, agent_id):
        return self.inner.action_mask_batch(copies, agent_id)

    def current_agent_batch(self, copies):
        return self.inner.current_agent_batch(copies)

    # ------------------------------------------------------- the channel --

    def reset_batch(self, copies, seeds=None):
        observations = self.inner.reset_batch(copies, seeds)
        return self._observe(observations, len(copies), None, "reset_batch")

    def step_batch(self, copies, actions):
        rows = len(copies)
        messages = np.empty((len(self._agent_ids), rows), np.int64)
        inner_actions = {}
        for agent, (agent_id, scalar) in enumerate(zip(
                self._agent_ids, self._scalar_action)):
            values = actions[agent_id]  # int64 [rows, components + 1]
            messages[agent] = values[:, -1]  # the last component
            inner_actions[agent_id] = (values[:, 0].copy() if scalar
                                       else values[:, :-1].copy())
        result = self.inner.step_batch(copies, inner_actions)
        try:
            observations, rewards, terminated, info = result
        except (TypeError, ValueError):
            raise internal(
                "environment '%s': step_batch() must return (observations, "
                "rewards, terminated, info), got %s" %
                (self.name, describe(result))) from None
        return (self._observe(observations, rows, messages, "step_batch"),
                rewards, terminated, info)

    def _observe(self, observations, rows, messages, method):
        """The channel's observations ({agent: float32 [rows, size]}) from
        the environment's and the messages ([agents, rows], or None: no
        message yet)."""
        if not isinstance(observations, dict):
            raise internal(
                "environment '%s': %s() must return observations as a dict "
                "keyed by agent id, got %s" %
                (self.name, method, describe(observations)))
        out = {}
        for agent, agent_id in enumerate(self._agent_ids):
            own = self._inner_block(observations.get(agent_id), rows, agent,
                                    method)
            size = self._sizes[agent]
            observation = np.zeros((rows, size), np.float32)
            flat = observation.reshape(-1)  # a view: the ones go in here
            row_starts = self._row_starts.get((rows, size))
            if row_starts is None:
                if len(self._row_starts) > 16:
                    self._row_starts.clear()
                row_starts = self._row_starts[rows, size] = np.arange(
                    0, rows * size, size, dtype=np.intp)
            self._write_own(agent, own, observation, flat, row_starts)
            if messages is not None:
                # Every message is in [0, K): the batch checked the actions.
                partners, starts = self._heard[agent]
                if len(partners) == 1:
                    flat[row_starts + (messages[partners[0]] + starts[0])] = 1
                else:
                    flat[row_starts + (messages[partners] + starts)] = 1
            out[agent_id] = observation
        return out

    def _inner_block(self, value, rows, agent, method):
        """The environment's observation of `agent` as float32 [rows,
        size]; zeros when it left the agent out (as the C++ row, cleared
        before each call)."""
        size = self._inner_sizes[agent]
        if value is None:
            return np.zeros((rows, size), np.float32)
        try:
            block = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise internal(
                "environment '%s': %s() observation of '%s' is not an array "
                "of numbers (%s)" % (self.name, method,
                                     self._agent_ids[agent], error)) from None
        if block.ndim == 0 or block.shape[0] != rows or \
                block.size != rows * size:
            raise internal(
                "environment '%s': %s() observation of '%s' (space %r) has "
                "shape %s; expected %d rows (one per copy) of %d numbers" %
                (self.name, method, self._agent_ids[agent],
                 self.inner.spec.observation_spaces[agent], block.shape,
                 rows, size))
        return block.reshape(rows, size)

    def _write_own(self, agent, own, observation, flat, row_starts):
        """`own` (the environment's packed observations) flat into the
        front of `observation` (all zeros; `flat` its flat view): Box
        values as they are; Discrete and MultiDiscrete indices as one-hots,
        all zeros for an index out of range (an environment's bug), NaN
        included, as the C++ channel writes them."""
        box_size, components = self._own[agent]
        if box_size is not None:
            observation[:, :box_size] = own
            return
        for k, start, n in components:
            index = own[:, k]
            # Compared as float32, as the C++ does (NaN is never in range).
            valid = (index >= 0) & (index < n)
            if valid.all():
                flat[row_starts + (index.astype(np.intp) + start)] = 1.0
            else:
                good = np.flatnonzero(valid)
                flat[row_starts[good] +
                     (index[good].astype(np.intp) + start)] = 1.0
