"""Sending the watch's alerts beyond the web app: by e-mail (SMTP) and by a signed webhook.

An alert is in the web app from the moment its transaction commits; these channels are
extra, so that nobody has to be looking at the page. :meth:`AlertDelivery.deliver` is called
after the watch's transaction has committed; each channel's outcome is kept on the alert
(``delivery``: ``{"web": "shown", "email": "sent to 2", "webhook": "failed: HTTP 502"}``)
and logged. A channel that fails never stops the watch: the failure is recorded, and the
alert still waits in the web app.

E-mail goes by the standard library's :mod:`smtplib` (STARTTLS and a login when set), one
plain-text message per alert. The webhook is a JSON POST with::

    X-Postguard-Timestamp: 1765000000
    X-Postguard-Signature: sha256=HEX

where ``HEX`` is HMAC-SHA256 of ``TIMESTAMP + "." + BODY`` under the shared secret (the
timestamp is signed, so a receiver can refuse an old request sent again).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import httpx

from postguard.errors import NotFoundError, ValidationError
from postguard.registry.service import Registry
from postguard.settings import Settings
from postguard.watch.alerts import get_alert, record_outcomes

__all__ = ["AlertDelivery", "EmailChannel", "WebhookChannel", "alert_link", "email_for", "sign"]

log = logging.getLogger("postguard.watch")

#: Seconds an SMTP server or webhook receiver may take before the channel counts as failed.
TIMEOUT = 10.0
#: The longest outcome kept on an alert (a server's error message may be long).
_OUTCOME_MAX = 300


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = ""
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    secret: str = field(repr=False)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Postguard-Signature`` of a webhook: ``sha256=`` HMAC-SHA256(secret, ts + "." + body)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def alert_link(public_url: str | None, alert_id: int) -> str:
    """The alert's page under the web app's public address ("" when the address is not set)."""
    return f"{public_url.rstrip('/')}/alerts/{alert_id}" if public_url else ""


def _one_line(text: str, size: int) -> str:
    """``text`` fit for a header: no line breaks or control characters, at most ``size``."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def _failed(exc: BaseException) -> str:
    why = str(exc) or type(exc).__name__
    return f"failed: {_one_line(why, _OUTCOME_MAX)}"


def _finding_lines(findings: Iterable[dict[str, Any]]) -> list[str]:
    lines = []
    for f in findings:
        words = f' "{_one_line(str(f["evidence"]), 120)}"' if f.get("evidence") else ""
        score = f" (score {f['score']})" if f.get("score") is not None else ""
        why = f": {_one_line(str(f['explanation']), 300)}" if f.get("explanation") else ""
        lines.append(f"  - {f.get('clause', '?')}{score}{words}{why}")
    return lines


def email_for(alert: dict[str, Any], channel: EmailChannel, public_url: str | None) -> EmailMessage:
    """The plain-text message for one alert (as :func:`postguard.watch.alerts.get_alert` gives it)."""
    post = alert.get("post") or {}
    message = EmailMessage()
    message["Subject"] = _one_line(
        f"[postguard] Alert {alert['id']}: {alert['title']}: {alert['summary']}", 200
    )
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(channel.sender)[1].rpartition("@")[2] or "postguard.invalid"
    message["Message-ID"] = make_msgid("postguard-alert", domain=domain)  # no look-up of this host's name
    lines = [
        f"postguard alert {alert['id']}: {alert['title']}",
        "",
        alert["summary"],
        "",
        f"Raised: {alert['created_at']} (UTC)",
    ]
    if post:
        lines += [
            f"Account: {post['platform']} {post['account']}",
            f"Post: {post['url'] or '(no address)'}",
            f"Posted: {post['posted_at']} (UTC)",
        ]
        if post.get("deleted_at"):
            lines.append(f"Deleted: {post['deleted_at']} (UTC)")
        text = str(post.get("text") or post.get("excerpt") or "")
        if text:
            lines += ["", "Text:", *(f"  {line}" for line in text.splitlines())]
    findings = alert.get("findings") or []
    lines += ["", "Findings:", *_finding_lines(findings)] if findings else ["", "Findings: none."]
    link = alert_link(public_url, int(alert["id"]))
    lines += [
        "",
        f"See and acknowledge it: {link}"
        if link
        else "See and acknowledge it on the Alerts page of postguard (or: postguard watch alerts).",
        "",
        "-- ",
        "Sent by postguard's watch. The alert waits in the web app until a reviewer or the "
        "Commissioner acknowledges it.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def webhook_body(alert: dict[str, Any], public_url: str | None) -> dict[str, Any]:
    """What the webhook receives for one alert."""
    post = alert.get("post")
    return {
        "event": "alert",
        "alert": {
            "id": alert["id"],
            "kind": alert["kind"],
            "title": alert["title"],
            "summary": alert["summary"],
            "created_at": alert["created_at"],
            "url": alert_link(public_url, int(alert["id"])) or None,
            "post": (
                {k: post.get(k) for k in ("platform", "account", "url", "excerpt", "posted_at", "deleted_at")}
                if post
                else None
            ),
            "findings": alert.get("findings") or [],
        },
    }


class AlertDelivery:
    """The channels alerts go out by, beyond the web app (none, e-mail, webhook or both)."""

    def __init__(
        self,
        *,
        email: EmailChannel | None = None,
        webhook: WebhookChannel | None = None,
        public_url: str | None = None,
        timeout: float = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if email is not None and not email.recipients:
            raise ValidationError(
                "Alert e-mail has an SMTP server but nobody to send to: set POSTGUARD_ALERT_EMAIL_TO "
                "(addresses separated by commas)."
            )
        if webhook is not None and not webhook.secret:
            raise ValidationError(
                "An alert webhook needs its secret: set POSTGUARD_ALERT_WEBHOOK_SECRET (alert webhooks "
                "are always signed)."
            )
        self.email, self.webhook, self.public_url = email, webhook, public_url
        self.timeout = timeout
        self.transport = transport  # tests hand in httpx.MockTransport

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.BaseTransport | None = None
    ) -> AlertDelivery:
        """The channels the settings name (``POSTGUARD_SMTP_*``, ``POSTGUARD_ALERT_*``)."""
        email = None
        if settings.smtp_host:
            email = EmailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username or None,
                password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                sender=settings.alert_email_from or f"postguard@{settings.smtp_host}",
                recipients=tuple(settings.alert_email_to),
            )
        webhook = None
        if settings.alert_webhook_url:
            secret = settings.alert_webhook_secret
            webhook = WebhookChannel(settings.alert_webhook_url, secret.get_secret_value() if secret else "")
        return cls(email=email, webhook=webhook, public_url=settings.public_url, transport=transport)

    @property
    def channels(self) -> list[str]:
        return ["web", *(["email"] if self.email else []), *(["webhook"] if self.webhook else [])]

    def deliver(self, registry: Registry, alert_ids: list[int]) -> dict[int, dict[str, str]]:
        """Send each alert by every channel set, and keep each outcome on it. Never raises for a
        channel that fails (or an alert that is not there): the outcome says so, and the log. An
        alert acknowledged already is not sent (nor in the answer)."""
        alerts: list[dict[str, Any]] = []
        for alert_id in alert_ids:
            try:
                alert = get_alert(registry, alert_id)
            except NotFoundError:
                log.error("alert %d is not in the database, so it was not sent", alert_id)
                continue
            if not alert["open"]:  # answered already (by someone watching the web app): nothing to send
                log.info("alert %d was acknowledged before it was sent, so it was not", alert_id)
                continue
            alerts.append(alert)
        outcomes: dict[int, dict[str, str]] = {int(a["id"]): {"web": "shown"} for a in alerts}
        if not alerts:
            return outcomes
        if self.email is not None:
            for alert_id, outcome in self._send_email(self.email, alerts).items():
                outcomes[alert_id]["email"] = outcome
        if self.webhook is not None:
            for alert_id, outcome in self._send_webhook(self.webhook, alerts).items():
                outcomes[alert_id]["webhook"] = outcome
        for alert_id, outcome_of in outcomes.items():
            for channel, outcome in outcome_of.items():
                if outcome.startswith("failed"):
                    log.error("alert %d: %s %s", alert_id, channel, outcome)
            try:
                record_outcomes(registry, alert_id, outcome_of)
            except Exception:  # the database hiccupped: the alert is there, only its outcome is not
                log.exception("alert %d: its delivery could not be kept (%s)", alert_id, outcome_of)
        return outcomes

    # The channels ---------------------------------------------------------------------------------

    def _send_email(self, channel: EmailChannel, alerts: list[dict[str, Any]]) -> dict[int, str]:
        """One connection, one message per alert; a connection that fails fails them all."""
        out: dict[int, str] = {}
        try:
            with smtplib.SMTP(channel.host, channel.port, timeout=self.timeout) as smtp:
                if channel.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if channel.username:
                    smtp.login(channel.username, channel.password or "")
                for alert in alerts:
                    alert_id = int(alert["id"])
                    try:
                        refused = smtp.send_message(email_for(alert, channel, self.public_url))
                    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, ValueError) as exc:
                        out[alert_id] = _failed(exc)  # this message was refused; the next may go
                        continue
                    except OSError as exc:  # SMTPServerDisconnected included: the connection is gone
                        out[alert_id] = _failed(exc)
                        break
                    sent = len(channel.recipients) - len(refused)
                    out[alert_id] = f"sent to {sent}" + (
                        f"; refused: {', '.join(sorted(refused))}" if refused else ""
                    )
        except OSError as exc:  # smtplib's errors are OSErrors: refused, timed out, TLS, login
            failure = _failed(exc)
            return {int(a["id"]): out.get(int(a["id"]), failure) for a in alerts}
        for alert in alerts:
            out.setdefault(int(alert["id"]), "failed: the SMTP connection closed before it was sent")
        return out

    def _send_webhook(self, channel: WebhookChannel, alerts: list[dict[str, Any]]) -> dict[int, str]:
        out: dict[int, str] = {}
        with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=False) as client:
            for alert in alerts:
                alert_id = int(alert["id"])
                body = json.dumps(
                    webhook_body(alert, self.public_url), ensure_ascii=False, separators=(",", ":")
                ).encode("utf-8")
                stamp = str(int(time.time()))
                try:
                    response = client.post(
                        channel.url,
                        content=body,
                        headers={
                            "Content-Type": "application/json",
                            "User-Agent": "postguard-watch",
                            "X-Postguard-Timestamp": stamp,
                            "X-Postguard-Signature": sign(channel.secret, stamp, body),
                        },
                    )
                except httpx.HTTPError as exc:
                    out[alert_id] = _failed(exc)
                    continue
                out[alert_id] = (
                    f"sent (HTTP {response.status_code})"
                    if response.is_success
                    else f"failed: HTTP {response.status_code}"
                )
        return out
