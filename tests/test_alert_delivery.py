"""Alerts beyond the web app (issue 14): e-mail to a local SMTP server (aiosmtpd), a signed webhook
(httpx's MockTransport), and channels that fail, which are recorded and never raised."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import World, free_port
from postguard.errors import ValidationError
from postguard.settings import Settings
from postguard.watch.alerts import acknowledge, get_alert
from postguard.watch.deliver import AlertDelivery, EmailChannel, WebhookChannel, sign
from test_alerts import TEXT, raised

SECRET = "webhook-test-secret"


class Inbox:
    """An aiosmtpd handler that keeps what it is sent, and refuses mail for nobody@."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK: queued"


def _smtp(**extra: Any) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **extra)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    yield from _smtp()


def _login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"watch",
        b"mail-password",
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_with_login() -> Iterator[tuple[Inbox, int]]:
    yield from _smtp(authenticator=_login, auth_required=True, auth_require_tls=False)


def _email(port: int, *to: str, **extra: Any) -> EmailChannel:
    return EmailChannel(
        host="127.0.0.1", port=port, sender="postguard@police.example", recipients=to, **extra
    )


# E-mail -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_alert_is_mailed_to_each_recipient(world: World, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    alert_id = raised(world)
    delivery = AlertDelivery(
        email=_email(port, "reviewers@police.example", "commissioner@police.example"),
        public_url="https://postguard.police.example/",
    )
    outcomes = delivery.deliver(world.registry, [alert_id])
    assert outcomes == {alert_id: {"web": "shown", "email": "sent to 2"}}
    assert get_alert(world.registry, alert_id)["delivery"] == {"web": "shown", "email": "sent to 2"}
    assert len(inbox.messages) == 1
    rcpt, message = inbox.messages[0]
    assert rcpt == ["reviewers@police.example", "commissioner@police.example"]
    assert message["To"] == "reviewers@police.example, commissioner@police.example"
    assert message["From"] == "postguard@police.example"
    assert message["Subject"].startswith(
        f"[postguard] Alert {alert_id}: Posted outside the workflow: A post on"
    )
    assert message["Message-ID"].endswith("@police.example>")
    body = message.get_content()
    assert "did not go through postguard" in body
    assert "Post: https://test.example/@police/110001" in body
    assert "Account: mastodon mastodon:@police@test.example" in body
    assert TEXT in body
    assert '- A.iii.guilt (score 0.9871) "We got our man": Calls a suspect' in body
    assert f"https://postguard.police.example/alerts/{alert_id}" in body


@pytest.mark.slow
def test_each_alert_is_its_own_message_and_refused_recipients_are_said(
    world: World, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    first = raised(world, platform_id="1")
    second = raised(
        world, kind="deleted", summary="A post\r\nBcc: evil@x.example was deleted.", platform_id="2"
    )
    outcomes = AlertDelivery(email=_email(port, "reviewers@police.example", "nobody@police.example")).deliver(
        world.registry, [first, second]
    )
    assert outcomes[first]["email"] == "sent to 1; refused: nobody@police.example"
    assert len(inbox.messages) == 2
    deleted = inbox.messages[1][1]
    assert (
        deleted["Subject"].strip()
        == f"[postguard] Alert {second}: Post deleted: A post Bcc: evil@x.example was deleted."
    )
    assert deleted["Bcc"] is None  # a summary's line break never becomes a header
    body = deleted.get_content()
    assert "See and acknowledge it on the Alerts page" in body  # no public address set: no link


@pytest.mark.slow
def test_mail_to_nobody_that_exists_fails_that_message_only(
    world: World, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    alert_id = raised(world)
    outcomes = AlertDelivery(email=_email(port, "nobody@police.example")).deliver(world.registry, [alert_id])
    assert (
        outcomes[alert_id]["email"].startswith("failed: ")
        and "no such mailbox" in outcomes[alert_id]["email"]
    )
    assert inbox.messages == []


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # a test server
def test_the_smtp_login_is_used(world: World, smtp_with_login: tuple[Inbox, int]) -> None:
    inbox, port = smtp_with_login
    alert_id = raised(world)
    wrong = AlertDelivery(email=_email(port, "r@police.example", username="watch", password="guess"))
    assert wrong.deliver(world.registry, [alert_id])[alert_id]["email"].startswith("failed: ")
    right = AlertDelivery(email=_email(port, "r@police.example", username="watch", password="mail-password"))
    assert right.deliver(world.registry, [alert_id])[alert_id]["email"] == "sent to 1"
    assert len(inbox.messages) == 1
    assert get_alert(world.registry, alert_id)["delivery"]["email"] == "sent to 1"  # the last outcome


def test_an_smtp_server_that_is_not_there_is_recorded_not_raised(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    alert_id = raised(world)
    delivery = AlertDelivery(email=_email(free_port(), "reviewers@police.example"), timeout=2)
    outcomes = delivery.deliver(world.registry, [alert_id])
    outcome = outcomes[alert_id]["email"]
    assert outcome.startswith("failed: ") and "refused" in outcome.lower()
    alert = get_alert(world.registry, alert_id)
    assert alert["open"] and alert["delivery"] == {"web": "shown", "email": outcome}
    assert any(f"alert {alert_id}: email failed" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_starttls_refused_by_the_server_is_a_failure(world: World, smtp_server: tuple[Inbox, int]) -> None:
    _inbox, port = smtp_server  # a plain server: it offers no STARTTLS
    alert_id = raised(world)
    outcomes = AlertDelivery(email=_email(port, "r@police.example", starttls=True)).deliver(
        world.registry, [alert_id]
    )
    assert outcomes[alert_id]["email"] == "failed: STARTTLS extension not supported by server."


# The webhook ------------------------------------------------------------------------------------


def test_the_webhook_is_signed_over_the_timestamp_and_body(world: World) -> None:
    alert_id = raised(world)
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    delivery = AlertDelivery(
        webhook=WebhookChannel("https://hooks.police.example/postguard", SECRET),
        public_url="https://postguard.police.example",
        transport=httpx.MockTransport(receiver),
    )
    assert delivery.deliver(world.registry, [alert_id]) == {
        alert_id: {"web": "shown", "webhook": "sent (HTTP 202)"}
    }
    request = seen[0]
    assert request.method == "POST" and str(request.url) == "https://hooks.police.example/postguard"
    stamp = request.headers["X-Postguard-Timestamp"]
    assert abs(int(stamp) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Postguard-Signature"] == f"sha256={expected}"
    assert sign(SECRET, stamp, request.content) == f"sha256={expected}"
    forged = hmac.new(b"another secret", stamp.encode() + b"." + request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Postguard-Signature"] != f"sha256={forged}"
    body = json.loads(request.content)
    assert body["event"] == "alert"
    sent = body["alert"]
    assert sent["id"] == alert_id and sent["kind"] == "outside_workflow"
    assert sent["url"] == f"https://postguard.police.example/alerts/{alert_id}"
    assert sent["post"]["url"] == "https://test.example/@police/110001"
    assert [f["clause"] for f in sent["findings"]] == ["A.iii.guilt", "A.i"]
    assert get_alert(world.registry, alert_id)["delivery"]["webhook"] == "sent (HTTP 202)"


def test_a_failing_webhook_is_recorded_and_the_next_alert_still_goes(world: World) -> None:
    first, second = raised(world, platform_id="1"), raised(world, platform_id="2")
    answers = iter([httpx.Response(502), None])

    def receiver(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if answer is None:
            raise httpx.ConnectError("connection refused", request=request)
        return answer

    outcomes = AlertDelivery(
        webhook=WebhookChannel("https://hooks.police.example/", SECRET),
        transport=httpx.MockTransport(receiver),
    ).deliver(world.registry, [first, second])
    assert outcomes[first]["webhook"] == "failed: HTTP 502"
    assert outcomes[second]["webhook"] == "failed: connection refused"
    assert get_alert(world.registry, second)["delivery"]["webhook"] == "failed: connection refused"


def test_email_and_webhook_together(world: World) -> None:
    alert_id = raised(world)
    delivery = AlertDelivery(
        email=_email(free_port(), "r@police.example"),
        webhook=WebhookChannel("https://hooks.police.example/", SECRET),
        transport=httpx.MockTransport(lambda request: httpx.Response(200)),
        timeout=2,
    )
    assert delivery.channels == ["web", "email", "webhook"]
    outcome = delivery.deliver(world.registry, [alert_id])[alert_id]
    assert outcome["webhook"] == "sent (HTTP 200)" and outcome["email"].startswith("failed: ")


# Nothing set, and what is refused ---------------------------------------------------------------


def test_with_nothing_configured_the_alert_is_shown_in_the_web_app_only(world: World) -> None:
    alert_id = raised(world)
    delivery = AlertDelivery.from_settings(Settings.defaults())
    assert delivery.channels == ["web"]
    assert delivery.deliver(world.registry, [alert_id]) == {alert_id: {"web": "shown"}}
    assert get_alert(world.registry, alert_id)["delivery"] == {"web": "shown"}


def test_unknown_and_acknowledged_alerts_are_skipped_without_raising(world: World) -> None:
    alert_id = raised(world)
    acknowledge(world.registry, "REV-1", alert_id, "Handled before it was sent.")
    delivery = AlertDelivery(
        webhook=WebhookChannel("https://hooks.police.example/", SECRET),
        transport=httpx.MockTransport(lambda request: pytest.fail("an acknowledged alert was sent")),
    )
    assert delivery.deliver(world.registry, [alert_id, 9999]) == {}  # 9999 is not there
    assert get_alert(world.registry, alert_id)["delivery"] == {}


def test_settings_name_the_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGUARD_SMTP_HOST", "mail.police.example")
    monkeypatch.setenv("POSTGUARD_SMTP_PORT", "587")
    monkeypatch.setenv("POSTGUARD_SMTP_STARTTLS", "true")
    monkeypatch.setenv("POSTGUARD_SMTP_USERNAME", "watch")
    monkeypatch.setenv("POSTGUARD_SMTP_PASSWORD", "mail-password")
    monkeypatch.setenv("POSTGUARD_ALERT_EMAIL_TO", " reviewers@police.example, ,commissioner@police.example ")
    monkeypatch.setenv("POSTGUARD_ALERT_WEBHOOK_URL", "https://hooks.police.example/")
    monkeypatch.setenv("POSTGUARD_ALERT_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("POSTGUARD_PUBLIC_URL", "https://postguard.police.example")
    delivery = AlertDelivery.from_settings(Settings())
    assert delivery.email == EmailChannel(
        host="mail.police.example",
        port=587,
        starttls=True,
        username="watch",
        password="mail-password",
        sender="postguard@mail.police.example",
        recipients=("reviewers@police.example", "commissioner@police.example"),
    )
    assert delivery.webhook == WebhookChannel("https://hooks.police.example/", SECRET)
    assert delivery.public_url == "https://postguard.police.example"
    assert "mail-password" not in repr(delivery.email) and SECRET not in repr(delivery.webhook)


def test_a_webhook_without_its_secret_is_refused_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGUARD_ALERT_WEBHOOK_URL", "https://hooks.police.example/")
    with pytest.raises(ValueError, match="POSTGUARD_ALERT_WEBHOOK_SECRET is not") as caught:
        Settings()
    assert "hooks.police.example" not in str(caught.value)  # the error shows no other setting's value
    monkeypatch.setenv("POSTGUARD_ALERT_WEBHOOK_SECRET", "")
    with pytest.raises(ValueError, match="alert webhooks are always signed"):
        Settings()
    with pytest.raises(ValidationError, match="needs its secret"):
        AlertDelivery(webhook=WebhookChannel("https://hooks.police.example/", ""))


def test_mail_without_recipients_is_refused() -> None:
    with pytest.raises(ValidationError, match="POSTGUARD_ALERT_EMAIL_TO"):
        AlertDelivery.from_settings(
            Settings.defaults().model_copy(update={"smtp_host": "mail.police.example"})
        )
