"""The contact search's words, the same words four times cheaper to make.

`translate()` with the 256 accented letters of 0003 scans the whole list for every character,
so the trigger made importing contacts slow (docs/benchmarks.md, issue 15). Accents now go by
decomposing each letter (`normalize(value, NFD)`) and dropping the combining marks, plus a
short `translate()` for the few letters that have none (ø, ł, đ, ...): the same words for
every letter 0003 knew, and for any other accented letter too. The phone's digits drop runs of
non-digits at once. contacts/search.py is the Python twin; existing rows keep their words
(they are the same).
"""

from django.db import migrations

TABLE = "contacts_contact"

WORDS = r"""
CREATE OR REPLACE FUNCTION contact_search_words(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(
        translate(lower(replace(replace(replace(replace(replace(replace(
            regexp_replace(normalize(value, NFD), '[\u0300-\u036f]+', '', 'g'),
            'ß', 'ss'), 'ẞ', 'ss'), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe')),
            'øØłŁđĐħĦıŧŦ', 'oollddhhitt'),
        '[[:punct:][:space:]]+', ' ', 'g')
$$;
"""

TRIGGER = f"""
CREATE OR REPLACE FUNCTION contacts_contact_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search :=
        setweight(to_tsvector('simple', contact_search_words(
            concat_ws(' ', NEW.name, NEW.first_name, NEW.surname))), 'A')
        || setweight(to_tsvector('simple', contact_search_words(coalesce(
            CASE WHEN NEW.company_id IS NULL THEN NULL
                 ELSE (SELECT c.name FROM {TABLE} c WHERE c.id = NEW.company_id) END,
            ''))), 'B')
        || setweight(to_tsvector('simple', contact_search_words(concat_ws(' ',
            NEW.number, NEW.email, NEW.phone, regexp_replace(NEW.phone, '\\D+', '', 'g'),
            NEW.city))), 'C');
    RETURN NEW;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0003_contact_search"),
    ]

    # Unapplied, these functions stay: they make the same words as 0003's.
    operations = [migrations.RunSQL(WORDS + TRIGGER, migrations.RunSQL.noop)]
