"""Rows that only their service may write.

A mission, a mission log line, a ledger entry and a credit balance never change
without their Charter event: the services write the row and emit in one
transaction. The models refuse any other insert or change (a shell session, a
script, a ``bulk_create``), so no change can be stored that no dashboard or
integrator will ever hear of. A service wraps its own writes in ``service_write``.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

_FLAG = "_written_by_service"


@contextmanager
def service_write(*instances) -> Iterator[None]:
    """Let these instances be saved (or bulk-created) inside the block."""
    for instance in instances:
        setattr(instance, _FLAG, True)
    try:
        yield
    finally:
        for instance in instances:
            setattr(instance, _FLAG, False)


def require_service(instances: Iterable, service: str, what: str) -> None:
    """Refuse the write unless every instance is inside ``service_write``."""
    if not all(getattr(instance, _FLAG, False) for instance in instances):
        raise TypeError(
            f"{what} go through {service}, which emits the event in the same "
            "transaction; a direct write would never be heard of"
        )
