"""The conflict errors every app's services raise and every caller (pages, API, imports, commands) maps.

They live below the apps so that the API's error handler (accounts) and the ledger can name them
without importing the indicators app.
"""


class ConflictError(Exception):
    """The data moved on: a stale form, a locked period, a step the current state does not allow."""

    def __init__(self, message):
        self.message = message
        super().__init__(message)


class StaleVersion(ConflictError):
    """The form or client read an older version than the one stored (the API answers 412)."""


class PeriodLocked(ConflictError):
    """The province confirmed the period: its data is locked until reopened."""


class WrongState(ConflictError):
    """The review state does not allow the step asked for."""
