"""Event filters shared by the WebSocket and the REST history: types and subject."""

import re
from dataclasses import dataclass, field

from django.db.models import Q

from brain.events.registry import registered_types, subject_kinds, used_subject_kinds
from brain.identifiers import IDENTIFIER_CHARS

TYPE_PATTERN = re.compile(r"^[a-z0-9_.*]{1,100}$")
# ``<kind>_<id>``: mission_, robot_, agent_, or any other target prefix.
SUBJECT = re.compile(rf"^([a-z]+)_({IDENTIFIER_CHARS})$")
MAX_PATTERNS = 20


class FilterError(ValueError):
    """A filter value the client sent is not valid; the message names it."""


def _matches_a_type(pattern: str, known) -> bool:
    if pattern == "*":
        return True
    regex = re.compile(re.escape(pattern).replace(r"\*", ".*") + "$")
    return any(regex.match(name) for name in known)


def _check_subject(subject: str) -> None:
    """A subject of a kind some type uses, with an id of that kind's shape."""
    kind, ident = SUBJECT.match(subject).groups()
    used = used_subject_kinds()
    if kind not in used:
        raise FilterError(
            f"subject: no event is about a {kind!r}; the kinds are "
            + ", ".join(sorted(used))
        )
    declared = subject_kinds().get(kind)
    if declared is not None and not declared.accepts(ident):
        raise FilterError(
            f"subject: {subject!r} is not a {kind} subject: {declared.rule} "
            f"(e.g. {kind}_{declared.example})"
        )


@dataclass(frozen=True)
class EventFilter:
    types: tuple[str, ...] = ()
    subject: str | None = None
    # The types the reader may receive (its permissions); None: every type.
    readable: frozenset[str] | None = None
    _type_regex: re.Pattern | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(
        cls,
        types: str | list | None,
        subject: str | None,
        readable: frozenset[str] | None = None,
        *,
        confined: str | None = None,
    ) -> "EventFilter":
        """``confined``: the one subject the reader may follow (a machine token's
        own, ``brain.access.machines.confined_subject``); it is the subject when
        none is asked for, and asking for another is refused."""
        if isinstance(types, str):
            patterns = [p.strip() for p in types.split(",") if p.strip()]
        elif isinstance(types, list) and all(isinstance(p, str) for p in types):
            patterns = [p.strip() for p in types if p.strip()]
        elif types is None:
            patterns = []
        else:
            raise FilterError("types: expected a comma-separated string or a list")
        if len(patterns) > MAX_PATTERNS:
            raise FilterError(f"types: at most {MAX_PATTERNS} patterns")
        known = registered_types()
        for pattern in patterns:
            if not TYPE_PATTERN.match(pattern):
                raise FilterError(f"types: invalid pattern {pattern!r}")
            if not _matches_a_type(pattern, known):
                raise FilterError(
                    f"types: no event type matches {pattern!r}; the types are "
                    "listed at GET /api/events/types"
                )
        if subject in ("", None):
            subject = None
        elif not isinstance(subject, str) or not SUBJECT.match(subject):
            raise FilterError(
                "subject: expected <kind>_<id>, e.g. mission_<id>, robot_<id>, "
                "agent_<id>"
            )
        else:
            _check_subject(subject)
        if confined is not None:
            if subject is None:
                subject = confined
            elif subject != confined:
                raise FilterError(
                    f"subject: this token may only follow {confined}, not {subject}"
                )
        regex = None
        if patterns and "*" not in patterns:
            regex = re.compile(
                "|".join(
                    "(?:" + re.escape(p).replace(r"\*", ".*") + ")$" for p in patterns
                )
            )
        if readable is not None and readable >= set(registered_types()):
            readable = None
        return cls(
            types=tuple(patterns),
            subject=subject,
            readable=readable,
            _type_regex=regex,
        )

    def matches(self, type_: str, subjects: frozenset[str]) -> bool:
        if self.readable is not None and type_ not in self.readable:
            return False
        if self.subject is not None and self.subject not in subjects:
            return False
        if self._type_regex is not None and not self._type_regex.match(type_):
            return False
        return True

    def to_q(self) -> Q:
        q = Q()
        if self.readable is not None:
            q &= Q(type__in=sorted(self.readable))
        if self._type_regex is not None:
            type_q = Q()
            for pattern in self.types:
                if "*" not in pattern:
                    type_q |= Q(type=pattern)
                elif pattern.endswith("*") and "*" not in pattern[:-1]:
                    type_q |= Q(type__startswith=pattern[:-1])
                else:
                    regex = "^" + re.escape(pattern).replace(r"\*", ".*") + "$"
                    type_q |= Q(type__regex=regex)
            q &= type_q
        if self.subject is not None:
            # The target is one of the subjects.
            q &= Q(subjects__has=self.subject)
        return q

    def describe(self) -> dict:
        return {"types": list(self.types), "subject": self.subject}
