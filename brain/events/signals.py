"""Signals of the event core, for apps that react to the log (the core imports none).

``events_numbered``: sent after commit, in the process that numbered them, with
``events``: the durable ``WireEvent``s just numbered, in ``seq`` order. Receivers run
on the numbering thread (or the writer's, on SQLite): they must be quick and must not
raise (errors are logged). Rows numbered as stragglers by a hub send nothing: a
receiver that must see every event also reads the log (webhooks sweep it).
"""

from django.dispatch import Signal

events_numbered = Signal()
