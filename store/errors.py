"""Exceptions of the state store (store/state.py), in a module of their own so that code which
only catches them (the command line's reload) does not import SQLAlchemy to do so."""
from __future__ import annotations


class StateError(Exception):
    """The state store cannot be used as it is (a message for people, one line)."""


class StateUnavailable(StateError):
    """The state store does not answer (PostgreSQL down or unreachable)."""
