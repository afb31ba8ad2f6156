"""environment.yml (conda) and pyproject.toml (pip) must list the same packages and bounds."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}   # conda-forge's name -> PyPI's


def _requirement(text):
    name, bound = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", text).groups()
    return name.lower().replace("_", "-"), bound.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pip_side = dict(_requirement(r) for r in project["dependencies"] + extras["test"] + extras["notebooks"])
    conda_side = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        m = re.match(r"^  - ([A-Za-z][^:#]*)$", line)
        if m:
            name, bound = _requirement(m.group(1))
            conda_side[CONDA_NAMES.get(name, name)] = bound
    conda_side.pop("python"), conda_side.pop("pip")
    assert conda_side == pip_side
    assert "-e .[test,notebooks]" in (ROOT / "environment.yml").read_text()


def test_lower_bounds_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"]:
        assert ">=" in req and "==" not in req and "<" not in req.replace(">=", ""), req
