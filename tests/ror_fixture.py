"""A small ROR registry in the official v2 dump format (zip holding one JSON array), written
for the tests from a compact table of facts about real organisations."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

# (ROR id, display name, aliases, acronyms, domains, website, country, country name, city,
#  GeoNames id, types, status)
ORGS = [
    ("042nb2s44", "Massachusetts Institute of Technology", [], ["MIT"], ["mit.edu"], "https://web.mit.edu",
     "US", "United States", "Cambridge", 4931972, ["education", "funder"], "active"),
    ("00f54p054", "Stanford University", ["Leland Stanford Junior University"], [], ["stanford.edu"],
     "https://www.stanford.edu", "US", "United States", "Stanford", 5398563, ["education"], "active"),
    ("05x2bcf33", "Carnegie Mellon University", [], ["CMU"], ["cmu.edu"], "https://www.cmu.edu",
     "US", "United States", "Pittsburgh", 5206379, ["education"], "active"),
    ("03cve4549", "Tsinghua University", [], ["THU"], ["tsinghua.edu.cn"], "https://www.tsinghua.edu.cn",
     "CN", "China", "Beijing", 1816670, ["education", "funder"], "active"),
    ("02v51f717", "Peking University", [], ["PKU"], ["pku.edu.cn"], "https://www.pku.edu.cn",
     "CN", "China", "Beijing", 1816670, ["education"], "active"),
    ("05apxxy63", "Korea Advanced Institute of Science and Technology", [], ["KAIST"], ["kaist.ac.kr"],
     "https://www.kaist.ac.kr", "KR", "South Korea", "Daejeon", 1835235, ["education"], "active"),
    ("04h9pn542", "Seoul National University", [], ["SNU"], ["snu.ac.kr"], "https://www.snu.ac.kr",
     "KR", "South Korea", "Seoul", 1835848, ["education"], "active"),
    ("012a77v79", "Lund University", ["Lunds universitet"], [], ["lu.se"], "https://www.lunduniversity.lu.se",
     "SE", "Sweden", "Lund", 2693678, ["education"], "active"),
    ("052gg0110", "University of Oxford", ["Oxford University"], [], ["ox.ac.uk"], "https://www.ox.ac.uk",
     "GB", "United Kingdom", "Oxford", 2640729, ["education"], "active"),
    ("05a28rw58", "ETH Zurich", ["Swiss Federal Institute of Technology in Zurich"], ["ETHZ"], ["ethz.ch"],
     "https://ethz.ch", "CH", "Switzerland", "Zurich", 2657896, ["education"], "active"),
    ("03dbr7087", "University of Toronto", [], ["U of T"], ["utoronto.ca"], "https://www.utoronto.ca",
     "CA", "Canada", "Toronto", 6167865, ["education"], "active"),
    ("02kvxyf05", "Institut national de recherche en informatique et en automatique", ["Inria"], [],
     ["inria.fr"], "https://www.inria.fr", "FR", "France", "Le Chesnay-Rocquencourt", 2988507,
     ["government"], "active"),
    ("00njsd438", "Google (United States)", ["Google Research"], [], ["google.com"], "https://www.google.com",
     "US", "United States", "Mountain View", 5375480, ["company"], "active"),
    ("04d06q394", "Google (Switzerland)", [], [], [], "https://www.google.ch",
     "CH", "Switzerland", "Zurich", 2657896, ["company"], "active"),
    ("03awzbc87", "Northeastern University", [], ["NEU"], ["neu.edu.cn"], "http://www.neu.edu.cn",
     "CN", "China", "Shenyang", 2034937, ["education"], "active"),
    ("04t5xt781", "Northeastern University", [], [], ["northeastern.edu"], "https://www.northeastern.edu",
     "US", "United States", "Boston", 4930956, ["education"], "active"),
    ("04drvxt59", "Beth Israel Deaconess Medical Center", [], ["BIDMC"], ["bidmc.org"], "https://www.bidmc.org",
     "US", "United States", "Boston", 4930956, ["healthcare"], "active"),
    ("0000test0", "Withdrawn Test Record University", [], [], [], None,
     "US", "United States", "Boston", 4930956, ["education"], "withdrawn"),
]

# Organisations of the institution tests (tests/test_resolver_institutions.py), as the registry
# holds them (names, acronyms, places and relationships of the real records).
INSTITUTION_ORGS = [
    ("00afsp483", "United States Army", [], ["USA"], [], None, "US", "United States", "Arlington", 4744709,
     ["funder", "government"], "active"),
    ("035w1gb98", "United States Department of the Army", [], [], [], None, "US", "United States", "Washington",
     4140963, ["government"], "active"),
    ("044sx9203", "Ville de Sherbrooke", ["Sherbrooke"], [], ["sherbrooke.ca"], "https://www.sherbrooke.ca",
     "CA", "Canada", "Sherbrooke", 6146143, ["government"], "active"),
    ("00kybxq39", "Université de Sherbrooke", ["Sherbrooke University"], ["UdeS"], ["usherbrooke.ca"],
     "https://www.usherbrooke.ca", "CA", "Canada", "Sherbrooke", 6146143, ["education", "funder"], "active"),
    ("04xrjem68", "Institute of Virology of the Slovak Academy of Sciences", ["Institute of Virology",
     "Institute of Virology SAS"], [], [], None, "SK", "Slovakia", "Bratislava", 3060972, ["facility"], "active"),
    ("02s3ds748", "Biomedical Research Center of the Slovak Academy of Sciences", [], ["BMC SAS"], [], None,
     "SK", "Slovakia", "Bratislava", 3060972, ["facility"], "active"),
    ("03h7qq074", "Slovak Academy of Sciences", ["Slovenská akadémia vied"], ["SAS"], ["sav.sk"],
     "https://www.sav.sk", "SK", "Slovakia", "Bratislava", 3060972, ["government"], "active"),
    ("02kkvpp62", "Technical University of Munich", ["Technische Universität München"], ["TUM"], ["tum.de"],
     "https://www.tum.de", "DE", "Germany", "Munich", 2867714, ["education", "funder"], "active"),
    ("01sjwvz98", "RIKEN", ["Institute of Physical and Chemical Research"], [], ["riken.jp"],
     "https://www.riken.jp", "JP", "Japan", "Wako", 1907300, ["facility", "funder"], "active"),
    ("030vbmf58", "RIKEN Advanced Science Institute", [], ["ASI"], [], None, "JP", "Japan", "Wako", 1907300,
     ["facility"], "active"),
    ("0490dah44", "Epigenomics (Germany)", [], [], ["epigenomics.com"], "https://www.epigenomics.com",
     "DE", "Germany", "Berlin", 2950159, ["company"], "active"),
]
# (child, parent): ROR `relationships` of type parent (and child on the other side).
INSTITUTION_RELATIONS = [
    ("00afsp483", "035w1gb98"),
    ("04xrjem68", "02s3ds748"),
    ("02s3ds748", "03h7qq074"),
    ("030vbmf58", "01sjwvz98"),
]


def record(row) -> dict:
    (rid, name, aliases, acronyms, domains, website, cc, cname, city, geonames, types, status) = row
    names = [{"lang": "en", "types": ["label", "ror_display"], "value": name}]
    names += [{"lang": None, "types": ["alias"], "value": a} for a in aliases]
    names += [{"lang": None, "types": ["acronym"], "value": a} for a in acronyms]
    return {
        "admin": {"created": {"date": "2020-01-01", "schema_version": "1.0"},
                  "last_modified": {"date": "2025-01-01", "schema_version": "2.1"}},
        "domains": domains,
        "established": None,
        "external_ids": [],
        "id": f"https://ror.org/{rid}",
        "links": [{"type": "website", "value": website}] if website else [],
        "locations": [{"geonames_details": {
            "continent_code": None, "continent_name": None, "country_code": cc, "country_name": cname,
            "country_subdivision_code": None, "country_subdivision_name": None,
            "lat": 0.0, "lng": 0.0, "name": city}, "geonames_id": geonames}],
        "names": names,
        "relationships": [],
        "status": status,
        "types": types,
    }


def write_dump(path: Path, rows=ORGS, member: str = "v2.0-2025-01-01-ror-data.json", relations=()) -> Path:
    """`relations`: (child id, parent id) pairs, written on both records as ROR does (types
    `parent` and `child`)."""
    records = [record(r) for r in rows]
    by_id = {r["id"]: r for r in records}
    names = {r["id"]: next(n["value"] for n in r["names"] if "ror_display" in n["types"]) for r in records}
    for child, parent in relations:
        child, parent = f"https://ror.org/{child}", f"https://ror.org/{parent}"
        if child in by_id:
            by_id[child]["relationships"].append({"label": names.get(parent, parent), "type": "parent", "id": parent})
        if parent in by_id:
            by_id[parent]["relationships"].append({"label": names.get(child, child), "type": "child", "id": child})
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, json.dumps(records, indent=4))
    return path
