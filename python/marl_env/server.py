"""The Python environment server: an EnvService behind a ZeroMQ ROUTER.

Speaks the same protocol as the C++ env_server (docs/PROTOCOL.md) and serves
every environment registered with marl_env.register in this process: the
built-in examples plus any modules named with --module.

    env_server_py --endpoint=tcp://127.0.0.1:5556 --module=my_envs.py
"""

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import time

import zmq

from marl_env import env as env_lib
from marl_env.service import EnvService, ServiceOptions

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5556"
# The receive timeout: how often the loop wakes to notice a stop request
# and to expire idle handles.
_POLL_MS = 100


class EnvServer:
    """Binds endpoints and serves requests one at a time, in arrival order."""

    def __init__(self, options=None, context=None):
        self._context = context or zmq.Context.instance()
        self.service = EnvService(options)
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        # Replies to vanished clients are dropped.
        self._socket.setsockopt(zmq.ROUTER_MANDATORY, 0)
        self._socket.setsockopt(zmq.RCVTIMEO, _POLL_MS)
        self._stop = False
        self.endpoints = []

    def bind(self, endpoint):
        """Binds tcp://, ipc:// or inproc://; returns the bound endpoint
        (tcp://127.0.0.1:0 picks a free port)."""
        self._socket.bind(endpoint)
        bound = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.endpoints.append(bound)
        return bound

    def stop(self):
        """Asks run() to return (safe from a signal handler)."""
        self._stop = True

    def run(self):
        last_sweep = time.monotonic()
        while not self._stop:
            now = time.monotonic()
            if now - last_sweep > 1.0:
                self.service.expire_idle_handles()
                last_sweep = now
            try:
                frames = self._socket.recv_multipart(copy=True)
            except zmq.Again:
                continue
            except zmq.ZMQError as error:
                if error.errno in (zmq.ETERM, zmq.ENOTSOCK):
                    return
                if error.errno == zmq.EINTR:
                    continue
                raise
            # ROUTER prepends the peer identity (and a REQ peer an empty
            # delimiter): everything before the last frame is the envelope.
            if len(frames) < 2:
                continue
            reply = self.service.handle_bytes(frames[-1])
            try:
                self._socket.send_multipart(frames[:-1] + [reply],
                                            flags=zmq.DONTWAIT)
            except zmq.ZMQError as error:
                if error.errno == zmq.ETERM:
                    return
                # A peer that cannot take the reply loses it.

    def close(self):
        self._socket.close(linger=0)


def import_environments(module):
    """Imports a module by dotted name or .py path, registering its envs."""
    if module.endswith(".py") or os.sep in module:
        # Under `bazel run` the working directory is the runfiles tree:
        # relative paths mean the directory bazel was run from.
        path = os.path.abspath(os.path.join(
            os.environ.get("BUILD_WORKING_DIRECTORY", ""), module))
        if not os.path.exists(path):
            raise FileNotFoundError("no such file: %s" % path)
        name = "marl_env_user_" + os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        spec.loader.exec_module(loaded)
        return loaded
    return importlib.import_module(module)


def print_environments(out=sys.stdout):
    for name, env_class in env_lib.registered().items():
        out.write("%s: %s\n" % (name, env_class.description))
        for setting in env_class.settings:
            out.write("    %s (%s, default %s): %s\n" %
                      (setting.name, setting.type_name,
                       env_lib.format_setting_value(setting.default),
                       setting.description))


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="env_server_py",
        description="Python environment server: speaks the marl.env.v1 "
        "protocol over ZeroMQ and serves the environments registered with "
        "marl_env.register (the examples, plus --module).")
    parser.add_argument(
        "--endpoint", default=DEFAULT_ENDPOINT,
        help="comma-separated endpoints to bind: tcp://HOST:PORT (port 0 "
        "picks a free one), ipc://PATH, inproc://NAME (default %(default)s)")
    parser.add_argument(
        "--list", action="store_true",
        help="print the registered environments and their settings, then "
        "exit")
    parser.add_argument(
        "--module", action="append", default=[],
        help="import this module (dotted name or path to a .py file) so "
        "that the environments it registers are served; repeatable")
    parser.add_argument(
        "--no_examples", action="store_true",
        help="do not serve the built-in example environments")
    parser.add_argument(
        "--idle_timeout_seconds", type=int, default=600,
        help="close handles unused for this long (0 = never)")
    parser.add_argument("--max_copies_per_handle", type=int, default=1 << 16,
                        help="largest num_copies a make request may ask for")
    parser.add_argument("--max_handles", type=int, default=1 << 12,
                        help="most handles open at once")
    return parser.parse_args(argv)


def main(argv=None, default_modules=()):
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    modules = ([] if args.no_examples else list(default_modules)) + args.module
    for module in modules:
        try:
            import_environments(module)
        except Exception as error:  # pylint: disable=broad-except
            sys.stderr.write("env_server: cannot import %s: %s: %s\n" %
                             (module, type(error).__name__, error))
            return 1
    if args.list:
        print_environments()
        return 0
    options = ServiceOptions(
        idle_handle_timeout_seconds=args.idle_timeout_seconds,
        max_copies_per_handle=args.max_copies_per_handle,
        max_handles=args.max_handles)
    server = EnvServer(options)
    # Before the "listening" line: a signal right after it must stop the
    # server cleanly too.
    signal.signal(signal.SIGINT, lambda *_: server.stop())
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    for endpoint in filter(None, args.endpoint.split(",")):
        try:
            bound = server.bind(endpoint)
        except zmq.ZMQError as error:
            sys.stderr.write("env_server: cannot bind %s: %s\n" %
                             (endpoint, error))
            return 1
        # The same line as the C++ env_server, so scripts find the port.
        print("env_server: listening on %s" % bound, flush=True)
    server.run()
    server.close()
    print("env_server: stopped", flush=True)
    return 0
