"""A string must read as an affiliation before it is resolved (issue 31, part 1): prose gets no
country, an institution name that is an ordinary word counts only as a name, and a legal form
inside a phrase is no evidence. The strings are of the kind found in the body of real papers;
none is special-cased by the resolver (the rules read data/body_words.tsv, see prose.py)."""

import json
import sys

import pytest
from conftest import ROOT, shared
from ror_fixture import ORGS, write_dump

from paperatlas.cli.files import resolve_stream
from paperatlas.pipeline.affiliations.resolver import Resolver
from paperatlas.pipeline.affiliations.resolver.prose import prose_reason
from paperatlas.pipeline.affiliations.ror import load_index

# A company whose registry name is an ordinary word, as ROR holds it.
GAUSSIAN = ("05knpdt07", "Gaussian, Inc. (United States)", ["Gaussian", "Gaussian, Inc."], [], ["gaussian.com"],
            "https://gaussian.com", "US", "United States", "Wallingford", 4845056, ["company"], "active")


@pytest.fixture(scope="module")
def resolver(tmp_path_factory):
    """The curated tables and a small registry (tests/ror_fixture.py plus Gaussian, Inc.)."""
    folder = tmp_path_factory.mktemp("ror-prose")
    dump = write_dump(folder / "ror-mini-v2.zip", rows=[*ORGS, GAUSSIAN])
    return Resolver(load_index(dump, folder / "cache"))


def unplaced(res) -> bool:
    return res.country is None and not res.countries and res.institution is None


# Sentences of a paper's body: each named a country before (LINE Corporation JP, Oracle US,
# Meta US, MiniMax CN, 4Paradigm CN, Gaussian US, the US legal form, Boston).
SENTENCES = [
    "In Algorithm 1, the program counter is at line 4 when the loop exits.",
    "At each round the oracle returns the label of the queried point.",
    "Each image is assigned to a single meta category by the annotators.",
    "We show that the estimator is minimax-optimal over this class of functions.",
    "Under this paradigm, the learner only sees positive and unlabeled examples.",
    "The Gaussian Mixture Model is fitted with EM on the training data.",
    "We use the LLC encoding of the descriptors as input to the classifier.",
    "Ann Taylor worked in Boston as a cook.",
]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_a_sentence_of_a_paper_is_not_an_affiliation(resolver, sentence):
    res = resolver.resolve(sentence)
    assert unplaced(res), (res.country, res.institution, res.method, res.evidence)
    assert res.method == "unresolved"
    assert res.reason.startswith("not an affiliation"), res.reason


@pytest.mark.parametrize("text", [
    "Using the notation of Smith et al. (2020), the loss is L = -log p(y|x) [12].",
    "Table 3: Accuracy (%) of each model on CIFAR-10, averaged over 5 runs.",
])
def test_citations_formulas_and_captions_are_prose(text):
    assert prose_reason(text)


# Fragments too short to read as a sentence: the ordinary word does not name the company.
@pytest.mark.parametrize("fragment", [
    "the PC is at line 4",           # LINE Corporation, JP
    "this paradigm",                 # 4Paradigm, CN
    "minimax-optimal rates",         # MiniMax, CN
    "Gaussian Mixture Model",        # Gaussian, Inc., US (ROR)
    "meta category",                 # Meta, US
    "oracle",                        # Oracle, US
])
def test_a_company_name_that_is_an_ordinary_word_counts_only_as_a_name(resolver, fragment):
    res = resolver.resolve(fragment)
    assert unplaced(res), (res.country, res.institution, res.method, res.evidence)


@pytest.mark.parametrize("fragment", [
    "the LLC encoding",
    "an Inc. 5000 list",
])
def test_a_legal_form_inside_a_phrase_is_no_evidence(resolver, fragment):
    res = resolver.resolve(fragment)
    assert res.country is None and res.method != "legal_form", (res.country, res.method, res.evidence)


@pytest.mark.parametrize("affiliation,country,institution", [
    ("LINE Corporation, Tokyo", "JP", "LINE Corporation"),
    ("LINE Corporation", "JP", "LINE Corporation"),
    ("Meta AI", "US", "Meta"),
    ("Meta", "US", "Meta"),
    ("Oracle Labs", "US", "Oracle"),
    ("Oracle", "US", "Oracle"),
    ("Amazon", "US", "Amazon"),
    ("Apple", "US", "Apple"),
    ("Apple Machine Learning Research", "US", "Apple"),
    ("Machine Learning Research at Apple", "US", "Apple"),
    ("Criteo AI Lab, Paris", "FR", "Criteo AI Lab"),
    ("Criteo", "FR", "Criteo AI Lab"),
    ("MiniMax", "CN", "MiniMax"),
    ("4Paradigm Inc., Beijing", "CN", "4Paradigm"),
    ("4Paradigm", "CN", "4Paradigm"),
    ("Snap Inc.", "US", "Snap Inc."),
    ("Gaussian, Inc.", "US", "Gaussian, Inc. (United States)"),
    # Real affiliations that hold sentence words, verbs or lower-case words.
    ("Department of Computer Science and Engineering, The Hong Kong University of Science and Technology, "
     "Clear Water Bay, Kowloon, Hong Kong", "HK", None),
    ("Key Laboratory of Machine Perception (MOE), School of Artificial Intelligence, Peking University",
     "CN", None),
    ("Princeton University, while this work was carried out at NVIDIA", "US", None),
    ("OpenAI (work done while at UC Berkeley)", "US", None),
    ("Both authors are with Imperial College, London", "GB", None),
    ("IUVO S.r.l., the company that owns the IP rights of the APO technology", "IT", None),
    ("Navimow B.V. Co., Ltd", "NL", None),
    ("Acme Robotics, LLC", "US", None),
])
def test_real_affiliations_still_resolve(resolver, affiliation, country, institution):
    res = resolver.resolve(affiliation)
    assert res.country == country, (res.country, res.institution, res.method, res.reason)
    if institution:
        assert res.institution == institution


def test_prose_keeps_the_email_domain(resolver):
    """The string says nothing; the author's e-mail domain still does."""
    res = resolver.resolve("At each round the oracle returns the label of the queried point.", "tsinghua.edu.cn")
    assert res.country == "CN" and res.method.startswith("email:")
    assert res.institution != "Oracle"


def test_resolve_prints_the_reason(resolver):
    import io

    sink = io.StringIO()
    line = json.dumps({"affiliation": "Ann Taylor worked in Boston as a cook.", "email_domain": None})
    resolve_stream(io.StringIO(line + "\n"), sink, resolver)
    out = json.loads(sink.getvalue())
    assert out["country"] is None and out["reason"].startswith("not an affiliation")


def test_body_sentences_of_real_papers_get_no_country(tmp_path):
    """The measured half of benchmarks/prose_sentences.py: at most 0.5% of the body sentences of
    the shared real PDFs the word list was not made from get a country."""
    pdfs = shared("real-pdfs")
    dump = shared("ror", "ror-partial-v2.zip")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from body_text import body_sentences, pdf_paths

    resolver = Resolver(load_index(dump, tmp_path))
    sentences = [s for p in pdf_paths("bench", pdfs) for s in body_sentences(p)]
    assert len(sentences) >= 3000
    placed = [s for s in sentences if resolver.resolve(s).country]
    assert len(placed) <= 0.005 * len(sentences), placed[:10]
