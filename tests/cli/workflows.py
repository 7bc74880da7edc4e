"""Workflows the command-line tests start by import path (``tests.cli.workflows:NAME``)."""

from __future__ import annotations

from pydantic import BaseModel

import aion_ray as aion

EVIL = "[bold]x[/bold] <b>&"
"""A name rich would read as markup if a table forgot to print it as plain text."""


class Order(BaseModel):
    item: str
    quantity: int


@aion.activity(local=True)
def shout(name: str) -> str:
    return f"hello {name}"


@aion.activity(local=True)
def whisper(name: str) -> str:
    return f"psst {name}"


@aion.workflow(name="greet")
async def greet(ctx: aion.WorkflowContext, name: str) -> str:
    return await ctx.run(shout, name)


@aion.workflow(name="greet")
async def greet_changed(ctx: aion.WorkflowContext, name: str) -> str:
    """``greet`` with another activity: its recorded histories no longer replay."""
    return await ctx.run(whisper, name)


@aion.workflow(name="order")
async def order(ctx: aion.WorkflowContext, wanted: Order) -> int:
    return wanted.quantity * 2


@aion.workflow(name="waiter")
async def waiter(ctx: aion.WorkflowContext) -> object:
    """Answers ``stage`` queries and returns the payload of its ``go`` signal."""
    stage = "waiting"
    ctx.set_query_handler("stage", lambda prefix="": f"{prefix}{stage}")
    payload = await ctx.wait_signal("go")
    stage = "done"
    return payload


@aion.workflow(name="broken")
async def broken(ctx: aion.WorkflowContext, reason: str) -> None:
    raise RuntimeError(reason)
