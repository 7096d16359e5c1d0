"""The one error hierarchy of leadroute.

Every error a user or a plugin can see is one of these; adapters translate httpx and
vendor errors into them at their boundary, and the CLI renders any of them as one line
and an exit code (``LeadrouteError.exit_code``), never a traceback::

    LeadrouteError                  exit 1 unless a subclass says otherwise
    ├── UserInputError              exit 2: something the user gave us is wrong
    │   ├── PolicyError             leadroute.yaml is malformed or inconsistent (names the path)
    │   ├── InputFileError          a data file is missing, unreadable or structurally malformed
    │   ├── OutputFileError         an output file cannot be written there (a folder, no permission)
    │   └── UnknownLeadError        explain/lookup of a lead the store has never seen
    ├── PluginError                 a plugin failed to load or violated the hook contract
    ├── AdapterError                a backend failed (network, vendor, file system)
    │   ├── AdapterNotFoundError    no adapter registered under that name (exit 2)
    │   ├── AuthError               credentials missing, invalid or expired beyond refresh
    │   ├── ConfigurationError      the CRM lacks what the policy writes (a property, an option) (exit 2)
    │   ├── RateLimitedError        a burst limit outlasted the retry budget
    │   └── QuotaExhaustedError     a daily quota is spent: checkpoint and stop
    └── StoreError                  the audit store cannot be opened, migrated or written
        ├── StoreFileError          the store file given is not a usable store (exit 2)
        ├── StoreNotFoundError      exit 2: --store names no store (a missing file, a
        │                           database without the leadroute tables), no --init
        └── StoreBusyError          exit 5: another run holds the store's run lock
"""

from __future__ import annotations

__all__ = [
    "AdapterError",
    "AdapterNotFoundError",
    "AuthError",
    "ConfigurationError",
    "InputFileError",
    "LeadrouteError",
    "OutputFileError",
    "PluginError",
    "PolicyError",
    "QuotaExhaustedError",
    "RateLimitedError",
    "StoreBusyError",
    "StoreError",
    "StoreFileError",
    "StoreNotFoundError",
    "UnknownLeadError",
    "UserInputError",
]


class LeadrouteError(Exception):
    """Base of every leadroute error; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1


class UserInputError(LeadrouteError):
    """Something the user supplied (a file, a flag, a policy) is wrong."""

    exit_code = 2


class PolicyError(UserInputError):
    """The policy file is malformed; the message starts with the path of the problem.

    Attributes:
        path: Dotted path inside the policy (``routing[2].pool``), or ``""`` for the file.
    """

    def __init__(self, message: str, *, path: str = "", source: str = "") -> None:
        self.path = path
        self.source = source
        where = f"{source}: " if source else ""
        at = f"{path}: " if path else ""
        # One line whatever the file holds: a key with a line break is shown escaped.
        text = f"{where}{at}{message}"
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in text))


class InputFileError(UserInputError):
    """A data file cannot be used at all (as opposed to one bad row, which is an exception row)."""

    def __init__(self, message: str, *, file: str = "", line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = file + (f":{line}" if line is not None else "")
        super().__init__(f"{where}: {message}" if where else message)


class OutputFileError(UserInputError):
    """An output file cannot be written where it was asked for (exit 2).

    Attributes:
        file: The file that could not be written.
    """

    def __init__(self, message: str, *, file: str = "") -> None:
        self.file = file
        super().__init__(f"{file}: {message}" if file else message)


class UnknownLeadError(UserInputError):
    """The store holds no decision for the lead asked about."""


class PluginError(LeadrouteError):
    """A plugin could not be loaded, or returned something the hook contract forbids."""


class AdapterError(LeadrouteError):
    """A backend (CRM, file system) failed after the adapter's own retries."""


class AdapterNotFoundError(AdapterError):
    """No adapter is registered under the requested name."""

    exit_code = 2


class AuthError(AdapterError):
    """Credentials are missing, invalid, or expired beyond refresh."""

    exit_code = 3


class ConfigurationError(AdapterError):
    """The CRM is not set up for what the policy writes: a property or an option is missing.

    Found before writing anything (an admin must create it), so no write is spent on it.
    """

    exit_code = 2


class RateLimitedError(AdapterError):
    """A burst rate limit outlasted the retry budget."""

    exit_code = 4


class QuotaExhaustedError(AdapterError):
    """A daily quota is spent; work was checkpointed and can resume later."""

    exit_code = 4


class StoreError(LeadrouteError):
    """The audit store cannot be opened, migrated or written."""


class StoreFileError(StoreError):
    """The store file the user named is corrupt, not a database, or in an impossible place."""

    exit_code = 2


class StoreNotFoundError(StoreError):
    """``--store`` names no leadroute store, and creating one was not asked for (``--init``)."""

    exit_code = 2


class StoreBusyError(StoreError):
    """Another run (``rebalance``, ``reassign``) holds the store's run lock; nothing was done."""

    exit_code = 5
