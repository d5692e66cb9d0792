"""Payloads in the shapes the real services document, for tests that mock HTTP with `responses`.

- virtual site: `{"count", "results": [event]}`, as neurips.cc/static/virtual/data/… serves;
- proceedings: the papers.nips.cc year listing and abstract pages (citation_* meta tags);
- OpenReview API v2: `{"notes": [...], "count"}` with values wrapped as {"value": …}, and
  `{"profiles": [...]}` with `content.names` and `content.history`;
- OpenAlex: `{"meta": {"count", "next_cursor", "per_page"}, "results": [work]}`.

Three papers recur across sources so that merging can be checked: "Sparse Attention at
Scale" (a US–CN paper), "Graph Priors for Robot Learning" and "A Benchmark of Benchmarks".
"""

from __future__ import annotations

PAPERS = [
    {
        "title": "Sparse Attention at Scale",
        "abstract": "We scale sparse attention.",
        "authors": [("Wei Zhang", "Tsinghua University", "~Wei_Zhang1", "tsinghua.edu.cn", "CN"),
                    ("Alice Smith", "Stanford University", "~Alice_Smith2", "stanford.edu", "US")],
        "hash": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "track": "Conference",
    },
    {
        "title": "Graph Priors for Robot Learning",
        "abstract": "Robots learn with graph priors.",
        "authors": [("Hans Müller", "ETH Zurich", "~Hans_Muller1", "ethz.ch", "CH"),
                    ("Marie Curie", "INRIA", "marie@inria.fr", None, None)],
        "hash": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "track": "Conference",
    },
    {
        "title": "A Benchmark of Benchmarks",
        "abstract": "Benchmarks, measured.",
        "authors": [("Kenji Sato", "University of Tokyo", "~Kenji_Sato1", "u-tokyo.ac.jp", "JP")],
        "hash": "11112222333344445555666677778888",
        "track": "Datasets_and_Benchmarks_Track",
    },
]


def virtual_event(index: int, paper: dict, eventtype: str = "Poster", year: int = 2024, **extra) -> dict:
    return {
        "id": 90000 + index, "uid": f"uid{index:04d}", "name": paper["title"], "abstract": paper["abstract"],
        "authors": [{"id": 100 + i, "fullname": name, "url": f"https://neurips.cc/virtual/{year}/author/{100 + i}",
                     "institution": inst} for i, (name, inst, *_rest) in enumerate(paper["authors"])],
        "decision": f"Accept ({eventtype.lower()})", "eventtype": eventtype, "event_type": eventtype,
        "topic": "Deep Learning", "session": "Poster Session 1", "virtualsite_url": f"/virtual/{year}/poster/{90000 + index}",
        "sourceurl": f"https://openreview.net/group?id=NeurIPS.cc/{year}/{paper['track']}",
        "sourceid": f"or{index}", "paper_url": f"https://openreview.net/forum?id=or{index}",
        "paper_pdf_url": f"https://openreview.net/pdf?id=or{index}", "eventmedia": [],
    }


def virtual_feed(year: int = 2024) -> dict:
    events = [virtual_event(i, p, year=year) for i, p in enumerate(PAPERS)]
    # The first paper is also an oral (same uid) and a spotlight whose uid differs (same title).
    oral = virtual_event(0, PAPERS[0], "Oral", year=year)
    oral["id"] = 95000
    spotlight = virtual_event(0, PAPERS[0], "Spotlight", year=year)
    spotlight.update(id=95001, uid="other-uid", name=PAPERS[0]["title"].upper())
    # An oral with no poster is still a paper; a rejected event and a talk are not papers.
    lonely = virtual_event(7, {"title": "An Oral Without Poster", "abstract": "", "authors": [("Ann Lee", "KAIST")],
                               "track": "Conference"}, "Oral", year=year)
    talk = virtual_event(8, {"title": "Invited Talk: The Future", "abstract": "", "authors": [], "track": "Conference"},
                         "Invited Talk", year=year)
    rejected = virtual_event(9, {"title": "Withdrawn Work", "abstract": "", "authors": [("X Y", "Z")],
                                 "track": "Conference"}, year=year)
    rejected["decision"] = "Reject"
    results = [oral, *events, spotlight, lonely, talk, rejected]
    return {"count": len(results), "next": None, "previous": None, "results": results}


def listing_html(year: int = 2024, layout: str = "new") -> str:
    items = []
    for p in PAPERS:
        names = ", ".join(a[0] for a in p["authors"])
        track = f"-{p['track'].replace('_Track', '')}" if layout == "new" else ""
        href = f"/paper_files/paper/{year}/hash/{p['hash']}-Abstract{track}.html"
        if layout == "new":
            items.append(f'<li class="conference"><div class="paper-content"><a title="paper title" href="{href}">'
                         f'{p["title"]}</a><span class="paper-authors">{names}</span></div></li>')
        else:
            items.append(f'<li><a title="paper title" href="{href}">{p["title"]}</a> <i>{names}</i></li>')
    return (f"<html><head><title>NeurIPS {year}</title></head><body><div class='container-fluid'>"
            f"<h4>Advances in Neural Information Processing Systems {year}</h4>"
            f"<ul class='paper-list'>{''.join(items)}</ul></div></body></html>")


def abstract_html(paper: dict, year: int = 2024) -> str:
    track = paper["track"]
    pdf = f"https://proceedings.neurips.cc/paper_files/paper/{year}/file/{paper['hash']}-Paper-{track}.pdf"
    authors = "".join(f'<meta name="citation_author" content="{n.split()[-1]}, {" ".join(n.split()[:-1])}">'
                      for n, *_ in paper["authors"])
    return (f'<html><head><meta name="citation_title" content="{paper["title"]}">{authors}'
            f'<meta name="citation_journal_title" content="Advances in Neural Information Processing Systems">'
            f'<meta name="citation_pdf_url" content="{pdf}"></head><body><div class="container-fluid">'
            f'<h4>{paper["title"]}</h4><p><i>{", ".join(a[0] for a in paper["authors"])}</i></p>'
            f'<div><a class="btn" href="/paper_files/paper/{year}/file/{paper["hash"]}-Paper-{track}.pdf">Paper</a></div>'
            f'<h4>Abstract</h4><p>{paper["abstract"]}</p></div></body></html>')


def wrap(value) -> dict:
    return {"value": value}


def openreview_note(index: int, paper: dict, venue_id: str) -> dict:
    return {
        "id": f"or{index}", "forum": f"or{index}", "number": 1000 + index, "cdate": 1715000000000, "mdate": 1730000000000,
        "invitations": [f"{venue_id}/-/Submission"], "domain": venue_id, "signatures": [f"{venue_id}/Submission{index}/Authors"],
        "content": {
            "title": wrap(paper["title"]), "authors": wrap([a[0] for a in paper["authors"]]),
            "authorids": wrap([a[2] for a in paper["authors"]]), "abstract": wrap(paper["abstract"]),
            "pdf": wrap(f"/pdf/{index:040d}.pdf"), "venue": wrap("NeurIPS 2024 poster"), "venueid": wrap(venue_id),
            "keywords": wrap(["attention"]),
        },
    }


def openreview_profile(author: tuple, year: int = 2024) -> dict:
    name, inst, profile_id, domain, country = author
    first, last = name.split()[0], name.split()[-1]
    history = [
        # Where the author was when the paper was written...
        {"position": "PhD Student", "start": year - 3, "end": year,
         "institution": {"name": inst, "domain": domain, "country": country, "department": "Computer Science"}},
        # ... and where they went afterwards: the newest entry, which must not count.
        {"position": "Research Scientist", "start": year + 1, "end": None,
         "institution": {"name": "Example Labs", "domain": "example.com", "country": "US"}},
        # An internship the same year counts only when nothing else does.
        {"position": "Research Intern", "start": year, "end": year,
         "institution": {"name": "Some Company", "domain": "company.com", "country": "US"}},
    ]
    return {
        "id": profile_id, "active": True, "password": True,
        "content": {"names": [{"fullname": name, "first": first, "last": last, "username": profile_id, "preferred": True},
                              {"fullname": name, "username": profile_id[:-1] + "9"}],
                    "history": history, "preferredEmail": "****@" + (domain or "example.org"),
                    "emailsConfirmed": ["****@" + (domain or "example.org")]},
    }


def openalex_work(index: int, paper: dict, year: int = 2024) -> dict:
    words = paper["abstract"].split()
    inverted: dict[str, list[int]] = {}
    for position, word in enumerate(words):
        inverted.setdefault(word, []).append(position)
    authorships = []
    for i, (name, inst, _pid, _domain, country) in enumerate(paper["authors"]):
        institutions = [{"id": f"https://openalex.org/I{i}00", "display_name": inst, "ror": f"https://ror.org/0{i}abcde12",
                         "country_code": country, "type": "education", "lineage": [f"https://openalex.org/I{i}00"]}]
        authorships.append({
            "author_position": "first" if i == 0 else "last" if i == len(paper["authors"]) - 1 else "middle",
            "author": {"id": f"https://openalex.org/A{index}{i}", "display_name": name, "orcid": None},
            "institutions": institutions if country else [], "countries": [country] if country else [],
            "is_corresponding": i == 0, "raw_author_name": name,
            "raw_affiliation_strings": [f"Department of Computer Science, {inst}"],
            "affiliations": [{"raw_affiliation_string": f"Department of Computer Science, {inst}",
                              "institution_ids": [f"https://openalex.org/I{i}00"]}],
        })
    return {
        "id": f"https://openalex.org/W{4000000 + index}", "doi": f"https://doi.org/10.1038/s42256-{year}-{index:05d}",
        "title": paper["title"], "display_name": paper["title"], "publication_year": year, "type": "article",
        "authorships": authorships, "abstract_inverted_index": inverted,
        "primary_location": {"is_oa": False, "landing_page_url": f"https://doi.org/10.1038/x{index}", "pdf_url": None,
                             "source": {"id": "https://openalex.org/S2912241403", "display_name": "Nature Machine Intelligence",
                                        "type": "journal"}},
        "best_oa_location": {"pdf_url": f"https://europepmc.org/articles/{index}.pdf"} if index % 2 == 0 else None,
    }
