"""The error hierarchy: pickling with fields intact, the documented tree, error_info_from."""

from __future__ import annotations

import inspect
import pickle
import re

import pytest

from aion_ray import errors
from aion_ray.errors import (
    ActivityError,
    AionError,
    EngineUnavailableError,
    FencedError,
    HostFullError,
    InvalidEventError,
    InvalidInputError,
    NonDeterminismError,
    PayloadError,
    QueryError,
    SequenceConflictError,
    SqlLimitError,
    SqlRefusedError,
    StoreError,
    WorkflowAlreadyStartedError,
    WorkflowCancelledError,
    WorkflowFailedError,
    WorkflowNotFoundError,
    WorkflowOutcomeError,
    WorkflowStateError,
    WorkflowTerminalError,
    WorkflowTerminatedError,
    WorkflowTimedOutError,
    error_info_from,
)
from aion_ray.model.error_info import ErrorInfo

ROOT_CAUSE = ErrorInfo(type="OSError", message="disk full", traceback="tb-root")
CAUSE = ErrorInfo(type="RuntimeError", message="step 3 broke", traceback="tb", cause=ROOT_CAUSE)

WITH_FIELDS: list[tuple[AionError, dict[str, object]]] = [
    (InvalidEventError("wf-1", "gap at 3"), {"workflow_id": "wf-1", "reason": "gap at 3"}),
    (SqlRefusedError("DELETE FROM events", "writes"), {"query": "DELETE FROM events"}),
    (
        SqlLimitError("SELECT 1", "time", "it ran past 30 s"),
        {"limit": "time", "reason": "it ran past 30 s"},
    ),
    (WorkflowNotFoundError("wf-2"), {"workflow_id": "wf-2"}),
    (WorkflowAlreadyStartedError("wf-3", "other type"), {"reason": "other type"}),
    (
        WorkflowTerminalError("wf-4", "run-9", "completed", "signal"),
        {"workflow_id": "wf-4", "run_id": "run-9", "status": "completed", "operation": "signal"},
    ),
    (WorkflowFailedError("wf-5", "run-1", CAUSE), {"run_id": "run-1", "cause": CAUSE}),
    (WorkflowCancelledError("wf-6", "run-2", "superseded"), {"reason": "superseded"}),
    (WorkflowTimedOutError("wf-7", "run-3", "3600s"), {"timeout": "3600s"}),
    (WorkflowTerminatedError("wf-7", "run-3", "ops"), {"reason": "ops"}),
    (WorkflowStateError("wf-7", "paused", "pause"), {"status": "paused", "operation": "pause"}),
    (
        ActivityError("train", 4, 3, CAUSE),
        {"activity_type": "train", "activity_id": 4, "attempt": 3, "cause": CAUSE},
    ),
    (
        NonDeterminismError("wf-8", 12, "ActivityScheduled(train)", "TimerStarted"),
        {"seq": 12, "recorded": "ActivityScheduled(train)", "requested": "TimerStarted"},
    ),
    (QueryError("wf-9", "progress", "no handler"), {"query": "progress", "reason": "no handler"}),
    (SequenceConflictError("wf-10", 4, 7), {"expected": 4, "found": 7}),
    (FencedError("wf-11", 2, 5), {"epoch": 2, "current_epoch": 5}),
    (
        EngineUnavailableError("aion-registry", "the actor died", state="died"),
        {"actor": "aion-registry", "reason": "the actor died", "state": "died"},
    ),
    (HostFullError("aion-host-1", 4), {"host": "aion-host-1", "load": 4}),
]


def all_error_classes() -> list[type[Exception]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == errors.__name__
    ]


def has_own_init(cls: type[Exception]) -> bool:
    return any("__init__" in vars(klass) for klass in cls.__mro__[: cls.__mro__.index(AionError)])


# Classes without their own __init__ take just a message; the rest get realistic fields.
EXAMPLES = WITH_FIELDS + [
    (cls(f"plain {cls.__name__}"), {})
    for cls in all_error_classes()
    if issubclass(cls, AionError) and not has_own_init(cls)
]


def test_the_examples_cover_every_error_class() -> None:
    assert {type(error) for error, _ in EXAMPLES} == set(all_error_classes())
    assert {type(error) for error, _ in WITH_FIELDS} == {
        cls for cls in all_error_classes() if has_own_init(cls)
    }


@pytest.mark.parametrize(
    ("error", "fields"), EXAMPLES, ids=[type(error).__name__ for error, _ in EXAMPLES]
)
def test_every_error_pickles_with_type_message_and_fields(
    error: AionError, fields: dict[str, object]
) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(error, protocol=protocol))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert copy.args == error.args
        assert vars(copy) == vars(error)
        for name, value in fields.items():
            assert getattr(copy, name) == value


def test_pickled_causes_keep_their_whole_chain() -> None:
    copy = pickle.loads(pickle.dumps(ActivityError("train", 1, 2, CAUSE)))
    assert copy.cause == CAUSE
    assert copy.cause.cause == ROOT_CAUSE
    assert copy.cause.cause.traceback == "tb-root"


def test_a_pickled_error_can_be_raised_and_caught_by_its_base() -> None:
    copy = pickle.loads(pickle.dumps(SequenceConflictError("wf", 1, 2)))
    with pytest.raises(StoreError) as caught:
        raise copy
    assert isinstance(caught.value, SequenceConflictError)
    assert caught.value.found == 2


def test_extra_attributes_survive_pickling() -> None:
    error = StoreError("disk")
    error.add_note("while committing group 7")
    error.detail = {"group": 7}  # type: ignore[attr-defined]
    copy = pickle.loads(pickle.dumps(error))
    assert copy.__notes__ == ["while committing group 7"]
    assert copy.detail == {"group": 7}


def test_every_error_class_subclasses_aion_error() -> None:
    for cls in all_error_classes():
        assert issubclass(cls, AionError), cls


def documented_tree() -> dict[str, str]:
    """Child name -> parent name, parsed from the tree drawn in the module docstring."""
    lines = (errors.__doc__ or "").splitlines()
    root_index = next(i for i, line in enumerate(lines) if line.strip() == "AionError")
    indent = len(lines[root_index]) - len(lines[root_index].lstrip())
    parents: dict[str, str] = {}
    stack = ["AionError"]
    for line in lines[root_index + 1 :]:
        found = re.match(r"(?P<prefix>[ │]*)[├└]── (?P<name>\w+)", line[indent:])
        if found is None:
            break
        depth = len(found["prefix"]) // 4 + 1
        del stack[depth:]
        parents[found["name"]] = stack[depth - 1]
        stack.append(found["name"])
    return parents


def test_the_documented_tree_matches_the_class_hierarchy() -> None:
    tree = documented_tree()
    classes = {cls.__name__: cls for cls in all_error_classes()}
    assert set(tree) == set(classes) - {"AionError"}
    for name, parent in tree.items():
        direct = [base for base in classes[name].__bases__ if issubclass(base, AionError)]
        assert [base.__name__ for base in direct] == [parent], name


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (SequenceConflictError, StoreError),
        (FencedError, StoreError),
        (WorkflowFailedError, WorkflowOutcomeError),
        (WorkflowCancelledError, WorkflowOutcomeError),
        (WorkflowTimedOutError, WorkflowOutcomeError),
        (WorkflowTerminatedError, WorkflowOutcomeError),
        (SqlRefusedError, InvalidInputError),
        (InvalidEventError, InvalidInputError),
        (PayloadError, InvalidInputError),
        (InvalidInputError, ValueError),
        (PayloadError, ValueError),
    ],
)
def test_documented_subclass_relations_hold(child: type[Exception], parent: type) -> None:
    assert issubclass(child, parent)


@pytest.mark.parametrize(
    "cls", [StoreError, WorkflowOutcomeError, ActivityError, NonDeterminismError, QueryError]
)
def test_errors_outside_invalid_input_are_not_value_errors(cls: type[AionError]) -> None:
    assert not issubclass(cls, ValueError)
    assert not issubclass(cls, InvalidInputError)


def test_non_determinism_message_names_workflow_seq_history_and_request() -> None:
    error = NonDeterminismError("nightly-7", 42, "ActivityScheduled(train)", "TimerStarted(60s)")
    message = str(error)
    assert message.startswith("non-determinism violation")
    assert "'nightly-7'" in message
    assert "seq 42" in message
    assert "history holds ActivityScheduled(train)" in message
    assert "code asked for TimerStarted(60s)" in message


def test_failure_messages_carry_the_cause() -> None:
    assert "RuntimeError: step 3 broke" in str(WorkflowFailedError("wf", "run", CAUSE))
    activity = str(ActivityError("train", 4, 3, CAUSE))
    assert "train #4" in activity
    assert "3 attempt(s)" in activity
    assert "RuntimeError: step 3 broke" in activity


def test_error_info_from_captures_type_message_and_traceback() -> None:
    def explode() -> None:
        raise KeyError("missing-key")

    try:
        explode()
    except KeyError as exc:
        info = error_info_from(exc)
    assert info.type == "KeyError"
    assert info.message == "'missing-key'"
    assert info.traceback.startswith("Traceback (most recent call last)")
    assert "explode" in info.traceback
    assert "KeyError: 'missing-key'" in info.traceback
    assert info.cause is None


def test_error_info_from_an_unraised_exception_has_no_traceback() -> None:
    info = error_info_from(ValueError("never raised"))
    assert (info.type, info.message, info.traceback) == ("ValueError", "never raised", "")


def test_error_info_from_keeps_the_cause_of_activity_and_workflow_failures() -> None:
    for error in (ActivityError("train", 1, 1, CAUSE), WorkflowFailedError("wf", "r", CAUSE)):
        info = error_info_from(error)
        assert info.type == type(error).__name__
        assert info.message == str(error)
        assert info.cause == CAUSE
        assert info.cause.cause == ROOT_CAUSE


def test_error_info_from_ignores_a_cause_attribute_that_is_not_error_info() -> None:
    error = QueryError("wf", "q", "r")
    error.cause = "a string"  # type: ignore[attr-defined]
    assert error_info_from(error).cause is None


def test_error_info_round_trips_through_json_and_pickle() -> None:
    assert ErrorInfo.model_validate_json(CAUSE.model_dump_json()) == CAUSE
    assert pickle.loads(pickle.dumps(CAUSE)) == CAUSE
