"""The affiliation stage: each author's affiliation rows (`rows`), the PDF's and the metadata's
reconciled (`reconcile`), and each string resolved to an institution and a country (`resolver`,
with the ROR registry, the gazetteer, name normalisation and the user's overrides)."""
