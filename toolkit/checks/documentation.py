"""Documentation checks: the note behind the claim line and whether the service happened."""

from __future__ import annotations

import re

from .base import AMBER, RED, check, field

_SECTIONS = "SOAP"
_NAMES = {"S": "Subjective", "O": "Objective", "A": "Assessment", "P": "Plan"}


def note_sections(text: str) -> set[str]:
    """``"S,O,A,P"``, ``"SOAP"``, ``"Subjective; Objective"`` → the section letters present."""
    found = set()
    for token in re.split(r"[,;/\s]+", text.upper()):
        if not token:
            continue
        if (len(token) == 1 and token in _SECTIONS) or token.capitalize() in _NAMES.values():
            found.add(token[0])
        elif set(token) <= set(_SECTIONS):
            found.update(token)
    return found


def _missing(text: str) -> str:
    return "".join(s for s in _SECTIONS if s not in note_sections(text))


@check("NOTE_INCOMPLETE", AMBER, "documentation", "Note Sections is given and lacks any of S, O, A, P",
       "The note lacks the {missing_sections} section{missing_plural} of the SOAP note. Complete and "
       "sign the note before submitting.")
def note_incomplete(lines):
    return lines.map_column("Note Sections", lambda t: bool(t) and bool(_missing(t))).astype(bool)


@field("missing_sections")
def _missing_sections(lines, idx):
    return lines.coded("Note Sections", idx, lambda t: ", ".join(f"{_NAMES[s]} ({s})" for s in _missing(t)))


@field("missing_plural")
def _missing_plural(lines, idx):
    return lines.coded("Note Sections", idx, lambda t: "s" if len(_missing(t)) > 1 else "")


@check("PATIENT_DECLINED", RED, "documentation", "Patient Declined = Y: a service not performed cannot be billed",
       "The patient declined the service: a service not performed cannot be billed. Remove the line "
       "(or correct Patient Declined if the service was done).")
def patient_declined(lines):
    return lines.yes("Patient Declined")
