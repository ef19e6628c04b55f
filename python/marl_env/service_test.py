"""The Python EnvService on real protocol bytes: every operation, the batch
semantics (auto-reset, truncation, seeding, copy subsets) and every bad
input, each answered with its status while the service keeps serving."""

import math
import unittest

import numpy as np

import env_protocol_pb2 as pb

import examples.matrix_game  # noqa: F401  (registers py_matrix_game)
import examples.rendezvous  # noqa: F401  (registers py_rendezvous)
from marl_env import convert
from marl_env import testing  # noqa: F401  (registers test_turns)
from marl_env.batch import seed_for_copy
from marl_env.service import EnvService, ServiceOptions


class Service:
    """An EnvService driven through serialized bytes, like a server."""

    def __init__(self, **options):
        self.now = 0.0
        self.service = EnvService(ServiceOptions(**options),
                                  clock=lambda: self.now)
        self.next_id = 1

    def call(self, request):
        request.request_id = self.next_id
        self.next_id += 1
        response = pb.Response()
        response.ParseFromString(
            self.service.handle_bytes(request.SerializeToString()))
        assert response.request_id == request.request_id
        return response

    def make(self, name, num_copies=1, seed=0, auto_reset=True, **settings):
        request = pb.Request()
        request.make.name = name
        request.make.num_copies = num_copies
        request.make.seed = seed
        request.make.auto_reset = pb.SAME_STEP if auto_reset else pb.NONE
        for key, value in settings.items():
            setting = request.make.settings.add()
            setting.name = key
            convert.value_to_proto(value, setting.value)
        return self.call(request)

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
                actions.discrete.extend(discrete[agent])
            if continuous is not None and continuous[agent] is not None:
                actions.continuous.extend(continuous[agent])
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
        request.handshake.protocol_version = 1
        response = self.s.call(request)
        self.assertStatus(response, pb.OK)
        self.assertEqual(response.handshake.protocol_version, 1)
        self.assertIn("auto_reset_same_step", response.handshake.capabilities)
        self.assertEqual(response.handshake.idle_handle_timeout_seconds, 600)
        request.handshake.protocol_version = 2
        self.assertStatus(self.s.call(request), pb.FAILED_PRECONDITION,
                          "speaks 1")

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
        timestep = response.step.timestep
        self.assertEqual(list(timestep.agents[0].reward), [5, 0, 1])
        self.assertEqual(list(timestep.info), [10, 0, 2])
        self.assertEqual(list(timestep.terminated), [True] * 3)
        self.assertEqual(list(timestep.truncated), [False] * 3)
        self.assertEqual(list(timestep.episode_step), [1, 1, 1])
        self.assertEqual(list(timestep.final_rows), [0, 1, 2])
        self.assertEqual(list(timestep.agents[1].final_observation), [0] * 3)

    def test_truncation_and_final_observations(self):
        handle = self.made("py_rendezvous", num_copies=2, seed=5,
                           episode_length=3, meet_radius=0.0)
        first = self.s.reset(handle).reset.timestep
        start = np.array(first.agents[0].observation).reshape(2, 2)
        for step in range(1, 4):
            timestep = self.s.step(
                handle, continuous=[[0.0, 0.0], [0.0, 0.0]]).step.timestep
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
        timestep = self.s.step(
            handle, continuous=[[0.0, 0.0], [0.0, 0.0]]).step.timestep
        self.assertEqual(list(timestep.episode_step), [1, 1])

    def test_termination_ends_before_the_limit(self):
        handle = self.made("py_rendezvous", seed=1, max_speed=2.0,
                           meet_radius=1e-3)
        observation = self.s.reset(handle).reset.timestep.agents[0].observation
        a, b = observation
        # Both jump to 0.5: they meet.
        timestep = self.s.step(
            handle, continuous=[[0.5 - a], [0.5 - b]]).step.timestep
        self.assertEqual(list(timestep.terminated), [True])
        self.assertEqual(list(timestep.truncated), [False])
        np.testing.assert_allclose(timestep.agents[0].final_observation,
                                   [0.5, 0.5], rtol=1e-6)

    def test_no_auto_reset_waits_for_reset(self):
        handle = self.made("py_matrix_game", num_copies=2, auto_reset=False)
        self.s.reset(handle)
        timestep = self.s.step(handle, discrete=[[0, 0], [0, 0]]).step.timestep
        self.assertEqual(len(timestep.final_rows), 0)
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
        timestep = self.s.step(handle, continuous=ok).step.timestep
        self.assertEqual(list(timestep.episode_step), [1, 1])

    def test_discrete_errors(self):
        handle = self.made("py_matrix_game")
        self.s.reset(handle)
        self.assertStatus(self.s.step(handle, discrete=[[3], [0]]),
                          pb.OUT_OF_RANGE, "outside [0, 3)")
        self.assertStatus(self.s.step(handle, discrete=[[-1], [0]]),
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
        observations = [list(self.s.reset(handle, seeds=seeds)
                             .reset.timestep.agents[0].observation)]
        for _ in range(steps):
            timestep = self.s.step(handle, continuous=[[0.05] * 3,
                                                       [-0.05] * 3])
            observations.append(list(timestep.step.timestep.agents[0]
                                     .observation))
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
        first = self.s.reset(handle, seeds=[1, 2]).reset.timestep
        self.assertEqual(list(first.current_agent), [0, 0])
        self.assertEqual(list(first.public_observation), [0, 0])
        self.assertEqual(len(first.state), 4)
        self.assertEqual(list(first.agents[0].action_mask),
                         [True, True, False] * 2)
        self.assertStatus(self.s.step(handle, discrete=[[2, 2], [0, 0]]),
                          pb.INVALID_ARGUMENT, "copy 0: action 2 is masked")
        # The waiting agent's action does not count, masked or not.
        timestep = self.s.step(handle, discrete=[[1, 1], [2, 2]]).step.timestep
        self.assertEqual(list(timestep.agents[0].reward), [1, 1])
        self.assertEqual(list(timestep.agents[1].reward), [0, 0])
        self.assertEqual(list(timestep.current_agent), [1, 1])
        self.assertEqual(list(timestep.public_observation), [1, 1])
        self.assertEqual(list(timestep.agents[1].action_mask), [True] * 6)
        timestep = self.s.step(handle, discrete=[[0, 0], [2, 2]]).step.timestep
        self.assertEqual(list(timestep.agents[1].reward), [2, 2])
        self.assertStatus(self.s.step(handle, discrete=[[2, 2], [0, 0]]),
                          pb.INVALID_ARGUMENT, "masked out")

    def test_turn_based_final_parts(self):
        handle = self.made("test_turns", num_copies=2, target=1)
        self.s.reset(handle)
        timestep = self.s.step(handle, discrete=[[1, 1], [0, 0]]).step.timestep
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

if __name__ == "__main__":
    unittest.main()
