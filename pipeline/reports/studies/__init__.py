"""Studies: published analyses written as YAML (model.py), their claims computed on the store
(scope.py, evaluate.py, compare.py) and rendered (render.py). docs/studies.md."""
