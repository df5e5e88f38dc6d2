"""Month rows beside the day rows of the entry totals (issue 19), kept by the same triggers.

A period's statistics then read its whole months from month rows and only the days at its ends
from day rows (`DayTotalsQuerySet.statistics`): a busy group's page read every day row of its
history before (7,291 rows at 1,000,000 entries), a few hundred now, and no more as days are
added. The trigger function of migration 0003 is replaced by one that adds each statement's
differences to the day's row and to the month's row in the same upsert, in key order as before
(the unique key now starts with salesperson, span and date). The month rows of the history so
far are summed from the day rows. Reversed, the month rows go and the old function is back.
"""

from django.db import migrations, models

ENTRIES = "interactions_interactionlogentry"
TOTALS = "interactions_entrydaytotals"
FIGURES = "entries, cost, duration, successful, attempted"


def contributions(rows: str, sign: str) -> str:
    return f"""
        SELECT salesperson_id, template_id, group_id, date, {sign}1 AS entries,
               {sign}cost AS cost, {sign}duration AS duration,
               {sign}(NOT attempt_failed)::int AS successful,
               {sign}(initiated_by = 'us')::int AS attempted
        FROM {rows} WHERE NOT canceled"""


def upsert(differences: str, *, months: bool) -> str:
    """One grouped upsert of the differences; with ``months``, to the day's and the month's
    rows (each difference counted once for each span)."""
    if months:
        key = "salesperson_id, span, date, template_id, group_id"
        source = f"""
            SELECT d.salesperson_id, s.span, s.date, d.template_id, d.group_id,
                   d.entries, d.cost, d.duration, d.successful, d.attempted
            FROM ({differences}) AS d
            CROSS JOIN LATERAL (VALUES
                ('day', d.date), ('month', date_trunc('month', d.date::timestamp)::date)
            ) AS s (span, date)"""
    else:
        key = "salesperson_id, template_id, group_id, date"
        source = differences
    return f"""
        INSERT INTO {TOTALS} AS t ({key}, {FIGURES})
        SELECT {key}, sum(entries), sum(cost), sum(duration), sum(successful), sum(attempted)
        FROM ({source}) AS d
        GROUP BY {key}
        HAVING sum(entries) <> 0 OR sum(cost) <> 0 OR sum(duration) <> 0
            OR sum(successful) <> 0 OR sum(attempted) <> 0
        ORDER BY {key}
        ON CONFLICT ({key}) DO UPDATE SET
            entries = t.entries + EXCLUDED.entries,
            cost = t.cost + EXCLUDED.cost,
            duration = t.duration + EXCLUDED.duration,
            successful = t.successful + EXCLUDED.successful,
            attempted = t.attempted + EXCLUDED.attempted;"""


def function(*, months: bool) -> str:
    return f"""
CREATE OR REPLACE FUNCTION interactions_entry_day_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {upsert(contributions("new_rows", ""), months=months)}
    ELSIF TG_OP = 'UPDATE' THEN
        {upsert(contributions("new_rows", "") + " UNION ALL " + contributions("old_rows", "-"),
                months=months)}
    ELSIF TG_OP = 'DELETE' THEN
        {upsert(contributions("old_rows", "-"), months=months)}
    ELSE
        DELETE FROM {TOTALS};
    END IF;
    RETURN NULL;
END
$$;
"""


FORWARD = function(months=True) + f"""
INSERT INTO {TOTALS} (salesperson_id, span, date, template_id, group_id, {FIGURES})
SELECT salesperson_id, 'month', date_trunc('month', date::timestamp)::date, template_id, group_id,
       sum(entries), sum(cost), sum(duration), sum(successful), sum(attempted)
FROM {TOTALS} WHERE span = 'day'
GROUP BY 1, 2, 3, 4, 5;
"""

BACKWARD = f"DELETE FROM {TOTALS} WHERE span <> 'day';" + function(months=False)


class Migration(migrations.Migration):

    dependencies = [
        ("interactions", "0008_entries_newest_first_by_time"),
    ]

    operations = [
        migrations.AddField(
            model_name="entrydaytotals",
            name="span",
            field=models.CharField(
                choices=[("day", "day"), ("month", "month")], default="day", max_length=5
            ),
        ),
        migrations.RemoveConstraint(
            model_name="entrydaytotals",
            name="daytotals_one_row_per_key",
        ),
        migrations.AddConstraint(
            model_name="entrydaytotals",
            constraint=models.UniqueConstraint(
                fields=("salesperson", "span", "date", "template", "group"),
                name="daytotals_one_row_per_key",
                nulls_distinct=False,
            ),
        ),
        migrations.RemoveIndex(
            model_name="entrydaytotals",
            name="daytotals_template_idx",
        ),
        migrations.RemoveIndex(
            model_name="entrydaytotals",
            name="daytotals_group_idx",
        ),
        migrations.AddIndex(
            model_name="entrydaytotals",
            index=models.Index(fields=["template", "span", "date"], name="daytotals_template_idx"),
        ),
        migrations.AddIndex(
            model_name="entrydaytotals",
            index=models.Index(fields=["group", "span", "date"], name="daytotals_group_idx"),
        ),
        # Last: reversed, the month rows must be gone before the old unique key comes back.
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
