"""Word search for contacts: how text becomes words, on both sides of the match.

Each contact row keeps a `tsvector` of its words in ``Contact.search``, which a database trigger
writes on every insert and update (migration contacts/0003): the words of its name (weight A),
of its company's name (B; a company is its own company) and of its number, email, phone and
city (C), each word lower-cased and without accents, punctuation splitting words
("Bauwens-Jansen" is "bauwens jansen"). The trigger, not Python, writes it, so every write path
(forms, COPY in `seed_demo` and `import_contacts`, bulk updates) keeps it right; renaming a
company rewrites its persons' words.

A search turns the typed text into words the same way (`search_words`, the Python twin of the
database function `contact_search_words` of migration contacts/0004; a test holds them equal)
and asks for rows that have every word as the start of one of theirs: a GIN index answers that
without contrib extensions.
"""

from __future__ import annotations

import re
import unicodedata

# Accents go by decomposing letters (NFD) and dropping the combining marks; these letters have
# none to drop and stand for plain ones, the ligatures for two. The database function
# contact_search_words (migration contacts/0004) does the same.
COMBINING_MARKS = re.compile("[\u0300-\u036f]+")
LIGATURES = {"ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe"}
STROKED, PLAIN = "øØłŁđĐħĦıŧŦ", "oollddhhitt"
_PLAIN_LETTERS = str.maketrans(dict(zip(STROKED, PLAIN, strict=True)))
# What separates words: anything that is neither a letter nor a digit (the database's
# [[:punct:][:space:]]).
_SEPARATORS = re.compile(r"[\W_]+")
# More words than this in one search add nothing but work.
MAX_WORDS = 8


def plain_words(text: str) -> list[str]:
    """The words of ``text`` as the search index holds them: lower case, no accents, split at
    punctuation and spaces."""
    plain = COMBINING_MARKS.sub("", unicodedata.normalize("NFD", text))
    for ligature, letters in LIGATURES.items():
        plain = plain.replace(ligature, letters)
    plain = plain.lower().translate(_PLAIN_LETTERS)
    return [word for word in _SEPARATORS.split(plain) if word]


def search_words(text: str) -> list[str]:
    """The words of a search: `plain_words`, each once, the first `MAX_WORDS`."""
    return list(dict.fromkeys(plain_words(text)))[:MAX_WORDS]


def prefix_query(words: list[str], weights: str = "") -> str:
    """A `tsquery` (for ``to_tsquery('simple', ...)``) that matches rows holding every word as
    the start of one of theirs, in the parts of ``weights`` ("A": the name) or in any part.

    The words come from `search_words`: letters and digits only, nothing to quote or escape.
    """
    return " & ".join(f"{word}:*{weights}" for word in words)
