"""The environment API for Python authors, and the registry.

An environment is a class: it declares its settings (typed defaults), builds
its spec from resolved settings, and plays one copy at a time:

    @register("my_game", "one line saying what it is")
    class MyGame(Env):
        settings = [Setting("length", 10, "steps per episode")]

        def __init__(self, settings):
            super().__init__(settings)
            self.spec = EnvSpec(
                agent_ids=["a", "b"],
                observation_spaces=Box(0, 1, (1,)),   # one for all, or a dict
                action_spaces={"a": Discrete(2), "b": Discrete(3)},
                episode_limit=settings["length"])

        def reset(self, seed=None):
            super().reset(seed)           # reseeds self.rng when given
            return {"a": [0.0], "b": [0.0]}

        def step(self, actions):          # {"a": 1, "b": 2}
            return observations, rewards, terminated, info

Or, for speed, all copies at once with numpy arrays (BatchedEnv below):

    @register("my_game_batched", "...")
    class MyGameBatched(BatchedEnv):
        settings = [...]

        def __init__(self, settings, num_copies):
            super().__init__(settings, num_copies)   # self.rngs[c] per copy
            self.spec = EnvSpec(...)

        def reset_batch(self, copies, seeds=None):
            return {"a": zeros((len(copies), 1)), "b": ...}

        def step_batch(self, copies, actions):  # {"a": int64 [len(copies)]}
            return observations, rewards, terminated, info   # arrays

The server (marl_env.batch) runs many copies, counts steps, truncates at
spec.episode_limit and auto-resets; an environment only reports
termination, exactly like the C++ `marl::Env` (envs/core/env.h). The
server also gives every environment the setting message_size
(accepted_settings; an environment may not declare it): with K > 0 the
copies run behind the protocol's message channel (marl_env.message_channel),
which the environment never sees.
"""

import numpy as np

from marl_env import spaces as spaces_lib

#: The largest reward magnitude an environment may report (C++
#: marl::kMaxAbsReward): settings are validated so that every reachable
#: reward stays within it, and the batch runner refuses a step whose rewards
#: do not (INTERNAL), so no infinity ever reaches a learner.
MAX_ABS_REWARD = 1e30

#: The fixed part of default_copy_bytes_estimate (the C++
#: DefaultCopyBytesEstimate): the copy's object, spec and state.
COPY_OVERHEAD_BYTES = 16 << 10

#: The reserved setting of the protocol's message channel (docs/PROTOCOL.md,
#: "Message channel"; marl_env.message_channel), which the server adds to
#: every environment's settings: no environment may declare it.
MESSAGE_SIZE_SETTING = "message_size"
#: The largest message_size (C++ marl::kMaxMessageSize).
MAX_MESSAGE_SIZE = 1 << 10

# ---------------------------------------------------------------- settings --


class Setting:
    """A declared setting: name, typed default, one-line description.

    The default's type is the setting's type: bool, int, float, str, or an
    array of floats (a list or numpy array, any shape; kept as a float64
    numpy array). An int is accepted where a float is declared.
    """

    def __init__(self, name, default, description=""):
        self.name = name
        self.default = normalize_setting_value(default)
        self.description = description

    @property
    def type_name(self):
        return setting_type_name(self.default)

    def __repr__(self):
        return "Setting(%r, %r)" % (self.name, self.default)


def normalize_setting_value(value):
    """bool/int/float/str as themselves; sequences as float64 arrays."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        raise ValueError("an array setting needs at least one dimension")
    return array


def setting_type_name(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return "array"


def resolve_settings(declared, given):
    """Defaults overridden by `given` (name -> value), type-checked.

    Raises ValueError naming the problem (unknown setting, wrong type), with
    the same rules as the C++ Settings::Resolve.
    """
    resolved = {s.name: s.default for s in declared}
    for name, value in given.items():
        if name not in resolved:
            known = ", ".join(s.name for s in declared) or "(none)"
            raise ValueError("unknown setting '%s'; known: %s" % (name, known))
        value = normalize_setting_value(value)
        want = setting_type_name(resolved[name])
        got = setting_type_name(value)
        if want == "double" and got == "int":
            value = float(value)
        elif want != got:
            raise ValueError("setting '%s' takes %s, got %s" %
                             (name, want, got))
        resolved[name] = value
    return resolved


#: The declaration the server adds after every environment's own settings
#: (C++ MessageSizeDecl).
MESSAGE_SIZE = Setting(
    MESSAGE_SIZE_SETTING, 0,
    "K > 0: every agent also sends a message in [0, K) (one more action "
    "component) and observes each partner's last message as a one-hot (the "
    "protocol's message channel, at most %d); 0: none" % MAX_MESSAGE_SIZE)


def accepted_settings(env_class):
    """The settings a server accepts for `env_class`: its own declarations,
    then those every environment has (message_size), as the C++
    AcceptedSettings. list_environments lists these; a make resolves
    against them."""
    return list(env_class.settings) + [MESSAGE_SIZE]


def format_setting_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, np.ndarray):
        def nested(item):
            if isinstance(item, list):
                return "[" + ",".join(nested(x) for x in item) + "]"
            if float(item).is_integer() and abs(item) < 1e15:
                return "%d" % item
            return repr(float(item))  # the shortest text that reads back
        return nested(value.tolist())
    return str(value)


def default_copy_bytes_estimate(settings):
    """Bytes one copy is expected to hold, for environments that give no
    estimate of their own: a fixed overhead plus the size of every setting
    value (a copy keeps its arrays), as the C++ DefaultCopyBytesEstimate."""
    total = COPY_OVERHEAD_BYTES
    for name, value in settings.items():
        size = len(name.encode("utf-8")) + 64
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
        elif isinstance(value, np.ndarray):
            size += 8 * value.size + 8 * value.ndim
        total += size
    return total


# -------------------------------------------------------------------- spec --


class EnvSpec:
    """What one copy looks like from outside (the protocol's EnvSpec minus
    the per-handle fields).

    observation_spaces / action_spaces: a dict keyed by agent id, a list in
    agent order, or a single space shared by every agent. Optional parts:
    a public observation (shared by all agents), a global state (for
    centralised critics), action masks (for Discrete-action agents),
    sequential turns (one agent acts per step), per-copy float infos.

    message_size: K > 0 in the spec of a handle made with the setting
    message_size = K (marl_env.message_channel builds it); an environment
    leaves it 0.
    """

    def __init__(self, agent_ids, observation_spaces, action_spaces,
                 episode_limit=0, info_keys=(), public_observation_space=None,
                 state_space=None, has_action_masks=False, sequential=False,
                 message_size=0):
        self.agent_ids = tuple(agent_ids)
        self.observation_spaces = self._per_agent(observation_spaces,
                                                  "observation_spaces")
        self.action_spaces = self._per_agent(action_spaces, "action_spaces")
        self.episode_limit = int(episode_limit)
        self.info_keys = tuple(info_keys)
        self.public_observation_space = public_observation_space
        self.state_space = state_space
        self.has_action_masks = bool(has_action_masks)
        self.sequential = bool(sequential)
        self.message_size = int(message_size)

    def _per_agent(self, spaces, what):
        if isinstance(spaces, spaces_lib.Space):
            return tuple(spaces for _ in self.agent_ids)
        if isinstance(spaces, dict):
            missing = [a for a in self.agent_ids if a not in spaces]
            extra = [a for a in spaces if a not in self.agent_ids]
            if missing or extra:
                raise ValueError("%s: missing agents %s, unknown agents %s" %
                                 (what, missing, extra))
            return tuple(spaces[a] for a in self.agent_ids)
        spaces = tuple(spaces)
        if len(spaces) != len(self.agent_ids):
            raise ValueError("%s: %d spaces for %d agents" %
                             (what, len(spaces), len(self.agent_ids)))
        return spaces

    @property
    def num_agents(self):
        return len(self.agent_ids)

    @property
    def has_public_observation(self):
        return self.public_observation_space is not None

    @property
    def has_state(self):
        return self.state_space is not None

    def check(self):
        """Raises ValueError if the spec is malformed (like CheckSpec)."""
        if not self.agent_ids:
            raise ValueError("spec has no agents")
        if len(set(self.agent_ids)) != len(self.agent_ids) or not all(
                isinstance(a, str) and a for a in self.agent_ids):
            raise ValueError("agent ids must be unique non-empty strings: %s"
                             % (self.agent_ids,))
        for agent, obs, act in zip(self.agent_ids, self.observation_spaces,
                                   self.action_spaces):
            for what, space in (("observation", obs), ("action", act)):
                try:
                    spaces_lib.check_well_formed(space)
                except ValueError as error:
                    raise ValueError("agent '%s' %s space: %s" %
                                     (agent, what, error)) from None
        for what, space in (("public observation",
                             self.public_observation_space),
                            ("state", self.state_space)):
            if space is not None:
                spaces_lib.check_well_formed(space)
        if self.episode_limit < 0:
            raise ValueError("episode_limit must be >= 0")
        if not 0 <= self.message_size <= MAX_MESSAGE_SIZE:
            raise ValueError("message_size must be in [0, %d], got %d" %
                             (MAX_MESSAGE_SIZE, self.message_size))
        if len(set(self.info_keys)) != len(self.info_keys) or not all(
                self.info_keys):
            raise ValueError("info keys must be unique and non-empty")


# --------------------------------------------------------------------- env --


class EnvBase:
    """What both forms of environment share: declared settings, the spec
    built from them, the registry's name, and the memory estimate."""

    #: Declared settings (class attribute): a list of Setting.
    settings = []
    #: Set by @register.
    name = None
    description = ""

    @classmethod
    def estimate_copy_bytes(cls, settings):
        """Bytes one copy will hold with these resolved settings.

        The server multiplies it by num_copies and checks the total against
        its memory budgets before building anything, so override it when a
        copy holds much more than its settings (e.g. state that grows with
        a num_agents setting). It must be cheap, must not build the
        environment, and may raise ValueError for settings it refuses.
        Default: default_copy_bytes_estimate(settings).
        """
        return default_copy_bytes_estimate(settings)


class Env(EnvBase):
    """One copy of an environment. Subclasses set `settings` (a list of
    Setting), build `self.spec` in __init__, and implement reset() and
    step(). Randomness comes from `self.rng` (a numpy Generator), never
    global state: the server seeds each copy.

    reset(seed=None) -> observations
    step(actions)    -> (observations, rewards, terminated, info)

    observations: {agent_id: value} (a number or array-like of the agent's
        observation space; Discrete observations are indices).
    actions: {agent_id: action}; Discrete -> int, MultiDiscrete -> int64
        array, Box -> float32 array of the space's shape. Actions were
        checked against the spaces (and masks) before step() sees them.
    rewards: {agent_id: float}, or one float shared by every agent.
    terminated: True when the game ended (the server handles truncation).
    info: {key: float} for spec.info_keys (missing keys are 0); may be None.

    Optional, for specs that declare them (read after every reset/step):
    public_observation(), state(), action_mask(agent_id) -> bools over the
    Discrete actions (True = legal), current_agent() -> index of the agent
    to act (sequential specs).
    """

    def __init__(self, settings=None):
        self.config = dict(settings or {})
        self.rng = np.random.default_rng(0)
        self.spec = None

    @classmethod
    def from_settings(cls, **given):
        """Builds one copy with `given` over the declared defaults."""
        return cls(resolve_settings(cls.settings, given))

    def seed(self, seed):
        """Restarts this copy's random stream (`self.rng`)."""
        self.rng = np.random.default_rng(int(seed))

    def reset(self, seed=None):
        """Starts an episode. Subclasses call super().reset(seed) first."""
        if seed is not None:
            self.seed(seed)

    def step(self, actions):
        raise NotImplementedError

    def public_observation(self):
        raise NotImplementedError("spec declares a public observation")

    def state(self):
        raise NotImplementedError("spec declares a global state")

    def action_mask(self, agent_id):
        raise NotImplementedError("spec declares action masks")

    def current_agent(self):
        raise NotImplementedError("spec declares sequential turns")


class CopyRngs:
    """One numpy Generator per copy (BatchedEnv.rngs): rngs[c] is copy c's,
    np.random.default_rng(its seed), made when first used, so copies that
    draw nothing cost no Generator (about 1 KiB and 20 us each)."""

    def __init__(self, num_copies):
        self._seeds = np.zeros(num_copies, np.uint64)
        self._made = {}

    def __len__(self):
        return len(self._seeds)

    def __getitem__(self, copy):
        rng = self._made.get(copy)
        if rng is None:
            copy = int(copy)
            if not 0 <= copy < len(self._seeds):
                raise IndexError("copy %d of %d" % (copy, len(self._seeds)))
            rng = self._made[copy] = np.random.default_rng(
                int(self._seeds[copy]))
        return rng

    def __iter__(self):
        return (self[c] for c in range(len(self)))

    def seed(self, copies, seeds):
        """Restarts the streams of `copies` at `seeds` (one each)."""
        copies = np.asarray(copies, dtype=np.intp).reshape(-1)
        self._seeds[copies] = np.asarray(seeds, dtype=np.uint64).reshape(-1)
        if self._made:
            for c in copies.tolist():
                self._made.pop(c, None)


class BatchedEnv(EnvBase):
    """Every copy of an environment in one object, played with numpy
    arrays (as Gymnasium's vector environments and EnvPool do): the fast
    form for the Python server, which otherwise calls Python once per copy.

    Same settings, spec and rules as Env. Every method takes `copies`, an
    int array of the copy indices concerned (read-only: the server may
    share it between calls), and works on those copies only:
    all of them in order, or the subset a request names (in its order, no
    repeats), or the ones whose episodes ended (auto-reset). Row r of every
    array in or out is copy copies[r]. Keep each copy's state in arrays with
    a leading num_copies axis and index them with `copies`.

    reset_batch(copies, seeds=None) -> observations
    step_batch(copies, actions)     -> (observations, rewards, terminated,
                                        info)

    With n = len(copies):
    observations: {agent_id: array [n, *shape]} (Discrete: [n] indices; an
        agent left out observes zeros).
    actions: {agent_id: array [n, *shape]}; Discrete -> int64 [n],
        MultiDiscrete -> int64 [n, k], Box -> float32 [n, *shape]. Checked
        against the spaces (and masks) before step_batch sees them.
    rewards: {agent_id: [n]}, or one [n] array (or number) shared by every
        agent; finite, |reward| <= MAX_ABS_REWARD.
    terminated: bool [n] (or one bool for all rows); the server truncates.
    info: {key: [n]} for spec.info_keys (missing keys are 0), or None.

    Randomness: self.rngs[c] is copy c's numpy Generator, seeded by the
    server exactly like a one-copy Env's self.rng (from
    seed_for_copy(seed, c) at make; a reset seed restarts it before
    reset_batch is called, which also receives the seeds, one per row, for
    any other random state). Drawing copy c's numbers from self.rngs[c] in
    the order its one-copy form would gives the same episodes for the same
    seed; draw(copies, f) stacks f(self.rngs[c]) over copies.

    Optional, for specs that declare them (read after every reset_batch /
    step_batch, for the same copies): public_observation_batch(copies) and
    state_batch(copies) -> [n, *shape]; action_mask_batch(copies, agent_id)
    -> bool [n, actions] (True = legal); current_agent_batch(copies) -> int
    [n], the index of the agent to act (sequential specs).

    Raising an exception (or returning malformed arrays) fails the request
    with INTERNAL, and every copy it named needs a reset.
    """

    def __init__(self, settings, num_copies):
        self.config = dict(settings or {})
        self.num_copies = int(num_copies)
        if self.num_copies < 1:
            raise ValueError("num_copies must be at least 1, got %d" %
                             self.num_copies)
        self.rngs = CopyRngs(self.num_copies)
        self.spec = None

    @classmethod
    def from_settings(cls, num_copies=1, /, **given):
        """Builds num_copies copies with `given` over the declared
        defaults (for tests and direct use; the server seeds them)."""
        return cls(resolve_settings(cls.settings, given), num_copies)

    def seed(self, copies, seeds):
        """Restarts the streams self.rngs[c] of `copies`, one seed each."""
        self.rngs.seed(copies, seeds)

    def draw(self, copies, function):
        """np.stack of function(self.rngs[c]) for c in copies: per-copy
        random draws, each from its own copy's stream."""
        rngs = self.rngs
        return np.stack([function(rngs[c]) for c in np.asarray(copies)])

    def reset_batch(self, copies, seeds=None):
        """Starts an episode in each of `copies`; returns observations.

        The server has already restarted self.rngs[c] from `seeds` (None,
        or one uint64 per row) when a reset request carried them; calling
        super().reset_batch(copies, seeds) does it again, harmlessly.
        """
        if seeds is not None:
            self.seed(copies, seeds)

    def step_batch(self, copies, actions):
        raise NotImplementedError

    def public_observation_batch(self, copies):
        raise NotImplementedError("spec declares a public observation")

    def state_batch(self, copies):
        raise NotImplementedError("spec declares a global state")

    def action_mask_batch(self, copies, agent_id):
        raise NotImplementedError("spec declares action masks")

    def current_agent_batch(self, copies):
        raise NotImplementedError("spec declares sequential turns")


# ---------------------------------------------------------------- registry --

_REGISTRY = {}


def register(name, description=""):
    """Class decorator: registers an Env or BatchedEnv subclass under
    `name`.

    Importing the module that defines the class is all it takes to serve it;
    there is no central list. A name registered twice is an error.
    """

    def wrap(cls):
        if not (isinstance(cls, type) and issubclass(cls, (Env, BatchedEnv))):
            raise TypeError("@register expects an Env or BatchedEnv subclass, "
                            "got %r" % cls)
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError("environment '%s' registered twice (%s and %s)" %
                             (name, _REGISTRY[name].__qualname__,
                              cls.__qualname__))
        names = [s.name for s in cls.settings]
        if len(set(names)) != len(names):
            raise ValueError("environment '%s' declares a setting twice" %
                             name)
        if MESSAGE_SIZE_SETTING in names:
            # The server's own setting (accepted_settings).
            raise ValueError("environment '%s' declares the reserved setting "
                             "'%s'" % (name, MESSAGE_SIZE_SETTING))
        cls.name = name
        cls.description = description or (cls.__doc__ or "").strip(
        ).split("\n")[0]
        _REGISTRY[name] = cls
        return cls

    return wrap


def registered():
    """{name: Env or BatchedEnv subclass}, sorted by name."""
    return dict(sorted(_REGISTRY.items()))


def find(name):
    """The class registered as `name`; KeyError listing known names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError("unknown environment '%s'; known: %s" %
                       (name, ", ".join(sorted(_REGISTRY)))) from None


def make_env(name, **given):
    """One copy of a registered environment (for tests and direct use); a
    BatchedEnv with num_copies 1."""
    return find(name).from_settings(**given)
