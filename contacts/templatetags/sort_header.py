"""``{% sort_header key label first="-key" css="..." %}``: a list's column header that sorts the
list by ``key`` (the ascending order's name): ``first`` is the order a first click picks
(``-key`` for newest first; ``key`` when left out), ``label`` the caption, ``css`` the cell's
classes. The other query parameters (the filters) stay; the page position starts over.

It was the include ``includes/_sort_header.html``: through the Django template engine (the
include, a ``{% with %}``, three ``{% if %}`` chains, filters) two headers cost ~1.1 M
instructions of the entry list's ~28 M (docs/benchmarks.md, "the entry list and the contact
list, fourth pass"). The link is still Django's ``{% querystring %}``, and every value is
escaped as the template escaped it, so the markup is the same.
"""

from __future__ import annotations

from django import template
from django.template.defaulttags import querystring
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, first: str = "", css: str = "") -> SafeString:
    sort = context.get("sort")
    descending = f"-{key}"
    if sort == key:
        state, order, mark = "ascending", descending, " ▲"
    elif sort == descending:
        state, order, mark = "descending", key, " ▼"
    else:
        state, order, mark = "none", first or key, " ↕"
    link = querystring(context, sort=order, page=None, after=None, before=None)
    return format_html(
        '<th scope="col"{} aria-sort="{}"><a class="sort" href="{}">{}'
        '<span class="sort-mark" aria-hidden="true">{}</span></a></th>\n',  # the include's end
        format_html(' class="{}"', css) if css else "",
        state,
        link,
        label,
        mark,
    )
