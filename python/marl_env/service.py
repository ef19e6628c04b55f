"""The request handler: protocol bytes in, protocol bytes out, no transport.

Same operations, semantics and error statuses as the C++ EnvService
(server/env_server.cc): every request gets a response; a bad one gets an
error status, no payload, and leaves the server as it was.

Limits (docs/PROTOCOL.md, "Limits"): a make is charged an estimate of the
memory its handle holds, checked against the per-handle, per-client and
per-server budgets BEFORE anything is built, and counted until the handle
is closed or expires; handles are counted per client as well as in all.
A client is whatever the transport says (the CURVE public key, else the
connection). Running out of memory anywhere answers RESOURCE_EXHAUSTED.

Thread safety: the handle table and the budgets are guarded by a lock, so
the server's front thread and its workers may call handle() at once, as
long as the requests of one handle are handled one at a time, in order
(plan() names the handle a request works on; server.py keeps that order).
"""

import random
import secrets
import threading
import time
import warnings

import numpy as np
from google.protobuf import message as protobuf_message

import env_protocol_pb2 as pb

from marl_env import _codec
from marl_env import convert
from marl_env import env as env_lib
from marl_env.batch import EnvBatch
from marl_env.status import (Code, StatusError, internal,
                             invalid_argument, not_found, resource_exhausted)

PROTOCOL_VERSION = 3

CAPABILITIES = ("batched_step", "auto_reset_same_step", "public_observation",
                "global_state", "action_masks", "sequential_turns",
                "reset_seeds", "copy_subsets")

_INT32_MAX = (1 << 31) - 1
_INT64_MAX = (1 << 63) - 1

#: Per-copy overhead of the default estimate: the Env object, its spec and
#: its state (C++ DefaultCopyBytesEstimate).


class ServiceOptions:
    """The service's limits; each is a server flag of the same name (0 = no
    limit, as the handshake reports it)."""

    def __init__(self, server_name="marl-env-server-python",
                 idle_handle_timeout_seconds=600,
                 max_copies_per_handle=1 << 16, max_handles=1 << 12,
                 max_handles_per_client=1 << 10,
                 max_message_bytes=64 << 20, max_handle_bytes=1 << 30,
                 max_client_bytes=2 << 30, max_server_bytes=4 << 30,
                 curve=False, inline_max_seconds=1e-3):
        self.server_name = server_name
        # A handle unused this long is closed; 0 = never.
        self.idle_handle_timeout_seconds = idle_handle_timeout_seconds
        self.max_copies_per_handle = max_copies_per_handle
        self.max_handles = max_handles
        self.max_handles_per_client = max_handles_per_client
        # Enforced by the socket (server.py); reported in the handshake.
        self.max_message_bytes = max_message_bytes
        self.max_handle_bytes = max_handle_bytes
        self.max_client_bytes = max_client_bytes
        self.max_server_bytes = max_server_bytes
        # Clients authenticate with CURVE (the handshake says "curve").
        self.curve = curve
        # A reset/step predicted to take longer than this runs on a worker
        # thread (server.py), so it cannot hold up other clients.
        self.inline_max_seconds = inline_max_seconds


def copy_bytes_estimate(env_class, settings):
    """The class's estimate_copy_bytes(settings) (every Env and BatchedEnv
    has one; None means the default). ValueError from it means settings
    out of range."""
    estimate = env_class.estimate_copy_bytes(settings)
    if estimate is None:
        return env_lib.default_copy_bytes_estimate(settings)
    if isinstance(estimate, (bool, np.bool_)) or not isinstance(
            estimate, (int, np.integer)) or estimate < 0:
        raise internal("environment '%s': estimate_copy_bytes() must return "
                       "an int >= 0, got %r" % (env_class.name, estimate))
    return int(estimate)


def buffer_bytes_per_copy(spec, auto_reset):
    """Bytes one copy adds to a reset/step reply: its row of every TimeStep
    array (float32 observations, rewards, infos; bool flags and masks;
    int32 step counts, copy indices and turns), and of the final_* arrays
    when copies auto-reset."""
    finals = 2 if auto_reset else 1
    total = 4 + 1 + 1 + 4  # copies, terminated, truncated, episode_step
    for observation, action in zip(spec.observation_spaces,
                                   spec.action_spaces):
        total += 4 * int(observation.flat_size) * finals + 4
        if spec.has_action_masks and hasattr(action, "n"):
            total += int(action.n)
    if spec.has_public_observation:
        total += 4 * int(spec.public_observation_space.flat_size) * finals
    if spec.has_state:
        total += 4 * int(spec.state_space.flat_size) * finals
    if spec.sequential:
        total += 4
    total += 4 * len(spec.info_keys)
    if spec.message_size:
        # The message channel's own row: the observations it builds before
        # the batch takes them, and the messages.
        total += sum(4 * int(observation.flat_size) + 8
                     for observation in spec.observation_spaces)
    return total


class _Handle:
    def __init__(self, batch, spec, owner, estimated_bytes, now):
        self.batch = batch
        self.num_copies = batch.num_copies
        self.spec = spec
        self.owner = owner
        self.estimated_bytes = estimated_bytes
        self.last_used = now
        # Measured seconds per copy of a reset / step (None: not yet run),
        # to predict whether the next one is cheap enough to run inline.
        self.reset_seconds_per_row = None
        self.step_seconds_per_row = None

    @staticmethod
    def updated(previous, seconds, rows):
        """The next seconds per row after a call of `seconds` for `rows`:
        up at once, down slowly (one slow call marks the handle slow)."""
        per_row = seconds / max(rows, 1)
        if previous is None or per_row > previous:
            return per_row
        return 0.75 * previous + 0.25 * per_row


class StepCall:
    """A step request read by the C++ codec (marl_env._codec): what a step
    needs, as numpy arrays, without protobuf's Python objects. parse()
    gives one for every whole step request; handle() and respond() take
    it like a Request."""

    __slots__ = ("request_id", "handle", "copies", "discrete", "continuous")

    def __init__(self, request_id, handle, copies, discrete, continuous):
        self.request_id = request_id
        self.handle = handle
        self.copies = copies  # int32; empty = every copy
        self.discrete = discrete  # per agent, int64
        self.continuous = continuous  # per agent, float32

    def WhichOneof(self, _):  # pylint: disable=invalid-name
        """As Request.WhichOneof("payload")."""
        return "step"


class _Budget:
    """Handles and estimated bytes held (or being made) by one client or by
    everyone."""

    def __init__(self):
        self.handles = 0
        self.bytes = 0


class EnvService:
    """Serves every environment registered with marl_env.register."""

    def __init__(self, options=None, clock=time.monotonic):
        self.options = options or ServiceOptions()
        self._clock = clock
        self._lock = threading.Lock()
        self._handles = {}
        # Handle ids are drawn at random in [2^52, 2^53), as the C++ server
        # does: one client cannot guess another's handles.
        self._handle_ids = random.Random(secrets.randbits(64))
        self._next_make = 1
        self._server = _Budget()
        self._clients = {}  # client id -> _Budget

    @property
    def num_handles(self):
        return len(self._handles)

    def client_usage(self, client):
        """(handles, estimated bytes) charged to `client`."""
        with self._lock:
            budget = self._clients.get(client)
            return (budget.handles, budget.bytes) if budget else (0, 0)

    @property
    def server_bytes(self):
        return self._server.bytes

    # ----------------------------------------------------------- bytes --

    def handle_bytes(self, data, client=b""):
        """Parses a serialized Request; returns the serialized Response."""
        request, error = self.parse(data)
        if request is None:
            return error
        return self.respond(request, client)

    @staticmethod
    def parse(data):
        """(request, None), or (None, serialized error Response) when the
        bytes are not a whole Request. The request is a StepCall for a
        step (the usual request, read in C++), else a Request."""
        try:
            step = _codec.read_step_request(bytes(data))
        except (MemoryError, TypeError, ValueError):
            step = None  # the Python parser answers, with its status
        if step is not None:
            return StepCall(*step), None
        request = pb.Request()
        try:
            data = bytes(data)
            consumed = request.MergeFromString(data)
            # Bytes that are exactly what protobuf writes for the message
            # they parsed to (what every client sends) were read whole.
            # Anything else (another valid encoding, or bytes protobuf's C
            # parser stopped in early at a stray end-group tag, with only a
            # warning, even counting the tag consumed when it is the last
            # byte) is parsed again, watching for that warning.
            # (Proto3 has no required fields: the partial serializer is
            # the whole one, without its initialization check.)
            if consumed != len(data) or \
                    request.SerializePartialToString() != data:
                request = _parse_watching_end_groups(data)
        except MemoryError:
            return None, error_reply(
                pb.RESOURCE_EXHAUSTED,
                "out of memory parsing a request of %d bytes" % len(data))
        except (protobuf_message.DecodeError, ValueError, RuntimeError,
                TypeError):
            return None, error_reply(
                pb.INVALID_ARGUMENT,
                "request of %d bytes is not a marl.env.v3.Request" %
                len(data))
        return request, None

    @staticmethod
    def serialize(response):
        try:
            # Proto3: nothing is required, so the check SerializeToString
            # adds (a walk of the message) can never fail.
            return response.SerializePartialToString()
        except MemoryError:
            return error_reply(pb.RESOURCE_EXHAUSTED,
                               "out of memory serializing the reply",
                               response.request_id)

    # -------------------------------------------------------- planning --

    def plan(self, request):
        """(key, cheap) for the server's scheduler: `key` names what the
        request works on (a handle, a new make, or None for requests that
        touch no handle); requests with the same key are handled in
        arrival order. `cheap`: fast enough for the front thread (every
        make is not; a reset/step only once its handle was measured fast
        for that many copies)."""
        operation = request.WhichOneof("payload")
        if operation == "make":
            with self._lock:
                key = ("make", self._next_make)
                self._next_make += 1
            return key, False
        if operation == "step" or operation == "reset":
            body = (request if isinstance(request, StepCall)
                    else request.step if operation == "step"
                    else request.reset)
            state = self._handles.get(body.handle)
            if state is None:
                return body.handle, True  # NOT_FOUND at once
            per_row = (state.step_seconds_per_row if operation == "step"
                       else state.reset_seconds_per_row)
            rows = len(body.copies) or state.num_copies
            return body.handle, (
                per_row is not None and
                per_row * rows <= self.options.inline_max_seconds)
        if operation == "close":
            return request.close.handle, True
        return None, True

    # --------------------------------------------------------- handling --

    def respond(self, request, client=b""):
        """Handles a request from parse() sent by `client`; returns the
        serialized Response. A step's reply is written in C++."""
        if not isinstance(request, StepCall):
            return self.serialize(self.handle(request, client))
        try:
            return _codec.step_reply(request.request_id,
                                     self._step_call(request),
                                     len(request.copies) > 0)
        except Exception as error:  # pylint: disable=broad-except
            code, message = _error_status(error, "step")
            return error_reply(code, message, request.request_id)

    def handle(self, request, client=b""):
        """Handles a parsed Request (or StepCall) from `client`; returns a
        Response."""
        response = pb.Response()
        response.request_id = request.request_id
        try:
            if isinstance(request, StepCall):
                convert.rows_to_proto(self._step_call(request),
                                      response.step.timestep,
                                      len(request.copies) > 0)
            else:
                self._dispatch(request, response, client)
        except Exception as error:  # pylint: disable=broad-except
            _fail(response,
                  *_error_status(error, request.WhichOneof("payload")))
        else:
            response.status.code = pb.OK
        return response

    def _dispatch(self, request, response, client):
        operation = request.WhichOneof("payload")
        if operation == "step":  # the usual request first
            step = request.step
            convert.rows_to_proto(
                self._step(step.handle, step.copies, step),
                response.step.timestep, len(step.copies) > 0)
        elif operation == "reset":
            self._reset(request.reset, response.reset.timestep)
        elif operation == "handshake":
            self._handshake(request.handshake, response.handshake)
        elif operation == "list_environments":
            self._list(response.list_environments)
        elif operation == "make":
            self._make(request.make, response.make, client)
        elif operation == "close":
            response.close.SetInParent()
            self._close(request.close)
        else:
            raise StatusError(
                Code.UNIMPLEMENTED,
                "request carries no known operation (handshake, "
                "list_environments, make, reset, step, close)")

    def _handshake(self, request, response):
        options = self.options
        response.protocol_version = PROTOCOL_VERSION
        response.server_name = options.server_name
        response.capabilities.extend(CAPABILITIES)
        if options.curve:
            response.capabilities.append("curve")
        response.max_copies_per_handle = options.max_copies_per_handle
        response.idle_handle_timeout_seconds = (
            options.idle_handle_timeout_seconds)
        response.max_message_bytes = options.max_message_bytes
        response.max_handles = options.max_handles
        response.max_handles_per_client = options.max_handles_per_client
        response.max_handle_bytes = options.max_handle_bytes
        response.max_client_bytes = options.max_client_bytes
        response.max_server_bytes = options.max_server_bytes
        if request.protocol_version != PROTOCOL_VERSION:
            raise StatusError(
                Code.FAILED_PRECONDITION,
                "client speaks protocol version %d; this server speaks %d" %
                (request.protocol_version, PROTOCOL_VERSION))

    def _list(self, response):
        for name, env_class in env_lib.registered().items():
            info = response.environments.add()
            info.name = name
            info.description = env_class.description
            # Its own settings, then message_size (the message channel).
            for setting in env_lib.accepted_settings(env_class):
                declared = info.settings.add()
                declared.name = setting.name
                declared.description = setting.description
                convert.value_to_proto(setting.default, declared.default_value)

    def _make(self, request, response, client):
        num_copies = request.num_copies or 1
        limit = self.options.max_copies_per_handle
        if num_copies < 0 or num_copies > limit:
            raise invalid_argument("num_copies must be in [1, %d], got %d" %
                                   (limit, num_copies))
        if request.auto_reset not in (pb.SAME_STEP, pb.NONE):
            raise invalid_argument("unknown auto_reset mode")
        try:
            given = convert.settings_from_proto(request.settings)
        except ValueError as error:
            raise invalid_argument(str(error)) from None
        try:
            env_class = env_lib.find(request.name)
        except KeyError as error:
            raise StatusError(Code.NOT_FOUND, error.args[0]) from None
        try:
            settings = env_lib.resolve_settings(
                env_lib.accepted_settings(env_class), given)
            per_copy = copy_bytes_estimate(env_class, settings)
        except (ValueError, OverflowError) as error:
            raise invalid_argument(str(error)) from None
        # Charged before anything is built; released if the make fails.
        estimate = per_copy * num_copies
        self._charge(client, 1, estimate, request.name,
                     "%d copies x %d bytes" % (num_copies, per_copy))
        try:
            handle, spec = self._build(request, settings, num_copies, client,
                                       estimate)
        except BaseException:
            self._release(client, 1, estimate)
            raise
        response.handle = handle
        response.spec.CopyFrom(spec)
        response.estimated_bytes = self._handles[handle].estimated_bytes

    def _build(self, request, settings, num_copies, client, estimate):
        auto_reset = request.auto_reset == pb.SAME_STEP
        try:
            batch = EnvBatch.create(request.name, settings, num_copies,
                                    request.seed, auto_reset)
        except StatusError as error:
            if error.code == Code.INTERNAL and isinstance(
                    error.__context__, OverflowError):
                # Arithmetic on a setting the environment cannot use.
                raise invalid_argument(error.message) from None
            raise
        # The reply buffers, now that the spec is known.
        buffers = buffer_bytes_per_copy(batch.spec, auto_reset) * num_copies
        self._charge(client, 0, buffers, request.name,
                     "%d copies' reply buffers" % num_copies,
                     held=estimate)
        try:
            spec = pb.EnvSpec()
            spec.name = request.name
            for name in sorted(batch.settings):
                setting = spec.settings.add()
                setting.name = name
                convert.value_to_proto(batch.settings[name], setting.value)
            spec.num_copies = num_copies
            try:
                convert.spec_to_proto(batch.spec, spec)
            except (ValueError, OverflowError) as error:
                raise invalid_argument(
                    "environment '%s' with these settings has a spec the "
                    "protocol cannot carry: %s" % (request.name, error)) \
                    from None
            spec.auto_reset = request.auto_reset
            with self._lock:
                handle = (1 << 52) | self._handle_ids.getrandbits(52)
                while handle in self._handles:
                    handle = (1 << 52) | self._handle_ids.getrandbits(52)
                self._handles[handle] = _Handle(batch, spec, client,
                                                estimate + buffers,
                                                self._clock())
        except BaseException:
            self._release(client, 0, buffers)
            raise
        return handle, spec

    def _charge(self, client, handles, nbytes, name, detail, held=0):
        """Counts `handles` more handles and `nbytes` more estimated bytes
        against `client` and the server, or raises RESOURCE_EXHAUSTED naming
        the limit, its flag and the amount. `held`: bytes this make already
        holds (for the per-handle limit)."""
        options = self.options
        with self._lock:
            budget = self._clients.get(client) or _Budget()
            if handles:
                if options.max_handles and \
                        self._server.handles + handles > options.max_handles:
                    raise resource_exhausted(
                        "server holds %d handles, its limit (--max_handles=%d)"
                        "; close some first" %
                        (self._server.handles, options.max_handles))
                if options.max_handles_per_client and \
                        budget.handles + handles > \
                        options.max_handles_per_client:
                    raise resource_exhausted(
                        "this client holds %d handles, its limit "
                        "(--max_handles_per_client=%d); close some first" %
                        (budget.handles, options.max_handles_per_client))
            total = held + nbytes
            if options.max_handle_bytes and total > options.max_handle_bytes:
                raise resource_exhausted(
                    "make of '%s' needs an estimated %d bytes (%s), over the "
                    "per-handle limit of %d bytes (--max_handle_bytes)" %
                    (name, total, detail, options.max_handle_bytes))
            if options.max_client_bytes and \
                    budget.bytes + nbytes > options.max_client_bytes:
                raise resource_exhausted(
                    "make of '%s' needs an estimated %d bytes (%s); this "
                    "client already holds %d of its limit of %d bytes "
                    "(--max_client_bytes); close some handles first" %
                    (name, nbytes, detail, budget.bytes,
                     options.max_client_bytes))
            if options.max_server_bytes and \
                    self._server.bytes + nbytes > options.max_server_bytes:
                raise resource_exhausted(
                    "make of '%s' needs an estimated %d bytes (%s); the "
                    "server already holds %d of its limit of %d bytes "
                    "(--max_server_bytes)" %
                    (name, nbytes, detail, self._server.bytes,
                     options.max_server_bytes))
            self._clients[client] = budget
            for held_by in (budget, self._server):
                held_by.handles += handles
                held_by.bytes += nbytes

    def _release(self, client, handles, nbytes):
        with self._lock:
            self._release_locked(client, handles, nbytes)

    def _release_locked(self, client, handles, nbytes):
        budget = self._clients.get(client)
        for held_by in (budget, self._server):
            if held_by is not None:
                held_by.handles -= handles
                held_by.bytes -= nbytes
        if budget is not None and budget.handles <= 0 and budget.bytes <= 0:
            del self._clients[client]

    def _find(self, handle):
        found = self._handles.get(handle)
        if found is None:
            raise not_found(
                "handle %d is unknown, closed or expired (idle for over %d s)"
                % (handle, self.options.idle_handle_timeout_seconds))
        found.last_used = self._clock()
        return found

    def _reset(self, request, timestep):
        state = self._find(request.handle)
        batch = state.batch
        copies = batch.resolve_copies(request.copies)
        start = time.perf_counter()
        rows = batch.reset(copies, list(request.seeds))
        state.reset_seconds_per_row = state.updated(
            state.reset_seconds_per_row, time.perf_counter() - start,
            len(copies))
        convert.rows_to_proto(rows, timestep, len(request.copies) > 0)

    def _step_call(self, call):
        """A StepCall's batch.Rows."""
        return self._step(call.handle, call.copies,
                          (call.discrete, call.continuous))

    def _step(self, handle, copies, actions):
        """Steps `copies` of `handle`; the batch.Rows. actions: (discrete,
        continuous) arrays per agent, or the StepRequest to read them from
        (after the handle and copies are found good, as the C++ server
        does)."""
        state = self._find(handle)
        batch = state.batch
        copies = batch.resolve_copies(copies)
        if not isinstance(actions, tuple):
            try:
                actions = convert.step_actions(actions)
            except ValueError as error:
                raise invalid_argument(str(error)) from None
        packed = batch.check_step(copies, *actions)
        start = time.perf_counter()
        rows = batch.step(copies, packed)
        state.step_seconds_per_row = state.updated(
            state.step_seconds_per_row, time.perf_counter() - start,
            len(copies))
        return rows

    def _close(self, request):
        with self._lock:
            state = self._handles.pop(request.handle, None)
            if state is not None:
                self._release_locked(state.owner, 1, state.estimated_bytes)
        if state is None:
            raise not_found("handle %d is unknown, closed or expired" %
                            request.handle)

    def expire_idle_handles(self, now=None, busy=()):
        """Closes handles idle longer than the timeout (except those in
        `busy`, which have work queued); returns how many."""
        timeout = self.options.idle_handle_timeout_seconds
        if timeout <= 0:
            return 0
        now = self._clock() if now is None else now
        with self._lock:
            idle = [h for h, state in self._handles.items()
                    if now - state.last_used > timeout and h not in busy]
            for handle in idle:
                state = self._handles.pop(handle)
                self._release_locked(state.owner, 1, state.estimated_bytes)
        return len(idle)


def _parse_watching_end_groups(data):
    """A Request parsed from bytes that must be consumed whole, with no
    stray end-group tag; ValueError otherwise. (Recording swaps the
    process's warning filters briefly; parses run on one thread.)"""
    request = pb.Request()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        consumed = request.MergeFromString(data)
    if consumed != len(data) or any("end-group" in str(w.message)
                                    for w in caught):
        raise ValueError("parsed %d of %d bytes" % (consumed, len(data)))
    return request


# The first parse of a request (EnvService.parse) needs no warning: a stray
# end-group tag there is caught by the second.
warnings.filterwarnings("ignore", message="Unexpected end-group tag",
                        module=__name__)


def _error_status(error, operation):
    """(code, message) of the error reply to an exception raised while
    handling `operation`."""
    if isinstance(error, StatusError):
        code = error.code
        if code == Code.INTERNAL and isinstance(error.__context__,
                                                MemoryError):
            code = Code.RESOURCE_EXHAUSTED  # from the environment's code
        return code, error.message
    if isinstance(error, MemoryError):
        return Code.RESOURCE_EXHAUSTED, "out of memory handling %s%s" % (
            operation, ": %s" % error if str(error) else "")
    # A bug here must not take the server down.
    return Code.INTERNAL, "%s: %s" % (type(error).__name__, error)


def _fail(response, code, message):
    # An error carries no payload: drop whatever was half-built.
    response.ClearField("payload")
    response.status.code = int(code)
    response.status.message = message


def error_reply(code, message, request_id=0):
    """A serialized error Response."""
    response = pb.Response()
    response.request_id = request_id
    response.status.code = code
    response.status.message = message
    return response.SerializeToString()
