"""The shape of a generated OpenAlex work (tests/openalex_generated.py): the tables it draws
from (subfields, topics, institutions with the affiliation strings papers print, names,
journals) and `build_work`, one work from its index. Institutions, countries and strings are
real names; the OpenAlex ids (W, A, I, S, T, P) are invented, except arXiv's source and Nature
Portfolio's publisher, and institutions carry no ROR id."""

from __future__ import annotations

import bisect

M64 = (1 << 64) - 1
GOLDEN, MUL1, MUL2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
FIRST_ID = 3_000_000_000  # work ids W3000000000...: invented

SUBFIELDS = [  # (id, name, field id, field name, domain id, domain name, weight); index 0: none
    None,
    ("1702", "Artificial Intelligence", "17", "Computer Science", "3", "Physical Sciences", 52),
    ("1707", "Computer Vision and Pattern Recognition", "17", "Computer Science", "3", "Physical Sciences", 16),
    ("1710", "Information Systems", "17", "Computer Science", "3", "Physical Sciences", 8),
    ("2718", "Health Informatics", "27", "Medicine", "4", "Health Sciences", 8),
    ("1705", "Computer Networks and Communications", "17", "Computer Science", "3", "Physical Sciences", 6),
    ("1712", "Software", "17", "Computer Science", "3", "Physical Sciences", 6),
]
NO_TOPIC_WEIGHT = 4
TYPES = [("article", 66), ("preprint", 28), ("review", 6)]
MONTH_WEIGHTS = [14, 7, 8, 8, 8, 8, 8, 7, 8, 9, 8, 7]


def _cumulative(weights: list[int]) -> list[int]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


MONTH_CUM = _cumulative(MONTH_WEIGHTS)
SUBFIELD_CUM = _cumulative([NO_TOPIC_WEIGHT] + [s[6] for s in SUBFIELDS[1:]])
TYPE_CUM = _cumulative([w for _, w in TYPES])

TOPICS = {  # a few topics per subfield (names as OpenAlex's; ids invented)
    "1702": ["Topic Modeling", "Reinforcement Learning in Robotics", "Multi-Agent Systems and Negotiation",
             "Natural Language Processing Techniques", "Explainable Artificial Intelligence (XAI)"],
    "1707": ["Advanced Neural Network Applications", "Domain Adaptation and Few-Shot Learning",
             "Image Enhancement Techniques"],
    "1710": ["Recommender Systems and Techniques", "Business Process Modeling and Analysis"],
    "2718": ["Artificial Intelligence in Healthcare", "Machine Learning in Healthcare"],
    "1705": ["IoT and Edge/Fog Computing", "Network Security and Intrusion Detection"],
    "1712": ["Software Engineering Research", "Software Testing and Debugging Techniques"],
}
TASKS = {
    "1702": ["Commonsense Reasoning", "Multi-Agent Planning", "Knowledge Graph Completion", "Question Answering",
             "Text Classification", "Offline Reinforcement Learning"],
    "1707": ["Object Detection", "Semantic Segmentation", "Image Super-Resolution", "Person Re-Identification"],
    "1710": ["Sequential Recommendation", "Process Mining", "Click-Through Rate Prediction"],
    "2718": ["Medical Image Diagnosis", "Sepsis Prediction from Electronic Health Records", "Drug Discovery"],
    "1705": ["Task Offloading in Edge Computing", "Intrusion Detection in IoT Networks", "Traffic Forecasting"],
    "1712": ["Code Generation", "Software Defect Prediction", "Automated Program Repair"],
}
STARTS = ["Learning", "Towards", "Scalable", "Robust", "Efficient", "Self-Supervised", "Federated", "Contrastive",
          "Explainable", "Adaptive", "Hierarchical", "Uncertainty-Aware"]
SETTINGS = ["", "", "under Distribution Shift", "with Limited Labels", "at Scale", "in the Wild", "on Edge Devices",
            "with Noisy Labels", "for Low-Resource Languages", "across Domains", "in Federated Settings",
            "with Theoretical Guarantees", "via Curriculum Learning", "under Adversarial Attacks", "in Real Time",
            "with Human Feedback", "from Multimodal Data", "on Graphs", "for Long Sequences", "with Sparse Rewards",
            "in Open Environments", "with Privacy Guarantees", "using Synthetic Data", "at Low Precision"]
INITIALS = [""] * 6 + [f"{c}. " for c in "ABCDEFGHJKLMNPRSTW"]
METHODS = ["Transformers", "Graph Neural Networks", "Diffusion Models", "Reinforcement Learning",
           "Knowledge Distillation", "Attention Mechanisms", "Bayesian Optimization", "Large Language Models",
           "Convolutional Networks", "Meta-Learning", "Mixture of Experts", "Variational Autoencoders"]

# (name, country, weight, raw affiliation strings as papers print them)
INSTITUTIONS = [
    ("Stanford University", "US", 30, ["Department of Computer Science, Stanford University, Stanford, CA, USA",
                                        "Stanford University, Stanford, CA 94305, USA"]),
    ("Massachusetts Institute of Technology", "US", 28, [
        "Computer Science and Artificial Intelligence Laboratory, Massachusetts Institute of Technology, "
        "Cambridge, MA, USA", "MIT, Cambridge, MA 02139, USA"]),
    ("Carnegie Mellon University", "US", 26, ["Machine Learning Department, Carnegie Mellon University, "
                                              "Pittsburgh, PA, USA", "Carnegie Mellon University, Pittsburgh, USA"]),
    ("University of California, Berkeley", "US", 22, ["EECS Department, University of California, Berkeley, CA, USA",
                                                       "UC Berkeley, Berkeley, California"]),
    ("Google (United States)", "US", 20, ["Google Research, Mountain View, CA, USA", "Google, Mountain View, USA"]),
    ("Microsoft (United States)", "US", 16, ["Microsoft Research, Redmond, WA, USA"]),
    ("Meta (United States)", "US", 12, ["Meta AI, Menlo Park, CA, USA", "Facebook AI Research, New York, NY, USA"]),
    ("University of Washington", "US", 14, ["Paul G. Allen School of Computer Science & Engineering, "
                                            "University of Washington, Seattle, WA, USA"]),
    ("Georgia Institute of Technology", "US", 12, ["College of Computing, Georgia Institute of Technology, "
                                                   "Atlanta, GA, USA"]),
    ("University of Illinois Urbana-Champaign", "US", 14, [
        "Department of Computer Science, University of Illinois at Urbana-Champaign, Urbana, IL, USA"]),
    ("New York University", "US", 10, ["Courant Institute of Mathematical Sciences, New York University, "
                                       "New York, NY, USA"]),
    ("University of Michigan", "US", 10, ["University of Michigan, Ann Arbor, MI, USA"]),
    ("Harvard University", "US", 10, ["Harvard Medical School, Boston, MA, USA",
                                      "School of Engineering and Applied Sciences, Harvard University, Cambridge, MA"]),
    ("Mayo Clinic", "US", 6, ["Department of Radiology, Mayo Clinic, Rochester, MN, USA"]),
    ("Tsinghua University", "CN", 34, ["Department of Computer Science and Technology, Tsinghua University, "
                                       "Beijing 100084, China", "Tsinghua University, Beijing, China"]),
    ("Peking University", "CN", 26, ["School of Computer Science, Peking University, Beijing, China"]),
    ("Zhejiang University", "CN", 24, ["College of Computer Science and Technology, Zhejiang University, "
                                       "Hangzhou 310027, China"]),
    ("Shanghai Jiao Tong University", "CN", 22, ["Shanghai Jiao Tong University, Shanghai 200240, China"]),
    ("Chinese Academy of Sciences", "CN", 30, ["Institute of Automation, Chinese Academy of Sciences, Beijing, China",
                                               "Institute of Computing Technology, Chinese Academy of Sciences, "
                                               "Beijing 100190, P.R. China"]),
    ("University of Science and Technology of China", "CN", 18, [
        "University of Science and Technology of China, Hefei, Anhui, China"]),
    ("Fudan University", "CN", 14, ["School of Computer Science, Fudan University, Shanghai, China"]),
    ("Harbin Institute of Technology", "CN", 14, ["Harbin Institute of Technology, Harbin, China"]),
    ("Huazhong University of Science and Technology", "CN", 14, [
        "School of Artificial Intelligence and Automation, Huazhong University of Science and Technology, "
        "Wuhan, China"]),
    ("Alibaba Group (China)", "CN", 8, ["Alibaba Group, Hangzhou, China", "DAMO Academy, Alibaba Group, Hangzhou"]),
    ("Tencent (China)", "CN", 8, ["Tencent AI Lab, Shenzhen, China"]),
    ("Sun Yat-sen University", "CN", 12, ["School of Computer Science and Engineering, Sun Yat-sen University, "
                                          "Guangzhou, China"]),
    ("University of Oxford", "GB", 10, ["Department of Engineering Science, University of Oxford, Oxford, UK"]),
    ("University of Cambridge", "GB", 9, ["Department of Computer Science and Technology, University of Cambridge, "
                                          "Cambridge, United Kingdom"]),
    ("Google DeepMind", "GB", 8, ["Google DeepMind, London, UK", "DeepMind, London, United Kingdom"]),
    ("University College London", "GB", 7, ["University College London, London WC1E 6BT, UK"]),
    ("Imperial College London", "GB", 6, ["Imperial College London, London, United Kingdom"]),
    ("Technical University of Munich", "DE", 8, ["Technical University of Munich, Munich, Germany",
                                                 "TUM School of Computation, Information and Technology, Garching, "
                                                 "Germany"]),
    ("Max Planck Institute for Intelligent Systems", "DE", 5, [
        "Max Planck Institute for Intelligent Systems, Tübingen, Germany"]),
    ("University of Tübingen", "DE", 5, ["University of Tübingen, Tübingen, Germany"]),
    ("Inria", "FR", 8, ["Inria, Paris, France", "Inria Saclay, Palaiseau, France"]),
    ("École Normale Supérieure - PSL", "FR", 4, ["École Normale Supérieure, PSL University, Paris, France"]),
    ("ETH Zurich", "CH", 7, ["Department of Computer Science, ETH Zurich, Zurich, Switzerland"]),
    ("École Polytechnique Fédérale de Lausanne", "CH", 5, ["EPFL, Lausanne, Switzerland"]),
    ("University of Toronto", "CA", 8, ["Department of Computer Science, University of Toronto, Toronto, ON, Canada"]),
    ("Mila - Quebec Artificial Intelligence Institute", "CA", 5, ["Mila - Quebec AI Institute, Montréal, QC, Canada"]),
    ("McGill University", "CA", 4, ["McGill University, Montreal, Canada"]),
    ("The University of Tokyo", "JP", 9, ["University of Tokyo, Japan", "Graduate School of Information Science and "
                                          "Technology, The University of Tokyo, Tokyo, Japan"]),
    ("RIKEN Center for Advanced Intelligence Project", "JP", 4, [
        "RIKEN Center for Advanced Intelligence Project, Tokyo, Japan"]),
    ("Kyoto University", "JP", 4, ["Kyoto University, Kyoto, Japan"]),
    ("Korea Advanced Institute of Science and Technology", "KR", 8, ["School of Computing, KAIST, Daejeon, "
                                                                     "Republic of Korea"]),
    ("Seoul National University", "KR", 7, ["Seoul National University, Seoul, South Korea"]),
    ("Indian Institute of Technology Bombay", "IN", 6, ["Indian Institute of Technology Bombay, Mumbai, India"]),
    ("Indian Institute of Science Bangalore", "IN", 6, ["Indian Institute of Science, Bangalore, India"]),
    ("Indian Institute of Technology Delhi", "IN", 6, ["Department of Computer Science and Engineering, "
                                                       "IIT Delhi, New Delhi, India"]),
    ("National University of Singapore", "SG", 8, ["School of Computing, National University of Singapore, "
                                                   "Singapore"]),
    ("Nanyang Technological University", "SG", 7, ["Nanyang Technological University, Singapore 639798"]),
    ("The University of Sydney", "AU", 5, ["The University of Sydney, Sydney, NSW, Australia"]),
    ("Monash University", "AU", 5, ["Faculty of Information Technology, Monash University, Clayton, VIC, Australia"]),
    ("Politecnico di Milano", "IT", 4, ["Politecnico di Milano, Milan, Italy"]),
    ("Sapienza University of Rome", "IT", 4, ["Sapienza University of Rome, Rome, Italy"]),
    ("Universitat Politècnica de Catalunya", "ES", 4, ["Universitat Politècnica de Catalunya, Barcelona, Spain"]),
    ("University of Amsterdam", "NL", 5, ["Informatics Institute, University of Amsterdam, Amsterdam, "
                                          "The Netherlands"]),
    ("Technion – Israel Institute of Technology", "IL", 4, ["Technion - Israel Institute of Technology, Haifa, "
                                                            "Israel"]),
    ("Tel Aviv University", "IL", 3, ["Tel Aviv University, Tel Aviv, Israel"]),
    ("Universidade de São Paulo", "BR", 5, ["Universidade de São Paulo, São Paulo, Brazil"]),
    ("Sharif University of Technology", "IR", 4, ["Sharif University of Technology, Tehran, Iran"]),
    ("King Abdullah University of Science and Technology", "SA", 4, [
        "King Abdullah University of Science and Technology (KAUST), Thuwal, Saudi Arabia"]),
    ("National Taiwan University", "TW", 5, ["National Taiwan University, Taipei, Taiwan"]),
    ("Chinese University of Hong Kong", "HK", 6, ["The Chinese University of Hong Kong, Hong Kong"]),
    ("National University of Sciences and Technology", "PK", 3, ["National University of Sciences and Technology, "
                                                                 "Islamabad, Pakistan"]),
    ("Cairo University", "EG", 3, ["Faculty of Computers and Artificial Intelligence, Cairo University, Giza, "
                                   "Egypt"]),
]
INSTITUTION_CUM = _cumulative([w for _, _, w, _ in INSTITUTIONS])
BY_COUNTRY: dict[str, list[int]] = {}
for _n, (_name, _country, _w, _raw) in enumerate(INSTITUTIONS):
    BY_COUNTRY.setdefault(_country, []).append(_n)

NAMES = {  # (given names, family names) of a region
    "zh": (["Wei", "Jing", "Hao", "Xin", "Yu", "Lei", "Min", "Jun", "Yan", "Tao", "Li", "Chen", "Zhi", "Ying"],
           ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu"]),
    "ja": (["Haruto", "Yui", "Takeshi", "Akiko", "Kenji", "Naoko", "Ryo", "Sakura"],
           ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"]),
    "ko": (["Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Dong-hyun", "Soo-jin"],
           ["Kim", "Lee", "Park", "Choi", "Jung", "Kang"]),
    "in": (["Aarav", "Priya", "Rahul", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "Imran", "Ayesha"],
           ["Sharma", "Patel", "Gupta", "Singh", "Reddy", "Iyer", "Khan", "Das", "Nair", "Mehta"]),
    "me": (["Mohammed", "Fatima", "Ahmed", "Sara", "Omar", "Layla", "Reza", "Maryam"],
           ["Al-Sayed", "Hassan", "Rahimi", "Karimi", "Abdullah", "Mansour", "Haddad", "Farouk"]),
    "west": (["James", "Emma", "Lucas", "Sophie", "David", "Anna", "Thomas", "Laura", "Daniel", "Julia", "Michael",
              "Sarah", "Pierre", "Marta", "Jonas", "Olivia"],
             ["Smith", "Johnson", "Brown", "Miller", "Garcia", "Müller", "Schmidt", "Dubois", "Rossi", "Silva",
              "Cohen", "Taylor", "Anderson", "Martin", "Novak", "Jansen"]),
}
REGION = {"CN": "zh", "TW": "zh", "HK": "zh", "SG": "zh", "JP": "ja", "KR": "ko", "IN": "in", "PK": "in",
          "IR": "me", "SA": "me", "EG": "me"}
AUTHOR_CUM = _cumulative([8, 18, 24, 22, 16, 12])  # 1..6 authors
# (name, publisher, publisher id, DOI prefix, site): publisher ids invented (P9...), except Nature
# Portfolio's, P4310319908 as OpenAlex has it (the `natureml` scope filters on it)
JOURNALS = [
    ("IEEE Access", "IEEE", "P9000000001", "10.1109", "ieeexplore.ieee.org"),
    ("Neurocomputing", "Elsevier BV", "P9000000002", "10.1016", "www.sciencedirect.com"),
    ("Expert Systems with Applications", "Elsevier BV", "P9000000002", "10.1016", "www.sciencedirect.com"),
    ("Scientific Reports", "Nature Portfolio", "P4310319908", "10.1038", "www.nature.com"),
    ("Nature Machine Intelligence", "Nature Portfolio", "P4310319908", "10.1038", "www.nature.com"),
    ("Applied Sciences", "MDPI", "P9000000003", "10.3390", "www.mdpi.com"),
    ("Lecture Notes in Computer Science", "Springer Science+Business Media", "P9000000004", "10.1007",
     "link.springer.com"),
    ("Proceedings of the AAAI Conference on Artificial Intelligence", "Association for the Advancement of "
     "Artificial Intelligence", "P9000000005", "10.1609", "ojs.aaai.org"),
]
ARXIV = {"id": "https://openalex.org/S4306400194", "display_name": "arXiv (Cornell University)", "issn_l": None,
         "issn": None, "is_oa": True, "is_in_doaj": False, "type": "repository",
         "host_organization": "https://openalex.org/I205783295",
         "host_organization_name": "Cornell University", "host_organization_lineage": ["https://openalex.org/I205783295"]}


def mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of `x`."""
    x = (x + GOLDEN) & M64
    x = ((x ^ (x >> 30)) * MUL1) & M64
    x = ((x ^ (x >> 27)) * MUL2) & M64
    return x ^ (x >> 31)


class Rng:
    """A tiny deterministic generator (splitmix64) for the details of one work."""

    def __init__(self, state: int):
        self.state = state

    def next(self) -> int:
        self.state = (self.state + GOLDEN) & M64
        return mix(self.state)

    def below(self, n: int) -> int:
        return self.next() % n

    def chance(self, p: float) -> bool:
        return self.next() % 10_000 < p * 10_000

    def pick(self, seq):
        return seq[self.next() % len(seq)]

    def weighted(self, cum: list[int]) -> int:
        return bisect.bisect_right(cum, self.next() % cum[-1])




def _topic(code: int, n: int) -> dict:
    sid, name, fid, fname, did, dname, _ = SUBFIELDS[code]
    titles = TOPICS[sid]
    return {"id": f"https://openalex.org/T{10000 + code * 100 + n % len(titles)}", "display_name": titles[n % len(titles)],
            "score": 0.99, "subfield": {"id": f"https://openalex.org/subfields/{sid}", "display_name": name},
            "field": {"id": f"https://openalex.org/fields/{fid}", "display_name": fname},
            "domain": {"id": f"https://openalex.org/domains/{did}", "display_name": dname}}


def _institution(n: int) -> dict:
    name, country, _, _ = INSTITUTIONS[n]
    iid = f"https://openalex.org/I{900000000 + n}"
    return {"id": iid, "display_name": name, "ror": None, "country_code": country,
            "type": "company" if any(w in name for w in ("Google", "Microsoft", "Meta", "Alibaba", "Tencent"))
            else "education", "lineage": [iid]}


# Shared by every work that names them (works are serialised, never changed): built once.
INSTITUTION_OBJECTS = [_institution(n) for n in range(len(INSTITUTIONS))]
TOPIC_OBJECTS = {(code, n): _topic(code, n) for code in range(1, len(SUBFIELDS))
                 for n in range(len(TOPICS[SUBFIELDS[code][0]]))}


def _topic_of(code: int, rng: Rng) -> dict:
    return TOPIC_OBJECTS[code, rng.below(len(TOPICS[SUBFIELDS[code][0]]))]


def _authorships(rng: Rng, i: int) -> list[dict]:
    count = rng.weighted(AUTHOR_CUM) + 1
    home = rng.weighted(INSTITUTION_CUM)
    home_country = INSTITUTIONS[home][1]
    out = []
    for position in range(count):
        if position == 0 or rng.chance(0.55):
            first = home
        elif rng.chance(0.9):  # a colleague in the same country
            first = rng.pick(BY_COUNTRY[home_country])
        else:
            first = rng.weighted(INSTITUTION_CUM)
        places = [first]
        if rng.chance(0.08):  # a second affiliation, mostly in the same country
            other = rng.pick(BY_COUNTRY[INSTITUTIONS[first][1]]) if rng.chance(0.6) else rng.weighted(INSTITUTION_CUM)
            if other != first:
                places.append(other)
        given, family = NAMES[REGION.get(INSTITUTIONS[first][1], "west")]
        name = f"{rng.pick(given)} {rng.pick(INITIALS)}{rng.pick(family)}"
        raw = [rng.pick(INSTITUTIONS[p][3]) for p in places]
        institutions = [INSTITUTION_OBJECTS[p] for p in places]
        countries = list(dict.fromkeys(inst["country_code"] for inst in institutions))
        out.append({
            "author_position": "first" if position == 0 else "last" if position == count - 1 else "middle",
            "author": {"id": f"https://openalex.org/A{5000000000 + rng.below(10**9)}", "display_name": name,
                       "orcid": None},
            "institutions": institutions, "countries": countries,
            "is_corresponding": position == 0, "raw_author_name": name, "raw_affiliation_strings": raw,
            "affiliations": [{"raw_affiliation_string": r, "institution_ids": [inst["id"]]}
                             for r, inst in zip(raw, institutions)],
        })
    return out


SOURCES = [{"id": f"https://openalex.org/S{9100000000 + n}", "display_name": name, "issn_l": None, "issn": None,
            "is_oa": False, "is_in_doaj": False, "type": "conference" if "Proceedings" in name else "journal",
            "host_organization": f"https://openalex.org/{pid}", "host_organization_name": publisher,
            "host_organization_lineage": [f"https://openalex.org/{pid}"]}
           for n, (name, publisher, pid, _, _) in enumerate(JOURNALS)]


def _inverted(text: str) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for position, word in enumerate(text.split()):
        index.setdefault(word, []).append(position)
    return index


def build_work(works, i: int, rng: Rng) -> dict:
    """Work `i` of `works` (a GeneratedWorks: its year, and month, day, subfield and type of `i`)."""
    year, month, day = works.year, works.month(i), works.day(i)
    code, kind = works.subfield_code(i), TYPES[works.type_code(i)][0]
    wid = FIRST_ID + works.seed * 100_000_000 + i
    sid = SUBFIELDS[code][0] if code else "1702"
    task, method = rng.pick(TASKS[sid]), rng.pick(METHODS)
    setting = rng.pick(SETTINGS)  # with the words above, titles of two works seldom meet
    if kind == "review":
        title = f"{method} for {task} {setting}".strip() + ": A Survey"
    elif rng.chance(0.3):
        quality = rng.pick(["Robustness", "Generalization", "Efficiency", "Fairness"])
        title = f"On the {quality} of {method} in {task} {setting}".strip()
    else:
        title = f"{rng.pick(STARTS)} {method} for {task} {setting}".strip()
    primary = _topic_of(code, rng) if code else None
    topics = [primary] if primary else []
    if code != 1:
        topics.append(_topic_of(1, rng) | {"score": 0.9})  # every work has a topic in 1702
    if rng.chance(0.4):
        extra = rng.below(len(SUBFIELDS) - 1) + 1
        if extra not in (code, 1):
            topics.append(_topic_of(extra, rng) | {"score": 0.8})
    if kind == "preprint":
        arxiv = f"{year % 100:02d}{month:02d}.{i:05d}"
        doi = f"https://doi.org/10.48550/arxiv.{arxiv}"
        primary_location = {"is_oa": True, "landing_page_url": f"https://arxiv.org/abs/{arxiv}",
                            "pdf_url": f"https://arxiv.org/pdf/{arxiv}", "source": ARXIV, "license": None,
                            "version": "submittedVersion", "is_accepted": False, "is_published": False}
        best = primary_location
    else:
        journal = rng.below(len(JOURNALS))
        _, _, _, prefix, site = JOURNALS[journal]
        suffix = f"gen.{year}.{wid}"
        doi = f"https://doi.org/{prefix}/{suffix}"
        oa = rng.chance(0.35)
        source = SOURCES[journal]
        primary_location = {"is_oa": oa, "landing_page_url": doi, "pdf_url": f"https://{site}/pdf/{suffix}.pdf"
                            if oa else None, "source": source, "license": "cc-by" if oa else None,
                            "version": "publishedVersion", "is_accepted": True, "is_published": True}
        best = primary_location if oa else None
    authorships = _authorships(rng, i)
    abstract = None
    if rng.chance(0.6):
        abstract = _inverted(f"We study {task.lower()} with {method.lower()}. Our approach is evaluated on "
                             f"{2 + rng.below(5)} benchmarks and improves over strong baselines.")
    return {
        "id": f"https://openalex.org/W{wid}", "doi": doi, "title": title, "display_name": title,
        "publication_year": year, "publication_date": f"{year}-{month:02d}-{day:02d}",
        "ids": {"openalex": f"https://openalex.org/W{wid}", "doi": doi}, "language": "en", "type": kind,
        "primary_location": primary_location, "best_oa_location": best,
        "open_access": {"is_oa": best is not None, "oa_status": "green" if kind == "preprint" else
                        "gold" if best else "closed", "oa_url": best["pdf_url"] if best else None},
        "authorships": authorships,
        "countries_distinct_count": len({c for a in authorships for c in a["countries"]}),
        "institutions_distinct_count": len({x["id"] for a in authorships for x in a["institutions"]}),
        "primary_topic": primary, "topics": topics, "cited_by_count": rng.below(200),
        "abstract_inverted_index": abstract, "is_retracted": False, "is_paratext": False,
        "updated_date": f"{year + 4}-01-15T00:00:00", "created_date": f"{year}-{month:02d}-{day:02d}",
    }
