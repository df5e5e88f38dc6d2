"""Write paths of segments: build, assign an interaction, personalise lines, log.

Every service that changes a segment first locks its row (``FOR NO KEY UPDATE``, which does not
block foreign-key checks of unrelated inserts) and checks that it is still open and that the user
may change it. So changes to one segment are serialised, `Log` never sees lines that a concurrent
request is still adding, and a logged (frozen) segment can no longer change.

Rows derived from the database are written set-based: adding contacts by criteria, applying the
header to the lines and logging are each one ``INSERT ... SELECT`` or ``UPDATE ... FROM``,
whatever the number of lines.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact, CorrespondenceType, MarketingSetup, Salesperson
from contacts.services import lock_or_gone
from interactions.models import (
    Evaluation,
    InformationFlow,
    InitiatedBy,
    InteractionDraft,
    InteractionLogEntry,
    InteractionTemplate,
    InteractionTemplateContent,
)
from interactions.services import (
    delete_draft_files_on_commit,
    draft_claim_finish,
    interaction_language,
    resolve_correspondence_type,
)
from segments.forms import Criteria
from segments.models import (
    CRITERIA_STEP_ACTIONS,
    FollowUpResponse,
    LoggedSegment,
    RemovedLine,
    SavedCriteria,
    SavedCriteriaStep,
    Segment,
    SegmentLine,
    SegmentStatus,
    SegmentStep,
    SegmentTotals,
    StepAction,
)

# A number the series hands out may already be in use (a segment made in the admin, say); skip
# ahead, but not forever.
MAX_NUMBER_SKIPS = 100
# Problem lines listed by `Log`: all of them up to this many, then a count of the rest.
MAX_PROBLEM_LINES = 1000
# Contacts named in the history's words for `Remove Selected Lines`: these, then "…".
MAX_NAMED_CONTACTS = 10

# The interaction fields a line copies from its header. When the header changes, lines that are
# not personalised follow; these are also what `Reset to segment` re-applies.
HEADER_FIELDS = (
    "template",
    "interaction_description",
    "subject",
    "body",
    "language",
    "correspondence_type",
    "ignore_contact_corres_type",
    "information_flow",
    "initiated_by",
    "unit_cost",
    "unit_duration",
    "campaign",
    "campaign_target",
    "campaign_response",
    "salesperson",
)


# --- Errors the views turn into messages -----------------------------------------------------


class SegmentAlreadyLogged(PermissionDenied):
    """The segment was logged (by this user a moment ago, or by someone else), so it is frozen.

    A `PermissionDenied`, so that code which cannot import this app (the wizard) still treats
    it as "may no longer change"; views that can say more catch it first."""

    def __init__(self, logged: LoggedSegment) -> None:
        self.logged = logged
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return _("Segment %(segment)s is already logged as logged segment %(logged)s.") % {
            "segment": self.logged.segment_no,
            "logged": self.logged.pk,
        }


@dataclass
class LineProblem:
    line_id: int
    contact_number: str
    contact_name: str
    reasons: list[str]


class SegmentLogProblems(Exception):
    """Everything that keeps a segment from being logged; nothing has been written."""

    def __init__(
        self, segment_problems: list[str], lines: list[LineProblem], line_count: int
    ) -> None:
        self.segment_problems = segment_problems
        self.lines = lines
        self.line_count = line_count  # every problem line, also those beyond `lines`
        super().__init__("; ".join([*segment_problems, f"{line_count} problem line(s)"]))

    @property
    def more_lines(self) -> int:
        return self.line_count - len(self.lines)


# --- Locking ---------------------------------------------------------------------------------


def _lock_for_change(segment: Segment | int, user) -> Segment:
    """The segment's row, locked until commit; refuse logged segments and other people's."""
    pk = segment.pk if isinstance(segment, Segment) else segment
    locked = lock_or_gone(
        Segment.objects.select_for_update(no_key=True, of=("self",)).select_related(
            "salesperson", "template"
        ),
        pk=pk,
        gone=_("This segment was deleted meanwhile."),
    )
    if locked.status == SegmentStatus.LOGGED:
        raise SegmentAlreadyLogged(LoggedSegment.objects.get(segment=locked))
    if not locked.is_editable_by(user):
        raise PermissionDenied
    return locked


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# --- Numbers ---------------------------------------------------------------------------------


def _next_segment_number() -> str:
    series = MarketingSetup.load().segment_nos
    if series is None:
        raise ValidationError(_missing_segment_nos())
    for _attempt in range(MAX_NUMBER_SKIPS):
        (number,) = series.take()
        if not Segment.objects.filter(number=number).exists():
            return number
    raise ValidationError(
        _(
            "The segment number series %(series)s keeps giving numbers that are already in use. "
            "Ask a Marketing Manager to check it in Marketing Setup."
        )
        % {"series": series.code}
    )


def _missing_segment_nos() -> str:
    return _(
        "Segments are numbered from Segment Nos. in Marketing Setup, and no number series is "
        "set there. A Marketing Manager can choose one on the Marketing Setup page."
    )


# --- Creating, changing and deleting a segment -------------------------------------------------


def segment_create(
    *,
    user,
    description: str,
    date: datetime.date | None,
    salesperson: Salesperson | None,
) -> Segment:
    """A new, empty segment numbered from `Segment Nos.` in Marketing Setup."""
    with transaction.atomic(durable=True):
        segment = Segment(
            number=_next_segment_number(),
            description=description,
            date=date,
            salesperson=salesperson,
        )
        segment.stamp(user)
        segment.save()
    return segment


def segment_update(*, segment: Segment, user, data: dict[str, Any]) -> int:
    """Change header fields; lines that are not personalised follow the interaction fields.

    Returns the number of lines that followed (0 when no line-relevant field changed).
    """
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        return _update_header(locked, user=user, data=data)


def _update_header(segment: Segment, *, user, data: dict[str, Any]) -> int:
    changed = [name for name, value in data.items() if getattr(segment, name) != value]
    for name in changed:
        setattr(segment, name, data[name])
    if not changed:
        return 0
    segment.full_clean(exclude=["number", "attachment"])
    segment.stamp(user)
    segment.save()
    if set(changed) & set(HEADER_FIELDS):
        return _apply_header(segment, user=user)
    return 0


def segment_delete(*, segment: Segment, user) -> None:
    """Delete an open segment with its lines (its postponed Create Interaction drafts go too)."""
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        delete_draft_files_on_commit(InteractionDraft.objects.filter(context_segment=locked))
        locked.delete()


# --- Line values from the header ---------------------------------------------------------------
# One SELECT list computes what a line takes from its header for one contact, used by adding
# contacts (INSERT ... SELECT) and by applying the header (UPDATE ... FROM). Aliases: s = the
# segment, c = the contact, t = the header's template, v = the template's content in the
# contact's language when that differs from the header's.

# The precedence of `interactions.services.resolve_correspondence_type`, written in SQL.
CORRESPONDENCE_SQL = """CASE
    WHEN s.ignore_contact_corres_type AND s.correspondence_type <> '' THEN s.correspondence_type
    WHEN t.ignore_contact_corres_type OR c.correspondence_type = ''
        THEN COALESCE(t.correspondence_type, '')
    ELSE c.correspondence_type
END"""

# column -> expression
LINE_VALUES = {
    "template_id": "s.template_id",
    "interaction_description": "s.interaction_description",
    "subject": "COALESCE(v.subject, s.subject)",
    "body": "COALESCE(v.body, s.body)",
    "language": "COALESCE(v.language, s.language)",
    "correspondence_type": CORRESPONDENCE_SQL,
    "information_flow": "s.information_flow",
    "initiated_by": "s.initiated_by",
    "unit_cost": "s.unit_cost",
    "unit_duration": "s.unit_duration",
    "campaign_id": "s.campaign_id",
    "campaign_target": "s.campaign_target",
    "campaign_response": "s.campaign_response",
    "salesperson_id": "s.salesperson_id",
}


def _header_joins() -> str:
    template = _table(InteractionTemplate)
    content = _table(InteractionTemplateContent)
    return f"""
    LEFT JOIN {template} t ON t.id = s.template_id
    LEFT JOIN {content} v ON v.template_id = s.template_id AND v.language = c.language
        AND c.language <> '' AND c.language <> s.language"""


def _add_contacts(
    segment: Segment, *, user, contacts: QuerySet[Contact], step: SegmentStep | None = None
) -> int:
    """Insert a line, started from the header, for each of ``contacts`` not on the segment yet;
    the lines carry the number of ``step``, so that Go Back can take them away again.

    One statement whatever the number of contacts: the contacts' query is a sub-select that also
    yields what the line values need (language, correspondence type), and `ON CONFLICT` skips
    contacts already on the segment (one contact per segment). No ORDER BY: lines come in the
    order the contacts are read, and sorting 100,000 rows would only cost time.

    (`ON CONFLICT` rather than an anti-join: `NOT EXISTS` was a little faster when the planner
    probed the unique index, but on a table whose statistics said "empty" it chose a nested loop
    over a sequential scan of the lines, rescanning the pages this very statement was filling;
    docs/benchmarks.md, issue 5.)
    """
    contact_sql, contact_params = (
        contacts.order_by().values("pk", "language", "correspondence_type").query.sql_with_params()
    )
    now = timezone.now()
    user_id = user.pk if user is not None and user.is_authenticated else None
    sql = f"""
        INSERT INTO {_table(SegmentLine)} (
            segment_id, contact_id, {", ".join(LINE_VALUES)}, personalised, step,
            created_at, created_by_id, updated_at, updated_by_id
        )
        SELECT s.id, c.id, {", ".join(LINE_VALUES.values())}, false, %s, %s, %s, %s, %s
          FROM ({contact_sql}) AS c (id, language, correspondence_type)
          JOIN {_table(Segment)} s ON s.id = %s
          {_header_joins()}
        ON CONFLICT (segment_id, contact_id) DO NOTHING
    """
    number = step.number if step is not None else None
    with connection.cursor() as cursor:
        cursor.execute(sql, [number, now, user_id, now, user_id, *contact_params, segment.pk])
        return cursor.rowcount


def _apply_header(segment: Segment, *, user, line: SegmentLine | None = None) -> int:
    """Copy the header's interaction to every line that is not personalised (or to ``line``,
    which `Reset to segment` un-personalises), resolving correspondence type and content
    language per contact."""
    lines = _table(SegmentLine)
    if line is None:
        which, params = "AND NOT l2.personalised", []
    else:
        which, params = "AND l2.id = %s", [line.pk]
    assignments = ", ".join(f"{column} = x.{column}" for column in LINE_VALUES)
    select_list = ", ".join(f"{value} AS {column}" for column, value in LINE_VALUES.items())
    sql = f"""
        UPDATE {lines} AS l
           SET {assignments}, date = NULL, personalised = false,
               updated_at = %s, updated_by_id = %s
          FROM (
            SELECT l2.id AS line_id, {select_list}
              FROM {lines} l2
              JOIN {_table(Contact)} c ON c.id = l2.contact_id
              JOIN {_table(Segment)} s ON s.id = l2.segment_id
              {_header_joins()}
             WHERE l2.segment_id = %s {which}
          ) AS x
         WHERE l.id = x.line_id
    """
    user_id = user.pk if user is not None and user.is_authenticated else None
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now(), user_id, segment.pk, *params])
        return cursor.rowcount


# --- Building the list of contacts: criteria steps --------------------------------------------
# Every change of a segment's contacts is a numbered step (`SegmentStep`), written under the
# segment's row lock like every other change, so steps of two users never interleave: each
# one's number, "lines before" and "lines after" follow the previous one's. A step is a few
# statements whatever its size: the step row, the one INSERT ... SELECT or DELETE that changes
# the lines (a DELETE moves the removed lines to `RemovedLine` in the same statement), a count.


def _step_begin(
    segment: Segment, *, user, action: str, criteria: dict[str, Any], described: str
) -> SegmentStep:
    last = segment.steps.aggregate(last=Max("number"))["last"] or 0
    step = SegmentStep(
        segment=segment,
        number=last + 1,
        action=action,
        criteria=criteria,
        described=described,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    step.save()
    return step


def _step_end(step: SegmentStep, *, added: int = 0, removed: int = 0) -> SegmentStep:
    # The kept total, which the triggers brought up to date with the step's statement.
    after = SegmentTotals.objects.get(segment_id=step.segment_id).line_count
    step.added, step.removed = added, removed
    step.lines_after, step.lines_before = after, after - added + removed
    step.save(update_fields=["added", "removed", "lines_after", "lines_before"])
    return step


# The columns a removed line keeps (`RemovedLine` has each under the same name), and the ones
# whose names differ there.
LINE_COLUMNS = tuple(
    field.column
    for field in SegmentLine._meta.concrete_fields
    if field.column not in ("id", "segment_id", "step")
)


def _remove_lines(step: SegmentStep, where: str, params: list[Any]) -> int:
    """Remove the step's segment's lines that match ``where`` (SQL over the line ``l``) and keep
    each as it was in `RemovedLine`: one statement. Returns how many went."""
    columns = ", ".join(LINE_COLUMNS)
    sql = f"""
        WITH gone AS (
            DELETE FROM {_table(SegmentLine)} AS l
             WHERE l.segment_id = %s AND ({where})
            RETURNING l.*
        )
        INSERT INTO {_table(RemovedLine)} (step_id, line_id, line_step, {columns})
        SELECT %s, gone.id, gone.step, {columns} FROM gone
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [step.segment_id, *params, step.pk])
        return cursor.rowcount


def _matching(contacts: QuerySet[Contact], *, keep: bool) -> tuple[str, list[Any]]:
    """SQL over the line ``l``: its contact is (``keep=False``: is not) among ``contacts``.

    EXISTS / NOT EXISTS over the contacts' sub-select, which the planner turns into a semi- or
    anti-join (``NOT IN`` would hash every contact, or fall back to a scan per line).
    """
    contact_sql, params = contacts.order_by().values("pk").query.sql_with_params()
    test = "EXISTS" if keep else "NOT EXISTS"
    return f"{test} (SELECT 1 FROM ({contact_sql}) AS m (id) WHERE m.id = l.contact_id)", list(
        params
    )


def _criteria_step(segment: Segment, *, user, action: str, criteria: Criteria) -> SegmentStep:
    step = _step_begin(
        segment, user=user, action=action, criteria=criteria.data, described=criteria.described
    )
    if action == StepAction.ADD:
        contacts = criteria.contacts.segmentable()
        added = _add_contacts(segment, user=user, contacts=contacts, step=step)
        return _step_end(step, added=added)
    # Reduce removes the lines whose contact matches; Refine keeps only those.
    where, params = _matching(criteria.contacts, keep=action == StepAction.REDUCE)
    return _step_end(step, removed=_remove_lines(step, where, params))


def _reuse_step(segment: Segment, *, user, logged: LoggedSegment) -> SegmentStep:
    step = _step_begin(
        segment,
        user=user,
        action=StepAction.REUSE_SEGMENT,
        criteria={"logged_segment": logged.pk},
        described=_("Logged segment %(logged)s") % {"logged": logged},
    )
    contacts = Contact.objects.filter(segment_lines__segment_id=logged.segment_id)
    added = _add_contacts(segment, user=user, contacts=contacts.segmentable(), step=step)
    return _step_end(step, added=added)


def segment_add_contacts(*, segment: Segment, user, criteria: Criteria) -> SegmentStep:
    """`Add Contacts` by criteria: matches not on the segment yet, never excluded or
    privacy-blocked ones. The step says how many lines were added."""
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        return _criteria_step(locked, user=user, action=StepAction.ADD, criteria=criteria)


def segment_reduce_contacts(*, segment: Segment, user, criteria: Criteria) -> SegmentStep:
    """`Reduce Contacts`: remove the lines whose contact matches."""
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        return _criteria_step(locked, user=user, action=StepAction.REDUCE, criteria=criteria)


def segment_refine_contacts(*, segment: Segment, user, criteria: Criteria) -> SegmentStep:
    """`Refine Contacts`: keep only the lines whose contact matches."""
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        return _criteria_step(locked, user=user, action=StepAction.REFINE, criteria=criteria)


def segment_reuse(*, segment: Segment, user, logged: LoggedSegment) -> SegmentStep:
    """`Reuse Segment`: append the contacts of a logged segment, exclusions respected
    (better than BC, which ignores `Exclude from Segment` here)."""
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        return _reuse_step(locked, user=user, logged=logged)


@dataclass
class AddedContact:
    added: bool
    warning: str = ""


def segment_add_contact(*, segment: Segment, user, contact: Contact) -> AddedContact:
    """Add one contact by hand: an excluded contact is added with a warning, a privacy-blocked
    one never. A step only when the contact was not on the segment yet."""
    if contact.privacy_blocked:
        raise ValidationError(
            _("%(contact)s is privacy blocked and cannot be added to a segment.")
            % {"contact": contact}
        )
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        if locked.lines.filter(contact=contact).exists():
            return AddedContact(added=False)
        step = _step_begin(
            locked,
            user=user,
            action=StepAction.ADD_CONTACT,
            criteria={"contact": contact.number},
            described=f"{contact.number} {contact.name}",
        )
        added = _add_contacts(
            locked, user=user, contacts=Contact.objects.filter(pk=contact.pk), step=step
        )
        _step_end(step, added=added)
    warning = ""
    if added and contact.exclude_from_segment:
        warning = _(
            "%(contact)s is marked Exclude from Segment. It was added because you chose it by "
            "hand; criteria and Reuse Segment never add it."
        ) % {"contact": contact}
    return AddedContact(added=bool(added), warning=warning)


def segment_remove_lines(*, segment: Segment, user, line_ids: Iterable[int]) -> int:
    """`Remove Selected Lines`; a step (which Go Back undoes) when some line went."""
    ids = [int(pk) for pk in line_ids]
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        names = list(
            locked.lines.filter(pk__in=ids)
            .order_by("id")
            .values_list("contact__number", flat=True)[: MAX_NAMED_CONTACTS + 1]
        )
        if not names:
            return 0
        described = ", ".join(names[:MAX_NAMED_CONTACTS])
        if len(names) > MAX_NAMED_CONTACTS:
            described += " …"
        step = _step_begin(
            locked,
            user=user,
            action=StepAction.REMOVE_LINES,
            criteria={"lines": ids},
            described=described,
        )
        return _step_end(step, removed=_remove_lines(step, "l.id = ANY(%s)", [ids])).removed


@dataclass
class GoneBack:
    step: SegmentStep
    taken: int  # lines the step had added
    restored: int  # lines it had removed, back


def segment_go_back(*, segment: Segment, user, step: int) -> GoneBack:
    """`Go Back`: undo the segment's last step, which must still be step ``step`` (the one the
    user saw as last: when someone else went back or made a step meanwhile, nothing changes).

    The lines the step added leave; the lines it removed come back with their own ids, so in
    the same place, personalised ones with every value they had, the others following the
    header as it is now (as they would have had they stayed). Two statements whatever the size.
    """
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        last = locked.steps.order_by("-number").first()
        if last is None:
            raise ValidationError(_("There is no step to go back from."))
        if last.number != step:
            raise ValidationError(
                _(
                    "Step %(step)s is no longer the last step of this segment (someone went back "
                    "or changed its contacts meanwhile); nothing was undone. The history below "
                    "is up to date."
                )
                % {"step": step}
            )
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_table(SegmentLine)} WHERE segment_id = %s AND step = %s",
                [locked.pk, last.number],
            )
            taken = cursor.rowcount
        restored = _restore_lines(locked, last)
        # Its kept lines went back above: no cascade to look for (the ORM's delete would).
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_table(SegmentStep)} WHERE id = %s", [last.pk])
    return GoneBack(step=last, taken=taken, restored=restored)


def _restore_lines(segment: Segment, step: SegmentStep) -> int:
    """Put the lines ``step`` removed back: one ``DELETE ... RETURNING`` of its `RemovedLine`
    rows feeding one ``INSERT ... SELECT``. A contact deleted meanwhile stays out."""
    values = []
    for column in LINE_COLUMNS:
        if column in LINE_VALUES:
            header = LINE_VALUES[column]
            values.append(f"CASE WHEN r.personalised THEN r.{column} ELSE {header} END")
        else:
            values.append(f"r.{column}")
    sql = f"""
        WITH back AS (DELETE FROM {_table(RemovedLine)} WHERE step_id = %s RETURNING *)
        INSERT INTO {_table(SegmentLine)} (id, segment_id, step, {", ".join(LINE_COLUMNS)})
        SELECT r.line_id, s.id, r.line_step, {", ".join(values)}
          FROM back r
          JOIN {_table(Contact)} c ON c.id = r.contact_id
          JOIN {_table(Segment)} s ON s.id = %s
          {_header_joins()}
        ON CONFLICT (segment_id, contact_id) DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [step.pk, segment.pk])
        return cursor.rowcount


# --- Saved criteria ----------------------------------------------------------------------------


def saved_criteria_create(*, segment: Segment, user, code: str, description: str) -> SavedCriteria:
    """`Save Criteria`: the segment's criteria steps, in order, under ``code``.

    Adding or removing particular contacts by hand is no criterion and is not saved."""
    if not user.has_perm("segments.add_savedcriteria"):
        raise PermissionDenied
    steps = list(
        segment.steps.filter(action__in=CRITERIA_STEP_ACTIONS)
        .order_by("number")
        .values("action", "criteria", "described")
    )
    if not steps:
        raise ValidationError(
            _(
                "Segment %(no)s has no criteria steps to save: add, reduce or refine its "
                "contacts by criteria, or reuse a segment, first."
            )
            % {"no": segment.number}
        )
    try:
        with transaction.atomic(durable=True):
            saved = SavedCriteria(code=code, description=description)
            saved.stamp(user)
            saved.save()
            SavedCriteriaStep.objects.bulk_create(
                SavedCriteriaStep(saved=saved, number=n, **step)
                for n, step in enumerate(steps, start=1)
            )
    except IntegrityError:
        raise ValidationError(
            _("Saved criteria %(code)s already exist; choose another code.") % {"code": code}
        ) from None
    return saved


def saved_criteria_delete(*, saved: SavedCriteria, user) -> None:
    if not user.has_perm("segments.delete_savedcriteria"):
        raise PermissionDenied
    with transaction.atomic(durable=True):
        SavedCriteria.objects.filter(pk=saved.pk).delete()


def segment_reuse_criteria(*, segment: Segment, user, saved: SavedCriteria) -> list[SegmentStep]:
    """`Reuse Criteria`: replay the saved steps, in order, against today's contacts (exclusions
    respected as always), each as a step of this segment.

    Every saved step is checked first (a template or logged segment it names may be gone);
    one that no longer holds stops the whole replay, with nothing written.
    """
    replays = []
    for saved_step in saved.steps.order_by("number"):
        try:
            if saved_step.action == StepAction.REUSE_SEGMENT:
                pk = saved_step.criteria.get("logged_segment")
                logged = LoggedSegment.objects.filter(pk=pk).first()
                if logged is None:
                    raise ValidationError(
                        _("logged segment %(logged)s no longer exists") % {"logged": pk}
                    )
                replays.append((saved_step.action, logged))
            else:
                replays.append((saved_step.action, Criteria.from_data(saved_step.criteria)))
        except ValidationError as error:
            raise ValidationError(
                _("Step %(step)s of saved criteria %(code)s cannot be replayed: %(why)s")
                % {"step": saved_step.number, "code": saved.code, "why": " ".join(error.messages)}
            ) from None
    with transaction.atomic(durable=True):
        locked = _lock_for_change(segment, user)
        steps = []
        for action, what in replays:
            if action == StepAction.REUSE_SEGMENT:
                steps.append(_reuse_step(locked, user=user, logged=what))
            else:
                steps.append(_criteria_step(locked, user=user, action=action, criteria=what))
        return steps


# --- Assigning the interaction (Create Interaction on a segment) -------------------------------


def segment_interaction_finish(*, draft: InteractionDraft, user, values: Mapping[str, Any]) -> int:
    """`Finish` of Create Interaction on a segment: the interaction in the steps' cleaned
    ``values`` goes to the header and to every line that is not personalised, and the draft is
    finished, in one transaction. Returns the number of lines that followed.

    The draft is claimed first (see `interactions.services.interaction_finish` for what a second
    `Finish` gets), then the segment. Cost and duration come from the template (there is no
    Result step; the header form changes them).
    """
    template = values["template"]
    with transaction.atomic(durable=True):
        draft_claim_finish(draft=draft)
        segment = _lock_for_change(draft.context_segment_id, user)
        header = {
            "template": template,
            "interaction_description": values["description"] or template.description,
            "language": interaction_language(template=template, chosen=values["language"]),
            "correspondence_type": values["correspondence_type"] or template.correspondence_type,
            "ignore_contact_corres_type": values["ignore_contact_corres_type"],
            "information_flow": values["information_flow"] or template.information_flow,
            "initiated_by": values["initiated_by"] or template.initiated_by,
            "unit_cost": template.unit_cost,
            "unit_duration": template.unit_duration,
            "subject": values.get("subject", ""),
            "body": values.get("body", ""),
            "campaign": values["campaign"],
            "campaign_target": values["campaign_target"],
            "campaign_response": values["campaign_response"],
        }
        for name, value in header.items():
            setattr(segment, name, value)
        if attachment := values.get("attachment"):
            # Stored once with the segment; every entry it logs shares this file.
            segment.attachment_name = attachment.name
            segment.attachment.save(attachment.name, attachment, save=False)
        else:
            content = template.content_for(header["language"])
            segment.attachment.name = content.attachment.name if content else ""
            segment.attachment_name = ""
        segment.full_clean(exclude=["number", "attachment"])
        segment.stamp(user)
        segment.save()
        return _apply_header(segment, user=user)


# --- Personalising a line ----------------------------------------------------------------------

# What a line's template brings with it when the line gets another template.
TEMPLATE_DEFAULTS = (
    "interaction_description",
    "unit_cost",
    "unit_duration",
    "information_flow",
    "initiated_by",
    "correspondence_type",
    "language",
    "subject",
    "body",
    "campaign",
    "campaign_target",
    "campaign_response",
)
LINE_FIELDS = (
    "template",
    "interaction_description",
    "subject",
    "body",
    "correspondence_type",
    "salesperson",
    "unit_cost",
    "unit_duration",
    "language",
    "date",
)


def template_defaults_for_line(
    *, template: InteractionTemplate, contact: Contact, segment: Segment
) -> dict[str, Any]:
    """The values a line takes from ``template`` for ``contact`` (same rules as the header)."""
    content = template.content_for(contact.language) or template.content_for(template.language)
    return {
        "interaction_description": template.description,
        "unit_cost": template.unit_cost,
        "unit_duration": template.unit_duration,
        "information_flow": template.information_flow,
        "initiated_by": template.initiated_by,
        "correspondence_type": resolve_correspondence_type(
            template=template,
            contact=contact,
            segment_default=segment.correspondence_type,
            segment_ignores_contact=segment.ignore_contact_corres_type,
        ),
        "language": content.language if content and content.language else template.language,
        "subject": content.subject if content else "",
        "body": content.body if content else "",
        "campaign": template.campaign,
        "campaign_target": template.campaign_target,
        "campaign_response": template.campaign_response,
    }


def _lock_line(line: SegmentLine, segment: Segment) -> SegmentLine:
    return lock_or_gone(
        SegmentLine.objects.select_for_update(of=("self",)).select_related("contact"),
        pk=line.pk,
        segment=segment,
        gone=_("The line for this contact was removed from the segment meanwhile."),
    )


def segment_line_personalise(
    *, line: SegmentLine, user, data: dict[str, Any], changed: Iterable[str]
) -> SegmentLine:
    """Save the fields the user changed on one line and mark it personalised.

    A new template first re-applies that template's defaults; fields the user changed in the
    same form win over them.
    """
    changed = [name for name in changed if name in LINE_FIELDS]
    with transaction.atomic(durable=True):
        segment = _lock_for_change(line.segment_id, user)
        locked = _lock_line(line, segment)
        if not changed:
            return locked
        if "template" in changed and data["template"] is not None:
            defaults = template_defaults_for_line(
                template=data["template"], contact=locked.contact, segment=segment
            )
            for name, value in defaults.items():
                setattr(locked, name, value)
        for name in changed:
            setattr(locked, name, data[name])
        locked.personalised = True
        locked.full_clean(exclude=["segment", "contact"])
        locked.stamp(user)
        locked.save()
        return locked


def segment_line_reset(*, line: SegmentLine, user) -> None:
    """`Reset to segment`: the line follows its header again."""
    with transaction.atomic(durable=True):
        segment = _lock_for_change(line.segment_id, user)
        _apply_header(segment, user=user, line=_lock_line(line, segment))


# --- Logging -----------------------------------------------------------------------------------


@dataclass
class LogResult:
    logged: LoggedSegment
    follow_up: Segment | None = None
    delivering: int = 0


def segment_log(
    *, segment: Segment, user, send_attachments: bool = False, create_follow_up: bool = False
) -> LogResult:
    """`Log`: one interaction log entry per line, the `Logged Segment`, the segment frozen and,
    if asked, a follow-up segment with the same contacts; all in one transaction.

    Validation comes first and reports every problem (`SegmentLogProblems`) before anything is
    written. The segment row lock makes a second `Log` of the same segment (another user, a
    double-click, a replayed POST) wait for the first and then get `SegmentAlreadyLogged`; the
    one-to-one `LoggedSegment.segment` is the database's backstop.
    """
    try:
        with transaction.atomic(durable=True):
            locked = _lock_for_change(segment, user)
            _check_loggable(
                locked, send_attachments=send_attachments, create_follow_up=create_follow_up
            )
            result = _log(locked, user=user, send_attachments=send_attachments)
            if create_follow_up:
                result.follow_up = _create_follow_up(result.logged, user=user).segment
            return result
    except IntegrityError:
        logged = LoggedSegment.objects.filter(segment_id=segment.pk).first()
        if logged is None:
            raise
        raise SegmentAlreadyLogged(logged) from None


def _check_loggable(segment: Segment, *, send_attachments: bool, create_follow_up: bool) -> None:
    problems = []
    if not segment.description.strip():
        problems.append(_("Enter a description for the segment."))
    if not segment.lines.exists():
        problems.append(_("The segment has no lines: add contacts first."))
    if segment.template_id is None:
        problems.append(
            _("No interaction is assigned to the segment: use Create Interaction on it.")
        )
    if create_follow_up and MarketingSetup.load().segment_nos_id is None:
        problems.append(
            _("A follow-up segment needs a number: %(why)s") % {"why": _missing_segment_nos()}
        )
    lines, count = _problem_lines(segment, send_attachments=send_attachments)
    if problems or count:
        raise SegmentLogProblems(problems, lines, count)


def _problem_lines(segment: Segment, *, send_attachments: bool) -> tuple[list[LineProblem], int]:
    """The lines that cannot be logged with their reasons (the first MAX_PROBLEM_LINES), and
    how many there are in all."""
    # `salesperson__code__isnull` and the like join the row, so they also catch a line whose
    # salesperson, template or campaign was deleted (those columns have no database constraint,
    # see SegmentLine).
    problem = (
        Q(salesperson__code__isnull=True)
        | Q(salesperson__blocked=True)
        | Q(template__code__isnull=True)
        | Q(campaign__isnull=False, campaign__number__isnull=True)
        | Q(contact__privacy_blocked=True)
    )
    delivering = Q(correspondence_type=CorrespondenceType.EMAIL)
    no_content = Q(subject__regex=r"^\s*$") & Q(body__regex=r"^\s*$")
    if send_attachments:
        problem |= delivering & (Q(contact__email="") | no_content)
    rows = list(
        segment.lines.filter(problem)
        .order_by("id")
        .values(
            "id",
            "contact__number",
            "contact__name",
            "contact__email",
            "contact__privacy_blocked",
            "salesperson_id",
            "salesperson__code",
            "salesperson__blocked",
            "template_id",
            "template__code",
            "campaign_id",
            "campaign__number",
            "correspondence_type",
            "subject",
            "body",
        )[: MAX_PROBLEM_LINES + 1]
    )
    count = len(rows)
    if count > MAX_PROBLEM_LINES:
        count = segment.lines.filter(problem).count()
        rows = rows[:MAX_PROBLEM_LINES]
    return [_line_problem(row, send_attachments=send_attachments) for row in rows], count


def _line_problem(row: dict, *, send_attachments: bool) -> LineProblem:
    reasons = []
    if row["contact__privacy_blocked"]:
        reasons.append(_("the contact is privacy blocked"))
    if row["salesperson_id"] is None:
        reasons.append(_("no salesperson"))
    elif row["salesperson__code"] is None:
        reasons.append(_("its salesperson no longer exists"))
    elif row["salesperson__blocked"]:
        reasons.append(_("salesperson %(code)s is blocked") % {"code": row["salesperson__code"]})
    if row["template_id"] is None:
        reasons.append(_("no interaction template"))
    elif row["template__code"] is None:
        reasons.append(_("its interaction template no longer exists"))
    if row["campaign_id"] is not None and row["campaign__number"] is None:
        reasons.append(_("its campaign no longer exists"))
    if send_attachments and row["correspondence_type"] == CorrespondenceType.EMAIL:
        if not row["contact__email"]:
            reasons.append(_("the contact has no email address to deliver to"))
        if not (row["subject"].strip() or row["body"].strip()):
            reasons.append(_("an email to deliver needs a subject or a body"))
    return LineProblem(row["id"], row["contact__number"], row["contact__name"], reasons)


# Columns of the log entry a segment line becomes: the line's own interaction values, the
# segment's number and the logged segment it is written for.
ENTRY_COLUMNS = (
    "contact_id",
    "contact_company_id",
    "date",
    "time",
    "description",
    "subject",
    "template_id",
    "group_id",
    "salesperson_id",
    "information_flow",
    "initiated_by",
    "correspondence_type",
    "cost",
    "duration",
    "evaluation",
    "attempt_failed",
    "campaign_id",
    "campaign_target",
    "campaign_response",
    "opportunity_id",
    "segment_no",
    "logged_segment_id",
    "language",
    "body",
    "attachment",
    "attachment_name",
    "delivery_status",
    "delivery_attempts",
    "delivery_next_try_at",
    "delivery_last_error",
    "delivered_at",
    "canceled",
    "draft_id",
    "logged_by_id",
    "logged_at",
    "updated_at",
    "updated_by_id",
)


def log_entries_statement(
    *,
    segment: Segment,
    logged_segment_id: int,
    user_id: int | None,
    now: datetime.datetime,
    deliver: bool,
) -> tuple[str, list[Any]]:
    """The one ``INSERT ... SELECT`` that writes a log entry per line of ``segment``.

    A line's date is the segment's, or its own when personalised; the time is the time of
    logging. Email lines to deliver are `Pending` for the delivery command. The attachment is
    the name of the one stored file (the segment's, or the line template's own), never a copy.
    """
    entries = _table(InteractionLogEntry)
    content = _table(InteractionTemplateContent)
    local = timezone.localtime(now)
    date = segment.date or local.date()
    sql = f"""
        INSERT INTO {entries} ({", ".join(ENTRY_COLUMNS)})
        SELECT
            l.contact_id,
            CASE WHEN c.type = 'company' THEN c.id ELSE c.company_id END,
            CASE WHEN l.personalised AND l.date IS NOT NULL THEN l.date ELSE %s END,
            %s,
            COALESCE(NULLIF(l.interaction_description, ''), t.description),
            l.subject,
            l.template_id,
            t.group_id,
            l.salesperson_id,
            l.information_flow,
            l.initiated_by,
            CASE WHEN l.correspondence_type = 'email' AND c.email = '' THEN ''
                 ELSE l.correspondence_type END,
            l.unit_cost,
            l.unit_duration,
            '',
            false,
            l.campaign_id,
            l.campaign_target,
            l.campaign_response,
            NULL,
            s.number,
            %s,
            l.language,
            l.body,
            CASE
                WHEN l.template_id = s.template_id AND l.language = s.language THEN s.attachment
                ELSE COALESCE(
                    NULLIF(va.attachment, ''),
                    NULLIF(vd.attachment, ''),
                    CASE WHEN l.template_id = s.template_id THEN s.attachment END,
                    ''
                )
            END,
            CASE
                WHEN l.template_id = s.template_id AND l.language = s.language
                THEN s.attachment_name
                WHEN COALESCE(NULLIF(va.attachment, ''), NULLIF(vd.attachment, '')) IS NULL
                 AND l.template_id = s.template_id THEN s.attachment_name
                ELSE ''
            END,
            CASE WHEN %s AND l.correspondence_type = 'email' AND c.email <> '' THEN 'pending'
                 ELSE '' END,
            0,
            NULL,
            '',
            NULL,
            false,
            NULL,
            %s,
            %s,
            %s,
            %s
          FROM {_table(SegmentLine)} l
          JOIN {_table(Segment)} s ON s.id = l.segment_id
          JOIN {_table(Contact)} c ON c.id = l.contact_id
          JOIN {_table(InteractionTemplate)} t ON t.id = l.template_id
          LEFT JOIN {content} va
                 ON va.template_id = l.template_id AND va.language = l.language
                AND l.language <> ''
          LEFT JOIN {content} vd ON vd.template_id = l.template_id AND vd.language = ''
         WHERE l.segment_id = %s
    """
    params = [
        date,
        local.time().replace(microsecond=0),
        logged_segment_id,
        deliver,
        user_id,
        now,
        now,
        user_id,
        segment.pk,
    ]
    return sql, params


def _log(segment: Segment, *, user, send_attachments: bool) -> LogResult:
    now = timezone.now()
    logged = LoggedSegment.objects.create(
        segment=segment,
        segment_no=segment.number,
        description=segment.description,
        logged_by=user,
        updated_by=user,
    )
    sql, params = log_entries_statement(
        segment=segment,
        logged_segment_id=logged.pk,
        user_id=user.pk,
        now=now,
        deliver=send_attachments,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        logged.entry_count = cursor.rowcount
    logged.save(update_fields=["entry_count"])
    delivering = 0
    if send_attachments:
        delivering = InteractionLogEntry.objects.filter(
            logged_segment=logged, delivery_status="pending"
        ).count()
    # Frozen: off the `Segments` list, viewable (read-only) from its logged segment.
    Segment.objects.filter(pk=segment.pk).update(
        status=SegmentStatus.LOGGED, updated_at=now, updated_by=user
    )
    segment.status = SegmentStatus.LOGGED
    return LogResult(logged=logged, delivering=delivering)


@dataclass
class FollowUp:
    segment: Segment
    added: int


def logged_segment_follow_up(
    *,
    logged: LoggedSegment,
    user,
    response: str = FollowUpResponse.ALL,
    evaluations: Iterable[str] = (),
) -> FollowUp:
    """`Create Follow-up Segment` on a logged segment: a new segment with those of its contacts
    that ``response`` chooses (`FollowUpResponse`), exclusions respected, in one statement."""
    if not user.has_perm("segments.add_segment"):
        raise PermissionDenied
    with transaction.atomic(durable=True):
        return _create_follow_up(logged, user=user, response=response, evaluations=evaluations)


def _create_follow_up(
    logged: LoggedSegment,
    *,
    user,
    response: str = FollowUpResponse.ALL,
    evaluations: Iterable[str] = (),
) -> FollowUp:
    """`Follow-up on segment <no.>`: the logged segment's contacts that ``response`` chooses
    (exclusions respected), no interaction assigned yet; its first step says whom it took."""
    evaluations = list(evaluations)
    follow_up = Segment(
        number=_next_segment_number(),
        description=(_("Follow-up on segment %(no)s") % {"no": logged.segment_no})[:100],
        date=timezone.localdate(),
        salesperson_id=logged.segment.salesperson_id,
    )
    follow_up.stamp(user)
    follow_up.save()
    described = str(FollowUpResponse(response).label)
    if response == FollowUpResponse.EVALUATED:
        labels = dict(Evaluation.choices)
        described += " " + " / ".join(str(labels.get(value, value)) for value in evaluations)
    step = _step_begin(
        follow_up,
        user=user,
        action=StepAction.FOLLOW_UP,
        criteria={"logged_segment": logged.pk, "response": response, "evaluation": evaluations},
        described=_("Logged segment %(logged)s: %(whom)s") % {"logged": logged, "whom": described},
    )
    contacts = follow_up_contacts(logged, response=response, evaluations=evaluations)
    added = _add_contacts(follow_up, user=user, contacts=contacts.segmentable(), step=step)
    _step_end(step, added=added)
    return FollowUp(segment=follow_up, added=added)


def follow_up_contacts(
    logged: LoggedSegment, *, response: str, evaluations: Iterable[str] = ()
) -> QuerySet[Contact]:
    """The logged segment's contacts that a follow-up by ``response`` takes (before exclusions).

    - answered: a non-canceled inbound entry initiated by them, dated on or after the day the
      segment was logged (not one of the logged segment's own entries);
    - not answered: every other contact of the logged segment;
    - evaluated: a non-canceled entry evaluated as one of ``evaluations``, among the logged
      segment's own entries and their entries dated since it was logged;
    - attempt failed: their entry of the logged segment is marked Attempt Failed (not canceled).

    Each is an EXISTS over the contact's entries, which their (contact, date) index finds.
    """
    contacts = Contact.objects.filter(segment_lines__segment_id=logged.segment_id)
    if response == FollowUpResponse.ALL:
        return contacts
    since = timezone.localtime(logged.logged_at).date()
    entries = InteractionLogEntry.objects.active().filter(contact=OuterRef("pk"))
    own = Q(logged_segment=logged)
    if response in (FollowUpResponse.ANSWERED, FollowUpResponse.NOT_ANSWERED):
        answers = Exists(
            entries.filter(
                information_flow=InformationFlow.INBOUND,
                initiated_by=InitiatedBy.THEM,
                date__gte=since,
            ).exclude(own)
        )
        return contacts.filter(answers if response == FollowUpResponse.ANSWERED else ~answers)
    if response == FollowUpResponse.EVALUATED:
        evaluated = entries.filter(own | Q(date__gte=since), evaluation__in=list(evaluations))
        return contacts.filter(Exists(evaluated))
    if response == FollowUpResponse.ATTEMPT_FAILED:
        return contacts.filter(Exists(entries.filter(own, attempt_failed=True)))
    raise ValueError(f"unknown follow-up response {response!r}")


# --- Logged segments ---------------------------------------------------------------------------


def logged_segment_switch_canceled(*, logged: LoggedSegment, user) -> int:
    """`Switch Check Mark in Canceled`: flip the logged segment and set every one of its entries
    to its new state. Returns how many entries changed."""
    if not user.has_perm("segments.cancel_loggedsegment"):
        raise PermissionDenied
    with transaction.atomic(durable=True):
        locked = lock_or_gone(
            LoggedSegment.objects.select_for_update(),
            pk=logged.pk,
            gone=_(
                "Logged segment %(logged)s was deleted meanwhile (Delete Canceled Segments); "
                "nothing was switched."
            )
            % {"logged": logged.pk},
        )
        locked.canceled = not locked.canceled
        locked.updated_by = user
        locked.save(update_fields=["canceled", "updated_by", "updated_at"])
        changed = (
            InteractionLogEntry.objects.filter(logged_segment=locked)
            .exclude(canceled=locked.canceled)
            .update(canceled=locked.canceled, updated_by=user, updated_at=timezone.now())
        )
    logged.canceled = locked.canceled
    return changed


@dataclass
class DeletedSegments:
    segments: int
    entries: int


def logged_segments_delete_canceled(*, user=None) -> DeletedSegments:
    """`Delete Canceled Segments`: remove each canceled logged segment and its frozen segment.

    Their entries stay, canceled, and keep the segment number as text. Rows are claimed with
    ``SKIP LOCKED``, so two runs at once (a user and the cron command) never delete the same
    one twice. ``user=None`` is the cron command.
    """
    if user is not None and not user.has_perm("segments.delete_loggedsegment"):
        raise PermissionDenied
    with transaction.atomic(durable=True):
        claimed = list(
            LoggedSegment.objects.select_for_update(skip_locked=True)
            .filter(canceled=True)
            .values_list("pk", "segment_id")
        )
        if not claimed:
            return DeletedSegments(0, 0)
        logged_ids = [pk for pk, _segment in claimed]
        segment_ids = [segment for _pk, segment in claimed]
        entries = InteractionLogEntry.objects.filter(logged_segment_id__in=logged_ids).update(
            logged_segment=None, canceled=True, updated_at=timezone.now(), updated_by=user
        )
        LoggedSegment.objects.filter(pk__in=logged_ids).delete()
        Segment.objects.filter(pk__in=segment_ids).delete()
    return DeletedSegments(len(claimed), entries)
