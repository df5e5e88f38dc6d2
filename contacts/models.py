"""Contacts, salespeople, minimal campaigns and opportunities, and the setup every app reads."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection, models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Replace, Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.search import prefix_query, search_words


class Language(models.TextChoices):
    """ISO 639-1 codes offered for contacts, templates and content."""

    ENGLISH = "en", _("English")
    DUTCH = "nl", _("Dutch")
    GERMAN = "de", _("German")
    FRENCH = "fr", _("French")
    SPANISH = "es", _("Spanish")
    ITALIAN = "it", _("Italian")
    PORTUGUESE = "pt", _("Portuguese")
    DANISH = "da", _("Danish")
    SWEDISH = "sv", _("Swedish")
    NORWEGIAN = "no", _("Norwegian")
    FINNISH = "fi", _("Finnish")
    POLISH = "pl", _("Polish")


class CorrespondenceType(models.TextChoices):
    BLANK = "", _("(blank)")
    HARD_COPY = "hard_copy", _("Hard Copy")
    EMAIL = "email", _("Email")


def audit_user_field(verbose_name) -> models.ForeignKey:
    """A "who" column: no database constraint and no index.

    Bulk writes (100,000 segment lines or log entries in one statement) would otherwise pay a
    foreign-key check and an index insertion per row for a column nothing filters on. Deleting
    a user still sets these to NULL through Django's `on_delete` (users are normally made
    inactive, not deleted).
    """
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_constraint=False,
        db_index=False,
        verbose_name=verbose_name,
    )


class Tracked(models.Model):
    """Who created and last changed a record, and when."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = audit_user_field(_("created by"))
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)
    updated_by = audit_user_field(_("last changed by"))

    class Meta:
        abstract = True

    def stamp(self, user) -> None:
        """Record ``user`` as the author of the change about to be saved."""
        if user is not None and not user.is_authenticated:
            user = None
        if self._state.adding:
            self.created_by = user
        self.updated_by = user


class NumberSeries(Tracked):
    """A counter that hands out codes such as SEG00001 without gaps or duplicates.

    Numbers are taken with one ``UPDATE ... RETURNING`` inside the caller's transaction: the row
    lock serialises concurrent takers (no duplicates) and a rollback returns the number (no gaps).
    """

    code = models.CharField(_("code"), max_length=20, unique=True)
    description = models.CharField(_("description"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=10, blank=True)
    width = models.PositiveSmallIntegerField(_("width"), default=5)
    last_number = models.BigIntegerField(_("last number used"), default=0)

    class Meta:
        verbose_name = _("number series")
        verbose_name_plural = _("number series")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_number__gte=0), name="numberseries_last_number_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(width__gte=1, width__lte=20), name="numberseries_width_range"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def format(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.width}d}"

    @property
    def last_code(self) -> str:
        return self.format(self.last_number) if self.last_number else ""

    def take(self, count: int = 1) -> list[str]:
        """Reserve the next ``count`` numbers; must run inside a transaction."""
        if count < 1:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self._meta.db_table} SET last_number = last_number + %s "
                "WHERE id = %s RETURNING prefix, width, last_number",
                [count, self.pk],
            )
            self.prefix, self.width, self.last_number = cursor.fetchone()
        first = self.last_number - count + 1
        return [self.format(n) for n in range(first, self.last_number + 1)]


class MarketingSetup(Tracked):
    """The one row of setup every app reads (`Marketing Setup`)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    segment_nos = models.ForeignKey(
        NumberSeries,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Segment Nos."),
    )
    contact_nos = models.ForeignKey(
        NumberSeries,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Contact Nos."),
    )
    default_correspondence_type = models.CharField(
        _("default correspondence type"),
        max_length=10,
        choices=CorrespondenceType.choices,
        blank=True,
        default=CorrespondenceType.BLANK,
    )
    default_salesperson = models.ForeignKey(
        "contacts.Salesperson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default salesperson"),
    )
    default_language = models.CharField(
        _("default language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    currency_code = models.CharField(_("currency code"), max_length=3, default="EUR")

    class Meta:
        verbose_name = _("marketing setup")
        verbose_name_plural = _("marketing setup")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="marketingsetup_singleton")]

    def __str__(self) -> str:
        return str(_("Marketing Setup"))

    @classmethod
    def load(cls) -> MarketingSetup:
        setup, _created = cls.objects.select_related("segment_nos", "contact_nos").get_or_create(
            id=1
        )
        return setup


class Salesperson(Tracked):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    job_title = models.CharField(_("job title"), max_length=50, blank=True)
    # OneToOne: a user is linked to at most one salesperson.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="salesperson",
        verbose_name=_("user"),
    )
    blocked = models.BooleanField(_("blocked"), default=False)

    class Meta:
        verbose_name = _("salesperson")
        verbose_name_plural = _("salespeople")
        ordering = ["code"]
        indexes = [models.Index(fields=["name"], name="salesperson_name_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("contacts:salesperson_detail", args=[self.pk])


class ContactType(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


def words_query(words: list[str]) -> SearchQuery:
    """Rows holding every one of ``words`` as the start of a word (a prefix `tsquery`)."""
    return prefix_search(prefix_query(words))


def prefix_search(text: str) -> SearchQuery:
    """`words_query` from the words' `prefix_query` text (one parameter of the SQL)."""
    return SearchQuery(text, search_type="raw", config="simple")


def name_prefix_search(text: str) -> SearchQuery:
    """`prefix_search` of the name's words only, asked of `Contact.search` itself: each word of
    the `prefix_query` text with the name's weight (``ba:*`` becomes ``ba:*A`` in the SQL, so
    that the text stays one parameter). The same contacts as `NAME_WORDS` matching
    `prefix_search` (the trigger gives every word a position, hence a weight), at less than
    half the CPU a row: `ts_filter` builds a new vector for each. No index answers it: for
    rows read anyway (a walk of the name index, which holds `search`)."""
    weighted = Replace(Value(text), Value(":*"), Value(":*A"))
    return SearchQuery(weighted, search_type="raw", config="simple")


# The words of a contact's name: the part of `Contact.search` the trigger writes with weight A.
NAME_WORDS = Func(
    F("search"), template="ts_filter(%(expressions)s, '{a}')", output_field=SearchVectorField()
)


class ContactQuerySet(models.QuerySet):
    def companies(self) -> ContactQuerySet:
        return self.filter(type=ContactType.COMPANY)

    def search(self, text: str) -> ContactQuerySet:
        """Contacts holding every word of ``text`` as the start of a word of their name,
        company name, number, email, phone or city, accents ignored (contacts/search.py).

        One GIN index answers it (`contact_search_idx`), without database extensions. Text
        without a letter or digit matches nothing.
        """
        words = search_words(text)
        return self.filter(search=words_query(words)) if words else self.none()

    def segmentable(self) -> ContactQuerySet:
        """Contacts that criteria and `Reuse Segment` may add: not excluded, not privacy-blocked."""
        return self.filter(exclude_from_segment=False, privacy_blocked=False)


class Contact(Tracked):
    number = models.CharField(_("no."), max_length=20, unique=True)
    type = models.CharField(
        _("type"), max_length=10, choices=ContactType.choices, default=ContactType.COMPANY
    )
    name = models.CharField(_("name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=30, blank=True)
    surname = models.CharField(_("surname"), max_length=30, blank=True)
    # Persons belong to a company; a company is its own company (see `company_contact`).
    company = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="persons",
        limit_choices_to={"type": ContactType.COMPANY},
        verbose_name=_("company"),
    )
    job_title = models.CharField(_("job title"), max_length=50, blank=True)
    salesperson = models.ForeignKey(
        Salesperson,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("salesperson"),
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, blank=True)
    address = models.CharField(_("address"), max_length=100, blank=True)
    postcode = models.CharField(_("post code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    country = models.CharField(_("country/region code"), max_length=2, blank=True)
    correspondence_type = models.CharField(
        _("Correspondence Type"),
        max_length=10,
        choices=CorrespondenceType.choices,
        blank=True,
        default=CorrespondenceType.BLANK,
    )
    exclude_from_segment = models.BooleanField(_("Exclude from Segment"), default=False)
    privacy_blocked = models.BooleanField(_("Privacy Blocked"), default=False)
    # The words the contact search matches (contacts/search.py): a database trigger writes
    # them on every insert and update, whatever Django sends.
    search = SearchVectorField(null=True, editable=False)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type=ContactType.PERSON) | Q(company__isnull=True),
                name="contact_company_has_no_company",
            ),
        ]
        indexes = [
            # The search's words ride along, so a search that walks the names in order
            # (`ContactSearch`) tests each contact in the index without reading its row.
            models.Index(fields=["name", "number"], include=["search"], name="contact_name_idx"),
            models.Index(fields=["city"], name="contact_city_idx"),
            models.Index(fields=["country", "city"], name="contact_country_city_idx"),
            # A number typed in any case (`number__iexact`) is an index lookup.
            models.Index(
                OpClass(Upper("number"), "text_pattern_ops"), name="contact_number_upper_idx"
            ),
            GinIndex(fields=["search"], name="contact_search_idx"),
            GinIndex(NAME_WORDS, name="contact_name_words_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    def get_absolute_url(self) -> str:
        return reverse("contacts:contact_detail", args=[self.pk])

    @property
    def is_company(self) -> bool:
        return self.type == ContactType.COMPANY

    @property
    def company_contact(self) -> Contact | None:
        """The company this contact belongs to; a company is its own company."""
        return self if self.is_company else self.company

    @property
    def company_name(self) -> str:
        company = self.company_contact
        return company.name if company else ""

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.type == ContactType.PERSON:
            full = " ".join(part for part in (self.first_name, self.surname) if part)
            if not self.name and full:
                self.name = full
        if self.is_company and self.company_id:
            raise ValidationError({"company": _("A company cannot belong to another company.")})
        if self.company_id and self.company_id == self.pk:
            raise ValidationError({"company": _("A contact cannot be its own company.")})
        if not self.name:
            raise ValidationError({"name": _("Enter a name (or a first name and surname).")})


class ContactTotalsQuerySet(models.QuerySet):
    def number(self) -> int:
        """How many contacts the rows hold together (0 for no rows)."""
        return self.aggregate(total=models.Sum("contacts", default=0))["total"]


class ContactTotals(models.Model):
    """How many contacts there are of each type and salesperson, never counted per request.

    The contact list says how many contacts it lists; counting 100,000 rows on every request
    was most of its database time. Database triggers on the contact table keep these rows
    (migration 0005), as they keep a segment's line totals: every insert, update, delete and
    truncate, whichever code path or bulk statement wrote it (forms, `import_contacts` and
    `seed_demo`'s COPY, the admin), adds its difference in the same transaction, so they are
    never stale. The list without filters, by type, by salesperson or both sums a few rows.
    """

    type = models.CharField(_("type"), max_length=10, choices=ContactType.choices)
    salesperson = models.ForeignKey(
        Salesperson,
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_index=False,
        verbose_name=_("salesperson"),
    )
    contacts = models.IntegerField(_("no. of contacts"), default=0)

    objects = ContactTotalsQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact totals")
        verbose_name_plural = _("contact totals")
        constraints = [
            # The triggers' ON CONFLICT target; no salesperson is one key like any other.
            models.UniqueConstraint(
                fields=["type", "salesperson"],
                name="contacttotals_one_row_per_key",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.salesperson_id}: {self.contacts}"


# The longest word start whose name matches `NamePrefixTotals` keeps (the triggers of migration
# 0007 write prefixes up to this many letters).
KEPT_PREFIX_LENGTH = 3


class NamePrefixTotals(models.Model):
    """How many contacts have a word in their name (`NAME_WORDS`) that starts with each
    ``prefix`` of one to `KEPT_PREFIX_LENGTH` letters: "m" counts every contact with a name
    word starting with m, once however many such words it has.

    A search of one short word asks it first whether the word's name matches fill every page
    (`contacts.selectors.ContactSearch.named`); counting them through the GIN index visited
    hundreds of table rows for "ba" or "m" on every request. Triggers on the contact table
    keep it (migration 0007) as they keep `ContactTotals`: whichever code path wrote the
    contacts, in the same transaction, and an update that leaves the name's words alone
    writes nothing.
    """

    prefix = models.CharField(_("word start"), max_length=KEPT_PREFIX_LENGTH, primary_key=True)
    contacts = models.IntegerField(_("no. of contacts"), default=0)

    class Meta:
        verbose_name = _("name word start totals")
        verbose_name_plural = _("name word start totals")

    def __str__(self) -> str:
        return f"{self.prefix}: {self.contacts}"


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")


class Campaign(Tracked):
    number = models.CharField(_("no."), max_length=20, unique=True)
    description = models.CharField(_("description"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )
    starting_date = models.DateField(_("starting date"), null=True, blank=True)
    ending_date = models.DateField(_("ending date"), null=True, blank=True)
    salesperson = models.ForeignKey(
        Salesperson,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("salesperson"),
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ending_date__isnull=True)
                | Q(starting_date__isnull=True)
                | Q(ending_date__gte=models.F("starting_date")),
                name="campaign_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.description}"


class OpportunityStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not Started")
    IN_PROGRESS = "in_progress", _("In Progress")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class OpportunityQuerySet(models.QuerySet):
    def open(self) -> OpportunityQuerySet:
        return self.filter(
            status__in=[OpportunityStatus.NOT_STARTED, OpportunityStatus.IN_PROGRESS]
        )


class Opportunity(Tracked):
    number = models.CharField(_("no."), max_length=20, unique=True)
    description = models.CharField(_("description"), max_length=100)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=OpportunityStatus.choices,
        default=OpportunityStatus.NOT_STARTED,
    )
    contact_company = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        related_name="opportunities",
        limit_choices_to={"type": ContactType.COMPANY},
        verbose_name=_("contact company"),
    )
    salesperson = models.ForeignKey(
        Salesperson,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("salesperson"),
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
        verbose_name=_("campaign"),
    )
    estimated_value = models.DecimalField(
        _("estimated value"), max_digits=14, decimal_places=2, default=0
    )

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_value__gte=0), name="opportunity_value_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.description}"
