"""The progress of actions rolled up their tree: a pure function of the plan's rows."""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    """What the roll-up needs of one action."""

    parent: int | None
    progress: int | None  # set by hand (0–100), or None: computed from the children
    weight: int = 1
    counted: bool = True  # False for an abandoned action: it weighs on nothing


class Cycle(ValueError):
    """Parents that lead back to themselves."""


def rollup(nodes: Mapping[int, Node]) -> dict[int, float | None]:
    """Returns each action's progress: its own when set, else the weighted mean of its
    counted children's (None when there is nothing to average)."""
    children: dict[int, list[int]] = {key: [] for key in nodes}
    for key, node in nodes.items():
        if node.parent is not None and node.parent in nodes:
            children[node.parent].append(key)
    done: dict[int, float | None] = {}
    for key in nodes:
        _resolve(key, nodes, children, done, ())
    return done


def _resolve(key: int, nodes: Mapping[int, Node], children: dict[int, list[int]],
             done: dict[int, float | None], path: tuple[int, ...]) -> float | None:
    if key in done:
        return done[key]
    if key in path:
        raise Cycle(f"cycle de parents : {' → '.join(map(str, (*path, key)))}")
    node = nodes[key]
    # Children are resolved even under a manual value, so a cycle below it is still found.
    values = [(nodes[child].weight, _resolve(child, nodes, children, done, (*path, key)))
              for child in children[key] if nodes[child].counted]
    if node.progress is not None:
        done[key] = float(node.progress)
        return done[key]
    weighed = [(weight, value) for weight, value in values if value is not None and weight > 0]
    total = sum(weight for weight, _ in weighed)
    done[key] = sum(weight * value for weight, value in weighed) / total if total else None
    return done[key]


def has_cycle(parents: Mapping[int, int | None]) -> list[int]:
    """Returns the actions whose chain of parents loops, in order; empty when none does."""
    looping = []
    for start in parents:
        seen = set()
        key: int | None = start
        while key is not None and key in parents:
            if key in seen:
                looping.append(start)
                break
            seen.add(key)
            key = parents[key]
    return looping
