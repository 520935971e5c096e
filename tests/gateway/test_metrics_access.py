"""``/metrics`` is for the metrics token or an admin/auditor key, unless ``gateway.metrics_public``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gwkit import Running, make_settings, running_gateway

from hegui.config import load_settings
from hegui.errors import ConfigError
from hegui.identity import accounts

TOKEN = "scrape-token-0123456789abcdef"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_gateway(make_settings(tmp_path_factory.mktemp("metrics"), metrics_token=TOKEN)) as r:
        yield r


def _get(gw: Running, bearer: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
    return httpx.get(gw.url + "/metrics", headers=headers, timeout=30)


def test_anonymous_scrape_is_401_in_the_openai_error_shape(gw: Running) -> None:
    r = _get(gw, None)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert "metrics_token" in r.json()["error"]["message"]


def test_the_metrics_token_reads_metrics(gw: Running) -> None:
    r = _get(gw, TOKEN)
    assert r.status_code == 200 and "hegui_requests_total" in r.text


def test_a_wrong_token_is_401(gw: Running) -> None:
    assert _get(gw, TOKEN[:-1] + "x").status_code == 401


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admin_and_auditor_keys_read_metrics(gw: Running, role: str) -> None:
    key = accounts.create_user(gw.ctx.db, f"metrics {role}", role=role).api_key
    assert _get(gw, key).status_code == 200


@pytest.mark.parametrize("role", ["user", "reviewer", "compliance"])
def test_other_roles_are_403(gw: Running, role: str) -> None:
    key = accounts.create_user(gw.ctx.db, f"metrics {role}", role=role).api_key
    r = _get(gw, key)
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_role"


def test_metrics_public_serves_without_credentials(tmp_path: Path) -> None:
    with running_gateway(make_settings(tmp_path, metrics_public=True)) as r:
        assert _get(r, None).status_code == 200


def test_without_a_token_only_role_keys_read_metrics(tmp_path: Path) -> None:
    with running_gateway(make_settings(tmp_path)) as r:
        assert _get(r, None).status_code == 401
        assert _get(r, r.user_key).status_code == 403
        assert _get(r, r.admin_key).status_code == 200


def test_a_short_metrics_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"'gateway\.metrics_token'.*at least 16"):
        load_settings(gateway={"metrics_token": "short"})
