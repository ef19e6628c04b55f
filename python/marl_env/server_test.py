"""env_server_py as a process: REQ and DEALER clients, bad input over the
wire, flags, limits, CURVE, remote binds, and a clean exit on SIGINT and
SIGTERM; and EnvServer in this process: slow work of one client never holds
up another client, and each handle's requests stay in order.

    server_test.py PY_SERVER
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

import numpy as np
import zmq
import zmq.auth

import env_protocol_pb2 as pb

import examples.matrix_game  # noqa: F401  (for the in-process server)
import marl_env
from marl_env import Discrete, Env, EnvSpec, Setting, register
from marl_env import convert
from marl_env import testing
from marl_env.client import Client, RequestTimeout, ServerError
from marl_env import server as server_lib
from marl_env.server import EnvServer, is_loopback_endpoint
from marl_env.service import ServiceOptions
from marl_env.status import Code

PY_SERVER = None


class ServerProcessTest(unittest.TestCase):

    def setUp(self):
        self.process, self.endpoint = testing.start_server([PY_SERVER])
        self.context = zmq.Context.instance()

    def tearDown(self):
        testing.stop_server(self.process)

    def socket(self, kind):
        socket = self.context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.RCVTIMEO, 5000)
        socket.connect(self.endpoint)
        self.addCleanup(socket.close)
        return socket

    def test_req_socket_gets_its_envelope_back(self):
        req = self.socket(zmq.REQ)
        request = pb.Request(request_id=7)
        request.list_environments.SetInParent()
        req.send(request.SerializeToString())
        response = pb.Response.FromString(req.recv())
        self.assertEqual(response.request_id, 7)
        names = [e.name for e in response.list_environments.environments]
        self.assertEqual(names, ["py_matrix_game", "py_matrix_game_batched",
                                 "py_rendezvous", "py_rendezvous_batched"])

    def test_bad_input_over_the_wire_then_keeps_serving(self):
        dealer = self.socket(zmq.DEALER)
        dealer.send(b"\x0a\xff\xff")  # a truncated field
        response = pb.Response.FromString(dealer.recv())
        self.assertEqual(response.status.code, pb.INVALID_ARGUMENT)
        dealer.send(pb.Request(request_id=3).SerializeToString())
        response = pb.Response.FromString(dealer.recv())
        self.assertEqual((response.request_id, response.status.code),
                         (3, pb.UNIMPLEMENTED))
        # A multi-frame message: the last frame is the request.
        request = pb.Request(request_id=4)
        request.handshake.protocol_version = 3
        dealer.send_multipart([b"", request.SerializeToString()])
        frames = dealer.recv_multipart()
        self.assertEqual(frames[0], b"")
        self.assertEqual(pb.Response.FromString(frames[-1]).request_id, 4)

    def test_clean_exit_on_sigint(self):
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=10)
        self.assertEqual(self.process.returncode, 0, output)
        self.assertIn("env_server: stopped", output)

    def test_clean_exit_on_sigterm(self):
        code, output = testing.stop_server(self.process)
        self.assertEqual(code, 0, output)
        self.assertIn("env_server: stopped", output)


class FlagsTest(unittest.TestCase):

    def run_server(self, *flags):
        return subprocess.run([PY_SERVER] + list(flags), capture_output=True,
                              text=True, timeout=30)

    def test_list(self):
        result = self.run_server("--list")
        self.assertEqual(result.returncode, 0)
        self.assertIn("py_rendezvous: two agents", result.stdout)
        self.assertIn("    episode_length (int, default 25): ", result.stdout)
        self.assertIn("payoffs_row (array, default [[5,0,0],[0,3,0],[0,0,1]])",
                      result.stdout)
        result = self.run_server("--list", "--no_examples")
        self.assertEqual(result.stdout, "")

    def test_module_from_a_file(self):
        result = self.run_server("--list", "--no_examples",
                                 "--module=python/marl_env/testing.py")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith("test_turns: "))

    def test_bad_module_and_bad_endpoint_fail_clearly(self):
        result = self.run_server("--module=no_such_module_here")
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot import no_such_module_here", result.stderr)
        result = self.run_server("--endpoint=bogus://x")
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot bind bogus://x", result.stderr)


def request_bytes(request_id, operation, **fields):
    request = pb.Request(request_id=request_id)
    body = getattr(request, operation)
    body.SetInParent()
    for name, value in fields.items():
        if name == "discrete":
            convert.actions_to_proto([(actions, ()) for actions in value],
                                     body)
        else:
            setattr(body, name, value)
    return request.SerializeToString()


def first_rewards(timestep):
    """The first agent's rewards in a TimeStep."""
    return convert.timestep_arrays(timestep).reward[0].tolist()


def receive(socket):
    return pb.Response.FromString(socket.recv())


@register("test_gated", "its make or steps wait for the test to open a "
          "gate (tests only)")
class GatedGame(Env):
    settings = [Setting("gate_make", False, "make waits for the gate"),
                Setting("gate_step", False, "every step waits for the gate")]
    gate = threading.Event()     # opened by the test
    entered = threading.Event()  # a gated call is waiting

    def __init__(self, settings):
        super().__init__(settings)
        if settings["gate_make"]:
            self._wait()
        self.spec = EnvSpec(["a"], Discrete(1), Discrete(2))

    def _wait(self):
        type(self).entered.set()
        # Bounded, so a broken server fails the test instead of hanging it.
        if not type(self).gate.wait(60):
            raise RuntimeError("the test never opened the gate")

    def reset(self, seed=None):
        super().reset(seed)
        return {"a": 0}

    def step(self, actions):
        if self.config["gate_step"]:
            self._wait()
        return {"a": 0}, 1.0, False, None


class ConcurrencyTest(unittest.TestCase):
    """EnvServer in this process, so the test's environment can hold a
    make or a step until the test opens its gate: whatever another client
    gets answered meanwhile was answered while the slow work was running."""

    def setUp(self):
        GatedGame.gate = threading.Event()
        GatedGame.entered = threading.Event()
        self.server = EnvServer(ServiceOptions(), workers=2)
        self.endpoint = self.server.bind("tcp://127.0.0.1:0")
        self.thread = threading.Thread(target=self.server.run)
        self.thread.start()
        self.addCleanup(self.shut_down)
        self.slow = zmq.Context.instance().socket(zmq.DEALER)
        self.slow.setsockopt(zmq.LINGER, 0)
        self.slow.setsockopt(zmq.RCVTIMEO, 30000)
        self.slow.connect(self.endpoint)
        self.addCleanup(self.slow.close)

    def shut_down(self):
        GatedGame.gate.set()
        self.server.stop()
        self.thread.join()
        self.server.close()

    def other_client_is_served(self):
        """Another client's handshake, make, reset and small steps."""
        with Client(self.endpoint, timeout=20) as client:
            self.assertEqual(client.server_info.protocol_version, 3)
            handle = client.make("py_matrix_game").handle
            client.reset(handle)
            for _ in range(5):
                timestep = client.step(handle, [([0], ()), ([0], ())])
                self.assertEqual(first_rewards(timestep), [5.0])
            client.close_handle(handle)

    def make_gated(self, request_id, **settings):
        request = pb.Request(request_id=request_id)
        request.make.name = "test_gated"
        for name, value in settings.items():
            setting = request.make.settings.add()
            setting.name = name
            setting.value.bool_value = value
        self.slow.send(request.SerializeToString())

    def test_slow_make_does_not_hold_up_another_client(self):
        self.make_gated(1, gate_make=True)
        self.assertTrue(GatedGame.entered.wait(30))  # the make is running
        self.other_client_is_served()
        self.assertFalse(self.slow.poll(0))  # still held at the gate
        GatedGame.gate.set()
        response = receive(self.slow)
        self.assertEqual((response.request_id, response.status.code),
                         (1, pb.OK), response.status.message)

    def test_slow_step_does_not_hold_up_another_client(self):
        self.make_gated(1, gate_step=True)
        handle = receive(self.slow).make.handle
        self.slow.send(request_bytes(2, "reset", handle=handle))
        self.assertEqual(receive(self.slow).status.code, pb.OK)
        self.slow.send(request_bytes(3, "step", handle=handle,
                                     discrete=[[1]]))
        self.assertTrue(GatedGame.entered.wait(30))
        self.other_client_is_served()
        GatedGame.gate.set()
        response = receive(self.slow)
        self.assertEqual((response.request_id, response.status.code),
                         (3, pb.OK), response.status.message)
        self.assertEqual(first_rewards(response.step.timestep), [1])

    def test_requests_of_one_handle_stay_in_order(self):
        self.make_gated(1, gate_step=True)
        handle = receive(self.slow).make.handle
        self.slow.send(request_bytes(2, "reset", handle=handle))
        receive(self.slow)
        # Sent together: a gated step, a step, a close, a step.
        self.slow.send(request_bytes(3, "step", handle=handle,
                                     discrete=[[1]]))
        self.slow.send(request_bytes(4, "step", handle=handle,
                                     discrete=[[1]]))
        self.slow.send(request_bytes(5, "close", handle=handle))
        self.slow.send(request_bytes(6, "step", handle=handle,
                                     discrete=[[1]]))
        self.assertTrue(GatedGame.entered.wait(30))
        self.other_client_is_served()
        GatedGame.gate.set()
        replies = [receive(self.slow) for _ in range(4)]
        self.assertEqual([(r.request_id, r.status.code) for r in replies],
                         [(3, pb.OK), (4, pb.OK), (5, pb.OK),
                          (6, pb.NOT_FOUND)])
        self.assertEqual(convert.timestep_arrays(
            replies[1].step.timestep).episode_step.tolist(), [2])

    def test_a_flood_of_waiting_requests_is_refused(self):
        self.make_gated(1, gate_step=True)
        handle = receive(self.slow).make.handle
        self.slow.send(request_bytes(2, "reset", handle=handle))
        receive(self.slow)
        limit = server_lib.MAX_WAITING_PER_CLIENT
        for request_id in range(10, 10 + limit + 6):
            self.slow.send(request_bytes(request_id, "step", handle=handle,
                                         discrete=[[1]]))
        # The last 6 are refused at once, while the first waits at the gate.
        refused = [receive(self.slow) for _ in range(6)]
        self.assertEqual([(r.request_id, r.status.code) for r in refused],
                         [(i, pb.RESOURCE_EXHAUSTED)
                          for i in range(10 + limit, 10 + limit + 6)])
        self.assertIn("wait for the server's workers",
                      refused[0].status.message)
        self.other_client_is_served()
        GatedGame.gate.set()
        replies = [receive(self.slow) for _ in range(limit)]
        self.assertEqual([(r.request_id, r.status.code) for r in replies],
                         [(i, pb.OK) for i in range(10, 10 + limit)])


class LimitsOverTheWireTest(unittest.TestCase):

    def start(self, *flags):
        process, endpoint = testing.start_server([PY_SERVER] + list(flags))
        self.addCleanup(testing.stop_server, process)
        return endpoint

    def test_frames_over_max_message_bytes_are_dropped_unread(self):
        endpoint = self.start("--max_message_bytes=1000")
        dealer = zmq.Context.instance().socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.connect(endpoint)
        self.addCleanup(dealer.close)
        big = pb.Request(request_id=1)
        big.make.name = "x" * 2000
        dealer.send(big.SerializeToString())
        self.assertEqual(dealer.poll(1000), 0)  # no answer: dropped
        with Client(endpoint, timeout=10) as client:
            self.assertEqual(client.server_info.max_message_bytes, 1000)
            self.assertEqual(client.server_info.max_handles_per_client, 1024)
            client.make("py_matrix_game")

    def test_one_client_cannot_lock_out_another(self):
        endpoint = self.start("--max_handles_per_client=2")
        with Client(endpoint, timeout=10) as greedy, \
                Client(endpoint, timeout=10) as other:
            for _ in range(2):
                greedy.make("py_matrix_game")
            with self.assertRaises(ServerError) as caught:
                greedy.make("py_matrix_game")
            self.assertEqual(caught.exception.code, Code.RESOURCE_EXHAUSTED)
            self.assertIn("--max_handles_per_client=2",
                          caught.exception.message)
            made = other.make("py_matrix_game")
            self.assertGreater(made.estimated_bytes, 16 << 10)

    def test_hostile_settings_over_the_wire(self):
        endpoint = self.start()
        with Client(endpoint, timeout=10) as client:
            request = pb.Request()
            request.make.name = "py_matrix_game"
            setting = request.make.settings.add()
            setting.name = "payoffs_row"
            setting.value.array_value.shape.extend([1 << 32, 1 << 32])
            with self.assertRaises(ServerError) as caught:
                client.call(request)
            self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)
            with self.assertRaises(ServerError) as caught:
                client.make("py_matrix_game",
                            {"reward_scale": float("nan")})
            self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)
            reply = pb.Response.FromString(client.call_raw(b"\x08\x05\x0c"))
            self.assertEqual(reply.status.code, pb.INVALID_ARGUMENT)
            self.assertEqual(client.handshake().protocol_version, 3)


class RemoteBindTest(unittest.TestCase):

    def test_loopback_endpoints(self):
        for endpoint in ("tcp://127.0.0.1:5", "tcp://127.3.2.1:0",
                         "tcp://localhost:5", "tcp://[::1]:5",
                         "ipc:///tmp/x", "inproc://x"):
            self.assertTrue(is_loopback_endpoint(endpoint), endpoint)
        for endpoint in ("tcp://0.0.0.0:5", "tcp://*:5", "tcp://eth0:5",
                         "tcp://10.1.2.3:5", "tcp://[::]:5",
                         "tcp://example.com:5", "bogus"):
            self.assertFalse(is_loopback_endpoint(endpoint), endpoint)

    def run_server(self, *flags):
        return subprocess.run([PY_SERVER] + list(flags), capture_output=True,
                              text=True, timeout=30)

    def test_remote_bind_needs_the_flag(self):
        result = self.run_server("--endpoint=tcp://0.0.0.0:0")
        self.assertEqual(result.returncode, 1)
        self.assertIn("reachable from other machines", result.stderr)
        self.assertIn("--allow_remote_clients", result.stderr)
        self.assertNotIn("listening", result.stdout)

    def test_remote_bind_with_the_flag_warns_without_curve(self):
        process = subprocess.Popen(
            [PY_SERVER, "--endpoint=tcp://0.0.0.0:0",
             "--allow_remote_clients"], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "listening on" in line:
                break
        code, _ = testing.stop_server(process)
        output = "".join(lines)
        self.assertIn("WARNING", output)
        self.assertIn("without authentication", output)
        self.assertIn("listening on tcp://0.0.0.0:", output)
        self.assertEqual(code, 0)

    def test_bad_limit_values_are_usage_errors(self):
        for flag in ("--max_handles=-1", "--max_handle_bytes=1e9",
                     "--max_server_bytes=%d" % (1 << 63),
                     "--request_threads=0"):
            result = self.run_server(flag)
            self.assertEqual(result.returncode, 2, flag)
            self.assertIn(flag.split("=")[0], result.stderr)


class CurveTest(unittest.TestCase):
    """Key files in ZeroMQ's certificate format; the server admits only
    keys it accepts, and keeps serving them while others get nothing."""

    @classmethod
    def setUpClass(cls):
        cls.keys = tempfile.mkdtemp()
        cls.authorized = os.path.join(cls.keys, "authorized")
        os.mkdir(cls.authorized)
        for name in ("server", "alice", "mallory"):
            zmq.auth.create_certificates(cls.keys, name)
        shutil.copy(cls.key("alice"), cls.authorized)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.keys)

    @classmethod
    def key(cls, name, secret=False):
        return os.path.join(cls.keys, name + (".key_secret" if secret
                                              else ".key"))

    def start(self, *flags):
        process, endpoint = testing.start_server(
            [PY_SERVER, "--curve_secret_key_file=" +
             self.key("server", secret=True)] + list(flags))
        self.addCleanup(testing.stop_server, process)
        return endpoint

    def client(self, endpoint, name=None, timeout=10.0, server_key=True):
        return Client(endpoint, timeout=timeout,
                      curve_server_key_file=(self.key("server")
                                             if server_key else None),
                      curve_client_key_file=(self.key(name, secret=True)
                                             if name else None))

    def assertNoService(self, endpoint, **kwargs):
        with self.assertRaises(RequestTimeout):
            self.client(endpoint, timeout=0.5, **kwargs)

    def test_only_authorized_clients_are_served(self):
        endpoint = self.start("--curve_authorized_keys=" + self.authorized)
        alice = self.client(endpoint, "alice")
        self.addCleanup(alice.close)
        self.assertIn("curve", alice.server_info.capabilities)
        handle = alice.make("py_matrix_game").handle
        alice.reset(handle)
        self.assertNoService(endpoint, server_key=False)  # no CURVE at all
        self.assertNoService(endpoint, name="mallory")
        self.assertNoService(endpoint)  # a fresh key pair
        # Alice is still served, through make() and make_batch() too.
        timestep = alice.step(handle, [([0], ()), ([0], ())])
        self.assertEqual(first_rewards(timestep), [5.0])
        with marl_env.make_batch(
                "py_matrix_game", num_envs=2, endpoint=endpoint,
                curve_server_key_file=self.key("server"),
                curve_client_key_file=self.key("alice", secret=True)) as env:
            env.reset(seed=1)
            _, rewards, _, _, _ = env.step({"player_0": np.array([1, 1]),
                                            "player_1": np.array([1, 1])})
            self.assertEqual(list(rewards["player_0"]), [3.0, 3.0])
        with marl_env.make(
                "py_rendezvous", endpoint=endpoint,
                curve_server_key_file=self.key("server"),
                curve_client_key_file=self.key("alice", secret=True)) as env:
            env.reset(seed=1)

    def test_any_key_without_authorized_keys_and_quotas_per_key(self):
        endpoint = self.start("--max_handles_per_client=1")
        self.assertNoService(endpoint, server_key=False)
        # Two connections with Alice's key are one client for the quota.
        with self.client(endpoint, "alice") as first, \
                self.client(endpoint, "alice") as second, \
                self.client(endpoint) as fresh:
            first.make("py_matrix_game")
            with self.assertRaises(ServerError) as caught:
                second.make("py_matrix_game")
            self.assertEqual(caught.exception.code, Code.RESOURCE_EXHAUSTED)
            fresh.make("py_matrix_game")

    def test_client_key_options_are_checked(self):
        with self.assertRaisesRegex(ValueError, "curve_server_key_file"):
            Client("tcp://127.0.0.1:1",
                   curve_client_key_file=self.key("alice", secret=True))
        with self.assertRaisesRegex(ValueError, "no secret key"):
            Client("tcp://127.0.0.1:1",
                   curve_server_key_file=self.key("server"),
                   curve_client_key_file=self.key("alice"))


if __name__ == "__main__":
    PY_SERVER = sys.argv.pop(1)
    unittest.main()
