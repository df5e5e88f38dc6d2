"""The entry totals' trigger sums a statement's rows by day first, then spreads those sums over
the day and month rows (issue 19, docs/benchmarks.md "Part I").

Migration 0009's function spread every row of the statement over its day and its month before
grouping: twice the rows into one grouped upsert whose planner estimate (a transition table has
no statistics) chose a sort over a hash; for a 100,000-row INSERT ... SELECT that was a sort of
200,000 rows spilled to disk, ~8x what the day rows alone cost. Grouping by day first (the
aggregate of 0003, a hash) leaves a few hundred rows to spread and group again. Same upsert,
same key order, same rows written; reversed, 0009's function is back.
"""

from importlib import import_module

from django.db import migrations

month_totals = import_module("interactions.migrations.0009_entry_month_totals")

TOTALS = month_totals.TOTALS
FIGURES = month_totals.FIGURES
KEY = "salesperson_id, span, date, template_id, group_id"


def upsert(differences: str) -> str:
    """One grouped upsert of the differences to the day's and the month's rows."""
    return f"""
        INSERT INTO {TOTALS} AS t ({KEY}, {FIGURES})
        SELECT {KEY}, sum(entries), sum(cost), sum(duration), sum(successful), sum(attempted)
        FROM (
            SELECT d.salesperson_id, s.span, s.date, d.template_id, d.group_id,
                   d.entries, d.cost, d.duration, d.successful, d.attempted
            FROM (
                SELECT salesperson_id, template_id, group_id, date, sum(entries) AS entries,
                       sum(cost) AS cost, sum(duration) AS duration,
                       sum(successful) AS successful, sum(attempted) AS attempted
                FROM ({differences}) AS c
                GROUP BY salesperson_id, template_id, group_id, date
            ) AS d
            CROSS JOIN LATERAL (VALUES
                ('day', d.date), ('month', date_trunc('month', d.date::timestamp)::date)
            ) AS s (span, date)
        ) AS d
        GROUP BY {KEY}
        HAVING sum(entries) <> 0 OR sum(cost) <> 0 OR sum(duration) <> 0
            OR sum(successful) <> 0 OR sum(attempted) <> 0
        ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET
            entries = t.entries + EXCLUDED.entries,
            cost = t.cost + EXCLUDED.cost,
            duration = t.duration + EXCLUDED.duration,
            successful = t.successful + EXCLUDED.successful,
            attempted = t.attempted + EXCLUDED.attempted;"""


def contributions(rows: str, sign: str) -> str:
    return month_totals.contributions(rows, sign)


FORWARD = f"""
CREATE OR REPLACE FUNCTION interactions_entry_day_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {upsert(contributions("new_rows", ""))}
    ELSIF TG_OP = 'UPDATE' THEN
        {upsert(contributions("new_rows", "") + " UNION ALL " + contributions("old_rows", "-"))}
    ELSIF TG_OP = 'DELETE' THEN
        {upsert(contributions("old_rows", "-"))}
    ELSE
        DELETE FROM {TOTALS};
    END IF;
    RETURN NULL;
END
$$;
"""

BACKWARD = month_totals.function(months=True)


class Migration(migrations.Migration):
    dependencies = [
        ("interactions", "0009_entry_month_totals"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
