"""The scheduler with an injectable clock: a simulated year, restarts, a month while "off",
failed sends retried; and the real process stopping cleanly on SIGTERM."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

try:
    from test_digest import DENIAL_LOG, make_workbook
    from test_mail import Inbox, free_port
except ImportError:  # tests/ imported as a package
    from tests.test_digest import DENIAL_LOG, make_workbook
    from tests.test_mail import Inbox, free_port

from toolkit.scheduler import Scheduler, due_occurrences, first_business_day, is_business_day, load_state


class Clock:
    """The injectable clock: the test moves time forward."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def play(scheduler: Scheduler, clock: Clock, until: dt.datetime, step=dt.timedelta(hours=6)) -> list[str]:
    ran = []
    while clock.now <= until:
        ran += scheduler.run_due()
        clock.now += step
    return ran


def make_scheduler(tmp_path, clock, log=None, **kw) -> Scheduler:
    wb = tmp_path / "wb.xlsx"
    if not wb.exists():
        make_workbook(wb, **kw)
    return Scheduler(wb, tmp_path / "state.json", outbox=tmp_path / "outbox", out_dir=tmp_path / "packs",
                     clock=clock, env={}, log=(log.append if log is not None else lambda line: None))


def kinds(keys) -> Counter:
    return Counter(k.split(":")[0] for k in keys)


def test_first_business_day_skips_weekends_new_year_and_labor_day():
    assert first_business_day(2026, 3) == dt.date(2026, 3, 2)  # Mar 1 is a Sunday
    assert first_business_day(2027, 1) == dt.date(2027, 1, 4)  # Jan 1 a Friday (holiday), then the weekend
    assert first_business_day(2025, 9) == dt.date(2025, 9, 2)  # Sep 1 2025 is Labor Day


def test_occurrences_due_at_0800_on_the_first_business_day():
    since = dt.datetime(2026, 3, 1)
    before = due_occurrences(since, dt.datetime(2026, 4, 1, 7, 59))
    after = due_occurrences(since, dt.datetime(2026, 4, 1, 8, 0))
    assert "digest:2026-03" not in [o.key for o in before]
    assert {"digest:2026-03", "huddle:2026Q1", "reminder:2026-04-01"} <= {o.key for o in after}


def test_a_simulated_year_gives_exactly_12_digests_and_4_huddle_packs(tmp_path):
    clock = Clock(dt.datetime(2026, 1, 1, 0, 0))
    scheduler = make_scheduler(tmp_path, clock)
    ran = play(scheduler, clock, dt.datetime(2026, 12, 31, 23, 59))
    counts = kinds(ran)
    assert counts["digest"] == 12 and counts["huddle"] == 4
    assert len(set(ran)) == len(ran)  # nothing ran twice
    # Every business day had its reminder (the step of 6 hours reaches each day after 08:00).
    business_days = sum(1 for d in range(365) if is_business_day(dt.date(2026, 1, 1) + dt.timedelta(days=d)))
    assert counts["reminder"] == business_days
    # ...but an e-mail only on the days an open appeal deadline is within 14 days.
    open_deadlines = [dt.date.fromisoformat(d[5]) for d in DENIAL_LOG if d[4] == "Open"]
    days_due = [k.split(":")[1] for k in ran if k.startswith("reminder:")
                and any(0 <= (x - dt.date.fromisoformat(k.split(":")[1])).days <= 14 for x in open_deadlines)]
    assert sorted(p.name for p in (tmp_path / "outbox").glob("appeal-reminder-*.eml")) == [
        f"appeal-reminder-{d}.eml" for d in sorted(days_due)]
    assert 0 < len(days_due) < business_days
    digests = sorted(p.name for p in (tmp_path / "outbox").glob("digest-*.eml"))
    assert digests == [f"digest-{m}.eml" for m in ["2025-12"] + [f"2026-{i:02d}" for i in range(1, 12)]]
    assert sorted(p.name for p in (tmp_path / "packs").glob("*.docx")) == [
        "policy-huddle-2025Q4.docx", "policy-huddle-2026Q1.docx", "policy-huddle-2026Q2.docx",
        "policy-huddle-2026Q3.docx"]
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["done"]["digest:2026-03"]["at"] == "2026-04-01T12:00:00"  # first tick after 08:00
    # The state file stays small: old reminders are forgotten (they can never come due again).
    assert sum(k.startswith("reminder:") for k in state["done"]) <= 45


def test_killing_and_restarting_midway_runs_nothing_twice(tmp_path):
    log = []
    clock = Clock(dt.datetime(2026, 1, 1))
    first = make_scheduler(tmp_path, clock, log)
    ran = play(first, clock, dt.datetime(2026, 6, 15, 9, 0))

    class PowerCut(BaseException):
        """Stands in for the process being killed right after a job wrote its output but
        before the state file recorded it (the one window a restart must cover)."""

    class KilledAfterOutput(Scheduler):
        def run_job(self, occ, now):
            result = super().run_job(occ, now)
            if occ.kind == "digest":
                raise PowerCut()
            return result

    clock.now = dt.datetime(2026, 7, 1, 9, 0)
    killed = KilledAfterOutput(tmp_path / "wb.xlsx", tmp_path / "state.json", outbox=tmp_path / "outbox",
                               out_dir=tmp_path / "packs", clock=clock, env={}, log=log.append)
    with pytest.raises(PowerCut):
        killed.run_due()

    restarted = make_scheduler(tmp_path, clock, log)
    ran += play(restarted, clock, dt.datetime(2026, 12, 31, 23, 59))
    counts = kinds(ran)
    assert counts["digest"] == 12 and counts["huddle"] == 4 and len(set(ran)) == len(ran)
    # The June digest written before the "kill" was rewritten under the same name, not duplicated.
    assert len(list((tmp_path / "outbox").glob("digest-2026-06*.eml"))) == 1
    assert len(list((tmp_path / "outbox").glob("digest-*.eml"))) == 12


def test_a_month_skipped_while_off_is_caught_up_once(tmp_path):
    clock = Clock(dt.datetime(2026, 1, 1))
    scheduler = make_scheduler(tmp_path, clock)
    ran = play(scheduler, clock, dt.datetime(2026, 3, 31, 23, 0))
    # Off from April 1 until May 20 (no ticks at all), then on again with a fresh process.
    clock.now = dt.datetime(2026, 5, 20, 9, 30)
    back = make_scheduler(tmp_path, clock)
    first_tick = back.run_due()
    assert first_tick == ["digest:2026-03", "huddle:2026Q1", "digest:2026-04", "reminder:2026-05-20"]
    assert back.run_due() == []  # a second tick finds nothing left
    ran += first_tick + play(back, clock, dt.datetime(2026, 6, 30, 23, 0))
    assert kinds(ran)["digest"] == len({k for k in ran if k.startswith("digest:")}) == 6  # Dec..May


def test_a_second_scheduler_for_the_same_workbook_waits_while_the_first_is_alive(tmp_path):
    """The lock is an OS file lock: held by a live process it blocks; kill -9 that process and
    the very next tick runs (no pid file, no 6-hour wait, the same on Windows)."""
    from toolkit.workbook.lock import lock_path

    log = []
    clock = Clock(dt.datetime(2026, 4, 1, 9, 0))
    scheduler = make_scheduler(tmp_path, clock, log)
    held = lock_path(tmp_path / "state.json")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); "
        "print('held', flush=True); time.sleep(60)"), str(held)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert scheduler.run_due() == [] and "another scheduler" in log[-1]
    finally:
        holder.kill()  # SIGKILL: the process cannot clean anything up
        holder.wait()
    assert "digest:2026-03" in scheduler.run_due()


def test_a_job_that_fails_is_retried_later_and_runs_once(tmp_path):
    log = []
    clock = Clock(dt.datetime(2026, 2, 2, 7, 0))
    scheduler = make_scheduler(tmp_path, clock, log)
    scheduler.run_due()
    wb = tmp_path / "wb.xlsx"
    good = wb.read_bytes()
    wb.write_bytes(b"not a workbook")  # e.g. half-copied by a sync tool
    clock.now = dt.datetime(2026, 2, 2, 8, 0)
    assert scheduler.run_due() == []
    state = load_state(tmp_path / "state.json")
    assert state["failed"]["digest:2026-01"]["attempts"] == 1
    wb.write_bytes(good)
    clock.now += dt.timedelta(minutes=5)
    assert scheduler.run_due() == []  # not before the retry delay
    clock.now += dt.timedelta(minutes=15)
    assert scheduler.run_due() == ["digest:2026-01", "reminder:2026-02-02"]
    assert load_state(tmp_path / "state.json")["failed"] == {}


def test_a_failed_send_is_retried_later_and_delivered_exactly_once(tmp_path):
    from aiosmtpd.controller import Controller

    port = free_port()  # the mail server is down at first
    clock = Clock(dt.datetime(2026, 3, 31, 12, 0))
    scheduler = make_scheduler(tmp_path, clock, settings={"SMTP Host": "127.0.0.1", "SMTP Port": str(port)})
    clock.now = dt.datetime(2026, 4, 1, 8, 0)
    assert scheduler.run_due() == ["digest:2026-03", "huddle:2026Q1", "reminder:2026-04-01"]
    pending = sorted(p.name for p in (tmp_path / "outbox" / "pending").glob("*.eml"))
    assert pending == ["appeal-reminder-2026-04-01.eml", "digest-2026-03.eml"]
    assert "flush_failed" in load_state(tmp_path / "state.json")

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock.now += dt.timedelta(minutes=5)
        scheduler.run_due()
        assert inbox.envelopes == []  # waits for the retry delay
        clock.now += dt.timedelta(minutes=15)
        scheduler.run_due()
        restarted = make_scheduler(tmp_path, clock)
        for _ in range(4):
            clock.now += dt.timedelta(hours=1)
            restarted.run_due()
    finally:
        controller.stop()
    subjects = Counter(m["Subject"] for m in inbox.messages())
    assert subjects == {"Lakeside Spine: Did you know? Denials in March 2026": 1,
                        "Lakeside Spine: 2 appeals due by Wed Apr 15": 1}
    assert not list((tmp_path / "outbox" / "pending").glob("*.eml"))
    assert "flush_failed" not in load_state(tmp_path / "state.json")


def test_scheduler_once_runs_what_is_due_then_nothing(tmp_path):
    from toolkit.cli import cli

    wb = make_workbook(tmp_path / "wb.xlsx")
    args = ["scheduler", "--workbook", str(wb), "--once", "--state", str(tmp_path / "s.json"),
            "--outbox", str(tmp_path / "ob"), "--out-dir", str(tmp_path / "packs")]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0 and "Nothing due." in second.output
    assert json.loads((tmp_path / "s.json").read_text())["since"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_stops_the_running_scheduler_cleanly(tmp_path):
    wb = make_workbook(tmp_path / "wb.xlsx")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "scheduler", "--workbook", str(wb), "--state", str(tmp_path / "s.json"),
         "--outbox", str(tmp_path / "ob"), "--out-dir", str(tmp_path / "packs")],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(root)})
    try:
        deadline = time.time() + 30
        while not (tmp_path / "s.json").exists() and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Scheduler stopped." in out
    assert json.loads((tmp_path / "s.json").read_text())["since"]
    from toolkit.workbook.lock import acquire, release

    acquire(tmp_path / "s.json", wait=0)  # released by the stopped scheduler
    release(tmp_path / "s.json")
