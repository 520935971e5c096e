"""Rule files are read through libyaml when available: same documents, the Python loader's error messages."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from hegui.detect.combo import parse_yaml
from hegui.detect.combo.rules import _load_yaml
from hegui.errors import InvalidInputError

SHIPPED = sorted((p for p in resources.files("hegui.detect.combo").joinpath("data").iterdir()
                  if p.name.endswith(".yaml")), key=lambda p: p.name)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_rule_files_read_the_same_as_with_the_python_loader(path: resources.abc.Traversable) -> None:
    text = path.read_text(encoding="utf-8")
    assert _load_yaml(text) == yaml.safe_load(text)


def test_invalid_yaml_reports_the_python_loaders_message_with_the_offending_line() -> None:
    with pytest.raises(InvalidInputError, match="but found") as err:
        parse_yaml("rules:\n  - id: x\n   bad\n", "bad.yaml")
    assert "- id: x" in str(err.value)  # the Python loader quotes the line; libyaml does not
