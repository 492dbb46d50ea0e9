"""The one error a user sees: a single line naming the file, sheet, row and column.

Messages never carry cell values from patient columns: a row number is enough to find the
problem, and an error message may end up in a log or a support e-mail (no PHI there).
"""

from __future__ import annotations

from pathlib import Path


class MednecError(Exception):
    """Anything that stops a job; the CLI prints ``str(err)`` and exits non-zero."""

    exit_code = 1


class InputError(MednecError):
    """Unusable input: a file, table, header or value the job cannot work with."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | Path | None = None, sheet: str | None = None,
                 row: int | None = None, column: str | None = None):
        self.message, self.file, self.sheet, self.row, self.column = message, file, sheet, row, column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(Path(self.file).name)
        if self.sheet:
            where.append(f"sheet {self.sheet}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class WorkbookLocked(MednecError):
    """Excel holds the workbook open; writing now would lose the user's unsaved work."""

    exit_code = 3
