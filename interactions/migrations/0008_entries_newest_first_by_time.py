"""Newest first by date *and time*: every list index ends in (date, time, id) instead of
(date, id), and the opportunity filter gets one.

The indexes are built and dropped CONCURRENTLY (the migration is not atomic), so the log takes
inserts and updates all along: on 1,000,000 entries each new index takes a few seconds, and
the old ones stay until the new ones are there, so no list loses its index scan meanwhile.
An index build that fails half-way leaves an INVALID index behind; drop it (`DROP INDEX
CONCURRENTLY name`) and run `migrate` again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

NEWEST_FIRST = (
    models.OrderBy(models.F("date"), descending=True),
    models.OrderBy(models.F("time"), descending=True, nulls_last=True),
    models.OrderBy(models.F("id"), descending=True),
)
FILTERS = {
    "entry_contact_newest_idx": "contact",
    "entry_company_newest_idx": "contact_company",
    "entry_salesp_newest_idx": "salesperson",
    "entry_template_newest_idx": "template",
    "entry_group_newest_idx": "group",
    "entry_campaign_newest_idx": "campaign",
    "entry_opp_newest_idx": "opportunity",
    "entry_lseg_newest_idx": "logged_segment",
}
OLD = [
    "entry_date_idx",
    "entry_contact_date_idx",
    "entry_company_date_idx",
    "entry_salesp_date_idx",
    "entry_template_date_idx",
    "entry_group_date_idx",
    "entry_campaign_date_idx",
    "entry_lseg_date_idx",
    "entry_canceled_idx",
]


def add(index: models.Index) -> AddIndexConcurrently:
    return AddIndexConcurrently(model_name="interactionlogentry", index=index)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("interactions", "0007_attachment_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="interactionlogentry",
            options={
                "ordering": NEWEST_FIRST,
                "permissions": [
                    (
                        "cancel_interactionlogentry",
                        "Can cancel and un-cancel interaction log entries",
                    ),
                    (
                        "evaluate_interactionlogentry",
                        "Can evaluate and comment on interaction log entries",
                    ),
                    ("export_interactionlogentry", "Can export interaction log entries"),
                ],
                "verbose_name": "interaction log entry",
                "verbose_name_plural": "interaction log entries",
            },
        ),
        add(models.Index(*NEWEST_FIRST, name="entry_newest_idx")),
        *(
            add(models.Index(models.F(column), *NEWEST_FIRST, name=name))
            for name, column in FILTERS.items()
        ),
        add(
            models.Index(
                *NEWEST_FIRST,
                condition=models.Q(("canceled", True)),
                name="entry_canceled_newest_idx",
            )
        ),
        *(RemoveIndexConcurrently(model_name="interactionlogentry", name=name) for name in OLD),
    ]
