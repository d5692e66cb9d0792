"""Fault cases from the reliability issue: each builds its own bad input (servers only on
127.0.0.1) and checks the one-line message, the `ingest_errors` row and that nothing is lost."""

from __future__ import annotations

import pytest

from pipeline import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name, value", [
    ("PAPERATLAS_HTTP_TIMEOUT", "0"), ("PAPERATLAS_HTTP_TIMEOUT", "-1"), ("PAPERATLAS_HTTP_TIMEOUT", "nan"),
    ("PAPERATLAS_HTTP_TIMEOUT", "inf"), ("PAPERATLAS_HTTP_RETRIES", "nan"), ("PAPERATLAS_HTTP_RETRIES", "2.5"),
    ("PAPERATLAS_PDF_CONCURRENCY", "0"), ("PAPERATLAS_PDF_MAX_MB", "-3"), ("PAPERATLAS_SOURCE_RATE", "0"),
    ("PAPERATLAS_PDFS", "foo"),
])
def test_a_setting_it_cannot_take_is_one_line_and_exit_2(home, capsys, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "errors")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"paperatlas: {name}={value!r}"), err


def test_a_zero_pdf_rate_means_no_limit(home, monkeypatch):
    from pipeline.config import load_settings

    monkeypatch.setenv("PAPERATLAS_PDF_RATE", "0")
    assert load_settings().pdf_rate == 0
