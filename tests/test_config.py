from __future__ import annotations

from pathlib import Path

import pytest

from hegui.config import load_settings
from hegui.errors import ConfigError


def test_defaults_need_no_file() -> None:
    s = load_settings()
    assert s.effective_database_url.startswith("sqlite:///") and s.effective_database_url.endswith(".hegui/hegui.db")
    assert s.policy_pack == "cn-genai" and s.redis_url is None


def test_yaml_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "hegui.yaml").write_text("gateway:\n  port: 9001\nredis_url: redis://127.0.0.1:6379/0\n")
    s = load_settings()
    assert s.gateway.port == 9001 and s.redis_url == "redis://127.0.0.1:6379/0"


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hegui.yaml").write_text("gateway:\n  port: 9001\n")
    monkeypatch.setenv("HEGUI_GATEWAY__PORT", "9002")
    monkeypatch.setenv("HEGUI_DATABASE_URL", "postgresql://u@h/db")
    s = load_settings()
    assert s.gateway.port == 9002
    assert s.database_url == "postgresql+psycopg://u@h/db"


def test_wrong_type_names_key_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEGUI_GATEWAY__PORT", "eighty")
    with pytest.raises(ConfigError, match=r"'gateway.port'.*HEGUI_GATEWAY__PORT.*valid integer"):
        load_settings()


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "hegui.yaml").write_text("databse_url: sqlite:///x.db\n")
    with pytest.raises(ConfigError, match=r"'databse_url'.*unknown setting"):
        load_settings()


def test_bad_database_scheme(tmp_path: Path) -> None:
    (tmp_path / "hegui.yaml").write_text("database_url: mysql://x/y\n")
    with pytest.raises(ConfigError, match=r"'database_url'.*postgresql"):
        load_settings()


def test_upstream_url_must_be_http(tmp_path: Path) -> None:
    (tmp_path / "hegui.yaml").write_text("upstreams:\n  - name: a\n    base_url: ftp://x\n")
    with pytest.raises(ConfigError, match=r"upstreams.0.base_url"):
        load_settings()


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.yaml")


def test_invalid_yaml(tmp_path: Path) -> None:
    (tmp_path / "hegui.yaml").write_text("a: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings()


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    (tmp_path / "hegui.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings()
