"""Reference data: the ROR registry, the user's affiliation overrides and the term catalogue.

Unpartitioned, each reporting a data version (the dump's, the file's SHA-256): when one
changes, Dagster marks what reads it stale (every resolved_affiliations or paper_mentions
partition), so the lineage shows why a number will move. Re-materialising unchanged inputs
keeps the data version and stales nothing.
"""

from dagster import AssetExecutionContext, Definitions

from paperatlas.pipeline.affiliations import reference
from paperatlas.pipeline.affiliations.ror import INDEX_VERSION
from paperatlas.pipeline.mentions import steps as mentions
from paperatlas.resources.ror import OverridesFile, RorRegistry
from paperatlas.resources.terms import TermCatalogueFile
from paperatlas.resources.warehouse import WarehouseResource

from .common import materialize, stage_asset, step


@stage_asset(
    "reference", partitioned=False, code_version=f"ror-index-{INDEX_VERSION}", kinds={"json"},
    writes=("ror_registry", "ror_organizations"),
    description=(
        "The ROR registry of research organisations, from a v2 data dump (PAPERATLAS_ROR_DUMP): one "
        "row per organisation with names in every language, aliases, acronyms, web domains, country, "
        "city, types, status and relations (table ror_organizations). Also compiles the resolver's "
        "match index, cached by the dump's SHA-256."
    ),
)
def ror_registry(context: AssetExecutionContext, warehouse: WarehouseResource, ror: RorRegistry):
    return materialize(step(reference.ror_registry, warehouse.warehouse(), ror.locate, ror.index, ror.dump,
                            context.log.info))


@stage_asset(
    "reference", partitioned=False, code_version="1", kinds={"yaml"}, writes=("affiliation_overrides",),
    description=(
        "Your affiliation overrides (PAPERATLAS_OVERRIDES: rules with `match`, `contains` or "
        "`email_domain`, and the `country`), validated, as table affiliation_overrides. The resolver "
        "applies them before any other rule; editing the file stales the resolved affiliations."
    ),
)
def affiliation_overrides(context: AssetExecutionContext, warehouse: WarehouseResource, overrides: OverridesFile):
    return materialize(step(reference.affiliation_overrides, warehouse.warehouse(), overrides.path,
                            context.log.info))


@stage_asset(
    "reference", partitioned=False, code_version="1", kinds={"yaml"}, writes=("terms",),
    description=(
        "The term catalogue (PAPERATLAS_TERMS, else pipeline/data/terms.yaml): per model, "
        "architecture or library its id, family, kind, spellings, look-alike rules and the "
        "organisation that built it with its country. Table terms; editing the catalogue stales "
        "every paper_mentions partition."
    ),
)
def term_catalogue(context: AssetExecutionContext, terms: TermCatalogueFile, warehouse: WarehouseResource):
    return materialize(step(mentions.term_catalogue, warehouse.warehouse(), terms.file(), context.log.info))


defs = Definitions(assets=[ror_registry, affiliation_overrides, term_catalogue])
