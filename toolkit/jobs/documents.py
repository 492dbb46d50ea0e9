"""Word documents from the workbook: appeal letters, checklists, prior-auth requests, SOAP templates.

Each job reads the tables once, builds every document's content and renders every document in
memory first; only when all of them succeeded are the files written (each one atomically), so a
bad row never leaves half a batch behind.  File names carry the denial, claim or rule, never a
patient's name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, MednecError
from ..tables import CLAIMS, DENIALS, PAYERS, RULES
from ..workbook.book import Book

# ---------------------------------------------------------------- reading the book

def _has(book: Book, spec) -> bool:
    return book.has_table(spec)


def _table(book, spec, required: bool):
    if not _has(book, spec):
        if required:
            raise InputError(f"no {spec.name} sheet or {spec.table} table in the workbook",
                             file=book.path)
        return None
    return book.read_table(spec)


def _base_folder(book: Book) -> Path:
    return Path(book.path).parent


def output_folder(book, out_dir=None, settings: dict | None = None) -> Path:
    """``--out`` if given, else Settings ``Output Folder`` (relative = next to the workbook), else
    a ``Documents`` folder next to the workbook."""
    from ..values import setting_path

    if out_dir:
        return Path(out_dir)
    configured = setting_path(settings if settings is not None else book.settings(), "Output Folder",
                              _base_folder(book))
    return configured if configured is not None else _base_folder(book) / "Documents"


def casefile(book, *, today: dt.date | None = None, need_denials: bool = True):
    from ..appeals import Casefile

    settings = book.settings()
    denials = _table(book, DENIALS, need_denials)
    if denials is None:
        import pandas as pd
        denials = pd.DataFrame(columns=DENIALS.headers)
    return Casefile(denials, _table(book, CLAIMS, False), _table(book, RULES, True), _table(book, PAYERS, True),
                    settings, today=today, file=book.path)


def _renderer(kind: str, book, settings: dict):
    from ..word.render import Renderer, template_path

    return Renderer(template_path(kind, settings, _base_folder(book)))


def _write_all(documents: list[tuple[Path, bytes]]) -> list[Path]:
    from ..word.render import write_docx

    return [write_docx(path, data) for path, data in _unique_paths(documents)]


def _unique_paths(documents: list[tuple[Path, bytes]]) -> list[tuple[Path, bytes]]:
    """Two documents of one batch never share a file (names compared as Windows and macOS do)."""
    seen: dict[str, int] = {}
    out = []
    for path, data in documents:
        key = str(path).casefold()
        if key in seen:
            seen[key] += 1
            path = path.with_name(f"{path.stem}-{seen[key]}{path.suffix}")
        else:
            seen[key] = 1
        out.append((path, data))
    return out


def _ensure_folder_writable(folder: Path) -> None:
    """Before the Status is saved: the letters must be able to follow (no Status without a letter)."""
    import os

    from ..errors import MednecError

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MednecError(f"{folder}: cannot create the folder for the letters ({exc.strerror or exc}); "
                          "nothing was written") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MednecError(f"{folder}: the folder for the letters is read-only; nothing was written")


def _one_line(problems: list[str], what: str) -> MednecError:
    if len(problems) == 1:
        return InputError(problems[0])
    return InputError(f"{len(problems)} {what} cannot be written, nothing was written. First: {problems[0]}")


# ---------------------------------------------------------------- appeals

def appeal_file_name(ctx: dict) -> str:
    from ..word.render import safe_name

    # A reopening request or a corrected-claim cover letter is not an appeal: its file says what it is.
    prefix = {"Reopening request for": "reopening", "Corrected-claim cover letter for": "corrected_claim"}.get(
        ctx.get("appeal", {}).get("document", ""), "appeal")
    return (f"{prefix}_{safe_name(ctx['denial']['id'])}_claim_{safe_name(ctx['claim']['id'])}"
            f"-{safe_name(ctx['claim']['line'])}.docx")


@dataclass
class WrittenLetter:
    """One letter written, and what stands between it and the mailbox."""
    denial_id: str
    path: Path
    needs: list[str] = field(default_factory=list)  # "[…]" placeholders and "[not on file]" to fill in
    warnings: list[str] = field(default_factory=list)  # policy criteria the claim does not meet

    @property
    def ready(self) -> bool:
        return not self.needs and not self.warnings


@dataclass
class AppealBatch:
    letters: list[WrittenLetter] = field(default_factory=list)
    no_letter: list[str] = field(default_factory=list)  # one line each: why no letter, what to do
    marked: list[str] = field(default_factory=list)  # Denial IDs set to Appealed

    @property
    def paths(self) -> list[Path]:
        return [w.path for w in self.letters]


def appeal_letter(book, denial_id: str, out_dir=None, mark_appealed: bool = False, *,
                  today: dt.date | None = None) -> Path:
    """Write the appeal letter for one denial; with ``mark_appealed`` set its Status to Appealed
    when the letter needs nothing more.  Raises ``NoLetter`` when no letter should be written."""
    batch = appeal_batch(book, [denial_id], out_dir, mark_appealed, today=today)
    if batch.no_letter:
        from ..letters import NoLetter

        raise NoLetter(batch.no_letter[0])
    return batch.paths[0]


def appeal_letters_all_open(book, out_dir=None, mark_appealed: bool = False, *,
                            today: dt.date | None = None) -> list[Path]:
    """Write a letter for every denial whose Status is Open (or blank)."""
    return appeal_batch(book, None, out_dir, mark_appealed, today=today).paths


def appeal_batch(book, ids: list[str] | None, out_dir=None, mark_appealed: bool = False, *,
                 today: dt.date | None = None) -> AppealBatch:
    """Letters for ``ids`` (``None``: every open denial).  All-or-nothing for errors in the data (a
    missing payer address stops the batch); a denial that should get no letter is listed instead.
    ``mark_appealed`` sets Appealed only on letters that need nothing more from the biller."""
    import pandas as pd

    from ..letters import NoLetter, needs_input

    case = casefile(book, today=today)
    ids = case.open_denial_ids() if ids is None else ids
    batch = AppealBatch()
    contexts, problems = [], []
    for denial_id in ids:
        try:
            contexts.append((denial_id, case.denial_row(denial_id), case.appeal(denial_id)))
        except NoLetter as exc:
            batch.no_letter.append(str(exc))
        except InputError as exc:
            problems.append(f"denial {denial_id}: {exc}" if len(ids) > 1 else str(exc))
    if problems:
        raise _one_line(problems, "appeal letters")
    if not contexts:
        return batch
    folder = output_folder(book, out_dir, case.settings)
    renderer = _renderer("appeal_letter", book, case.settings)
    docs = [(folder / appeal_file_name(ctx), renderer.render(ctx)) for _, _, ctx in contexts]
    drafts = [WrittenLetter(denial_id, folder, needs_input(ctx), list(ctx.get("warnings") or []))
              for denial_id, _, ctx in contexts]
    if mark_appealed:
        # The Status first: when it cannot be saved (read-only, open in Excel, locked) the job
        # stops before any letter exists, so letters and Status never disagree.  Only letters
        # that need nothing more from the biller are marked.
        _ensure_folder_writable(folder)
        ready = {d.denial_id for d in drafts if d.ready}
        rows = [row for denial_id, row, _ in contexts if denial_id in ready]
        if rows:
            book.write_columns(DENIALS, pd.DataFrame({"Status": ["Appealed"] * len(rows)}, index=rows))
            book.save()
        batch.marked = [d.denial_id for d in drafts if d.ready]
    for draft, path in zip(drafts, _write_all(docs)):
        draft.path = path
        batch.letters.append(draft)
    return batch


# ---------------------------------------------------------------- checklists, SOAP templates

def _payer_types(case) -> dict:
    return {k: str(v) for k, v in case.payers["Payer Type"].items()}


def build_checklists(book, out_dir=None, payer: str | None = None, cpt: str | None = None, *,
                     today: dt.date | None = None) -> list[Path]:
    """One medical-necessity checklist per rule (payer × CPT/HCPCS), optionally only some."""
    from ..checklists import checklist_context
    from ..rules import payer_key
    from ..word.render import safe_name

    case = casefile(book, today=today, need_denials=False)
    rules = case.rules
    if payer:
        rules = rules[rules["_payer"] == payer_key(payer)]
    if cpt:
        rules = rules[rules["_cpt"] == str(cpt).strip().upper()]
    if rules.empty:
        what = " and ".join(x for x in (f"payer {payer!r}" if payer else "", f"CPT/HCPCS {cpt}" if cpt else "") if x)
        raise InputError("no rules in the Rules table" + (f" for {what}" if what else ""), file=case.file,
                         sheet="Rules")
    types = _payer_types(case)
    contexts, problems, seen = [], [], {}
    for _, rule in rules.iterrows():
        try:
            ctx = checklist_context(rule, types.get(rule["_payer"], ""), case.settings, case.codesets, case.today,
                                    row=int(rule["_source_row"]), file=case.file)
        except InputError as exc:
            problems.append(str(exc))
            continue
        name = f"checklist_{safe_name(rule['Payer'])}_{safe_name(rule['CPT/HCPCS'])}"
        start = as_iso(rule.get("Effective From"))
        if name in seen:  # several versions of one policy: tell them apart by start date
            name += f"_from-{start or 'start'}"
        seen[name] = True
        contexts.append((name + ".docx", ctx))
    if problems:
        raise _one_line(problems, "checklists")
    folder = output_folder(book, out_dir, case.settings)
    renderer = _renderer("necessity_checklist", book, case.settings)
    return _write_all([(folder / name, renderer.render(ctx)) for name, ctx in contexts])


def as_iso(value) -> str:
    from ..values import as_date

    d = as_date(value)
    return d.isoformat() if d else ""


def soap_templates(book, out_dir=None, *, today: dt.date | None = None) -> list[Path]:
    """One SOAP note template per procedure, prompting for what every payer's rule needs.
    Rules whose Effective To has passed are left out (the providers document for today)."""
    import pandas as pd

    from ..checklists import soap_context
    from ..word.render import safe_name

    case = casefile(book, today=today, need_denials=False)
    rules = case.rules
    current = rules["Effective To"].isna() | (rules["Effective To"] >= pd.Timestamp(case.today))
    rules = rules[current]
    if rules.empty:
        raise InputError("no rules in force in the Rules table", file=case.file, sheet="Rules")
    types = _payer_types(case)
    contexts = []
    for cpt, group in rules.groupby("_cpt", sort=True):
        pairs = [(r, types.get(r["_payer"], "")) for _, r in group.iterrows()]
        contexts.append((f"soap_note_{safe_name(cpt)}.docx", soap_context(cpt, pairs, case.settings, case.codesets,
                                                                           case.today)))
    folder = output_folder(book, out_dir, case.settings)
    renderer = _renderer("soap_note", book, case.settings)
    return _write_all([(folder / name, renderer.render(ctx)) for name, ctx in contexts])


# ---------------------------------------------------------------- prior authorization

def prior_auth_requests(book, out_dir=None, *, today: dt.date | None = None) -> list[Path]:
    """A request for every claim line whose rule requires prior auth and that has no number."""
    from ..word.render import safe_name

    case = casefile(book, today=today, need_denials=False)
    rows = case.prior_auth_rows()
    contexts, problems = [], []
    for row in rows:
        try:
            contexts.append(case.prior_auth(row))
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise _one_line(problems, "prior-authorization requests")
    if not contexts:
        return []
    folder = output_folder(book, out_dir, case.settings)
    renderer = _renderer("prior_auth_request", book, case.settings)
    return _write_all([(folder / f"prior_auth_claim_{safe_name(c['claim']['id'])}-{safe_name(c['claim']['line'])}.docx",
                        renderer.render(c)) for c in contexts])
