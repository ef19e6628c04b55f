"""env_server_py as a process: REQ and DEALER clients, bad input over the
wire, flags, and a clean exit on SIGINT and SIGTERM.

    server_test.py PY_SERVER
"""

import signal
import subprocess
import sys
import unittest

import zmq

import env_protocol_pb2 as pb

from marl_env import testing

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
        self.assertEqual(names, ["py_matrix_game", "py_rendezvous"])

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
        request.handshake.protocol_version = 1
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


if __name__ == "__main__":
    PY_SERVER = sys.argv.pop(1)
    unittest.main()
