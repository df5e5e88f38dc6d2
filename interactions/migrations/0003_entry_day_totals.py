"""Daily totals of active log entries, kept by triggers on the log entry table.

Statement-level AFTER triggers read the statement's transition tables, so a 100,000-row
INSERT ... SELECT (Log Segment, seed_demo) adds one grouped upsert, not 100,000. Each trigger
adds the new rows' contributions and subtracts the old rows' (active rows only); groups whose
difference is zero are skipped, so an update of delivery status or evaluation writes nothing.
Rows are upserted in key order, so concurrent statements lock them in the same order.
"""

import django.db.models.deletion
from django.db import migrations, models

ENTRIES = "interactions_interactionlogentry"
TOTALS = "interactions_entrydaytotals"
KEY = "salesperson_id, template_id, group_id, date"


def contributions(rows: str, sign: str) -> str:
    return f"""
        SELECT {KEY}, {sign}1 AS entries, {sign}cost AS cost, {sign}duration AS duration,
               {sign}(NOT attempt_failed)::int AS successful,
               {sign}(initiated_by = 'us')::int AS attempted
        FROM {rows} WHERE NOT canceled"""


def upsert(differences: str) -> str:
    return f"""
        INSERT INTO {TOTALS} AS t ({KEY}, entries, cost, duration, successful, attempted)
        SELECT {KEY}, sum(entries), sum(cost), sum(duration), sum(successful), sum(attempted)
        FROM ({differences}) AS d
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


CREATE = f"""
CREATE FUNCTION interactions_entry_day_totals() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER entry_day_totals_insert AFTER INSERT ON {ENTRIES}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interactions_entry_day_totals();
CREATE TRIGGER entry_day_totals_update AFTER UPDATE ON {ENTRIES}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interactions_entry_day_totals();
CREATE TRIGGER entry_day_totals_delete AFTER DELETE ON {ENTRIES}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interactions_entry_day_totals();
CREATE TRIGGER entry_day_totals_truncate AFTER TRUNCATE ON {ENTRIES}
    FOR EACH STATEMENT EXECUTE FUNCTION interactions_entry_day_totals();

-- The entries logged before this migration.
INSERT INTO {TOTALS} ({KEY}, entries, cost, duration, successful, attempted)
SELECT {KEY}, count(*), sum(cost), sum(duration),
       count(*) FILTER (WHERE NOT attempt_failed), count(*) FILTER (WHERE initiated_by = 'us')
FROM {ENTRIES} WHERE NOT canceled
GROUP BY {KEY};
"""

DROP = f"""
DROP TRIGGER entry_day_totals_insert ON {ENTRIES};
DROP TRIGGER entry_day_totals_update ON {ENTRIES};
DROP TRIGGER entry_day_totals_delete ON {ENTRIES};
DROP TRIGGER entry_day_totals_truncate ON {ENTRIES};
DROP FUNCTION interactions_entry_day_totals();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0001_initial'),
        ('interactions', '0002_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='EntryDayTotals',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(verbose_name='date')),
                ('entries', models.IntegerField(default=0, verbose_name='no. of interactions')),
                ('cost', models.DecimalField(decimal_places=2, default=0, max_digits=18, verbose_name='cost (LCY)')),
                ('duration', models.DecimalField(decimal_places=2, default=0, max_digits=18, verbose_name='duration (min.)')),
                ('successful', models.IntegerField(default=0)),
                ('attempted', models.IntegerField(default=0)),
                ('group', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='day_totals', to='interactions.interactiongroup')),
                ('salesperson', models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='day_totals', to='contacts.salesperson')),
                ('template', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='day_totals', to='interactions.interactiontemplate')),
            ],
            options={
                'verbose_name': 'daily totals of log entries',
                'verbose_name_plural': 'daily totals of log entries',
                'indexes': [models.Index(fields=['template', 'date'], name='daytotals_template_idx'), models.Index(fields=['group', 'date'], name='daytotals_group_idx')],
                'constraints': [models.UniqueConstraint(fields=('salesperson', 'template', 'group', 'date'), name='daytotals_one_row_per_key', nulls_distinct=False)],
            },
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
