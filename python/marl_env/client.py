"""A Python client for any environment server (C++ or Python), with the
conventions of PettingZoo's parallel API and Gymnasium.

    import marl_env
    with marl_env.make("matrix_game", endpoint="tcp://127.0.0.1:5555",
                       game="climbing") as env:
        observations, infos = env.reset(seed=1)
        while env.agents:
            actions = {a: env.action_space(a).sample() for a in env.agents}
            observations, rewards, terminations, truncations, infos = (
                env.step(actions))

    envs = marl_env.make_batch("max_of_two_quadratics", num_envs=64,
                               endpoint="tcp://127.0.0.1:5555")
    observations, infos = envs.reset(seed=1)   # {agent: [64, ...]}

A request the server refuses raises ServerError (with .code and .message);
no answer within `timeout` seconds raises RequestTimeout, never a hang.
Every array returned (observations, rewards, flags, infos) is the caller's
own: writable, not a view of the reply. A reply whose arrays do not match
the handle's spec in size raises ServerError (INTERNAL) naming the field.
"""

import json
import os

import numpy as np
import zmq
import zmq.auth

import env_protocol_pb2 as pb

from marl_env import _codec
from marl_env import convert
from marl_env import spaces as spaces_lib
from marl_env.batch import seed_for_copy, seeds_for_copies
from marl_env.status import Code

PROTOCOL_VERSION = 3
#: Where make() connects when no endpoint is given: $MARL_ENV_ENDPOINT, else
#: the C++ env_server's default.
DEFAULT_ENDPOINT = os.environ.get("MARL_ENV_ENDPOINT", "tcp://127.0.0.1:5555")


class ServerError(RuntimeError):
    """The server refused a request: `code` (a status.Code), `message`."""

    def __init__(self, code, message, operation=""):
        try:
            code = Code(code)
            name = code.name
        except ValueError:
            name = str(code)
        super().__init__("%s%s: %s" % (operation + " failed with "
                                       if operation else "", name, message))
        self.code = code
        self.message = message
        self.operation = operation


class RequestTimeout(TimeoutError):
    """No answer from the server within the timeout."""


class Client:
    """One DEALER connection to a server; one request in flight at a time.

    timeout: seconds a call waits for its answer. After a timeout the socket
    is replaced, so a late answer can never be mistaken for the next one.

    CURVE (for a server started with --curve_secret_key_file):
    curve_server_key_file is the server's public key (its NAME.key file);
    curve_client_key_file this client's key pair (a NAME.key_secret file,
    whose public key the server may list in --curve_authorized_keys); when
    absent the client uses a fresh key pair of its own. A server that does
    not accept the key never answers: calls raise RequestTimeout.
    """

    def __init__(self, endpoint=None, timeout=30.0,
                 client_name="marl-env-python", handshake=True,
                 curve_server_key_file=None, curve_client_key_file=None):
        self.endpoint = endpoint or DEFAULT_ENDPOINT
        self.timeout = float(timeout)
        self.client_name = client_name
        self._context = zmq.Context.instance()
        self._socket = None
        self._next_id = 1
        self._environments = None
        self._curve = _curve_keys(curve_server_key_file,
                                  curve_client_key_file)
        self._connect()
        try:
            self.server_info = self.handshake() if handshake else None
        except BaseException:
            self.close()
            raise

    def _connect(self):
        if self._socket is not None:
            self._socket.close(linger=0)
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        # The libzmq socket, for _codec.exchange.
        self._socket_address = self._socket.underlying
        if self._curve is not None:
            server_key, public_key, secret_key = self._curve
            self._socket.curve_serverkey = server_key
            self._socket.curve_publickey = public_key
            self._socket.curve_secretkey = secret_key
        self._socket.connect(self.endpoint)

    def close(self):
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------ calls --

    def exchange(self, data, request_id, operation, decode, timeout=None):
        """Sends a serialized request carrying request_id; returns
        decode(reply, request_id) for the first reply it does not answer
        None (an answer to an earlier request: the wait goes on, for what
        is left of the timeout); with decode None, the first reply's bytes.
        The step path's decode is a StepCodec (see _Handle). The exchange
        itself is the codec's, on this client's pyzmq socket."""
        if self._socket is None:
            raise RuntimeError("client is closed")
        timeout = self.timeout if timeout is None else timeout
        try:
            return _codec.exchange(self._socket_address, data, request_id,
                                   decode, max(int(timeout * 1000), 0))
        except _codec.ReplyTimeout:
            self._connect()  # drop whatever answer may still come
            raise RequestTimeout(
                "no answer from %s to %s within %g s (is the server "
                "running there?)" % (self.endpoint, operation,
                                     timeout)) from None

    def next_request_id(self):
        request_id = self._next_id
        self._next_id += 1
        return request_id

    def call(self, request, timeout=None):
        """Sends a Request (its request_id is set here); returns the
        Response when its status is OK, else raises ServerError."""
        request.request_id = self.next_request_id()
        operation = request.WhichOneof("payload") or "request"

        def parse(reply, request_id):
            response = pb.Response()
            try:
                response.ParseFromString(reply)
            except Exception:  # pylint: disable=broad-except
                raise ServerError(Code.INTERNAL, "reply of %d bytes is not "
                                  "a marl.env.v3.Response" % len(reply),
                                  operation) from None
            return response if response.request_id == request_id else None

        response = self.exchange(request.SerializeToString(),
                                 request.request_id, operation, parse,
                                 timeout)
        if response.status.code != pb.OK:
            raise ServerError(response.status.code, response.status.message,
                              operation)
        return response

    def call_raw(self, data, timeout=None):
        """Sends raw bytes as one request frame; returns the raw reply (for
        testing how a server treats garbage)."""
        return self.exchange(bytes(data), None, "raw request", None, timeout)

    def handshake(self, protocol_version=PROTOCOL_VERSION):
        request = pb.Request()
        request.handshake.protocol_version = protocol_version
        request.handshake.client_name = self.client_name
        return self.call(request).handshake

    def list_environments(self):
        """{name: EnvironmentInfo} of everything the server serves."""
        request = pb.Request()
        request.list_environments.SetInParent()
        response = self.call(request).list_environments
        self._environments = {e.name: e for e in response.environments}
        return dict(self._environments)

    def make(self, name, settings=None, num_copies=1, seed=0,
             auto_reset=True):
        """Makes a handle; returns the MakeResponse (handle, spec).

        Settings are coerced to the types the server declares: an int for a
        double setting, and text ("[[1,0],[0,1]]", "3", "true") for any.
        """
        request = pb.Request()
        make = request.make
        make.name = name
        make.num_copies = num_copies
        make.seed = int(seed) & ((1 << 64) - 1)
        make.auto_reset = pb.SAME_STEP if auto_reset else pb.NONE
        declared = self._declared_settings(name) if settings else {}
        for key, value in (settings or {}).items():
            setting = make.settings.add()
            setting.name = key
            convert.value_to_proto(_coerce(key, value, declared.get(key)),
                                   setting.value)
        return self.call(request).make

    def _declared_settings(self, name):
        if self._environments is None or name not in self._environments:
            self.list_environments()
        info = self._environments.get(name)
        if info is None:
            return {}  # the server's make will say NOT_FOUND
        return {s.name: s.default_value for s in info.settings}

    def reset(self, handle, copies=(), seeds=()):
        """The ResetResponse's TimeStep message (convert.timestep_arrays
        reads its arrays)."""
        return self.call(_reset_request(handle, copies, seeds)).reset.timestep

    def step(self, handle, actions, copies=()):
        """actions: per agent in spec order, (discrete, continuous) lists
        or numpy arrays (one of them empty). Returns the TimeStep message;
        convert.timestep_arrays reads its arrays."""
        request = pb.Request()
        request.step.handle = handle
        request.step.copies.extend(copies)
        convert.actions_to_proto(actions, request.step)
        return self.call(request).step.timestep

    def close_handle(self, handle, timeout=None):
        request = pb.Request()
        request.close.handle = handle
        self.call(request, timeout)


def _reset_request(handle, copies, seeds):
    """A reset Request (its request_id unset); seeds as uint64."""
    request = pb.Request()
    request.reset.handle = handle
    request.reset.copies.extend(copies)
    request.reset.seeds.extend(int(s) & ((1 << 64) - 1) for s in seeds)
    return request


def _curve_keys(server_key_file, client_key_file):
    """(server public, client public, client secret) for a CURVE socket, or
    None without a server key. The key pair is made once per Client, so
    the client stays the same client (for the server's quotas) when its
    socket is replaced."""
    if server_key_file is None:
        if client_key_file is not None:
            raise ValueError("curve_client_key_file needs "
                             "curve_server_key_file (the server's .key)")
        return None
    if not zmq.has("curve"):
        raise RuntimeError("this libzmq has no CURVE support")
    server_key, _ = zmq.auth.load_certificate(server_key_file)
    if client_key_file is None:
        public_key, secret_key = zmq.curve_keypair()
    else:
        public_key, secret_key = zmq.auth.load_certificate(client_key_file)
        if not secret_key:
            raise ValueError("%s holds no secret key (give the client's "
                             ".key_secret file)" % client_key_file)
    return server_key, public_key, secret_key


def _coerce(name, value, declared):
    """A user's setting value in the declared type, where it is clear."""
    if declared is None:
        return value
    kind = declared.WhichOneof("kind")
    if isinstance(value, str) and kind != "string_value":
        text = value.strip()
        try:
            if kind == "int_value":
                return int(text)
            if kind == "double_value":
                return float(text)
            if kind == "bool_value":
                lowered = text.lower()
                if lowered in ("true", "1", "yes"):
                    return True
                if lowered in ("false", "0", "no"):
                    return False
                raise ValueError(text)
            if kind == "array_value":
                return np.asarray(json.loads(text), dtype=np.float64)
        except ValueError:
            raise ValueError("setting '%s': cannot parse %r as %s" %
                             (name, value, kind[:-6])) from None
    if kind == "double_value" and isinstance(value, (int, np.integer)) and \
            not isinstance(value, bool):
        return float(value)
    return value


# ------------------------------------------------------------------- spec --


class Spec:
    """A handle's spec in Python types (from the protocol's EnvSpec).

    message_size: K > 0 when the handle was made with the setting
    message_size = K (docs/PROTOCOL.md, "Message channel"): each agent's
    action then ends with its message in [0, K), and each observation (a
    flat Box) ends with one K-float one-hot per partner, in agent order
    (message_offset says where). ValueError for a spec whose spaces do not
    have that shape.
    """

    def __init__(self, message):
        self.message = message
        self.name = message.name
        self.num_copies = message.num_copies
        self.agent_ids = [a.id for a in message.agents]
        self.observation_spaces = {
            a.id: convert.space_from_proto(a.observation_space)
            for a in message.agents}
        self.action_spaces = {a.id: convert.space_from_proto(a.action_space)
                              for a in message.agents}
        self.settings = {s.name: convert.value_from_proto(s.value)
                         for s in message.settings}
        self.episode_limit = message.episode_limit
        self.info_keys = list(message.info_keys)
        self.has_action_masks = message.has_action_masks
        self.sequential = message.turn_order == pb.SEQUENTIAL
        self.auto_reset = message.auto_reset == pb.SAME_STEP
        self.public_observation_space = (
            convert.space_from_proto(message.public_observation_space)
            if message.has_public_observation else None)
        self.state_space = (convert.space_from_proto(message.state_space)
                            if message.has_state else None)
        self.message_size = message.message_size
        convert.check_message_channel(
            self.agent_ids,
            [self.observation_spaces[a] for a in self.agent_ids],
            [self.action_spaces[a] for a in self.agent_ids],
            self.message_size)

    def message_offset(self, agent, partner):
        """Where, in `agent`'s observation, the one-hot of `partner`'s last
        message starts (agent ids); a spec with message_size > 0."""
        if not self.message_size:
            raise ValueError("%s has no message channel (message_size 0)" %
                             self.name)
        ids = self.agent_ids
        others = [a for a in ids if a != agent]
        if agent not in ids or partner not in others:
            raise ValueError("no partner '%s' of agent '%s' among %s" %
                             (partner, agent, ids))
        size = self.observation_spaces[agent].flat_size
        return (size - len(others) * self.message_size +
                others.index(partner) * self.message_size)


def _layout(space):
    """A space as the codec's (shape, integer) pair, or None."""
    return None if space is None else (tuple(space.shape), space.is_integer)


class _Handle:
    """A handle and its spec on one client; steps and resets all its copies
    through the C++ codec (marl_env._codec), which checks every reply
    against the spec: a reply that does not match raises ServerError
    (INTERNAL), never a wrong shape.

    step() and reset() give the TimeStep as a dict of numpy arrays that are
    the caller's own (writable): "observations", "rewards", "masks" (agents
    with action masks), "final_observations" (dicts keyed by agent;
    observations of integer spaces as int64), "ended" (per row: its episode
    ended in this step and was auto-reset), "terminated", "truncated",
    "episode_step", "info" [rows, len(info_keys)], "current_agent"
    (sequential specs, else None), and "public_observation", "state" and
    their "final_" arrays (None when the spec has none). A final array holds
    every row: an ended row's last observation of the ended episode, any
    other row's observation.
    """

    def __init__(self, client, owns_client, name, settings, num_copies, seed,
                 auto_reset):
        self.client = client
        self.owns_client = owns_client
        made = client.make(name, settings, num_copies, seed, auto_reset)
        self.handle = made.handle
        self.rows = num_copies
        try:
            self.spec = spec = Spec(made.spec)
        except ValueError as error:
            try:
                client.close_handle(made.handle,
                                    timeout=min(client.timeout, 2.0))
            except (ServerError, RequestTimeout, RuntimeError):
                pass
            raise ServerError(Code.INTERNAL, "malformed spec from %s: %s" %
                              (client.endpoint, error), "make") from None
        self._agent_set = frozenset(spec.agent_ids)
        agents = []
        for agent in spec.agent_ids:
            observation = spec.observation_spaces[agent]
            action = spec.action_spaces[agent]
            mask = action.n if spec.has_action_masks and isinstance(
                action, spaces_lib.Discrete) else 0
            agents.append((agent, tuple(observation.shape),
                           observation.is_integer, mask, action.is_integer))
        # Every step of this handle goes through it: it keeps the request
        # and the reply it reuses.
        self._codec = _codec.StepCodec(
            agents, _layout(spec.public_observation_space),
            _layout(spec.state_space), spec.sequential, len(spec.info_keys),
            self.handle, num_copies, auto_reset)
        self.closed = False

    def pack(self, actions, rows, current_agent=None):
        """{agent: actions for `rows` copies} as a list in spec order."""
        spec = self.spec
        if len(actions) == len(spec.agent_ids):  # the usual case: all
            try:
                return [actions[agent] for agent in spec.agent_ids]
            except KeyError:
                pass
        unknown = actions.keys() - self._agent_set
        if unknown:
            raise ValueError("actions for unknown agents %s; agents are %s" %
                             (sorted(unknown), spec.agent_ids))
        packed = []
        for index, agent in enumerate(spec.agent_ids):
            if agent in actions:
                packed.append(actions[agent])
            elif spec.sequential and current_agent is not None and \
                    np.all(current_agent != index):
                # Not this agent's turn anywhere: any in-range value does.
                space = spec.action_spaces[agent]
                packed.append(np.repeat(_placeholder(space)[None], rows,
                                        axis=0))
            else:
                raise ValueError("no action for agent '%s'" % agent)
        return packed

    def step(self, packed):
        """Steps every copy with actions from pack(); the TimeStep."""
        client = self.client
        request_id = client.next_request_id()
        return self._exchange(
            self._codec.encode_step(request_id, packed), request_id, "step")

    def reset(self, seeds=()):
        """Resets every copy (seeds: none, or one per copy); the
        TimeStep."""
        request = _reset_request(self.handle, (), seeds)
        request.request_id = request_id = self.client.next_request_id()
        return self._exchange(request.SerializeToString(), request_id,
                              "reset")

    def _exchange(self, data, request_id, operation):
        try:
            result = self.client.exchange(data, request_id, operation,
                                          self._codec)
        except _codec.MalformedReply as error:
            raise ServerError(Code.INTERNAL, "malformed reply from %s: %s" %
                              (self.client.endpoint, error),
                              operation) from None
        if isinstance(result, tuple):  # (code, message): an error status
            raise ServerError(result[0], result[1], operation)
        return result

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            # Best effort, briefly: a vanished server expires it anyway.
            self.client.close_handle(self.handle,
                                     timeout=min(self.client.timeout, 2.0))
        except (ServerError, RequestTimeout, RuntimeError):
            pass
        if self.owns_client:
            self.client.close()


def _placeholder(space):
    if space.is_integer:
        return np.zeros(space.flat_size, np.int64).reshape(space.shape)
    low = np.where(np.isfinite(space.low), space.low, -1.0)
    high = np.where(np.isfinite(space.high), space.high, 1.0)
    return np.clip(0.5 * (low + high), space.low, space.high)


def _open(endpoint, timeout, client, curve_server_key_file=None,
          curve_client_key_file=None):
    if client is not None:
        return client, False
    return Client(endpoint, timeout,
                  curve_server_key_file=curve_server_key_file,
                  curve_client_key_file=curve_client_key_file), True


# ------------------------------------------------------------ ParallelEnv --


class ParallelEnv:
    """One copy with PettingZoo's parallel API (dicts keyed by agent id).

    Episodes end for all agents together; `agents` is then empty until the
    next reset(). Stepping a finished episode raises ServerError
    (FAILED_PRECONDITION), as the copy waits for a reset.
    """

    def __init__(self, name, endpoint=None, seed=0, timeout=30.0,
                 settings=None, client=None, curve_server_key_file=None,
                 curve_client_key_file=None):
        client, owns = _open(endpoint, timeout, client, curve_server_key_file,
                             curve_client_key_file)
        try:
            self._handle = _Handle(client, owns, name, settings, 1, seed,
                                   auto_reset=False)
        except BaseException:
            if owns:
                client.close()
            raise
        self.spec = self._handle.spec
        self.possible_agents = list(self.spec.agent_ids)
        self.agents = []
        self.metadata = {"name": name, "render_modes": []}
        self._last = None

    @property
    def num_agents(self):
        return len(self.agents)

    @property
    def max_num_agents(self):
        return len(self.possible_agents)

    @property
    def unwrapped(self):
        return self

    def observation_space(self, agent):
        return self.spec.observation_spaces[agent]

    def action_space(self, agent):
        return self.spec.action_spaces[agent]

    def reset(self, seed=None, options=None):
        """Starts an episode. `seed` restarts the copy's random stream at
        SplitMix64(seed, 0): the stream of a fresh env made with that seed,
        as BatchEnv.reset does for each copy."""
        seeds = () if seed is None else (seed_for_copy(int(seed), 0),)
        step = self._handle.reset(seeds)
        self.agents = list(self.possible_agents)
        self._last = step
        return self._observations(step), self._infos(step)

    def step(self, actions):
        current = (self._last["current_agent"]
                   if self._last is not None else None)
        packed = self._handle.pack(
            {a: np.asarray(v)[None] for a, v in actions.items()}, 1, current)
        step = self._handle.step(packed)
        self._last = step
        terminated = bool(step["terminated"][0])
        truncated = bool(step["truncated"][0])
        agents = self.possible_agents
        result = (self._observations(step),
                  {a: float(step["rewards"][a][0]) for a in agents},
                  {a: terminated for a in agents},
                  {a: truncated for a in agents},
                  self._infos(step))
        if terminated or truncated:
            self.agents = []
        return result

    def state(self):
        """The global state (specs with one), as of the last reset/step."""
        if self.spec.state_space is None:
            raise NotImplementedError("%s has no global state" %
                                      self.spec.name)
        return self._last["state"][0]

    def _observations(self, step):
        return {a: step["observations"][a][0] for a in self.possible_agents}

    def _infos(self, step):
        shared = {k: float(step["info"][0, i])
                  for i, k in enumerate(self.spec.info_keys)}
        shared["episode_step"] = int(step["episode_step"][0])
        if step["current_agent"] is not None:
            shared["current_agent"] = self.possible_agents[
                int(step["current_agent"][0])]
        if step["public_observation"] is not None:
            shared["public_observation"] = step["public_observation"][0]
        infos = {}
        for agent in self.possible_agents:
            info = dict(shared)
            if agent in step["masks"]:
                info["action_mask"] = step["masks"][agent][0]
            infos[agent] = info
        return infos

    def close(self):
        self._handle.close()
        self.agents = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------- BatchEnv --


class BatchEnv:
    """num_envs copies stepped together, Gymnasium-vector style: per-agent
    numpy arrays with a leading num_envs axis, auto-reset in the same step.

    step() returns (observations, rewards, terminations, truncations,
    infos), each a dict keyed by agent id (terminations / truncations are
    the same for every agent of a copy). For a copy whose episode ended in
    this step, observations already belong to its next episode, and
    infos["final_observation"][agent][i] holds the ended episode's last
    observation (infos["_final_observation"][i] is True). For the other
    copies infos["final_observation"] equals the returned observation, so
    it is always the observation to bootstrap from. infos also carries
    "episode_step" (an ended copy: the ended episode's length), one array
    per info key, and "action_mask" / "current_agent" / "public_observation"
    / "state" where the spec has them.
    """

    def __init__(self, name, num_envs, endpoint=None, seed=0, timeout=30.0,
                 settings=None, client=None, curve_server_key_file=None,
                 curve_client_key_file=None):
        client, owns = _open(endpoint, timeout, client, curve_server_key_file,
                             curve_client_key_file)
        try:
            self._handle = _Handle(client, owns, name, settings, num_envs,
                                   seed, auto_reset=True)
        except BaseException:
            if owns:
                client.close()
            raise
        self.spec = self._handle.spec
        self.num_envs = int(num_envs)
        self.possible_agents = list(self.spec.agent_ids)
        self.agents = list(self.possible_agents)
        self.metadata = {"name": name, "autoreset_mode": "same_step"}
        self._current = None

    def observation_space(self, agent):
        """One copy's space (arrays carry a leading num_envs axis)."""
        return self.spec.observation_spaces[agent]

    def action_space(self, agent):
        return self.spec.action_spaces[agent]

    def sample_actions(self):
        """Uniformly random actions for every copy (ignores masks)."""
        return {a: np.stack([self.action_space(a).sample()
                             for _ in range(self.num_envs)])
                for a in self.possible_agents}

    def reset(self, seed=None, options=None):
        """Resets every copy. seed: an int restarts copy c's stream at
        SplitMix64(seed, c), the streams of a fresh handle made with that
        seed; a list gives one seed per copy; None continues the streams."""
        if seed is None:
            seeds = ()
        elif np.ndim(seed) == 0:
            seeds = seeds_for_copies(seed, range(self.num_envs))
        else:
            seeds = [int(s) for s in seed]
        step = self._handle.reset(seeds)
        self._current = step["current_agent"]
        infos = self._infos(step)
        return step["observations"], infos

    def step(self, actions):
        packed = self._handle.pack(actions, self.num_envs, self._current)
        step = self._handle.step(packed)
        self._current = step["current_agent"]
        agents = self.possible_agents
        terminations = {a: step["terminated"] for a in agents}
        truncations = {a: step["truncated"] for a in agents}
        return (step["observations"], step["rewards"], terminations,
                truncations, self._infos(step))

    def _infos(self, step):
        infos = {"episode_step": step["episode_step"]}
        info = step["info"]
        for i, key in enumerate(self.spec.info_keys):
            infos[key] = info[:, i]
        infos["_final_observation"] = step["ended"]
        infos["final_observation"] = step["final_observations"]
        if step["masks"]:
            infos["action_mask"] = step["masks"]
        if step["current_agent"] is not None:
            infos["current_agent"] = step["current_agent"]
        for field in ("public_observation", "state"):
            if step[field] is not None:
                infos[field] = step[field]
                infos["final_" + field] = step["final_" + field]
        return infos

    def close(self):
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def make(name, endpoint=None, seed=0, timeout=30.0, settings=None,
         client=None, curve_server_key_file=None, curve_client_key_file=None,
         **setting_kwargs):
    """One copy of `name` on the server at `endpoint`, as a ParallelEnv.

    Settings come as keyword arguments (or a `settings` dict, for names
    that clash with make's own arguments). `seed` seeds the handle; reset(
    seed=...) restarts the stream. curve_*_key_file: as for Client.
    """
    merged = dict(settings or {})
    merged.update(setting_kwargs)
    return ParallelEnv(name, endpoint, seed, timeout, merged, client,
                       curve_server_key_file, curve_client_key_file)


def make_batch(name, num_envs=1, endpoint=None, seed=0, timeout=30.0,
               settings=None, client=None, curve_server_key_file=None,
               curve_client_key_file=None, **setting_kwargs):
    """num_envs copies of `name` as a BatchEnv (same-step auto-reset)."""
    merged = dict(settings or {})
    merged.update(setting_kwargs)
    return BatchEnv(name, num_envs, endpoint, seed, timeout, merged, client,
                    curve_server_key_file, curve_client_key_file)
