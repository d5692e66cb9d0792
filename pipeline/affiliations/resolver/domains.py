"""E-mail domain evidence (rule 6): a company lab's own domain (curated `lab_domains`), an
institution's domain (curated, then ROR domains and website hosts), the country-code TLD, then
`.edu`/`.gov`/`.mil` for the US. Web-mail providers and country-code TLDs sold for general use
say nothing about where the author is.
"""

from __future__ import annotations

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


class DomainRules:
    """E-mail domain rules, mixed into `Resolver`. Reads `ror` and `_inst_domain` (filled by
    `RegistryRules._build_institutions`); builds no table of its own."""

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
            code = TLD_FIXUPS.get(label, label.upper())
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
            return "US", "email:edu", None, None, domain
        if len(tld) == 2 and tld not in GENERIC_CCTLD:
            code = TLD_FIXUPS.get(tld, tld.upper())
            if pycountry.countries.get(alpha_2=code):
                return code, "email:cctld", None, None, domain
        return None
