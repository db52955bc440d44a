"""at_least / one_of: the value back when it is allowed, one line naming it when not."""
import pytest

from uniremoval_mm.utils.arg_checks import at_least, one_of


def test_at_least_returns_the_value_or_names_the_argument():
    assert at_least('Hook.interval', 1) == 1
    assert at_least('Hook.interval', 0, minimum=0) == 0
    with pytest.raises(ValueError, match=r'^Hook\.interval must be >= 1, got 0$'):
        at_least('Hook.interval', 0)


def test_one_of_returns_the_value_or_lists_the_choices():
    assert one_of('Hook.order', 'rgb', ('bgr', 'rgb')) == 'rgb'
    with pytest.raises(ValueError, match=r"^Hook\.order must be 'bgr' or 'rgb', got 'rbg'$"):
        one_of('Hook.order', 'rbg', ('bgr', 'rgb'))
    with pytest.raises(ValueError, match=r"must be 'a', 'b' or 'c', got 'd'$"):
        one_of('x', 'd', 'abc')
    with pytest.raises(ValueError, match=r"must be 'a', got 'd'$"):
        one_of('x', 'd', ['a'])
