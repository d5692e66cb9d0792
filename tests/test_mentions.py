"""Mentions of models, architectures and libraries: the catalogue, the matcher and its
look-alike rules, scopes, full-text reading, the command line and the Dagster assets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pymupdf
import pytest
from conftest import SHARED, materialise
from pdf_builder import Page

from paperatlas.cli import main
from paperatlas.pipeline.mentions import tally as mcount
from paperatlas.pipeline.mentions.catalogue import DEFAULT_CATALOGUE, CatalogueError, load_catalogue, parse_catalogue
from paperatlas.pipeline.mentions.fulltext import load_text, read_fulltext
from paperatlas.pipeline.mentions.runner import Task, scan_paths, scan_task
from paperatlas.pipeline.mentions.scan import find_sections, find_terms, normalise, scan_document
from paperatlas.pipeline.store import Warehouse

CATALOGUE = load_catalogue()
CLI_IDS = ["transformer", "llama", "qwen", "gpt", "deepseek", "bert", "resnet", "u-net", "pytorch",
           "tensorflow", "jax", "scikit-learn", "catboost", "xgboost"]


def terms(text: str) -> list[tuple[str, str]]:
    return [(m.term, m.surface) for m in find_terms(CATALOGUE, normalise(text))]


# -- the catalogue --------------------------------------------------------------------------------

def test_the_catalogue_has_the_terms_and_origins_the_issue_names():
    ids = set(CATALOGUE.ids())
    assert set(CLI_IDS) <= ids
    assert {"mistral", "gemma", "vit", "diffusion", "keras", "xgboost", "lightgbm", "paddlepaddle", "mindspore",
            "hugging-face-transformers"} <= ids
    by = CATALOGUE.by_id
    assert (by["scikit-learn"].country, by["u-net"].country, by["catboost"].country) == ("FR", "DE", "RU")
    assert (by["qwen"].country, by["deepseek"].country, by["pytorch"].country) == ("CN", "CN", "US")
    # a lab in another country than its company: both are kept
    assert (by["resnet"].country, by["resnet"].built_in) == ("US", "CN")
    assert {t.kind for t in CATALOGUE.terms} == {"architecture", "model family", "library"}


MINIMAL = """
terms:
  - id: thing
    name: Thing
    family: thing
    kind: library
    origin: {organisation: Org, country: FR}
    aliases: [Thing]
"""


@pytest.mark.parametrize("change, message", [
    (("country: FR", "country: XX"), "term 'thing': origin country 'XX' is not an ISO 3166-1 alpha-2 code"),
    (("kind: library", "kind: tool"), "term 'thing': kind must be one of architecture, model family, library"),
    (("    family: thing\n", ""), "term 'thing': missing 'family'"),
    (("aliases: [Thing]", "patterns: ['Thing(']\n    anchors: [thing]"), "term 'thing': pattern 1 is not a valid regular expression"),
    (("aliases: [Thing]", "patterns: ['Thing']"), "term 'thing': a term with patterns needs 'anchors'"),
    (("aliases: [Thing]", "aliases: [Thing]\n    shadows: [other]"), "term 'thing': shadows unknown term(s) other"),
    (("id: thing", "id: Thing Two"), "id must be lower-case"),
    (("aliases: [Thing]", "aliases: [Thing]\n    reject: [{why: nothing}]"), "reject rule 1 needs 'match', 'before', 'after' or 'near'"),
    (("terms:", "terms: []\nother:"), "expected a mapping with a non-empty 'terms' list"),
    (("aliases: [Thing]", "aliases: [Thing"), "not valid YAML"),
    (("aliases: [Thing]", "aliases: [Thing]\n    version: allowed"), "term: unknown key(s) version"),
    (("country: FR}", "country: FR, lab_contry: DE}"), "origin: unknown key(s) lab_contry"),
    (("aliases: [Thing]", "aliases: [Thing]\n    reject: [{near: x, window: wide}]"), "window must be a number"),
])
def test_a_bad_catalogue_is_refused_with_the_term_and_the_reason(change, message):
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(MINIMAL.replace(*change), "my-terms.yaml")
    assert str(err.value).startswith("my-terms.yaml") and message in str(err.value)


def test_a_duplicate_id_and_an_unreadable_file_are_refused(tmp_path):
    twice = MINIMAL + MINIMAL.split("terms:\n")[1]
    with pytest.raises(CatalogueError, match="term 'thing': id used twice"):
        parse_catalogue(twice, "t.yaml")
    with pytest.raises(CatalogueError, match="cannot read the term catalogue"):
        load_catalogue(tmp_path / "absent.yaml")


# -- matching -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("We fine-tune Llama-3.1-8B and Qwen2.5-7B-Instruct.", [("llama", "Llama-3.1-8B"), ("qwen", "Qwen2.5-7B-Instruct")]),
    ("GPT-4o and ChatGPT answer.", [("gpt", "GPT-4o"), ("gpt", "ChatGPT")]),
    ("a U-Net, a UNet and a U Net", [("u-net", "U-Net"), ("u-net", "UNet"), ("u-net", "U Net")]),
    ("ResNet-50 and ResNet101 backbones", [("resnet", "ResNet-50"), ("resnet", "ResNet101")]),
    ("fit with scikit-learn or sklearn", [("scikit-learn", "scikit-learn"), ("scikit-learn", "sklearn")]),
    ("LLaMA and Llama 2 and llama-7b", [("llama", "LLaMA"), ("llama", "Llama 2"), ("llama", "llama-7b")]),
    ("LLaMa-2 as a chat assistant", [("llama", "LLaMa-2")]),
    ("Mixtral-8x7B beats Mistral 7B", [("mistral", "Mixtral-8x7B"), ("mistral", "Mistral 7B")]),
    ("DeepSeek-R1 and DeepSeek-V3", [("deepseek", "DeepSeek-R1"), ("deepseek", "DeepSeek-V3")]),
    ("a Vision Transformer (ViT-B/16)", [("vit", "Vision Transformer"), ("transformer", "Transformer"), ("vit", "ViT-B")]),
    ("implemented in PyTorch2 and JAX", [("pytorch", "PyTorch2"), ("jax", "JAX")]),
    ("we call jax.numpy directly", [("jax", "jax")]),
    ("a Trans-\nformer encoder", [("transformer", "Transformer")]),
    ("the Hugging Face Transformers library", [("hugging-face-transformers", "Hugging Face Transformers")]),
    ("latent diffusion models and DDPM", [("diffusion", "latent diffusion"), ("diffusion", "DDPM")]),
    # a version settles it: the model, even in a sentence about pastures
    ("Llama 2 labels photos of a pasture.", [("llama", "Llama 2")]),
    ("the ﬁne-tuned BERT-large", [("bert", "BERT-large")]),
])
def test_spellings_and_versions_are_found(text, expected):
    assert terms(text) == expected


@pytest.mark.parametrize("text", [
    "One photo shows a llama (the animal) grazing.",
    "Llamas are camelids kept for their wool.",
    "load data from a power transformer station",
    "faults of a distribution transformer",
    "the spatial transformer network warps the input",
    "code at https://github.com/facebookresearch/llama and\nhttps://github.com/huggingface/\ntransformers",
    "mail llama@example.org or {bert,qwen}@lab.cn",
    "see pytorch.org for details",
    "GPTQ quantisation, GPT-J and GPT-NeoX",
    "as Bert Kappen and Claude Shannon showed",
    "work with Gemma Roig on this",
    "the drift diffusion model of decisions",
    "the Mistral wind of Provence",
    "a ViTamin-rich diet; Transformation of data; BERTology",
    "TinyLlama and MiniGPT-4 are other groups' models",
    "Phi and Falcon without a version are Greek letters and birds",
])
def test_look_alikes_are_not_counted(text):
    assert terms(text) == []


def test_the_catalogue_file_is_the_default_and_canonical_ids_are_stable():
    assert Path(CATALOGUE.path) == DEFAULT_CATALOGUE
    assert len(CATALOGUE.sha256) == 64


# -- scopes ---------------------------------------------------------------------------------------

TEXT = """Alice Chen, Bert Meyer
Abstract
We adapt BERT to speech.
1 Introduction
Models run in PyTorch.
\f
References
[1] J. Devlin. BERT: Pre-training. 2019. TensorFlow.
\f
A Additional Results
CatBoost baselines.
"""


def test_searching_from_an_aliass_name_finds_what_a_wide_search_finds():
    """find_terms tries an alias's whole regex only where its name alone matched, a few
    characters before an anchor (Start). Without those starts every regex is searched over
    wide windows: both must find the same mentions, refusals included."""
    import dataclasses
    import random

    from paperatlas.pipeline.mentions.catalogue import Catalogue

    wide = Catalogue([dataclasses.replace(t, starts=()) for t in CATALOGUE.terms], CATALOGUE.path, CATALOGUE.sha256)
    surfaces = ["U-Net", "u -net", "nnU -Net", "nnU-Net", "U-Net++", "UNets", "network", "Llama-3.1-8B-Instruct", "LLaMA 2",
                "llama farm", "Qwen2.5-7B-Instruct", "GPT-4o", "ChatGPT", "GPTQ", "BERT", "RoBERTa", "Transformer-XL",
                "transformers", "Vision Transformer (ViT-B/16)", "ResNet-50", "Wide ResNet", "scikit-learn", "PyTorch2",
                "github.com/facebookresearch/llama", "Stable Diffusion XL", "DDPM", "T5-11B", "Flan-T5", "YOLOv8",
                "Gemini 1.5 Pro", "Phi-3-mini", "phi", "CLIP", "clipped", "Mixtral-8x7B", "DeepSeek-R1", "XGBoost"]
    rng = random.Random(7)
    words = [rng.choice(surfaces) + rng.choice([" ", "\n", ", ", "-", "", ". "]) for _ in range(4000)]
    text = normalise("".join(words))
    narrow_found = [(m.term, m.start, m.end) for m in find_terms(CATALOGUE, text)]
    assert narrow_found == [(m.term, m.start, m.end) for m in find_terms(wide, text)]
    assert len({t for t, _, _ in narrow_found}) >= 20 and len(narrow_found) > 2000
    # positions count characters, also past letters outside the Basic Multilingual Plane
    text = "\U0001d465 and \U0001d466\U0001d467 with BERT, then GPT-4 and U-Net"
    assert [text[m.start:m.end] for m in find_terms(CATALOGUE, text)] == ["BERT", "GPT-4", "U-Net"]
    # the widest an alias can be: each hyphen or space of "nnU-Net" written as two
    assert [(m.term, m.surface) for m in find_terms(CATALOGUE, "an nnu -net here")] == [("u-net", "nnu -net")]


def test_normalise_joins_words_broken_at_a_line_end_and_nothing_else():
    assert normalise("a Trans-\nformer and a U-\nNet") == "a Transformer and a U-Net"
    assert normalise("Trans\u2010\n  former") == "Transformer"
    # a word over three lines, its middle line one letter long
    assert normalise("multi-\nx-\nmodal") == "multixmodal"
    # no letter before the hyphen, or none after: nothing to join
    assert normalise("pages 1-\n20, (-\nx), -\nstart, end-\n 3") == "pages 1-\n20, (-\nx), -\nstart, end-\n 3"
    # ligatures become letters; soft hyphens go; text already in NFKC comes back as it was
    assert normalise("\ufb01ne-tuning") == "fine-tuning"
    assert normalise("soft\u00adhyphen") == "softhyphen"
    assert normalise("café 5\u00d7") == "café 5\u00d7"


def test_sections_split_abstract_body_references_and_the_appendix():
    text = normalise(TEXT)
    sections = find_sections(text)
    scopes = {(m.term, m.scope) for m in scan_document(CATALOGUE, "On Transformers", text, sections=sections).matches}
    assert scopes == {("transformer", "title"), ("bert", "abstract"), ("pytorch", "body"),
                      ("bert", "references"), ("tensorflow", "references"), ("catboost", "body")}
    result = scan_document(CATALOGUE, None, text)
    assert result.counts() == {"bert": 1, "catboost": 1, "pytorch": 1}  # references left out
    assert result.counts(("references",)) == {"bert": 1, "tensorflow": 1}


def test_a_given_abstract_replaces_the_texts_own_copy():
    text = normalise(TEXT)
    result = scan_document(CATALOGUE, None, text, abstract="We adapt BERT and GPT-4 to speech.")
    abstract = [m.term for m in result.matches if m.scope == "abstract"]
    assert sorted(abstract) == ["bert", "gpt"]  # the PDF's abstract is not counted a second time


# -- PDFs -----------------------------------------------------------------------------------------

def paper_pdf(path: Path, title: str, authors: list[tuple[str, str]], abstract: list[str], body: list[str],
              references: list[str] = (), appendix: list[str] = ()) -> Path:
    """A paper typeset with PyMuPDF: page 1 with title, authors, abstract and introduction; the
    body goes on over page 2, then the references, then an appendix on a page of its own."""
    p = Page()
    p.centred(90, title, 17, bold=True)
    p.runs(150, 130, [part for n, (name, _) in enumerate(authors, start=1)
                      for part in ((("" if n == 1 else ", ") + name, False), (str(n), True))], 12)
    for n, (_, aff) in enumerate(authors, start=1):
        p.runs(170, 138 + 12 * n, [(str(n), True), (aff, False)], 9)
    y = 200
    p.centred(y, "Abstract", 12, bold=True)
    for line in abstract:
        y += 12
        p.run(90, y, line, 10)
    y += 24
    p.run(72, y, "1 Introduction", 12, bold=True)
    for line in body[:len(body) // 2]:
        y += 12
        p.run(72, y, line, 10)

    def new_page(lines: list[str], heading: str | None = None) -> None:
        p.page = p.doc.new_page(width=612, height=792)
        y = 72
        if heading:
            p.run(72, y, heading, 12, bold=True)
        for line in lines:
            y += 12
            p.run(72, y, line, 10)

    new_page(body[len(body) // 2:])
    if references:
        new_page(references, "References")
    if appendix:
        new_page(appendix[1:], appendix[0])
    return p.save(path)


def cross_pacific(path: Path) -> Path:
    return paper_pdf(
        path, "Scaling Transformers for Speech",
        [("Alice Chen", "Peking University, Beijing, China"), ("Bob Smith", "University of Toronto, Toronto, Canada")],
        ["We fine-tune Qwen2.5-7B-Instruct and compare it with GPT-4o on three tasks."],
        ["Models are trained in PyTorch on a U-Net backbone for all experiments.",
         "Code: github.com/facebookresearch/llama; questions to llama@example.org please.",
         "One image shows a llama (the animal) standing in a field of grass.",
         "The power transformer station data set is used for forecasting.",
         "We also fit scikit-learn baselines and evaluate Llama-3.1-8B on the same data."],
        ["[1] J. Devlin et al. BERT: Pre-training of deep bidirectional models. NAACL, 2019.",
         "[2] A. Paszke et al. An imperative style library. NeurIPS, 2019."],
        ["A Additional Results", "CatBoost baselines are reported in Table 5 for completeness."],
    )


def german(path: Path) -> Path:
    return paper_pdf(
        path, "Boosted Trees Revisited",
        [("Anna Müller", "Max Planck Institute for Informatics, Saarbrücken, Germany")],
        ["We compare gradient boosting libraries on tabular data."],
        ["CatBoost and XGBoost are run with default settings.", "Everything else is written in PyTorch."],
    )


EXPECTED = {"catboost": 1, "gpt": 1, "llama": 1, "pytorch": 1, "qwen": 1, "scikit-learn": 1, "transformer": 1, "u-net": 1}


def test_a_pdf_is_read_whole_with_its_sections(tmp_path):
    pdf = cross_pacific(tmp_path / "paper.pdf")
    text = read_fulltext(pdf)
    assert text.error is None and text.pages == 4 and text.title == "Scaling Transformers for Speech"
    assert text.abstract and text.references and "Qwen2.5" in text.text[slice(*text.abstract)]
    result = scan_task(Task(str(pdf)), CATALOGUE)
    assert result.scan.counts() == EXPECTED
    assert result.scan.counts(("references",)) == {"bert": 1}
    scopes = {m.term: m.scope for m in result.matches}
    assert scopes["transformer"] == "title" and scopes["qwen"] == "abstract" and scopes["catboost"] == "body"
    llama = next(m for m in result.matches if m.term == "llama")
    assert llama.surface == "Llama-3.1-8B" and "[Llama-3.1-8B]" in llama.snippet


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_bytes(b"<html>not found</html>" * 10), "not a PDF"),
    (lambda p: p.write_bytes(b"%PDF-1.5\n" + b"x" * 3000), "truncated"),
])
def test_unreadable_pdfs_give_their_reason(tmp_path, make, reason):
    path = tmp_path / "bad.pdf"
    make(path)
    result = scan_task(Task(str(path)), CATALOGUE)
    assert reason in result.error and result.scan.counts() == {}


def test_an_encrypted_pdf_and_a_scan_give_their_reason(tmp_path):
    pdf = cross_pacific(tmp_path / "paper.pdf")
    pymupdf.open(pdf).save(tmp_path / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="s", owner_pw="o")
    assert "encrypted" in read_fulltext(tmp_path / "locked.pdf").error
    blank = pymupdf.open()
    blank.new_page()
    blank.new_page()
    blank.save(tmp_path / "blank.pdf")
    assert "no text layer on any of its 2 pages" in read_fulltext(tmp_path / "blank.pdf").error


def test_texts_are_cached_by_content(tmp_path):
    pdf = cross_pacific(tmp_path / "paper.pdf")
    cache = tmp_path / "texts"
    first = scan_task(Task(str(pdf), cache_dir=str(cache)), CATALOGUE)
    again = scan_task(Task(str(pdf), sha256=first.sha256, cache_dir=str(cache)), CATALOGUE)
    assert not first.cached and again.cached
    assert again.scan.counts() == first.scan.counts() == EXPECTED
    (cached_file,) = cache.rglob("*.json.gz")
    assert load_text(cached_file).title == "Scaling Transformers for Speech"
    cached_file.write_bytes(b"garbage")  # a damaged cache entry is read again from the PDF
    third = scan_task(Task(str(pdf), sha256=first.sha256, cache_dir=str(cache)), CATALOGUE)
    assert not third.cached and third.scan.counts() == EXPECTED


def test_a_process_pool_gives_the_same_results_in_order(tmp_path):
    paths = []
    for n in range(20):
        paths.append((cross_pacific if n % 2 else german)(tmp_path / f"p{n:02d}.pdf"))
    serial = scan_paths(paths, processes=1)
    pooled = scan_paths(paths, processes=2)
    assert [r.file for r in pooled] == [str(p) for p in paths]
    assert [r.scan.counts() for r in pooled] == [r.scan.counts() for r in serial]


# -- the command line -----------------------------------------------------------------------------

def run_cli(capsys, *args):
    code = main(["mentions", *map(str, args)])
    out = capsys.readouterr()
    return code, [json.loads(line) for line in out.out.splitlines()], out.err


def test_cli_writes_one_line_per_pdf(tmp_path, capsys):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    cross_pacific(folder / "a.pdf")
    german(folder / "b.pdf")
    (folder / "broken.pdf").write_bytes(b"<html>")
    code, lines, err = run_cli(capsys, folder)
    assert code == 0 and "1 of 3 PDFs could not be read" in err
    by_file = {Path(line["file"]).name: line for line in lines}
    assert set(by_file["a.pdf"]) == {"file", "mentions", "error"}
    assert by_file["a.pdf"]["mentions"] == EXPECTED and by_file["a.pdf"]["error"] is None
    assert by_file["b.pdf"]["mentions"] == {"catboost": 1, "pytorch": 1, "xgboost": 1}
    assert by_file["broken.pdf"]["mentions"] == {} and "not a PDF" in by_file["broken.pdf"]["error"]

    _, lines, _ = run_cli(capsys, "--scope", "references", folder / "a.pdf")
    assert lines[0]["mentions"] == {"bert": 1}
    _, lines, _ = run_cli(capsys, "--scope", "all", folder / "a.pdf")
    assert lines[0]["mentions"] == {**EXPECTED, "bert": 1}
    _, lines, _ = run_cli(capsys, "--scope", "title,abstract", folder / "a.pdf")
    assert lines[0]["mentions"] == {"gpt": 1, "qwen": 1, "transformer": 1}
    out = tmp_path / "out.jsonl"
    code, lines, _ = run_cli(capsys, "--output", out, "--evidence", folder / "a.pdf")
    assert code == 0 and lines == []
    record = json.loads(out.read_text())
    assert {m["term"] for m in record["matches"]} == set(EXPECTED)


def test_cli_refuses_a_bad_scope_catalogue_or_path(tmp_path, capsys):
    pdf = german(tmp_path / "b.pdf")
    code, _, err = run_cli(capsys, "--scope", "appendix", pdf)
    assert code == 2 and "unknown scope 'appendix'" in err
    bad = tmp_path / "terms.yaml"
    bad.write_text(MINIMAL.replace("country: FR", "country: France"))
    code, _, err = run_cli(capsys, "--terms", bad, pdf)
    assert code == 2 and "origin country 'France'" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, tmp_path / "empty")
    assert code == 2 and "no PDF files" in err
    code, lines, _ = run_cli(capsys, tmp_path / "absent.pdf")  # a path that is not there: its own line
    assert code == 0 and "cannot read the file" in lines[0]["error"]


def test_cli_uses_a_custom_catalogue(tmp_path, capsys):
    pdf = german(tmp_path / "b.pdf")
    custom = tmp_path / "terms.yaml"
    custom.write_text(MINIMAL.replace("aliases: [Thing]", "aliases: [XGBoost, CatBoost]"))
    _, lines, _ = run_cli(capsys, "--terms", custom, pdf)
    assert lines[0]["mentions"] == {"thing": 2}


# -- counting -------------------------------------------------------------------------------------

def test_mentions_by_country_and_tool_dependency_count_papers_and_shares():
    mentions = pd.DataFrame([
        {"paper_id": "a", "term": "pytorch", "scope": "body", "mentions": 3},
        {"paper_id": "a", "term": "qwen", "scope": "abstract", "mentions": 1},
        {"paper_id": "b", "term": "pytorch", "scope": "references", "mentions": 1},  # a citation: not use
        {"paper_id": "c", "term": "catboost", "scope": "body", "mentions": 1},
        {"paper_id": "c", "term": "pytorch", "scope": "title", "mentions": 1},
    ])
    countries = pd.DataFrame([
        {"paper_id": "a", "country": "US", "fractional": 0.5}, {"paper_id": "a", "country": "CN", "fractional": 0.25},
        {"paper_id": "a", "country": "HK", "fractional": 0.25},
        {"paper_id": "b", "country": "US", "fractional": 1.0},
        {"paper_id": "c", "country": "DE", "fractional": 1.0},
    ])
    meta = {"partition_key": "x-2024", "venue": "x", "year": 2024}
    rows = {(r["term"], r["country"]): r for r in
            mcount.mentions_by_country(meta, mentions, countries, CATALOGUE, {"a", "b"})}
    us = rows[("pytorch", "US")]
    assert (us["country_papers"], us["country_papers_with_text"], us["papers_abstract"], us["papers_full_text"]) == (2, 2, 0, 1)
    assert us["share_full_text"] == 0.5 and us["fractional_full_text"] == 0.5
    assert rows[("qwen", "CN")]["papers_abstract"] == 1 and rows[("qwen", "HK")]["fractional_abstract"] == 0.25
    assert rows[("pytorch", "DE")]["papers_abstract"] == 1  # in its title
    assert ("pytorch", "HK") in rows and ("catboost", "US") not in rows
    assert us["papers_with_references"] == 2  # b only cites it
    folded = {(r["term"], r["country"]): r for r in
              mcount.mentions_by_country(meta, mentions, countries, CATALOGUE, {"a", "b"}, china_scope="cn+hk+mo")}
    assert ("qwen", "HK") not in folded and folded[("qwen", "CN")]["fractional_abstract"] == 0.5

    deps = {(r["kind"], r["basis"], r["origin_country"], r["user_country"]): r
            for r in mcount.tool_dependency(meta, mentions, countries, CATALOGUE)}
    lib_us = deps[("library", "organisation", "US", "US")]
    assert (lib_us["papers"], lib_us["fractional"], lib_us["origin_papers"]) == (1, 0.5, 2)  # a and c, not b
    assert deps[("library", "organisation", "RU", "DE")]["papers"] == 1
    assert deps[("model family", "organisation", "CN", "US")]["terms"] == ["qwen"]
    # per origin the fractional counts add up to the papers using its tools
    us_total = sum(r["fractional"] for k, r in deps.items() if k[:3] == ("library", "organisation", "US"))
    assert us_total == pytest.approx(2.0)
    matrix = mcount.dependency_matrix(deps.values(), kind="library")
    assert matrix.loc["US", "DE"] == 1 and matrix.loc["RU", "DE"] == 1


# -- through Dagster ------------------------------------------------------------------------------

def test_mentions_assets_on_a_local_folder(env):
    settings, defs, instance = env
    folder = settings.local_dir / "mine-2024"
    folder.mkdir(parents=True)
    cross_pacific(folder / "a.pdf")
    german(folder / "b.pdf")
    (folder / "c.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * 2000)  # truncated
    result = materialise(defs, instance, "mine-2024")
    assert result.success
    store = Warehouse(settings.database)
    pm = store.read_partition("paper_mentions", "mine-2024")
    full = pm[pm["scope"].isin(mcount.FULL_TEXT_SCOPES)]
    assert full[full["paper_id"] == "a"].groupby("term")["mentions"].sum().to_dict() == EXPECTED
    assert set(pm.loc[pm["scope"] == "references", "term"]) == {"bert"}
    texts = store.read_partition("paper_texts", "mine-2024").set_index("paper_id")
    assert texts.loc["a", "pages"] == 4 and not texts["cached"].any()
    assert "truncated" in texts.loc["c", "error"]

    mbc = store.read_partition("mentions_by_country", "mine-2024")
    pytorch = mbc[mbc["term"] == "pytorch"].set_index("country")
    assert pytorch["papers_full_text"].to_dict() == {"CN": 1, "CA": 1, "DE": 1}
    assert pytorch.loc["CN", "fractional_full_text"] == 0.5
    deps = store.read_partition("tool_dependency", "mine-2024")
    ru = deps[(deps["kind"] == "library") & (deps["basis"] == "organisation") & (deps["origin_country"] == "RU")]
    assert ru.set_index("user_country")["papers"].to_dict() == {"CA": 1, "CN": 1, "DE": 1}
    resnet_lab = deps[(deps["basis"] == "lab")]
    assert set(resnet_lab["origin_country"]) >= {"US", "RU", "FR", "CN"}  # Qwen is Chinese whichever basis
    for check in result.get_asset_check_evaluations():
        assert check.passed, check.check_name
    errors = store.query("SELECT item, reason FROM ingest_errors WHERE stage = 'paper_mentions'")
    assert len(errors) == 1 and "truncated" in errors["reason"][0]

    # A second run reads no PDF: the texts come from the cache, the numbers are the same.
    again = materialise(defs, instance, "mine-2024")
    assert again.success
    texts = store.read_partition("paper_texts", "mine-2024").set_index("paper_id")
    assert texts.loc[["a", "b"], "cached"].all()
    pm2 = store.read_partition("paper_mentions", "mine-2024")
    cols = ["paper_id", "term", "scope", "mentions", "snippet"]
    assert pm2[cols].sort_values(cols[:3]).values.tolist() == pm[cols].sort_values(cols[:3]).values.tolist()


def test_a_catalogue_change_shows_in_the_numbers_and_a_bad_one_is_filed(env, monkeypatch, tmp_path):
    settings, defs, instance = env
    folder = settings.local_dir / "mine-2024"
    folder.mkdir(parents=True)
    german(folder / "b.pdf")
    custom = tmp_path / "terms.yaml"
    custom.write_text(MINIMAL.replace("aliases: [Thing]", "aliases: [XGBoost]"))
    monkeypatch.setenv("PAPERATLAS_TERMS", str(custom))
    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings

    defs = build_definitions(load_settings())
    assert defs.resolve_job_def("terms_job").execute_in_process(instance=instance).success
    assert materialise(defs, instance, "mine-2024").success
    store = Warehouse(settings.database)
    assert store.read_partition("paper_mentions", "mine-2024")["term"].tolist() == ["thing"]
    assert store.query("SELECT term, origin_country FROM terms").values.tolist() == [["thing", "FR"]]

    custom.write_text(MINIMAL.replace("country: FR", "country: Frankreich"))
    result = defs.resolve_job_def("terms_job").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    errors = store.query("SELECT item, reason FROM ingest_errors WHERE stage = 'term_catalogue'")
    assert errors["item"][0] == str(custom) and "'Frankreich' is not an ISO 3166-1" in errors["reason"][0]
    assert store.query("SELECT term FROM terms")["term"].tolist() == ["thing"]  # the last good one stays


# -- the shared corpus ----------------------------------------------------------------------------

CORPUS_IDS = {"Transformer": "transformer", "Llama 2": "llama", "LLaMA": "llama", "Qwen2.5": "qwen",
              "GPT-4": "gpt", "PyTorch": "pytorch", "TensorFlow": "tensorflow", "JAX": "jax",
              "scikit-learn": "scikit-learn", "U-Net": "u-net", "CatBoost": "catboost", "XGBoost": "xgboost",
              "ResNet": "resnet", "BERT": "bert", "DeepSeek": "deepseek"}


def test_inserted_mentions_are_found_and_decoys_are_not_on_the_shared_corpus():
    corpus = SHARED / "pdf-corpus"
    if not (corpus / "truth.jsonl").exists():
        pytest.skip(f"shared data not available: {corpus}")
    truth = [json.loads(line) for line in open(corpus / "truth.jsonl")]
    results = scan_paths([corpus / t["file"] for t in truth], processes=2, keep_text=True)
    inserted = found = decoys = counted = 0
    for t, r in zip(truth, results):
        assert r.error is None, t["file"]
        ids = {m.term for m in r.matches if m.scope != "references"}
        inserted += len(t["mentions"])
        found += sum(CORPUS_IDS[x] in ids for x in t["mentions"])
        for phrase, term in (("llama (the animal)", "llama"), ("power transformer station", "transformer")):
            if phrase not in t["decoys"]:
                continue
            spans = [d.span() for d in re.finditer(r"\s+".join(map(re.escape, phrase.split())), r.text.text, re.I)]
            assert spans, f"{t['file']}: decoy {phrase!r} not in the text"
            decoys += len(spans)
            counted += sum(1 for s, e in spans for m in r.matches if m.term == term and m.start < e and s < m.end)
    assert found / inserted >= 0.99, f"{found}/{inserted}"
    assert decoys >= 80 and counted == 0


CRASH_ONE_SCAN = """
import json, os, signal, sys
from paperatlas.pipeline import pool
from paperatlas.pipeline.mentions import runner
from paperatlas.pipeline.pdfs.extract import CRASHED

assert pool.start_method() == "fork"  # one thread here: the pool forks, as on the command line
original = runner.read_fulltext

def crash_on_one(path, *args, **kw):
    if str(path).endswith("p03.pdf"):
        os.kill(os.getpid(), signal.SIGKILL)  # as a crash inside MuPDF would end the worker
    return original(path, *args, **kw)

runner.read_fulltext = crash_on_one  # the forked workers see it
results = runner.scan_paths(sys.argv[1:], processes=2)
print(json.dumps([{"file": r.file, "crashed": r.error == CRASHED, "error": r.error,
                   "counts": r.scan.counts() if r.error is None else None} for r in results]))
"""


def test_a_pdf_that_crashes_the_reader_costs_only_itself(tmp_path):
    from conftest import run_alone

    paths = [str(german(tmp_path / f"p{n:02d}.pdf")) for n in range(20)]
    results = run_alone(CRASH_ONE_SCAN, *paths)
    assert [r["file"] for r in results] == paths
    assert results[3]["crashed"]
    assert all(r["error"] is None and r["counts"] == {"catboost": 1, "pytorch": 1, "xgboost": 1}
               for n, r in enumerate(results) if n != 3)