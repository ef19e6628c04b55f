"""The Python environment server: an EnvService behind a ZeroMQ ROUTER.

Speaks the same protocol as the C++ env_server (docs/PROTOCOL.md) and serves
every environment registered with marl_env.register in this process: the
built-in examples plus any modules named with --module.

    env_server_py --endpoint=tcp://127.0.0.1:5556 --module=my_envs.py

One front thread owns the ROUTER socket: it answers handshakes, listings,
closes and resets/steps measured to be cheap at once, and hands every make
and every reset/step that may be slow to a worker thread, in order per
handle; the worker's reply goes back to the front thread to be sent. So a
slow make or a huge step of one client never holds up another client's
handshake or small step (Python switches threads every few milliseconds).
"""

import argparse
import collections
import importlib
import importlib.util
import ipaddress
import os
import queue
import re
import signal
import sys
import threading
import time

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from marl_env import env as env_lib
from marl_env.service import EnvService, ServiceOptions, error_reply
from marl_env.status import Code

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5556"
# How often the loop wakes to notice a stop request and to expire idle
# handles when nothing arrives.
_POLL_MS = 100
# Requests waiting for or running on a worker, per client and in all; more
# are refused (RESOURCE_EXHAUSTED) rather than held in memory: a client
# cannot flood the server with work it does not wait for.
MAX_WAITING_PER_CLIENT = 64
MAX_WAITING = 1024
_MORE = zmq.SNDMORE | zmq.DONTWAIT

REMOTE_RISK = (
    "anyone who can reach the port can run environments here, using this "
    "machine's memory and CPU")


class CurveOptions:
    """CURVE for the server: its key pair from a ZeroMQ certificate file
    (`NAME.key_secret`), and a directory of authorized clients' public
    `.key` files (None: any client that knows the server's public key)."""

    def __init__(self, secret_key_file, authorized_keys_dir=None):
        public, secret = zmq.auth.load_certificate(secret_key_file)
        if not secret:
            raise ValueError("%s holds no secret key (give the .key_secret "
                             "file)" % secret_key_file)
        self.public_key = public
        self.secret_key = secret
        if authorized_keys_dir is not None and not os.path.isdir(
                authorized_keys_dir):
            raise ValueError("--curve_authorized_keys: %s is not a directory"
                             % authorized_keys_dir)
        self.authorized_keys_dir = authorized_keys_dir


def is_loopback_endpoint(endpoint):
    """True for endpoints only this machine can reach: ipc://, inproc://,
    and tcp:// on 127.0.0.0/8, ::1 or localhost."""
    match = re.match(r"^([a-z0-9+]+)://(.*)$", endpoint)
    if not match or match.group(1) != "tcp":
        return match is not None and match.group(1) in ("ipc", "inproc")
    address = match.group(2)
    host = address.rsplit(":", 1)[0] if ":" in address else address
    if ";" in host:  # tcp://SOURCE;HOST:PORT
        host = host.rsplit(";", 1)[1]
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "*", an interface name, a host name


class EnvServer:
    """Binds endpoints and serves requests: cheap ones on the calling
    thread (run()), slow ones on `workers` worker threads, in order per
    handle."""

    def __init__(self, options=None, context=None, workers=4, curve=None,
                 allow_remote_clients=False):
        options = options or ServiceOptions()
        options.curve = curve is not None
        self.service = EnvService(options)
        self.curve = curve
        self.allow_remote_clients = allow_remote_clients
        self._own_context = context is None and curve is not None
        # A ZAP handler serves a whole context: CURVE gets its own, so it
        # never sees another socket's connections.
        self._context = (zmq.Context() if self._own_context else
                         context or zmq.Context.instance())
        self._authenticator = None
        if curve is not None:
            self._authenticator = ThreadAuthenticator(self._context)
            self._authenticator.start()
            # Accepted clients get their z85 public key as the User-Id of
            # every message: the "client" of the quotas.
            self._authenticator.configure_curve(
                domain="*", location=(curve.authorized_keys_dir or
                                      zmq.auth.CURVE_ALLOW_ANY))
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        # Replies to vanished clients are dropped.
        self._socket.setsockopt(zmq.ROUTER_MANDATORY, 0)
        # Larger frames are dropped by ZeroMQ (with their connection)
        # before anything reads them.
        self._socket.setsockopt(zmq.MAXMSGSIZE,
                                options.max_message_bytes or -1)
        if curve is not None:
            self._socket.curve_server = True
            self._socket.curve_publickey = curve.public_key
            self._socket.curve_secretkey = curve.secret_key
        self._stop = False
        self.endpoints = []
        # Scheduling: key -> requests waiting behind the one running on a
        # worker (a key is present while its work is on a worker).
        self._busy = {}
        self._waiting = {}  # client -> requests queued or on a worker
        self._waiting_total = 0
        self._jobs = queue.Queue()
        self._done = collections.deque()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._workers = [threading.Thread(target=self._work, daemon=True,
                                          name="env-worker-%d" % i)
                         for i in range(max(1, workers))]
        for worker in self._workers:
            worker.start()

    def bind(self, endpoint):
        """Binds tcp://, ipc:// or inproc://; returns the bound endpoint
        (tcp://127.0.0.1:0 picks a free port). ValueError for an address
        other machines can reach without allow_remote_clients."""
        if not self.allow_remote_clients and not is_loopback_endpoint(
                endpoint):
            raise ValueError(
                "%s is reachable from other machines: %s. Bind loopback "
                "(tcp://127.0.0.1:PORT), or pass --allow_remote_clients "
                "(with --curve_secret_key_file to authenticate clients)" %
                (endpoint, REMOTE_RISK))
        self._socket.bind(endpoint)
        bound = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.endpoints.append(bound)
        return bound

    def stop(self):
        """Asks run() to return (safe from a signal handler)."""
        self._stop = True

    # ------------------------------------------------------ front thread --

    def run(self):
        socket = self._socket
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        poller.register(self._wake_read, zmq.POLLIN)
        # A receive that finds nothing returns after this long.
        socket.setsockopt(zmq.RCVTIMEO, _POLL_MS)
        monotonic = time.monotonic
        last_sweep = monotonic()
        while not self._stop:
            now = monotonic()
            if now - last_sweep > 1.0:
                self.service.expire_idle_handles(busy=self._busy)
                last_sweep = now
            if not self._busy:
                # Nothing on a worker, so nothing to wake up for but the
                # socket: wait in its receive (one call; a poll and then a
                # receive take two).
                if not self._receive(0):
                    return
                continue
            try:
                ready = dict(poller.poll(_POLL_MS))
            except zmq.ZMQError as error:
                if error.errno == zmq.EINTR:
                    continue
                if error.errno in (zmq.ETERM, zmq.ENOTSOCK):
                    return
                raise
            if self._wake_read in ready:
                self._drain_wake_pipe()
            self._send_finished()
            if socket in ready:
                if not self._receive(zmq.DONTWAIT):
                    return

    def _receive(self, flags):
        """Handles a request from the socket, if one comes (`flags` 0:
        waiting up to _POLL_MS); False on ETERM. One per call: the loop's
        next wait returns at once while more wait."""
        # Frames as bytes (cheaper than Frame objects for the small
        # messages of a step), except under CURVE, where the body's Frame
        # carries the client's key.
        copy = self.curve is None
        socket = self._socket
        while True:
            try:
                # ROUTER: the peer's identity, then the peer's frames (so
                # more follows the identity: one RCVMORE query saved).
                frames = [socket.recv(flags, copy=copy)]
                frames.append(socket.recv(flags, copy=copy))
                while socket.getsockopt(zmq.RCVMORE):
                    frames.append(socket.recv(flags, copy=copy))
            except zmq.Again:
                return True
            except zmq.ZMQError as error:
                if error.errno == zmq.EINTR:
                    continue
                if error.errno in (zmq.ETERM, zmq.ENOTSOCK):
                    return False
                raise
            break
        # ROUTER prepends the peer identity (and a REQ peer an empty
        # delimiter): everything before the last frame is the envelope.
        if len(frames) >= 2:
            body = frames.pop()
            if copy:
                envelope = frames
                client = envelope[0]
            else:
                envelope = [frame.bytes for frame in frames]
                client = envelope[0]
                try:
                    client = body.get("User-Id").encode()
                except zmq.ZMQError:
                    pass  # not authenticated through ZAP: the connection
                body = body.buffer
            self._dispatch(envelope, client, body)
        return True

    def _dispatch(self, envelope, client, data):
        request, error = self.service.parse(data)
        if request is None:
            self._send(envelope, error)
            return
        key, cheap = self.service.plan(request)
        busy = key is not None and key in self._busy
        if cheap and not busy:
            self._send(envelope, self._handle(request, client))
            return
        waiting = self._waiting.get(client, 0)
        if waiting >= MAX_WAITING_PER_CLIENT or \
                self._waiting_total >= MAX_WAITING:
            self._send(envelope, error_reply(
                Code.RESOURCE_EXHAUSTED,
                "%d requests of this client (%d in all) wait for the "
                "server's workers, its limit (%d per client, %d in all); "
                "wait for their replies" %
                (waiting, self._waiting_total, MAX_WAITING_PER_CLIENT,
                 MAX_WAITING), request.request_id))
            return
        self._waiting[client] = waiting + 1
        self._waiting_total += 1
        job = (key, envelope, client, request)
        if busy:
            self._busy[key].append(job)  # behind the handle's earlier work
        else:
            self._busy[key] = collections.deque()
            self._jobs.put(job)

    def _handle(self, request, client):
        return self.service.respond(request, client)

    def _send_finished(self):
        while self._done:
            key, envelope, client, reply = self._done.popleft()
            self._send(envelope, reply)
            self._waiting_total -= 1
            self._waiting[client] -= 1
            if not self._waiting[client]:
                del self._waiting[client]
            waiting = self._busy.get(key)
            if waiting:
                # The handle's next request, in arrival order.
                self._jobs.put(waiting.popleft())
            else:
                self._busy.pop(key, None)

    def _send(self, envelope, reply):
        socket = self._socket
        try:
            for frame in envelope:
                socket.send(frame, _MORE)
            socket.send(reply, zmq.DONTWAIT)
        except zmq.ZMQError:
            pass  # a peer that cannot take the reply (gone, full) loses it

    def _drain_wake_pipe(self):
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass

    # ----------------------------------------------------------- workers --

    def _work(self):
        while True:
            job = self._jobs.get()
            if job is None:
                return
            key, envelope, client, request = job
            reply = self._handle(request, client)
            self._done.append((key, envelope, client, reply))
            try:
                os.write(self._wake_write, b"x")
            except (BlockingIOError, OSError):
                pass  # the pipe is full of wake-ups already, or closed

    def close(self):
        for _ in self._workers:
            self._jobs.put(None)
        self._socket.close(linger=0)
        if self._authenticator is not None:
            self._authenticator.stop()
        if self._own_context:
            self._context.term()
        for worker in self._workers:
            worker.join(timeout=1.0)
        if any(worker.is_alive() for worker in self._workers):
            return  # a stuck environment: its wake-up fd must stay valid
        for fd in (self._wake_read, self._wake_write):
            os.close(fd)


def import_environments(module):
    """Imports a module by dotted name or .py path, registering its envs."""
    if module.endswith(".py") or os.sep in module:
        # (Relative to the caller's directory under `bazel run`: main()
        # enters it first.)
        path = os.path.abspath(module)
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
        for setting in env_lib.accepted_settings(env_class):
            out.write("    %s (%s, default %s): %s\n" %
                      (setting.name, setting.type_name,
                       env_lib.format_setting_value(setting.default),
                       setting.description))


def _bounded_int(low, high):
    """An argparse type: an int in [low, high], else a clear usage error."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not an integer: %r" % text) \
                from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                "%d is outside [%d, %d]" % (value, low, high))
        return value
    return parse


_INT32 = _bounded_int(0, (1 << 31) - 1)
_INT64 = _bounded_int(0, (1 << 63) - 1)


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="env_server_py",
        description="Python environment server: speaks the marl.env.v3 "
        "protocol over ZeroMQ and serves the environments registered with "
        "marl_env.register (the examples, plus --module). Limits: 0 = none.")
    parser.add_argument(
        "--endpoint", default=DEFAULT_ENDPOINT,
        help="comma-separated endpoints to bind: tcp://HOST:PORT (port 0 "
        "picks a free one), ipc://PATH, inproc://NAME (default %(default)s)")
    parser.add_argument(
        "--allow_remote_clients", action="store_true",
        help="allow binding a tcp address other than loopback: " +
        REMOTE_RISK + "; use it with --curve_secret_key_file")
    parser.add_argument(
        "--curve_secret_key_file", default=None,
        help="turns CURVE authentication and encryption on: the server's "
        "key pair, a ZeroMQ certificate NAME.key_secret (make one with "
        "//tools/curve_keys:make_curve_keys); clients need its NAME.key")
    parser.add_argument(
        "--curve_authorized_keys", default=None,
        help="with CURVE: a directory of the public .key files of the "
        "clients to serve; others get no service (default: any client that "
        "knows the server's public key)")
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
        "--request_threads", type=_bounded_int(1, 256), default=4,
        help="threads running requests that may be slow (makes, and resets "
        "and steps predicted to take over --inline_budget_us), beside the "
        "thread that answers quick requests (default %(default)s)")
    parser.add_argument(
        "--inline_budget_us", type=_bounded_int(0, 10 ** 9), default=1000,
        help="resets and steps predicted (from the handle's measured cost "
        "per copy) to take at most this long run on the serving thread "
        "(default %(default)s)")
    parser.add_argument(
        "--idle_timeout_seconds", type=_INT32, default=600,
        help="close handles unused for this long (0 = never; default "
        "%(default)s)")
    parser.add_argument(
        "--max_copies_per_handle", type=_bounded_int(1, (1 << 31) - 1),
        default=1 << 16,
        help="largest num_copies a make request may ask for (default "
        "%(default)s)")
    parser.add_argument(
        "--max_handles", type=_INT32, default=1 << 12,
        help="most handles open at once, all clients together (default "
        "%(default)s)")
    parser.add_argument(
        "--max_handles_per_client", type=_INT32, default=1 << 10,
        help="most handles one client (its CURVE key, else its connection) "
        "may hold open (default %(default)s)")
    parser.add_argument(
        "--max_message_bytes", type=_INT64, default=64 << 20,
        help="largest request frame; ZeroMQ drops larger ones, and their "
        "connection, unread (default %(default)s)")
    parser.add_argument(
        "--max_handle_bytes", type=_INT64, default=1 << 30,
        help="memory estimate one handle may hold: its copies and reply "
        "buffers (default %(default)s)")
    parser.add_argument(
        "--max_client_bytes", type=_INT64, default=2 << 30,
        help="memory estimate one client's handles may hold together "
        "(default %(default)s)")
    parser.add_argument(
        "--max_server_bytes", type=_INT64, default=4 << 30,
        help="memory estimate all handles may hold together (default "
        "%(default)s)")
    args = parser.parse_args(argv)
    if args.curve_authorized_keys and not args.curve_secret_key_file:
        parser.error("--curve_authorized_keys needs --curve_secret_key_file")
    return args


def enter_bazel_run_directory():
    """Under `bazel run` (which starts a binary in its runfiles tree),
    relative command-line paths mean the caller's directory: enters it, as
    the C++ binaries do (protocol/working_directory.h)."""
    directory = os.environ.get("BUILD_WORKING_DIRECTORY")
    if directory:
        os.chdir(directory)


def main(argv=None, default_modules=()):
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        enter_bazel_run_directory()
    except OSError as error:
        sys.stderr.write("env_server: cannot change to the directory bazel "
                         "run was started in: %s\n" % error)
        return 2
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
    endpoints = [e for e in args.endpoint.split(",") if e.strip()]
    # bind() refuses these without --allow_remote_clients.
    remote = [e for e in endpoints if not is_loopback_endpoint(e.strip())]
    if remote and args.allow_remote_clients and \
            not args.curve_secret_key_file:
        sys.stderr.write(
            "env_server: WARNING: serving %s without authentication: %s. "
            "Use --curve_secret_key_file to admit only clients with keys\n" %
            (", ".join(remote), REMOTE_RISK))
    curve = None
    if args.curve_secret_key_file:
        try:
            curve = CurveOptions(args.curve_secret_key_file,
                                 args.curve_authorized_keys)
        except (OSError, ValueError, zmq.ZMQError) as error:
            sys.stderr.write("env_server: cannot load CURVE keys: %s\n" %
                             error)
            return 1
    options = ServiceOptions(
        idle_handle_timeout_seconds=args.idle_timeout_seconds,
        max_copies_per_handle=args.max_copies_per_handle,
        max_handles=args.max_handles,
        max_handles_per_client=args.max_handles_per_client,
        max_message_bytes=args.max_message_bytes,
        max_handle_bytes=args.max_handle_bytes,
        max_client_bytes=args.max_client_bytes,
        max_server_bytes=args.max_server_bytes,
        inline_max_seconds=args.inline_budget_us * 1e-6)
    server = EnvServer(options, workers=args.request_threads, curve=curve,
                       allow_remote_clients=args.allow_remote_clients)
    # Before the "listening" line: a signal right after it must stop the
    # server cleanly too.
    signal.signal(signal.SIGINT, lambda *_: server.stop())
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    for endpoint in endpoints:
        try:
            bound = server.bind(endpoint.strip())
        except (zmq.ZMQError, ValueError) as error:
            sys.stderr.write("env_server: cannot bind %s: %s\n" %
                             (endpoint, error))
            server.close()
            return 1
        # The same line as the C++ env_server, so scripts find the port.
        print("env_server: listening on %s" % bound, flush=True)
    server.run()
    server.close()
    print("env_server: stopped", flush=True)
    return 0
