"""The roll-up of progress through the plan's tree, as tables of cases."""

import pytest

from storage.rollup import Cycle, Node, has_cycle, rollup

CASES = [
    # (what, nodes, expected progress of each)
    ("a leaf keeps its own", {1: Node(None, 40)}, {1: 40}),
    ("a leaf without progress has none", {1: Node(None, None)}, {1: None}),
    ("equal weights: the mean", {1: Node(None, None), 2: Node(1, 20), 3: Node(1, 60)},
     {1: 40, 2: 20, 3: 60}),
    ("weights 3 and 1", {1: Node(None, None), 2: Node(1, 100, 3), 3: Node(1, 0, 1)},
     {1: 75, 2: 100, 3: 0}),
    ("a weight of 0 counts for nothing",
     {1: Node(None, None), 2: Node(1, 100, 0), 3: Node(1, 30, 2)}, {1: 30, 2: 100, 3: 30}),
    ("every weight 0: nothing to average",
     {1: Node(None, None), 2: Node(1, 100, 0)}, {1: None, 2: 100}),
    ("a child without progress is left out",
     {1: Node(None, None), 2: Node(1, None), 3: Node(1, 50)}, {1: 50, 2: None, 3: 50}),
    ("an abandoned child is left out",
     {1: Node(None, None), 2: Node(1, 0, 5, counted=False), 3: Node(1, 80)},
     {1: 80, 2: 0, 3: 80}),
    ("a parent set by hand keeps its value",
     {1: Node(None, 10), 2: Node(1, 100), 3: Node(1, 100)}, {1: 10, 2: 100, 3: 100}),
    ("three levels, weights at each",
     {1: Node(None, None), 2: Node(1, None, 1), 3: Node(1, 90, 1),
      4: Node(2, 0, 1), 5: Node(2, 60, 2)},
     {1: (40 + 90) / 2, 2: 40, 3: 90, 4: 0, 5: 60}),
    ("a manual middle level stops the roll-up from below",
     {1: Node(None, None), 2: Node(1, 20, 1), 3: Node(2, 100), 4: Node(1, 60, 1)},
     {1: 40, 2: 20, 3: 100, 4: 60}),
    ("an unknown parent makes a root", {1: Node(99, None), 2: Node(None, 5)},
     {1: None, 2: 5}),
]


@pytest.mark.parametrize(("nodes", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_the_roll_up(nodes, expected):
    found = rollup(nodes)
    assert found.keys() == expected.keys()
    for key, value in expected.items():
        assert found[key] == (None if value is None else pytest.approx(value)), key


@pytest.mark.parametrize("nodes", [
    {1: Node(2, None), 2: Node(1, None)},
    {1: Node(1, None)},
    {1: Node(3, 50), 2: Node(1, None), 3: Node(2, None)},  # even under a manual value
])
def test_a_cycle_of_parents_is_refused(nodes):
    with pytest.raises(Cycle):
        rollup(nodes)


@pytest.mark.parametrize(("parents", "looping"), [
    ({1: None, 2: 1, 3: 2}, []),
    ({1: 2, 2: 1, 3: None}, [1, 2]),
    ({1: 1}, [1]),
    ({1: 2, 2: 3, 3: 1, 4: 1}, [1, 2, 3, 4]),  # 4 hangs from the loop
])
def test_has_cycle(parents, looping):
    assert has_cycle(parents) == looping
