"""The layering contracts (import-linter, pyproject.toml) hold, and they do fail on a bad import: each
check below plants one in a copy of the code and expects the contract that forbids it to say so."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["modelship", "accounts", "projects", "billing", "labeling", "review", "exports", "analytics"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)})


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The packages and the contracts, copied: planted imports never touch the real tree."""
    root = tmp_path_factory.mktemp("layering")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_code_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "Contracts: 4 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(("module", "source", "contract"), [
    ("labeling/engine/planted.py", "import django.db\n",
     "The ML engine is plain Python: no Django, no Celery, no app BROKEN"),
    ("labeling/engine/planted.py", "from labeling import models\n",
     "The ML engine is plain Python: no Django, no Celery, no app BROKEN"),
    ("projects/planted.py", "from labeling.models import Item\n", "Apps import only downwards BROKEN"),
    ("accounts/planted.py", "import review.services\n", "Apps import only downwards BROKEN"),
    ("labeling/items/planted.py", "from labeling.inference import jobs\n",
     "Inside labeling: items < inference < learning, active learning beside learning BROKEN"),
    ("labeling/learning/planted.py", "from labeling.active_learning import services\n",
     "Inside labeling: items < inference < learning, active learning beside learning BROKEN"),
    ("review/planted.py", "def later():\n    from review import api\n",
     "No import cycles between the modules of an app BROKEN"),
])
def test_a_planted_import_breaks_its_contract_and_removing_it_mends_it(copy, module, source, contract):
    planted = copy / module
    planted.write_text(source)
    if module.startswith("review/"):  # a cycle needs both directions: review.api already imports review.services
        (copy / "review" / "services.py").write_text((ROOT / "review" / "services.py").read_text()
                                                      + "\nfrom review import planted  # noqa\n")
    try:
        broken = lint_imports(copy)
        assert broken.returncode == 1, broken.stdout[-4000:]
        assert contract in broken.stdout  # an upward import is often a cycle too: other contracts may also say so
    finally:
        planted.unlink()
        shutil.copy(ROOT / "review" / "services.py", copy / "review" / "services.py")
    mended = lint_imports(copy)
    assert mended.returncode == 0, mended.stdout[-4000:]
