"""What travels between server processes: an event, encoded once, and its keys."""

from dataclasses import dataclass

GROUP = "brain.events"
MESSAGE_TYPE = "events.batch"
# Most events one channel-layer message carries.
BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class WireEvent:
    seq: int | None  # None: a live-only event
    type: str
    subjects: frozenset[str]
    text: str

    def to_message(self) -> list:
        return [self.seq, self.type, list(self.subjects), self.text]

    @classmethod
    def from_message(cls, item: list) -> "WireEvent":
        seq, type_, subjects, text = item
        return cls(seq=seq, type=type_, subjects=frozenset(subjects), text=text)

    @classmethod
    def from_row(cls, row) -> "WireEvent":
        return cls(
            seq=row.seq,
            type=row.type,
            subjects=frozenset(row.subjects or ()),
            text=row.encode(),
        )
