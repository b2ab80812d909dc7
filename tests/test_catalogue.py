"""The site catalogue: categories, subdomains, short links and media domains, odd inputs."""

from __future__ import annotations

import socket

import pytest

from postguard.access.catalogue import Catalogue, parse_destination
from postguard.policy import default_pack


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue(default_pack())


def test_the_catalogue_names_at_least_150_sites_in_the_policys_categories(catalogue: Catalogue) -> None:
    assert len(catalogue) >= 150
    assert {m.category for m in catalogue.sites()} == {
        "social-networking",
        "micro-blogging",
        "photo-video-sharing",
        "wikis",
        "blogs",
        "news-sites",
    }


@pytest.mark.parametrize(
    ("destination", "site", "category"),
    [
        ("https://www.facebook.com/police", "facebook.com", "social-networking"),
        ("m.facebook.com", "facebook.com", "social-networking"),
        ("scontent-lhr8-1.xx.fbcdn.net", "fbcdn.net", "social-networking"),
        ("https://t.co/abc123", "t.co", "micro-blogging"),
        ("x.com:443", "x.com", "micro-blogging"),
        ("pbs.twimg.com", "twimg.com", "micro-blogging"),
        ("youtu.be/dQw4w9WgXcQ", "youtu.be", "photo-video-sharing"),
        ("i.ytimg.com", "ytimg.com", "photo-video-sharing"),
        ("en.m.wikipedia.org", "wikipedia.org", "wikis"),
        ("someone.blogspot.com", "blogspot.com", "blogs"),
        ("old.reddit.com", "reddit.com", "news-sites"),
        ("news.ycombinator.com", "news.ycombinator.com", "news-sites"),
        ("FACEBOOK.COM.", "facebook.com", "social-networking"),
        ("https://%66acebook.com/", "facebook.com", "social-networking"),
        ("http://user:pass@www.instagram.com:8080/p/x", "instagram.com", "photo-video-sharing"),
    ],
)
def test_social_media_is_found_with_its_category(
    catalogue: Catalogue, destination: str, site: str, category: str
) -> None:
    match = catalogue.lookup(destination)
    assert match is not None and (match.site, match.category) == (site, category)


@pytest.mark.parametrize(
    "destination",
    [
        "example.org",
        "ycombinator.com",
        "gov.uk",
        "notfacebook.com",
        "facebook.com.evil.example",
        "fastly.net",
        "bbc.co.uk",
        "xn--80ak6aa92e.com",
        "bücher.de",
    ],
)
def test_other_sites_are_outside_the_policy(catalogue: Catalogue, destination: str) -> None:
    assert catalogue.lookup(destination) is None


@pytest.mark.parametrize(
    ("value", "host", "ip"),
    [
        ("10.0.0.1", "10.0.0.1", True),
        ("http://[2001:db8::1]:8080/", "2001:db8::1", True),
        ("3232235521", "3232235521", True),  # 192.168.0.1 as one number
        ("http://0x7f000001/", "0x7f000001", True),
        ("bücher.de", "xn--bcher-kva.de", False),
    ],
)
def test_addresses_and_idn_are_recognised(value: str, host: str, ip: bool) -> None:
    dest = parse_destination(value)
    assert dest is not None and (dest.host, dest.ip) == (host, ip)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "http://",
        "a" * 300 + ".com",
        "ht!tp://::::",
        "x" * 10_000,
        "http://exa mple.com",
        "..",
        "host..com",
    ],
)
def test_unreadable_destinations_are_none_not_errors(value: str) -> None:
    assert parse_destination(value) is None


def test_lookups_need_no_network(catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    fresh = Catalogue(default_pack())
    assert fresh.lookup("video.fbcdn.net") is not None
    assert fresh.registrable("a.b.bbc.co.uk") == "bbc.co.uk"
