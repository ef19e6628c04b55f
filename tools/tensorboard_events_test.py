"""Tests for tensorboard_events.py: the TFRecord reader on made files, and
a real agent's event files read back against its metrics.jsonl, before and
after a resume."""

import contextlib
import io
import json
import math
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

import crc32c

try:
    from tools import tensorboard_events  # under Bazel (workspace-relative)
except ImportError:
    import tensorboard_events  # python3 tools/tensorboard_events_test.py

pb = tensorboard_events.pb


def record(data):
    """One TFRecord, framed here from the definition."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", tensorboard_events.masked_crc32c(
        header)) + data + struct.pack(
            "<I", tensorboard_events.masked_crc32c(data)))


def agent_binary(name):
    """An agent binary from the test's runfiles (or bazel-bin when run
    directly)."""
    if "TEST_SRCDIR" in os.environ:
        root = os.path.join(os.environ["TEST_SRCDIR"],
                            os.environ.get("TEST_WORKSPACE", "marl"))
    else:
        root = os.path.join(os.path.dirname(__file__), "..", "bazel-bin")
    return os.path.join(root, "agents", name, name)


def float32(value):
    """A double as TensorBoard stores it (simple_value is a float)."""
    if value is None:
        return math.nan
    return struct.unpack("<f", struct.pack("<f", value))[0]


class RecordsTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self._tmp.name, "events.out.tfevents.1.h")

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, contents):
        with open(self.path, "wb") as f:
            f.write(contents)

    def test_masked_crc(self):
        self.assertEqual(crc32c.crc32c(b"123456789"), 0xE3069283)
        self.assertEqual(tensorboard_events.masked_crc32c(b"123456789"),
                         0xC78AB0E5)
        # The layout runtime/tensorboard_events_test.cc expects of "abc".
        self.assertEqual(record(b"abc").hex(),
                         "0300000000000000b099490e6162636e57f121")

    def test_records_and_a_torn_end(self):
        first, second = record(b"one"), record(b"second record")
        self.write(first + second)
        self.assertEqual(tensorboard_events.read_records(self.path),
                         ([b"one", b"second record"], False))
        for cut in (1, 11, 12, 20, len(second) - 1):
            self.write(first + second[:cut])
            self.assertEqual(tensorboard_events.read_records(self.path),
                             ([b"one"], True), cut)

    def test_a_corrupt_byte_is_an_error(self):
        good = record(b"payload")
        for i in range(len(good)):
            bad = bytearray(good)
            bad[i] ^= 0x01
            self.write(bytes(bad))
            with self.assertRaises(tensorboard_events.CorruptRecordError,
                                   msg=i):
                tensorboard_events.read_records(self.path)

    def test_purge_on_session_start(self):
        def event(step, **fields):
            e = pb.Event(wall_time=1.0, step=step, **fields)
            return record(e.SerializeToString())

        def scalar(step, value):
            return event(step, summary=pb.Summary(value=[
                pb.Summary.Value(tag="train/x", simple_value=value)]))

        directory = self._tmp.name
        old = [event(0, file_version="brain.Event:2")]
        old += [scalar(s, s) for s in range(1, 6)]
        with open(os.path.join(directory, "events.out.tfevents.1.h"),
                  "wb") as f:
            f.write(b"".join(old))
        new = [event(0, file_version="brain.Event:2"),
               event(4, session_log=pb.SessionLog(
                   status=pb.SessionLog.START))]
        new += [scalar(s, 10 * s) for s in range(4, 7)]
        with open(os.path.join(directory, "events.out.tfevents.2.h"),
                  "wb") as f:
            f.write(b"".join(new))
        points = tensorboard_events.scalars(directory)["train/x"]
        self.assertEqual([(p[0], p[2]) for p in points],
                         [(1, 1), (2, 2), (3, 3), (4, 40), (5, 50),
                          (6, 60)])


class AgentRunTest(unittest.TestCase):
    """A real agent (jal on a matrix game, a few hundred steps) writes the
    event files; every scalar read back equals its metrics.jsonl record."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.runs = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def run_agent(self, *flags):
        log = os.path.join(self.runs, "agent.log")
        with open(log, "w") as out:
            code = subprocess.call(
                [agent_binary("jal"), "--progress_seconds=1000"] +
                list(flags), stdout=out, stderr=subprocess.STDOUT)
        if code != 0:
            with open(log) as f:
                self.fail("the agent failed (%d):\n%s" % (code, f.read()))

    def metrics(self, run):
        """{agent: {tag: [(step, value as float32)]}} from metrics.jsonl,
        named as the event files name them."""
        fixed = ("time", "step", "episode", "agent", "phase")
        by_agent = {}
        with open(os.path.join(run, "metrics.jsonl")) as f:
            for line in f:
                row = json.loads(line)
                tags = by_agent.setdefault(row["agent"] or "run", {})
                for name, value in row.items():
                    if name not in fixed:
                        tags.setdefault("%s/%s" % (row["phase"], name),
                                        []).append(
                                            (row["step"], float32(value)))
        return by_agent

    def assert_events_match_metrics(self, run):
        expected = self.metrics(run)
        dirs = tensorboard_events.agent_dirs(run)
        self.assertEqual(sorted(dirs), sorted(expected))
        for agent, path in dirs.items():
            for name in tensorboard_events.event_files(path):
                self.assertFalse(tensorboard_events.read_records(name)[1],
                                 name)
                first = tensorboard_events.read_events(name)[0]
                self.assertEqual(first.file_version, "brain.Event:2")
            got = {tag: [(step, value) for step, _, value in points]
                   for tag, points in tensorboard_events.scalars(
                       path).items()}
            # NaN != NaN: compare their text.
            self.assertEqual(repr(got), repr(expected[agent]), agent)
        return expected

    def test_events_match_metrics_before_and_after_a_resume(self):
        run = os.path.join(self.runs, "jal")
        self.run_agent("--env=matrix_game", "--env_settings=game=climbing",
                       "--steps=400", "--num_copies=4", "--log_every=40",
                       "--eval_every=80", "--eval_episodes=4",
                       "--checkpoint_every=200", "--seed=3",
                       "--runs_root=" + self.runs, "--run_name=jal")
        before = self.assert_events_match_metrics(run)
        agents = [a for a in before if a != "run"]
        self.assertEqual(len(agents), 2, sorted(before))
        for agent in agents:
            evals = before[agent]["eval/eval_return"]
            self.assertEqual([step for step, _ in evals],
                             [80, 160, 240, 320, 400])

        # Resume from step_200: metrics.jsonl is cut there and goes on to
        # 480; the new event files' START makes TensorBoard drop the same.
        os.remove(os.path.join(run, "checkpoints", "final"))
        for name in os.listdir(os.path.join(run, "checkpoints")):
            if name != "step_200":
                os.remove(os.path.join(run, "checkpoints", name))
        self.run_agent("--resume=" + run, "--steps=480")
        after = self.assert_events_match_metrics(run)
        for agent in agents:
            self.assertEqual(
                len(tensorboard_events.event_files(
                    os.path.join(run, "tensorboard", agent))), 2)
            steps = [s for s, _ in after[agent]["eval/eval_return"]]
            self.assertEqual(steps[:2], [80, 160])
            self.assertEqual(steps[-1], 480)
            self.assertEqual(steps, sorted(steps))

        # The tool's table lists them.
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(tensorboard_events.main([run]), 0)
        self.assertIn("| jal | %s | eval/eval_return |" % agents[0],
                      out.getvalue())
        shutil.rmtree(os.path.join(run, "tensorboard"))
        with contextlib.redirect_stdout(io.StringIO()):
            with contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(tensorboard_events.main([run]), 1)


if __name__ == "__main__":
    unittest.main()
