"""The README's table of environment variables names every variable the code reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _variables_read() -> set[str]:
    names = set()
    for path in [ROOT / "modelship" / "settings.py", *(ROOT / "labeling" / "engine").glob("*.py")]:
        text = path.read_text()
        names |= set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', text))
        names |= set(re.findall(r'os\.environ\.get\(\s*"(MODELSHIP_[A-Z0-9_]+)"', text))
    return names


def test_readme_documents_every_environment_variable():
    readme = (ROOT / "README.md").read_text()
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `"))
    missing = sorted(name for name in _variables_read() if f"`{name}`" not in table)
    assert missing == []


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text().splitlines()[:6]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)
