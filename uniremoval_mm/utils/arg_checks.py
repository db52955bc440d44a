"""Checks of a constructor's arguments, each raising one ``ValueError`` line that names
the argument as a config would (``ProgressHook.interval``), and returning the value so a
check and its assignment are one statement."""
from typing import Sequence, TypeVar

__all__ = ['at_least', 'one_of']

T = TypeVar('T')


def at_least(name: str, value: int, minimum: int = 1) -> int:
    """``value``, if it is at least ``minimum``.

    Args:
        name (str): The argument as the error names it, e.g. ``'ProgressHook.interval'``.
        value (int): The value given.
        minimum (int): The smallest value allowed. Defaults to 1.

    Returns:
        int: ``value``, unchanged.

    Raises:
        ValueError: ``value`` is below ``minimum``.
    """
    if value < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {value}')
    return value


def one_of(name: str, value: T, choices: Sequence[T]) -> T:
    """``value``, if it is one of ``choices``.

    Args:
        name (str): The argument as the error names it, e.g.
            ``'RestorationGridHook.output_channel_order'``.
        value: The value given.
        choices (Sequence): The values allowed, in the order the error lists them.

    Returns:
        The value, unchanged.

    Raises:
        ValueError: ``value`` is not in ``choices``; the message lists them as
            ``'bgr' or 'rgb'`` (``'a', 'b' or 'c'`` for more).
    """
    if value not in choices:
        names = [repr(c) for c in choices]
        listed = names[0] if len(names) == 1 else ', '.join(names[:-1]) + ' or ' + names[-1]
        raise ValueError(f'{name} must be {listed}, got {value!r}')
    return value
