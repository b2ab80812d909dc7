"""What every browser test shares: the demo service, Debian's Chromium driven by Playwright (no
browser download), signing in as a demo member, and screenshots kept under
``test-artifacts/screenshots`` (``POSTGUARD_ARTIFACTS``).

The fixtures are registered in ``conftest.py``; a browser test module marks itself ``slow`` and
asks for ``demo_service`` (the demo on free ports: its base URL and the fake Mastodon's) and
``browser``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("POSTGUARD_ARTIFACTS", "test-artifacts")) / "screenshots"


def _playwright() -> Any:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: 'make test' installs Debian's chromium", pytrace=False)
        pytest.skip("Debian's Chromium is not installed ('make test' installs it)")
    return sync_api


def expect(target: Any, *args: Any, **kwargs: Any) -> Any:
    """Playwright's ``expect`` (imported only when a browser test runs)."""
    return _playwright().expect(target, *args, **kwargs)


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The demo department served on free ports: (its base URL, the fake Mastodon's URL)."""
    folder = tmp_path_factory.mktemp("demo")
    port, fake = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "POSTGUARD_DEMO_MASTODON_PORT": str(fake)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "postguard.demo", str(folder), "--serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/signin", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        output = proc.communicate()[0].decode(errors="replace")
        pytest.fail(f"the demo service did not start: {output}")
    yield base, f"http://127.0.0.1:{fake}"
    proc.terminate()
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    with _playwright().sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
            ],
        )
        yield chromium
        chromium.close()


def shot(page: Any, name: str) -> None:
    """Keep a full-page screenshot of ``page`` as ``name``.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def signed_in(browser: Any, base: str, number: str, **options: Any) -> Any:
    """A new page signed in as demo member ``number`` (its demo password), on the first page."""
    context = browser.new_context(base_url=base, **options)
    page = context.new_page()
    page.goto("/")
    assert "/signin" in page.url  # every page asks who you are first
    page.get_by_label("Service number").fill(number)
    page.get_by_label("Password").fill(f"demo-password-{number}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    return page
