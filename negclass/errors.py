"""Errors a user can cause and fix: shown as one line, without a traceback."""


class NegclassError(Exception):
    """A user-facing error with an actionable message."""


class DataError(NegclassError):
    """Labelled data that breaks the contract in ``taxonomy.md`` (names the file and line)."""

    def __init__(self, path, line: int | None, message: str):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.detail = path, line, message

    def naming(self, path) -> "DataError":
        """The same error about the file called ``path``: the name a user knows a file by, when it
        was read from a copy (an upload saved to a temporary file)."""
        return type(self)(path, self.line, self.detail)


class NotUTF8Error(DataError):
    """A table or labelled file that is not UTF-8 text: ``score`` and ``train`` refuse it alike."""


class ModelError(NegclassError):
    """A model directory that is missing, tampered with or made by an incompatible version."""


class EmptyTextError(NegclassError):
    """A text with nothing of its author's to read: empty, or only quoted replies, forwarded text,
    a signature or headers once cleaned."""

    def __init__(self, message: str = "empty text: nothing to classify"):
        super().__init__(message)
