"""The workbook-access seam, declared: what a job may ask of a workbook.

Three implementations: ``toolkit.workbook.files.WorkbookFile`` (a file edited in place with
openpyxl), ``toolkit.workbook.files.ReadOnlyWorkbook`` (a file read with python-calamine) and
``toolkit.excel.live.LiveBook`` (the workbook open in Excel, through xlwings).  Jobs take a
``Book`` (reading) or a ``WritableBook`` and call its methods directly, never probing with
``hasattr``; mypy checks that all three agree (``_conforms`` below).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from ..tables import TableSpec


class Book(Protocol):
    """A workbook a job reads: its tables by contract name, and its Settings."""

    path: Path

    def has_table(self, spec: TableSpec) -> bool:
        """Whether the workbook has the table (an Excel Table, or a sheet of that name)."""
        ...

    def read_table(self, spec: TableSpec) -> pd.DataFrame:
        """The raw table, indexed by the row numbers the biller sees."""
        ...

    def settings(self) -> dict[str, str]:
        """The Settings sheet as Key → Value ({} without one)."""
        ...


class WritableBook(Book, Protocol):
    """A workbook a job also writes.  Every value is written as data: text is a text cell, never a
    formula, on every implementation."""

    def write_columns(self, spec: TableSpec, frame: pd.DataFrame) -> None:
        """Each column of ``frame`` into the table's column of that header, by row number."""
        ...

    def append_rows(self, spec: TableSpec, frame: pd.DataFrame) -> list[int]:
        """Rows added under the table (extending it); their row numbers."""
        ...

    def write_cells(self, sheet_name: str, top_left: str, rows: Any) -> None:
        """A block of values at ``top_left`` of a sheet (created if missing)."""
        ...

    def save(self, path: Path | None = None) -> Path:
        """Replace the file atomically (a file book) or leave it to the biller (the live book)."""
        ...


if TYPE_CHECKING:
    from ..excel.live import LiveBook
    from .files import ReadOnlyWorkbook, WorkbookFile

    def _conforms(file: WorkbookFile, live: LiveBook,
                  read_only: ReadOnlyWorkbook) -> tuple[WritableBook, WritableBook, Book]:
        """Never called: mypy proves here that the three implementations match the protocols."""
        return file, live, read_only
