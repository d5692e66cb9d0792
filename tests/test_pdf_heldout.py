"""The held-out first pages (tests/pdf_heldout.py): the families the layout rules failed on for
papers we had never seen, typeset with variation, and the classes of text that must never
become an affiliation (an abstract without a heading that names companies and countries,
notes about authorship, "work done during an internship at ...")."""

from __future__ import annotations

import re

import pytest
from pdf_families import FAMILIES as KNOWN
from pdf_heldout import FAMILIES, build

from paperatlas.pipeline.pdfs.extract import read_pdf
from paperatlas.pipeline.pdfs.layout import roles


def _soft(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    out = tmp_path_factory.mktemp("heldout")
    return [(row, read_pdf(out / row["file"]).page) for row in build(out, per_family=10, seed=31)]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_heldout_family_ties_every_author_to_what_the_page_prints(family, heldout):
    pages = [(row, page) for row, page in heldout if row["layout"] == family]
    assert pages
    for row, page in pages:
        ours = {_soft(a.name): [_soft(x) for x in a.affiliations] for a in page.authors}
        for a in row["authors"]:
            assert ours.get(_soft(a["name"])) == [_soft(x) for x in a["affiliations"]], (row["file"], a["name"])
        assert page.unassigned == [], row["file"]


def test_an_abstract_without_a_heading_is_never_an_affiliation(heldout):
    """'Jurassic-1 is a large model by AI21 Labs in Israel' made Israel a country of a
    DeepMind paper: the abstract's first line, indented and set without a heading, was read as
    the author block's last affiliation."""
    for row, page in heldout:
        text = " ".join(x for a in page.authors for x in a.affiliations) + " ".join(page.unassigned)
        assert "AI21" not in text and "Jurassic" not in text and "trained at" not in text, row["file"]
    assert {row["layout"] for row, _ in heldout if row["abstract"] == "none"} == set(FAMILIES)


def test_notes_about_authorship_are_never_affiliations(heldout):
    """'Equal Contributors', 'Joint first authors; listed in alphabetical order' beside the
    names, and the same notes at the foot, tie nothing to anyone."""
    notes = [page for row, page in heldout if row["layout"] == "notes"]
    for page in notes:
        for text in [x for a in page.authors for x in a.affiliations] + page.unassigned:
            assert not re.search(r"equal|contribut|alphabetical|first author|internship|corresponding", text, re.I)
    # a work-done note is a former affiliation: recorded, never counted
    assert any(page.former for page in notes)


def test_every_affiliation_kept_was_read_as_affiliation_text(heldout, tmp_path):
    """The invariant: a string reaches the resolver only as an author's affiliation or the
    page's unassigned text, and both pass `is_affiliation_text` first."""
    pages = [page for _, page in heldout]
    pages += [read_pdf(KNOWN[name](tmp_path / f"{name}.pdf")[0]).page for name in sorted(KNOWN)]
    for page in pages:
        for text in [x for a in page.authors for x in a.affiliations] + page.unassigned:
            assert roles.is_affiliation_text(text), text


@pytest.mark.parametrize("text", [
    "Jurassic-1 is a large model by AI21 Labs in Israel. We enhance",
    "models trained at Google and released by Meta in the United States.",
    "Ann Taylor worked in Boston as a cook.",
    "In our experiments the PC is at line 4 of the listing",
    "the oracle returns the label of each query point",
    "Since A can be stochastic, A(D) is a set of models",
])
def test_sentences_are_prose(text):
    assert roles.is_prose(text) and not roles.is_affiliation_text(text)


@pytest.mark.parametrize("text", [
    "Department of Computer Science and Engineering, The Hong Kong University of Science and Technology",
    "School of EECS, Peking University, {mnqu, wangmingzhe, mzhang_cs}@pku.edu.cn",
    "Laboratoire d'informatique de Paris 6, Sorbonne Université, Paris, France",
    "Universidade Federal do Rio Grande do Sul, Porto Alegre, Brazil",
    "Max-Planck-Institut für Intelligente Systeme, Tübingen",
    "IBM SEMEA Sud, Via Tridente 42/14, 70125 Bari",
    "All authors from DeepMind",
    "Allen Institute for AI, Seattle, WA, USA",
])
def test_affiliations_are_not_prose(text):
    assert not roles.is_prose(text) and roles.is_affiliation_text(text)


@pytest.mark.parametrize("text", ["Equal Contributors", "∗Equal contribution.", "These authors contributed equally",
                                  "Joint first authors; listed in alphabetical order.", "Author order is random",
                                  "Corresponding author: ana@uc.pt", "Equal senior authorship"])
def test_authorship_notes(text):
    assert roles.is_note(text) and not roles.is_affiliation_text(text)


@pytest.mark.parametrize("text", ["51 avenue Jean Kuntzmann", "One Microsoft Way", "Via Tridente 42/14", "Stanford, CA",
                                  "Baltimore, MD 21218", "Hauptstraße 5", "2 Rue Simone Iff"])
def test_streets_and_state_codes_end_the_affiliation_above(text):
    """A printed address is a place, never an affiliation of its own: the line joins the entry
    above it ("Microsoft Research" / "One Microsoft Way" / "Redmond, WA 98052, USA")."""
    from paperatlas.pipeline.pdfs.layout.entries import is_address_line

    assert is_address_line(text)


@pytest.mark.parametrize("text", ["Microsoft Research", "Carnegie Mellon University", "Google, Inc.", "MIT, CA"])
def test_institutions_are_not_address_lines(text):
    from paperatlas.pipeline.pdfs.layout.entries import is_address_line

    assert not is_address_line(text)


def test_is_affiliated_with_footnotes():
    """WSDM: "*Jia Li is affiliated with the University of Illinois at Chicago and worked on the
    project while interning at Google." The clause after "and" is not part of the affiliation,
    and the internship is a former one."""
    from paperatlas.pipeline.pdfs.layout import with_sentences

    current, former = with_sentences("Jia Li is affiliated with the University of Illinois at Chicago and worked "
                                     "on the project while interning at Google.")
    assert current == [("Jia Li", "University of Illinois at Chicago")]
    assert former == [(None, "Google")]


@pytest.mark.parametrize("text", ["CCS Concepts: • Human-centered computing →Empirical studies in interaction design",
                                  "studies", "ACM Reference Format:"])
def test_acm_front_matter_is_not_an_affiliation(text):
    assert not roles.is_affiliation_text(text)


def test_an_indented_first_line_of_the_abstract_ends_the_author_block(tmp_path):
    """No heading, the first line indented and with no word of a sentence in it: the paragraph
    below it starts the body, and so does its first line."""
    from pdf_builder import Page

    p = Page("tiro")
    p.centred(80, "Retrieval-Enhanced Language Models at Trillion-Token Scale", 16, bold=True)
    p.centred(104, "Mei Lin, Carlos Ortega and Sophie Laurent", 11)
    p.centred(118, "Inria, Paris, France", 10)
    p.run(102, 150, "Large Language Models (LLMs) like GPT-3, Gopher and Jurassic-1 (AI21 Labs, Tel Aviv,", 9)
    p.stack(90, 161, ["Israel) need vast compute; retrieval from a trillion-token database cuts that cost by a large",
                      "factor while keeping the quality of the model close to the quality of much larger models"] * 4, 9, 11)
    p.body(260, 30, x=90, size=9)
    page = read_pdf(p.save(tmp_path / "indented.pdf")).page
    assert {a.name: a.affiliations for a in page.authors} == {
        "Mei Lin": ["Inria, Paris, France"], "Carlos Ortega": ["Inria, Paris, France"],
        "Sophie Laurent": ["Inria, Paris, France"]}
    assert page.unassigned == []
