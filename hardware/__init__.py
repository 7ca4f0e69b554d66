"""Robots: registry, live state, movement commands delivered over the event socket."""

__version__ = "1.0.0"
