"""paperatlas: where machine-learning research comes from, and who works with whom.

One import root over the repository's folders (pyproject.toml maps them):

- `paperatlas.pipeline` (`pipeline/`): the domain code, stage by stage, with no Dagster;
- `paperatlas.assets` (`assets/`): thin Dagster assets, checks, jobs, schedules and sensors;
- `paperatlas.resources` (`resources/`): one Dagster resource per external system;
- `paperatlas.definitions` and `paperatlas.cli` (this folder): the composition layer, which
  puts the three together for Dagster and for the `paperatlas` command.
"""

__version__ = "0.1.0"
