"""The request handler: protocol bytes in, protocol bytes out, no transport.

Same operations, semantics and error statuses as the C++ EnvService
(server/env_server.cc): every request gets a response; a bad one gets an
error status, no payload, and leaves the server as it was.
"""

import time

from google.protobuf import message as protobuf_message

import env_protocol_pb2 as pb

from marl_env import convert
from marl_env import env as env_lib
from marl_env.batch import EnvBatch
from marl_env.status import Code, StatusError, invalid_argument, not_found

PROTOCOL_VERSION = 1

CAPABILITIES = ("batched_step", "auto_reset_same_step", "public_observation",
                "global_state", "action_masks", "sequential_turns",
                "reset_seeds", "copy_subsets")


class ServiceOptions:
    def __init__(self, server_name="marl-env-server-python",
                 idle_handle_timeout_seconds=600,
                 max_copies_per_handle=1 << 16, max_handles=1 << 12):
        self.server_name = server_name
        # A handle unused this long is closed; 0 = never.
        self.idle_handle_timeout_seconds = idle_handle_timeout_seconds
        self.max_copies_per_handle = max_copies_per_handle
        self.max_handles = max_handles


class _Handle:
    def __init__(self, batch, spec):
        self.batch = batch
        self.spec = spec
        self.last_used = time.monotonic()


class EnvService:
    """Serves every environment registered with marl_env.register."""

    def __init__(self, options=None, clock=time.monotonic):
        self.options = options or ServiceOptions()
        self._clock = clock
        self._handles = {}
        self._next_handle = 1

    @property
    def num_handles(self):
        return len(self._handles)

    def handle_bytes(self, data):
        """Parses a serialized Request; returns the serialized Response."""
        request = pb.Request()
        try:
            request.ParseFromString(bytes(data))
        except (protobuf_message.DecodeError, ValueError, RuntimeError):
            response = pb.Response()
            response.status.code = pb.INVALID_ARGUMENT
            response.status.message = (
                "request of %d bytes is not a marl.env.v1.Request" % len(data))
            return response.SerializeToString()
        return self.handle(request).SerializeToString()

    def handle(self, request):
        """Handles a parsed Request; returns a Response."""
        response = pb.Response()
        response.request_id = request.request_id
        try:
            self._dispatch(request, response)
        except StatusError as error:
            response.ClearField("payload")
            response.status.code = int(error.code)
            response.status.message = error.message
        except Exception as error:  # pylint: disable=broad-except
            # A bug here must not take the server down.
            response.ClearField("payload")
            response.status.code = pb.INTERNAL
            response.status.message = "%s: %s" % (type(error).__name__, error)
        else:
            response.status.code = pb.OK
        return response

    def _dispatch(self, request, response):
        operation = request.WhichOneof("payload")
        if operation == "handshake":
            self._handshake(request.handshake, response.handshake)
        elif operation == "list_environments":
            self._list(response.list_environments)
        elif operation == "make":
            self._make(request.make, response.make)
        elif operation == "reset":
            self._reset(request.reset, response.reset.timestep)
        elif operation == "step":
            self._step(request.step, response.step.timestep)
        elif operation == "close":
            response.close.SetInParent()
            self._close(request.close)
        else:
            raise StatusError(
                Code.UNIMPLEMENTED,
                "request carries no known operation (handshake, "
                "list_environments, make, reset, step, close)")

    def _handshake(self, request, response):
        response.protocol_version = PROTOCOL_VERSION
        response.server_name = self.options.server_name
        response.capabilities.extend(CAPABILITIES)
        response.max_copies_per_handle = self.options.max_copies_per_handle
        response.idle_handle_timeout_seconds = (
            self.options.idle_handle_timeout_seconds)
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
            for setting in env_class.settings:
                declared = info.settings.add()
                declared.name = setting.name
                declared.description = setting.description
                convert.value_to_proto(setting.default, declared.default_value)

    def _make(self, request, response):
        num_copies = request.num_copies or 1
        limit = self.options.max_copies_per_handle
        if num_copies < 0 or num_copies > limit:
            raise invalid_argument("num_copies must be in [1, %d], got %d" %
                                   (limit, num_copies))
        if len(self._handles) >= self.options.max_handles:
            raise StatusError(Code.RESOURCE_EXHAUSTED,
                              "server holds %d handles; close some first" %
                              len(self._handles))
        if request.auto_reset not in (pb.SAME_STEP, pb.NONE):
            raise invalid_argument("unknown auto_reset mode")
        try:
            given = convert.settings_from_proto(request.settings)
        except ValueError as error:
            raise invalid_argument(str(error)) from None
        batch = EnvBatch.create(request.name, given, num_copies, request.seed,
                                request.auto_reset == pb.SAME_STEP)
        spec = pb.EnvSpec()
        spec.name = request.name
        for name in sorted(batch.settings):
            setting = spec.settings.add()
            setting.name = name
            convert.value_to_proto(batch.settings[name], setting.value)
        spec.num_copies = num_copies
        convert.spec_to_proto(batch.spec, spec)
        spec.auto_reset = request.auto_reset
        handle = self._next_handle
        self._next_handle += 1
        self._handles[handle] = _Handle(batch, spec)
        self._handles[handle].last_used = self._clock()
        response.handle = handle
        response.spec.CopyFrom(spec)

    def _find(self, handle):
        found = self._handles.get(handle)
        if found is None:
            raise not_found(
                "handle %d is unknown, closed or expired (idle for over %d s)"
                % (handle, self.options.idle_handle_timeout_seconds))
        found.last_used = self._clock()
        return found

    def _reset(self, request, timestep):
        batch = self._find(request.handle).batch
        copies = batch.resolve_copies(request.copies)
        rows = batch.reset(copies, list(request.seeds))
        convert.rows_to_proto(rows, timestep)

    def _step(self, request, timestep):
        batch = self._find(request.handle).batch
        copies = batch.resolve_copies(request.copies)
        discrete = [a.discrete for a in request.actions]
        continuous = [a.continuous for a in request.actions]
        packed = batch.check_step(copies, discrete, continuous)
        rows = batch.step(copies, packed)
        convert.rows_to_proto(rows, timestep)

    def _close(self, request):
        if self._handles.pop(request.handle, None) is None:
            raise not_found("handle %d is unknown, closed or expired" %
                            request.handle)

    def expire_idle_handles(self, now=None):
        """Closes handles idle longer than the timeout; returns how many."""
        timeout = self.options.idle_handle_timeout_seconds
        if timeout <= 0:
            return 0
        now = self._clock() if now is None else now
        idle = [h for h, state in self._handles.items()
                if now - state.last_used > timeout]
        for handle in idle:
            del self._handles[handle]
        return len(idle)
