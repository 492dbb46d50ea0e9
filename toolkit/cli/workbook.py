"""`mednec build-workbook` and `mednec excel-setup`: the Excel front end's two set-up commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..errors import InputError, MednecError


@click.command("build-workbook")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the workbook (default: workbooks/medical_necessity.xlsm in the repository, "
                   "else medical_necessity.xlsm in this folder).")
@click.option("--empty", is_flag=True, help="Leave the Claims, Rules and Payers tables empty (no sample data).")
@click.option("--force", is_flag=True,
              help="Replace a workbook that holds your claim, rule, payer or denial rows (a dated backup is kept).")
def build_workbook(out, empty, force):
    """Write the macro-enabled workbook billers work in: Claims, Rules, Payers, Denials, Dashboard,
    Settings, with the Validate, Import 835, Appeal Letter, Checklists, Dashboard and Digest buttons.

    The sample claim lines, rules and payers are loaded unless --empty is given. A workbook
    already at that place that holds claim, rule, payer or denial rows is never replaced without
    --force; with --force it is first copied to a dated backup beside it. Close it in Excel first.
    """
    from ..workbook.build import DEFAULT_OUT, SAMPLE_DIR, rows_of_work
    from ..workbook.build import build_workbook as build
    from ..workbook.files import ensure_not_locked
    from ..workbook.lock import updating

    target = out or DEFAULT_OUT
    ensure_not_locked(target)
    backup = None
    try:  # a new folder for a new workbook, as before: the lock file sits beside it
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # the lock says which folder cannot be written
    with updating(target):
        if target.exists():
            work = rows_of_work(target)
            if work and not force:
                raise InputError(f"{target.name} already holds {work}: it was not replaced. Give another --out, "
                                 "or add --force to replace it (a dated backup is kept)")
            if work:
                backup = backup_copy(target)
        path = build(target, sample_dir=None if empty else SAMPLE_DIR)
    if backup is not None:
        click.echo(f"Kept the old workbook as {backup}")
    click.echo(f"Wrote {path}")


def backup_copy(path: Path) -> Path:
    """Copy ``path`` to ``<stem>.backup-YYYY-MM-DD-HHMMSS<suffix>`` beside it (never over another file)."""
    import datetime as dt
    import shutil

    stamp = dt.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    backup = path.with_name(f"{path.stem}.backup-{stamp}{path.suffix}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.stem}.backup-{stamp}-{n}{path.suffix}")
    shutil.copy2(path, backup)
    return backup


def default_interpreter() -> str:
    """This Python: pythonw.exe on Windows (no console window flashing up per click)."""
    exe = Path(sys.executable)
    if os.name == "nt":
        windowless = exe.with_name("pythonw.exe")
        if windowless.exists():
            return str(windowless)
    return str(exe)


def _platform_key(platform: str) -> str:
    return "Interpreter_Win" if platform == "win" else "Interpreter_Mac"


@click.command("excel-setup")
@click.option("--workbook", "workbook", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The workbook whose buttons should use this Python (writes its hidden xlwings.conf sheet).")
@click.option("--interpreter", type=click.Path(dir_okay=False), default=None,
              help="The Python to run (default: the one running this command; pythonw.exe on Windows).")
@click.option("--user", "user_config", is_flag=True,
              help="Write your own ~/.xlwings/xlwings.conf instead (every workbook on this PC uses it).")
@click.option("--platform", type=click.Choice(["win", "mac"]), default=None,
              help="Which setting to write (default: this computer's: Windows or Mac).")
def excel_setup(workbook, interpreter, user_config, platform):
    """Tell the workbook's buttons which Python to start (needed once per PC or per workbook).

    Without it the buttons say "Could not find Interpreter!". On a Mac, also run
    `xlwings runpython install` once.
    """
    platform = platform or ("win" if os.name == "nt" else "mac")
    interpreter = interpreter or default_interpreter()
    key = _platform_key(platform)
    if user_config:
        path = write_user_config(key, interpreter)
        click.echo(f"Wrote {key} = {interpreter} to {path}")
        return
    if workbook is None:
        raise InputError("give --workbook FILE (or --user to set it for every workbook on this PC)")
    set_workbook_config(workbook, key, interpreter)
    click.echo(f"Wrote {key} = {interpreter} to the xlwings.conf sheet of {workbook.name}")


def set_workbook_config(workbook: Path, key: str, value: str) -> None:
    """Set one key of the workbook's hidden ``xlwings.conf`` sheet (macros kept, atomic save)."""
    from ..workbook.files import WorkbookFile

    book = WorkbookFile(workbook)  # holds the workbook's lock until save()
    if "xlwings.conf" in book.wb.sheetnames:
        ws = book.wb["xlwings.conf"]
    else:
        ws = book.wb.create_sheet("xlwings.conf")
        ws.sheet_state = "hidden"
    row = 1
    while ws.cell(row, 1).value not in (None, ""):
        if str(ws.cell(row, 1).value).strip().casefold() == key.casefold():
            break
        row += 1
    from ..workbook.files import put

    put(ws.cell(row, 1), key)
    put(ws.cell(row, 2), value)
    book.save()


def write_user_config(key: str, value: str, path: Path | None = None, *, encoding: str | None = None) -> Path:
    """Set one key in ``~/.xlwings/xlwings.conf`` (the format VBA's ``Write #`` produces)."""
    path = path or Path.home() / ".xlwings" / "xlwings.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    encoding = encoding or vba_file_encoding()
    lines = []
    if path.exists():
        for line in path.read_text(encoding=encoding, errors="replace").splitlines():
            name = line.split(",", 1)[0].strip().strip('"')
            if name.casefold() != key.casefold() and line.strip():
                lines.append(line)
    if '"' in value:
        raise MednecError("the interpreter path cannot contain a double quote")
    lines.append(f'"{key.upper()}","{value}"')
    text = "\r\n".join(lines) + "\r\n"
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        raise MednecError(f"the interpreter path has characters Excel cannot read on this PC ({encoding}): "
                          "put the virtual environment in a folder with a plain name, e.g. C:\\mednec\\venv") from None
    path.write_bytes(data)
    return path


def vba_file_encoding() -> str:
    """The encoding VBA's ``Line Input #`` reads a text file in: the Windows ANSI code page
    (``mbcs``, e.g. Windows-1252), not UTF-8, so a user folder like ``C:\\Users\\Muñoz`` must be
    written in it. Excel for Mac reads its config as UTF-8."""
    return "mbcs" if os.name == "nt" else "utf-8"
