"""KPIs checked against figures worked out by hand on a small log (as of Friday 2026-03-20).

Claims: C1 (payer A, 11111, sent Jan, GREEN), C2 (A, 22222, sent Jan, RED),
C3 (B, 11111 GREEN + 33333 AMBER, sent Feb), C4 (B, 11111, sent Feb, GREEN), C5 (not sent).
Denials: D1 C2 CO-50 $100 (Feb 3, resubmitted after 3 days, deadline Apr 4),
D2 C3/33333 CO-197 $200 (Mar 2, Appealed, resubmitted after 1 day), D3 C3/11111 CO-50 $50
(Mar 2, deadline Mar 10: overdue), D4 X9 (not a claim of ours) CO-29 $75 (Mar 16, deadline Mar 30).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from toolkit.kpi import compute_kpis

D = dt.date
AS_OF = D(2026, 3, 20)


def claims():
    rows = [
        ("C1", "A", "11111", D(2026, 1, 10), "GREEN"),
        ("C2", "A", "22222", D(2026, 1, 20), "RED"),
        ("C3", "B", "11111", D(2026, 2, 5), "GREEN"),
        ("C3", "B", "33333", D(2026, 2, 5), "AMBER"),
        ("C4", "B", "11111", D(2026, 2, 15), "GREEN"),
        ("C5", "B", "22222", None, ""),
    ]
    f = pd.DataFrame(rows, columns=["Claim ID", "Payer", "CPT/HCPCS", "Submitted Date", "Status"])
    f["Submitted Date"] = pd.to_datetime(f["Submitted Date"])
    return f


def denials():
    rows = [
        ("D-000001", "C2", "A", "22222", "50", "medical necessity", "DX_NOT_COVERED", 100.0, D(2026, 2, 3), "Open", D(2026, 4, 4), D(2026, 2, 6)),
        ("D-000002", "C3", "B", "33333", "197", "authorization", "PRIOR_AUTH_MISSING", 200.0, D(2026, 3, 2), "Appealed", D(2026, 5, 1), D(2026, 3, 3)),
        ("D-000003", "C3", "B", "11111", "50", "medical necessity", "DX_NOT_COVERED", 50.0, D(2026, 3, 2), "Open", D(2026, 3, 10), None),
        ("D-000004", "X9", "B", "", "29", "timely filing", "TIMELY_FILING", 75.0, D(2026, 3, 16), "Open", D(2026, 3, 30), None),
    ]
    f = pd.DataFrame(rows, columns=["Denial ID", "Claim ID", "Payer", "CPT/HCPCS", "CARC", "Category", "Root Cause",
                                    "Denied Amount", "Denial Date", "Status", "Appeal Deadline", "Resubmitted Date"])
    for c in ("Denial Date", "Appeal Deadline", "Resubmitted Date"):
        f[c] = pd.to_datetime(f[c])
    return f


@pytest.fixture(scope="module")
def kpis():
    return compute_kpis(denials(), claims(), settings={"Baseline Medical Necessity Denials": "2"}, as_of=AS_OF)


def test_headline_figures_match_the_hand_count(kpis):
    f = kpis.figures
    assert (f["submitted_claims"], f["denied_claims"], f["denial_rate"]) == (4, 2, 0.5)
    assert (f["denial_rows"], f["denied_dollars"], f["unmatched_denials"]) == (4, 425.0, 1)
    assert f["med_nec_share"] == 0.5
    assert (f["med_nec_last_month"], f["med_nec_baseline"], f["med_nec_change"]) == (1, 2.0, -0.5)
    assert (f["clean_claim_rate"], f["validated_claims"]) == (0.5, 4)
    assert f["days_to_resubmission"] == 2.0
    assert (f["open_appeals"], f["overdue"], f["due_14_days"]) == (3, 1, 1)
    assert (f["denial_free_weeks_12"], f["denial_free_streak"]) == (9, 0)


def test_monthly_trend_uses_the_submission_cohort_and_the_month_denials_arrived(kpis):
    m = kpis.monthly.set_index("Month")
    assert len(kpis.monthly) == 12 and kpis.monthly["Month"].iloc[-1] == "2026-03"
    assert m.loc["2026-01", ["Submitted Claims", "Denied Claims", "Denial Rate", "Denials"]].tolist() == [2, 1, 0.5, 0]
    assert m.loc["2026-02", ["Submitted Claims", "Denied Claims", "Denial Rate", "Denials", "Denied $"]].tolist() == [2, 1, 0.5, 1, 100.0]
    assert m.loc["2026-03", "Submitted Claims"] == 0 and pd.isna(m.loc["2026-03", "Denial Rate"])
    assert m.loc["2026-03", ["Denials", "Denied $", "Med-Nec Denials"]].tolist() == [3, 325.0, 1]
    assert (m["Target Rate"] == 0.05).all()


def test_rates_by_payer_and_by_procedure(kpis):
    assert kpis.by_payer.to_dict("records") == [
        {"Payer": "A", "Submitted Claims": 2, "Denied Claims": 1, "Denial Rate": 0.5, "Denied $": 100.0},
        {"Payer": "B", "Submitted Claims": 2, "Denied Claims": 1, "Denial Rate": 0.5, "Denied $": 325.0},
    ]
    cpt = kpis.by_cpt.set_index("CPT/HCPCS")
    assert list(cpt.index) == ["22222", "33333", "11111"]
    assert cpt.loc["11111", ["Submitted Lines", "Denied Lines"]].tolist() == [3, 1]
    assert cpt.loc["11111", "Denial Rate"] == pytest.approx(1 / 3)


def test_top_carcs_and_root_causes(kpis):
    assert kpis.top_carcs[["CARC", "Denials", "Denied $"]].values.tolist() == [["50", 2, 150.0], ["197", 1, 200.0], ["29", 1, 75.0]]
    assert kpis.top_root_causes[["Root Cause", "Denials"]].values.tolist() == [
        ["DX_NOT_COVERED", 2], ["PRIOR_AUTH_MISSING", 1], ["TIMELY_FILING", 1]]


def test_open_appeals_soonest_first_with_overdue_flag(kpis):
    op = kpis.open_appeals
    assert op["Denial ID"].tolist() == ["D-000003", "D-000004", "D-000001"]
    assert op["Days Left"].tolist() == [-10, 10, 15]
    assert op["Overdue"].tolist() == ["OVERDUE", "", ""]


def test_targets_come_from_settings():
    k = compute_kpis(denials(), claims(), settings={"Target Denial Rate": "8%", "Target Days to Resubmission": "3"},
                     as_of=AS_OF)
    assert k.targets["denial_rate"] == 0.08 and k.targets["days_to_resubmission"] == 3.0
    assert k.targets["med_nec_reduction"] == 0.30


def test_an_empty_log_gives_empty_figures_not_an_error():
    empty = pd.DataFrame(columns=["Denial ID", "Claim ID", "Denial Date", "Denied Amount"])
    k = compute_kpis(empty, None, as_of=AS_OF)
    assert k.figures["denial_rate"] is None and k.figures["denial_rows"] == 0
    assert k.figures["denial_free_weeks_12"] == 12
