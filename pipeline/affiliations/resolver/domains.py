"""E-mail domain evidence (rule 6): a company lab's own domain (curated `lab_domains`), an
institution's domain (curated, then ROR domains and website hosts), the country-code TLD, then
`.edu`/`.gov`/`.mil` for the US. Web-mail providers and country-code TLDs sold for general use
say nothing about where the author is.

A `.edu`, `.gov` or `.mil` domain that no registry or curated table confirms is weak evidence:
sources truncate `sustech.edu.cn` to `sustech.edu`. It still reads as the US, at the rule's low
confidence, and the countries where the registry holds the same name under a country code
(`sustech.edu.cn`: CN) are its alternatives, so the row is uncertain and the interval holds
both readings (`reserved_alternatives`). On a paper that prints the same name with a country
code for another author, the country decision follows that (pipeline/countries/decision.py).
"""

from __future__ import annotations

import functools
import re

import pycountry

from .base import Institution

WEBMAIL = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "protonmail.com",
    "proton.me", "pm.me", "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "zoho.com",
    "yandex.com", "yandex.ru", "mail.ru", "qq.com", "foxmail.com", "163.com", "126.com",
    "yeah.net", "sina.com", "sina.cn", "sohu.com", "aliyun.com", "139.com", "naver.com",
    "hanmail.net", "daum.net", "rediffmail.com", "fastmail.com", "tutanota.com", "hey.com",
    "yahoo.co.jp", "yahoo.co.in", "yahoo.co.uk", "hotmail.co.uk", "outlook.jp", "orange.fr",
    "free.fr", "laposte.net", "libero.it", "seznam.cz", "wp.pl", "o2.pl", "inbox.ru",
    "example.com", "example.org", "example.edu", "acm.org", "ieee.org", "alumni.stanford.edu",
}
# Country-code TLDs sold for general use: they say nothing about where the owner is.
GENERIC_CCTLD = {"io", "ai", "co", "me", "tv", "ly", "cc", "ws", "fm", "gg", "to", "sh", "ac", "so", "la", "nu",
                 "tk", "ml", "ga", "cf", "gq", "vc", "am", "im", "su", "eu"}
TLD_FIXUPS = {"uk": "GB"}
US_TLDS = {"edu", "gov", "mil"}
EDU_METHOD = "email:edu"  # the rule of an unconfirmed .edu/.gov/.mil domain


def tld_country(label: str) -> str:
    """The ISO code a country-code label stands for ("de" -> "DE", "uk" -> "GB")."""
    return TLD_FIXUPS.get(label, label.upper())
# A domain under a reserved US TLD followed by a country code: "sustech.edu.cn", "nic.gov.in".
RESERVED_UNDER_CC = re.compile(r"(?:^|\.)([a-z0-9-]+\.(?:edu|gov|mil))\.([a-z]{2})$")


def reserved_stem(domain: str | None) -> tuple[str, str | None] | None:
    """("sustech.edu", "cn") for "mail.sustech.edu.cn", ("suda.edu", None) for "stu.suda.edu":
    the registrable name under a reserved US TLD, and the country code after it if any."""
    if not domain:
        return None
    domain = domain.strip().lower().strip(".")
    m = RESERVED_UNDER_CC.search(domain)
    if m:
        return m.group(1), m.group(2)
    labels = domain.split(".")
    if len(labels) >= 2 and labels[-1] in US_TLDS:
        return ".".join(labels[-2:]), None
    return None


class DomainRules:
    """E-mail domain rules, mixed into `Resolver`. Reads `ror` and `_inst_domain` (filled by
    `RegistryRules._build_institutions`); builds no table of its own."""

    @functools.cached_property
    def _reserved_stems(self) -> dict[str, frozenset[str]]:
        """Registrable names under a reserved US TLD that the registry or the curated table
        holds with a country code after them ("sustech.edu" -> {"CN"}), built on first use."""
        found: dict[str, set[str]] = {}
        domains = list(self._inst_domain)
        if self.ror is not None:
            domains.extend(self.ror.by_domain)
        for domain in domains:
            parsed = reserved_stem(domain)
            if parsed and parsed[1] and parsed[1] not in GENERIC_CCTLD:
                found.setdefault(parsed[0], set()).add(tld_country(parsed[1]))
        return {k: frozenset(v) for k, v in found.items()}

    def reserved_alternatives(self, domain: str | None) -> set[str]:
        """Countries an unconfirmed `.edu`/`.gov`/`.mil` domain may have been cut from."""
        parsed = reserved_stem(self._clean_domain(domain))
        if not parsed or parsed[1]:
            return set()
        return set(self._reserved_stems.get(parsed[0], ())) - {"US"}

    def domain_institution(self, domain: str) -> tuple[Institution | None, str | None]:
        """The curated institution owning `domain` or a parent domain (cs.mit.edu -> mit.edu)."""
        labels = domain.strip().lower().strip(".").split(".")
        for i in range(len(labels) - 1):
            suffix = ".".join(labels[i:])
            if suffix in self._inst_domain:
                return self._inst_domain[suffix], suffix
        return None, None

    @staticmethod
    def lab_domain(inst: Institution, domain: str, suffix: str) -> str | None:
        """The country of a multinational's lab that an address of the company names: a lab
        domain of the curated table (msra.cn), a country-code label before the company's
        domain (il.ibm.com, zurich.ibm.com is curated), or the company's country-code domain
        (amazon.de). Only countries where the company has its headquarters or a lab count."""
        admissible = {inst.country, *inst.labs}
        labs = dict(inst.lab_domains)
        labels = domain.split(".")
        for i in range(len(labels) - 1):
            country = labs.get(".".join(labels[i:]))
            if country:
                return country
        head = labels[: len(labels) - len(suffix.split("."))]
        for label in [*head[-1:], suffix.rsplit(".", 1)[-1]]:
            code = tld_country(label)
            if len(label) == 2 and label not in GENERIC_CCTLD and code in admissible:
                return code
        return None

    @staticmethod
    def _clean_domain(domain: str | None) -> str | None:
        if not domain:
            return None
        domain = domain.strip().lower().strip(".")
        if "@" in domain:
            domain = domain.rsplit("@", 1)[1]
        return domain or None

    def domain_evidence(self, domain: str | None) -> tuple[str, str, str | None, str | None, str] | None:
        """(country, method, institution name, institution id, evidence) from an e-mail domain."""
        domain = self._clean_domain(domain)
        if not domain or domain in WEBMAIL:
            return None
        inst, suffix = self.domain_institution(domain)
        if inst and not inst.hq:
            return inst.country, "email:institution", inst.name, inst.id, suffix
        if inst:  # a multinational's domain says where only when it is a lab's own
            lab = self.lab_domain(inst, domain, suffix)
            return (lab, "email:lab", inst.name, inst.id, domain) if lab else None
        if self.ror is not None:
            orgs, suffix = self.ror.orgs_for_domain(domain)
            countries = {self.ror.countries[o] for o in orgs} - {None}
            if len(countries) == 1:
                org = orgs[0]
                return countries.pop(), "email:institution", self.ror.names[org], self.ror.ids[org], suffix
        tld = domain.rsplit(".", 1)[-1]
        if tld in US_TLDS:
            return "US", EDU_METHOD, None, None, domain
        if len(tld) == 2 and tld not in GENERIC_CCTLD:
            code = tld_country(tld)
            if pycountry.countries.get(alpha_2=code):
                return code, "email:cctld", None, None, domain
        return None
