"""Environment steps per second of a Python client stepping the 3x3 climbing
matrix game (`matrix_game`, game=climbing: every step terminates and
auto-resets) over loopback TCP, side by side in one run:

  cpp      the C++ //server:env_server, driven by the project's Python client
           (marl_env.make_batch(...).step(actions) returning numpy arrays)
  py       the Python //python:env_server_py (--python_env), same client
  pickle   a plain pyzmq + pickle + numpy server of the same game
           (pickle_server.py): what a user would write instead
  bare_py  a bare ZeroMQ exchange of exactly cpp's request and reply bytes: a
           Python DEALER sends the serialized step request, a ROUTER answers
           with the prepared serialized step response; echo side in Python
           (echo_server.py)
  bare_cc  the same with the echo side in C++ (echo_server.cc)

Every server runs in its own process, started and stopped here. Per batch
size the modes are measured interleaved (repeat by repeat, rotating which
goes first), so a slow spell of the machine hits all; a ratio is the median
of the repeat-by-repeat ratios. --profile adds where cpp's client time goes.
docs/BENCHMARKS.md has results and how to read them.

    bazel run //tools/benchmarks:client_benchmark -- --cpu=0
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import zmq

import marl_env
from marl_env import testing

from tools.benchmarks import bench_util
from tools.benchmarks import pickle_server

MODES = ("cpp", "py", "pickle", "bare_py", "bare_cc")
LABELS = {
    "cpp": "C++ env_server, Python client",
    "py": "Python env_server_py, Python client",
    "pickle": "pyzmq + pickle + numpy server and client",
    "bare_py": "bare ZeroMQ, cpp's bytes, Python echo",
    "bare_cc": "bare ZeroMQ, cpp's bytes, C++ echo",
}
CLIMBING = pickle_server.CLIMBING.tolist()


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min_seconds", type=float, default=1.0,
                        help="measured time per table cell, split evenly over "
                        "--repeats (warm-up is extra)")
    parser.add_argument("--warmup_seconds", type=float, default=0.1,
                        help="unmeasured warm-up per cell")
    parser.add_argument("--repeats", type=int, default=5,
                        help="repeats per cell; tables show the median and "
                        "the spread (max - min) / median")
    parser.add_argument("--batches", default="1,16,256",
                        help="comma-separated batch sizes (num_copies)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help="comma-separated modes to measure: any of " +
                        ", ".join(MODES))
    parser.add_argument("--cpu", type=int, default=-1,
                        help="pin this process and every server to this CPU "
                        "(-1: no pinning). On a VM a wake-up on the same CPU "
                        "is far cheaper and steadier than across CPUs.")
    parser.add_argument("--profile", action="store_true",
                        help="also time the phases of one cpp step (pack, "
                        "encode, round trip, decode, infos)")
    parser.add_argument("--frame_sizes", default="",
                        help="also time the bare exchange with the C++ echo "
                        "for these frame sizes in bytes (comma-separated): "
                        "a reply of each size to a 38-byte request, and a "
                        "request of each size answered with 61 bytes. "
                        "ZeroMQ moves a frame over its 8 KiB batch in two "
                        "transfers: the time steps up there.")
    parser.add_argument("--cpp_server", default="server/env_server",
                        help="the C++ env_server binary")
    parser.add_argument("--cpp_server_args", default="",
                        help="extra flags for it, space-separated (e.g. "
                        "--workers=0)")
    parser.add_argument("--py_server", default="python/env_server_py",
                        help="the Python env_server_py binary")
    parser.add_argument("--python_env", default="py_matrix_game_batched",
                        help="environment of env_server_py for the py mode "
                        "(default: the batched matrix game example; "
                        "py_matrix_game steps one copy at a time)")
    parser.add_argument("--python_env_settings",
                        default=json.dumps({"payoffs_row": CLIMBING,
                                            "payoffs_column": CLIMBING}),
                        help="its settings as a JSON object (default: the "
                        "climbing payoffs)")
    parser.add_argument("--python_module", default="",
                        help="passed to env_server_py as --module (a module "
                        "registering --python_env), if not an example")
    parser.add_argument("--cc_echo", default="tools/benchmarks/echo_server",
                        help="the C++ echo server binary")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds any one request may take")
    args = parser.parse_args(argv)
    try:
        args.batches = [int(b) for b in args.batches.split(",") if b]
    except ValueError:
        parser.error("--batches: comma-separated integers, got %r" %
                     args.batches)
    if not args.batches or any(not 1 <= b <= 65536 for b in args.batches):
        parser.error("--batches: sizes from 1 to 65536")
    try:
        args.frame_sizes = [int(b) for b in args.frame_sizes.split(",") if b]
    except ValueError:
        parser.error("--frame_sizes: comma-separated integers, got %r" %
                     args.frame_sizes)
    if any(not 1 <= b <= 1 << 26 for b in args.frame_sizes):
        parser.error("--frame_sizes: sizes from 1 to 2^26 bytes")
    args.modes = [m for m in args.modes.split(",") if m]
    unknown = set(args.modes) - set(MODES)
    if unknown or not args.modes:
        parser.error("--modes: unknown %s; choose from %s" %
                     (sorted(unknown), ", ".join(MODES)))
    if not args.repeats >= 1 or not 0 < args.min_seconds <= 3600 or \
            not 0 <= args.warmup_seconds <= 3600:
        parser.error("--repeats >= 1, 0 < --min_seconds <= 3600, "
                     "0 <= --warmup_seconds <= 3600")
    if args.cpu >= 0 and args.cpu not in os.sched_getaffinity(0):
        parser.error("--cpu=%d: not one of this machine's CPUs %s" %
                     (args.cpu, sorted(os.sched_getaffinity(0))))
    try:
        args.python_env_settings = json.loads(args.python_env_settings)
        if not isinstance(args.python_env_settings, dict):
            raise ValueError("not an object")
    except ValueError as error:
        parser.error("--python_env_settings: %s" % error)
    return args


# ---------------------------------------------------------------- timing --

def time_calls(op, seconds):
    """Calls op until `seconds` have passed; returns seconds per call. The
    clock is read once per chunk of ~1% of the time."""
    calls, chunk = 0, 1
    start = time.perf_counter()
    while True:
        for _ in range(chunk):
            op()
        calls += chunk
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls
        chunk = max(1, int(0.01 * seconds / (elapsed / calls)))


def measure_interleaved(ops, args):
    """{name: [seconds per call, one per repeat]}: warm-up each op, then per
    repeat every op in a rotated order."""
    names = list(ops)
    for name in names:
        time_calls(ops[name], args.warmup_seconds)
    samples = {name: [] for name in names}
    per_repeat = args.min_seconds / args.repeats
    for r in range(args.repeats):
        for k in range(len(names)):
            name = names[(k + r) % len(names)]
            samples[name].append(time_calls(ops[name], per_repeat))
    return samples


def spread(values):
    return (max(values) - min(values)) / statistics.median(values)


# --------------------------------------------------------------- servers --

class Servers:
    """The server processes of a run; stops them all on exit."""

    def __init__(self, cpu):
        self.cpu = cpu
        self.processes = []

    def start(self, argv):
        if self.cpu >= 0:  # the child inherits the affinity at exec
            argv = ["taskset", "-c", str(self.cpu)] + list(argv)
        process, endpoint = testing.start_server(argv)
        self.processes.append(process)
        return endpoint

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            testing.stop_server(process)


def record_step(env, actions):
    """The bytes of one step of `env` on the wire: (request, reply). The
    request is the one env.step(actions) sends (the next request id), sent
    as raw bytes."""
    handle = env._handle  # pylint: disable=protected-access
    client = handle.client
    request_id = client.next_request_id()
    # pylint: disable=protected-access
    request = handle._codec.encode_step(
        request_id, handle.pack(actions, env.num_envs, env._current))
    return request, client.call_raw(request)


class BareClient:
    """A DEALER exchanging fixed bytes with an echo server."""

    def __init__(self, endpoint, timeout):
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
        self.socket.connect(endpoint)
        self.request = b""

    def prepare(self, request, reply):
        self.socket.send_multipart([b"set-reply", reply])
        if self.socket.recv() != b"ok":
            raise RuntimeError("echo server did not take the reply")
        self.request = request
        if self.round_trip() != reply:
            raise RuntimeError("echo server answered other bytes")

    def round_trip(self):
        self.socket.send(self.request)
        return self.socket.recv()

    def close(self):
        self.socket.close(linger=0)


# ------------------------------------------------------------- the run --

def actions_for(batch):
    """Copy c: agent a plays (c + a + c // 3) % 3, so copies cover all nine
    cells of the payoff table."""
    copies = np.arange(batch)
    return {"player_%d" % a: ((copies + a + copies // 3) % 3).astype(np.int64)
            for a in range(2)}


def check_rewards(name, rewards, actions):
    expected = pickle_server.CLIMBING[actions["player_0"],
                                      actions["player_1"]]
    for agent in ("player_0", "player_1"):
        if not np.array_equal(np.asarray(rewards[agent], np.float32),
                              expected):
            raise RuntimeError("%s: %s's rewards %s, expected %s" %
                               (name, agent, rewards[agent], expected))


def profile_cpp(env, actions, seconds):
    """Median microseconds of each phase of BatchEnv.step, done here phase
    by phase with the client's own pieces."""
    handle = env._handle  # pylint: disable=protected-access
    client = handle.client
    codec = handle._codec  # pylint: disable=protected-access
    phases = ("pack", "encode request", "round trip", "decode reply",
              "infos + dicts")
    times = {p: [] for p in phases}
    clock = time.perf_counter
    deadline = clock() + seconds
    while clock() < deadline or not times["pack"]:
        # pylint: disable=protected-access
        t0 = clock()
        packed = handle.pack(actions, env.num_envs, env._current)
        t1 = clock()
        request_id = client.next_request_id()
        data = codec.encode_step(request_id, packed)
        t2 = clock()
        reply = client.call_raw(data)
        t3 = clock()
        step = codec.decode(reply, request_id)
        if not isinstance(step, dict):
            raise RuntimeError("profile: not the step's reply: %r" % (step,))
        t4 = clock()
        env._infos(step)
        agents = env.possible_agents
        _ = ({a: step["terminated"] for a in agents},
             {a: step["truncated"] for a in agents})
        t5 = clock()
        for phase, (a, b) in zip(phases, ((t0, t1), (t1, t2), (t2, t3),
                                          (t3, t4), (t4, t5))):
            times[phase].append(b - a)
    return {p: 1e6 * statistics.median(v) for p, v in times.items()}


def run(args, out):
    start = time.monotonic()
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})
    modes = args.modes
    rows, ratios, profiles = [], {}, {}
    with Servers(args.cpu) as servers:
        endpoints = {}
        if "cpp" in modes or "bare_py" in modes or "bare_cc" in modes:
            endpoints["cpp"] = servers.start(
                [bench_util.runfile(args.cpp_server)] +
                args.cpp_server_args.split())
        if "py" in modes:
            module = (["--module=" + args.python_module]
                      if args.python_module else [])
            endpoints["py"] = servers.start(
                [bench_util.runfile(args.py_server)] + module)
        if "pickle" in modes:
            endpoints["pickle"] = servers.start(
                [sys.executable, pickle_server.__file__])
        if "bare_py" in modes:
            endpoints["bare_py"] = servers.start(
                [sys.executable, os.path.join(os.path.dirname(__file__),
                                              "echo_server.py")])
        if "bare_cc" in modes or args.frame_sizes:
            endpoints["bare_cc"] = servers.start(
                [bench_util.runfile(args.cc_echo)])

        out.write("client_benchmark: climbing matrix game over loopback "
                  "TCP, batches %s, modes %s, %d repeats of >= %.3g s per "
                  "cell (median shown), %d hardware threads, %s; env_server "
                  "build: %s, echo_server build: %s; Python %s, protobuf "
                  "%s (%s), pyzmq %s, libzmq %s, numpy %s\n\n" % (
                      ",".join(map(str, args.batches)), ",".join(modes),
                      args.repeats, args.min_seconds / args.repeats,
                      os.cpu_count(),
                      "pinned to CPU %d" % args.cpu if args.cpu >= 0
                      else "not pinned",
                      bench_util.build_of(bench_util.runfile(args.cpp_server)),
                      bench_util.build_of(bench_util.runfile(args.cc_echo))
                      if "bare_cc" in modes else "-",
                      platform.python_version(), _protobuf_version(),
                      _protobuf_implementation(), zmq.__version__,
                      zmq.zmq_version(), np.__version__))
        out.flush()

        for batch in args.batches:
            actions = actions_for(batch)
            ops, closers, sizes = {}, [], (None, None)
            envs = {}
            if "cpp" in endpoints:
                envs["cpp"] = marl_env.make_batch(
                    "matrix_game", batch, endpoint=endpoints["cpp"], seed=7,
                    timeout=args.timeout, game="climbing")
            if "py" in endpoints:
                envs["py"] = marl_env.make_batch(
                    args.python_env, batch, endpoint=endpoints["py"], seed=7,
                    timeout=args.timeout, settings=args.python_env_settings)
            for name, env in envs.items():
                closers.append(env.close)
                env.reset(seed=7)
                check_rewards(name, env.step(actions)[1], actions)
            if "cpp" in modes:
                ops["cpp"] = lambda env=envs["cpp"]: env.step(actions)
            if "py" in modes:
                ops["py"] = lambda env=envs["py"]: env.step(actions)
            if "pickle" in modes:
                plain = pickle_server.PickleClient(endpoints["pickle"], batch,
                                                   args.timeout)
                closers.append(plain.close)
                plain.reset()
                check_rewards("pickle", plain.step(actions)[1], actions)
                ops["pickle"] = lambda plain=plain: plain.step(actions)
            bare = [m for m in ("bare_py", "bare_cc") if m in modes]
            if bare or "cpp" in envs:
                # Warm the cpp handle up first, so the request id has the
                # varint size it has during the run.
                time_calls(lambda: envs["cpp"].step(actions),
                           args.warmup_seconds)
                sizes = record_step(envs["cpp"], actions)
            for mode in bare:
                echo = BareClient(endpoints[mode], args.timeout)
                closers.append(echo.close)
                echo.prepare(*sizes)
                ops[mode] = echo.round_trip

            samples = measure_interleaved(ops, args)
            for mode in MODES:
                if mode not in samples:
                    continue
                s = samples[mode]
                median = statistics.median(s)
                carries_cpp_bytes = mode in ("cpp", "bare_py", "bare_cc")
                rows.append({
                    "mode": mode, "batch": batch,
                    "request": len(sizes[0]) if carries_cpp_bytes else None,
                    "reply": len(sizes[1]) if carries_cpp_bytes else None,
                    "steps": batch / median, "us": 1e6 * median,
                    "spread": spread(s)})
            for num, den in (("cpp", "pickle"), ("py", "pickle"),
                             ("cpp", "bare_py"), ("cpp", "bare_cc")):
                if num in samples and den in samples:
                    # Steps/s ratio num / den, per repeat (= time den / num).
                    ratios[(num, den, batch)] = statistics.median(
                        d / n for n, d in zip(samples[num], samples[den]))
            if args.profile and "cpp" in envs:
                profiles[batch] = profile_cpp(envs["cpp"], actions,
                                              args.min_seconds)
            for close in closers:
                close()
        frames = (time_frames(endpoints["bare_cc"], args)
                  if args.frame_sizes else None)

    write_tables(args, rows, ratios, profiles, out)
    if frames:
        write_frame_table(frames, out)
    out.write("\ntotal time %.1f s\n" % (time.monotonic() - start))
    out.flush()


def _protobuf_version():
    import google.protobuf  # pylint: disable=import-outside-toplevel
    return google.protobuf.__version__


def _protobuf_implementation():
    from google.protobuf.internal import (  # pylint: disable=C0415
        api_implementation)
    return api_implementation.Type()


def write_tables(args, rows, ratios, profiles, out):
    out.write("| mode | batch | request B | reply B | env steps/s | "
              "us / round trip | spread |\n|---|--:|--:|--:|--:|--:|--:|\n")
    for row in rows:
        out.write("| %s | %d | %s | %s | %.0f | %.1f | %.0f%% |\n" % (
            LABELS[row["mode"]], row["batch"],
            "" if row["request"] is None else row["request"],
            "" if row["reply"] is None else row["reply"],
            row["steps"], row["us"], 100 * row["spread"]))

    def verdict(ratio, ok):
        return "%.2fx %s" % (ratio, "met" if ok else "MISSED")

    out.write("\n| target | batch | ratio (median of per-repeat ratios) | "
              "verdict |\n|---|--:|--:|---|\n")
    targets = []
    for batch in args.batches:
        targets.append(("cpp", "pickle", batch, "C++ server >= 1.5x pickle "
                        "server (env steps/s)", lambda r: r >= 1.5))
    for echo in ("bare_cc", "bare_py"):
        targets.append(("cpp", echo, 256, "C++ server within 1.2x of bare "
                        "ZeroMQ (%s echo): steps/s ratio >= 1/1.2" %
                        ("C++" if echo == "bare_cc" else "Python"),
                        lambda r: r >= 1 / 1.2))
    targets.append(("py", "pickle", 256, "Python server >= 0.7x pickle "
                    "server (env steps/s)", lambda r: r >= 0.7))
    for num, den, batch, text, ok in targets:
        ratio = ratios.get((num, den, batch))
        if ratio is None:
            continue
        shown = verdict(ratio, ok(ratio))
        if den.startswith("bare"):
            shown += " (round trip %.2fx bare)" % (1 / ratio)
        out.write("| %s | %d | %.2f | %s |\n" % (text, batch, ratio, shown))
    extra = sorted(k for k in ratios if k[1].startswith("bare") and
                   k[2] != 256)
    for num, den, batch in extra:
        out.write("| (info) C++ server round trip / bare (%s echo) | %d | "
                  "%.2f | %.2fx |\n" % ("C++" if den == "bare_cc"
                                        else "Python", batch,
                                        ratios[(num, den, batch)],
                                        1 / ratios[(num, den, batch)]))
    for batch in args.batches:
        if ("py", "pickle", batch) in ratios and batch != 256:
            ratio = ratios[("py", "pickle", batch)]
            out.write("| (info) Python server / pickle server | %d | %.2f "
                      "| %.2fx |\n" % (batch, ratio, ratio))

    if profiles:
        phases = list(next(iter(profiles.values())))
        out.write("\nWhere a cpp step's time goes (us, median per phase; "
                  "the client's pieces called one by one):\n\n| batch | " +
                  " | ".join(phases) + " | sum |\n|--:|" +
                  "--:|" * (len(phases) + 1) + "\n")
        for batch, profile in profiles.items():
            out.write("| %d | %s | %.1f |\n" % (
                batch, " | ".join("%.1f" % profile[p] for p in phases),
                sum(profile.values())))


def time_frames(endpoint, args):
    """{size: (us per round trip with a reply of `size` bytes, with a
    request of `size` bytes)}: the bare exchange with the echo at
    `endpoint` on one connection, size after size (each warmed up, then
    timed for --min_seconds in --repeats parts; the median part). Not
    interleaved: switching connections every few milliseconds costs more
    than the frame sizes do."""
    client = BareClient(endpoint, args.timeout)
    try:
        times = {}
        for kind in ("reply", "request"):
            for size in args.frame_sizes:
                if kind == "reply":
                    client.prepare(b"q" * 38, b"r" * size)
                else:
                    client.prepare(b"q" * size, b"r" * 61)
                time_calls(client.round_trip, args.warmup_seconds)
                parts = [time_calls(client.round_trip,
                                    args.min_seconds / args.repeats)
                         for _ in range(args.repeats)]
                times.setdefault(size, []).append(
                    1e6 * statistics.median(parts))
    finally:
        client.close()
    return {size: tuple(pair) for size, pair in times.items()}


def write_frame_table(frames, out):
    out.write("\nThe bare exchange (C++ echo) by frame size (us per round "
              "trip, median):\n\n| bytes | reply of that size, 38-byte "
              "request | request of that size, 61-byte reply |\n"
              "|--:|--:|--:|\n")
    for size, (reply, request) in frames.items():
        out.write("| %d | %.1f | %.1f |\n" % (size, reply, request))


def main(argv=None, out=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    run(args, out or sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
