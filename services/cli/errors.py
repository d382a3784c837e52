"""Errors that stop a load as a whole (exit code 2). A bad row is not one of them: it is a
Rejection, reported with its line number while the good rows still load.

    CliError
    ├── InputError    the file is missing, unreadable, not UTF-8, or of an unknown format
    └── BrokerError   Kafka could not be reached or did not confirm a write
"""

from __future__ import annotations


class CliError(Exception):
    """A one-line message for the operator; never shown with a traceback."""


class InputError(CliError):
    pass


class BrokerError(CliError):
    pass
