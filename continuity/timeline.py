"""Who did what, when, on an exam: its story told from what the database already keeps.

The exam and its tasks keep their history (django-simple-history, written by
`accounts.history.save_tracked` with the person who acted, None for a job); escalations and
questions to the prescriber are rows of their own. The exam page tells them in order: the
exam recorded, its result received, each task assigned, started, escalated (to whom, why),
done (by whom, with its note), questions asked and answered, the follow-up closed.

People are named by full name, else email; "system" when a job or the platform acted. A
constant number of queries whatever the number of tasks and events.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from continuity.models import ContactRequest, Escalation, FollowUpTask, PendingExam

Task = FollowUpTask
Exam = PendingExam.Status


def person(user) -> str:
    """A person by name, else email; "system" when nobody (a job, the platform)."""
    if user is None:
        return _("system")
    return user.get_full_name() or user.email


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str  # a sentence naming who acted
    detail: str = ""  # why (an escalation), the note left (a task done)
    kind: str = ""  # received, assigned, started, escalated, asked, answered, done, closed...


def _exam_events(exam: PendingExam) -> list[Event]:
    events = [
        Event(
            exam.created_at,
            _("Exam recorded by %(who)s") % {"who": person(exam.created_by)},
            kind="recorded",
        )
    ]
    rows = exam.history.select_related("history_user").order_by("history_date", "history_id")
    previous = None
    for row in rows:
        status = row.status
        if previous is not None and status != previous:
            who = person(row.history_user)
            if status == Exam.RECEIVED and previous == Exam.AWAITING:
                events.append(
                    Event(row.received_at or row.history_date,
                          _("Result received from %(who)s") % {"who": who}, kind="received")
                )  # fmt: skip
            elif status == Exam.RECEIVED:
                events.append(
                    Event(row.received_at or row.history_date,
                          _("Amended result received from %(who)s") % {"who": who},
                          kind="received")
                )  # fmt: skip
            elif status == Exam.CLOSED:
                events.append(
                    Event(
                        row.closed_at or row.history_date,
                        _("Follow-up closed by %(who)s") % {"who": who},
                        detail=row.review_note,
                        kind="closed",
                    )  # fmt: skip
                )
            elif status == Exam.CANCELLED:
                events.append(
                    Event(
                        row.history_date,
                        _("Exam cancelled by %(who)s") % {"who": who},
                        detail=row.review_note,
                        kind="cancelled",
                    )  # fmt: skip
                )
        previous = status
    return events


def _task_events(task_rows, titles: dict[int, str]) -> list[Event]:
    """Each task's changes, read from consecutive history rows (escalations are told from
    their own rows, which say why)."""
    events = []
    for task_id, rows in itertools.groupby(task_rows, key=lambda row: row.id):
        title = titles.get(task_id, "")
        previous = None
        for row in rows:
            events.extend(_task_changes(previous, row, title))
            previous = row
    return events


def _task_changes(previous, row, title: str) -> list[Event]:
    at, who = row.history_date, person(row.history_user)
    if previous is None:
        if row.assignee_id is None:
            text = _("Task “%(task)s” opened, nobody to assign it to") % {"task": title}
        else:
            text = _("Task “%(task)s” assigned to %(who)s") % {
                "task": title,
                "who": person(row.assignee),
            }
        return [Event(row.created_at or at, text, kind="assigned")]
    changes = []
    escalated = row.escalation_level != previous.escalation_level
    if row.assignee_id != previous.assignee_id and not escalated and row.assignee_id:
        changes.append(
            Event(at, _("Task taken by %(who)s") % {"who": person(row.assignee)}, kind="taken")
        )
    if row.status != previous.status:
        if row.status == Task.Status.IN_PROGRESS and previous.status == Task.Status.OPEN:
            changes.append(Event(at, _("Task started by %(who)s") % {"who": who}, kind="started"))
        elif row.status == Task.Status.DONE:
            done_by = person(row.done_by) if row.done_by_id else who
            changes.append(
                Event(
                    row.done_at or at,
                    _("Task “%(task)s” done by %(who)s") % {"task": title, "who": done_by},
                    detail=row.note,
                    kind="done",
                )  # fmt: skip
            )
        elif row.status == Task.Status.CANCELLED:
            changes.append(Event(at, _("Task cancelled by %(who)s") % {"who": who}, kind="done"))
        elif row.status == Task.Status.OPEN and previous.status == Task.Status.DONE:
            changes.append(Event(at, _("Task reopened"), kind="reopened"))
    return changes


def _escalation_event(escalation: Escalation) -> Event:
    level = Task.Level(escalation.to_level).label if escalation.to_level in Task.Level else ""
    if escalation.to_user_id:
        text = _("Escalated from %(from)s to %(to)s (%(level)s)") % {
            "from": person(escalation.from_user) if escalation.from_user_id else _("nobody"),
            "to": person(escalation.to_user),
            "level": level,
        }
    else:
        text = _("Escalated to the %(level)s level: nobody holds it") % {"level": level}
    return Event(escalation.at, text, detail=escalation.reason, kind="escalated")


def _contact_events(contact: ContactRequest) -> list[Event]:
    prescriber = contact.volunteer.full_name
    events = [
        Event(
            contact.asked_at,
            _("%(who)s asked the prescriber, %(prescriber)s")
            % {"who": person(contact.asked_by), "prescriber": prescriber},
            detail=contact.question,
            kind="asked",
        )
    ]
    if contact.answered_at:
        events.append(
            Event(
                contact.answered_at,
                _("%(prescriber)s answered") % {"prescriber": prescriber},
                detail=contact.answer,
                kind="answered",
            )  # fmt: skip
        )
    return events


def exam_timeline(exam: PendingExam, tasks) -> list[Event]:
    """The exam's story, oldest first; `tasks` are the exam's tasks the reader may see."""
    tasks = list(tasks)
    titles = {task.pk: task.title for task in tasks}
    ids = list(titles)
    task_rows = (
        Task.history.filter(id__in=ids)
        .select_related("history_user", "assignee", "done_by")
        .order_by("id", "history_date", "history_id")
    )
    escalations = Escalation.objects.filter(task_id__in=ids).select_related("from_user", "to_user")
    contacts = ContactRequest.objects.filter(task_id__in=ids).select_related(
        "volunteer__user", "asked_by"
    )
    events = _exam_events(exam) + _task_events(task_rows, titles)
    events += [_escalation_event(escalation) for escalation in escalations]
    events += [event for contact in contacts for event in _contact_events(contact)]
    return sorted(events, key=lambda event: event.at)
