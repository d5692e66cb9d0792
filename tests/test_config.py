"""Configuration is spelled once: `pipeline/config.py` reads the environment, and the docs'
table lists exactly its variables with their defaults."""

import re
from pathlib import Path

from paperatlas.pipeline.config import VARIABLES, Settings

ROOT = Path(__file__).resolve().parents[1]


def documented() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = text.split("## Tests and benchmarks only")[0]
    return [(m.group(1), m.group(2).strip()) for m in re.finditer(r"^\| `([A-Z_]+)` \| ([^|]+) \|", table, re.M)]


def test_the_docs_list_every_setting_with_its_default():
    assert documented() == [(v.name, v.default) for v in VARIABLES]


def test_the_documented_defaults_are_the_settings_defaults():
    shown = dict(documented())
    for name, field in [("PAPERATLAS_HTTP_TIMEOUT", "http_timeout"), ("PAPERATLAS_HTTP_RETRIES", "http_retries"),
                        ("PAPERATLAS_PDF_RATE", "pdf_rate"), ("PAPERATLAS_PDF_CONCURRENCY", "pdf_concurrency"),
                        ("PAPERATLAS_PDF_MAX_MB", "pdf_max_mb"), ("PAPERATLAS_PDFS", "pdf_mode"),
                        ("PAPERATLAS_PLACEMENT", "placement")]:
        value = getattr(Settings, field)
        assert shown[name] == (f"`{value:g}`" if isinstance(value, float) else f"`{value}`"), name
    assert shown["PAPERATLAS_PAPERLISTS_BASE"] == f"`{Settings.paperlists_base}`"


def test_only_the_settings_read_the_environment():
    readers = re.compile(r"os\.environ\.get|os\.getenv|os\.environ\[[^]]+\](?!\s*=)|environ\.copy")
    found = []
    for folder in ("pipeline", "assets", "resources"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "config.py" and path.parent.name == "pipeline":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if readers.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, found


def test_every_variable_the_code_names_is_a_setting():
    named = set()
    for folder in ("pipeline", "assets", "resources"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(re.findall(r"\b(PAPERATLAS_[A-Z_]*[A-Z])\b", path.read_text(encoding="utf-8")))
    assert named <= {v.name for v in VARIABLES}, sorted(named - {v.name for v in VARIABLES})
