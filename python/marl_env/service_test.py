"""The Python EnvService on real protocol bytes: every operation, the batch
semantics (auto-reset, truncation, seeding, copy subsets) and every bad
input, each answered with its status while the service keeps serving."""

import math
import types
import unittest

import numpy as np

import env_protocol_pb2 as pb

import examples.matrix_game  # noqa: F401  (registers py_matrix_game)
import examples.matrix_game_batched  # noqa: F401  (py_matrix_game_batched)
import examples.rendezvous  # noqa: F401  (registers py_rendezvous)
from marl_env import Box, Discrete, Env, EnvSpec, Setting, register
from marl_env import convert
from marl_env import env as env_lib
from marl_env import testing  # noqa: F401  (registers test_turns)
from marl_env.batch import seed_for_copy
from marl_env.service import (EnvService, ServiceOptions,
                              buffer_bytes_per_copy)


@register("test_budget", "settings drive its size, spec, rewards and "
          "failures (tests only)")
class BudgetGame(Env):
    """One agent; `estimate` (> 0) is its per-copy estimate, `obs` its
    observation size, `limit` its episode limit; `reward` is every step's
    reward; `fail` raises MemoryError in "init", "step" or "estimate"."""

    settings = [Setting("estimate", 0, "per-copy bytes (0 = default)"),
                Setting("obs", 1, "observation size"),
                Setting("limit", 0, "episode limit"),
                Setting("reward", 0.0, "the reward of every step"),
                Setting("fail", "", "where to raise MemoryError")]
    built = 0  # copies constructed, to show a refused make built none

    @classmethod
    def estimate_copy_bytes(cls, settings):
        if settings["fail"] == "estimate":
            raise MemoryError()
        if settings["estimate"] < 0:
            raise ValueError("estimate must be >= 0")
        return settings["estimate"] or None  # None: the default

    def __init__(self, settings):
        super().__init__(settings)
        if settings["fail"] == "init":
            raise MemoryError()
        type(self).built += 1
        self.spec = EnvSpec(["a"], Box(0, 1, (settings["obs"],)),
                            Discrete(2), episode_limit=settings["limit"])

    def reset(self, seed=None):
        super().reset(seed)
        return {"a": np.zeros(self.config["obs"])}

    def step(self, actions):
        if self.config["fail"] == "step":
            raise MemoryError()
        return ({"a": np.zeros(self.config["obs"])}, self.config["reward"],
                False, None)


def arrays(timestep):
    """A TimeStep's arrays (convert.timestep_arrays) with the message's
    layout: timestep.agents[i].reward and so on; plus final_rows, the rows
    that have final observations under auto-reset (the ended ones)."""
    read = convert.timestep_arrays(timestep)
    fields = {name: getattr(read, name) for name in convert.TIMESTEP_ARRAYS}
    fields["final_rows"] = np.flatnonzero(read.terminated | read.truncated)
    fields["agents"] = [
        types.SimpleNamespace(**{name: getattr(read, name)[i]
                                 for name in convert.AGENT_ARRAYS})
        for i in range(len(timestep.agents))]
    return types.SimpleNamespace(**fields)


class Service:
    """An EnvService driven through serialized bytes, like a server."""

    def __init__(self, **options):
        self.now = 0.0
        self.service = EnvService(ServiceOptions(**options),
                                  clock=lambda: self.now)
        self.next_id = 1

    def call(self, request, client=b""):
        request.request_id = self.next_id
        self.next_id += 1
        response = pb.Response()
        response.ParseFromString(
            self.service.handle_bytes(request.SerializeToString(), client))
        assert response.request_id == request.request_id
        return response

    def raw(self, data):
        return pb.Response.FromString(self.service.handle_bytes(data))

    def handshake(self):
        request = pb.Request()
        request.handshake.protocol_version = 3
        return self.call(request)

    def make(self, name, num_copies=1, seed=0, auto_reset=True, client=b"",
             **settings):
        request = pb.Request()
        request.make.name = name
        request.make.num_copies = num_copies
        request.make.seed = seed
        request.make.auto_reset = pb.SAME_STEP if auto_reset else pb.NONE
        for key, value in settings.items():
            setting = request.make.settings.add()
            setting.name = key
            convert.value_to_proto(value, setting.value)
        return self.call(request, client)

    def reset(self, handle, copies=(), seeds=()):
        request = pb.Request()
        request.reset.handle = handle
        request.reset.copies.extend(copies)
        request.reset.seeds.extend(seeds)
        return self.call(request)

    def step(self, handle, discrete=None, continuous=None, copies=()):
        """discrete / continuous: one list per agent (None = empty)."""
        request = pb.Request()
        request.step.handle = handle
        request.step.copies.extend(copies)
        count = len(discrete if discrete is not None else continuous)
        for agent in range(count):
            actions = request.step.actions.add()
            if discrete is not None and discrete[agent] is not None:
                actions.discrete = convert.array_bytes(discrete[agent],
                                                       convert.INT64)
            if continuous is not None and continuous[agent] is not None:
                actions.continuous = convert.array_bytes(
                    continuous[agent], convert.FLOAT32)
        return self.call(request)

    def close(self, handle):
        request = pb.Request()
        request.close.handle = handle
        return self.call(request)


class ServiceTest(unittest.TestCase):

    def setUp(self):
        self.s = Service()

    def assertStatus(self, response, code, fragment=""):
        self.assertEqual(response.status.code, code, response.status.message)
        self.assertIn(fragment, response.status.message)
        if code != pb.OK:
            self.assertIsNone(response.WhichOneof("payload"))

    def made(self, *args, **kwargs):
        response = self.s.make(*args, **kwargs)
        self.assertStatus(response, pb.OK)
        return response.make.handle

    # ------------------------------------------------- handshake, list --

    def test_handshake(self):
        request = pb.Request()
        request.handshake.protocol_version = 3
        response = self.s.call(request)
        self.assertStatus(response, pb.OK)
        self.assertEqual(response.handshake.protocol_version, 3)
        self.assertIn("auto_reset_same_step", response.handshake.capabilities)
        self.assertEqual(response.handshake.idle_handle_timeout_seconds, 600)
        for version in (1, 2, 4):
            request.handshake.protocol_version = version
            self.assertStatus(self.s.call(request), pb.FAILED_PRECONDITION,
                              "client speaks protocol version %d; this "
                              "server speaks 3" % version)

    def test_garbage_and_empty_requests(self):
        response = pb.Response()
        response.ParseFromString(self.s.service.handle_bytes(b"\xff\xff\xff"))
        self.assertEqual(response.status.code, pb.INVALID_ARGUMENT)
        self.assertEqual(response.request_id, 0)
        self.assertStatus(self.s.call(pb.Request()), pb.UNIMPLEMENTED)
        self.made("py_matrix_game")  # still serving

    def test_list(self):
        request = pb.Request()
        request.list_environments.SetInParent()
        response = self.s.call(request)
        environments = {e.name: e for e in
                        response.list_environments.environments}
        self.assertIn("py_matrix_game", environments)
        self.assertIn("py_rendezvous", environments)
        settings = {s.name: s for s in environments["py_rendezvous"].settings}
        self.assertEqual(settings["episode_length"].default_value.int_value,
                         25)
        self.assertEqual(
            settings["max_speed"].default_value.WhichOneof("kind"),
            "double_value")
        payoffs = environments["py_matrix_game"].settings[0].default_value
        self.assertEqual(list(payoffs.array_value.shape), [3, 3])

    # -------------------------------------------------------------- make --

    def test_make_spec(self):
        response = self.s.make("py_rendezvous", num_copies=3, dims=2,
                               max_speed=1)  # an int for a double is fine
        self.assertStatus(response, pb.OK)
        spec = response.make.spec
        self.assertEqual(spec.num_copies, 3)
        self.assertEqual([a.id for a in spec.agents], ["a", "b"])
        self.assertEqual(list(spec.agents[0].observation_space.box.shape), [4])
        self.assertEqual(list(spec.agents[1].action_space.box.high), [1, 1])
        self.assertEqual(spec.episode_limit, 25)
        self.assertEqual(list(spec.info_keys), ["distance"])
        settings = {s.name: s.value for s in spec.settings}
        self.assertEqual(settings["dims"].int_value, 2)
        self.assertEqual(settings["max_speed"].double_value, 1.0)
        self.assertEqual(settings["meet_radius"].double_value, 0.1)

    def test_make_errors(self):
        cases = [
            (dict(name="nope"), pb.NOT_FOUND, "unknown environment 'nope'"),
            (dict(name="py_rendezvous", colour=1), pb.INVALID_ARGUMENT,
             "unknown setting 'colour'"),
            (dict(name="py_rendezvous", dims=1.5), pb.INVALID_ARGUMENT,
             "takes int, got double"),
            (dict(name="py_rendezvous", dims=0), pb.INVALID_ARGUMENT,
             "dims must be"),
            (dict(name="py_matrix_game", payoffs_row=[1, 2]),
             pb.INVALID_ARGUMENT, "n x m"),
            (dict(name="py_rendezvous", num_copies=-1), pb.INVALID_ARGUMENT,
             "num_copies"),
            (dict(name="py_rendezvous", num_copies=1 << 17),
             pb.INVALID_ARGUMENT, "num_copies"),
        ]
        for kwargs, code, fragment in cases:
            with self.subTest(kwargs=kwargs):
                self.assertStatus(self.s.make(**kwargs), code, fragment)
        request = pb.Request()
        request.make.name = "py_rendezvous"
        request.make.auto_reset = 7
        self.assertStatus(self.s.call(request), pb.INVALID_ARGUMENT,
                          "auto_reset")
        request = pb.Request()
        request.make.name = "py_rendezvous"
        for _ in range(2):
            setting = request.make.settings.add()
            setting.name = "dims"
            setting.value.int_value = 1
        self.assertStatus(self.s.call(request), pb.INVALID_ARGUMENT, "twice")
        request = pb.Request()
        request.make.name = "py_matrix_game"
        setting = request.make.settings.add()
        setting.name = "payoffs_row"
        setting.value.array_value.shape.extend([2, 2])
        setting.value.array_value.values.extend([1, 2, 3])
        self.assertStatus(self.s.call(request), pb.INVALID_ARGUMENT, "holds 3")
        self.assertEqual(self.s.service.num_handles, 0)

    def test_too_many_handles(self):
        s = Service(max_handles=2)
        for _ in range(2):
            self.assertStatus(s.make("py_rendezvous"), pb.OK)
        self.assertStatus(s.make("py_rendezvous"), pb.RESOURCE_EXHAUSTED)

    # ------------------------------------------------------- reset, step --

    def test_matrix_game_auto_resets_every_step(self):
        handle = self.made("py_matrix_game", num_copies=3)
        self.assertStatus(self.s.reset(handle), pb.OK)
        response = self.s.step(handle, discrete=[[0, 1, 2], [0, 0, 2]])
        self.assertStatus(response, pb.OK)
        timestep = arrays(response.step.timestep)
        self.assertEqual(list(timestep.agents[0].reward), [5, 0, 1])
        self.assertEqual(list(timestep.info), [10, 0, 2])
        self.assertEqual(list(timestep.terminated), [True] * 3)
        self.assertEqual(list(timestep.truncated), [False] * 3)
        self.assertEqual(list(timestep.episode_step), [1, 1, 1])
        self.assertEqual(list(timestep.final_rows), [0, 1, 2])
        self.assertEqual(list(timestep.agents[1].final_observation), [0] * 3)
        # Every copy, in order, goes without saying; named copies are said.
        self.assertEqual(timestep.copies.size, 0)
        named = arrays(self.s.step(handle, discrete=[[0, 1], [0, 0]],
                                   copies=[2, 0]).step.timestep)
        self.assertEqual(list(named.copies), [2, 0])

    def test_truncation_and_final_observations(self):
        handle = self.made("py_rendezvous", num_copies=2, seed=5,
                           episode_length=3, meet_radius=0.0)
        first = arrays(self.s.reset(handle).reset.timestep)
        start = np.array(first.agents[0].observation).reshape(2, 2)
        for step in range(1, 4):
            timestep = arrays(self.s.step(
                handle, continuous=[[0.0, 0.0], [0.0, 0.0]]).step.timestep)
            self.assertEqual(list(timestep.episode_step), [step, step])
            self.assertFalse(any(timestep.terminated))
            if step < 3:
                self.assertFalse(any(timestep.truncated))
                self.assertEqual(len(timestep.final_rows), 0)
        self.assertEqual(list(timestep.truncated), [True, True])
        self.assertEqual(list(timestep.final_rows), [0, 1])
        # Standing still: the final observation is the start; the returned
        # one already belongs to the next episode (a new random start).
        final = np.array(timestep.agents[0].final_observation).reshape(2, 2)
        np.testing.assert_allclose(final, start, rtol=1e-6)
        new = np.array(timestep.agents[0].observation).reshape(2, 2)
        self.assertFalse(np.allclose(new, start))
        # Rewards and info belong to the ended episode.
        distance = np.abs(start[:, 0] - start[:, 1])
        np.testing.assert_allclose(timestep.info, distance, rtol=1e-5)
        np.testing.assert_allclose(timestep.agents[1].reward, -distance,
                                   rtol=1e-5)
        timestep = arrays(self.s.step(
            handle, continuous=[[0.0, 0.0], [0.0, 0.0]]).step.timestep)
        self.assertEqual(list(timestep.episode_step), [1, 1])

    def test_termination_ends_before_the_limit(self):
        handle = self.made("py_rendezvous", seed=1, max_speed=2.0,
                           meet_radius=1e-3)
        observation = arrays(
            self.s.reset(handle).reset.timestep).agents[0].observation
        a, b = observation
        # Both jump to 0.5: they meet.
        timestep = arrays(self.s.step(
            handle, continuous=[[0.5 - a], [0.5 - b]]).step.timestep)
        self.assertEqual(list(timestep.terminated), [True])
        self.assertEqual(list(timestep.truncated), [False])
        np.testing.assert_allclose(timestep.agents[0].final_observation,
                                   [0.5, 0.5], rtol=1e-6)

    def test_no_auto_reset_waits_for_reset(self):
        handle = self.made("py_matrix_game", num_copies=2, auto_reset=False)
        self.s.reset(handle)
        timestep = arrays(
            self.s.step(handle, discrete=[[0, 0], [0, 0]]).step.timestep)
        # Both ended, and wait: no final observations.
        self.assertEqual(list(timestep.final_rows), [0, 1])
        self.assertEqual(timestep.agents[0].final_observation.size, 0)
        self.assertStatus(self.s.step(handle, discrete=[[0], [0]],
                                      copies=[1]),
                          pb.FAILED_PRECONDITION, "copy 1 finished")
        self.assertStatus(self.s.reset(handle, copies=[1]), pb.OK)
        self.assertStatus(self.s.step(handle, discrete=[[1], [1]],
                                      copies=[1]), pb.OK)
        self.assertStatus(self.s.step(handle, discrete=[[0], [0]],
                                      copies=[0]), pb.FAILED_PRECONDITION)

    def test_step_errors_change_nothing(self):
        handle = self.made("py_rendezvous", num_copies=2, max_speed=0.5)
        self.assertStatus(self.s.step(handle, continuous=[[0, 0], [0, 0]]),
                          pb.FAILED_PRECONDITION, "before its first reset")
        self.s.reset(handle)
        ok = [[0.1, 0.1], [0.1, 0.1]]
        cases = [
            (dict(continuous=[[0, 0]]), pb.INVALID_ARGUMENT, "2 agents"),
            (dict(continuous=[[0, 0], [0, 0], [0, 0]]), pb.INVALID_ARGUMENT,
             "2 agents"),
            (dict(continuous=[[0, 0], [0]]), pb.INVALID_ARGUMENT,
             "expected 2 copies x 1 = 2 actions, got 1"),
            (dict(continuous=ok, discrete=[[1], None]), pb.INVALID_ARGUMENT,
             "continuous actions only"),
            (dict(continuous=[[0, 0.6], [0, 0]]), pb.OUT_OF_RANGE,
             "copy 1: box element 0"),
            (dict(continuous=[[0, 0], [math.nan, 0]]), pb.OUT_OF_RANGE,
             "nan"),
            (dict(continuous=[[0, 0], [math.inf, 0]]), pb.OUT_OF_RANGE, ""),
            (dict(continuous=[[0], [0]], copies=[2]), pb.OUT_OF_RANGE,
             "copy 2 does not exist"),
            (dict(continuous=[[0, 0], [0, 0]], copies=[1, 1]),
             pb.INVALID_ARGUMENT, "listed twice"),
            (dict(continuous=[[0], [0]], copies=[-1]), pb.OUT_OF_RANGE, ""),
        ]
        for kwargs, code, fragment in cases:
            with self.subTest(kwargs=kwargs):
                self.assertStatus(self.s.step(handle, **kwargs), code,
                                  fragment)
        # None of them stepped a copy.
        timestep = arrays(self.s.step(handle, continuous=ok).step.timestep)
        self.assertEqual(list(timestep.episode_step), [1, 1])

    def test_action_bytes_must_be_whole_values(self):
        handle = self.made("py_rendezvous", num_copies=2)
        self.s.reset(handle)
        for field, data, fragment in (
                ("continuous", b"\0" * 7, "actions[1].continuous has 7 "
                 "bytes: not a whole number of float32 values (4 bytes "
                 "each)"),
                ("discrete", b"\0" * 12, "actions[1].discrete has 12 "
                 "bytes: not a whole number of int64 values (8 bytes "
                 "each)")):
            with self.subTest(field=field):
                request = pb.Request()
                request.step.handle = handle
                request.step.actions.add().continuous = np.zeros(
                    2, "<f4").tobytes()
                setattr(request.step.actions.add(), field, data)
                self.assertStatus(self.s.call(request), pb.INVALID_ARGUMENT,
                                  fragment)
        # Whole values: the count is checked as before.
        request = pb.Request()
        request.step.handle = handle
        for _ in range(2):
            request.step.actions.add().continuous = np.zeros(
                3, "<f4").tobytes()
        self.assertStatus(self.s.call(request), pb.INVALID_ARGUMENT,
                          "expected 2 copies x 1 = 2 actions, got 3")
        timestep = arrays(self.s.step(
            handle, continuous=[[0.0, 0.0], [0.0, 0.0]]).step.timestep)
        self.assertEqual(list(timestep.episode_step), [1, 1])

    def test_discrete_errors(self):
        handle = self.made("py_matrix_game")
        self.s.reset(handle)
        self.assertStatus(self.s.step(handle, discrete=[[3], [0]]),
                          pb.OUT_OF_RANGE, "outside [0, 3)")
        self.assertStatus(self.s.step(handle, discrete=[[-1], [0]]),
                          pb.OUT_OF_RANGE)
        self.assertStatus(self.s.step(handle, discrete=[[-(1 << 63)], [0]]),
                          pb.OUT_OF_RANGE)
        self.assertStatus(self.s.step(handle, continuous=[[0.0], [0.0]]),
                          pb.INVALID_ARGUMENT, "discrete actions only")

    def test_reset_errors(self):
        handle = self.made("py_rendezvous", num_copies=2)
        self.assertStatus(self.s.reset(handle, copies=[5]), pb.OUT_OF_RANGE)
        self.assertStatus(self.s.reset(handle, copies=[0, 0]),
                          pb.INVALID_ARGUMENT, "twice")
        self.assertStatus(self.s.reset(handle, seeds=[1]),
                          pb.INVALID_ARGUMENT, "1 seeds for 2 copies")
        self.assertStatus(self.s.reset(99), pb.NOT_FOUND, "handle 99")

    def test_close_and_unknown_handles(self):
        handle = self.made("py_rendezvous")
        self.assertStatus(self.s.close(handle), pb.OK)
        self.assertStatus(self.s.close(handle), pb.NOT_FOUND)
        self.assertStatus(self.s.reset(handle), pb.NOT_FOUND)
        self.assertStatus(self.s.step(handle, continuous=[[0], [0]]),
                          pb.NOT_FOUND)

    def test_idle_handles_expire(self):
        idle = self.made("py_rendezvous")
        busy = self.made("py_rendezvous")
        self.s.now = 500
        self.s.reset(busy)
        self.s.now = 700
        self.assertEqual(self.s.service.expire_idle_handles(), 1)
        self.assertStatus(self.s.reset(idle), pb.NOT_FOUND, "expired")
        self.assertStatus(self.s.reset(busy), pb.OK)

    # ----------------------------------------------------------- seeding --

    def trajectory(self, handle, steps=8, seeds=()):
        observations = [list(arrays(self.s.reset(handle, seeds=seeds)
                                    .reset.timestep).agents[0].observation)]
        for _ in range(steps):
            timestep = self.s.step(handle, continuous=[[0.05] * 3,
                                                       [-0.05] * 3])
            observations.append(list(arrays(timestep.step.timestep)
                                     .agents[0].observation))
        return observations

    def test_seeding(self):
        settings = dict(num_copies=3, episode_length=2)
        one = self.trajectory(self.made("py_rendezvous", seed=7, **settings))
        two = self.trajectory(self.made("py_rendezvous", seed=7, **settings))
        other = self.made("py_rendezvous", seed=8, **settings)
        self.assertEqual(one, two)
        self.assertNotEqual(one, self.trajectory(other))
        # Copies differ from one another.
        self.assertNotEqual(one[0][0:2], one[0][2:4])
        # Reset seeds restart the streams: seed_for_copy(7, c) replays a
        # handle made with seed 7.
        seeds = [seed_for_copy(7, c) for c in range(3)]
        self.assertEqual(self.trajectory(other, seeds=seeds), one)

    def test_seed_for_copy_matches_cpp(self):
        # (0, 0) is SplitMix64's first output from state 0, the published
        # test vector; seed + copy would make these two equal.
        self.assertEqual(seed_for_copy(0, 0), 0xE220A8397B1DCDAF)
        self.assertNotEqual(seed_for_copy(1, 0), seed_for_copy(0, 1))

    # ---------------------------- turns, masks, public observation, state --

    def test_turn_based_parts(self):
        handle = self.made("test_turns", num_copies=2, target=20)
        first = arrays(self.s.reset(handle, seeds=[1, 2]).reset.timestep)
        self.assertEqual(list(first.current_agent), [0, 0])
        self.assertEqual(list(first.public_observation), [0, 0])
        self.assertEqual(len(first.state), 4)
        self.assertEqual(list(first.agents[0].action_mask),
                         [True, True, False] * 2)
        self.assertStatus(self.s.step(handle, discrete=[[2, 2], [0, 0]]),
                          pb.INVALID_ARGUMENT, "copy 0: action 2 is masked")
        # The waiting agent's action does not count, masked or not.
        timestep = arrays(
            self.s.step(handle, discrete=[[1, 1], [2, 2]]).step.timestep)
        self.assertEqual(list(timestep.agents[0].reward), [1, 1])
        self.assertEqual(list(timestep.agents[1].reward), [0, 0])
        self.assertEqual(list(timestep.current_agent), [1, 1])
        self.assertEqual(list(timestep.public_observation), [1, 1])
        self.assertEqual(list(timestep.agents[1].action_mask), [True] * 6)
        timestep = arrays(
            self.s.step(handle, discrete=[[0, 0], [2, 2]]).step.timestep)
        self.assertEqual(list(timestep.agents[1].reward), [2, 2])
        self.assertStatus(self.s.step(handle, discrete=[[2, 2], [0, 0]]),
                          pb.INVALID_ARGUMENT, "masked out")

    def test_turn_based_final_parts(self):
        handle = self.made("test_turns", num_copies=2, target=1)
        self.s.reset(handle)
        timestep = arrays(
            self.s.step(handle, discrete=[[1, 1], [0, 0]]).step.timestep)
        self.assertEqual(list(timestep.final_rows), [0, 1])
        self.assertEqual(list(timestep.final_public_observation), [1, 1])
        self.assertEqual(len(timestep.final_state), 4)
        self.assertEqual(list(timestep.final_state)[0::2], [1, 1])
        # Observation side already the next episode's: turn 0, first acts.
        self.assertEqual(list(timestep.public_observation), [0, 0])
        self.assertEqual(list(timestep.current_agent), [0, 0])
        self.assertEqual(list(timestep.agents[0].action_mask),
                         [True, True, False] * 2)

    def test_environment_bug_is_internal_and_server_survives(self):
        handle = self.made("test_turns", target=50, crash_on=1)
        self.s.reset(handle)
        self.assertStatus(self.s.step(handle, discrete=[[1], [1]]), pb.OK)
        self.assertStatus(self.s.step(handle, discrete=[[1], [1]]),
                          pb.INTERNAL, "RuntimeError: crash_on reached")
        # The crashed copy needs a reset; then it works again.
        self.assertStatus(self.s.step(handle, discrete=[[0], [0]]),
                          pb.FAILED_PRECONDITION)
        self.assertStatus(self.s.reset(handle), pb.OK)
        self.assertStatus(self.s.step(handle, discrete=[[0], [0]]), pb.OK)
        self.made("py_matrix_game")


class StepPathTest(unittest.TestCase):
    """A step is read and answered in C++ (marl_env._codec) when it comes
    as bytes; EnvService.handle() on the parsed Request answers it in
    Python. Both give the same bytes, error replies included."""

    def replies(self, name, settings, num_copies, steps):
        """The two services' replies to the same make, reset and steps
        (each step: discrete, continuous, copies, or a handle to send to
        instead)."""
        fast, slow = EnvService(), EnvService()
        out = []
        for service, answer in (
                (fast, fast.handle_bytes),
                (slow, lambda data: slow.serialize(
                    slow.handle(pb.Request.FromString(data))))):
            client = Service()
            client.service = service
            made = client.make(name, num_copies=num_copies, seed=3,
                               **settings)
            self.assertEqual(made.status.code, pb.OK, made.status.message)
            handle = made.make.handle
            client.reset(handle)
            replies = []
            for i, (discrete, continuous, copies, other) in enumerate(steps):
                request = pb.Request(request_id=100 + i)
                request.step.handle = handle if other is None else other
                request.step.copies.extend(copies)
                for d, c in zip(discrete, continuous):
                    actions = request.step.actions.add()
                    actions.discrete = np.asarray(d, np.int64).tobytes()
                    actions.continuous = np.asarray(c, np.float32).tobytes()
                replies.append(answer(request.SerializeToString()))
            out.append(replies)
        return out

    def assertSameReplies(self, name, settings, num_copies, steps):
        fast, slow = self.replies(name, settings, num_copies, steps)
        for i, (a, b) in enumerate(zip(fast, slow)):
            self.assertEqual(a, b, "step %d: %s against %s" % (
                i, pb.Response.FromString(a), pb.Response.FromString(b)))
        return [pb.Response.FromString(reply) for reply in fast]

    def test_one_shot_game_every_row_ends(self):
        replies = self.assertSameReplies("py_matrix_game_batched", {}, 3, [
            ([[0, 1, 1], [1, 0, 1]], [[], []], (), None),
            ([[1], [0]], [[], []], (2,), None),
            ([[0, 5, 1], [1, 0, 1]], [[], []], (), None),  # out of range
            ([[0, 1], [1, 0]], [[], []], (), None),  # too few
            ([[0, 1, 1], [1, 0, 1]], [[], []], (), 12345),  # no handle
            ([[0, 1, 1], [1, 0, 1]], [[], []], (0, 0, 1), None),  # repeat
        ])
        self.assertEqual([r.status.code for r in replies], [
            pb.OK, pb.OK, pb.OUT_OF_RANGE, pb.INVALID_ARGUMENT, pb.NOT_FOUND,
            pb.INVALID_ARGUMENT])
        self.assertEqual(
            len(arrays(replies[0].step.timestep).final_rows), 3)

    def test_box_actions_truncation_and_some_rows_ending(self):
        move = [[0.2], [-0.1], [0.0]]
        steps = [([[], []], [move, move], (), None)] * 4 + [
            ([[], []], [[[0.1]], [[0.1]]], (1,), None),
            ([[], []], [[[9.0], [0], [0]], move], (), None),  # out of box
            ([[1, 1, 1], []], [[], move], (), None),  # wrong kind
        ]
        replies = self.assertSameReplies(
            "py_rendezvous", {"episode_length": 3}, 3, steps)
        self.assertEqual(replies[2].status.code, pb.OK)
        self.assertEqual(
            len(arrays(replies[2].step.timestep).final_rows), 3)
        self.assertEqual(replies[-1].status.code, pb.INVALID_ARGUMENT)

    def test_every_optional_part(self):
        # Masks, public observation, state, turns, info; copy subsets.
        self.assertSameReplies("test_turns", {"target": 2}, 2, [
            ([[1, 1], [0, 0]], [[], []], (), None),
            ([[0], [2]], [[], []], (1,), None),
            ([[2, 2], [0, 0]], [[], []], (), None),  # masked out
            ([[1, 1], [1, 1]], [[], []], (), None),
            ([[1, 0], [1, 2]], [[], []], (), None),
        ])


class HostileInputTest(unittest.TestCase):
    """Sizes, budgets and values from the wire: each refused with a clear
    status, and the service still answers a handshake afterwards."""

    def setUp(self):
        self.s = Service()
        BudgetGame.built = 0

    def assertStatus(self, response, code, *fragments):
        self.assertEqual(response.status.code, code, response.status.message)
        for fragment in fragments:
            self.assertIn(fragment, response.status.message)
        if code != pb.OK:
            self.assertIsNone(response.WhichOneof("payload"))

    def assertStillServing(self):
        self.assertStatus(self.s.handshake(), pb.OK)

    def array_make(self, shape, values):
        request = pb.Request()
        request.make.name = "py_matrix_game"
        setting = request.make.settings.add()
        setting.name = "payoffs_row"
        setting.value.array_value.shape.extend(shape)
        setting.value.array_value.values.extend(values)
        return self.s.call(request)

    def test_array_shapes_past_int64_are_refused(self):
        # numpy's int64 product wraps: 2^32 * 2^32 = 0, (2^62+1) * 4 = 4.
        self.assertStatus(self.array_make([1 << 32, 1 << 32], []),
                          pb.INVALID_ARGUMENT, "payoffs_row",
                          "18446744073709551616 elements", "holds 0")
        self.assertStillServing()
        self.assertStatus(self.array_make([(1 << 62) + 1, 4], [1, 2, 3, 4]),
                          pb.INVALID_ARGUMENT, "more than 2^63 - 1",
                          "holds 4")
        self.assertStillServing()
        self.assertStatus(self.array_make([1] * 33, [1]),
                          pb.INVALID_ARGUMENT, "33 dimensions")
        self.assertStatus(self.array_make([-2, -2], [1, 2, 3, 4]),
                          pb.INVALID_ARGUMENT, "negative dimension -2")
        self.assertStatus(self.array_make([], [1.0]), pb.INVALID_ARGUMENT,
                          "holds 1")
        self.assertEqual(self.s.service.num_handles, 0)
        self.assertStillServing()

    def test_bytes_that_do_not_parse_whole_are_invalid_argument(self):
        whole = pb.Request(request_id=5)
        whole.handshake.protocol_version = 3
        data = whole.SerializeToString()
        # 0x0c: an end-group tag with no group open; parsing stops there.
        for garbage in (b"\x0c", b"\x0c" + data, data + b"\x0c",
                        data + b"\x0c\x0a\x00", b"\x08\x05\x0c\xff\xff"):
            with self.subTest(garbage=garbage):
                response = self.s.raw(garbage)
                self.assertEqual(response.status.code, pb.INVALID_ARGUMENT,
                                 response.status.message)
                self.assertIn("not a marl.env.v3.Request",
                              response.status.message)
                self.assertEqual(response.request_id, 0)
        self.assertEqual(self.s.raw(data).status.code, pb.OK)
        # A whole message of unknown fields parses: no known operation.
        self.assertEqual(self.s.raw(b"\xf8\x06\x01").status.code,
                         pb.UNIMPLEMENTED)

    def test_settings_out_of_range_are_invalid_argument(self):
        cases = [
            (dict(reward_scale=math.nan), "reward_scale"),
            (dict(reward_scale=math.inf), "reward_scale"),
            (dict(reward_scale=1e308), "reward_scale"),
            (dict(reward_scale=1e30), "<= 1e+30"),  # 5 x 1e30
            (dict(payoffs_row=[[1e30, 0], [0, 1]],
                  payoffs_column=[[2e30, 0], [0, 1]]), "reward_scale"),
        ]
        for settings, fragment in cases:
            with self.subTest(settings=settings):
                self.assertStatus(self.s.make("py_matrix_game", **settings),
                                  pb.INVALID_ARGUMENT, fragment)
        self.assertStatus(self.s.make("py_rendezvous",
                                      episode_length=1 << 40),
                          pb.INVALID_ARGUMENT, "episode_length")
        self.assertStatus(self.s.make("test_budget", limit=1 << 40),
                          pb.INVALID_ARGUMENT, "test_budget",
                          "cannot carry")
        self.assertEqual(self.s.service.num_handles, 0)
        self.assertEqual(self.s.service.server_bytes, 0)
        # At the limit is fine, and its rewards arrive.
        handle = self.s.make("py_matrix_game", reward_scale=2e29).make.handle
        self.s.reset(handle)
        timestep = arrays(
            self.s.step(handle, discrete=[[0], [0]]).step.timestep)
        self.assertEqual(list(timestep.agents[0].reward),
                         [np.float32(1e30)])
        with self.assertRaisesRegex(ValueError, "outside int64"):
            convert.value_to_proto(1 << 63, pb.Value())

    def test_rewards_past_the_limit_are_not_sent(self):
        for reward in (1e31, -1e31, math.inf, math.nan):
            with self.subTest(reward=reward):
                handle = self.s.make("test_budget",
                                     reward=reward).make.handle
                self.s.reset(handle)
                self.assertStatus(self.s.step(handle, discrete=[[0]]),
                                  pb.INTERNAL, "test_budget", "agent 'a'",
                                  "not finite or exceeds 1e+30")
        handle = self.s.make("test_budget", reward=-1e30).make.handle
        self.s.reset(handle)
        self.assertStatus(self.s.step(handle, discrete=[[0]]), pb.OK)

    def test_handshake_reports_the_limits(self):
        handshake = self.s.handshake().handshake
        self.assertEqual(
            (handshake.max_message_bytes, handshake.max_handles,
             handshake.max_handles_per_client, handshake.max_handle_bytes,
             handshake.max_client_bytes, handshake.max_server_bytes,
             handshake.max_copies_per_handle),
            (64 << 20, 4096, 1024, 1 << 30, 2 << 30, 4 << 30, 65536))
        self.assertNotIn("curve", handshake.capabilities)
        handshake = Service(max_handle_bytes=123, curve=True).handshake()
        self.assertEqual(handshake.handshake.max_handle_bytes, 123)
        self.assertIn("curve", handshake.handshake.capabilities)

    def test_estimate_is_charged_until_close_or_expiry(self):
        one = self.s.make("py_rendezvous", dims=3).make
        spec = examples.rendezvous.Rendezvous.from_settings(dims=3).spec
        settings = {s.name: convert.value_from_proto(s.value)
                    for s in one.spec.settings}
        self.assertEqual(one.estimated_bytes,
                         env_lib.default_copy_bytes_estimate(settings) +
                         buffer_bytes_per_copy(spec, True))
        self.assertEqual(self.s.service.server_bytes, one.estimated_bytes)
        three = self.s.make("py_rendezvous", num_copies=3, dims=3).make
        self.assertEqual(three.estimated_bytes, 3 * one.estimated_bytes)
        self.assertEqual(self.s.service.server_bytes,
                         4 * one.estimated_bytes)
        self.assertStatus(self.s.close(one.handle), pb.OK)
        self.assertEqual(self.s.service.server_bytes,
                         3 * one.estimated_bytes)
        self.s.now = 1000
        self.assertEqual(self.s.service.expire_idle_handles(), 1)
        self.assertEqual(self.s.service.server_bytes, 0)
        self.assertEqual(self.s.service.client_usage(b""), (0, 0))

    def test_estimate_hook_is_checked_before_building(self):
        # Room for 4 copies of 256 KiB and their small reply buffers.
        s = Service(max_handle_bytes=(1 << 20) + 1000)
        self.assertStatus(s.make("test_budget", num_copies=4,
                                 estimate=1 << 18), pb.OK)
        self.assertEqual(BudgetGame.built, 4)
        response = s.make("test_budget", num_copies=5, estimate=1 << 18)
        self.assertStatus(response, pb.RESOURCE_EXHAUSTED, "test_budget",
                          "--max_handle_bytes", str((1 << 20) + 1000),
                          "5 copies x %d bytes" % (1 << 18))
        self.assertStatus(s.make("test_budget", estimate=-1),
                          pb.INVALID_ARGUMENT, "estimate must be >= 0")
        self.assertEqual(BudgetGame.built, 4)  # nothing more was built
        self.assertEqual(s.service.num_handles, 1)
        # A 1000x1000 payoff in each of 64 copies.
        big = np.zeros((1000, 1000))
        self.assertStatus(s.make("py_matrix_game", num_copies=64,
                                 payoffs_row=big, payoffs_column=big),
                          pb.RESOURCE_EXHAUSTED, "--max_handle_bytes")

    def test_reply_buffers_are_charged_once_the_spec_is_known(self):
        per_copy = env_lib.default_copy_bytes_estimate(
            {"estimate": 0, "obs": 100000, "limit": 0, "reward": 0.0,
             "fail": ""})
        s = Service(max_handle_bytes=per_copy + 100000)
        self.assertStatus(s.make("test_budget", obs=100000),
                          pb.RESOURCE_EXHAUSTED, "reply buffers",
                          "--max_handle_bytes")
        self.assertEqual((s.service.num_handles, s.service.server_bytes),
                         (0, 0))
        self.assertStatus(s.make("test_budget", obs=10000), pb.OK)

    def test_client_and_server_budgets(self):
        # Room for 3 (5) handles of 1 MiB and their small reply buffers.
        s = Service(max_client_bytes=(3 << 20) + 1000,
                    max_server_bytes=(5 << 20) + 1000)
        for _ in range(3):
            self.assertStatus(s.make("test_budget", client=b"greedy",
                                     estimate=1 << 20), pb.OK)
        handles, held = s.service.client_usage(b"greedy")
        self.assertEqual(handles, 3)
        self.assertStatus(s.make("test_budget", client=b"greedy",
                                 estimate=1 << 20),
                          pb.RESOURCE_EXHAUSTED, "--max_client_bytes",
                          "holds %d" % held)
        # Another client is served, up to the server's budget.
        for _ in range(2):
            self.assertStatus(s.make("test_budget", client=b"other",
                                     estimate=1 << 20), pb.OK)
        self.assertStatus(s.make("test_budget", client=b"third",
                                 estimate=1 << 20),
                          pb.RESOURCE_EXHAUSTED, "--max_server_bytes")
        self.assertEqual(s.service.client_usage(b"greedy"), (3, held))

    def test_per_client_handle_quota(self):
        s = Service(max_handles_per_client=2, max_handles=3)
        handles = [s.make("py_matrix_game", client=b"a").make.handle
                   for _ in range(2)]
        self.assertStatus(s.make("py_matrix_game", client=b"a"),
                          pb.RESOURCE_EXHAUSTED, "this client holds 2",
                          "--max_handles_per_client=2")
        self.assertStatus(s.make("py_matrix_game", client=b"b"), pb.OK)
        self.assertStatus(s.make("py_matrix_game", client=b"c"),
                          pb.RESOURCE_EXHAUSTED, "--max_handles=3")
        s.close(handles[0])
        self.assertStatus(s.make("py_matrix_game", client=b"a"), pb.OK)

    def test_out_of_memory_is_resource_exhausted(self):
        for where in ("init", "estimate"):
            with self.subTest(where=where):
                self.assertStatus(self.s.make("test_budget", fail=where),
                                  pb.RESOURCE_EXHAUSTED)
                self.assertEqual(self.s.service.server_bytes, 0)
        handle = self.s.make("test_budget", fail="step").make.handle
        self.s.reset(handle)
        self.assertStatus(self.s.step(handle, discrete=[[0]]),
                          pb.RESOURCE_EXHAUSTED)
        self.assertStillServing()


if __name__ == "__main__":
    unittest.main()
