"""User-facing errors.

Every error a user can cause (a bad spec, a bad data file, a backend that cannot run a
feature) is a :class:`SpikeportError`. The CLI prints it as one line and exits with
``exit_code`` (2), without a traceback. Anything else escaping the CLI is a bug in spikeport
and keeps its traceback.
"""


class SpikeportError(Exception):
    """Base class for errors caused by the user's input, printed as one line."""

    exit_code = 2


class SpecError(SpikeportError):
    """An invalid network spec: names the element, the field, the value and what is allowed."""


class DataError(SpikeportError):
    """A dataset, spike file or array that cannot be read: names the file and what is wrong."""


class BackendError(SpikeportError):
    """A backend that cannot run what the spec asks for (unsupported feature, failed run)."""
