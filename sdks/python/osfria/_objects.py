"""Results: plain dicts that also allow attribute access, as OpenAI's objects do (``r.choices[0].message``)."""

from typing import Any


class OsfriaObject(dict):
    """A JSON object. ``obj["key"]`` and ``obj.key`` both work; ``dict`` methods keep their names."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None

    def to_dict(self) -> dict:
        return _plain(self)


def wrap(value: Any) -> Any:
    """JSON as parsed, with every object an OsfriaObject."""
    if isinstance(value, dict):
        return OsfriaObject((k, wrap(v)) for k, v in value.items())
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
