"""Model queries whose SQL is compiled once per process, for the reads of every request.

The ORM compiles a queryset's SQL again each time it runs. For a small read that is most of
its cost: the wizard's draft with its five joined tables took ~1.5 ms of CPU to compile and
~0.2 ms to execute and load. A `BuiltOnceQuery` builds its queryset once, with stand-in values
for its parameters, keeps the compiled SQL and the compiler's description of the columns, and
afterwards only executes that SQL with the real values. The SQL is the queryset's own and the
rows become model instances (with their `select_related` objects) by Django's own loaders, so
the result is what the queryset gives; a ``values_list()`` queryset's rows come as tuples (named
tuples for ``named=True``), with the compiler's converters applied. (In `contacts`, the lowest
app, so every app may use it.)

What it cannot know, it refuses: a stand-in that the SQL does not take as a parameter (a
LIMIT is written into the text), prefetches or known related objects (other queries), and a
value of another type than its stand-in (the ORM would convert it; here it would reach the
database as it is).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connections, transaction
from django.db.models import Expression, Model, QuerySet
from django.db.models.query import (
    ModelIterable,
    NamedValuesListIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql import UpdateQuery
from django.db.models.utils import create_namedtuple_class
from django.http import Http404


@dataclass(frozen=True)
class _Compiled:
    db: str
    sql: str | None  # None: the queryset can match nothing (`.none()`), so no query runs
    params: list[tuple[str | None, Any]]  # (stand-in name or None for a fixed value, value)
    compiler: Any  # the SQLCompiler after as_sql(): its select and klass_info
    converters: dict  # what the rows' columns go through (as results_iter() would work out)
    model: type[Model] | None  # None: a values_list() queryset, whose rows are tuples
    row: type[tuple]  # a values_list() queryset's tuples: tuple, or its named tuple class
    fields: slice  # the model's own columns in a row
    init_list: list[str]
    populators: list
    annotations: dict[str, int]


class BuiltOnceQuery:
    """``build(**stand_ins)`` returns the queryset; ``fetch(**values)`` runs it for values of
    the same names and types, returning its model instances as a list (or, for a
    ``values_list()`` queryset, its rows as tuples or named tuples). A stand-in may be several
    parameters of the SQL (a keyset cursor's date is compared three times), so it must be a
    value the query never fixes (a negative id, a text with a NUL)."""

    def __init__(self, build: Callable[..., QuerySet], **stand_ins: Any) -> None:
        self.build = build
        self.stand_ins = stand_ins
        self._db: str | None = None

    @staticmethod
    def can_build(queryset: QuerySet) -> bool:
        """Whether the queryset's instances (or value tuples) come from its one SQL statement
        alone, in the order of its columns (for values_list(), annotations included: Django
        5.2 selects them in the order asked for)."""
        return (
            (
                queryset._iterable_class is ModelIterable
                or (
                    queryset._iterable_class in (ValuesListIterable, NamedValuesListIterable)
                    and not queryset.query.extra_select
                )
            )
            and not queryset._prefetch_related_lookups
            and not queryset._known_related_objects
        )

    def fetch(self, **values: Any) -> list[Model]:
        _check_values(values, self.stand_ins)
        compiled = (self._db and _compiled_on(connections[self._db]).get(self)) or self._compile()
        if compiled.sql is None:
            return []
        params = [fixed if name is None else values[name] for name, fixed in compiled.params]
        with connections[compiled.db].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        if compiled.model is None:
            return [tuple.__new__(compiled.row, row) for row in rows]
        return [self._instance(compiled, row) for row in rows]

    def get_by_id(self, pk: Any, missing: str) -> Model:
        """The one object whose bigint key ``pk`` is (the query's single stand-in), or a 404
        saying ``missing``; an id out of the key's range matches nothing, as in the ORM."""
        found = self.fetch(**dict.fromkeys(self.stand_ins, pk)) if _is_id(pk) else []
        if not found:
            raise Http404(missing)
        return found[0]

    @staticmethod
    def _instance(compiled: _Compiled, row) -> Model:
        # As django.db.models.query.ModelIterable builds each object.
        obj = compiled.model.from_db(compiled.db, compiled.init_list, row[compiled.fields])
        for populator in compiled.populators:
            populator.populate(row, obj)
        for name, position in compiled.annotations.items():
            setattr(obj, name, row[position])
        return obj

    def _compile(self) -> _Compiled:
        queryset = self.build(**self.stand_ins)
        if not self.can_build(queryset):
            raise ImproperlyConfigured(
                "BuiltOnceQuery takes a plain queryset of model instances or value tuples"
            )
        db = queryset.db
        compiler = queryset.query.get_compiler(using=db)
        try:
            sql, fixed = compiler.as_sql()
        except EmptyResultSet:  # as the ORM, which answers such a queryset without a query
            self._db = db
            compiled = _compiled_on(connections[db])[self] = _Compiled(
                db, None, [], None, {}, queryset.model, tuple, slice(0), [], [], {}
            )
            return compiled
        params = _named_params(sql, fixed, self.stand_ins)
        self._db = db
        # Worked out once: results_iter() works them out again for each fetch, which cost the
        # wizard's draft read (six joined tables) a third of its CPU.
        select = compiler.select
        converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
        if queryset._iterable_class is not ModelIterable:
            row = tuple
            if queryset._iterable_class is NamedValuesListIterable:
                # As NamedValuesListIterable names them.
                query = queryset.query
                names = queryset._fields or [*query.values_select, *query.annotation_select]
                row = create_namedtuple_class(*names)
            compiled = _compiled_on(connections[db])[self] = _Compiled(
                db, sql, params, compiler, converters, None, row, slice(0), [], [], {}
            )
            return compiled
        klass_info = compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        compiled = _compiled_on(connections[db])[self] = _Compiled(
            db=db,
            sql=sql,
            params=params,
            compiler=compiler,
            converters=converters,
            model=klass_info["model"],
            row=tuple,
            fields=slice(start, end),
            init_list=[column[0].target.attname for column in select[start:end]],
            populators=get_related_populators(klass_info, select, db),
            annotations=dict(compiler.annotation_col_map or {}),
        )
        return compiled


def _compiled_on(connection) -> dict:
    """The queries compiled for this connection (one a thread): the compiler keeps the
    connection whose converters it applies to the rows, so the two go together."""
    return connection.__dict__.setdefault("_built_once_queries", {})


class BuiltOnceAggregate:
    """``build(**stand_ins)`` returns a queryset and the aggregates to take of it (as for
    `QuerySet.aggregate`); ``fetch(**values)`` returns those figures for values of the same
    names and types, by the SQL the ORM writes for the stand-ins, compiled once per process.

    An aggregate's SQL, compiled, cost the contact card ~1.4 ms of CPU a request; run, 0.2 ms.
    The figures are the database's as they come: right for counts, sums and maxima of numbers
    and dates, which need no conversion (its tests compare them with the ORM's).
    """

    def __init__(
        self, build: Callable[..., tuple[QuerySet, dict[str, Any]]], **stand_ins: Any
    ) -> None:
        self.build = build
        self.stand_ins = stand_ins
        self._db: str | None = None

    def fetch(self, **values: Any) -> dict[str, Any]:
        _check_values(values, self.stand_ins)
        compiled = self._db and _compiled_on(connections[self._db]).get(self)
        if not compiled:
            compiled = self._compile()
        sql, params, names = compiled
        if sql is None:  # the ORM runs no query (a queryset that can match nothing)
            queryset, aggregates = self.build(**values)
            return queryset.aggregate(**aggregates)
        with connections[self._db].cursor() as cursor:
            cursor.execute(sql, [fixed if name is None else values[name] for name, fixed in params])
            return dict(zip(names, cursor.fetchone(), strict=True))

    def _compile(self) -> tuple[str | None, list, list[str]]:
        """The statement `aggregate()` would run for the stand-ins, caught before it runs."""
        queryset, aggregates = self.build(**self.stand_ins)
        statements = []

        def catch(execute, sql, params, many, context):
            statements.append((sql, params))
            raise _Caught

        connection = connections[queryset.db]
        # Connected first: a new connection runs statements of its own (contrib.postgres asks
        # for its types' oids), which the catch below would take for the aggregate's.
        connection.ensure_connection()
        # Not in the query log either (a test's query count): the statement never runs.
        logged, connection.force_debug_cursor = connection.force_debug_cursor, False
        try:
            with connection.execute_wrapper(catch):
                queryset.aggregate(**aggregates)
        except _Caught:
            [(sql, fixed)] = statements
            compiled = sql, _named_params(sql, fixed, self.stand_ins), list(aggregates)
        else:
            compiled = None, [], []
        finally:
            connection.force_debug_cursor = logged
        self._db = queryset.db
        _compiled_on(connections[self._db])[self] = compiled
        return compiled


class BuiltOnceUpdate:
    """``build(**stand_ins)`` returns the queryset of the rows to change; ``run(changes,
    **values)`` sets ``changes`` (field name: value) on the rows it filters for ``values`` and
    returns how many it changed: the UPDATE that `QuerySet.update` writes, compiled once per
    process for each set of changed fields (building and compiling it cost twice what running
    it does: the wizard's draft, written on every POST). Each value goes through its field as
    in `QuerySet.update` (a model instance becomes its key); an expression is refused, since
    its SQL would be fixed by the first one. What `QuerySet.update` does besides (rows of
    parent models, a slice) is refused too."""

    def __init__(self, build: Callable[..., QuerySet], **stand_ins: Any) -> None:
        self.build = build
        self.stand_ins = stand_ins
        self._db: str | None = None

    def run(self, changes: dict[str, Any], **values: Any) -> int:
        _check_values(values, self.stand_ins)
        if any(hasattr(value, "resolve_expression") for value in changes.values()):
            raise TypeError("BuiltOnceUpdate sets values, not expressions")
        shape = tuple(changes)
        compiled = self._db and _compiled_on(connections[self._db]).get(self, {}).get(shape)
        if not compiled:
            compiled = self._compile(shape)
        sql, fields, params = compiled
        connection = connections[self._db]
        prepared = {}
        for name, field in fields.items():
            value = changes[name]
            if field.remote_field and hasattr(value, "prepare_database_save"):
                value = value.prepare_database_save(field)
            prepared[name] = field.get_db_prep_save(value, connection=connection)
        params = [
            prepared[fixed.name]
            if isinstance(fixed, _Changed)
            else (fixed if name is None else values[name])
            for name, fixed in params
        ]
        # As QuerySet.update: an error inside an atomic block marks it for rollback.
        with transaction.mark_for_rollback_on_error(using=self._db), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def _compile(self, shape: tuple[str, ...]) -> tuple[str, dict, list]:
        queryset = self.build(**self.stand_ins)
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values({name: _Changed(name) for name in shape})
        query.annotations = {}
        if query.related_updates or query.is_sliced:
            raise ImproperlyConfigured("BuiltOnceUpdate changes the rows of one table")
        sql, fixed = query.get_compiler(queryset.db).as_sql()
        # The changed values come first (SET), then the filter's (WHERE).
        changed = [value for value in fixed if isinstance(value, _Changed)]
        where = _named_params(sql, fixed[len(changed) :], self.stand_ins)
        params = [(None, value) for value in changed] + where
        fields = {value.name: queryset.model._meta.get_field(value.name) for value in changed}
        self._db = queryset.db
        # Kept under the update itself, one entry a shape (set of changed fields), as the
        # connection's other built-once statements are kept under their query.
        shapes = _compiled_on(connections[self._db]).setdefault(self, {})
        compiled = shapes[shape] = (sql, fields, params)
        return compiled


class _Changed(Expression):
    """A changed field's value in a `BuiltOnceUpdate`: a parameter, filled in on each run."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [self]


class _Caught(Exception):
    """The statement is caught: it need not run."""


def _check_values(values: dict[str, Any], stand_ins: dict[str, Any]) -> None:
    for name, stand_in in stand_ins.items():
        if type(values.get(name)) is not type(stand_in):
            raise TypeError(f"{name} must be a {type(stand_in).__name__}: {values.get(name)!r}")
    if values.keys() != stand_ins.keys():
        raise TypeError(f"expected the values {sorted(stand_ins)}, got {sorted(values)}")


def _named_params(sql: str, fixed, stand_ins: dict[str, Any]) -> list[tuple[str | None, Any]]:
    """The SQL's parameters as (the stand-in's name, or None for a fixed value, value)."""
    params = []
    for value in fixed:
        names = [
            name
            for name, stand_in in stand_ins.items()
            if type(value) is type(stand_in) and value == stand_in
        ]
        params.append((names[0] if names else None, value))
    if {name for name, _ in params if name} != stand_ins.keys():
        raise ImproperlyConfigured(
            f"each stand-in must be a parameter of the SQL: {params!r} for {sql}"
        )
    return params


def _is_id(value: Any) -> bool:
    return type(value) is int and 0 < value < 2**63
