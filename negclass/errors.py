"""Errors a user can cause and fix: shown as one line, without a traceback."""


class NegclassError(Exception):
    """A user-facing error with an actionable message."""


class DataError(NegclassError):
    """Labelled data that breaks the contract in ``taxonomy.md`` (names the file and line)."""

    def __init__(self, path, line: int | None, message: str):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path, self.line = path, line


class ModelError(NegclassError):
    """A model directory that is missing, tampered with or made by an incompatible version."""


class EmptyTextError(NegclassError):
    """A text with nothing of its author's to read: empty, or only quoted replies, forwarded text,
    a signature or headers once cleaned."""

    def __init__(self, message: str = "empty text: nothing to classify"):
        super().__init__(message)
