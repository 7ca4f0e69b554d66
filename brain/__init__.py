"""BRAiN Mission Control: the Django project and its cross-cutting core."""

__version__ = "1.0.0"
