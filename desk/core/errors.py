"""Errors the user can read: each says what went wrong and, where possible, what to do."""


class DeskError(Exception):
    """Base class: the message is shown to the user as is."""


class BadDocument(DeskError):
    """A file that cannot be imported (corrupt, encrypted, empty, not a PDF)."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class IndexMismatch(DeskError):
    """The matter's index was built with other embedder or chunking settings."""


class MatterBusy(DeskError):
    """Another process is writing to the matter."""


class ModelError(DeskError):
    """A model file is missing, truncated, not GGUF, or fails its checksum."""


class Cancelled(DeskError):
    """The user cancelled the running job."""
