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
from typing import Any

from ..errors import MednecError
from ..values import setting, setting_path
from ..workbook.files import atomic_write

SHIPPED = Path(__file__).with_name("templates")
_LEFTOVER = re.compile(r"\{\{|\{%|\}\}|%\}")


class TemplateProblem(MednecError):
    """A template that cannot be used: missing, damaged, or with a placeholder the data lacks."""


def template_path(kind: str, settings: dict | None = None, base: Path | None = None) -> Path:
    """The template for ``kind``: ``<Template Folder>/<kind>.docx`` if the practice has one,
    else the shipped one.  A relative Template Folder is taken from the workbook's folder."""
    root = setting_path(settings, "Template Folder", base)
    if root is not None:
        if not root.is_dir():
            raise TemplateProblem(f"the Template Folder in Settings ({setting(settings, 'Template Folder')}) is "
                                  "not a folder that exists; correct it, or clear it to use the shipped templates")
        own = root / f"{kind}.docx"
        if own.exists():
            return own
    shipped = SHIPPED / f"{kind}.docx"
    if not shipped.exists():
        raise TemplateProblem(f"the {kind}.docx template is missing from the mednec installation")
    return shipped


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
        self._prepared: _Prepared | None = None
        self._tried = False  # taken apart already (``_prepared`` None then: docxtpl for every letter)

    def render(self, context: dict) -> bytes:
        """The filled document as .docx bytes; ``TemplateProblem`` names what went wrong.

        The template is taken apart and compiled on the first letter; every later letter only
        fills the compiled parts and zips them with the template's other parts (the batch path).
        A template using what that path does not do (``{%tc`` column loops, images, placeholders
        in the document properties) goes through docxtpl for every letter, as before."""
        import jinja2

        name = self.path.name
        try:
            if not self._tried:
                self._prepared, self._tried = _Prepared.of(self._bytes, self._env), True
            if self._prepared is not None:
                held = _as_data(context)
                data = self._prepared.render(held)
                if data is not None:
                    return self._checked(data, name, restore=held is not context)
        except jinja2.TemplateError as exc:
            raise self._problem(exc) from None
        return self.render_docxtpl(context)

    def _problem(self, exc) -> TemplateProblem:
        """A template error of Jinja's, said in the biller's words."""
        import jinja2

        name = self.path.name
        if isinstance(exc, jinja2.UndefinedError):
            return TemplateProblem(f"{name}: the placeholder {self._placeholder(exc)} cannot be filled from "
                                   "the workbook data; correct or remove it in the template")
        if isinstance(exc, jinja2.TemplateSyntaxError):
            return TemplateProblem(f"{name}: a placeholder is broken ({exc.message}); each one must read like "
                                   "{{ practice.name }}, and {% … %} tags must be complete")
        return TemplateProblem(f"{name}: the template cannot be filled ({exc})")

    def _checked(self, data: bytes, name: str, *, restore: bool) -> bytes:
        """Refuse a letter with an unfilled placeholder; put back the braces the data held aside."""
        left = leftover_tags(data)
        if left:
            raise TemplateProblem(f"{name}: the text {left!r} was left unfilled (a placeholder Word split "
                                  "or mistyped); retype it as one piece, e.g. {{ practice.name }}")
        return _restore_braces(data) if restore else data

    def render_docxtpl(self, context: dict) -> bytes:
        """One letter through docxtpl from scratch (the path before batches; kept for templates
        the batch path does not handle, and to compare the two)."""
        import jinja2

        name = self.path.name
        try:
            tpl = _template_class()(io.BytesIO(self._bytes))
            tpl.patched_cache = self._patched
            held = _as_data(context)
            tpl.render(held, jinja_env=self._env)
        except jinja2.TemplateError as exc:
            raise self._problem(exc) from None
        except Exception as exc:  # a damaged .docx: zip/XML errors of several kinds
            raise TemplateProblem(f"{name}: not a usable Word template ({type(exc).__name__}); "
                                  "save it again as .docx from Word") from None
        out = io.BytesIO()
        tpl.save(out)
        return self._checked(out.getvalue(), name, restore=held is not context)

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
        items = {k: _as_data(v) for k, v in value.items()}
        return value if all(items[k] is v for k, v in value.items()) else items
    if isinstance(value, (list, tuple)):
        seq = [_as_data(v) for v in value]
        if all(a is b for a, b in zip(seq, value)):
            return value  # unchanged: the same object, so the caller knows nothing was held aside
        return seq if isinstance(value, list) else tuple(seq)
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


_PART_TYPES = ("/header", "/footer", "/footnotes")
_LISTING = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\t\a\n\f]")
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)  # docxtpl's resolve_listing's own pattern


class _Prepared:
    """A template taken apart once per batch: its parts as bytes, and each part holding
    placeholders patched the way docxtpl patches it and compiled, ready to fill.

    Hand-written rather than docxtpl's ``render`` because docxtpl re-reads the .docx, re-patches
    and re-serialises every part for every letter (two thirds of the cost of 1,000 letters).  It
    does the same steps on the same text — ``patch_xml``, the ``<w:p`` line breaks Jinja's
    line statements rely on, the ``{_{`` escapes, ``resolve_listing`` — so the letters read the
    same; a letter whose filled XML does not parse is left to docxtpl (its recovering parser)."""

    def __init__(self, infos, parts: dict[str, bytes], compiled: dict[str, Any]):
        import zipfile

        self.infos, self.compiled = infos, compiled
        base = io.BytesIO()  # the parts no letter changes, compressed once for the whole batch
        with zipfile.ZipFile(base, "w", zipfile.ZIP_DEFLATED) as z:
            for info in infos:
                if info.filename not in compiled:
                    z.writestr(info, parts[info.filename], compress_type=zipfile.ZIP_DEFLATED)
        self.base = base.getvalue()
        self.filled_infos = [i for i in infos if i.filename in compiled]

    @classmethod
    def of(cls, data: bytes, env) -> _Prepared | None:
        import zipfile

        from docxtpl import DocxTemplate

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                infos = z.infolist()
                parts = {i.filename: z.read(i.filename) for i in infos}
            main = _rel_targets(parts, "", "/officeDocument")
            if len(main) != 1:
                return None
            document = main[0]
            rendered = [document] + [t for kind in _PART_TYPES for t in _rel_targets(parts, document, kind)]
            if b"{" in parts.get("docProps/core.xml", b""):
                return None
            compiled = {}
            for name in rendered:
                src = parts[name].decode("utf-8")
                if "{" not in src:
                    continue
                patched = DocxTemplate.patch_xml(None, src)  # uses no state
                if re.search(r"\{%-?\s*tc\b", patched) or "docPr" in patched:
                    return None
                compiled[name] = env.from_string(re.sub(r"<w:p([ >])", r"\n<w:p\1", patched))
        except (KeyError, UnicodeDecodeError, zipfile.BadZipFile):
            return None
        return cls(infos, parts, compiled)

    def render(self, context: dict) -> bytes | None:
        """One filled .docx, or None when a part does not come out as well-formed XML."""
        import zipfile

        from docxtpl import DocxTemplate
        from lxml import etree

        filled = {}
        for name, template in self.compiled.items():
            xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", template.render(context))
            xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
            if _LISTING.search(xml):  # tabs and line breaks in the data become Word's, paragraph by paragraph
                xml = _PARAGRAPH.sub(lambda m: DocxTemplate.resolve_listing(None, m.group(0))
                                     if _LISTING.search(m.group(0)) else m.group(0), xml)
            data = xml.encode("utf-8")
            try:
                etree.fromstring(data)
            except etree.XMLSyntaxError:
                return None
            filled[name] = data
        out = io.BytesIO(self.base)
        out.seek(0, io.SEEK_END)
        with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:
            for info in self.filled_infos:
                z.writestr(info, filled[info.filename], compress_type=zipfile.ZIP_DEFLATED)
        return out.getvalue()


def _rel_targets(parts: dict[str, bytes], source: str, kind: str) -> list[str]:
    """Targets of ``source``'s relationships whose type ends with ``kind``."""
    import posixpath

    folder, base = posixpath.split(source)
    rels = parts.get(posixpath.join(folder, "_rels", base + ".rels"), b"").decode("utf-8")
    out = []
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        kind_m = re.search(r'Type="([^"]+)"', rel)
        target = re.search(r'Target="([^"]+)"', rel)
        if kind_m and target and kind_m.group(1).endswith(kind) and "External" not in rel:
            t = target.group(1)
            out.append(t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join(folder, t)))
    return out


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
