"""Every reference a message or docstring makes to the documentation exists: `docs/X.md` (the
file), `docs/X.md#anchor` and `docs/X.md, 'Heading'` (the file and the heading), and "the
README's Section" or "'Section' in the README" (a heading of README.md by that name).

The string literals are read with `ast` from every module of the package's folders, so a
message anywhere (an error, a hint, a help text) is covered."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT

FOLDERS = ("paperatlas", "pipeline", "assets", "resources")
DOC = re.compile(r"\b(docs/[\w-]+\.md)(?:#([\w-]+)|, '([^']+)')?")
README_SECTION = re.compile(r"README's ([A-Za-z][\w ,-]*?)(?=[).;:]|$| section| in )|'([^']+)' in the README")


def literals() -> list[tuple[str, int, str]]:
    """(file, line, text) of every string literal, f-strings' constant parts included."""
    found = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.append((str(path.relative_to(ROOT)), node.lineno, node.value))
    return found


def headings(path: Path) -> dict[str, str]:
    """A Markdown file's headings: GitHub's anchor of each -> its text."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line):
            text = match.group(1)
            anchor = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            out[anchor] = text
    return out


def broken_references(strings) -> list[str]:
    problems = []
    readme = headings(ROOT / "README.md")
    for where, line, text in strings:
        here = f"{where}:{line}"
        for doc, anchor, heading in DOC.findall(text):
            path = ROOT / doc
            if not path.is_file():
                problems.append(f"{here}: {doc} does not exist")
                continue
            if anchor and anchor not in headings(path):
                problems.append(f"{here}: {doc} has no heading with the anchor #{anchor}")
            if heading and heading.lower() not in {h.lower() for h in headings(path).values()}:
                problems.append(f"{here}: {doc} has no heading {heading!r}")
        for first, second in README_SECTION.findall(text):
            section = (first or second).strip()
            if section.lower() not in {h.lower() for h in readme.values()}:
                problems.append(f"{here}: the README has no section {section!r} (its headings: "
                                f"{', '.join(readme.values())})")
    return problems


def test_every_reference_to_the_docs_exists():
    strings = literals()
    assert len(strings) > 1000  # the walk found the package's strings
    assert any(DOC.search(text) for _, _, text in strings)
    problems = broken_references(strings)
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_broken_reference():
    bad = [("x.py", 1, "offline: see the README's quick start"),
           ("x.py", 2, "(docs/nowhere.md)"),
           ("x.py", 3, "(docs/sources.md, 'The OpenAlex snapshots')"),
           ("x.py", 4, "docs/sources.md#openalex-scope")]
    assert len(broken_references(bad)) == 4
    section = list(headings(ROOT / "README.md").values())[-1]
    good = [("x.py", 1, f"see '{section}' in the README"), ("x.py", 4, f"(the README's {section})"), ("x.py", 2, "docs/sources.md#openalex-scopes"),
            ("x.py", 3, "(docs/sources.md, 'The OpenAlex snapshot')")]
    assert broken_references(good) == []
