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

The server (marl_env.batch) runs many copies, counts steps, truncates at
spec.episode_limit and auto-resets; an environment only reports
termination, exactly like the C++ `marl::Env` (envs/core/env.h).
"""

import numpy as np

from marl_env import spaces as spaces_lib

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
            raise ValueError("setting '%s' takes %s, got %s" % (name, want, got))
        resolved[name] = value
    return resolved


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


# -------------------------------------------------------------------- spec --


class EnvSpec:
    """What one copy looks like from outside (the protocol's EnvSpec minus
    the per-handle fields).

    observation_spaces / action_spaces: a dict keyed by agent id, a list in
    agent order, or a single space shared by every agent. Optional parts:
    a public observation (shared by all agents), a global state (for
    centralised critics), action masks (for Discrete-action agents),
    sequential turns (one agent acts per step), per-copy float infos.
    """

    def __init__(self, agent_ids, observation_spaces, action_spaces,
                 episode_limit=0, info_keys=(), public_observation_space=None,
                 state_space=None, has_action_masks=False, sequential=False):
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
        if len(set(self.info_keys)) != len(self.info_keys) or not all(
                self.info_keys):
            raise ValueError("info keys must be unique and non-empty")


# --------------------------------------------------------------------- env --


class Env:
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

    #: Declared settings (class attribute): a list of Setting.
    settings = []
    #: Set by @register.
    name = None
    description = ""

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


# ---------------------------------------------------------------- registry --

_REGISTRY = {}


def register(name, description=""):
    """Class decorator: registers an Env subclass under `name`.

    Importing the module that defines the class is all it takes to serve it;
    there is no central list. A name registered twice is an error.
    """

    def wrap(cls):
        if not (isinstance(cls, type) and issubclass(cls, Env)):
            raise TypeError("@register expects an Env subclass, got %r" % cls)
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError("environment '%s' registered twice (%s and %s)" %
                             (name, _REGISTRY[name].__qualname__,
                              cls.__qualname__))
        names = [s.name for s in cls.settings]
        if len(set(names)) != len(names):
            raise ValueError("environment '%s' declares a setting twice" %
                             name)
        cls.name = name
        cls.description = description or (cls.__doc__ or "").strip(
        ).split("\n")[0]
        _REGISTRY[name] = cls
        return cls

    return wrap


def registered():
    """{name: Env subclass}, sorted by name."""
    return dict(sorted(_REGISTRY.items()))


def find(name):
    """The class registered as `name`; KeyError listing known names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError("unknown environment '%s'; known: %s" %
                       (name, ", ".join(sorted(_REGISTRY)))) from None


def make_env(name, **given):
    """One copy of a registered environment (for tests and direct use)."""
    return find(name).from_settings(**given)
