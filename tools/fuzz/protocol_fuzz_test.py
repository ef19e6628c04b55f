"""The fuzzer's own behaviour: its wire-format helpers and reply checks, and
whole runs against a small fake server in this process, healthy (the run
passes) and with one fault injected at a time (the run fails, naming the
seed and the request)."""

import contextlib
import io
import threading
import traceback
import unittest

import zmq

import env_protocol_pb2 as pb
import protocol_fuzz as fuzz

# ------------------------------------------------------------ fake server --

_SETTINGS = [("bias", pb.Value(double_value=0.5)),
             ("rounds", pb.Value(int_value=3)),
             ("payoffs", pb.Value(array_value=pb.DoubleArray())),
             ("label", pb.Value(string_value="a")),
             ("fair", pb.Value(bool_value=True))]
_MAX_COPIES = 16


class Crashed(Exception):
    """The fake server dies: it never answers again."""


class Refused(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class FakeServer:
    """A small, correct marl.env.v3 server of one two-player game ("coin"),
    on a ROUTER socket in a thread. fault (after `after` requests):
    "silent" stops answering, "wrong_id" answers with another request_id,
    "error_payload" puts a payload on refusals, "drift" changes rewards,
    "crash_on_wrapping_shape" stops answering after a make with an array
    whose size wraps 64 bits to its value count (as today's C++ server)."""

    def __init__(self, fault=None, after=0):
        self.fault = fault
        self.after = after
        self.count = 0
        self.received = []
        self.crashed = False
        self.errors = []
        self.handles = {}
        self.next_handle = 1
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind("tcp://127.0.0.1:*")
        self.endpoint = self.socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.socket.close(linger=0)
        self.context.term()

    def serve(self):
        while not self.stopping.is_set():
            if not self.socket.poll(20, zmq.POLLIN):
                continue
            frames = self.socket.recv_multipart()
            if len(frames) < 2:
                continue
            self.received.append(frames[-1])
            try:
                reply = self.answer(frames[-1])
            except Exception:  # pylint: disable=broad-except
                # A bug of the fake: the test fails on it (see serve()).
                self.errors.append(traceback.format_exc())
                reply = None
            if reply is not None:
                self.socket.send_multipart(frames[:-1] + [reply])

    def answer(self, data):
        self.count += 1
        faulty = self.fault is not None and self.count > self.after
        if self.crashed or (faulty and self.fault == "silent"):
            return None
        response = pb.Response()
        request = fuzz.strict_parse(pb.Request, data)
        if request is None:
            response.status.code = pb.INVALID_ARGUMENT
            response.status.message = "not a Request"
            return response.SerializeToString()
        response.request_id = request.request_id
        if faulty and self.fault == "wrong_id":
            response.request_id += 1
        operation = request.WhichOneof("payload")
        try:
            if operation is None:
                raise Refused(pb.UNIMPLEMENTED, "no operation")
            out = getattr(response, operation)
            out.SetInParent()  # an empty CloseResponse is a payload too
            getattr(self, operation)(getattr(request, operation), out, faulty)
        except Crashed:
            return None
        except Refused as refused:
            if operation is not None:
                response.ClearField(operation)
            response.status.code = refused.code
            response.status.message = refused.message
            if faulty and self.fault == "error_payload":
                response.close.SetInParent()
        return response.SerializeToString()

    def handshake(self, request, out, faulty):
        if request.protocol_version != fuzz.PROTOCOL_VERSION:
            raise Refused(pb.FAILED_PRECONDITION, "version 3 only")
        out.protocol_version = fuzz.PROTOCOL_VERSION
        out.server_name = "fake"
        out.max_copies_per_handle = _MAX_COPIES

    def list_environments(self, request, out, faulty):
        info = out.environments.add(name="coin", description="a fake game")
        for name, default in _SETTINGS:
            info.settings.add(name=name, description="a setting",
                              default_value=default)

    def make(self, request, out, faulty):
        if request.name != "coin":
            raise Refused(pb.NOT_FOUND, "no environment " + request.name)
        if not 0 <= request.num_copies <= _MAX_COPIES:
            raise Refused(pb.INVALID_ARGUMENT, "num_copies out of range")
        if request.auto_reset not in (pb.SAME_STEP, pb.NONE):
            raise Refused(pb.INVALID_ARGUMENT, "unknown auto_reset")
        defaults = dict(_SETTINGS)
        values = dict(defaults)
        for setting in request.settings:
            default = defaults.get(setting.name)
            kind = setting.value.WhichOneof("kind")
            if default is None or kind != default.WhichOneof("kind"):
                raise Refused(pb.INVALID_ARGUMENT, "bad setting")
            if kind == "array_value":
                array = setting.value.array_value
                if fuzz.known_crasher_shape(list(array.shape),
                                            len(array.values)) and \
                        self.fault == "crash_on_wrapping_shape":
                    self.crashed = True
                    raise Crashed()
                size = 1
                for dim in array.shape:
                    if dim < 0:
                        raise Refused(pb.INVALID_ARGUMENT, "negative dim")
                    size *= dim
                if array.shape and size != len(array.values):
                    raise Refused(pb.INVALID_ARGUMENT, "shape and values")
            values[setting.name] = setting.value
        handle = self.next_handle
        self.next_handle += 1
        copies = max(request.num_copies, 1)
        self.handles[handle] = {"copies": copies, "steps": {}}
        out.handle = handle
        spec = out.spec
        spec.name = "coin"
        spec.num_copies = copies
        spec.auto_reset = request.auto_reset
        for name, _ in _SETTINGS:
            spec.settings.add(name=name, value=values[name])
        for agent in ("a", "b"):
            agent_spec = spec.agents.add(id=agent)
            agent_spec.action_space.discrete.n = 2
            box = agent_spec.observation_space.box
            box.shape.append(1)
            box.low.append(0.0)
            box.high.append(1e6)

    def _rows(self, request):
        state = self.handles.get(request.handle)
        if state is None:
            raise Refused(pb.NOT_FOUND, "unknown handle")
        rows = list(request.copies) or list(range(state["copies"]))
        if any(not 0 <= c < state["copies"] for c in rows):
            raise Refused(pb.OUT_OF_RANGE, "no such copy")
        if len(set(rows)) != len(rows):
            raise Refused(pb.INVALID_ARGUMENT, "repeated copy")
        return state, rows

    def _timestep(self, out, state, rows, rewards, named):
        pack = fuzz.pack_array
        if named:  # version 3: every copy, in order, goes without saying
            out.copies = pack(fuzz.INT32, rows)
        for agent in range(2):
            step = out.agents.add()
            step.observation = pack(fuzz.FLOAT32,
                                    [state["steps"][c] for c in rows])
            step.reward = pack(fuzz.FLOAT32, rewards[agent])
        out.terminated = pack(fuzz.BOOL8, [False] * len(rows))
        out.truncated = pack(fuzz.BOOL8, [False] * len(rows))
        out.episode_step = pack(fuzz.INT32, [state["steps"][c] for c in rows])

    def reset(self, request, out, faulty):
        state, rows = self._rows(request)
        if request.seeds and len(request.seeds) != len(rows):
            raise Refused(pb.INVALID_ARGUMENT, "one seed per copy")
        for copy in rows:
            state["steps"][copy] = 0
        self._timestep(out.timestep, state, rows, [[0.0] * len(rows)] * 2,
                       len(request.copies) > 0)

    def step(self, request, out, faulty):
        state, rows = self._rows(request)
        if any(c not in state["steps"] for c in rows):
            raise Refused(pb.FAILED_PRECONDITION, "reset first")
        if len(request.actions) != 2:
            raise Refused(pb.INVALID_ARGUMENT, "two agents")
        played = []
        for actions in request.actions:
            try:
                discrete = fuzz.unpack_array(fuzz.INT64, actions.discrete)
            except ValueError:
                raise Refused(pb.INVALID_ARGUMENT, "whole int64s") from None
            if actions.continuous or len(discrete) != len(rows):
                raise Refused(pb.INVALID_ARGUMENT, "one discrete per copy")
            if any(a not in (0, 1) for a in discrete):
                raise Refused(pb.OUT_OF_RANGE, "actions are 0 or 1")
            played.append(discrete)
        for copy in rows:
            state["steps"][copy] += 1
        drift = 1.0 if faulty and self.fault == "drift" else 0.0
        rewards = [[float(a) + state["steps"][c] + drift
                    for a, c in zip(discrete, rows)]
                   for discrete in played]
        self._timestep(out.timestep, state, rows, rewards,
                       len(request.copies) > 0)

    def close(self, request, out, faulty):
        if self.handles.pop(request.handle, None) is None:
            raise Refused(pb.NOT_FOUND, "unknown handle")


def run_fuzzer(*argv):
    """(exit status, printed output) of one in-process run."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = fuzz.main(list(argv))
    return status, output.getvalue()


class FakeServerCase(unittest.TestCase):

    def serve(self, fault=None, after=0):
        server = FakeServer(fault, after)
        self.addCleanup(lambda: self.assertEqual(server.errors, []))
        self.addCleanup(server.stop)
        return server

    def fuzz(self, server, *argv, timeout_ms=10000):
        """A run against `server`; a short timeout_ms where no reply is
        the point, a generous one elsewhere (a loaded machine)."""
        return run_fuzzer("--endpoint=" + server.endpoint,
                          "--timeout_ms=%d" % timeout_ms, *argv)


# ------------------------------------------------------------------ runs --


class RunTest(FakeServerCase):

    def test_healthy_server_passes_with_every_kind_of_reply(self):
        server = self.serve()
        status, output = self.fuzz(server, "--seed=3", "--requests=1500")
        self.assertEqual(status, 0, output)
        summary = output.strip().splitlines()[-1]
        self.assertRegex(summary, r"^protocol_fuzz: seed=3 requests=15\d\d "
                         r"replies: .* failures=0$")
        for code in ("OK", "INVALID_ARGUMENT", "NOT_FOUND", "OUT_OF_RANGE",
                     "FAILED_PRECONDITION", "UNIMPLEMENTED"):
            self.assertRegex(summary, " %s=[1-9]" % code)
        self.assertNotIn("FAIL seed", output)
        # It cleaned up: every handle it made is closed.
        self.assertEqual(server.handles, {})

    def test_several_clients_pass_and_clean_up(self):
        server = self.serve()
        status, output = self.fuzz(server, "--seed=4", "--requests=1500",
                                   "--clients=4")
        self.assertEqual(status, 0, output)
        self.assertRegex(output, r"unanswered\(vanished clients\)=[1-9]")
        # Only the vanishing client's makes may outlive the run.
        self.assertLessEqual(len(server.handles), 64)

    def test_same_seed_same_requests(self):
        first, second, other = self.serve(), self.serve(), self.serve()
        for server, seed in ((first, 5), (second, 5), (other, 6)):
            status, output = self.fuzz(server, "--seed=%d" % seed,
                                       "--requests=400")
            self.assertEqual(status, 0, output)
        self.assertEqual(first.received, second.received)
        self.assertNotEqual(first.received, other.received)

    def test_server_that_stops_answering_fails_with_a_reproducer(self):
        server = self.serve("silent", after=250)
        status, output = self.fuzz(server, "--seed=7", "--requests=1000",
                                   timeout_ms=500)
        self.assertEqual(status, 1, output)
        self.assertIn("FAIL seed=7 client=fuzz-0: no reply within 500 ms",
                      output)
        self.assertIn("request (hex frames): ", output)
        last = server.received[-1].hex()
        self.assertIn("reproduce: protocol_fuzz --endpoint=%s --replay=" %
                      server.endpoint, output)
        self.assertIn(last, output.split("--replay=")[1])
        self.assertRegex(output.strip().splitlines()[-1], "failures=1$")

    def test_wrong_request_id_fails(self):
        server = self.serve("wrong_id", after=100)
        status, output = self.fuzz(server, "--seed=8", "--requests=1000")
        self.assertEqual(status, 1, output)
        self.assertRegex(output, r"reply carries request_id \d+, the request "
                         r"has \d+")

    def test_payload_on_a_refusal_fails(self):
        server = self.serve("error_payload", after=100)
        status, output = self.fuzz(server, "--seed=9", "--requests=1000")
        self.assertEqual(status, 1, output)
        self.assertRegex(output, r"[A-Z_]+ reply carries a close payload "
                         r"\(only OK may\)")

    def test_results_that_drift_fail_the_reference_check(self):
        server = self.serve("drift", after=300)
        status, output = self.fuzz(server, "--seed=10", "--requests=1000",
                                   "--check_every=50")
        self.assertEqual(status, 1, output)
        self.assertIn("reference coin: step 1 differs from the start of the "
                      "run", output)

    def test_known_crashers_only_with_the_flag(self):
        server = self.serve("crash_on_wrapping_shape")
        status, output = self.fuzz(server, "--seed=11", "--requests=1500")
        self.assertEqual(status, 0, output)
        self.assertFalse(server.crashed)
        server = self.serve("crash_on_wrapping_shape")
        status, output = self.fuzz(server, "--seed=11", "--requests=1500",
                                   "--known_crashers", timeout_ms=500)
        self.assertEqual(status, 1, output)
        self.assertTrue(server.crashed)
        self.assertIn("no reply within 500 ms", output)

    def test_replay(self):
        request = pb.Request(request_id=4)
        request.close.handle = 99
        good = request.SerializeToString().hex()
        status, output = self.fuzz(self.serve(), "--replay=%s,0c,ff" % good)
        self.assertEqual(status, 0, output)
        self.assertRegex(output, "NOT_FOUND=1 .*INVALID_ARGUMENT=2|"
                         "INVALID_ARGUMENT=2 .*NOT_FOUND=1")
        status, output = self.fuzz(self.serve("wrong_id"),
                                   "--replay=%s" % good)
        self.assertEqual(status, 1, output)
        self.assertIn("FAIL replay: reply carries request_id 5, the request "
                      "has 4", output)

    def test_usage_errors(self):
        for argv in (["--requests=1"], ["--endpoint=x", "--requests=0"],
                     ["--endpoint=x", "--clients=0"],
                     ["--endpoint=x", "--seconds=-1"]):
            with contextlib.redirect_stderr(io.StringIO()):
                with self.assertRaises(SystemExit) as caught:
                    fuzz.main(argv)
            self.assertEqual(caught.exception.code, 2, argv)

    def test_unknown_reference_env_is_a_usage_error(self):
        status, output = self.fuzz(self.serve(), "--reference_env=nope")
        self.assertEqual(status, 2, output)
        self.assertIn("--reference_env=nope is not among the server's "
                      "environments: coin", output)


# --------------------------------------------------------------- helpers --


class WireTest(unittest.TestCase):

    def test_varints(self):
        for value in (0, 1, 127, 128, 300, (1 << 63) - 1, (1 << 64) - 1):
            encoded = fuzz.encode_varint(value)
            self.assertEqual(fuzz.read_varint(encoded, 0),
                             (value, len(encoded)))
        self.assertEqual(len(fuzz.encode_varint(-1)), 10)
        with self.assertRaises(ValueError):
            fuzz.read_varint(b"\xff" * 11 + b"\x01", 0)
        with self.assertRaises(ValueError):
            fuzz.read_varint(b"\x80", 0)

    def test_strict_parse(self):
        request = pb.Request(request_id=5)
        request.handshake.protocol_version = 3
        data = request.SerializeToString()
        self.assertEqual(fuzz.strict_parse(pb.Request, data), request)
        self.assertIsNotNone(fuzz.strict_parse(pb.Request, b""))
        # A balanced unknown group is skipped.
        self.assertIsNotNone(fuzz.strict_parse(pb.Request, data + b"\x4b\x4c"))
        for bad in (b"\x0c",                   # stray end-group
                    data + b"\x0c" + data,    # one in the middle
                    b"\x08\x3a\x00",          # tag 0
                    b"\x08\x05\x80\x80\x80\x80\x10",  # tag 0 in 32 bits
                    b"\x8a\x80\x80\x80\x80\x00\x00",  # a six-byte tag
                    b"\x22\x05\x0a",          # length past the end
                    b"\x08" + b"\xff" * 10 + b"\x01",  # varint overflow
                    b"\x22\x03\x0a\x01\xff"):  # invalid UTF-8 in a string
            self.assertIsNone(fuzz.strict_parse(pb.Request, bad), bad.hex())
        loose = fuzz.strict_parse(pb.Request, b"\x08\x05\x0c\x12\x00",
                                  lenient=True)
        self.assertEqual(loose.request_id, 5)

    def test_mutations_make_both_parseable_and_broken_requests(self):
        rng = fuzz.random.Random(1)
        request = pb.Request(request_id=3)
        request.step.handle = 7
        request.step.copies.extend([0, 1])
        request.step.actions.add().discrete = fuzz.pack_array(fuzz.INT64,
                                                              [1, 0])
        data = request.SerializeToString()
        parsed = broken = 0
        for _ in range(500):
            mutated = fuzz.mutate(rng, data, data)
            if fuzz.strict_parse(pb.Request, mutated) is None:
                broken += 1
            else:
                parsed += 1
        self.assertGreater(parsed, 50)
        self.assertGreater(broken, 50)

    def test_known_crasher_shapes(self):
        for shape, count in fuzz.WRAPPING_SHAPES:
            self.assertTrue(fuzz.known_crasher_shape(shape, count), shape)
        for shape, count in fuzz.EDGE_SHAPES:
            self.assertFalse(fuzz.known_crasher_shape(shape, count), shape)

    def test_exclusions(self):
        make = pb.Request(request_id=1)
        make.make.name = "matrix_game"
        setting = make.make.settings.add(name="payoffs_row")
        setting.value.array_value.shape.extend([1 << 32, 1 << 32])
        data = make.SerializeToString()
        self.assertIn("known crasher", fuzz.request_excluded(
            data, fuzz.Options(), 65536))
        self.assertIsNone(fuzz.request_excluded(
            data, fuzz.Options(known_crashers=True), 65536))
        make.make.ClearField("settings")
        make.make.num_copies = 65536
        data = make.SerializeToString()
        self.assertIsNotNone(fuzz.request_excluded(data, fuzz.Options(),
                                                   65536))
        self.assertIsNone(fuzz.request_excluded(
            data, fuzz.Options(extremes=True), 65536))
        make.make.num_copies = 65537  # refused at once: cheap
        self.assertIsNone(fuzz.request_excluded(make.SerializeToString(),
                                                fuzz.Options(), 65536))


class CheckReplyTest(unittest.TestCase):

    def check(self, request, response, envelope=(), reply_envelope=None):
        sent = list(envelope) + [request if isinstance(request, bytes)
                                 else request.SerializeToString()]
        reply_envelope = (list(envelope) if reply_envelope is None
                          else reply_envelope)
        reply = reply_envelope + [response if isinstance(response, bytes)
                                  else response.SerializeToString()]
        problem, _ = fuzz.check_reply(sent, reply, fuzz.Options())
        return problem

    def test_good_replies(self):
        request = pb.Request(request_id=9)
        request.close.handle = 3
        ok = pb.Response(request_id=9)
        ok.close.SetInParent()
        self.assertIsNone(self.check(request, ok))
        self.assertIsNone(self.check(request, ok, envelope=[b"", b"x"]))
        refused = pb.Response(request_id=9)
        refused.status.code = pb.NOT_FOUND
        refused.status.message = "no such handle"
        self.assertIsNone(self.check(request, refused))
        garbage = pb.Response()
        garbage.status.code = pb.INVALID_ARGUMENT
        garbage.status.message = "not a Request"
        self.assertIsNone(self.check(b"\xff\xff", garbage))

    def test_bad_replies(self):
        request = pb.Request(request_id=9)
        request.close.handle = 3
        refused = pb.Response(request_id=9)
        refused.status.code = pb.NOT_FOUND
        refused.status.message = "no such handle"
        cases = []
        response = pb.Response(request_id=8)
        response.close.SetInParent()
        cases.append((request, response, "request_id 8"))
        response = pb.Response(request_id=9)
        cases.append((request, response, "OK with payload None"))
        response = pb.Response(request_id=9)
        response.handshake.SetInParent()
        cases.append((request, response, "OK with payload handshake"))
        response = pb.Response(request_id=9)
        response.CopyFrom(refused)
        response.close.SetInParent()
        cases.append((request, response, "carries a close payload"))
        response = pb.Response(request_id=9)
        response.status.code = pb.NOT_FOUND
        cases.append((request, response, "without a status message"))
        response = pb.Response(request_id=9)
        response.status.code = 99
        response.status.message = "?"
        cases.append((request, response, "unknown status code 99"))
        cases.append((request, b"\xff\xff", "is not a Response"))
        cases.append((b"\x0c", refused, "do not parse as a Request"))
        empty = pb.Request(request_id=4)
        response = pb.Response(request_id=4)
        response.status.code = pb.INVALID_ARGUMENT
        response.status.message = "what"
        cases.append((empty, response, "expected UNIMPLEMENTED"))
        for sent, reply, expected in cases:
            self.assertIn(expected, self.check(sent, reply) or "(none)")
        ok = pb.Response(request_id=9)
        ok.close.SetInParent()
        self.assertIn("does not echo", self.check(
            request, ok, envelope=[b"a"], reply_envelope=[b"b"]))

    def test_timestep_rows_and_rewards(self):
        request = pb.Request(request_id=2)
        request.step.handle = 1
        response = pb.Response(request_id=2)
        request.step.copies.extend([0, 1])
        timestep = response.step.timestep
        pack = fuzz.pack_array
        timestep.copies = pack(fuzz.INT32, [0, 1])
        timestep.terminated = pack(fuzz.BOOL8, [False, False])
        timestep.truncated = pack(fuzz.BOOL8, [False, False])
        timestep.episode_step = pack(fuzz.INT32, [1, 1])
        timestep.agents.add().reward = pack(fuzz.FLOAT32, [1.0, 1e39])
        self.assertIsNone(self.check(request, response))
        sent = [request.SerializeToString()]
        reply = [response.SerializeToString()]
        problem, _ = fuzz.check_reply(
            sent, reply, fuzz.Options(check_reward_range=True))
        self.assertIn("reward inf", problem)
        # A reward at the bound arrives as float32(1e30), a little over.
        timestep.agents[0].reward = pack(fuzz.FLOAT32, [1e30, -1e30])
        problem, _ = fuzz.check_reply(
            [request.SerializeToString()], [response.SerializeToString()],
            fuzz.Options(check_reward_range=True))
        self.assertIsNone(problem)
        timestep.agents[0].reward = pack(fuzz.FLOAT32, [1e30, 1.01e30])
        problem, _ = fuzz.check_reply(
            [request.SerializeToString()], [response.SerializeToString()],
            fuzz.Options(check_reward_range=True))
        self.assertIn("reward 1.01", problem)
        timestep.episode_step = pack(fuzz.INT32, [1])
        self.assertIn("1 episode_step for 2 rows",
                      self.check(request, response))
        # Arrays whose bytes are not whole values, or bools other than 0/1.
        timestep.episode_step = pack(fuzz.INT32, [1, 1])[:-1]
        self.assertIn("7 bytes are not whole 4-byte values",
                      self.check(request, response))
        timestep.episode_step = pack(fuzz.INT32, [1, 1])
        timestep.truncated = b"\x00\x02"
        self.assertIn("truncated holds a bool byte other than 0 or 1",
                      self.check(request, response))
        # Version 3: copies are listed only when the request named them.
        timestep.truncated = b"\x00\x00"
        del request.step.copies[:]
        self.assertIn("2 copies listed for a request that named none",
                      self.check(request, response))
        timestep.copies = b""
        self.assertIsNone(self.check(request, response))

    def test_array_bytes(self):
        self.assertEqual(fuzz.pack_array(fuzz.INT64, [1, -1]),
                         b"\x01" + b"\x00" * 7 + b"\xff" * 8)
        self.assertEqual(fuzz.pack_array(fuzz.FLOAT32, [1.0]),
                         b"\x00\x00\x80\x3f")
        self.assertEqual(fuzz.unpack_array(fuzz.FLOAT32,
                                           fuzz.pack_array(fuzz.FLOAT32,
                                                           [1e39, -1e39])),
                         [float("inf"), float("-inf")])
        with self.assertRaises(ValueError):
            fuzz.unpack_array(fuzz.INT64, b"\x00" * 9)


if __name__ == "__main__":
    unittest.main()
