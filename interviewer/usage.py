"""Token use and cost of an interview, from the usage recorded on its turns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# USD per million tokens: (input, cached input, output). List prices; an estimate, shown as one.
PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "gpt-4.1-nano": (0.10, 0.025, 0.40),
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "o3": (2.00, 0.50, 8.00),
    "o4-mini": (1.10, 0.275, 4.40),
}


def price_of(model: str | None) -> tuple[float, float, float] | None:
    """The price of a model by name, also for dated snapshots (``gpt-4.1-mini-2025-04-14``)."""
    if not model:
        return None
    name = model.lower().removeprefix("openai/")
    for known in sorted(PRICES, key=len, reverse=True):
        if name == known or name.startswith(known + "-20"):
            return PRICES[known]
    return None


@dataclass
class Totals:
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    priced_usd: float = 0.0
    unpriced: bool = False
    """Some usage came from a model without a known price (a local model, say)."""

    @property
    def cost_usd(self) -> float | None:
        """The estimated cost, or None when any of the usage cannot be priced."""
        return None if self.unpriced else self.priced_usd

    def add(self, model: str | None, prompt: int, cached: int, completion: int) -> None:
        self.prompt_tokens += prompt
        self.cached_tokens += cached
        self.completion_tokens += completion
        price = price_of(model)
        if price is None:
            self.unpriced = True
            return
        uncached = max(0, prompt - cached)
        self.priced_usd += (uncached * price[0] + cached * price[1] + completion * price[2]) / 1_000_000


def totals(turns: Iterable[Any]) -> Totals:
    """Sum the usage stored on turns (anything with model, prompt/cached/completion_tokens)."""
    out = Totals()
    for turn in turns:
        if turn.prompt_tokens is None and turn.completion_tokens is None:
            continue
        out.add(turn.model, turn.prompt_tokens or 0, turn.cached_tokens or 0, turn.completion_tokens or 0)
    return out
