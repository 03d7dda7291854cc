"""Check feedback rows column by column, the fast way, with the same rules as the row path.

A `FeedbackPlan` is compiled once per file from its column mapping. It places each cell the
way `RowMapper.map` does and validates each field with the very validators of
`FeedbackItemCreate` (its field types, the `Scores` model and the model's own checks), but it
validates a column's repeated values (channels, languages, scores, sources) once and reuses
the answer, and normalizes each customer email, phone or external id once per import.

It only ever says "this row is good, here are its values": a row it cannot vouch for (a problem
anywhere, a JSON or Parquet value that is not text, an unusual mapping) gets None and takes
the row path, which finds and words the problems. So both paths accept the same rows with the
same values, and every rejection reads the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from types import SimpleNamespace
from typing import Any, NamedTuple

from pydantic import TypeAdapter, ValidationError

from touchpoints.customers.identities import IdentityKind, NormalizedIdentity, normalize_identity
from touchpoints.errors import InvalidInput
from touchpoints.feedback.schemas import SCORE_COLUMNS, FeedbackItemCreate, Scores
from touchpoints.imports.mapping import CUSTOMER_PREFIX, LEADING_NUMBER, RowMapper, parse_when
from touchpoints.imports.models import ImportKind
from touchpoints.imports.readers import RAW_TEXT_KEY, RawRow
from touchpoints.imports.rows import DEFAULT_SOURCE, IDENTITY_FIELDS, source_ref_for

# A column's answers are remembered up to this many distinct values (text is not repeated).
MEMO_LIMIT = 50_000
SCORE_NAMES = frozenset(Scores.model_fields)
FIELD_NAMES = frozenset(FeedbackItemCreate.model_fields) - {"scores", "metadata"}
PLAIN_KEY = re.compile(r"^[^.]+$")
# CustomerCreate refuses longer names (the row path then stops the import).
DISPLAY_NAME_LIMIT = 200
_FAIL = object()


@dataclass(frozen=True)
class CheckedRow:
    """A row the plan vouches for: its feedback values and the customer it names."""

    line: int
    values: dict[str, Any]  # feedback_items columns, without id, workspace and received_at
    identities: tuple[NormalizedIdentity, ...]
    display_name: str | None


class _Step(NamedTuple):
    """Where one file column goes: (`field`, name), (`score`, name), (`metadata`, key)..."""

    column: str
    path: str
    target: str
    name: str
    translations: dict[str, Any] | None


def _field_adapter(name: str) -> TypeAdapter[Any]:
    info = FeedbackItemCreate.model_fields[name]
    return TypeAdapter(info.rebuild_annotation())


def _placement(path: str, spare: str) -> tuple[str, str]:
    """Return (target, name) for a field path; target `unknown` for what the plan leaves out."""
    if path == spare:
        return "spare", ""
    head, _, rest = path.partition(".")
    if path in FIELD_NAMES:
        return "field", path
    if head == "scores" and rest in SCORE_NAMES:
        return "score", rest
    if head == "metadata" and PLAIN_KEY.match(rest):
        return "metadata", rest
    if path.startswith(CUSTOMER_PREFIX) and rest:
        return "customer", rest
    return "unknown", ""


def schema_is_plain() -> bool:
    """Tell whether FeedbackItemCreate checks only what the plan reproduces."""
    decorators = FeedbackItemCreate.__pydantic_decorators__
    after_only = all(d.info.mode == "after" for d in decorators.model_validators.values())
    return after_only and not decorators.field_validators and not decorators.validators


class FeedbackPlan:
    """Check the feedback rows of one file, read with one mapping, for one caller."""

    def __init__(self, mapper: RowMapper, *, file_sha256: str, region: str, scoped: bool) -> None:
        self.mapper = mapper
        self.file_sha256 = file_sha256
        self.region = region
        self.scoped = scoped  # a caller limited to an org unit: rows need one (row path)
        self.enabled = mapper.kind is ImportKind.FEEDBACK and schema_is_plain()
        self._steps: dict[tuple[str, ...], list[_Step] | None] = {}
        self._adapters = {name: _field_adapter(name) for name in FIELD_NAMES}
        self._metadata = _field_adapter("metadata")
        self._memo: dict[str, dict[Any, Any]] = {name: {} for name in FIELD_NAMES}
        self._scores: dict[Any, Any] = {}
        self._identities: dict[tuple[IdentityKind, str, str], Any] = {}
        self._defaults = self._compile_defaults()
        self._after = [
            d.func for d in FeedbackItemCreate.__pydantic_decorators__.model_validators.values()
        ]
        self._field_defaults = {
            name: info.get_default(call_default_factory=True)
            for name, info in FeedbackItemCreate.model_fields.items()
            if name in FIELD_NAMES
        }

    def check(self, raw: RawRow) -> CheckedRow | None:
        """Return the row's checked values, or None when the row path must handle it."""
        if not self.enabled or raw.problem is not None or RAW_TEXT_KEY in raw.values:
            return None
        steps = self._steps_for(raw.values)
        if steps is None:
            return None
        placed = self._place(raw, steps)
        if placed is None:
            return None
        fields, scores, metadata, customer = placed
        if "source" not in fields:
            fields["source"] = self._field("source", DEFAULT_SOURCE)
        if "source_ref" not in fields:
            fields["source_ref"] = source_ref_for(self.file_sha256, raw.line)
        values = self._validated(fields, scores, metadata)
        if values is None:
            return None
        return self._with_customer(raw.line, values, customer)

    def _steps_for(self, values: dict[str, Any]) -> list[_Step] | None:
        columns = tuple(values)
        if columns not in self._steps:
            self._steps[columns] = self._compile(list(columns))
        return self._steps[columns]

    def _compile(self, columns: list[str]) -> list[_Step] | None:
        spare = "metadata"
        steps = []
        for column, path in self.mapper.targets(columns).items():
            target, name = _placement(path, spare)
            translations = self.mapper.mapping.values.get(column)
            steps.append(_Step(column, path, target, name, translations))
        paths = [step.path for step in steps if step.target != "spare"]
        # Two columns for one field: the row path keeps the last; leave that to it.
        return steps if len(paths) == len(set(paths)) else None

    def _compile_defaults(self) -> list[tuple[str, str, str, Any]]:
        defaults = []
        for path, value in self.mapper.mapping.defaults.items():
            target, name = _placement(path, "")
            converted = _convert(path, value, self.mapper)
            if target in ("unknown", "spare") or converted is _FAIL:
                self.enabled = False
            defaults.append((path, target, name, converted))
        return defaults

    def _place(
        self, raw: RawRow, steps: list[_Step]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None, dict[str, str]] | None:
        """Place the cells as `RowMapper.map` does, fields validated; None for any problem."""
        fields: dict[str, Any] = {}
        scores: dict[str, Any] = {}
        metadata: dict[str, Any] | None = None
        customer: dict[str, str] = {}
        placed: set[str] = set()
        values = raw.values
        for column, path, target, name, translations in steps:
            value = values[column]
            if value is None:
                continue
            kind = value.__class__
            if kind is str:
                value = value.strip()
                if not value:
                    continue
            elif kind not in (int, float, bool):
                return None  # objects, lists, bytes: the row path flattens or refuses them
            if translations is not None:
                value = translations.get(str(value), value)
                if value is None:
                    continue
            if target == "spare":
                metadata = {} if metadata is None else metadata
                metadata[column] = value
                continue
            placed.add(path)
            if target == "field":
                value = self._field(name, _convert(path, value, self.mapper))
                if value is _FAIL:
                    return None
                fields[name] = value
            elif target == "unknown":
                return None
            else:
                metadata = _put(
                    target,
                    name,
                    _convert(path, value, self.mapper),
                    fields,
                    scores,
                    metadata,
                    customer,
                )
        for path, target, name, value in self._defaults:
            if path not in placed:
                if target == "field":
                    value = self._field(name, value)
                    if value is _FAIL:
                        return None
                metadata = _put(target, name, value, fields, scores, metadata, customer)
        return fields, scores, metadata, customer

    def _validated(
        self, fields: dict[str, Any], scores: dict[str, Any], metadata: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """Finish FeedbackItemCreate's checks: scores, metadata, the model's own rules."""
        if "occurred_at" not in fields:
            return None
        score_model = self._score_model(scores) if scores else None
        if score_model is _FAIL:
            return None
        if metadata is not None:
            try:
                metadata = self._metadata.validate_python(metadata)
            except ValidationError:
                return None
        item = {**self._field_defaults, **fields, "scores": score_model}
        item["metadata"] = {} if metadata is None else metadata
        try:
            # The model's own "after" rules, given the checked fields as the model would be.
            model = SimpleNamespace(**item)
            for validator in self._after:
                validator(model)
        except (ValueError, AttributeError, TypeError):
            return None
        return _columns(item)

    def _field(self, name: str, value: Any) -> Any:
        """Validate one field value as FeedbackItemCreate would, remembering repeated values."""
        if value is _FAIL:
            return _FAIL
        adapter = self._adapters[name]
        if name == "occurred_at":
            return _validate(adapter, value)  # compared with now: never remembered
        memo = self._memo[name]
        key = value if value.__class__ is str else (value.__class__, value)
        try:
            return memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable default
            return _validate(adapter, value)
        good = _validate(adapter, value)
        if len(memo) < MEMO_LIMIT:
            memo[key] = good
        return good

    def _score_model(self, scores: dict[str, Any]) -> Any:
        try:
            key = tuple(sorted((name, value.__class__, value) for name, value in scores.items()))
            return self._scores[key]
        except KeyError:
            pass
        except TypeError:
            return _validate(Scores, scores)
        good = _validate(Scores, scores)
        if len(self._scores) < MEMO_LIMIT:
            self._scores[key] = good
        return good

    def _with_customer(
        self, line: int, values: dict[str, Any], customer: dict[str, str]
    ) -> CheckedRow | None:
        """Normalize the row's identities as `rows._link_customer` does."""
        identities = []
        for name, kind in IDENTITY_FIELDS:
            value = customer.get(name)
            if value is None:
                continue
            source = customer.get("external_id_source", "") if name == "external_id" else ""
            identity = self._identity(kind, value, source, f"customer.{name}")
            if identity is None:
                return None
            identities.append(identity)
        display_name = customer.get("display_name")
        links_customer = bool(identities) and values["customer_id"] is None
        if links_customer and display_name is not None and len(display_name) > DISPLAY_NAME_LIMIT:
            return None
        if self.scoped and values["org_unit_id"] is None:
            return None
        return CheckedRow(line, values, tuple(identities), display_name)

    def _identity(
        self, kind: IdentityKind, value: str, source: str, field: str
    ) -> NormalizedIdentity | None:
        key = (kind, value, source)
        found = self._identities.get(key, _FAIL)
        if found is _FAIL:
            try:
                found = normalize_identity(
                    kind, value, source=source, region=self.region, field=field
                )
            except InvalidInput:
                found = None
            if len(self._identities) < MEMO_LIMIT * 4:
                self._identities[key] = found
        return found if isinstance(found, NormalizedIdentity) else None


def _validate(adapter: TypeAdapter[Any] | type[Scores], value: Any) -> Any:
    try:
        if isinstance(adapter, TypeAdapter):
            return adapter.validate_python(value)
        return adapter.model_validate(value)
    except (ValidationError, ValueError):
        return _FAIL


def _convert(path: str, value: Any, mapper: RowMapper) -> Any:
    """Convert a placed value as `mapping._convert` does; _FAIL where it reports a problem."""
    if path == "occurred_at":
        try:
            return parse_when(value, mapper.mapping)
        except ValueError:
            return _FAIL
    if path.startswith("scores.") and isinstance(value, str):
        match = LEADING_NUMBER.match(value)
        return match.group(1) if match else value
    return value


def _put(
    target: str,
    name: str,
    value: Any,
    fields: dict[str, Any],
    scores: dict[str, Any],
    metadata: dict[str, Any] | None,
    customer: dict[str, str],
) -> dict[str, Any] | None:
    """Put a converted value where its path says; return the (maybe new) metadata."""
    if target == "field":
        fields[name] = value
    elif target == "score":
        scores[name] = value
    elif target == "customer":
        customer[name] = str(value)
    else:
        metadata = {} if metadata is None else metadata
        metadata[name] = value
    return metadata


def _columns(item: dict[str, Any]) -> dict[str, Any]:
    """Return the feedback_items columns `feedback.service.create_feedback` would store."""
    scores = item["scores"]
    channel = item["channel"]
    return {
        "solicited": item["solicited"],
        "source": item["source"],
        "source_ref": item["source_ref"],
        "channel": channel.value if isinstance(channel, Enum) else channel,
        "touchpoint_id": item["touchpoint_id"],
        "customer_id": item["customer_id"],
        "org_unit_id": item["org_unit_id"],
        "occurred_at": item["occurred_at"],
        "title": item["title"],
        "text": item["text"],
        "language": item["language"],
        "metadata": item["metadata"],
        **(scores.columns() if scores is not None else dict.fromkeys(SCORE_COLUMNS)),
    }
