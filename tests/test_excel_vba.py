"""The workbook's buttons, from the VBA side: read by independent tools, and run without Excel.

The end-to-end tests run each button's macro in pyOpenVBA's headless VBA interpreter through
the real xlwings.bas ``RunPython`` (the copy embedded in the built workbook) up to the point
where it starts Python.  Test doubles stand only at the Windows boundary the interpreter cannot
reach: ``CreateObject("WScript.Shell")`` (its ``Run`` records the command line and stops the
macro there; its ``ExpandEnvironmentStrings`` expands a fixed environment), the file and
environment verbs ``Environ``/``GetAttr``/``Kill``, ``Application.Hwnd``/``Path``, and the
file dialog ``Application.GetOpenFilename``.  The captured command line is then split the way
Windows splits it and run for real with this Python against a copy of the workbook; the only
stand-in on the Python side is ``MEDNEC_CALLER_FILE`` (see ``toolkit.excel.entry``), which
replaces ``xw.Book.caller()`` — Excel's COM boundary — with the workbook file.

Two known gaps of pyOpenVBA 6.5.0 are worked around in the test copy of xlwings.bas only:
a comment after ``#If … Then`` (stripped), and comparing the string "False" with a Boolean
(``GetConfig("…", False) = True`` becomes ``CBool(GetConfig("…", False)) = True``, which is what
VBA does implicitly).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from toolkit.workbook.build import BUTTONS, VBA_MODULE

REPO = Path(__file__).resolve().parents[1]
WINDOWS_PYTHON = r"C:\mednec\venv\Scripts\pythonw.exe"
WINDOWS_ENV = {"temp": r"C:\Users\biller\AppData\Local\Temp", "userprofile": r"C:\Users\biller"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A fresh build of the workbook (the committed file is compared with it in test_workbook_build)."""
    from toolkit.workbook.build import build_workbook

    return build_workbook(tmp_path_factory.mktemp("built") / "medical_necessity.xlsm")


def _macros(path: Path) -> dict[str, str]:
    """Module name → VBA source, as oletools' olevba reads them."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _button_macros(path: Path) -> list[tuple[str, str]]:
    """(caption, macro) of every form button, from the VML drawings of the package."""
    found = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/drawings/") and name.endswith(".vml"):
                xml = z.read(name).decode("utf-8")
                for shape in re.findall(r"<v:shape .*?</v:shape>", xml, flags=re.S):
                    if 'ObjectType="Button"' not in shape:
                        continue
                    caption = re.sub(r"<[^>]+>", "", re.search(r"<v:textbox.*?</v:textbox>", shape, re.S).group(0))
                    macro = re.search(r"<x:FmlaMacro>(.*?)</x:FmlaMacro>", shape).group(1)
                    found.append((caption.strip(), macro.split("!")[-1]))
    return found


def _public_subs(source: str) -> set[str]:
    return set(re.findall(r"^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(\s*\)", source, flags=re.M | re.I))


def test_olevba_lists_our_module_with_a_runpython_call_per_button(built):
    modules = _macros(built)
    assert VBA_MODULE in modules and "xlwings" in modules
    ours = modules[VBA_MODULE]
    for _, macro in BUTTONS.values():
        body = re.search(rf"Sub {macro}\(\)(.*?)End Sub", ours, flags=re.S).group(1)
        assert "RunPython" in body, macro
    assert "Module1" not in modules  # xlwings' sample module is replaced by ours
    assert "Public Function RunPython" in modules["xlwings"]


def test_every_button_is_bound_to_a_macro_that_exists(built):
    buttons = _button_macros(built)
    subs = _public_subs(_macros(built)[VBA_MODULE])
    assert {caption for caption, _ in buttons} == {caption for caption, _ in BUTTONS.values()}
    for caption, macro in buttons:
        assert macro in subs, f"button {caption!r} calls {macro}, which is not a Sub in {VBA_MODULE}"


def test_pyopenvba_finds_the_package_sound(built):
    from pyopenvba import check_file

    report = check_file(built)
    assert report.complete and not report.issues


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_workbook_and_converts_it_to_pdf(built, tmp_path):
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(built)],
        capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "medical_necessity.pdf"
    assert pdf.exists(), result.stdout + result.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


# ---------------------------------------------------------------- running the macros headless

class ShellReached(Exception):
    """The macro got as far as starting Python: the command line is in ``.command``."""

    def __init__(self, command: str):
        super().__init__(command)
        self.command = command


def _windows_argv(command: str) -> list[str]:
    """Split a command line as Windows programs do (CommandLineToArgvW rules for backslashes)."""
    args, current, in_quotes, i, have = [], [], False, 0, False
    while i < len(command):
        c = command[i]
        if c == "\\":
            n = 0
            while i < len(command) and command[i] == "\\":
                n += 1
                i += 1
            if i < len(command) and command[i] == '"':
                current.append("\\" * (n // 2))
                if n % 2:
                    current.append('"')
                    i += 1
                have = True
            else:
                current.append("\\" * n)
                have = True
            continue
        if c == '"':
            in_quotes = not in_quotes
            have = True
        elif c in " \t" and not in_quotes:
            if have:
                args.append("".join(current))
                current, have = [], False
        else:
            current.append(c)
            have = True
        i += 1
    if have:
        args.append("".join(current))
    return args


def python_argv(command: str) -> list[str]:
    """The Python interpreter's arguments out of xlwings' ``cmd.exe /C … python … 2> log`` line."""
    argv = _windows_argv(command)
    start = next(i for i, a in enumerate(argv) if a.lower().endswith(("python.exe", "pythonw.exe")))
    end = argv.index("2>") if "2>" in argv else len(argv)
    return argv[start + 1:end]


def run_button(workbook: Path, macro: str, *, files: list[str] = (), select: tuple[str, str] | None = None) -> str:
    """Run ``macro`` headless through the real RunPython; returns the command line it would start."""
    from pyopenvba import ExcelFile
    from pyopenvba.apps.excel import ExcelApplication
    from pyopenvba.apps.excel._model import Application
    from pyopenvba.interpreter._intrinsics import INTRINSICS
    from pyopenvba.interpreter._objects import VBAObject, member, method
    from pyopenvba.interpreter._values import VBAArray, VBAInt, error

    class WindowsShell(VBAObject):  # double for WScript.Shell
        vba_type_name = "IWshShell3"

        @method
        def Run(self, Command=None, WindowStyle=None, WaitOnReturn=None):
            raise ShellReached(str(Command))

        @method
        def ExpandEnvironmentStrings(self, Src=None):
            return re.sub(r"%([^%]+)%", lambda m: WINDOWS_ENV.get(m.group(1).lower(), m.group(0)), str(Src))

    class WindowsExcel(Application):  # Application members only Windows Excel has
        vba_type_name = "Application"

        @member
        def Hwnd(self):
            return VBAInt(4242, "Long")

        @member
        def Path(self):
            return r"C:\Program Files\Microsoft Office\root\Office16"

        @method
        def GetOpenFilename(self, FileFilter=None, FilterIndex=None, Title=None, ButtonText=None, MultiSelect=None):
            return VBAArray([(1, len(files))], items=list(files)) if files else False

    def environ(interp, args, named):
        return WINDOWS_ENV.get(str(args[0]).lower(), "")

    def getattr_(interp, args, named):
        if str(args[0]) == WINDOWS_PYTHON:
            return VBAInt(32, "Integer")  # an ordinary file
        raise error(53, "File not found")

    saved = {k: INTRINSICS.get(k) for k in ("environ", "getattr", "kill")}
    INTRINSICS.update(environ=environ, getattr=getattr_, kill=lambda interp, args, named: None)
    try:
        app = ExcelApplication.open(workbook, with_vba=False)
        app.application.__class__ = WindowsExcel
        create = app.interpreter.create_com
        app.interpreter.create_com = lambda name: WindowsShell() if name.lower() == "wscript.shell" else create(name)
        with ExcelFile(workbook) as host:
            modules = host.vba_modules()
        for name in ("xlwings", VBA_MODULE):
            app.add_module(_pyopenvba_compatible(modules[name]), name=name)
        if select:
            app.add_module(f'Sub SelectForTest()\n Worksheets("{select[0]}").Activate\n'
                           f' Range("{select[1]}").Select\nEnd Sub\n', name="TestSelect")
            app.run("SelectForTest")
        try:
            app.run(macro)
        except ShellReached as reached:
            return reached.command
        except Exception as exc:  # the interpreter may wrap what a host method raised
            cause = exc
            while cause is not None and not isinstance(cause, ShellReached):
                cause = cause.__cause__ or cause.__context__
            if cause is not None:
                return cause.command
            raise
        raise AssertionError(f"{macro} never started Python; dialogs: {app.dialogs}")
    finally:
        for k, v in saved.items():
            if v is None:
                INTRINSICS.pop(k, None)
            else:
                INTRINSICS[k] = v


def _pyopenvba_compatible(source: str) -> str:
    lines = [line[:line.index("'")] if line.lstrip().startswith("#") and "'" in line else line
             for line in source.splitlines()]
    return re.sub(r'(GetConfig\("[^"]+", False\)) = True', r"CBool(\1) = True", "\n".join(lines))


def run_python_command(command: str, workbook: Path) -> subprocess.CompletedProcess:
    """Run the captured command for real, with the workbook file standing in for Excel."""
    env = dict(os.environ, MEDNEC_CALLER_FILE=str(workbook))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, *python_argv(command)], cwd=workbook.parent, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture()
def configured(built, tmp_path) -> Path:
    """A copy of the built workbook after `mednec excel-setup` pointed it at a Windows Python."""
    from click.testing import CliRunner

    from toolkit.cli import cli

    path = tmp_path / "medical_necessity.xlsm"
    shutil.copyfile(built, path)
    result = CliRunner().invoke(cli, ["excel-setup", "--workbook", str(path), "--interpreter", WINDOWS_PYTHON,
                                      "--platform", "win"])
    assert result.exit_code == 0, result.output
    return path


def test_split_of_a_windows_command_line_keeps_paths_and_escaped_quotes():
    line = r'cmd.exe /C C: & cd "C:\a b" & "C:\a b\pythonw.exe" -B -c "x(\"y;z\"); e.f()"  --wb="w.xlsm" 2> "C:\t.log" '
    assert python_argv(line) == ["-B", "-c", 'x("y;z"); e.f()', "--wb=w.xlsm"]


@pytest.mark.parametrize("key", list(BUTTONS))
def test_each_button_reaches_python_with_its_entry_function(configured, key):
    _, macro = BUTTONS[key]
    kwargs = {"files": [str(configured.parent / "a.835")]} if key in ("import", "import837") else {}
    if key == "appeal":
        kwargs["select"] = ("Denials", "B4")
    command = run_button(configured, macro, **kwargs)
    assert command.startswith("cmd.exe /C ") and f'"{WINDOWS_PYTHON}" -B -c' in command
    argv = python_argv(command)
    code = argv[2]
    assert code.startswith("import xlwings.utils;xlwings.utils.prepare_sys_path(")
    assert "import toolkit.excel.entry as e; e." in code
    assert f'--wb={configured.name}' in argv and "--from_xl=1" in argv
    expected = {"validate": "e.validate()", "import": "e.import_835([", "appeal": "e.appeal_selected(4)",
                "checklists": "e.checklists()", "dashboard": "e.dashboard()", "digest": "e.digest()",
                "import837": "e.import_837([",
                "suggest": "e.suggest_rules()"}[key]
    assert expected in code


def test_import_button_passes_every_chosen_file_as_a_python_string(configured):
    picked = [r"C:\Remits\jan\o'brien.835", r"C:\Remits\feb.835"]
    command = run_button(configured, "Import835Files", files=picked)
    code = python_argv(command)[2]
    call = code[code.index("e.import_835("):]
    import ast

    assert ast.literal_eval(call[len("e.import_835("):-1]) == picked


def test_import_button_does_nothing_when_the_biller_cancels_the_file_dialog(configured):
    with pytest.raises(AssertionError, match="never started Python"):
        run_button(configured, "Import835Files", files=[])


def test_appeal_button_outside_the_denials_sheet_explains_where_to_click(configured):
    with pytest.raises(AssertionError, match="Go to the Denials sheet"):
        run_button(configured, "AppealLetterForSelectedDenial", select=("Claims", "B4"))


def test_validate_button_end_to_end_fills_status_in_the_workbook(configured):
    from toolkit.tables import CLAIMS
    from toolkit.workbook.files import read_table

    before = read_table(configured, CLAIMS)
    assert not before.empty  # the build loads the sample claims
    vba_before = zipfile.ZipFile(configured).read("xl/vbaProject.bin")
    command = run_button(configured, "ValidateClaims")
    result = run_python_command(command, configured)
    assert result.returncode == 0, result.stderr
    after = read_table(configured, CLAIMS)
    assert len(after) == len(before)
    assert set(after["Status"]) <= {"GREEN", "AMBER", "RED"} and after["Status"].notna().all()
    assert zipfile.ZipFile(configured).read("xl/vbaProject.bin") == vba_before
    assert {m for _, m in _button_macros(configured)} == {m for _, m in BUTTONS.values()}


def test_a_button_whose_job_fails_shows_one_plain_sentence_and_logs_no_patient_data(configured):
    command = run_button(configured, "AppealLetterForSelectedDenial", select=("Denials", "B4"))
    result = run_python_command(command, configured)
    assert result.returncode != 0
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "Appeal Letter" in message


SHARED_835 = Path(__file__).resolve().parents[2] / "shared" / "data" / "x12_835"


def test_every_other_button_end_to_end_does_its_job_on_the_workbook(configured, built):
    """Checklists, Dashboard, Digest, Appeal and Import: macro → RunPython → command → job → files."""
    from test_excel_entry import _add_denial, _fill_settings

    from toolkit.tables import DENIALS
    from toolkit.workbook.files import read_table

    _fill_settings(configured)
    row = _add_denial(configured)
    folder = configured.parent

    def click(macro, **kwargs):
        result = run_python_command(run_button(configured, macro, **kwargs), configured)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert click("BuildChecklists").startswith("Checklists: ")
    assert list((folder / "Documents").glob("checklist_*.docx"))

    assert click("AppealLetterForSelectedDenial", select=("Denials", f"B{row}")).startswith(
        "Appeal letter for D-000001: written to ")
    assert list((folder / "Documents").glob("appeal_*.docx"))

    assert click("RefreshDashboard").startswith("Dashboard refreshed")
    import openpyxl

    assert openpyxl.load_workbook(configured, keep_vba=True)["Dashboard"]["B2"].value is not None

    assert click("MonthlyDigest").startswith("Digest ")
    assert list(folder.rglob("*.eml"))

    assert click("SuggestRuleChanges").startswith("0 rule suggestions (0 open)")  # one denial is no cluster

    if SHARED_835.exists():
        files = sorted(SHARED_835.glob("lfh_*.835"))[:2]
        before = len(read_table(configured, DENIALS))
        out = click("Import835Files", files=[str(f) for f in files])
        assert "added from 2 files" in out
        assert len(read_table(configured, DENIALS)) == before + int(out.split(" denial")[0])

    # the workbook is still the macro-enabled front end after all of it
    with zipfile.ZipFile(configured) as z, zipfile.ZipFile(built) as original:
        assert b"macroEnabled" in z.read("[Content_Types].xml")
        assert z.read("xl/vbaProject.bin") == original.read("xl/vbaProject.bin")
    assert {m for _, m in _button_macros(configured)} == {m for _, m in BUTTONS.values()}
