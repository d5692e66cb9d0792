"""A held-out set of first pages in the families the layout rules fail on for unseen papers,
typeset with PyMuPDF (tests/pdf_builder.py) with variation drawn from a seed: faces, sizes,
one or two columns, markers as superscripts, symbols or none, and the notes and abstracts
that must never become affiliations.

Families (each page's `layout` in its truth line):
- `shared_block`: names on one or two lines with no markers over one affiliation block (ACM
  short papers, the papermage paper): every author gets the block;
- `acm_columns`: ACM sigconf's columns "Name / Affiliation / City, Country / e-mail", one or
  two rows;
- `interspeech`: centred names with numbered markers, numbered affiliation lines, an e-mail line;
- `icassp`: ICASSP's italic names with symbol markers over symbol-marked lines, or two name
  blocks each over its own address;
- `notes`: names with symbol markers over numbered affiliations, and "∗Equal contribution",
  "†Work done during an internship at ...", "Corresponding author" notes at the foot;
- `acm_journal`: ACM journals' lines of names in capitals then their affiliation, one to three
  names a line;
- `grid_notes`: a grid of names with symbols for notes only, and one line that says where
  everyone is and carries the notes ("All authors from DeepMind, ∗Equal contributions, ...").
Any page may start its abstract without a heading and talk about companies and countries
("... released by AI21 Labs in Israel", "... trained at Google"): prose, never an affiliation.

The names are made up; institutions are public ones. The truth is what the page prints.

    python tests/pdf_heldout.py OUT_DIR [--per-family 12] [--seed 31]

writes the PDFs and a truth.jsonl that `benchmarks/pdf_extraction.py --corpus OUT_DIR` reads.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pdf_builder import Page  # noqa: E402

SUP = True
FIRST = ["Mei", "Carlos", "Sophie", "Arjun", "Lena", "Tomás", "Yuki", "Priya", "Omar", "Anna", "Jonas", "Marco",
         "Hanna", "Kyle", "Ines", "Kenji", "Fatima", "Lucas", "Chen", "Olga", "Rahul", "Sara", "Diego", "Emma",
         "Hyun-woo", "Aisha", "Pavel", "Julia", "Wei", "Noah", "Ying", "Matteo", "Nadia", "Tobias", "Leila", "Ravi"]
LAST = ["Lin", "Ortega", "Laurent", "Mehta", "Vogel", "Ruiz", "Tanaka", "Natarajan", "Haddad", "Kowalska",
        "Weber", "Bianchi", "Berg", "Moreno", "Duarte", "Sato", "Rahman", "Ferreira", "Zhao", "Petrova", "Gupta",
        "Cohen", "Alvarez", "Schmidt", "Park", "Bello", "Novak", "Richter", "Zhang", "Fischer", "Xu", "Romano",
        "Karimi", "Hoffmann", "Nasser", "Iyer"]
# (lines as printed, e-mail domain, country): the block's lines; the affiliation is them joined by ", ".
PLACES = [
    (["Department of Computer Science", "University of Toronto", "Toronto, Canada"], "cs.toronto.edu", "CA"),
    (["Zhejiang University", "Hangzhou, China"], "zju.edu.cn", "CN"),
    (["School of Informatics", "University of Edinburgh", "Edinburgh, United Kingdom"], "ed.ac.uk", "GB"),
    (["Inria", "Paris, France"], "inria.fr", "FR"),
    (["Technical University of Munich", "Munich, Germany"], "tum.de", "DE"),
    (["Seoul National University", "Seoul, Republic of Korea"], "snu.ac.kr", "KR"),
    (["Indian Institute of Science", "Bangalore, India"], "iisc.ac.in", "IN"),
    (["University of Tokyo", "Tokyo, Japan"], "u-tokyo.ac.jp", "JP"),
    (["Allen Institute for AI", "Seattle, WA, USA"], "allenai.org", "US"),
    (["Carnegie Mellon University", "Pittsburgh, PA, USA"], "cs.cmu.edu", "US"),
    (["Universidad de Chile", "Santiago, Chile"], "uchile.cl", "CL"),
    (["ETH Zurich", "Zurich, Switzerland"], "inf.ethz.ch", "CH"),
    (["University of Amsterdam", "Amsterdam, Netherlands"], "uva.nl", "NL"),
    (["Tsinghua University", "Beijing, China"], "tsinghua.edu.cn", "CN"),
    (["Microsoft Research", "Redmond, WA, USA"], "microsoft.com", "US"),
    (["Faculty of Engineering", "University of Porto", "Porto, Portugal"], "fe.up.pt", "PT"),
    (["Monash University", "Melbourne, Australia"], "monash.edu", "AU"),
    (["National University of Singapore", "Singapore"], "comp.nus.edu.sg", "SG"),
    (["KTH Royal Institute of Technology", "Stockholm, Sweden"], "kth.se", "SE"),
    (["Politecnico di Milano", "Milan, Italy"], "polimi.it", "IT"),
]
# Prose for abstracts that start without a heading: companies, products and countries in sentences.
ABSTRACT = [
    "Jurassic-1 is a large model by AI21 Labs in Israel. We enhance auto-regressive language models by",
    "conditioning on document chunks retrieved from a large corpus, and we compare against models trained at",
    "Google and released by Meta in the United States. With a two trillion token database our model obtains",
    "comparable performance to GPT-3 on the Pile, despite using 25 times fewer parameters than the models",
    "deployed by Baidu in China. We show that retrieval helps for question answering and language modelling.",
]
NOTES = ["Equal contribution.", "These authors contributed equally to this work.", "Equal Contributors",
         "Joint first authors; listed in alphabetical order."]


def _people(rng: random.Random, n: int) -> list[str]:
    first = rng.sample(FIRST, n)
    last = rng.sample(LAST, n)
    return [f"{a} {b}" for a, b in zip(first, last)]


def _email(name: str, domain: str) -> str:
    first, last = name.split()[0], name.split()[-1]
    local = first.lower().replace("á", "a") + "." + last.lower() if len(first) > 3 else first[0].lower() + last.lower()
    return f"{local.replace('-', '')}@{domain}"


def _body(p: Page, rng: random.Random, y: float, two_columns: bool, size: float) -> None:
    sentence = "Retrieval systems trade memory for compute, and the trade changes with the size of the corpus."
    if two_columns:
        half = "Retrieval systems trade memory for compute as the corpus grows."
        for x in (54, 318):
            p.stack(x, y, [half] * int((740 - y) / (size + 2)), size, size + 2)
    else:
        p.stack(72, y, [sentence] * int((740 - y) / (size + 2)), size, size + 2)


def _abstract(p: Page, rng: random.Random, y: float, two_columns: bool) -> tuple[float, str]:
    """An abstract: a heading (two styles) and prose, or prose alone in italics with its first
    line indented (style "none"). Returns where the body may start, and the style."""
    style = getattr(rng, "abstract", None) or rng.choice(["heading", "heading", "caps", "none"])
    x, wide = (54, 250) if two_columns else (90, 430)
    if style == "heading":
        p.run(x if two_columns else 280, y, "Abstract", 11, bold=True)
        y += 16
    elif style == "caps":
        p.run(x, y, "ABSTRACT", 10, bold=True)
        y += 14
    text = " ".join(ABSTRACT).split()
    lines, current = [], ""
    for w in text:
        if p.width(current + " " + w, 9, italic=True) > wide - (12 if not lines else 0):
            lines.append(current)
            current = w
        else:
            current = (current + " " + w).strip()
    lines.append(current)
    if style == "none":  # a paragraph's first line indented, in italics
        p.run(x + 12, y, lines[0], 9, italic=True)
        p.stack(x, y + 11, lines[1:], 9, 11, italic=True)
    else:
        p.stack(x, y, lines, 9, 11)
    return y + 11 * len(lines) + 14, style


def _finish(p: Page, rng: random.Random, y: float, path: Path, authors: list[dict], layout: str,
            notes: list[str] = ()) -> tuple[Path, dict]:
    two = rng.random() < 0.6
    y, abstract = _abstract(p, rng, y, two)
    _body(p, rng, y, two, 9.5)
    foot = 742 - 9 * len(notes)
    for note in notes:
        p.runs(54, foot, [(note[0], SUP), (note[1:], False)] if note[0] in "∗†‡§*" else [(note, False)], 7.5)
        foot += 9
    row = {"file": path.name, "layout": layout, "abstract": abstract, "authors": authors,
           "countries": sorted({c for a in authors for c in a["countries"]})}
    return p.save(path), row


def _person(name: str, places: list[tuple], email: bool = True) -> dict:
    return {"name": name, "affiliations": [", ".join(lines) for lines, _, _ in places],
            "countries": sorted({c for _, _, c in places}),
            "email": _email(name, places[0][1]) if email and places else None}


def _wrap(p: Page, lines: list[str], size: float, width: float) -> list[str]:
    """Lines broken where a word would not fit the column (a narrow ACM column)."""
    out = []
    for text in lines:
        current = ""
        for w in text.split():
            if current and p.width(current + " " + w, size) > width:
                out.append(current)
                current = w
            else:
                current = (current + " " + w).strip()
        out.append(current)
    return out


def _title(p: Page, rng: random.Random, centred: bool = True) -> float:
    title = rng.choice(["Retrieval-Enhanced Language Models at Trillion-Token Scale",
                        "Self-Supervised Speech Representations for Low-Resource Languages",
                        "Session-Aware Recommendation with Contrastive Pre-Training",
                        "Learning Layout-Aware Representations of Scientific Documents"])
    size = rng.choice([14, 16, 17])
    if centred:
        p.centred(78, title, size, bold=True)
    else:
        p.run(54, 78, title, size, bold=True)
    return 78 + size + 8


def shared_block(path: Path, rng: random.Random) -> tuple[Path, dict]:
    """Names (bold or not, one or two lines, commas or wide gaps) over one affiliation block."""
    p = Page(rng.choice(["helv", "tiro"]))
    y = _title(p, rng)
    names = _people(rng, rng.randint(2, 6))
    place = rng.choice(PLACES)
    size, bold = rng.choice([(11, False), (12, False), (11, True)]), None
    size, bold = size
    per_line = len(names) if len(names) <= 3 else (len(names) + 1) // 2
    grid = len(names) >= 3 and rng.random() < 0.4  # each name centred in its own column
    for start in range(0, len(names), per_line):
        if grid:
            group = names[start:start + per_line]
            for k, name in enumerate(group):
                p.centred(y, name, size, bold=bold, centre=306 + (k - (len(group) - 1) / 2) * 150)
            y += size + 4
            continue
        group = names[start:start + per_line]
        text = ("     ".join(group) if rng.random() < 0.4 else ", ".join(group[:-1]) + (" and " if len(group) > 1 else "")
                + group[-1]) if len(group) > 1 else group[0]
        p.centred(y, text, size, bold=bold)
        y += size + 3
    y += 2
    lines = place[0] if rng.random() < 0.7 else [", ".join(place[0])]
    for text in lines:
        p.centred(y, text, 10, italic=rng.random() < 0.3)
        y += 12
    if rng.random() < 0.5:
        locals_ = ",".join(_email(n, place[1]).split("@")[0] for n in names)
        p.centred(y, "{" + locals_ + "}@" + place[1], 9, mono=True)
        y += 12
    authors = [_person(n, [place], email=False) for n in names]
    return _finish(p, rng, y + 14, path, authors, "shared_block")


def acm_columns(path: Path, rng: random.Random) -> tuple[Path, dict]:
    """ACM sigconf: columns of Name / Affiliation / City, Country / e-mail, in one or two rows."""
    p = Page(rng.choice(["helv", "tiro"]))
    y = _title(p, rng)
    n = rng.randint(2, 6)
    per_row = n if n <= 4 else 3
    names = _people(rng, n)
    shared = rng.random() < 0.3
    places = [rng.choice(PLACES)] * n if shared else [rng.choice(PLACES) for _ in names]
    authors = []
    row_y = y + 6
    for start in range(0, n, per_row):
        row = list(zip(names, places))[start:start + per_row]
        width = 504 / len(row)
        deepest = row_y
        for k, (name, place) in enumerate(row):
            centre = 54 + width * (k + 0.5)
            p.centred(row_y, name, 11, centre=centre)
            ly = row_y + 13
            for text in _wrap(p, place[0], 9, width - 8):
                p.centred(ly, text, 9, centre=centre)
                ly += 11
            p.centred(ly, _email(name, place[1]), 9, centre=centre)
            deepest = max(deepest, ly + 11)
            authors.append(_person(name, [place]))
        row_y = deepest + 10
    return _finish(p, rng, row_y + 8, path, authors, "acm_columns")


def interspeech(path: Path, rng: random.Random) -> tuple[Path, dict]:
    """Interspeech: centred names with numbered markers, numbered affiliations (superscript or a
    plain number), e-mails on a line of their own."""
    p = Page(rng.choice(["tiro", "helv"]))
    y = _title(p, rng)
    n = rng.randint(2, 5)
    names = _people(rng, n)
    places = rng.sample(PLACES, rng.randint(2, 3))
    own = [[rng.randrange(len(places))] for _ in names]
    own[0] = [0]
    own[-1] = sorted({own[-1][0], len(places) - 1})
    for k in range(len(places)):
        if not any(k in o for o in own):
            own[k % n] = sorted(set(own[k % n]) | {k})
    parts: list[tuple[str, bool]] = []
    for i, (name, o) in enumerate(zip(names, own)):
        parts += [((", " if i else "") + name, False), (",".join(str(k + 1) for k in o), SUP)]
    p.centred_runs(y, parts, 11, bold=rng.random() < 0.5)
    y += 16
    glued = rng.random() < 0.4
    texts = [", ".join(place[0]) for place in places]
    if len(places) == 2 and rng.random() < 0.4 and max(p.width(t, 10) for t in texts) < 240:
        # two entries side by side on one row
        parts = [("1", SUP), (texts[0] + "   ", False), ("2", SUP), (texts[1], False)]
        p.centred_runs(y, parts, 10, italic=True)
        y += 12
    else:
        for k, text in enumerate(texts):
            if glued:
                p.centred(y, f"{k + 1}{text}", 10, italic=True)
            else:
                p.centred_runs(y, [(str(k + 1), SUP), (text, False)], 10, italic=True)
            y += 12
    emails = [_email(nm, places[o[0]][1]) for nm, o in zip(names, own)]
    p.centred(y, ", ".join(emails), 9, mono=True)
    authors = [_person(nm, [places[k] for k in o]) for nm, o in zip(names, own)]
    for a, e in zip(authors, emails):
        a["email"] = e
    return _finish(p, rng, y + 22, path, authors, "interspeech")


def icassp(path: Path, rng: random.Random) -> tuple[Path, dict]:
    """ICASSP: italic names in capitals with symbol markers over symbol-marked addresses, or two
    blocks of names each over its own address (no markers)."""
    p = Page("tiro")
    title = "ROBUST KEYWORD SPOTTING WITH FEW-SHOT SPEAKER ADAPTATION"
    p.centred(80, title, 12, bold=True)
    y = 104
    if rng.random() < 0.5:
        names = _people(rng, rng.randint(2, 4))
        places = rng.sample(PLACES, 2)
        symbols = ["∗", "†"]
        own = [rng.randrange(2) for _ in names]
        own[0], own[-1] = 0, 1
        parts = []
        for i, (nm, o) in enumerate(zip(names, own)):
            parts += [(("   " if i else "") + nm.upper(), False), (symbols[o], SUP)]
        p.centred_runs(y, parts, 10.5, italic=True)
        y += 16
        for k, place in enumerate(places):
            p.centred_runs(y, [(symbols[k], SUP), (", ".join(place[0]), False)], 10)
            y += 12
        authors = [_person(nm, [places[o]], email=False) for nm, o in zip(names, own)]
    else:
        authors = []
        groups = [_people(rng, rng.randint(1, 2)), _people(rng, rng.randint(1, 2))]
        groups[1] = [nm for nm in groups[1] if nm not in groups[0]] or ["Ravi Iyer"]
        places = rng.sample(PLACES, 2)
        deepest = y
        for centre, group, place in zip((180, 432), groups, places):
            p.centred(y, ", ".join(nm.upper() for nm in group), 10.5, italic=True, centre=centre)
            ly = y + 14
            for text in place[0]:
                p.centred(ly, text, 10, centre=centre)
                ly += 12
            deepest = max(deepest, ly)
            authors += [_person(nm, [place], email=False) for nm in group]
        y = deepest
    for a in authors:
        a["name"] = a["name"].upper()
    return _finish(p, rng, y + 14, path, authors, "icassp")


def notes(path: Path, rng: random.Random) -> tuple[Path, dict]:
    """Symbol-marked names over numbered affiliations, with notes that are not affiliations:
    "∗Equal contribution", "†Work done during an internship at ...", "‡Corresponding author"."""
    p = Page(rng.choice(["helv", "tiro"]))
    y = _title(p, rng)
    n = rng.randint(3, 5)
    names = _people(rng, n)
    places = rng.sample(PLACES, 2)
    own = [k % 2 for k in range(n)]
    parts = []
    for i, (nm, o) in enumerate(zip(names, own)):
        mark = str(o + 1) + ("∗" if i < 2 else "†" if i == 2 else "‡" if i == n - 1 else "")
        parts += [((", " if i else "") + nm, False), (mark, SUP)]
    p.centred_runs(y, parts, 11, bold=rng.random() < 0.5)
    y += 16
    for k, place in enumerate(places):
        p.centred_runs(y, [(str(k + 1), SUP), (", ".join(place[0]), False)], 10)
        y += 12
    in_header = rng.random() < 0.4
    equal = rng.choice(NOTES)
    if in_header:
        p.centred_runs(y, [("∗", SUP), (equal, False)], 9)
        y += 12
    company = rng.choice(["Google Research, Mountain View, CA", "Microsoft Research Asia, Beijing",
                          "Amazon Alexa AI, Cambridge, MA", "NVIDIA, Santa Clara, CA"])
    foot = [] if in_header else ["∗" + equal]
    foot += ["†Work done during an internship at " + company + ".",
             "‡Corresponding author: " + _email(names[-1], places[own[-1]][1])]
    authors = [_person(nm, [places[o]], email=False) for nm, o in zip(names, own)]
    return _finish(p, rng, y + 14, path, authors, "notes", foot)


def grid_notes(path: Path, rng: random.Random) -> tuple[Path, dict]:
    """A grid of names with symbols for notes only, and one line that both says where everyone
    is and carries the notes ("All authors from DeepMind, ∗Equal contributions, ‡Equal senior
    authorship")."""
    p = Page(rng.choice(["helv", "tiro"]))
    y = _title(p, rng, centred=False)
    names = _people(rng, rng.randint(4, 9))
    # (lines, domain, country where printed, headquarters' country when only the name is printed)
    org = rng.choice([(["DeepMind", "London, United Kingdom"], "deepmind.com", "GB", "GB"),
                      (["Google Research", "Zurich, Switzerland"], "google.com", "CH", "US"),
                      (["Preferred Networks", "Tokyo, Japan"], "preferred.jp", "JP", "JP"),
                      (["Mila - Quebec AI Institute", "Montreal, Canada"], "mila.quebec", "CA", "CA")])
    marks = ["∗" if k < 2 else "‡" if k >= len(names) - 2 else "" for k in range(len(names))]
    for k, (name, mark) in enumerate(zip(names, marks)):
        x = p.run(54 + (k % 3) * 170, y + (k // 3) * 14, name, 10.5)
        if mark:
            p.run(x, y + (k // 3) * 14 - 3.6, mark, 6.3)
    y += 14 * ((len(names) + 2) // 3) + 6
    printed = rng.random() < 0.5
    where = ", ".join(org[0]) if printed else org[0][0]
    parts = [(f"All authors from {where}, ", False), ("∗", SUP), ("Equal contributions, ", False), ("‡", SUP),
             ("Equal senior authorship", False)]
    p.runs(54, y, parts, 8.5)
    authors = [_person(nm, [([where], org[1], org[2] if printed else org[3])], email=False) for nm in names]
    return _finish(p, rng, y + 18, path, authors, "grid_notes")


def acm_journal(path: Path, rng: random.Random) -> tuple[Path, dict]:
    """ACM journals: names in capitals then their affiliation on one line, one to three names
    a line ("MEI LIN, CARLOS ORTEGA, and SOPHIE LAURENT, Inria, France")."""
    p = Page(rng.choice(["tiro", "helv"]))
    y = _title(p, rng, centred=False)
    names = _people(rng, rng.randint(2, 6))
    authors = []
    k = 0
    while k < len(names):
        group = names[k:k + rng.randint(1, 3)]
        k += len(group)
        place = rng.choice(PLACES)
        caps = [n.upper() for n in group]
        who = caps[0] if len(caps) == 1 else (" and ".join(caps) if len(caps) == 2 else
                                              ", ".join(caps[:-1]) + ", and " + caps[-1])
        where = ", ".join(t for t in place[0] if not t.startswith(("Department", "School", "Faculty")))
        where = where.split(", ")[0] + ", " + {"US": "USA", "GB": "United Kingdom", "KR": "Korea"}.get(
            place[2], place[0][-1].split(", ")[-1])
        p.run(54, y, f"{who}, {where}", 9)
        y += 12
        authors += [_person(c, [([where], place[1], place[2])], email=False) for c in caps]
    return _finish(p, rng, y + 10, path, authors, "acm_journal")


FAMILIES = {f.__name__: f for f in (shared_block, acm_columns, interspeech, icassp, notes, grid_notes, acm_journal)}


def build(out: Path, per_family: int = 12, seed: int = 31) -> list[dict]:
    """Typeset `per_family` pages of each family into `out` and write its truth.jsonl."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, make in FAMILIES.items():
        for k in range(per_family):
            rng = random.Random(f"{seed}-{name}-{k}")
            rng.abstract = "none" if k % 4 == 0 else None  # every fourth page: no heading, for sure
            _, row = make(out / f"{name}_{k:02d}.pdf", rng)
            rows.append(row)
    (out / "truth.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-family", type=int, default=12)
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args()
    print(f"{len(build(args.out, args.per_family, args.seed))} pages in {args.out}")
