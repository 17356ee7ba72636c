"""The fast source-block finder (no tokenizer on the warm start) returns what
``inspect.getsourcelines`` returns, or ``None`` (then ``inspect`` is used)."""

import functools
import inspect

import pytest

from stencilpy.frontend.source import _indented_block


def plain(u):
    return u[1, 0] - u[-1, 0]


@functools.lru_cache
@functools.lru_cache(
    maxsize=None)
def multiline_decorator(u):
    return u


def with_comments(u):
    a = u[1, 0]
# a comment at column 0 inside the body
    b = """a string
at column 0"""

    return a + (b
and 1)
# trailing comment


def one_line(u): return u


def make_nested():
    def nested(u, v):
        w = u + v
        # comment

        return w
    return nested


def continuation(u):
    x = 1 + \
2
    return u * x


CASES = [plain, multiline_decorator.__wrapped__.__wrapped__, with_comments, one_line,
         make_nested(), continuation]


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__code__.co_name)
def test_same_lines_as_inspect_or_none(fn):
    got = _indented_block(fn)
    if got is None:
        return
    assert got == tuple(inspect.getsourcelines(fn)) or list(got) == list(
        inspect.getsourcelines(fn))


def test_the_common_cases_take_the_fast_path():
    assert _indented_block(plain) is not None
    assert _indented_block(make_nested()) is not None


def test_a_wrapper_is_left_to_inspect():
    @functools.wraps(plain)
    def wrapper(u):
        return u
    assert _indented_block(wrapper) is None
