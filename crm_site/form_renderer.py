"""The form renderer: Django's own widget templates through Jinja2.

Django renders every widget, label, error list and each <option> of a select through a
template of its own. Its Jinja2 copies of those templates give the same markup several times
faster than the Django template engine, which on the wizard's steps was most of a request's
time. Templates only the Django engine has (the admin's widgets, which extend Django's) still
go through it. The fallback is per template: a Jinja2 template cannot include a Django-only
one, so a custom widget of ours needs its template in both engines or in neither.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist
from django.utils.functional import cached_property


class WidgetRenderer(Jinja2):
    @cached_property
    def _django(self) -> DjangoTemplates:
        return DjangoTemplates()

    def get_template(self, template_name):
        try:
            return super().get_template(template_name)
        except TemplateDoesNotExist:
            return self._django.get_template(template_name)
