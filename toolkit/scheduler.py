"""Run the recurring jobs on time, exactly once each, across restarts and days the PC was off.

Jobs (times are the PC's local time; business days are Monday to Friday except New Year's Day
and Labor Day, the two holidays that can be the first of a month):

* monthly digest of month M: first business day of M+1 at 08:00;
* quarterly policy-huddle pack of quarter Q: first business day of Q+1 at 08:00;
* appeal-deadline reminder: every business day at 08:00, only when an appeal is due within 14
  days (a missed one is replaced by the latest: yesterday's list of deadlines is stale).

Each occurrence has a key (``digest:2026-03``, ``huddle:2026Q1``, ``reminder:2026-04-02``).  A
JSON state file (written atomically) records the keys done, so a restart never repeats one; on
every tick the scheduler runs each occurrence that is due, not done and not older than the day
the scheduler was first started, so a month skipped while the PC was off is caught up once.  A
job that fails (workbook open in Excel, bad input) is retried after ``retry_after``.  E-mails
are queued in ``OUTBOX/pending`` before the job is marked done and sent afterwards, so a
message that could not be sent is retried on later ticks and is neither lost nor duplicated.

``schedule`` (the library) supplies the in-process timetable: a run at 08:00 every day plus a
catch-up/retry tick every few minutes; everything that must survive a restart is in the state
file.  The clock is injectable so tests can play through a year in a second.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import MednecError

RUN_AT = dt.time(8, 0)
STATE_VERSION = 1


def is_business_day(day: dt.date) -> bool:
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) == (1, 1):
        return False
    return not (day.month == 9 and day.weekday() == 0 and day.day <= 7)  # Labor Day


def first_business_day(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 1)
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


@dataclass(frozen=True)
class Occurrence:
    kind: str  # digest | huddle | reminder
    period: str  # 2026-03 | 2026Q1 | 2026-04-02
    due: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.period}"


def due_occurrences(since: dt.datetime, now: dt.datetime, run_at: dt.time = RUN_AT) -> list[Occurrence]:
    """Every occurrence due in [since, now], oldest first (reminders: only the latest)."""
    out = []
    y, m = since.year, since.month
    # The digest of the month before ``since`` may still fall due after it.
    y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    while (y, m) <= (now.year, now.month):
        ny, nm = _next_month(y, m)
        due = dt.datetime.combine(first_business_day(ny, nm), run_at)
        if since <= due <= now:
            out.append(Occurrence("digest", f"{y:04d}-{m:02d}", due))
            if nm in (1, 4, 7, 10):
                out.append(Occurrence("huddle", f"{y:04d}Q{(m - 1) // 3 + 1}", due))
        y, m = ny, nm
    day = now.date() if now.time() >= run_at else now.date() - dt.timedelta(days=1)
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    due = dt.datetime.combine(day, run_at)
    if since <= due <= now:
        out.append(Occurrence("reminder", day.isoformat(), due))
    return sorted(out, key=lambda o: (o.due, o.kind))


# ---------------------------------------------------------------- state file

def load_state(path: Path) -> dict:
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        state = {}
    except (OSError, ValueError) as exc:
        raise MednecError(f"{Path(path).name}: the scheduler state file is unreadable ({exc}); "
                          "rename it to start afresh") from None
    state.setdefault("version", STATE_VERSION)
    state.setdefault("done", {})
    state.setdefault("failed", {})
    return state


def save_state(path: Path, state: dict) -> None:
    from .workbook.files import atomic_write

    data = json.dumps(state, indent=1, sort_keys=True)
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(data, encoding="utf-8"))


def _prune(state: dict, now: dt.datetime, keep_days: int = 60) -> int:
    """Forget reminders older than ``keep_days`` (only the latest reminder is ever due again, so
    they can never repeat); digests and huddle packs are kept for good (16 keys a year)."""
    cutoff = (now.date() - dt.timedelta(days=keep_days)).isoformat()
    old = 0
    for table in (state["done"], state["failed"]):
        for key in [k for k in table if k.startswith("reminder:") and k.split(":", 1)[1] < cutoff]:
            del table[key]
            old += 1
    return old


# ---------------------------------------------------------------- the scheduler

class Scheduler:
    """Runs due jobs for one workbook; ``run_due()`` is one tick (``--once``)."""

    def __init__(self, workbook: Path | str, state_path: Path | str | None = None, *,
                 outbox: Path | str | None = None, out_dir: Path | str | None = None,
                 clock: Callable[[], dt.datetime] = dt.datetime.now, env: dict | None = None,
                 retry_after: dt.timedelta = dt.timedelta(minutes=15), log: Callable[[str], None] = print):
        self.workbook = Path(workbook)
        self.state_path = Path(state_path) if state_path else self.workbook.with_name(
            f".{self.workbook.stem}.scheduler.json")
        self.outbox, self.out_dir = outbox, out_dir
        self.clock, self.env, self.retry_after, self.log = clock, env, retry_after, log
        self.stop_requested = threading.Event()
        self._tick_book = None

    # -- jobs
    def _book(self):
        """The workbook as it is now (read afresh each tick, so the team's edits count)."""
        from .jobs.digest import ReadOnlyBook

        if self._tick_book is None:
            self._tick_book = ReadOnlyBook(self.workbook)
        return self._tick_book

    def _send(self, book) -> bool:
        """Send by SMTP when a host is configured; otherwise leave drafts in the outbox."""
        from .jobs.digest import book_settings
        from .mail.send import MailSettings

        return MailSettings.load(book_settings(book), self.env).configured

    def run_job(self, occ: Occurrence, now: dt.datetime) -> str:
        from .jobs import digest as jobs

        book = self._book()
        mode = jobs.SendMode.QUEUE if self._send(book) else jobs.SendMode.DRAFT
        if occ.kind == "digest":
            r = jobs.build_digest(book, occ.period, self.outbox, send=mode,
                                  as_of=now.date(), env=self.env)
            assert r.path is not None  # a digest is always written (only a reminder may be skipped)
            return f"digest {occ.period} -> {r.path.name}"
        if occ.kind == "reminder":
            r = jobs.deadline_reminder(book, now.date(), self.outbox, send=mode,
                                       env=self.env, only_if_due=True)
            return f"reminder {occ.period} -> {r.path.name if r.path else r.summary}"
        if occ.kind == "huddle":
            path = jobs.huddle_pack(book, occ.period, self.out_dir, as_of=now.date())
            return f"huddle pack {occ.period} -> {path.name}"
        raise ValueError(occ.kind)

    # -- one tick
    def run_due(self) -> list[str]:
        """Run what is due now; returns the keys that ran.  Safe to call any number of times."""
        now = self.clock()
        self._tick_book = None
        try:
            return self._run_due(now)
        finally:
            self._tick_book = None

    def _run_due(self, now: dt.datetime) -> list[str]:
        with _Lock(self.state_path, now) as locked:
            if not locked:
                self.log("another scheduler is running for this workbook; skipped")
                return []
            state = load_state(self.state_path)
            if "since" not in state:
                # Start of today: this morning's jobs still count, nothing older is dug up.
                state["since"] = dt.datetime.combine(now.date(), dt.time()).isoformat()
                save_state(self.state_path, state)
            since = dt.datetime.fromisoformat(state["since"])
            ran = []
            for occ in due_occurrences(since, now):
                if self.stop_requested.is_set():
                    break
                if occ.key in state["done"]:
                    continue
                failed = state["failed"].get(occ.key)
                if failed and now < dt.datetime.fromisoformat(failed["retry_at"]):
                    continue
                try:
                    result = self.run_job(occ, now)
                except (MednecError, OSError) as exc:
                    attempts = (failed or {}).get("attempts", 0) + 1
                    state["failed"][occ.key] = {"at": now.isoformat(), "error": str(exc), "attempts": attempts,
                                                "retry_at": (now + self.retry_after).isoformat()}
                    save_state(self.state_path, state)
                    self.log(f"{occ.key} failed (attempt {attempts}, will retry): {exc}")
                    continue
                state["done"][occ.key] = {"at": now.isoformat(), "result": result}
                state["failed"].pop(occ.key, None)
                save_state(self.state_path, state)
                self.log(result)
                ran.append(occ.key)
            if _prune(state, now):
                save_state(self.state_path, state)
            self._flush(state, now)
            return ran

    def _flush(self, state: dict, now: dt.datetime) -> None:
        """Send queued e-mails (also those a refused connection left behind earlier)."""
        from .jobs.digest import default_outbox, flush_outbox
        from .mail.message import pending_messages

        outbox = Path(self.outbox) if self.outbox else None
        if outbox is not None and not pending_messages(outbox):
            return
        last = state.get("flush_failed")
        if last and now < dt.datetime.fromisoformat(last["retry_at"]):
            return
        try:
            book = self._book()
            outbox = outbox or default_outbox(book)
            if not pending_messages(outbox):
                return
            sent, errors = flush_outbox(book, outbox, env=self.env)
        except (MednecError, OSError) as exc:
            sent, errors = [], [str(exc)]
        for path in sent:
            self.log(f"sent {path.name}")
        if errors:
            state["flush_failed"] = {"at": now.isoformat(), "error": errors[0],
                                     "retry_at": (now + self.retry_after).isoformat()}
            self.log(f"e-mail still queued, will retry: {errors[0]}")
        else:
            state.pop("flush_failed", None)
        save_state(self.state_path, state)

    # -- the loop
    def run_forever(self, catch_up_minutes: int = 5) -> None:
        """Until Ctrl+C or SIGTERM: run at 08:00 each day and check every few minutes for
        catch-ups and retries.  A job in progress is finished before stopping."""
        import schedule

        timetable = schedule.Scheduler()
        timetable.every().day.at(RUN_AT.strftime("%H:%M")).do(self.run_due)
        timetable.every(catch_up_minutes).minutes.do(self.run_due)
        previous = {}

        def stop(signum, frame):
            self.stop_requested.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[sig] = signal.signal(sig, stop)
            except (ValueError, OSError):  # not the main thread
                pass
        try:
            self.run_due()
            while not self.stop_requested.is_set():
                timetable.run_pending()
                self.stop_requested.wait(timeout=min(max(timetable.idle_seconds or 1, 0.2), 1.0))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            timetable.clear()


class _Lock:
    """One scheduler per workbook: the OS file lock the workbook commands use
    (``toolkit.workbook.lock``), taken without waiting.  The operating system releases it when
    the process ends (killed, power cut), so no stale lock ever blocks the next run."""

    def __init__(self, path: Path, now: dt.datetime):
        self.path, self.held = Path(path), False

    def __enter__(self) -> bool:
        from .workbook.lock import WorkbookBusy, acquire

        try:
            acquire(self.path, wait=0)
        except WorkbookBusy:
            return False
        self.held = True
        return True

    def __exit__(self, *exc) -> None:
        if self.held:
            from .workbook.lock import release

            self.held = False
            release(self.path)
