"""Clients of the delivery providers: SendGrid and Slack, or the local outbox when no key is set."""

from __future__ import annotations

from partnerflow.config import Settings
from partnerflow.providers.email import EmailBackend, LocalOutboxEmailBackend, SendGridBackend
from partnerflow.providers.slack import LocalOutboxSlackBackend, SlackBackend, SlackWebBackend


def email_backend(settings: Settings) -> EmailBackend:
    """SendGrid when an API key is configured, else the local outbox folder."""
    if settings.sendgrid_api_key:
        return SendGridBackend(settings.sendgrid_api_key.get_secret_value(), settings.sendgrid_host)
    return LocalOutboxEmailBackend(settings.outbox_dir)


def slack_backend(settings: Settings) -> SlackBackend:
    """Slack when a bot token is configured, else the local outbox folder."""
    if settings.slack_bot_token:
        return SlackWebBackend(settings.slack_bot_token.get_secret_value(), settings.slack_base_url)
    return LocalOutboxSlackBackend(settings.outbox_dir)
