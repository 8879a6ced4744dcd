"""A safe expression language for routing conditions (no ``eval``).

Conditions are Python-like expressions parsed with ``ast`` and compiled to closures over
a whitelist of node types::

    loan_amount_yuan > 100000 and first_call
    is_overdue and days_since_last_contact > 3
    product in ["car", "mortgage"] or not vip
    time_between("09:00", "18:00") and weekday < 5
    context.intent == "complaint"

Allowed: literals (numbers, strings, true/false/null), lists/tuples, names (profile fields;
dotted names read nested mappings), ``and or not``, comparisons ``== != < <= > >= in not in``
(chained too), ``+ - * / %``, unary minus and the functions in ``FUNCTIONS``. A missing
field reads as ``null``; an ordering comparison with ``null`` (or of mismatched types) is
false, never an error, so a rule about an absent field simply does not match.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]

MAX_EXPRESSION_CHARS = 2000


class ExpressionError(ValueError):
    """The expression is not in the language; ``col`` is the 0-based column, if known."""

    def __init__(self, message: str, col: int | None = None) -> None:
        super().__init__(message)
        self.col = col


def _hhmm(value: str) -> int:
    hh, _, mm = value.partition(":")
    minutes = int(hh) * 60 + int(mm or 0)
    if not 0 <= minutes <= 24 * 60:
        raise ValueError(f"not a time of day: {value!r}")
    return minutes


def _time_between(env: Env, start: str, end: str) -> bool:
    """True when the call's local time of day is in [start, end); wraps past midnight."""
    now = env.get("minute_of_day")
    if not isinstance(now, int):
        return False
    lo, hi = _hhmm(start), _hhmm(end)
    return lo <= now < hi if lo <= hi else (now >= lo or now < hi)


def _lower(_env: Env, value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _length(_env: Env, value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 0


def _abs(_env: Env, value: Any) -> Any:
    return abs(value) if isinstance(value, (int, float)) else None


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "time_between": _time_between,
    "lower": _lower,
    "len": _length,
    "abs": _abs,
}
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None, "none": None}
_CMP: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}


def _safe_cmp(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """Equality works on anything; ordering and membership with null/mismatch are false."""

    def run(a: Any, b: Any) -> bool:
        if (a is None or b is None) and op not in (operator.eq, operator.ne):
            return False
        try:
            return bool(op(a, b))
        except (TypeError, ValueError):
            return False

    return run


def _safe_arith(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Arithmetic with null, mismatched types or division by zero gives null."""

    def run(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        try:
            return op(a, b)
        except (TypeError, ValueError, ZeroDivisionError):
            return None

    return run


class Expression:
    """A compiled condition; call it with a mapping of field values."""

    __slots__ = ("_fn", "eq", "fn", "names", "source")

    def __init__(
        self,
        source: str,
        fn: Fn,
        names: frozenset[str],
        eq: tuple[str, str | int | float | bool | None] | None = None,
    ) -> None:
        self.source = source
        self.names = names  # the field names it reads (top-level)
        self._fn = fn
        self.fn = fn  # the raw closure (truthiness = match), for hot loops
        self.eq = eq  # (field, constant) when the whole condition is `field == constant`

    def __call__(self, env: Env) -> bool:
        return bool(self._fn(env))

    def value(self, env: Env) -> Any:
        return self._fn(env)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def compile_expression(source: str, *, fields: frozenset[str] | None = None) -> Expression:
    """Parse and compile ``source``; ``fields`` (if given) is the set of known field names."""
    if isinstance(source, bool):
        value = bool(source)
        return Expression(str(source).lower(), lambda _env: value, frozenset())
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("a condition must be a non-empty string")
    if len(source) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"condition longer than {MAX_EXPRESSION_CHARS} characters")
    text = " ".join(source.strip().splitlines())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", (exc.offset or 1) - 1) from None
    names: set[str] = set()
    fn = _Compiler(fields, names).visit(tree.body)
    return Expression(source, fn, frozenset(names), _equality(tree.body))


def _equality(node: ast.AST) -> tuple[str, str | int | float | bool | None] | None:
    """``(field, constant)`` if ``node`` is exactly ``field == constant`` (either side)."""
    if not (
        isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
    ):
        return None
    left, right = node.left, node.comparators[0]
    if isinstance(right, ast.Name) and isinstance(left, ast.Constant):
        left, right = right, left
    if (
        isinstance(left, ast.Name)
        and left.id.lower() not in _CONSTANTS
        and left.id not in ("True", "False", "None")
        and isinstance(right, ast.Constant)
        and isinstance(right.value, (str, int, float, bool))
    ):
        return left.id, right.value
    return None


class _Compiler:
    def __init__(self, fields: frozenset[str] | None, names: set[str]) -> None:
        self.fields = fields
        self.names = names

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, getattr(node, "col_offset", None))

    def visit(self, node: ast.AST) -> Fn:
        method = getattr(self, f"v_{type(node).__name__}", None)
        if method is None:
            raise self.fail(node, f"{type(node).__name__} is not allowed in a condition")
        fn: Fn = method(node)
        return fn

    def v_Constant(self, node: ast.Constant) -> Fn:
        value = node.value
        if not isinstance(value, (int, float, str, bool)) and value is not None:
            raise self.fail(node, f"literal {value!r} is not allowed")
        return lambda _env: value

    def v_List(self, node: ast.List | ast.Tuple) -> Fn:
        items = [self.visit(e) for e in node.elts]
        if all(isinstance(e, ast.Constant) for e in node.elts):
            frozen = frozenset(e.value for e in node.elts if isinstance(e, ast.Constant))
            return lambda _env: frozen
        return lambda env: [f(env) for f in items]

    v_Tuple = v_List

    def v_Name(self, node: ast.Name) -> Fn:
        name = node.id
        if name.lower() in _CONSTANTS:
            const = _CONSTANTS[name.lower()]
            return lambda _env: const
        if name in ("True", "False", "None"):
            const2 = {"True": True, "False": False, "None": None}[name]
            return lambda _env: const2
        if self.fields is not None and name not in self.fields:
            raise self.fail(node, f"unknown field {name!r}")
        self.names.add(name)
        return lambda env: env.get(name)

    def v_Attribute(self, node: ast.Attribute) -> Fn:
        base = self.visit(node.value)
        attr = node.attr

        def get(env: Env) -> Any:
            parent = base(env)
            return parent.get(attr) if isinstance(parent, Mapping) else None

        return get

    def v_BoolOp(self, node: ast.BoolOp) -> Fn:
        parts = [self.visit(v) for v in node.values]
        if len(parts) == 2:  # the common case, without a generator
            a, b = parts
            if isinstance(node.op, ast.And):
                return lambda env: bool(a(env) and b(env))
            return lambda env: bool(a(env) or b(env))
        if isinstance(node.op, ast.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)

    def v_UnaryOp(self, node: ast.UnaryOp) -> Fn:
        inner = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda env: not inner(env)
        if isinstance(node.op, ast.USub):

            def neg(env: Env) -> Any:
                v = inner(env)
                return -v if isinstance(v, (int, float)) else None

            return neg
        raise self.fail(node, "only 'not' and '-' are allowed as unary operators")

    def v_Compare(self, node: ast.Compare) -> Fn:
        fast = self._name_vs_constant(node)
        if fast is not None:
            return fast
        first = self.visit(node.left)
        rest: list[tuple[Callable[[Any, Any], bool], Fn]] = []
        for op, comp in zip(node.ops, node.comparators, strict=True):
            fn = _CMP.get(type(op))
            if fn is None:
                raise self.fail(node, f"comparison {type(op).__name__} is not allowed")
            rest.append((_safe_cmp(fn), self.visit(comp)))
        if len(rest) == 1:
            cmp, right = rest[0]
            return lambda env: cmp(first(env), right(env))

        def chain(env: Env) -> bool:
            left = first(env)
            for cmp, right in rest:
                r = right(env)
                if not cmp(left, r):
                    return False
                left = r
            return True

        return chain

    def _name_vs_constant(self, node: ast.Compare) -> Fn | None:
        """``field <op> literal``: one closure instead of three (the common case)."""
        if len(node.ops) != 1:
            return None
        left, right, op = node.left, node.comparators[0], type(node.ops[0])
        if not (
            isinstance(left, ast.Name)
            and isinstance(right, ast.Constant)
            and isinstance(right.value, (str, int, float))
            and left.id.lower() not in _CONSTANTS
            and left.id not in ("True", "False", "None")
            and op in (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)
        ):
            return None
        self.visit(left)  # validates the field name and records it
        name, const, cmp = left.id, right.value, _CMP[op]
        if op is ast.Eq:
            return lambda env: env.get(name) == const
        if op is ast.NotEq:
            return lambda env: env.get(name) != const

        def ordered(env: Env) -> bool:
            v = env.get(name)
            if v is None:
                return False
            try:
                return cmp(v, const)
            except TypeError:
                return False

        return ordered

    def v_BinOp(self, node: ast.BinOp) -> Fn:
        op = _ARITH.get(type(node.op))
        if op is None:
            raise self.fail(node, f"operator {type(node.op).__name__} is not allowed")
        left, right, safe = self.visit(node.left), self.visit(node.right), _safe_arith(op)
        return lambda env: safe(left(env), right(env))

    def v_Call(self, node: ast.Call) -> Fn:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise self.fail(node, f"only these functions may be called: {allowed}")
        if node.keywords:
            raise self.fail(node, "keyword arguments are not allowed")
        func = FUNCTIONS[node.func.id]
        args = [self.visit(a) for a in node.args]
        if node.func.id == "time_between":
            if len(node.args) != 2 or not all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args
            ):
                raise self.fail(node, 'time_between takes two "HH:MM" strings')
            try:
                for a in node.args:
                    assert isinstance(a, ast.Constant)
                    _hhmm(str(a.value))
            except ValueError as exc:
                raise self.fail(node, str(exc)) from None
        elif len(args) != 1:
            raise self.fail(node, f"{node.func.id} takes one argument")
        return lambda env: func(env, *(a(env) for a in args))
