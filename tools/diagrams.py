"""Class diagrams of ember, generated from its source code (`make diagrams`).

The classes are read from the abstract syntax trees of src/ember (nothing is imported, so
the tool also reads an old commit's source) and written as Mermaid class diagrams, which
the documentation site renders:

* docs/diagrams/class-diagram.md: the whole library, one box per hierarchy root or
  cross-package class, with a note counting each family of subclasses;
* docs/diagrams/<package>.md: every class of one package, its public methods and
  attributes, inheritance and the associations its type hints reveal;
* docs/diagrams/class-diagram-vN.md: earlier versions of the whole-library diagram. When
  the architecture (the boxes and arrows of the whole-library diagram) differs from the
  one on disk, the one on disk is kept as the next vN, with a line saying what changed.

Run: python tools/diagrams.py [--check] [--note "why the architecture changed"]
     python tools/diagrams.py --from-rev REV --note "..."   (archive an old commit's diagram)
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
OUT = ROOT / "docs" / "diagrams"

# Each class belongs to the longest of these prefixes of its module's name.
PACKAGES = {
    "ember": "the core: Tensor, dtypes, creation, random numbers, saving, drawing, the CLI",
    "ember.autograd": "Function (the one graph node), the engine, grad modes, gradcheck",
    "ember.ops": "every differentiable operation, one Function subclass each",
    "ember.nn": "Module, Parameter, layers, losses, initialisation",
    "ember.optim": "optimizers and learning-rate schedulers",
    "ember.distributions": "probability distributions, their constraints, KL divergences",
    "ember.utils.data": "Dataset, Sampler, DataLoader and its worker processes",
    "ember.datasets": "MNIST, Fashion-MNIST, CIFAR-10/100, Raisin and other tables, synthetic data",
    "ember.transforms": "sample transforms: ToTensor, Normalize and torchvision's image augmentations",
    "ember._train": "the pieces of `ember train`",
}
# A per-package diagram lists members unless it has more classes than this.
MEMBER_LIMIT = 48
# The whole-library diagram draws a class with at least this many subclasses.
FAMILY = 4


@dataclass
class ClassInfo:
    name: str
    module: str
    bases: list[str]  # resolved dotted names (ember classes) or plain names (others)
    methods: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    uses: dict[str, str] = field(default_factory=dict)  # attribute or parameter -> class

    @property
    def full(self) -> str:
        return f"{self.module}.{self.name}"


def package_of(module: str) -> str:
    return max((p for p in PACKAGES if module == p or module.startswith(p + ".")), key=len)


# ---- reading the source ---------------------------------------------------------------------------


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_map(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """Local name -> dotted name, from the module's import statements (at any depth)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")
                parent = parent[: len(parent) - node.level + (1 if is_package else 0)]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
    return names


def dotted(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        head = dotted(expr.value)
        return f"{head}.{expr.attr}" if head else None
    if isinstance(expr, ast.Subscript):  # Generic[T], list[Module]: the outer name
        return dotted(expr.value)
    return None


def annotation_names(expr: ast.expr | None) -> list[str]:
    """Every dotted name in a type annotation (strings included: `from __future__ import annotations`)."""
    if expr is None:
        return []
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        try:
            expr = ast.parse(expr.value, mode="eval").body
        except SyntaxError:
            return []
    found = []
    for node in ast.walk(expr):
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = dotted(node)
            if name:
                found.append(name)
    return found


def _self_assignments(func: ast.FunctionDef) -> list[tuple[str, ast.expr | None, ast.expr | None]]:
    """(attribute, value, annotation) of each `self.x = ...` / `self.x: T = ...` in a method."""
    found = []
    for node in ast.walk(func):
        targets: list[ast.expr] = []
        value = annotation = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value, annotation = [node.target], node.value, node.annotation
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            for t in elements:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                    found.append((t.attr, value if len(elements) == 1 else None, annotation))
    return found


def read_class(node: ast.ClassDef, module: str) -> tuple[ClassInfo, dict[str, list[str]]]:
    """The class and, for each public attribute, the names its annotations mention."""
    info = ClassInfo(node.name, module, [dotted(b) or "?" for b in node.bases])
    hints: dict[str, list[str]] = {}
    attributes: dict[str, None] = {}
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not item.name.startswith("_"):
                is_property = any(dotted(d) == "property" for d in item.decorator_list)
                if is_property:
                    attributes[item.name] = None
                    hints[item.name] = annotation_names(item.returns)
                elif not any(dotted(d) and dotted(d).endswith(".setter") for d in item.decorator_list):
                    info.methods.append(item.name)
            if item.name == "__init__":
                params = {a.arg: a.annotation for a in item.args.args + item.args.kwonlyargs}
                for attr, value, annotation in _self_assignments(item):
                    if attr.startswith("_"):
                        continue
                    attributes[attr] = None
                    names = annotation_names(annotation)
                    if isinstance(value, ast.Name) and value.id in params:
                        names += annotation_names(params[value.id])
                    elif isinstance(value, ast.Call):
                        names += [n for n in [dotted(value.func)] if n]
                    hints.setdefault(attr, []).extend(names)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            if not item.target.id.startswith("_"):
                attributes[item.target.id] = None
                hints[item.target.id] = annotation_names(item.annotation)
        elif isinstance(item, ast.Assign):
            for target in item.targets:
                if isinstance(target, ast.Name) and target.id == "__slots__":
                    if isinstance(item.value, (ast.Tuple, ast.List)):
                        for elt in item.value.elts:
                            if isinstance(elt, ast.Constant) and not str(elt.value).startswith("_"):
                                attributes[str(elt.value)] = None
    info.attributes = list(attributes)
    return info, hints


class Library:
    """Every class of the package under `src`, with its bases and associations resolved."""

    def __init__(self, src: Path) -> None:
        self.classes: dict[str, ClassInfo] = {}
        self.imports: dict[str, dict[str, str]] = {}
        hints: dict[str, dict[str, list[str]]] = {}
        for path in sorted((src / "ember").rglob("*.py")):
            module = module_name(path, src)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            self.imports[module] = import_map(tree, module, path.name == "__init__.py")
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    info, class_hints = read_class(node, module)
                    self.classes[info.full] = info
                    hints[info.full] = class_hints
        for info in self.classes.values():
            info.bases = [self.resolve(b, info.module) or b for b in info.bases if b != "object"]
            for attr, names in hints[info.full].items():
                for name in names:
                    target = self.resolve(name, info.module)
                    if target and target != info.full:
                        info.uses[attr] = target
                        break

    def resolve(self, name: str, module: str, depth: int = 0) -> str | None:
        """The ember class that `name`, as written in `module`, refers to (None if not ember's)."""
        if depth > 10:
            return None
        head, _, rest = name.partition(".")
        local = f"{module}.{name}"
        if local in self.classes:
            return local
        target = self.imports.get(module, {}).get(head)
        full = f"{target}.{rest}" if target and rest else target
        if full is None:
            return None
        if full in self.classes:
            return full
        owner, _, attr = full.rpartition(".")
        if owner in self.imports and owner != module:  # re-exported by a package's __init__
            return self.resolve(attr, owner, depth + 1)
        return None

    def subclasses(self, full: str) -> list[str]:
        """Every class below `full`, at any depth."""
        found, todo = [], [full]
        while todo:
            parent = todo.pop()
            for info in self.classes.values():
                if parent in info.bases and info.full not in found:
                    found.append(info.full)
                    todo.append(info.full)
        return found


# ---- writing Mermaid ------------------------------------------------------------------------------


def short_ids(names: list[str]) -> dict[str, str]:
    """A Mermaid identifier per dotted name: the class name, qualified where names clash."""
    ids, taken = {}, {}
    for full in names:
        taken.setdefault(full.rsplit(".", 1)[-1], []).append(full)
    for short, fulls in taken.items():
        for full in fulls:
            if len(fulls) == 1:
                ids[full] = short
            else:
                ids[full] = re.sub(r"\W", "_", full.removeprefix("ember.").rpartition(".")[0]) + "_" + short
    return ids


def label(lib: Library, full: str) -> str:
    """The class name, and its module when another class of the library has the same name."""
    module, _, name = full.rpartition(".")
    clash = sum(1 for other in lib.classes.values() if other.name == name) > 1
    return f"{name} ({module.removeprefix('ember.')})" if clash else name


def namespace_id(module: str) -> str:
    return re.sub(r"\W", "_", module)


def class_box(cid: str, label: str, members: list[str], stereotype: str | None = None) -> list[str]:
    head = f'class {cid}["{label}"]' if cid != label else f"class {cid}"
    body = ([f"<<{stereotype}>>"] if stereotype else []) + members
    if not body:
        return [head]
    return [head + " {"] + [f"  {line}" for line in body] + ["}"]


def package_diagram(lib: Library, package: str) -> str:
    """Every class of one package, grouped by module, with members when they fit."""
    mine = [c for c in lib.classes.values() if package_of(c.module) == package]
    with_members = len(mine) <= MEMBER_LIMIT
    outside: list[str] = []
    for c in mine:
        for other in c.bases + list(c.uses.values()):
            if other not in outside and (
                other not in lib.classes or package_of(lib.classes[other].module) != package
            ):
                outside.append(other)
    ids = short_ids([c.full for c in mine] + [o for o in outside if o in lib.classes])
    ids.update({o: re.sub(r"\W", "_", o) for o in outside if o not in lib.classes})
    lines = ["classDiagram", "  direction LR" if not with_members else "  direction TB"]
    by_module: dict[str, list[ClassInfo]] = {}
    for c in mine:
        by_module.setdefault(c.module, []).append(c)
    for module, classes in by_module.items():
        lines.append(f"  namespace {namespace_id(module)} {{")
        for c in classes:
            members = []
            if with_members:
                members = [f"+{a}" for a in c.attributes] + [f"+{m}()" for m in c.methods]
            lines += [f"    {line}" for line in class_box(ids[c.full], c.name, members)]
        lines.append("  }")
    for other in outside:
        label = other.rsplit(".", 1)[-1] if other in lib.classes else other
        where = lib.classes[other].module if other in lib.classes else "external"
        lines += [f"  {line}" for line in class_box(ids[other], label, [], stereotype=where)]
    for c in mine:
        for base in c.bases:
            lines.append(f"  {ids[base]} <|-- {ids[c.full]}")
        for attr, target in c.uses.items():
            lines.append(f"  {ids[c.full]} --> {ids[target]} : {attr}")
    return "\n".join(lines) + "\n"


def overview(lib: Library) -> str:
    """The whole library: the families, and the classes that tie packages together.

    A class is drawn when the `ember` namespace exports it, when it heads a family (FAMILY or more subclasses), when it extends or
    refers to a class of another package, or when another package refers to it; the
    bases of drawn classes are drawn too. A note counts the subclasses left out.
    """
    pkg = {full: package_of(c.module) for full, c in lib.classes.items()}
    # the classes of the torch-shaped namespace itself: Tensor, dtype, Generator, ...
    keep = {t for name in lib.imports.get("ember", {}) if (t := lib.resolve(name, "ember")) in lib.classes}
    for full, c in lib.classes.items():
        if len(lib.subclasses(full)) >= FAMILY:
            keep.add(full)
        if any(b in pkg and pkg[b] != pkg[full] for b in c.bases):
            keep.add(full)
        for target in c.uses.values():
            if pkg[target] != pkg[full]:
                keep.update({full, target})
    todo = list(keep)
    while todo:
        for base in lib.classes[todo.pop()].bases:
            if base in lib.classes and base not in keep:
                keep.add(base)
                todo.append(base)
    shown = sorted(keep, key=lambda f: (list(PACKAGES).index(pkg[f]), f))
    ids = short_ids(shown)
    lines = ["classDiagram", "  direction LR"]
    for package in PACKAGES:
        members = [f for f in shown if pkg[f] == package]
        if members:
            lines.append(f"  namespace {namespace_id(package)} {{")
            for full in members:
                lines += [f"    {line}" for line in class_box(ids[full], label(lib, full), [])]
            lines.append("  }")
    for full in shown:
        for base in lib.classes[full].bases:
            if base in ids:
                lines.append(f"  {ids[base]} <|-- {ids[full]}")
    for full in shown:
        for attr, target in lib.classes[full].uses.items():
            if target in ids and pkg[target] != pkg[full]:
                lines.append(f"  {ids[full]} --> {ids[target]} : {attr}")
    for full in shown:
        hidden = hidden_below(lib, full, keep)
        if hidden:
            names = sorted(s.rsplit(".", 1)[-1] for s in hidden)
            listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            lines.append(f'  note for {ids[full]} "{len(hidden)} subclasses not drawn: {listed}"')
    return "\n".join(lines) + "\n"


def hidden_below(lib: Library, full: str, shown: set[str]) -> list[str]:
    """Subclasses of `full` reached without passing through a drawn class."""
    found, todo = [], [full]
    while todo:
        parent = todo.pop()
        for info in lib.classes.values():
            if parent in info.bases and info.full not in shown and info.full not in found:
                found.append(info.full)
                todo.append(info.full)
    return found


def architecture(mermaid: str) -> set[str]:
    """What counts as the architecture: the boxes and arrows, not the notes' counts."""
    return {
        line.strip() for line in mermaid.splitlines() if line.strip() and not line.strip().startswith("note")
    }


def describe_change(old: str, new: str) -> str:
    """A line on what changed between two whole-library diagrams."""
    before, after = architecture(old), architecture(new)

    def names(lines: set[str]) -> set[str]:
        return {m.group(1) for line in lines if (m := re.match(r"class (\w+)", line))}

    parts = []
    added, removed = sorted(names(after) - names(before)), sorted(names(before) - names(after))
    if added:
        parts.append("added " + ", ".join(added))
    if removed:
        parts.append("removed " + ", ".join(removed))
    arrows = lambda lines: {line for line in lines if "--" in line}  # noqa: E731
    new_arrows = len(arrows(after) - arrows(before))
    gone_arrows = len(arrows(before) - arrows(after))
    if new_arrows or gone_arrows:
        parts.append(f"relations: {new_arrows} new, {gone_arrows} gone")
    return "; ".join(parts) or "layout only"


# ---- pages ----------------------------------------------------------------------------------------

GENERATED = "<!-- generated by tools/diagrams.py (make diagrams): do not edit -->\n"


def fence(mermaid: str) -> str:
    return f"```mermaid\n{mermaid}```\n"


def page_name(package: str) -> str:
    return f"{package}.md"


def versions(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for path in folder.glob("class-diagram-v*.md"):
        match = re.fullmatch(r"class-diagram-v(\d+)\.md", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def read_mermaid(page: Path) -> str | None:
    if not page.exists():
        return None
    match = re.search(r"```mermaid\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    return match.group(1) if match else None


def change_line(page: Path) -> str:
    match = re.search(r"^\*\*What changed:\*\* (.*)$", page.read_text(encoding="utf-8"), re.M)
    return match.group(1) if match else ""


def whole_library_page(mermaid: str, change: str, title: str, where: str) -> str:
    return (
        GENERATED
        + f"# {title}\n\n"
        + f"**What changed:** {change}\n\n"
        + (f"{where}\n\n" if where else "")
        + "The classes of the `ember` namespace, the heads of families and the classes that tie\n"
        + "packages together; a note counts the subclasses not drawn. Every class is in its\n"
        + "[package's diagram](index.md).\n\n"
        + fence(mermaid)
    )


def version_page(number: int, mermaid: str, change: str, source: str) -> str:
    where = f"The library as it was at {source}; the current diagram is [class-diagram](class-diagram.md)."
    return whole_library_page(mermaid, change, f"Class diagram v{number}", where)


def index_page(lib: Library, history: list[tuple[int, str]], current_change: str) -> str:
    lines = [
        GENERATED + "# Class diagrams\n",
        "Generated from the source by `make diagrams`: `tools/diagrams.py` reads the classes from the",
        "syntax trees of `src/ember`, and `tests/test_docs.py` fails when these pages are out of date.",
        "Arrows: `<|--` inheritance, `-->` an attribute or constructor argument of that type.\n",
        f"- [The whole library](class-diagram.md) ({len(lib.classes)} classes; the roots of each family)",
    ]
    for package, what in PACKAGES.items():
        count = sum(1 for c in lib.classes.values() if package_of(c.module) == package)
        lines.append(f"- [`{package}`]({page_name(package)}): {what} ({count} classes)")
    lines.append("\n## History of the architecture\n")
    lines.append(
        "When the boxes or arrows of the whole-library diagram change, `make diagrams` keeps the\n"
        "previous one as the next `class-diagram-vN`; each line says what that version changed.\n"
    )
    for number, change in history:
        lines.append(f"- [v{number}](class-diagram-v{number}.md): {change}")
    lines.append(f"- [current](class-diagram.md): {current_change}")
    return "\n".join(lines) + "\n"


def pages(lib: Library, folder: Path, note: str | None) -> dict[Path, str]:
    """The content of every page; the previous whole-library page too when the architecture changed."""
    result: dict[Path, str] = {}
    current = overview(lib)
    page = folder / "class-diagram.md"
    old = read_mermaid(page)
    history = [(n, change_line(p)) for n, p in versions(folder)]
    suffix = f" {note}" if note else ""
    if old is not None and architecture(old) != architecture(current):
        number = history[-1][0] + 1 if history else 0
        result[folder / f"class-diagram-v{number}.md"] = version_page(
            number, old, change_line(page), "the `make diagrams` before this one"
        )
        history.append((number, change_line(page)))
        change = describe_change(old, current) + "." + suffix
    elif old is not None and not note:
        change = change_line(page)
    elif history:
        change = describe_change(read_mermaid(versions(folder)[-1][1]) or "", current) + "." + suffix
    else:
        change = note or "the first version."
    result[page] = whole_library_page(current, change, "The whole library", "")
    for package in PACKAGES:
        body = package_diagram(lib, package)
        count = sum(1 for c in lib.classes.values() if package_of(c.module) == package)
        members = "" if count <= MEMBER_LIMIT else " Members are left out: there are too many classes."
        what = PACKAGES[package]
        result[folder / page_name(package)] = (
            GENERATED
            + f"# `{package}`\n\n{what[0].upper()}{what[1:]}: {count} classes, grouped by module.{members}\n\n"
            + fence(body)
        )
    result[folder / "index.md"] = index_page(lib, history, change)
    return result


def library_at(rev: str) -> Library:
    """The library as it was at a git revision (read with `git archive`, the work tree untouched)."""
    data = subprocess.run(
        ["git", "archive", rev, "src/ember"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tmp, filter="data")
        return Library(Path(tmp) / "src")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is out of date; write nothing")
    parser.add_argument("--note", help="why the architecture changed (added to the archived version's line)")
    parser.add_argument(
        "--from-rev", help="archive the whole-library diagram of this git revision as the next vN"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.from_rev:
        found = versions(OUT)
        number = found[-1][0] + 1 if found else 0
        short = subprocess.run(
            ["git", "log", "-1", "--format=%h (%s)", args.from_rev],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        mermaid = overview(library_at(args.from_rev))
        change = (describe_change(read_mermaid(found[-1][1]) or "", mermaid) + ". ") if found else ""
        page = OUT / f"class-diagram-v{number}.md"
        page.write_text(
            version_page(number, mermaid, change + (args.note or ""), f"commit {short}"), encoding="utf-8"
        )
        print(f"wrote {page.relative_to(ROOT)}")
        return
    wanted = pages(Library(SRC), OUT, args.note)
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)} (run make diagrams)")
        sys.exit(1 if stale else 0)
    for p in stale:
        p.write_text(wanted[p], encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
