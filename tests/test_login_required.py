"""Nothing but the login, password-reset and health pages is reachable anonymously."""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

PUBLIC = {
    "healthz",
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "logout",  # POST-only; GET is refused with 405 before any content is shown
}


def _patterns(resolver: URLResolver, namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the admin has its own login (tested in test_admin)
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def _url(name: str, pattern: URLPattern) -> str:
    kwargs = {}
    for key, converter in pattern.pattern.converters.items():
        kwargs[key] = (
            uuid.uuid4()
            if "UUID" in type(converter).__name__
            else (1 if "Int" in type(converter).__name__ else "x")
        )
    return reverse(name, kwargs=kwargs)


ALL = sorted(_patterns(get_resolver()), key=lambda item: item[0])
PRIVATE = [(name, pattern) for name, pattern in ALL if name not in PUBLIC]


@pytest.mark.parametrize(("name", "pattern"), PRIVATE, ids=[name for name, _ in PRIVATE])
def test_anonymous_visitor_is_sent_to_login(client, name, pattern):
    url = _url(name, pattern)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, (name, url, response.status_code)
        assert response["Location"].startswith(reverse("login")), (name, url)


def test_every_app_has_pages_behind_login():
    names = {name.split(":")[0] for name, _ in ALL if ":" in name}
    assert {"contacts", "interactions", "segments"} <= names


def test_healthz_answers_anonymously_and_reveals_nothing_else(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok"}


def test_the_public_pages_exist():
    assert {name for name, _ in ALL} >= PUBLIC


def test_login_page_is_public(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content
