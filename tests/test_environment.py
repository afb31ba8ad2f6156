"""environment.yml (conda) and pyproject.toml (pip) must list the same packages and bounds; the
sdist (MANIFEST.in) must hold what its tests and notebooks need."""
import fnmatch
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


# What a user of the sdist needs to run the tests and the notebooks; scripts/sdist_smoke.sh runs
# this file from the unpacked sdist, where the existence checks below check the sdist itself.
SDIST_FILES = ["README.md", "LICENSE", "ARCHITECTURE.md", "Makefile", "environment.yml", "pyproject.toml"]
SDIST_FOLDERS = ["spanbert_edu", "tests", "notebooks", "scripts", "results", "benchmarks", "docs", "figures"]
SDIST_ALSO = ["tests/conftest.py", "notebooks/src", "notebooks/jupytext.toml",
              *(f"spanbert_edu/assets/spanbert-small/{f}" for f in ("config.json", "model.safetensors", "vocab.txt"))]


def test_the_sdist_manifest_lists_what_the_tests_and_notebooks_need():
    # setuptools alone shipped spanbert_edu/ and tests/test_*.py: no conftest.py, notebooks,
    # Makefile or environment.yml, so the sdist's own tests failed
    rules = [line.split() for line in (ROOT / "MANIFEST.in").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    listed = lambda command: {path for rule in rules if rule[0] == command for path in rule[1:]}
    assert set(SDIST_FILES) - listed("include") == set() and set(SDIST_FOLDERS) - listed("graft") == set()
    required = SDIST_FILES + SDIST_FOLDERS + SDIST_ALSO
    prefixes = {"/".join(Path(p).parts[:k]) for p in required for k in range(1, len(Path(p).parts) + 1)}
    removers = [p for rule in rules if rule[0] in ("exclude", "prune", "global-exclude")
                for p in rule[1:]]
    assert not [(p, r) for p in prefixes for r in removers if fnmatch.fnmatch(p, r) or Path(p).name == r]
    assert [p for p in required if not (ROOT / p).exists()] == []
    assert list((ROOT / "notebooks").glob("*.ipynb")) and list((ROOT / "notebooks" / "src").glob("*.py"))
