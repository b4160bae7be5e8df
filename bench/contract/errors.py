"""One exception type for every user mistake, so the CLI can print it as one line and exit 2."""


class ArchbenchError(ValueError):
    """Bad input from the user: an unknown name, a parameter out of range, a length a model cannot take.

    The message always names the bad value and the valid choices; the CLI prints it alone, without a
    traceback, and exits with status 2 before anything is written.
    """


def require(condition: bool, message: str) -> None:
    """Raise `ArchbenchError(message)` unless `condition` holds (keeps validation code one line per rule)."""
    if not condition:
        raise ArchbenchError(message)
