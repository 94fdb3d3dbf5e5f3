"""`make install` hands uv the package sources pip is configured with."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from pip_sources import sources  # noqa: E402


def test_pip_config_becomes_uv_arguments_once_each():
    config = "\n".join([
        ":env:.find-links='/opt/wheels'",
        ":env:.default-timeout='180'",
        "global.extra-index-url='file:///opt/a/simple file:///opt/b/simple'",
        "global.find-links='/opt/wheels'",
        "global.constraint='/etc/xdg/pip/constraints.txt'",
    ])
    assert sources(config) == ["--find-links", "/opt/wheels", "--extra-index-url", "file:///opt/a/simple",
                               "--extra-index-url", "file:///opt/b/simple", "--index-strategy", "unsafe-best-match"]


def test_no_configuration_means_uv_defaults():
    assert sources("") == []
    assert sources("global.index-url='https://mirror.example/simple'") == ["--index-url", "https://mirror.example/simple"]
