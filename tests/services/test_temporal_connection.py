"""connect(): mTLS files and the API key reach the SDK for a Temporal cluster or Temporal Cloud."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.service import TLSConfig

from partnerflow.observability.tracing import temporal_interceptors
from partnerflow.services import temporal
from partnerflow.services.temporal import connect, tls_config


def pem(path: Path, label: str) -> Path:
    path.write_text(f"-----BEGIN {label}-----\nMIIB\n-----END {label}-----\n")
    return path


def test_no_tls_settings_leave_tls_to_the_sdk(tmp_path: Path) -> None:
    assert tls_config(make_settings(tmp_path)) is None


def test_client_certificate_and_ca_are_read_from_pem_files(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        temporal_tls_cert=pem(tmp_path / "client.pem", "CERTIFICATE"),
        temporal_tls_key=pem(tmp_path / "client.key", "PRIVATE KEY"),
        temporal_tls_ca=pem(tmp_path / "ca.pem", "CERTIFICATE"),
        temporal_tls_server_name="temporal.internal",
    )
    config = tls_config(settings)
    assert isinstance(config, TLSConfig)
    assert config.client_cert == (tmp_path / "client.pem").read_bytes()
    assert config.client_private_key == (tmp_path / "client.key").read_bytes()
    assert config.server_root_ca_cert == (tmp_path / "ca.pem").read_bytes()
    assert config.domain == "temporal.internal"


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, temporal_tls_cert=pem(tmp_path / "client.pem", "CERTIFICATE"))
    with pytest.raises(ValueError, match="together"):
        tls_config(settings)


async def test_cloud_api_key_runtime_and_interceptors_are_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    async def fake_connect(target: str, **kwargs: Any) -> str:
        seen.update(kwargs, target=target)
        return "client"

    monkeypatch.setattr(temporal.Client, "connect", fake_connect)
    settings = make_settings(
        tmp_path,
        temporal_address="ns.acct.tmprl.cloud:7233",
        temporal_namespace="ns.acct",
        temporal_api_key=SecretStr("cloud-key"),
    )
    from opentelemetry.sdk.trace import TracerProvider

    interceptors = temporal_interceptors(TracerProvider())
    assert await connect(settings, interceptors=interceptors) == "client"
    assert seen["target"] == "ns.acct.tmprl.cloud:7233" and seen["namespace"] == "ns.acct"
    assert seen["api_key"] == "cloud-key" and seen["tls"] is None  # the SDK turns TLS on with a key
    assert seen["interceptors"] == interceptors and seen["runtime"] is None
    assert "cloud-key" in settings.secret_values  # and it is masked in logs
    assert Client.connect is fake_connect
