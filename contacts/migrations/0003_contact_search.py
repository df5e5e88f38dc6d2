"""Word search: every contact keeps the words of its name, company name, number, email, phone
and city in ``search`` (a tsvector with a GIN index), written by a trigger on every insert and
update, so COPY, bulk updates and forms all keep it right (contacts/search.py says how words
are made; `search_words` there is this function's Python twin).

- ``contact_search_words(text)``: accents off (`translate`), lower case, punctuation to spaces.
  Built-in functions only: the embedded server has no contrib extensions (no unaccent).
- BEFORE INSERT OR UPDATE of a searched column: the row's words, its company's name read by
  primary key (a company in the same COPY comes before its persons, and a row-level trigger
  sees the rows its statement wrote before).
- AFTER UPDATE OF name: a renamed company rewrites its persons' words.

Existing rows get their words from one UPDATE (its time at 100,000 contacts: docs/benchmarks.md,
issue 15).
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

ACCENTED = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜ"
    "ĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽ"
    "žƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯ"
    "ȰȱȲȳØøĐđŁłĦħıŦŧſ"
)
PLAIN = (
    "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeeg"
    "ggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzz"
    "zoouuaaiioouuuuuuuuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeoooooo"
    "ooyyooddllhhitts"
)

TABLE = "contacts_contact"

CREATE = f"""
CREATE FUNCTION contact_search_words(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(lower(
        replace(replace(replace(replace(replace(replace(
            translate(value, '{ACCENTED}', '{PLAIN}'),
            'ß', 'ss'), 'ẞ', 'ss'), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe')),
        '[[:punct:][:space:]]+', ' ', 'g')
$$;

CREATE FUNCTION contacts_contact_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search :=
        setweight(to_tsvector('simple', contact_search_words(
            concat_ws(' ', NEW.name, NEW.first_name, NEW.surname))), 'A')
        || setweight(to_tsvector('simple', contact_search_words(coalesce(
            CASE WHEN NEW.company_id IS NULL THEN NULL
                 ELSE (SELECT c.name FROM {TABLE} c WHERE c.id = NEW.company_id) END,
            ''))), 'B')
        || setweight(to_tsvector('simple', contact_search_words(concat_ws(' ',
            NEW.number, NEW.email, NEW.phone, regexp_replace(NEW.phone, '[^0-9]', '', 'g'),
            NEW.city))), 'C');
    RETURN NEW;
END
$$;

CREATE TRIGGER contact_search BEFORE INSERT OR UPDATE OF
    name, first_name, surname, company_id, number, email, phone, city, search
    ON {TABLE} FOR EACH ROW EXECUTE FUNCTION contacts_contact_search();

CREATE FUNCTION contacts_company_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Touching company_id runs the BEFORE trigger of each person, which reads the new name.
    UPDATE {TABLE} SET company_id = company_id WHERE company_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER contact_company_renamed AFTER UPDATE OF name ON {TABLE}
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name AND NEW.company_id IS NULL)
    EXECUTE FUNCTION contacts_company_renamed();

-- The words of the rows already there (the trigger writes them).
UPDATE {TABLE} SET search = NULL;
"""

DROP = f"""
DROP TRIGGER contact_company_renamed ON {TABLE};
DROP TRIGGER contact_search ON {TABLE};
DROP FUNCTION contacts_company_renamed();
DROP FUNCTION contacts_contact_search();
DROP FUNCTION contact_search_words(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0002_audit_columns_unconstrained"),
    ]

    operations = [
        # The prefix search's indexes (the number's stays: a number typed in any case).
        migrations.RemoveIndex(model_name="contact", name="contact_name_upper_idx"),
        migrations.RemoveIndex(model_name="contact", name="contact_surname_upper_idx"),
        migrations.RemoveIndex(model_name="contact", name="contact_email_upper_idx"),
        migrations.AddField(
            model_name="contact",
            name="search",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunSQL(CREATE, DROP),
        migrations.AddIndex(
            model_name="contact",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search"], name="contact_search_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=django.contrib.postgres.indexes.GinIndex(
                models.Func(
                    models.F("search"),
                    output_field=django.contrib.postgres.search.SearchVectorField(),
                    template="ts_filter(%(expressions)s, '{a}')",
                ),
                name="contact_name_words_idx",
            ),
        ),
    ]
