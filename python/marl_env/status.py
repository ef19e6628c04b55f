"""Status codes (absl::StatusCode / google.rpc.Code numbering, as in the
protocol's StatusCode enum) and the exception the server side raises."""

import enum

#: The largest reward magnitude an environment may produce (C++
#: marl::kMaxAbsReward): settings are validated so that every reachable
#: reward stays within it, and the server refuses a step whose rewards
#: leave it (INTERNAL).
MAX_ABS_REWARD = 1e30


class Code(enum.IntEnum):
    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14


class StatusError(Exception):
    """A request refused with `code` (a Code) and a readable message."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (Code(code).name, message))
        self.code = Code(code)
        self.message = message


def invalid_argument(message):
    return StatusError(Code.INVALID_ARGUMENT, message)


def not_found(message):
    return StatusError(Code.NOT_FOUND, message)


def out_of_range(message):
    return StatusError(Code.OUT_OF_RANGE, message)


def failed_precondition(message):
    return StatusError(Code.FAILED_PRECONDITION, message)


def resource_exhausted(message):
    return StatusError(Code.RESOURCE_EXHAUSTED, message)


def internal(message):
    return StatusError(Code.INTERNAL, message)


def describe(value):
    """A short description of a malformed result, for error messages."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return "%s %s" % (type(value).__name__, text)
