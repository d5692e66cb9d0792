"""First pages in the layout families real papers use, typeset with PyMuPDF (tests/pdf_builder.py):
where each family puts names, markers, affiliations, e-mails and footnotes. Each builder returns
the page and what a reader must find on it: {name: [affiliations]} in printed order, and the
former affiliations ("work done while at ...") it must record and not count.

The names, institutions and addresses are made up for the tests or are public institution
names; no page copies a real paper's text."""

from __future__ import annotations

from pathlib import Path

from pdf_builder import Page

SUP = True


def _abstract(p: Page, y: float, lines: int = 14) -> None:
    p.centred(y, "Abstract", 11, bold=True)
    p.body(y + 18, lines)


def acm_journal(path: Path):
    """ACM journals: NAME IN CAPITALS, affiliation, country on one line; an "Authors'
    addresses" footer with full addresses."""
    p = Page()
    p.run(72, 80, "Sparse Retrieval for Scientific Claims", 16, bold=True)
    p.run(72, 104, "KYLE MORENO, Institute for Data Science, University of Lisbon, Portugal", 9)
    p.run(72, 116, "HANNA BERG, Lund University, Sweden", 9)
    p.run(72, 134, "We study sparse retrieval for verifying claims against the literature and report results.", 9)
    p.run(72, 150, "CCS Concepts: Information systems -> Retrieval models and ranking.", 8)
    p.body(170, 30)
    p.run(72, 700, "Authors' addresses: Kyle Moreno, Institute for Data Science, University of Lisbon, Lisbon,", 7)
    p.run(72, 709, "Portugal, kmoreno@ulisboa.pt; Hanna Berg, Lund University, Lund, Sweden, hanna.berg@lu.se.", 7)
    # the footer's fuller address comes after the byline's
    want = {"KYLE MORENO": ["Institute for Data Science, University of Lisbon, Portugal",
                            "Institute for Data Science, University of Lisbon, Lisbon, Portugal"],
            "HANNA BERG": ["Lund University, Sweden", "Lund University, Lund, Sweden"]}
    return p.save(path), want, []


def acm_conference(path: Path):
    """ACM conference (sigconf): a grid of author blocks, each name over institution, city and
    country, and an e-mail."""
    p = Page()
    p.centred(80, "Session-Aware Recommendation at Scale", 18, bold=True)
    blocks = [(160, "Mei Lin", ["Zhejiang University", "Hangzhou, China"], "mlin@zju.edu.cn"),
              (306, "Carlos Ortega", ["Universidad de Chile", "Santiago, Chile"], "cortega@uchile.cl"),
              (452, "Sophie Laurent", ["Inria", "Paris, France"], "sophie.laurent@inria.fr")]
    for centre, name, aff, email in blocks:
        p.centred(112, name, 11, centre=centre)
        for i, text in enumerate(aff):
            p.centred(125 + 11 * i, text, 9, centre=centre)
        p.centred(125 + 11 * len(aff), email, 9, centre=centre)
    p.run(72, 190, "ABSTRACT", 10, bold=True)
    p.body(205, 20)
    want = {name: [", ".join(aff)] for _, name, aff, _ in blocks}
    return p.save(path), want, []


def ieee_journal(path: Path):
    """IEEE journals: a byline with membership grades, affiliations in "X is with" footnotes in
    the first column, one of them naming a former affiliation."""
    p = Page()
    p.centred(70, "Robust Speaker Verification in Noise", 22)
    p.centred(100, "Arjun Mehta, Student Member, IEEE, Lena Vogel, Senior Member, IEEE, and Tomás Ruiz, Fellow, IEEE", 10)
    p.run(50, 130, "Abstract—We study speaker verification in noisy rooms and report equal error rates.", 9, bold=True)
    for x in (50, 320):
        p.body(150, 40, x, 9, "Speaker verification systems degrade in noise and reverberation.")
    p.stack(50, 660, ["Manuscript received May 2, 2021; revised July 9, 2021.",
                      "A. Mehta and L. Vogel are with the Department of Electrical Engineering,",
                      "Technical University of Munich, 80333 Munich, Germany (e-mail: arjun.mehta@tum.de).",
                      "T. Ruiz is with the University of Valencia, Valencia, Spain, and also with",
                      "the Universidad de Chile, Santiago, Chile. He was with Nokia Bell Labs, Murray Hill, NJ, USA."],
            7, 9)
    tum = "Department of Electrical Engineering, Technical University of Munich, 80333 Munich, Germany"
    want = {"Arjun Mehta": [tum], "Lena Vogel": [tum],
            "Tomás Ruiz": ["University of Valencia, Valencia, Spain", "Universidad de Chile, Santiago, Chile"]}
    return p.save(path), want, ["Nokia Bell Labs, Murray Hill, NJ, USA"]


def interspeech(path: Path):
    """Interspeech / ICASSP: centred names with numbered markers, centred numbered affiliations,
    e-mails on a line of their own."""
    p = Page()
    p.centred(80, "Self-Supervised Features for Low-Resource Speech Recognition", 14, bold=True)
    p.runs(170, 108, [("Yuki Tanaka", False), ("1", SUP), (", Priya Natarajan", False), ("2", SUP),
                      (", Omar Haddad", False), ("1,2", SUP)], 11)
    p.runs(190, 124, [("1", SUP), ("University of Tokyo, Japan", False)], 10)
    p.runs(330, 124, [("2", SUP), ("Indian Institute of Science, Bangalore, India", False)], 10)
    p.centred(138, "yuki@is.s.u-tokyo.ac.jp, priya@iisc.ac.in, omar.haddad@iisc.ac.in", 9)
    _abstract(p, 165)
    want = {"Yuki Tanaka": ["University of Tokyo, Japan"],
            "Priya Natarajan": ["Indian Institute of Science, Bangalore, India"],
            "Omar Haddad": ["University of Tokyo, Japan", "Indian Institute of Science, Bangalore, India"]}
    return p.save(path), want, []


def lncs(path: Path):
    """LNCS / Springer: names with numbered markers, numbered institute lines with addresses,
    e-mails in a block under them."""
    p = Page()
    p.centred(90, "Graph Neural Networks for Molecule Property Prediction", 14, bold=True)
    p.runs(180, 120, [("Anna Kowalska", False), ("1", SUP), (", Jonas Weber", False), ("2", SUP),
                      (", and Marco Bianchi", False), ("1", SUP)], 10)
    p.runs(200, 140, [("1", SUP), ("Warsaw University of Technology, 00-661 Warsaw, Poland", False)], 9)
    p.centred(151, "{a.kowalska,m.bianchi}@pw.edu.pl", 9)
    p.runs(210, 164, [("2", SUP), ("Max Planck Institute for Informatics, Saarbrücken, Germany", False)], 9)
    p.centred(175, "jweber@mpi-inf.mpg.de", 9)
    p.run(110, 200, "Abstract. We predict molecule properties with graph neural networks and report results.", 9)
    p.body(220, 20)
    warsaw = "Warsaw University of Technology, 00-661 Warsaw, Poland"
    want = {"Anna Kowalska": [warsaw], "Jonas Weber": ["Max Planck Institute for Informatics, Saarbrücken, Germany"],
            "Marco Bianchi": [warsaw]}
    return p.save(path), want, []


def elsevier(path: Path):
    """Elsevier: a masthead before the title, letter markers after names, affiliation lines that
    start with the letter in the text's own size, a corresponding-author footnote."""
    p = Page()
    p.centred(40, "Contents lists available at ScienceDirect", 8)
    p.centred(56, "Pattern Recognition Letters", 14, bold=True)
    p.centred(70, "journal homepage: www.elsevier.com/locate/patrec", 8)
    p.run(60, 110, "Attention-guided segmentation of retinal vessels", 16, bold=True)
    p.runs(60, 136, [("Lucas Ferreira", False), ("a", SUP), (", Ines Duarte", False), ("b,*", SUP),
                     (", Kenji Sato", False), ("a", SUP)], 11)
    p.run(60, 154, "a Department of Informatics, University of Porto, Porto, Portugal", 8)
    p.run(60, 164, "b Kyoto University, Kyoto, Japan", 8)
    p.run(60, 190, "A B S T R A C T", 8, bold=True)
    p.body(205, 30)
    p.runs(60, 720, [("*", SUP), ("Corresponding author. E-mail address: ines.duarte@kyoto-u.ac.jp (I. Duarte).", False)], 7)
    porto = "Department of Informatics, University of Porto, Porto, Portugal"
    want = {"Lucas Ferreira": [porto], "Ines Duarte": ["Kyoto University, Kyoto, Japan"], "Kenji Sato": [porto]}
    return p.save(path), want, []


def neurips_grid(path: Path):
    """NeurIPS / ICML camera-ready: rows of bold names with symbol markers, one shared
    affiliation under them, an "equal contribution" line, a "work done" footnote."""
    p = Page()
    p.centred(80, "Scaling Laws for Sparse Mixture Models", 17, bold=True)
    p.runs(120, 112, [("Daniel Brooks", False), ("*", SUP), ("   Mina Park", False), ("*", SUP),
                      ("   Rafael Costa", False), ("#", SUP)], 10, bold=True)
    p.runs(160, 125, [("Chen Wei", False), ("   Laura Fischer", False)], 10, bold=True)
    p.centred(140, "Google DeepMind", 10)
    p.centred(152, "{dbrooks,minapark,rcosta}@google.com", 9)
    _abstract(p, 180, 30)
    p.runs(72, 700, [("*", SUP), ("Equal contribution. ", False), ("#", SUP),
                     ("Work done while at Stanford University.", False)], 8)
    want = {n: ["Google DeepMind"] for n in ["Daniel Brooks", "Mina Park", "Rafael Costa", "Chen Wei", "Laura Fischer"]}
    return p.save(path), want, ["Stanford University"]


def chi_grid(path: Path):
    """CHI / CSCW: four author blocks in a row, each name over institution, city and country."""
    p = Page()
    p.centred(80, "Designing Feedback Tools for Remote Teams", 18, bold=True)
    blocks = [(110, "Sara Lind", ["KTH Royal Institute of Technology", "Stockholm, Sweden"]),
              (240, "Tom Okafor", ["University of Lagos", "Lagos, Nigeria"]),
              (370, "Ana Souza", ["University of São Paulo", "São Paulo, Brazil"]),
              (500, "Ben Cohen", ["Tel Aviv University", "Tel Aviv, Israel"])]
    for centre, name, aff in blocks:
        p.centred(110, name, 11, bold=True, centre=centre)
        for i, text in enumerate(aff):
            p.centred(123 + 11 * i, text, 8, centre=centre)
    p.run(72, 170, "ABSTRACT", 10, bold=True)
    p.body(185, 20)
    want = {name: [", ".join(aff)] for _, name, aff in blocks}
    return p.save(path), want, []


def sidebar_masthead(path: Path):
    """A journal masthead and a side bar beside the title block (PeerJ-like): the bar's text is
    not the author block's."""
    p = Page()
    p.run(40, 40, "Submitted 3 March 2022   Accepted 9 June 2022   Published 1 July 2022", 7)
    p.stack(40, 120, ["Corresponding author", "Nadia Rahman,", "nadia@ucl.ac.uk", "Academic editor", "Peter Hall",
                      "Additional Information and", "Declarations can be found on page 12"], 7, 11)
    p.run(190, 100, "Transfer learning for crop disease detection", 18, bold=True)
    p.runs(190, 130, [("Nadia Rahman", False), ("1", SUP), (" and Samuel Mensah", False), ("2", SUP)], 11)
    p.runs(190, 150, [("1", SUP), ("Department of Computer Science, University College London, London, UK", False)], 8)
    p.runs(190, 161, [("2", SUP), ("Kwame Nkrumah University of Science and Technology, Kumasi, Ghana", False)], 8)
    p.run(190, 190, "ABSTRACT", 10, bold=True)
    p.body(205, 25, 190, 10, "We detect crop diseases from leaf images with transfer learning.")
    want = {"Nadia Rahman": ["Department of Computer Science, University College London, London, UK"],
            "Samuel Mensah": ["Kwame Nkrumah University of Science and Technology, Kumasi, Ghana"]}
    return p.save(path), want, []


def affiliations_first(path: Path):
    """Affiliations printed above the names (numbered), names below them with the numbers."""
    p = Page()
    p.centred(80, "Federated Learning Under Label Shift", 16, bold=True)
    p.runs(180, 104, [("1", SUP), ("Seoul National University, Seoul, South Korea", False)], 9)
    p.runs(200, 115, [("2", SUP), ("University of Toronto, Toronto, Canada", False)], 9)
    p.runs(170, 134, [("Jiwoo Kim", False), ("1", SUP), (", Ethan Clarke", False), ("2", SUP),
                      (", Hyun Park", False), ("1", SUP)], 11)
    _abstract(p, 165)
    snu, uoft = "Seoul National University, Seoul, South Korea", "University of Toronto, Toronto, Canada"
    want = {"Jiwoo Kim": [snu], "Ethan Clarke": [uoft], "Hyun Park": [snu]}
    return p.save(path), want, []


def glued_markers(path: Path):
    """A word processor's byline: markers typed as plain digits after the names, in the names'
    size, and an internship footnote."""
    p = Page()
    p.centred(80, "Contrastive Pretraining for Table Understanding", 16, bold=True)
    p.centred(106, "Li Wang1, Maria Garcia2, Paul Allen1", 11)
    p.centred(122, "1Fudan University, Shanghai, China", 9)
    p.centred(133, "2Universidad Politécnica de Madrid, Madrid, Spain", 9)
    _abstract(p, 160, 30)
    p.runs(72, 710, [("This work was done during an internship at Microsoft Research Asia.", False)], 8)
    fudan = "Fudan University, Shanghai, China"
    want = {"Li Wang": [fudan], "Maria Garcia": ["Universidad Politécnica de Madrid, Madrid, Spain"], "Paul Allen": [fudan]}
    return p.save(path), want, ["Microsoft Research Asia"]


def springer_journal(path: Path):
    """Springer journals: a byline with "·" between names, and in the first column's foot the
    names by initials, each group followed by its address and e-mail."""
    p = Page()
    p.run(50, 60, "Machine Learning (2021) 110:1-24", 8)
    p.run(50, 100, "Calibrated uncertainty for graph classifiers", 18, bold=True)
    p.run(50, 126, "Kai Chen \u00b7 Lina Wu \u00b7 Marco Rossi", 11)
    p.run(50, 146, "Received: 2 March 2020 / Accepted: 9 October 2020", 8)
    p.run(50, 166, "Abstract  We calibrate graph classifiers and report results on standard benchmarks here.", 9)
    p.body(186, 36, 50, 9, "Graph classifiers are often overconfident on nodes far from training.")
    p.stack(50, 650, ["K. Chen \u00b7 L. Wu", "School of Computer Science, Fudan University, Shanghai, China",
                      "e-mail: kchen@fudan.edu.cn"], 7, 9)
    p.stack(50, 682, ["M. Rossi", "Politecnico di Milano, Milan, Italy"], 7, 9)
    fudan = "School of Computer Science, Fudan University, Shanghai, China"
    want = {"Kai Chen": [fudan], "Lina Wu": [fudan], "Marco Rossi": ["Politecnico di Milano, Milan, Italy"]}
    return p.save(path), want, []


def jmlr(path: Path):
    """JMLR: a masthead, then each author's name with the e-mail at the right margin on the same
    line, the affiliation and address under it."""
    p = Page()
    p.run(72, 50, "Journal of Machine Learning Research 22 (2021) 1-40     Submitted 5/20; Published 3/21", 8)
    p.centred(90, "Sparse Additive Models Revisited", 14, bold=True)
    rows = [("Helena Novak", "hnovak@stat.cmu.edu", ["Department of Statistics", "Carnegie Mellon University",
                                                     "Pittsburgh, PA 15213, USA"]),
            ("Rui Santos", "rui.santos@tecnico.ulisboa.pt", ["Instituto Superior Técnico", "Lisbon, Portugal"])]
    y = 120
    for name, email, aff in rows:
        p.run(72, y, name, 10, bold=True)
        p.run(540 - 5.4 * len(email), y, email, 9, mono=True)
        for i, text in enumerate(aff):
            p.run(72, y + 12 * (i + 1), text, 10)
        y += 12 * (len(aff) + 2)
    p.run(72, y + 20, "Editor: Jane Roe", 10)
    _abstract(p, y + 45, 20)
    want = {"Helena Novak": ["Department of Statistics Carnegie Mellon University, Pittsburgh, PA 15213, USA"],
            "Rui Santos": ["Instituto Superior Técnico, Lisbon, Portugal"]}
    return p.save(path), want, []


def capitals_glued(path: Path):
    """Names in capitals with the markers typed as plain digits, companies only on the
    numbered lines, and a long line of them (no university word)."""
    p = Page()
    p.centred(80, "LARGE-SCALE PRETRAINING FOR CODE SEARCH", 14, bold=True)
    p.centred(104, "JOHN MILLER1, AIKO SATO2, PETER NOWAK1", 10)
    p.run(72, 122, "1Google Research, Mountain View, CA, USA    2Preferred Networks, Tokyo, Japan, and NTT, Tokyo, Japan", 9)
    p.run(72, 134, "{jmiller,pnowak}@google.com, sato@preferred.jp", 9)
    _abstract(p, 160, 25)
    google = "Google Research, Mountain View, CA, USA"
    want = {"JOHN MILLER": [google], "AIKO SATO": ["Preferred Networks, Tokyo, Japan, and NTT, Tokyo, Japan"],
            "PETER NOWAK": [google]}
    return p.save(path), want, []


def icml_email_margin(path: Path):
    """ICML 2012-2015 / JMLR-like: each name with its address in capitals at the right margin on
    the same line (one text line with a wide gap), stacked names over one shared affiliation."""
    p = Page()
    p.centred(80, "A Fast Algorithm for Neural Language Models", 14, bold=True)
    p.run(72, 110, "Andrea Moretti" + " " * 60 + "AMORETTI@GATSBY.UCL.AC.UK", 10, bold=True)
    p.run(72, 122, "Yusuf Demir" + " " * 66 + "YDEMIR@GATSBY.UCL.AC.UK", 10, bold=True)
    p.run(72, 134, "Gatsby Computational Neuroscience Unit, University College London", 10)
    _abstract(p, 165, 25)
    ucl = "Gatsby Computational Neuroscience Unit, University College London"
    want = {"Andrea Moretti": [ucl], "Yusuf Demir": [ucl]}
    return p.save(path), want, []


def bmc_address(path: Path):
    """BMC / open-access journals: an "Address:" line with numbered affiliations joined by
    "and", and an "Email:" line naming each author's address."""
    p = Page()
    p.run(60, 60, "Research article                                           Open Access", 9, bold=True)
    p.run(60, 90, "Predicting protein function from sequence with deep networks", 16, bold=True)
    p.runs(60, 114, [("Sofia Marin*", False), ("1", SUP), (", Daniel Kerr", False), ("2", SUP),
                     (" and Hugo Lambert", False), ("1,2", SUP)], 11)
    p.runs(60, 132, [("Address: ", False), ("1", SUP), ("Department of Biology, University of Geneva, Geneva, "
                                                            "Switzerland and ", False), ("2", SUP),
                     ("EMBL-EBI, Hinxton, UK", False)], 8)
    p.run(60, 144, "Email: Sofia Marin* - sofia.marin@unige.ch; Daniel Kerr - dkerr@ebi.ac.uk", 8)
    p.run(60, 156, "* Corresponding author", 8)
    p.run(60, 180, "Abstract", 10, bold=True)
    p.body(195, 30)
    geneva, ebi = "Department of Biology, University of Geneva, Geneva, Switzerland", "EMBL-EBI, Hinxton, UK"
    want = {"Sofia Marin": [geneva], "Daniel Kerr": [ebi], "Hugo Lambert": [geneva, ebi]}
    return p.save(path), want, []


def bmc_correspondence(path: Path):
    """BMC since 2013: the corresponding author's affiliation in the first column's foot, after
    "* Correspondence: address"; the others' are at the end of the article."""
    p = Page()
    p.run(50, 60, "S O F T W A R E                                      Open Access", 9, bold=True)
    p.run(50, 90, "Amplicon prediction from multiplex primers", 18, bold=True)
    p.runs(50, 115, [("Clara Jensen", False), ("*", SUP), (" and Tom Weller", False)], 12)
    p.run(50, 140, "Abstract", 10, bold=True)
    p.body(155, 30, 50, 9, "Pairing primers to amplify desired targets is a combinatorial challenge here.")
    p.runs(50, 700, [("*", SUP), (" Correspondence: cjensen@llnl.gov", False)], 7)
    p.stack(50, 709, ["Computations/Global Security, Lawrence Livermore National Laboratory (LLNL),",
                      "Livermore, CA 94550, USA",
                      "Full list of author information is available at the end of the article"], 7, 9)
    want = {"Clara Jensen": ["Computations/Global Security, Lawrence Livermore National Laboratory (LLNL), "
                             "Livermore, CA 94550, USA"], "Tom Weller": []}
    return p.save(path), want, []


def cvpr_spaced(path: Path):
    """CVPR / ICCV: four names on one line apart only by space (the PDF's gaps read as single
    spaces), one affiliation and a grouped e-mail under them."""
    p = Page()
    p.centred(80, "Deep Residual Learning for Image Recognition", 14, bold=True)
    p.centred(108, "Kaiming Hu Xiangyu Zhao Shaoqing Ren Jian Song", 12)
    p.centred(126, "Microsoft Research", 12)
    p.centred(140, "{kahu, v-xiangz, v-shren, jiansong}@microsoft.com", 10)
    _abstract(p, 170, 25)
    want = {n: ["Microsoft Research"] for n in ["Kaiming Hu", "Xiangyu Zhao", "Shaoqing Ren", "Jian Song"]}
    return p.save(path), want, []


def acm_two_rows(path: Path):
    """ACM sigconf with six authors: two rows of three blocks, each name over institution,
    city and country, and an e-mail; the second row sits right under the first's e-mails."""
    p = Page()
    p.centred(70, "Multi-Task Ranking for Short-Video Feeds", 18, bold=True)
    rows = [[(160, "Wei Zhang", ["Kuaishou Technology", "Beijing, China"], "zhangwei@kuaishou.com"),
             (306, "Laura Perez", ["Universitat Pompeu Fabra", "Barcelona, Spain"], "laura.perez@upf.edu"),
             (452, "Omar Aziz", ["University of Toronto", "Toronto, Canada"], "omar.aziz@utoronto.ca")],
            [(160, "Jun Tanaka", ["Kyoto University", "Kyoto, Japan"], "tanaka@kyoto-u.ac.jp"),
             (306, "Emma Clark", ["Google", "Mountain View, CA, USA"], "emmaclark@google.com"),
             (452, "Ravi Kumar", ["Indian Institute of Science", "Bangalore, India"], "ravi@iisc.ac.in")]]
    want = {}
    for r, row in enumerate(rows):
        y = 100 + 62 * r
        for centre, name, aff, email in row:
            p.centred(y, name, 11, centre=centre)
            for i, text in enumerate(aff):
                p.centred(y + 13 + 11 * i, text, 9, centre=centre)
            p.centred(y + 13 + 11 * len(aff), email, 9, centre=centre)
            want[name] = [", ".join(aff)]
    p.run(72, 240, "ABSTRACT", 10, bold=True)
    p.body(255, 20)
    return p.save(path), want, []


def nips_shared_block(path: Path):
    """NIPS 2014-style: eight names over two rows with symbol markers, one affiliation of three
    lines under them in French, footnotes saying where two of the authors are visiting from."""
    p = Page()
    p.centred(80, "Generative Adversarial Nets", 17, bold=True)
    p.runs(110, 110, [("Ian Goodman, Jean Poulin", False), ("*", SUP), (", Mehdi Mirzai, Bing Xiu, David Ward,", False)],
           10, bold=True)
    p.runs(150, 123, [("Sherif Ozan", False), ("#", SUP), (", Aaron Courtois, Yves Bengal", False)], 10, bold=True)
    p.centred(140, "Département d'informatique et de recherche opérationnelle", 10)
    p.centred(152, "Université de Montréal", 10)
    p.centred(164, "Montréal, QC H3C 3J7", 10)
    _abstract(p, 195, 30)
    p.runs(72, 690, [("*", SUP), ("Jean Poulin is visiting Université de Montréal from Ecole Polytechnique.", False)], 8)
    p.runs(72, 700, [("#", SUP), ("Sherif Ozan is visiting Université de Montréal from IIT Delhi.", False)], 8)
    udem = ["Département d'informatique et de recherche opérationnelle Université de Montréal, Montréal, QC H3C 3J7"]
    want = {n: udem for n in ["Ian Goodman", "Jean Poulin", "Mehdi Mirzai", "Bing Xiu", "David Ward", "Sherif Ozan",
                              "Aaron Courtois", "Yves Bengal"]}
    # a visitor's home institution is theirs too
    want["Jean Poulin"] = udem + ["Ecole Polytechnique"]
    want["Sherif Ozan"] = udem + ["IIT Delhi"]
    return p.save(path), want, []


def word_notes(path: Path):
    """A word processor's page: marked affiliation notes at the foot of the page in the body's
    own size, after the text."""
    p = Page()
    p.centred(80, "Irrigation Scheduling with Reinforcement Learning", 15, bold=True)
    p.runs(200, 106, [("Amal Haddad", False), ("1", SUP), (", Peter Olsen", False), ("2", SUP)], 11)
    _abstract(p, 140, 40)
    p.runs(72, 700, [("1", SUP), ("American University of Beirut, Beirut, Lebanon", False)], 10)
    p.runs(72, 712, [("2", SUP), ("Aarhus University, Aarhus, Denmark", False)], 10)
    want = {"Amal Haddad": ["American University of Beirut, Beirut, Lebanon"],
            "Peter Olsen": ["Aarhus University, Aarhus, Denmark"]}
    return p.save(path), want, []


FAMILIES = {f.__name__: f for f in (
    acm_journal, acm_conference, acm_two_rows, chi_grid, ieee_journal, interspeech, lncs, elsevier, springer_journal,
    jmlr, icml_email_margin, neurips_grid, nips_shared_block, cvpr_spaced, sidebar_masthead, affiliations_first,
    glued_markers, capitals_glued, word_notes, bmc_address, bmc_correspondence)}
