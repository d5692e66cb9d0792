"""The headline in words (pipeline/reports/sentences.py): each sentence names its denominator,
reads right for 0 and 1, and shows how far a count could move wherever it could move."""

import pandas as pd

from paperatlas.pipeline.reports.sentences import headline_sentences, review_sentence


def numbers(**counts) -> pd.DataFrame:
    """headline_numbers rows, the same under every China scope, for both placements: `name=papers` or
    `name=(papers, low, high, unplaced)`, the coauthors placement as `name_co=...`."""
    rows = []
    for scope, placement in [(s, p) for s in ("cn", "cn+hk+mo", "greater") for p in ("hq", "coauthors")]:
        for name in ("papers", "papers_with_affiliation", "papers_with_country", "international", "us", "cn",
                     "us_cn"):
            value = counts.get(f"{name}_co" if placement == "coauthors" and f"{name}_co" in counts else name, 0)
            papers, low, high, unplaced = value if isinstance(value, tuple) else (value, value, value, 0)
            rows.append({"placement": placement, "china_scope": scope, "number": name, "papers": papers, "low": low,
                         "high": high, "unplaced": unplaced})
    return pd.DataFrame(rows)


def test_every_count_with_its_denominator_and_its_interval_where_it_moves():
    said = headline_sentences(numbers(papers=570, papers_with_affiliation=498, papers_with_country=(497, 497, 497, 1),
                                      international=(126, 116, 128, 4), us=(343, 337, 343, 2), cn=(30, 30, 30, 5),
                                      us_cn=(18, 16, 18, 3), us_cn_co=(16, 16, 18, 3)), "NeurIPS", 2016)
    assert said[0] == ("18 of the 570 NeurIPS 2016 papers (3.2%) have authors at both US and Chinese institutions; "
                       "16 to 18 depending on how uncertain affiliations are read (18 counting a multinational named "
                       "without a place at its headquarters, 16 where its co-authors are); 3 more could be such "
                       "papers, by authors no evidence places.")
    assert said[1] == ("498 of the 570 papers (87.4%) give an affiliation or an e-mail domain, and 497 of them "
                       "(99.8%; +1 unplaced) resolve to a country; the other 72 give none and count in no country.")
    assert said[2] == ("343 papers (60.2% of all; 337\u2013343, +2 unplaced) have a US author and 30 (5.3%; "
                       "+5 unplaced) a Chinese one.")
    assert said[3] == ("126 of the 497 papers with a country (25.4%; 116\u2013128, +4 unplaced) have authors in two "
                       "or more countries.")


def test_one_and_none_read_right():
    said = headline_sentences(numbers(papers=2, papers_with_affiliation=1, papers_with_country=1, us=1, cn=(1, 1, 1, 0),
                                      us_cn=(1, 1, 1, 1)), "ICML", 2020)
    assert said[0] == ("1 of the 2 ICML 2020 papers (50.0%) has authors at both US and Chinese institutions; 1 more "
                       "could be such a paper, by authors no evidence places.")
    assert said[1] == ("1 of the 2 papers (50.0%) gives an affiliation or an e-mail domain, and it resolves to a "
                       "country; the other 1 gives none and counts in no country.")
    assert said[2] == "1 paper (50.0% of all) has a US author and 1 (50.0%) a Chinese one."
    assert said[3] == "0 of the 1 paper with a country (0.0%) have authors in two or more countries."
    nothing = headline_sentences(numbers(papers=3), "ICML", 2020, scope="greater")
    assert nothing[1] == "None of the 3 papers gives an affiliation or an e-mail domain, so no paper counts in any country."
    assert "(Hong Kong, Macau and Taiwan counted as China)" in nothing[0]
    assert headline_sentences(numbers(), "ICML", 2020) == ["No paper of ICML 2020 is stored yet."]


def test_the_review_sentence():
    assert review_sentence({}) is None
    v = {"reviewed": 20, "precision": 0.9, "precision_low": 0.7, "precision_high": 0.97, "corrected": 16.2,
         "corrected_low": 12.6, "corrected_high": 17.5, "stale": 1}
    assert review_sentence({"us_cn": v}) == (
        "Reviewers checked 20 of the US\u2013China papers: precision 90% (70%\u201397%, Wilson 95%), so about 16 "
        "(13\u201318) are right (1 more verdict is stale: the evidence changed).")
