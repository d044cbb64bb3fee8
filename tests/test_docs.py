"""The documentation runs: every code block of README.md and docs/**/*.md, and the diagrams are current.

A ```python block is executed; a ```pycon block is a doctest, so what it shows after `>>>`
must be what ember prints. The blocks of one page share one namespace and run in order, in
a temporary directory. A marker on the line just above a block changes that:

* `<!-- docs-test: excerpt PATH -->`: the block quotes the file PATH; it is not run, but
  its lines must be in that file, in order (a line `...` stands for lines left out);
* `<!-- docs-test: skip REASON -->`: not run, only for code that needs data to download or
  is a deliberately partial fragment; the reason is required.
"""

from __future__ import annotations

import doctest
import importlib.util
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LANGUAGES = {"python", "pycon"}

FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)
MARKER = re.compile(r"<!--\s*docs-test:\s*(?P<kind>skip|excerpt)\b(?P<arg>.*?)-->\s*$")


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    code: str
    marker: str | None = None  # "skip" or "excerpt"
    arg: str = ""  # the reason to skip, or the path quoted


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        lang = match.group("lang")
        if lang not in LANGUAGES:
            continue
        indent = len(match.group("indent"))
        code = "".join(line[indent:] for line in match.group("body").splitlines(keepends=True))
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        line = text.count("\n", 0, match.start()) + 2  # the first line of code
        kind, arg = (marker.group("kind"), marker.group("arg").strip()) if marker else (None, "")
        found.append(Block(page, line, lang, code, kind, arg))
    return found


def name(page: Path) -> str:
    return str(page.relative_to(ROOT))


PAGES_WITH_CODE = [p for p in PAGES if blocks(p)]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=name)
def test_code_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace: dict = {"__name__": "__docs__"}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for block in blocks(page):
        where = f"{name(page)}:{block.line}"
        if block.marker is not None:
            continue
        if block.lang == "python":
            try:
                exec(compile(block.code, where, "exec"), namespace)
            except Exception as e:
                pytest.fail(f"the code block at {where} raised {type(e).__name__}: {e}")
        else:
            test = parser.get_doctest(block.code, namespace, where, str(page), block.line - 1)
            report = io.StringIO()
            result = runner.run(test, out=report.write, clear_globs=False)
            namespace.update(test.globs)  # a DocTest runs in a copy of the namespace it is given
            if result.failed:
                pytest.fail(f"the doctest at {where} printed something else:\n{report.getvalue()}")


def test_skip_markers_give_a_reason() -> None:
    skipped = [b for p in PAGES for b in blocks(p) if b.marker == "skip"]
    assert all(b.arg for b in skipped), [f"{name(b.page)}:{b.line}" for b in skipped if not b.arg]
    total = sum(len(blocks(p)) for p in PAGES)
    assert len(skipped) <= max(3, total // 10), "skip markers are for the rare block that cannot run"


EXCERPTS = [b for p in PAGES for b in blocks(p) if b.marker == "excerpt"]


@pytest.mark.parametrize("block", EXCERPTS, ids=lambda b: f"{name(b.page)}:{b.line}")
def test_excerpts_quote_the_code(block: Block) -> None:
    source = ROOT / block.arg
    assert source.is_file(), f"{name(block.page)}:{block.line} quotes {block.arg}, which does not exist"
    lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines()]
    start = 0
    chunks = re.split(r"^[ \t]*(?:#[ \t]*)?\.\.\.[ \t]*$", block.code, flags=re.M)
    for chunk in chunks:
        wanted = [line.strip() for line in chunk.strip("\n").splitlines()]
        if not wanted:
            continue
        at = next(
            (i for i in range(start, len(lines) - len(wanted) + 1) if lines[i : i + len(wanted)] == wanted),
            None,
        )
        assert at is not None, (
            f"the excerpt at {name(block.page)}:{block.line} is no longer in {block.arg}; these lines "
            f"differ or moved:\n" + "\n".join(wanted)
        )
        start = at + len(wanted)


def test_every_page_is_in_the_nav() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s*-\s*(?:[^:\n]+:\s*)?(\S+\.md)\s*$", config, re.M))
    generated = re.compile(r"report/.*\.md|diagrams/class-diagram-v\d+\.md")
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert sorted(p for p in pages - listed if not generated.fullmatch(p)) == []


def test_every_package_has_an_api_page() -> None:
    reference = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "api").glob("*.md"))
    src = ROOT / "src" / "ember"
    packages = [p.parent.relative_to(src) for p in src.rglob("__init__.py") if p.parent != src]
    public = [".".join(p.parts) for p in packages if not any(part.startswith("_") for part in p.parts)]

    def covered(package: str) -> bool:
        if f"::: ember.{package}" in reference:
            return True
        parent = package.rpartition(".")[0]  # re-exported by its parent, documented there
        init = src.joinpath(*parent.split("."), "__init__.py")
        return bool(parent) and covered(parent) and f"from ember.{package} import" in init.read_text("utf-8")

    missing = [p for p in public if not covered(p)]
    assert missing == [], f"packages without a page in docs/api: {missing}"


def test_class_diagrams_are_up_to_date(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("ember_tools_diagrams", ROOT / "tools" / "diagrams.py")
    diagrams = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, diagrams)  # dataclasses look their module up there
    spec.loader.exec_module(diagrams)
    wanted = diagrams.pages(diagrams.Library(diagrams.SRC), diagrams.OUT, None)
    stale = [name(p) for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert stale == [], f"class diagrams out of date, run `make diagrams`: {stale}"
