"""DENIAL_HISTORY: the practice's own Denials log warns on lines like the ones the payer kept denying.

Each case is one clean, not-yet-submitted claim line (from tests/test_checks.py) and a small
denial log written the way the 835 import or a biller fills it.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_checks import AS_OF, KNEE_SCOPE, PAYERS, RULES, line

from toolkit.checks.history import DenialHistory, pattern_of
from toolkit.validation import run_checks

ACME = {"Payer": "Acme Health PPO", "CPT/HCPCS": "29881", "Dx Codes": "S83.241A", "Group Code": "CO",
        "CARC": "50", "RARC": "N115", "Category": "medical necessity", "Status": "Open", "Denied Amount": "1850"}


def denial(n: int, date: str, **changes) -> dict:
    return {"Denial ID": f"D-{n:06d}", "Claim ID": f"9{n:05d}", "Line": "1", "Patient ID": f"MRN9{n:03d}",
            "Denial Date": date, **ACME, **changes}


def log(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


TWO_DX = log(denial(1, "2026-05-12"), denial(2, "2026-08-03"))


def run(rows, denials, **kwargs):
    frame = pd.DataFrame(rows if isinstance(rows, list) else [rows])
    return run_checks(frame, RULES, PAYERS, as_of=AS_OF, denials=denials, **kwargs)


def codes(rows, denials, **kwargs) -> list[str]:
    text = run(rows, denials, **kwargs).results["Finding Codes"].iloc[0]
    return text.split("; ") if text else []


def knee(**changes) -> dict:
    return line(**{**KNEE_SCOPE, **changes})


def test_two_medical_necessity_denials_for_the_same_code_and_dx_warn_with_count_period_and_codes():
    v = run(knee(), TWO_DX)
    assert v.results["Status"].iloc[0] == "AMBER"
    assert v.results["Findings"].iloc[0] == (
        "Acme Health PPO denied 29881 with S83.241A 2 times since May 2026 (CO-50/N115). "
        "Check the policy before submitting.")


def test_the_policy_column_cites_the_denial_ids_beside_the_rules_policy():
    v = run(knee(), TWO_DX)
    assert v.results["Policy"].iloc[0] == "ACME-MP-0305; Denials D-000001, D-000002"
    finding = v.findings[v.findings["code"] == "DENIAL_HISTORY"].iloc[0]
    assert finding["policy"] == "Denials D-000001, D-000002" and finding["severity"] == "AMBER"


def test_one_denial_is_below_the_minimum():
    assert "DENIAL_HISTORY" not in codes(knee(), log(denial(1, "2026-05-12")))


def test_the_minimum_comes_from_settings():
    three = DenialHistory.from_settings(TWO_DX, {"Denial History Min": "3"})
    assert "DENIAL_HISTORY" not in codes(knee(), three)
    one = DenialHistory.from_settings(log(denial(1, "2026-05-12")), {"denial history min ": "1"})
    assert "DENIAL_HISTORY" in codes(knee(), one)


def test_a_denial_older_than_twelve_months_does_not_count():
    old = log(denial(1, "2025-11-27"), denial(2, "2026-08-03"))  # exactly 12 months before the run date
    assert "DENIAL_HISTORY" not in codes(knee(), old)
    inside = log(denial(1, "2025-11-28"), denial(2, "2026-08-03"))
    assert "DENIAL_HISTORY" in codes(knee(), inside)


def test_the_window_follows_denial_history_months():
    six = DenialHistory.from_settings(TWO_DX, {"Denial History Months": "6"})  # May 12 is > 6 months back
    assert "DENIAL_HISTORY" not in codes(knee(), six)


def test_denials_after_the_run_date_do_not_count():
    assert "DENIAL_HISTORY" not in codes(knee(), log(denial(1, "2026-05-12"), denial(2, "2026-12-01")))


def test_a_cluster_at_another_payer_does_not_fire():
    other = log(*(denial(i, "2026-06-0" + str(i), Payer="Medicare") for i in (1, 2, 3)))
    assert "DENIAL_HISTORY" not in codes(knee(), other)


def test_another_code_or_diagnosis_does_not_fire():
    assert "DENIAL_HISTORY" not in codes(knee(), log(*(denial(i, "2026-06-01", **{"CPT/HCPCS": "29880"})
                                                        for i in (1, 2))))
    assert "DENIAL_HISTORY" not in codes(knee(), log(*(denial(i, "2026-06-01", **{"Dx Codes": "S83.242A"})
                                                        for i in (1, 2))))


def test_payer_names_match_as_the_rules_do_ignoring_case_and_spaces():
    assert "DENIAL_HISTORY" in codes(knee(), log(*(denial(i, "2026-06-01", Payer="acme  health ppo")
                                                   for i in (1, 2))))


def test_reversals_and_routine_adjustments_are_not_denials():
    assert "DENIAL_HISTORY" not in codes(knee(), log(denial(1, "2026-05-12"),
                                                     denial(2, "2026-08-03", Status="Reversed")))
    assert "DENIAL_HISTORY" not in codes(knee(), log(denial(1, "2026-05-12"), denial(2, "2026-08-03", Category="")))
    assert "DENIAL_HISTORY" not in codes(knee(), log(denial(1, "2026-05-12"),
                                                     denial(2, "2026-08-03", CARC="45", Category="routine")))


def test_eligibility_denials_say_nothing_about_the_code_and_do_not_count():
    rows = log(*(denial(i, "2026-06-01", CARC="27", RARC="", Category="eligibility") for i in (1, 2, 3)))
    assert "DENIAL_HISTORY" not in codes(knee(), rows)


def _submitted(n: int, date: str = "2026-07-01", **changes) -> list[dict]:
    return [knee(**{"Claim ID": f"8{i:05d}", "Submitted Date": date, **changes}) for i in range(n)]


def test_with_submitted_counts_the_rate_must_reach_half():
    # 2 denials of 4 submitted lines = 50 %: fires; of 5 submitted = 40 %: quiet
    v = run([knee()] + _submitted(4), TWO_DX)
    assert v.results["Finding Codes"].iloc[0] == "DENIAL_HISTORY"
    assert "2 of the 4 lines submitted" in v.results["Findings"].iloc[0]
    assert "DENIAL_HISTORY" not in codes([knee()] + _submitted(5), TWO_DX)


def test_the_rate_comes_from_settings_as_a_percent_or_a_fraction():
    for value in ("30%", "0.3", "30"):
        history = DenialHistory.from_settings(TWO_DX, {"Denial History Rate": value})
        assert history.rate == pytest.approx(0.3)
        assert "DENIAL_HISTORY" in codes([knee()] + _submitted(5), history)


def test_lines_submitted_outside_the_window_do_not_dilute_the_rate():
    assert "DENIAL_HISTORY" in codes([knee()] + _submitted(10, "2025-06-01"), TWO_DX)


def test_submitted_lines_themselves_are_not_warned():
    v = run(_submitted(1) + [knee()], TWO_DX)
    assert v.results["Finding Codes"].tolist() == ["", "DENIAL_HISTORY"]


def test_a_line_already_red_for_the_same_reason_does_not_get_it_twice():
    # M51.16 is not in Medicare's Covered Dx for 63047: DX_NOT_COVERED already says it
    medicare = log(*(denial(i, "2026-06-01", Payer="Medicare", **{"CPT/HCPCS": "63047", "Dx Codes": dx})
                     for i in (1, 2) for dx in ("M51.16", "M48.062")))
    assert codes(line(dx="M51.16"), medicare) == ["DX_NOT_COVERED"]
    assert codes(line(dx="M48.062"), medicare) == ["DENIAL_HISTORY"]


def test_a_line_red_for_another_reason_still_gets_the_warning():
    rows = codes(knee(**{"Therapy Weeks": "", "Prior Auth Number": ""}), TWO_DX)
    assert "PRIOR_AUTH_MISSING" in rows and "DENIAL_HISTORY" in rows


def test_authorization_denials_warn_a_line_without_a_prior_auth_number():
    # Medicare 63047 has no prior-auth rule; Medicare denied it twice for authorization
    auth = log(*(denial(i, "2026-0" + str(5 + i) + "-02", Payer="Medicare", CARC="197", RARC="",
                        Category="authorization", **{"CPT/HCPCS": "63047", "Dx Codes": "M48.062"}) for i in (1, 2, 3)))
    v = run(line(), auth)
    assert v.results["Findings"].iloc[0] == (
        "Medicare denied 63047 for a missing authorization 3 times since June 2026 (CO-197) and this line has "
        "no Prior Auth Number. Check whether the payer requires one before submitting.")
    assert "DENIAL_HISTORY" not in codes(line(**{"Prior Auth Number": "AUTH-77"}), auth)


def test_modifier_denials_match_the_same_modifiers_in_any_order():
    mods = log(*(denial(i, "2026-06-01", CARC="4", RARC="N519", Category="coding", Modifiers="RT, 59")
                 for i in (1, 2)))
    v = run(knee(Modifiers="59 RT"), mods)
    assert "denied 29881 with modifiers 59, RT 2 times since June 2026 (CO-4/N519)" in v.results["Findings"].iloc[0]
    assert "DENIAL_HISTORY" not in codes(knee(Modifiers="RT"), mods)


def test_a_line_in_two_patterns_gets_both_sentences_and_cites_every_denial():
    rows = log(denial(1, "2026-05-12"), denial(2, "2026-08-03"),
               denial(3, "2026-09-01", CARC="4", RARC="", Category="coding", Modifiers="RT"),
               denial(4, "2026-09-15", CARC="4", RARC="", Category="coding", Modifiers="RT"))
    v = run(knee(), rows)
    assert v.results["Findings"].iloc[0].count("Acme Health PPO denied 29881") == 2
    assert v.results["Policy"].iloc[0].endswith("Denials D-000001, D-000002, D-000003, D-000004")


def test_more_than_five_denials_are_cited_with_a_count():
    rows = log(*(denial(i, f"2026-06-{i:02d}") for i in range(1, 9)))
    assert run(knee(), rows).results["Policy"].iloc[0].endswith("D-000005 and 3 more")


def test_the_message_carries_no_patient_data():
    v = run(knee(**{"Patient Name": "Quincy Oddball"}), TWO_DX)
    text = v.results["Findings"].iloc[0] + v.results["Policy"].iloc[0]
    for value in ("MRN", "Quincy", "Oddball", "900001"):
        assert value not in text


def test_without_a_denials_log_every_result_is_unchanged_byte_for_byte_on_the_sample():
    from conftest import SAMPLE

    from toolkit.tables import CLAIMS
    from toolkit.tables import PAYERS as PAYERS_SPEC
    from toolkit.tables import RULES as RULES_SPEC
    from toolkit.workbook.files import read_table

    claims = read_table(SAMPLE / "claims.csv", CLAIMS)
    rules = read_table(SAMPLE / "rules.csv", RULES_SPEC)
    payers = read_table(SAMPLE / "payers.csv", PAYERS_SPEC)
    stamp = pd.Timestamp("2026-11-27 09:00").to_pydatetime()
    before = run_checks(claims, rules, payers, as_of=AS_OF, now=stamp)
    empty = run_checks(claims, rules, payers, as_of=AS_OF, now=stamp, denials=pd.DataFrame(columns=["Denial ID"]))
    unrelated = run_checks(claims, rules, payers, as_of=AS_OF, now=stamp,
                           denials=log(*(denial(i, "2026-06-01", CARC="27", Category="eligibility") for i in (1, 2))))
    for other in (empty, unrelated):
        assert before.results.to_csv() == other.results.to_csv()
        assert before.findings.to_csv() == other.findings.to_csv()


def test_a_bad_date_in_the_denials_log_is_one_line_naming_the_column():
    from toolkit.errors import InputError

    with pytest.raises(InputError, match="Denial Date"):
        run(knee(), log(denial(1, "not a date"), denial(2, "2026-08-03")))


@pytest.mark.parametrize("carc, category, expected", [
    ("50", "medical necessity", "diagnosis"), ("CO-167", "", "diagnosis"), ("197", "authorization", "authorization"),
    ("15", "", "authorization"), ("4", "coding", "modifier"), ("29", "timely filing", None), ("18", "duplicate", None),
])
def test_each_denial_speaks_to_one_pattern(carc, category, expected):
    assert pattern_of(carc, category) == expected


# ---------------------------------------------------------------- the jobs: workbook and --denials FILE

MEDICARE_63047 = [denial(i, f"2026-0{5 + i}-10", Payer="Medicare", **{"CPT/HCPCS": "63047", "Dx Codes": "M48.062"})
                  for i in (1, 2, 3)]


def _report(path):
    import csv

    with open(path, encoding="utf-8") as fh:
        return {(r["Claim ID"], r["Line"]): r for r in csv.DictReader(fh)}


def test_a_csv_run_with_denials_file_warns_and_without_it_does_not(sample_csvs, tmp_path, cli):
    denials = tmp_path / "denials.csv"
    pd.DataFrame(MEDICARE_63047).to_csv(denials, index=False)
    base = ["validate", sample_csvs["claims"], "--rules", sample_csvs["rules"], "--payers", sample_csvs["payers"],
            "--as-of", AS_OF, "--report"]
    assert cli(*base, tmp_path / "without.csv").exit_code == 0
    result = cli(*base, tmp_path / "with.csv", "--denials", denials)
    assert result.exit_code == 0, result.output
    without, with_ = _report(tmp_path / "without.csv"), _report(tmp_path / "with.csv")
    first = with_[("000101", "1")]
    assert "DENIAL_HISTORY" in first["Finding Codes"] and "Denials D-000001, D-000002, D-000003" in first["Policy"]
    assert "Medicare denied 63047 with M48.062 3 times since June 2026 (CO-50/N115)" in first["Findings"]
    assert "DENIAL_HISTORY" not in without[("000101", "1")]["Finding Codes"]
    changed = {k for k in with_ if with_[k] != without[k]}
    assert changed and all("DENIAL_HISTORY" in with_[k]["Finding Codes"] for k in changed)


def test_a_denials_file_with_a_bad_date_stops_with_one_line(sample_csvs, tmp_path, cli):
    denials = tmp_path / "denials.csv"
    pd.DataFrame([{**MEDICARE_63047[0], "Denial Date": "31/31/2026"}]).to_csv(denials, index=False)
    result = cli("validate", sample_csvs["claims"], "--rules", sample_csvs["rules"], "--payers", sample_csvs["payers"],
                 "--report", tmp_path / "r.csv", "--denials", denials)
    assert result.exit_code != 0
    assert "denials.csv" in result.output and "Denial Date" in result.output and "Traceback" not in result.output


def test_the_workbook_validate_uses_its_own_denials_sheet_and_settings(tmp_path, cli):
    import shutil

    from toolkit.tables import CLAIMS, DENIALS, SETTINGS
    from toolkit.workbook.files import WorkbookFile, read_table

    path = tmp_path / "book.xlsm"
    shutil.copyfile(WORKBOOK, path)
    book = WorkbookFile(path)
    book.append_rows(DENIALS, pd.DataFrame(MEDICARE_63047[:2]))
    book.save()
    assert cli("validate", path, "--as-of", AS_OF).exit_code == 0
    claims = read_table(path, CLAIMS)
    first = claims[claims["Claim ID"] == "000101"].iloc[0]
    assert "DENIAL_HISTORY" in first["Finding Codes"] and first["Policy"].endswith("Denials D-000001, D-000002")

    book = WorkbookFile(path)  # a stricter practice: three denials before a warning
    book.append_rows(SETTINGS, pd.DataFrame([{"Key": "Denial History Min", "Value": "3"}]))
    book.save()
    assert cli("validate", path, "--as-of", AS_OF).exit_code == 0
    claims = read_table(path, CLAIMS)
    assert "DENIAL_HISTORY" not in claims[claims["Claim ID"] == "000101"].iloc[0]["Finding Codes"]


WORKBOOK = __import__("conftest").REPO / "workbooks" / "medical_necessity.xlsm"


def test_a_streamed_csv_report_rates_the_last_claim_against_the_whole_file_like_the_in_memory_run(tmp_path):
    # 2 denials of 5 submitted lines = 40 %: quiet. The file's last claim was once checked alone
    # (held back for a next chunk that never came), saw no submitted lines, and was warned.
    import datetime as dt

    from toolkit.jobs import validate as job

    rows = _submitted(5) + [knee()]
    paths = {name: tmp_path / f"{name}.csv" for name in ("claims", "denials", "rules", "payers")}
    for name, frame in (("claims", pd.DataFrame(rows)), ("denials", TWO_DX), ("rules", RULES), ("payers", PAYERS)):
        frame.to_csv(paths[name], index=False)
    job.run_validate(job.ValidateRequest(paths["claims"], report=tmp_path / "report.csv", rules_path=paths["rules"],
                                         payers_path=paths["payers"], as_of=dt.date.fromisoformat(AS_OF),
                                         denials_path=paths["denials"]))
    report = pd.read_csv(tmp_path / "report.csv", dtype=str, keep_default_na=False)
    assert report["Finding Codes"].tolist() == run(rows, TWO_DX).results["Finding Codes"].tolist()
    assert "DENIAL_HISTORY" not in report["Finding Codes"].iloc[-1]


@pytest.mark.parametrize("chunk_lines, dask", [(2, None), (3, None), (2, "local")], ids=["2", "3", "dask"])
def test_a_report_in_many_chunks_rates_each_line_against_the_whole_files_submitted_lines(tmp_path, chunk_lines, dask):
    # 2 denials of 5 lines submitted across the file = 40 %: quiet in memory.  Chunked (or in Dask
    # partitions), the last claim's chunk holds none of the 5 and once rated 2 of 0 (a warning the
    # whole file does not show).
    import datetime as dt

    from toolkit.jobs import validate as job

    if dask:
        pytest.importorskip("dask.distributed")
    rows = [{**r, "Patient ID": f"MRN7{i:04d}"} for i, r in enumerate(_submitted(5) + [knee()])]
    paths = {name: tmp_path / f"{name}.csv" for name in ("claims", "denials", "rules", "payers")}
    for name, frame in (("claims", pd.DataFrame(rows)), ("denials", TWO_DX), ("rules", RULES), ("payers", PAYERS)):
        frame.to_csv(paths[name], index=False)
    job.run_validate(job.ValidateRequest(paths["claims"], report=tmp_path / "report.csv", rules_path=paths["rules"],
                                         payers_path=paths["payers"], as_of=dt.date.fromisoformat(AS_OF),
                                         denials_path=paths["denials"], chunk_lines=chunk_lines, dask=dask))
    report = pd.read_csv(tmp_path / "report.csv", dtype=str, keep_default_na=False)
    assert report["Finding Codes"].tolist() == run(rows, TWO_DX).results["Finding Codes"].tolist()
    assert "DENIAL_HISTORY" not in report["Finding Codes"].iloc[-1]
    # and with only 4 submitted (2 of 4 = 50 %) the whole-file rate warns, chunked or not
    pd.DataFrame(rows[1:]).to_csv(paths["claims"], index=False)
    job.run_validate(job.ValidateRequest(paths["claims"], report=tmp_path / "report.csv", rules_path=paths["rules"],
                                         payers_path=paths["payers"], as_of=dt.date.fromisoformat(AS_OF),
                                         denials_path=paths["denials"], chunk_lines=chunk_lines, dask=dask))
    report = pd.read_csv(tmp_path / "report.csv", dtype=str, keep_default_na=False)
    assert "DENIAL_HISTORY" in report["Finding Codes"].iloc[-1]
