"""Ship the repository's ``workbooks/`` (the front-end workbook, the sample practice and its
835 files) inside the wheel as ``toolkit/shipped/``.

They stay in ``workbooks/`` in the repository, where billers and tests look for them; only the
installed package needs a copy, and keeping one folder avoids two copies drifting apart.
Everything else is declared in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("medical_necessity.xlsm", "sample")


class BuildWithWorkbooks(build_py):
    def run(self):
        super().run()
        source = HERE / "workbooks"
        target = Path(self.build_lib) / "toolkit" / "shipped"
        for name in SHIPPED:
            path = source / name
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                dest = target / file.relative_to(source)
                self.mkpath(str(dest.parent))
                self.copy_file(str(file), str(dest))


setup(cmdclass={"build_py": BuildWithWorkbooks})
