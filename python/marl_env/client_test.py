"""The Python client against real servers over loopback TCP: the C++
//server:env_server and the Python //python:env_server_py, each started as a
process on a free port.

    client_test.py CPP_SERVER PY_SERVER
"""

import os
import signal
import sys
import threading
import time
import unittest

import numpy as np
import zmq

import env_protocol_pb2 as pb

import examples.matrix_game  # noqa: F401  (py_matrix_game, in-process)
import examples.rendezvous  # noqa: F401  (py_rendezvous, in-process)
import marl_env
from marl_env import convert
from marl_env import testing
from marl_env.batch import seed_for_copy
from marl_env.client import Client, RequestTimeout, ServerError
from marl_env.service import EnvService
from marl_env.status import Code

CPP_SERVER = None
PY_SERVER = None


class ServerCase(unittest.TestCase):
    """Starts one server for the class."""

    server = None
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.process, cls.endpoint = testing.start_server(
            [cls.server] + list(cls.server_args))

    @classmethod
    def tearDownClass(cls):
        code, output = testing.stop_server(cls.process)
        assert code == 0, "server exited with %s:\n%s" % (code, output)
        assert "env_server: stopped" in output, output


class CommonClientTests:
    """What every server must do for the client (mixin)."""

    def test_handshake_and_list(self):
        with Client(self.endpoint, timeout=10) as client:
            self.assertEqual(client.server_info.protocol_version, 3)
            environments = client.list_environments()
            self.assertIn(self.discrete_env, environments)
            with self.assertRaises(ServerError) as caught:
                client.handshake(protocol_version=99)
            self.assertEqual(caught.exception.code,
                             Code.FAILED_PRECONDITION)

    def test_parallel_episode(self):
        with marl_env.make(self.discrete_env, endpoint=self.endpoint,
                           **self.discrete_settings) as env:
            self.assertEqual(env.agents, [])
            observations, infos = env.reset(seed=3)
            self.assertEqual(env.agents, env.possible_agents)
            self.assertEqual(sorted(observations), sorted(env.agents))
            for agent in env.agents:
                self.assertTrue(env.observation_space(agent).contains(
                    observations[agent]))
                self.assertEqual(infos[agent]["episode_step"], 0)
            steps = 0
            while env.agents:
                actions = {a: env.action_space(a).sample() for a in env.agents}
                observations, rewards, terminations, truncations, infos = (
                    env.step(actions))
                steps += 1
                self.assertEqual(set(rewards), set(env.possible_agents))
                self.assertTrue(all(isinstance(r, float)
                                    for r in rewards.values()))
                self.assertEqual(infos[env.possible_agents[0]]["episode_step"],
                                 steps)
            self.assertTrue(all(terminations.values()) or
                            all(truncations.values()))
            # The copy waits for a reset: stepping now is refused.
            with self.assertRaises(ServerError) as caught:
                env.step(actions)
            self.assertEqual(caught.exception.code, Code.FAILED_PRECONDITION)
            env.reset()
            self.assertEqual(env.agents, env.possible_agents)

    def test_server_errors_carry_code_and_message(self):
        with self.assertRaises(ServerError) as caught:
            marl_env.make("no_such_env", endpoint=self.endpoint)
        self.assertEqual(caught.exception.code, Code.NOT_FOUND)
        self.assertIn("no_such_env", caught.exception.message)
        with self.assertRaises(ServerError) as caught:
            marl_env.make(self.discrete_env, endpoint=self.endpoint,
                          no_such_setting=1)
        self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)
        with marl_env.make(self.discrete_env, endpoint=self.endpoint,
                           **self.discrete_settings) as env:
            env.reset()
            agent = env.possible_agents[0]
            actions = {a: 0 for a in env.possible_agents}
            actions[agent] = env.action_space(agent).n  # one past the end
            with self.assertRaises(ServerError) as caught:
                env.step(actions)
            self.assertEqual(caught.exception.code, Code.OUT_OF_RANGE)
            with self.assertRaises(ValueError):
                env.step({agent: 0})  # the other agent has no action
            with self.assertRaises(ValueError):
                env.step(dict(actions, stranger=0))

    def test_batch_auto_reset_and_final_observations(self):
        num_envs = 4
        with marl_env.make_batch(self.multi_step_env, num_envs=num_envs,
                                 endpoint=self.endpoint, seed=11,
                                 **self.multi_step_settings) as envs:
            observations, infos = envs.reset()
            agents = envs.possible_agents
            for agent in agents:
                space = envs.observation_space(agent)
                self.assertEqual(observations[agent].shape,
                                 (num_envs,) + space.shape)
            limit = envs.spec.episode_limit
            self.assertGreater(limit, 1)
            ended_at = []
            for step in range(1, limit + 1):
                actions = envs.sample_actions()
                observations, rewards, terminations, truncations, infos = (
                    envs.step(actions))
                for agent in agents:
                    self.assertEqual(rewards[agent].shape, (num_envs,))
                    self.assertEqual(rewards[agent].dtype, np.float32)
                ended = terminations[agents[0]] | truncations[agents[0]]
                np.testing.assert_array_equal(ended,
                                              infos["_final_observation"])
                if ended.any():
                    ended_at.append(step)
                    final = infos["final_observation"][agents[0]]
                    self.assertEqual(final.shape,
                                     observations[agents[0]].shape)
                    np.testing.assert_array_equal(
                        final[~ended], observations[agents[0]][~ended])
            # The limit truncates every copy still running.
            self.assertEqual(ended_at[-1], limit)
            self.assertTrue(truncations[agents[0]].any() or
                            terminations[agents[0]].all())
            self.assertTrue(np.all(infos["episode_step"] <= limit))

    def test_message_channel(self):
        # Every environment accepts message_size (PROTOCOL.md, "Message
        # channel"), typed by its declaration like any setting (here as
        # text); the spec says K and where each partner's one-hot is.
        with marl_env.make_batch(self.discrete_env, num_envs=2,
                                 endpoint=self.endpoint, seed=3,
                                 message_size="3",
                                 **self.discrete_settings) as envs:
            spec = envs.spec
            self.assertEqual(spec.message_size, 3)
            self.assertEqual(spec.settings["message_size"], 3)
            first, second = envs.possible_agents
            observations, _ = envs.reset()
            for agent in (first, second):
                self.assertEqual(envs.action_space(agent).nvec[-1], 3)
                self.assertEqual(len(envs.observation_space(agent).shape), 1)
                np.testing.assert_array_equal(observations[agent][:, -3:], 0)
            actions = envs.sample_actions()
            actions[first][:, -1] = [2, 0]
            actions[second][:, -1] = [1, 2]
            _, _, _, _, infos = envs.step(actions)
            # The last observation of each copy's episode (the matrix
            # games end every step) hears the partner.
            final = infos["final_observation"]
            for agent, partner in ((first, second), (second, first)):
                start = spec.message_offset(agent, partner)
                np.testing.assert_array_equal(
                    final[agent][:, start:start + 3],
                    np.eye(3)[actions[partner][:, -1]])
        for name, size in ((self.box_env, 2), (self.discrete_env, 1025)):
            with self.assertRaises(ServerError) as caught:
                marl_env.make(name, endpoint=self.endpoint,
                              message_size=size)
            self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)
            self.assertIn("environment '%s'" % name,
                          caught.exception.message)
        with marl_env.make(self.discrete_env, endpoint=self.endpoint,
                           **self.discrete_settings) as env:
            self.assertEqual(env.spec.message_size, 0)
            self.assertEqual(env.spec.settings["message_size"], 0)

    def test_timeout_is_an_exception_not_a_hang(self):
        # A port nobody serves: ZeroMQ connects lazily, the call times out
        # (a hang would hit the test's own timeout instead).
        with self.assertRaises(RequestTimeout) as caught:
            Client("tcp://127.0.0.1:9", timeout=0.3)
        self.assertIn("tcp://127.0.0.1:9", str(caught.exception))
        self.assertIsInstance(caught.exception, TimeoutError)

    def test_garbage_gets_invalid_argument_and_server_keeps_serving(self):
        with Client(self.endpoint, timeout=10) as client:
            response = pb.Response()
            response.ParseFromString(client.call_raw(b"\xff\x00garbage"))
            self.assertEqual(response.status.code, pb.INVALID_ARGUMENT)
            self.assertEqual(response.request_id, 0)
            self.assertIn(self.discrete_env, client.list_environments())


class CppServerTest(CommonClientTests, ServerCase):
    discrete_env = "matrix_game"
    discrete_settings = {"game": "climbing"}
    multi_step_env = "iterated_matrix_game"
    multi_step_settings = {"episode_length": 5}
    box_env = "max_of_two_quadratics"

    @classmethod
    def setUpClass(cls):
        cls.server = CPP_SERVER
        super().setUpClass()

    def test_settings_are_coerced_to_declared_types(self):
        # Text as on the agents' --env_settings, and an int for a double.
        with marl_env.make("matrix_game", endpoint=self.endpoint,
                           payoffs_row="[[4,0],[0,2]]",
                           payoffs_column=[[4, 0], [0, 2]],
                           reward_scale=2) as env:
            self.assertEqual(env.spec.settings["reward_scale"], 2.0)
            env.reset()
            _, rewards, terminations, _, _ = env.step({"player_0": 1,
                                                       "player_1": 1})
            self.assertEqual(rewards, {"player_0": 4.0, "player_1": 4.0})
            self.assertTrue(terminations["player_0"])

    def test_box_actions_and_infos(self):
        with marl_env.make("beauty_contest", endpoint=self.endpoint,
                           num_agents=3, p=0.5) as env:
            self.assertEqual(env.action_space("player_0").shape, (1,))
            env.reset()
            _, rewards, _, _, infos = env.step(
                {"player_0": [10.0], "player_1": [20.0],
                 "player_2": np.array([30.0], np.float32)})
            self.assertAlmostEqual(infos["player_1"]["target"], 10.0, 5)
            self.assertAlmostEqual(rewards["player_0"], 0.0, 5)
            self.assertAlmostEqual(rewards["player_2"], -20.0, 5)


class PythonServerTest(CommonClientTests, ServerCase):
    discrete_env = "py_matrix_game"
    discrete_settings = {}
    multi_step_env = "py_rendezvous"
    multi_step_settings = {"episode_length": 6, "dims": 2}
    box_env = "py_rendezvous"

    server_args = ("--module=python/marl_env/testing.py",)

    @classmethod
    def setUpClass(cls):
        cls.server = PY_SERVER
        super().setUpClass()

    def test_rendezvous_dicts_and_seeds(self):
        with marl_env.make("py_rendezvous", endpoint=self.endpoint,
                           seed=5) as env:
            first, _ = env.reset(seed=42)
            again, _ = env.reset(seed=42)
            np.testing.assert_array_equal(first["a"], again["a"])
            self.assertEqual(first["a"].dtype, np.float32)
            # Each observes itself first, then the other.
            np.testing.assert_array_equal(first["a"], first["b"][::-1])
            _, rewards, _, _, infos = env.step({"a": [0.0], "b": [0.0]})
            distance = abs(first["a"][0] - first["a"][1])
            self.assertAlmostEqual(infos["a"]["distance"], distance, 5)
            self.assertAlmostEqual(rewards["b"], -distance, 5)

    def test_int_seed_replays_a_fresh_env(self):
        with marl_env.make("py_rendezvous", endpoint=self.endpoint,
                           seed=9) as fresh, \
                marl_env.make("py_rendezvous", endpoint=self.endpoint,
                              seed=1) as other:
            want, _ = fresh.reset()
            got, _ = other.reset(seed=9)
            np.testing.assert_array_equal(want["a"], got["a"])

    def test_batch_int_seed_replays_a_fresh_handle(self):
        with marl_env.make_batch("py_rendezvous", num_envs=3,
                                 endpoint=self.endpoint, seed=9) as fresh, \
                marl_env.make_batch("py_rendezvous", num_envs=3,
                                    endpoint=self.endpoint, seed=1) as other:
            want, _ = fresh.reset()
            got, _ = other.reset(seed=9)
            np.testing.assert_array_equal(want["a"], got["a"])
            listed, _ = other.reset(seed=[seed_for_copy(9, c)
                                          for c in range(3)])
            np.testing.assert_array_equal(want["a"], listed["a"])

    def test_turn_based_game(self):
        # test_turns comes from --module=<path of marl_env/testing.py>.
        with marl_env.make("test_turns", endpoint=self.endpoint,
                           target=10) as env:
            _, infos = env.reset(seed=1)
            self.assertEqual(infos["first"]["current_agent"], "first")
            np.testing.assert_array_equal(infos["first"]["action_mask"],
                                          [True, True, False])
            self.assertEqual(infos["second"]["public_observation"], [0])
            self.assertEqual(env.state().shape, (2,))
            # Only the acting agent needs an action.
            _, rewards, _, _, infos = env.step({"first": 1})
            self.assertEqual(rewards, {"first": 1.0, "second": 0.0})
            self.assertEqual(infos["second"]["current_agent"], "second")
            _, rewards, _, _, infos = env.step({"second": 2})
            self.assertEqual(rewards["second"], 2.0)
            np.testing.assert_array_equal(infos["first"]["action_mask"],
                                          [True, True, False])
            with self.assertRaises(ServerError) as caught:
                env.step({"first": 2})
            self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)


class InProcessClient:
    """Stands in for Client: the Python EnvService answers in this process
    (real protocol bytes, no socket), and `corrupt` may change a reply's
    TimeStep before the client reads it."""

    endpoint = "in-process"
    timeout = 1.0

    def __init__(self):
        self.service = EnvService()
        self.corrupt = None
        self.garble = False  # answer bytes that are no Response
        self.next_id = 1

    def call(self, request):
        request.request_id = self.next_id
        self.next_id += 1
        response = pb.Response.FromString(
            self.service.handle_bytes(request.SerializeToString()))
        if response.status.code != pb.OK:
            raise ServerError(response.status.code, response.status.message)
        return response

    def make(self, name, settings, num_copies, seed, auto_reset):
        request = pb.Request()
        request.make.name = name
        request.make.num_copies = num_copies
        request.make.seed = seed
        request.make.auto_reset = pb.SAME_STEP if auto_reset else pb.NONE
        for key, value in (settings or {}).items():
            setting = request.make.settings.add()
            setting.name = key
            convert.value_to_proto(value, setting.value)
        return self.call(request).make

    def next_request_id(self):
        self.next_id += 1
        return self.next_id - 1

    def exchange(self, data, request_id, operation, decode):
        reply = self.service.handle_bytes(data)
        if self.garble:
            reply = b"\xff\xff\xff"
        if self.corrupt is not None:
            response = pb.Response.FromString(reply)
            payload = response.WhichOneof("payload")
            if payload in ("reset", "step"):
                self.corrupt(getattr(response, payload).timestep)
                reply = response.SerializeToString()
        return decode(reply, request_id)

    def close_handle(self, handle, timeout=None):
        request = pb.Request()
        request.close.handle = handle
        self.call(request)


class RepliesTest(unittest.TestCase):
    """BatchEnv / ParallelEnv read replies by the spec: arrays of their
    own, and a reply that does not match the spec is a ServerError
    (INTERNAL) naming the field, never an array of the wrong shape."""

    def setUp(self):
        self.client = InProcessClient()

    def test_arrays_are_writable_and_shaped_by_the_spec(self):
        with marl_env.make_batch("test_turns", num_envs=3, target=2,
                                 client=self.client) as envs:
            observations, infos = envs.reset(seed=1)
            for _ in range(3):
                current = infos["current_agent"]
                masks = infos["action_mask"]
                actions = {agent: np.where(masks[agent][:, 1], 1, 0)
                           for agent in envs.possible_agents}
                observations, rewards, terminations, _, infos = envs.step(
                    actions)
                self.assertTrue(np.all(current >= 0))
            self.assertEqual(observations["first"].shape, (3, 1))
            self.assertEqual(infos["action_mask"]["second"].shape, (3, 3))
            self.assertEqual(infos["state"].shape, (3, 2))
            self.assertEqual(infos["final_observation"]["first"].shape,
                             (3, 1))
            for array in (observations["first"], rewards["second"],
                          terminations["first"], infos["total"],
                          infos["action_mask"]["first"], infos["state"],
                          infos["episode_step"], infos["current_agent"]):
                self.assertTrue(array.flags.writeable)
                array[...] = 0  # the caller's own
        with marl_env.make("test_turns", client=InProcessClient()) as env:
            observations, infos = env.reset(seed=2)
            self.assertTrue(observations["first"].flags.writeable)
            self.assertTrue(infos["first"]["action_mask"].flags.writeable)
            _, rewards, _, _, _ = env.step({"first": 1})
            self.assertEqual(rewards, {"first": 1.0, "second": 0.0})

    def test_a_spec_breaking_the_message_channel_is_an_error(self):
        # message_size without the channel's spaces: refused as the C++
        # FromProto refuses it, and the handle closed.
        client = self.client
        make = client.make

        def claims_a_channel(*args):
            made = make(*args)
            made.spec.message_size = 2
            return made

        client.make = claims_a_channel
        with self.assertRaises(ServerError) as caught:
            marl_env.make_batch("py_matrix_game", num_envs=2, client=client)
        self.assertEqual(caught.exception.code, Code.INTERNAL)
        self.assertIn("malformed spec from in-process: message_size 2 but "
                      "agent 'player_0' acts in Discrete(3)",
                      caught.exception.message)
        self.assertEqual(client.service.num_handles, 0)

    def test_malformed_replies_are_errors(self):
        def drop_last_value(field, size):
            return lambda t: setattr(t, field, getattr(t, field)[:-size])

        def agent(field, change):
            return lambda t: setattr(t.agents[1], field,
                                     change(getattr(t.agents[1], field)))

        cases = [
            (lambda t: setattr(t, "copies", b"\x00\x00\x00\x00" * 2),
             "TimeStep.copies has 8 bytes for a request that named no "
             "copies"),
            (drop_last_value("terminated", 1), "TimeStep.terminated has 1 "
             "values"),
            (lambda t: setattr(t, "truncated", b"\x00\x07"),
             "TimeStep.truncated holds a bool byte other than 0 or 1"),
            (agent("observation", lambda v: v + v),
             r"TimeStep.agents\[1\].observation has 4 values, the spec "
             "says 2"),
            (agent("action_mask", lambda v: v[:-3]),
             r"TimeStep.agents\[1\].action_mask has 3 values"),
            (agent("reward", lambda v: v[:-2]),
             r"TimeStep.agents\[1\].reward has 6 bytes"),
            (lambda t: t.agents.add(), "TimeStep has 3 agents, the spec 2"),
            (lambda t: setattr(t, "state", b""), "TimeStep.state has 0 "
             "values, the spec says 4"),
            (lambda t: setattr(t, "info", t.info + t.info),
             "TimeStep.info has 4 values"),
            # A row that ends without its final observations.
            (lambda t: setattr(t, "truncated", b"\x01\x00"),
             "TimeStep.final_public_observation has 0 values, the spec "
             "says 1"),
            (lambda t: (setattr(t, "truncated", b"\x01\x00"),
                        setattr(t, "final_public_observation", b"\x00" * 4),
                        setattr(t, "final_state", b"\x00" * 8)),
             r"TimeStep.agents\[0\].final_observation has 0 values, the "
             "spec says 1"),
            (lambda t: setattr(t, "current_agent", b"\x02\x00\x00\x00" * 2),
             r"current_agent \[2, 2\] are not agent indices"),
        ]
        for corrupt, pattern in cases:
            with self.subTest(pattern=pattern):
                client = InProcessClient()
                with marl_env.make_batch("test_turns", num_envs=2,
                                         client=client) as envs:
                    envs.reset(seed=1)
                    client.corrupt = corrupt
                    with self.assertRaisesRegex(ServerError,
                                                pattern) as caught:
                        envs.step({"first": [1, 1], "second": [0, 0]})
                    self.assertEqual(caught.exception.code, Code.INTERNAL)
                    self.assertIn("malformed reply from in-process",
                                  str(caught.exception))
                    client.corrupt = None
                    envs.reset()  # the handle still works
        # An integer space's observation that is no integer, and bytes
        # that are no Response.
        for corrupt, pattern in (
                (lambda t: setattr(t.agents[0], "observation",
                                   np.float32([np.nan]).tobytes()),
                 r"agents\[0\]\.observation holds nan: not an integer"),
                (lambda t: setattr(t.agents[1], "final_observation",
                                   np.float32([2.0 ** 70]).tobytes()),
                 r"agents\[1\]\.final_observation holds 1180591620717411"),
        ):
            with self.subTest(pattern=pattern):
                client = InProcessClient()
                with marl_env.make_batch("py_matrix_game", num_envs=1,
                                         client=client) as envs:
                    envs.reset()
                    client.corrupt = corrupt
                    with self.assertRaisesRegex(ServerError, pattern):
                        envs.step({"player_0": [0], "player_1": [0]})
        client = InProcessClient()
        with marl_env.make_batch("py_matrix_game", client=client) as envs:
            client.garble = True
            with self.assertRaisesRegex(
                    ServerError, "malformed reply from in-process: reply of "
                    "3 bytes is not a marl.env.v3.Response"):
                envs.reset()
        # A public observation where the spec has none.
        client = InProcessClient()
        with marl_env.make("py_rendezvous", client=client) as env:
            client.corrupt = lambda t: setattr(t, "public_observation",
                                               b"\x00" * 4)
            with self.assertRaisesRegex(
                    ServerError, "public_observation has 1 values, the "
                    "spec says 0"):
                env.reset()


class ScriptedServer:
    """A ROUTER on a free loopback port answering each request with what
    `answer(request)` returns (a list of Responses, possibly empty), from
    a thread: the client's side of the exchange, against a real socket."""

    def __init__(self, answer):
        self._socket = zmq.Context.instance().socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        port = self._socket.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = "tcp://127.0.0.1:%d" % port
        self._answer = answer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            if not self._socket.poll(50):
                continue
            identity, data = self._socket.recv_multipart()
            for response in self._answer(pb.Request.FromString(data)):
                self._socket.send_multipart(
                    [identity, response.SerializeToString()])

    def close(self):
        self._stop.set()
        self._thread.join()
        self._socket.close(linger=0)


def _list_reply(request_id):
    response = pb.Response()
    response.request_id = request_id
    response.status.code = pb.OK
    response.list_environments.environments.add().name = "env_%d" % (
        request_id)
    return response


class ExchangeTest(unittest.TestCase):
    """Client.exchange (the codec's, on the client's socket): which reply it
    takes, how long it waits, and that waiting blocks nothing else."""

    def test_answers_to_earlier_requests_are_skipped(self):
        # Each request is answered first as if it were an earlier one.
        server = ScriptedServer(lambda r: [_list_reply(r.request_id - 1),
                                           _list_reply(r.request_id)])
        try:
            client = Client(server.endpoint, timeout=10, handshake=False)
            for _ in range(3):
                # pylint: disable=protected-access
                request_id = client._next_id
                self.assertEqual(list(client.list_environments()),
                                 ["env_%d" % request_id])
            client.close()
        finally:
            server.close()

    def test_timeout_counts_the_whole_wait(self):
        # Only stale answers, one every 0.1 s: the call still ends at its
        # timeout, and the replaced socket serves the next call.
        def stale(request):
            if request.WhichOneof("payload") == "handshake":
                return []
            return [_list_reply(request.request_id - 1)]
        server = ScriptedServer(stale)
        try:
            client = Client(server.endpoint, timeout=0.5, handshake=False)
            start = time.monotonic()
            with self.assertRaises(RequestTimeout):
                client.list_environments()
            self.assertLess(time.monotonic() - start, 3.0)
            with self.assertRaises(RequestTimeout):
                client.list_environments()
            client.close()
        finally:
            server.close()

    def test_other_threads_run_and_signals_arrive_while_waiting(self):
        server = ScriptedServer(lambda r: [])  # never answers
        counted = [0]
        stop = threading.Event()

        def count():
            while not stop.is_set():
                counted[0] += 1
        counter = threading.Thread(target=count)
        try:
            client = Client(server.endpoint, timeout=0.5, handshake=False)
            counter.start()
            # The counter's pace while this thread sleeps (GIL released).
            before = counted[0]
            time.sleep(0.5)
            asleep = counted[0] - before
            before = counted[0]
            with self.assertRaises(RequestTimeout):
                client.list_environments()
            # The wait released the GIL too: the counter kept its pace
            # (holding it, the counter would run a switch interval, 5 ms).
            self.assertGreater(counted[0] - before, asleep / 4)
            stop.set()
            counter.join()
            # Ctrl-C during a long wait interrupts it at once.
            client.timeout = 60
            timer = threading.Timer(
                0.2, os.kill, (os.getpid(), signal.SIGINT))
            timer.start()
            start = time.monotonic()
            with self.assertRaises(KeyboardInterrupt):
                client.list_environments()
            self.assertLess(time.monotonic() - start, 10.0)
            timer.join()
            client.close()
        finally:
            stop.set()
            server.close()


def main():
    global CPP_SERVER, PY_SERVER
    CPP_SERVER, PY_SERVER = sys.argv[1], sys.argv[2]
    del sys.argv[1:3]
    unittest.main()


if __name__ == "__main__":
    main()
