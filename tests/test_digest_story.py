"""The digest tells the month truthfully: a tie for the top reason is broken by dollars and said,
the payers' top CARC stands beside the root cause, the chart is a real chart (matplotlib, 2x)
that Validate never imports, and the emoji has a plain fallback."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def _denials(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["Denial ID", "Claim ID", "Denial Date", "CARC", "Root Cause", "Category",
                                        "Denied Amount", "Status", "Appeal Deadline"])
    frame["Denial Date"] = pd.to_datetime(frame["Denial Date"])
    frame["Appeal Deadline"] = pd.to_datetime(frame["Appeal Deadline"])
    return frame


TIED = _denials([
    ("D-1", "C1", "2026-10-05", "50", "THERAPY_TOO_SHORT", "medical necessity", 300.0, "Open", "2027-02-01"),
    ("D-2", "C2", "2026-10-06", "50", "THERAPY_TOO_SHORT", "medical necessity", 200.0, "Open", "2027-02-01"),
    ("D-3", "C3", "2026-10-07", "197", "PRIOR_AUTH_MISSING", "authorization", 2400.0, "Open", "2027-02-01"),
    ("D-4", "C4", "2026-10-08", "197", "PRIOR_AUTH_MISSING", "authorization", 2100.0, "Open", "2027-02-01"),
    ("D-5", "C5", "2026-10-20", "50", "DX_NOT_COVERED", "medical necessity", 90.0, "Open", "2027-02-01"),
])


def test_a_tie_for_the_top_reason_goes_to_the_costlier_one_and_the_digest_says_so():
    from toolkit.digest import digest_facts
    from toolkit.mail.render import digest_texts

    facts = digest_facts(TIED, "2026-10", tips={})
    assert facts.top_reason.key == "PRIOR_AUTH_MISSING" and facts.top_reason.count == 2
    assert "Tied with THERAPY_TOO_SHORT" in facts.top_reason.tie_note
    assert "$4,500.00 against $500.00" in facts.top_reason.tie_note
    text, html = digest_texts(facts)
    assert facts.top_reason.tie_note in text


def test_the_payers_top_carc_is_named_beside_the_top_root_cause():
    from toolkit.digest import digest_facts
    from toolkit.mail.render import digest_texts

    facts = digest_facts(TIED, "2026-10", tips={})
    assert (facts.top_carc.carc, facts.top_carc.count) == ("50", 3)
    assert "medically necessary" in facts.top_carc.reason
    text, _ = digest_texts(facts)
    assert "most frequent reason code was CARC 50" in text


def test_the_chart_is_drawn_at_twice_its_display_size_with_the_target_line():
    from toolkit.digest import digest_facts
    from toolkit.mail.chart import SCALE
    from toolkit.mail.render import DISPLAY_HEIGHT, DISPLAY_WIDTH, digest_chart

    facts = digest_facts(TIED, "2026-10", tips={})
    png = digest_chart(facts)
    import struct

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (DISPLAY_WIDTH * SCALE, DISPLAY_HEIGHT * SCALE)


def test_the_denial_free_cheer_has_an_emoji_with_a_font_fallback_and_plain_text_has_none():
    from toolkit.digest import digest_facts
    from toolkit.mail.render import digest_texts

    facts = digest_facts(TIED, "2026-10", tips={}, as_of=dt.date(2026, 11, 2))
    assert facts.denial_free_weeks  # Oct 12-18 and Oct 26-Nov 1 had no denial
    text, html = digest_texts(facts)
    assert "&#127881;" in html and "Segoe UI Emoji" in html and "aria-hidden" in html
    assert all(ord(ch) < 0x1F000 for ch in text)


def test_validate_never_imports_matplotlib(tmp_path):
    code = ("import sys\nfrom toolkit.cli import main\n"
            "try:\n    main(['validate', sys.argv[1], '--report', sys.argv[2], '--as-of', '2026-11-27'])\n"
            "except SystemExit:\n    pass\n"
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(REPO / "workbooks" / "medical_necessity.xlsm"),
                          str(tmp_path / "report.csv")], capture_output=True, text=True, cwd=tmp_path)
    assert (tmp_path / "report.csv").exists(), out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
