"""Find a template (the practice's own copy first) and render it with docxtpl.

A practice restyles its letters by copying ``word_templates/*.docx`` into a folder and naming
that folder in Settings under ``Template Folder``; any template missing there falls back to the
one shipped with mednec.  Rendering uses Jinja's ``StrictUndefined`` so a placeholder the data
cannot fill (a typo such as ``{{ payer.nmae }}``) stops the job with a message naming it,
instead of quietly printing a blank into a letter that goes to a payer.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from ..errors import MednecError
from ..workbook.files import atomic_write

SHIPPED = Path(__file__).with_name("templates")
KINDS = ("appeal_letter", "necessity_checklist", "prior_auth_request", "soap_note")
_LEFTOVER = re.compile(r"\{\{|\{%|\}\}|%\}")


class TemplateProblem(MednecError):
    """A template that cannot be used: missing, damaged, or with a placeholder the data lacks."""


def template_path(kind: str, settings: dict | None = None, base: Path | None = None) -> Path:
    """The template for ``kind``: ``<Template Folder>/<kind>.docx`` if the practice has one,
    else the shipped one.  A relative Template Folder is taken from the workbook's folder."""
    folder = _setting(settings or {}, "Template Folder")
    if folder:
        root = Path(folder).expanduser()
        if not root.is_absolute() and base is not None:
            root = Path(base) / root
        if not root.is_dir():
            raise TemplateProblem(f"the Template Folder in Settings ({folder}) is not a folder that exists; "
                                  "correct it, or clear it to use the shipped templates")
        own = root / f"{kind}.docx"
        if own.exists():
            return own
    shipped = SHIPPED / f"{kind}.docx"
    if not shipped.exists():
        raise TemplateProblem(f"the {kind}.docx template is missing from the mednec installation")
    return shipped


def _setting(settings: dict, key: str) -> str:
    want = " ".join(key.split()).casefold()
    for k, v in settings.items():
        if " ".join(str(k).split()).casefold() == want:
            return str(v or "").strip()
    return ""


class Renderer:
    """Renders one template many times (the template file is read once)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._bytes = self.path.read_bytes()
        except OSError as exc:
            raise TemplateProblem(f"{self.path.name}: cannot read the template ({exc.strerror})") from None
        self._env = _caching_environment()
        self._patched: dict[str, str] = {}

    def render(self, context: dict) -> bytes:
        """The filled document as .docx bytes; ``TemplateProblem`` names what went wrong."""
        import jinja2

        name = self.path.name
        try:
            tpl = _template_class()(io.BytesIO(self._bytes))
            tpl.patched_cache = self._patched
            held = _as_data(context)
            tpl.render(held, jinja_env=self._env)
        except jinja2.UndefinedError as exc:
            raise TemplateProblem(f"{name}: the placeholder {self._placeholder(exc)} cannot be filled from "
                                  "the workbook data; correct or remove it in the template") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(f"{name}: a placeholder is broken ({exc.message}); each one must read like "
                                  "{{ practice.name }}, and {% … %} tags must be complete") from None
        except jinja2.TemplateError as exc:
            raise TemplateProblem(f"{name}: the template cannot be filled ({exc})") from None
        except Exception as exc:  # a damaged .docx: zip/XML errors of several kinds
            raise TemplateProblem(f"{name}: not a usable Word template ({type(exc).__name__}); "
                                  "save it again as .docx from Word") from None
        out = io.BytesIO()
        tpl.save(out)
        data = out.getvalue()
        left = leftover_tags(data)
        if left:
            raise TemplateProblem(f"{name}: the text {left!r} was left unfilled (a placeholder Word split "
                                  "or mistyped); retype it as one piece, e.g. {{ practice.name }}")
        return _restore_braces(data) if held != context else data

    def _placeholder(self, exc) -> str:
        """The whole tag as the user typed it, e.g. ``{{ payer.nmae }}``.  Jinja only says
        ``'dict object' has no attribute 'nmae'`` or ``'payer' is undefined``."""
        msg = str(exc)
        m = re.search(r"has no attribute '([^']+)'", msg) or re.search(r"'([^']+)' is undefined", msg)
        if not m:
            return f"({msg})"
        word = re.escape(m.group(1))
        for text in _template_texts(self._bytes):
            tag = re.search(r"\{[{%](?:(?![}%]\}).)*\b" + word + r"\b(?:(?![}%]\}).)*[}%]\}", text)
            if tag:
                return " ".join(tag.group(0).split())
        return f"'{m.group(1)}'"


# Private-use characters standing in for the template's syntax characters inside data while
# rendering: "{", "}" and "%" of a value can never meet to look like a placeholder.
_HELD = {"{": "\ue000", "}": "\ue001", "%": "\ue002"}


def _hold(text: str) -> str:
    for char, stand_in in _HELD.items():
        text = text.replace(char, stand_in)
    return text


def _as_data(value):
    """The context with every "{", "}" and "%" in its text held aside: data is never template syntax.

    Values are inserted by Jinja (autoescaped), never parsed, but a Claim ID like ``C{{1001``
    would still read as an unfilled placeholder to ``leftover_tags``; ``_restore_braces`` puts
    the characters back into the finished document.
    """
    if isinstance(value, str):
        return _hold(value) if any(c in value for c in _HELD) else value
    if isinstance(value, dict):
        return {k: _as_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_data(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_as_data(v) for v in value)
    return value


def _restore_braces(docx_bytes: bytes) -> bytes:
    """Put back the characters ``_as_data`` held aside (rare: the parts are rewritten only then)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(docx_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            for char, stand_in in _HELD.items():
                data = data.replace(stand_in.encode("utf-8"), char.encode("utf-8"))
            target.writestr(info, data)
    return out.getvalue()


def _caching_environment():
    """A Jinja environment that compiles each part of the template once, not once per letter:
    docxtpl calls ``from_string`` for every part of every document, and compiling is most of
    the cost of a thousand letters."""
    import jinja2

    class CachingEnvironment(jinja2.Environment):
        def from_string(self, source, globals=None, template_class=None):
            if globals is None and template_class is None and isinstance(source, str):
                cache = self.__dict__.setdefault("_compiled", {})
                if source not in cache:
                    cache[source] = super().from_string(source)
                return cache[source]
            return super().from_string(source, globals, template_class)

    return CachingEnvironment(undefined=jinja2.StrictUndefined, autoescape=True)


_TEMPLATE_CLASS = None


def _template_class():
    """docxtpl's DocxTemplate with its XML clean-up (``patch_xml``, a dozen regexes over the
    whole part) remembered per template, for the same reason."""
    global _TEMPLATE_CLASS
    if _TEMPLATE_CLASS is None:
        from docxtpl import DocxTemplate

        class CachedDocxTemplate(DocxTemplate):
            patched_cache: dict | None = None

            def patch_xml(self, src_xml):
                if self.patched_cache is None:
                    return super().patch_xml(src_xml)
                if src_xml not in self.patched_cache:
                    self.patched_cache[src_xml] = super().patch_xml(src_xml)
                return self.patched_cache[src_xml]

        _TEMPLATE_CLASS = CachedDocxTemplate
    return _TEMPLATE_CLASS


def leftover_tags(docx_bytes: bytes) -> str:
    """The first ``{{``/``{%`` fragment still visible in the document text, or ''."""
    for text in _template_texts(docx_bytes):
        m = _LEFTOVER.search(text)
        if m:
            return text[max(0, m.start() - 10): m.end() + 25].strip()
    return ""


def _template_texts(docx_bytes: bytes):
    import zipfile

    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
        for part in z.namelist():
            if part.startswith("word/") and part.endswith(".xml"):
                yield re.sub(r"<[^>]+>", "", z.read(part).decode("utf-8", "replace"))


def write_docx(path: Path, data: bytes) -> Path:
    """Atomic: a temp file in the target folder, then replace."""
    return atomic_write(Path(path), lambda tmp: Path(tmp).write_bytes(data))


def safe_name(text: str, limit: int = 80) -> str:
    """A file-name fragment any file system accepts (IDs and payer names only, never patient data)."""
    text = str(text)
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-_")[:limit] or "unnamed"
    if re.search(r"[^A-Za-z0-9._ -]", text) or len(text) > limit or not text.strip(".-_ "):
        # "a/b" and "a-b" would both be "a-b": a short digest of the original keeps them apart
        import hashlib

        cleaned += "~" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
    return cleaned
