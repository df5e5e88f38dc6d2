"""factory_boy factories for every model the tests build."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from contacts.models import (
    Campaign,
    Contact,
    ContactType,
    MarketingSetup,
    NumberSeries,
    Opportunity,
    Salesperson,
)
from contacts.roles import MARKETING_MANAGER, SALESPERSON
from interactions.models import (
    DraftStatus,
    InformationFlow,
    InitiatedBy,
    InteractionComment,
    InteractionDraft,
    InteractionGroup,
    InteractionLogEntry,
    InteractionTemplate,
    InteractionTemplateContent,
)
from segments.models import (
    LoggedSegment,
    SavedCriteria,
    SavedCriteriaStep,
    Segment,
    SegmentLine,
    SegmentStatus,
    StepAction,
)

PASSWORD = "correct horse battery staple"


def _role(default: str | None):
    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        name = extracted or default
        if create and name:
            user.groups.add(Group.objects.get(name=name))

    return role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)
    role = _role(None)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()  # persist the hashed password


class SalespersonUserFactory(UserFactory):
    role = _role(SALESPERSON)


class ManagerUserFactory(UserFactory):
    role = _role(MARKETING_MANAGER)


class SalespersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Salesperson

    code = factory.Sequence(lambda n: f"SP{n:03d}")
    name = factory.Faker("name")
    email = factory.LazyAttribute(lambda s: f"{s.code.lower()}@example.com")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    number = factory.Sequence(lambda n: f"CT{n:06d}")
    type = ContactType.COMPANY
    name = factory.Faker("company")
    email = factory.Sequence(lambda n: f"info{n}@company.example")
    city = factory.Faker("city")
    country = "NL"
    language = "en"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    number = factory.Sequence(lambda n: f"CP{n:06d}")
    type = ContactType.PERSON
    first_name = factory.Faker("first_name")
    surname = factory.Faker("last_name")
    name = factory.LazyAttribute(lambda c: f"{c.first_name} {c.surname}")
    company = factory.SubFactory(CompanyFactory)
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    job_title = "Buyer"
    language = "en"


class NumberSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NumberSeries
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"NS{n}")
    prefix = "X"
    width = 5


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    number = factory.Sequence(lambda n: f"CP{n:05d}")
    description = factory.Faker("catch_phrase")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    number = factory.Sequence(lambda n: f"OP{n:05d}")
    description = factory.Faker("bs")
    contact_company = factory.SubFactory(CompanyFactory)
    salesperson = factory.SubFactory(SalespersonFactory)


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractionGroup

    code = factory.Sequence(lambda n: f"GRP{n}")
    description = factory.Sequence(lambda n: f"Group {n}")


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractionTemplate

    code = factory.Sequence(lambda n: f"TPL{n}")
    group = factory.SubFactory(GroupFactory)
    description = factory.Sequence(lambda n: f"Phone call {n}")
    unit_cost = Decimal("2.50")
    unit_duration = Decimal("10")
    information_flow = InformationFlow.OUTBOUND
    initiated_by = InitiatedBy.US


class TemplateContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractionTemplateContent

    template = factory.SubFactory(TemplateFactory)
    language = ""
    subject = "Hello {{ first_name }}"
    body = "Dear {{ contact_name }},\n\nKind regards,\n{{ salesperson_name }}"


class LogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractionLogEntry

    contact = factory.SubFactory(PersonFactory)
    contact_company = factory.LazyAttribute(lambda e: e.contact.company_contact)
    template = factory.SubFactory(TemplateFactory)
    group = factory.LazyAttribute(lambda e: e.template.group)
    salesperson = factory.SubFactory(SalespersonFactory)
    date = factory.LazyFunction(datetime.date.today)
    time = datetime.time(10, 0)
    description = factory.LazyAttribute(lambda e: e.template.description)
    information_flow = factory.LazyAttribute(lambda e: e.template.information_flow)
    initiated_by = factory.LazyAttribute(lambda e: e.template.initiated_by)
    cost = factory.LazyAttribute(lambda e: e.template.unit_cost)
    duration = factory.LazyAttribute(lambda e: e.template.unit_duration)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    number = factory.Sequence(lambda n: f"SEG{n:05d}")
    description = factory.Faker("catch_phrase")
    date = factory.LazyFunction(datetime.date.today)


class SegmentLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentLine

    segment = factory.SubFactory(SegmentFactory)
    contact = factory.SubFactory(PersonFactory)


class MarketingSetupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketingSetup
        django_get_or_create = ("id",)

    id = 1
    segment_nos = factory.SubFactory(NumberSeriesFactory, code="SEG", prefix="SEG")
    contact_nos = factory.SubFactory(NumberSeriesFactory, code="CONT", prefix="CT")


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractionComment

    entry = factory.SubFactory(LogEntryFactory)
    date = factory.LazyFunction(datetime.date.today)
    comment = factory.Faker("sentence")


class DraftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractionDraft

    owner = factory.SubFactory(UserFactory)
    status = DraftStatus.POSTPONED
    contact = factory.SubFactory(PersonFactory)
    description = factory.Faker("sentence", nb_words=4)
    current_step = "interaction"
    state = factory.LazyAttribute(
        lambda d: {"step": d.current_step, "step_data": {}, "step_files": {}, "extra_data": {}}
    )


class LoggedSegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LoggedSegment

    segment = factory.SubFactory(SegmentFactory, status=SegmentStatus.LOGGED)
    segment_no = factory.LazyAttribute(lambda ls: ls.segment.number)
    description = factory.LazyAttribute(lambda ls: ls.segment.description)


class SavedCriteriaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedCriteria

    code = factory.Sequence(lambda n: f"CRIT{n:03d}")
    description = factory.Faker("sentence", nb_words=3)


class SavedCriteriaStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedCriteriaStep

    saved = factory.SubFactory(SavedCriteriaFactory)
    number = factory.Sequence(lambda n: n + 1)
    action = StepAction.ADD
    criteria = factory.LazyFunction(lambda: {"city": "Haarlem"})
    described = "City: Haarlem"


def import_contacts(directory, csv_text: str) -> None:
    """Run the `import_contacts` command on a CSV file of ``csv_text`` written in
    ``directory``, new contacts numbered from a CONT series."""
    MarketingSetupFactory(contact_nos=NumberSeriesFactory(code="CONT", prefix="CT", width=5))
    path = directory / "contacts.csv"
    path.write_text(csv_text)
    call_command("import_contacts", str(path), stdout=StringIO(), stderr=StringIO())
