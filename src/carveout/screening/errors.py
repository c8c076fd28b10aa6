"""Errors raised while reading restricted-party lists and ownership files."""

from __future__ import annotations

from pathlib import Path


class ListFormatError(ValueError):
    """A list or ownership file could not be read; says where, so the user can fix the file."""

    def __init__(self, path: str | Path, line: int | None, field: str | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        where = self.path
        if line is not None:
            where += f" line {line:,}"
        if field:
            where += f", field {field}"
        super().__init__(f"{where}: {message}")
