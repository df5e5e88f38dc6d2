"""The forms of an HTML page as a browser would submit them untouched (for the load run's
simulated users and bench/load/page_cost.py; no locust import, so no gevent patching)."""

from __future__ import annotations

from html.parser import HTMLParser

URLENCODED = "application/x-www-form-urlencoded"  # a form's enctype unless it names another


class Form(HTMLParser):
    """The fields of the first <form method="post"> with a submit button named like ``button``
    (or any post form): what a browser would send when nothing is changed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action"), "method": (a.get("method") or "get").lower()}
            self._form["enctype"] = (a.get("enctype") or URLENCODED).lower()
            self._form["fields"] = {}
            self._form["options"] = {}
            self.forms.append(self._form)
        if self._form is None:
            return
        fields = self._form["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file", "reset"):
                fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, "")
            self._form["options"][name] = []
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._form["options"][self._select].append(value)
            if "selected" in a:
                fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms_of(html: str) -> list[dict]:
    parser = Form()
    parser.feed(html)
    return parser.forms


def post_form(html: str) -> dict:
    """The page's main POST form: the one with the most fields (the header's log-out and
    language forms have one or two)."""
    forms = [form for form in forms_of(html) if form["method"] == "post"]
    if not forms:
        raise LookupError("no post form on the page")
    return max(forms, key=lambda form: len(form["fields"]))
