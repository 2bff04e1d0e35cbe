"""`Frozen`: the base of dldbg's small immutable value classes (the reader's descriptions, the
resource limits), where a frozen dataclass would do.

A dataclass costs about a millisecond to create when its module is imported (`dataclasses`
writes the source of its methods and compiles it), and importing `dataclasses` costs several
more (it imports `inspect`, `ast` and `dis`): `dldbg inspect`, which must start in 25 ms, paid
for seventeen of them before reading a byte.  A `Frozen` class takes about 20 microseconds to
create.  Events stay frozen dataclasses (dldbg.events): `inspect` does not import them.

A subclass lists its fields in `__slots__` (and `__dict__` there if it has cached properties)
and its `__init__` sets each with `set_field(self, NAME, VALUE)` (`object.__setattr__`, as the
`__init__` a frozen dataclass generates does: as fast).  It gets what
`@dataclass(frozen=True)` gives: equality (same class, equal fields) and a hash by field values,
the repr `Name(field=value, ...)`, an AttributeError (`FrozenInstanceError`) on assigning or
deleting a field, and copy and pickle.
"""

from __future__ import annotations

from operator import attrgetter


#: how a Frozen subclass's `__init__` sets a field (its own `__setattr__` refuses)
set_field = object.__setattr__


class FrozenInstanceError(AttributeError):
    """A field of a Frozen instance was assigned or deleted."""


class Frozen:
    __slots__ = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._fields = tuple(name for name in cls.__slots__ if name != "__dict__")
        # the field values in one C call, for equality and hash (a bare value for one field)
        cls._values = attrgetter(*cls._fields)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._values(self) == other._values(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name, value):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self):
        return type(self), tuple(getattr(self, name) for name in self._fields)


class cached_property:  # noqa: N801  (named as the functools descriptor it replaces)
    """`functools.cached_property` without its lock: the value is computed on first access and
    kept in the instance's `__dict__`, which shadows this descriptor from then on.  Python 3.11's
    takes a lock on every first access (about 1 microsecond; 3.12 dropped it): a load reads a
    dozen cached properties of its module's parse and of the module once each.  Two threads
    reading one first at the same time may both compute it (the values are equal)."""

    def __init__(self, func):
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__
        self.__module__ = func.__module__

    def __set_name__(self, owner, name: str) -> None:
        self.attrname = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.attrname] = self.func(instance)
        return value
