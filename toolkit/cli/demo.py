"""`mednec demo`: a practice with a year of history to try every screen on."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("demo.xlsm"),
              show_default=True, help="Where to write the demo workbook (its 835 files go in a folder beside it).")
@click.option("--seed", type=int, default=None, help="Another invented practice-year (default: the documented one).")
@click.option("--force", is_flag=True, help="Replace a workbook already at --out (a dated backup is kept).")
def demo(out, seed, force):
    """Write a demo workbook: an invented spine-and-joint practice with a year of claim lines
    (Dec 2025 - Nov 2026), its payers' rules, monthly 835 remittances imported into the denial
    log, appeals and their outcomes, and the Dashboard refreshed as of 2026-11-30.

    The medical-necessity checklist is adopted in June 2026: watch the denial rate fall. Try
    every command on it, e.g. `mednec digest --workbook demo.xlsm --month 2026-11`.
    """
    from ..demo import DEMO_SEED, build_demo
    from ..errors import InputError
    from ..workbook.build import rows_of_work
    from ..workbook.files import ensure_not_locked
    from .workbook import backup_copy

    ensure_not_locked(out)
    if out.exists():
        if not force:
            raise InputError(f"{out.name} already exists: it was not replaced. Give another --out, or add --force "
                             "(a dated backup is kept)")
        if rows_of_work(out):
            click.echo(f"Kept the old workbook as {backup_copy(out)}")
    summary = build_demo(out, seed=DEMO_SEED if seed is None else seed)
    click.echo(summary.text())
