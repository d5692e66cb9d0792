import pytest

from paperatlas.pipeline.partitions import PartitionKeyError, parse_partition_key
from paperatlas.pipeline.sources.paperlists import candidate_names
from paperatlas.pipeline.sources.plan import load_plan


def test_parse_valid_keys():
    pk = parse_partition_key("neurips-2018")
    assert (pk.venue, pk.year, pk.key) == ("neurips", 2018, "neurips-2018")
    assert parse_partition_key("ICML-2019").key == "icml-2019"


def test_paperlists_names_come_from_the_plan():
    plan = load_plan()
    neurips = parse_partition_key("neurips-2018")
    assert candidate_names(neurips, plan.venue("neurips").paperlists) == ["nips/nips2018.json", "nips2018.json"]
    # a venue the plan does not know still works: its paperlists name is the venue key
    other = parse_partition_key("foo-2023")
    assert candidate_names(other, plan.venue("foo").paperlists) == ["foo/foo2023.json", "foo2023.json"]


def test_nips_is_an_alias_of_neurips():
    assert parse_partition_key("nips-2016").key == "neurips-2016"


@pytest.mark.parametrize("bad", ["neurips2018", "neurips-18", "-2018", "neu rips-2018", "neurips-1800", "", "neurips-2018-x"])
def test_parse_rejects_bad_keys(bad):
    with pytest.raises(PartitionKeyError, match="venue-year"):
        parse_partition_key(bad)


def test_catalogue_covers_the_main_venues():
    keys = set(load_plan().catalogue_keys(until_year=2025))
    assert {f"neurips-{y}" for y in range(1987, 2026)} <= keys
    for key in ["icml-2019", "iclr-2024", "cvpr-2017", "iccv-2023", "acl-2022", "aaai-2022", "ijcai-2023"]:
        assert key in keys
    assert "iccv-2022" not in keys  # ICCV is held in odd years
    assert "iclr-2012" not in keys  # before the first edition


def test_refresh_month_picks_each_venue_after_its_conference():
    refresh_keys_for = load_plan().refresh_keys
    assert "neurips-2025" in refresh_keys_for(12, 2025)
    assert "icml-2025" not in refresh_keys_for(12, 2025)
    assert "icml-2025" in refresh_keys_for(8, 2025)
    assert refresh_keys_for(11, 2024).count("iccv-2024") == 0
