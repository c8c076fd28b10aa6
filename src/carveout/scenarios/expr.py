"""A restricted expression language for scenario rules, compiled to Polars expressions.

An analyst writes a predicate over named facts, e.g.::

    item_kind == 'equipment' and eccn in ['3B001.c', '3B993'] and end_user_country in param('D:5')

The text is parsed with :mod:`ast` and only a whitelist of node types is accepted: comparisons (``== != < <=
> >=``, ``in [...]``, ``not in [...]``), ``and``/``or``/``not``, arithmetic (``+ - * / %``, unary minus),
string/number/bool literals, lists/tuples of literals, fact names (the columns of ``facts.SCHEMA`` plus the
computed ``eccn``, ``classification`` and ``ac_level``) and parameter references ``param('name')``. Any other
call, attribute access, subscript, lambda, comprehension, name or keyword is rejected with the position and
the reason. Nothing is ever passed to ``eval``.

Three-valued logic is kept: ``and``/``or`` are Kleene (Polars ``&``/``|``), so a null fact makes the
predicate null where it matters and the engine turns that into ``needs_review``.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from carveout import facts as fx

COMPUTED_FACTS = tuple(dict.fromkeys(
    ("eccn", "classification", "ac_level")
    + tuple(c for c in fx.COMPUTED if not c.startswith("_") and c != "day")
))
FACT_NAMES: tuple[str, ...] = tuple(n for n in fx.SCHEMA if n != "row") + COMPUTED_FACTS
_STRING = "str"
_NUMBER = "num"
_BOOL = "bool"
_LIST = "list"
_ANY = "any"


def _kind_of_dtype(dtype: pl.DataType) -> str:
    if dtype == pl.String():
        return _STRING
    if dtype == pl.Boolean():
        return _BOOL
    if dtype.is_numeric():
        return _NUMBER
    return _ANY


FACT_KINDS: dict[str, str] = {n: _kind_of_dtype(t) for n, (t, _) in fx.SCHEMA.items() if n != "row"}
FACT_KINDS.update({n: _STRING for n in COMPUTED_FACTS})


class ExpressionError(ValueError):
    """The expression is not in the language; ``where`` is the column offset (1-based) when known."""

    def __init__(self, message: str, where: int | None = None):
        self.where = where
        super().__init__(f"{message}" + (f" (at column {where})" if where else ""))


_CMP = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_ARITH = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Mod: lambda a, b: a % b,
}


@dataclass(frozen=True)
class Compiled:
    """A validated expression: the facts and parameters it reads, and a builder of its Polars expression."""

    source: str
    facts: frozenset[str]
    params: frozenset[str]
    _tree: ast.Expression

    def build(self, params: Any) -> pl.Expr:
        """The Polars expression with parameter values from ``params`` (``p[name]`` access)."""
        return _Builder(params).visit(self._tree.body)

    def body(self) -> Callable[..., pl.Expr]:
        """A rule body ``(f, p) -> pl.Expr`` for the registry's :class:`Rule`."""
        return _Body(self)


class _Body:
    """Picklable rule body (a closure would not survive a process pool)."""

    def __init__(self, compiled: Compiled):
        self.compiled = compiled

    def __call__(self, f: Any, p: Any) -> pl.Expr:
        return self.compiled.build(p)

    def __reduce__(self):
        return (_rebuild, (self.compiled.source, sorted(self.compiled.params)))


def _rebuild(source: str, params: list[str]) -> _Body:
    return compile_expression(source, params_known=None).body()


def _suggest(name: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _col(node: ast.AST) -> int | None:
    off = getattr(node, "col_offset", None)
    return None if off is None else off + 1


class _Checker:
    """Walks the tree once: whitelist, names, parameter names, and a light type check."""

    def __init__(self, params_known: set[str] | None):
        self.params_known = params_known
        self.facts: set[str] = set()
        self.params: set[str] = set()

    def check(self, node: ast.AST) -> str:  # returns the kind of the value
        m = getattr(self, f"_{type(node).__name__}", None)
        if m is None:
            what = {
                "Attribute": "attribute access is not allowed",
                "Subscript": "indexing is not allowed",
                "Lambda": "lambda is not allowed",
                "IfExp": "conditional expressions are not allowed; combine with and/or",
                "ListComp": "comprehensions are not allowed",
                "GeneratorExp": "comprehensions are not allowed",
                "NamedExpr": "assignment is not allowed",
                "Dict": "dict literals are not allowed",
                "Set": "set literals are not allowed; use a list [...]",
                "Starred": "starred expressions are not allowed",
                "JoinedStr": "f-strings are not allowed",
                "Await": "await is not allowed",
            }.get(type(node).__name__, f"{type(node).__name__} is not allowed")
            raise ExpressionError(what, _col(node))
        return m(node)

    def _BoolOp(self, n: ast.BoolOp) -> str:
        for v in n.values:
            self._boolish(v)
        return _BOOL

    def _boolish(self, n: ast.AST) -> None:
        k = self.check(n)
        if k not in (_BOOL, _ANY):
            raise ExpressionError("and/or/not need true/false operands (a comparison or a boolean fact)", _col(n))

    def _UnaryOp(self, n: ast.UnaryOp) -> str:
        if isinstance(n.op, ast.Not):
            self._boolish(n.operand)
            return _BOOL
        if isinstance(n.op, (ast.USub, ast.UAdd)):
            k = self.check(n.operand)
            if k not in (_NUMBER, _ANY):
                raise ExpressionError("unary minus needs a number", _col(n))
            return _NUMBER
        raise ExpressionError("operator ~ is not allowed; use not", _col(n))

    def _BinOp(self, n: ast.BinOp) -> str:
        if type(n.op) not in _ARITH:
            raise ExpressionError(f"operator {type(n.op).__name__} is not allowed (use + - * / %)", _col(n))
        for side in (n.left, n.right):
            if self.check(side) not in (_NUMBER, _ANY):
                raise ExpressionError("arithmetic needs numbers", _col(side))
        return _NUMBER

    def _Compare(self, n: ast.Compare) -> str:
        left = self.check(n.left)
        for op, right_node in zip(n.ops, n.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot)):
                if not _is_none(right_node):
                    raise ExpressionError("'is' / 'is not' only test for None (unknown)", _col(right_node))
                continue
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right_node, (ast.List, ast.Tuple)) and not _is_param(right_node):
                    raise ExpressionError("'in' needs a list literal [...] or param('name')", _col(right_node))
                self.check(right_node)
            elif type(op) in _CMP:
                right = self.check(right_node)
                if _ANY not in (left, right) and left != right:
                    raise ExpressionError(f"cannot compare {left} with {right}", _col(right_node))
                if isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) and left == _BOOL:
                    raise ExpressionError("ordering comparisons need numbers or strings", _col(n))
                left = right
            else:
                raise ExpressionError(f"comparison {type(op).__name__} is not allowed", _col(n))
        return _BOOL

    def _List(self, n: ast.List | ast.Tuple) -> str:
        for e in n.elts:
            if not isinstance(e, ast.Constant) and not (
                isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub) and isinstance(e.operand, ast.Constant)
            ):
                raise ExpressionError("list elements must be literals", _col(e))
            self.check(e)
        return _LIST

    _Tuple = _List

    def _Constant(self, n: ast.Constant) -> str:
        v = n.value
        if isinstance(v, bool):
            return _BOOL
        if isinstance(v, (int, float)):
            return _NUMBER
        if isinstance(v, str):
            return _STRING
        if v is None:
            raise ExpressionError("None may only appear in 'x is None' / 'x is not None'", _col(n))
        raise ExpressionError(f"literal {v!r} is not allowed (strings, numbers, true/false only)", _col(n))

    def _Name(self, n: ast.Name) -> str:
        name = n.id
        if name in ("True", "true"):
            return _BOOL
        if name in ("False", "false"):
            return _BOOL
        if name in ("None", "null"):
            raise ExpressionError("None may only appear in 'x is None' / 'x is not None'", _col(n))
        if name not in FACT_KINDS:
            raise ExpressionError(f"unknown fact {name!r}{_suggest(name, FACT_NAMES)}", _col(n))
        self.facts.add(name)
        return FACT_KINDS[name]

    def _Call(self, n: ast.Call) -> str:
        if not _is_param(n):
            fn = n.func.id if isinstance(n.func, ast.Name) else type(n.func).__name__
            raise ExpressionError(f"calls are not allowed ({fn}(...)); only param('name')", _col(n))
        name = n.args[0].value  # type: ignore[attr-defined]
        if self.params_known is not None and name not in self.params_known:
            raise ExpressionError(
                f"unknown parameter {name!r}{_suggest(name, sorted(self.params_known))}", _col(n)
            )
        self.params.add(name)
        return _ANY


def _is_none(n: ast.AST) -> bool:
    return (isinstance(n, ast.Constant) and n.value is None) or (
        isinstance(n, ast.Name) and n.id in ("None", "null"))


def _is_param(n: ast.AST) -> bool:
    return (
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "param"
        and len(n.args) == 1
        and not n.keywords
        and isinstance(n.args[0], ast.Constant)
        and isinstance(n.args[0].value, str)
    )


ECCN_FACTS = ("eccn", "eccn_declared", "base_eccn")


def _is_eccn(n: ast.AST) -> bool:
    return isinstance(n, ast.Name) and n.id in ECCN_FACTS


class _Builder:
    def __init__(self, params: Any):
        self.p = params

    def visit(self, n: ast.AST) -> Any:
        return getattr(self, f"_{type(n).__name__}")(n)

    def _lit(self, v: Any) -> pl.Expr:
        return v if isinstance(v, pl.Expr) else pl.lit(v)

    def _BoolOp(self, n: ast.BoolOp) -> pl.Expr:
        vals = [self._lit(self.visit(v)) for v in n.values]
        out = vals[0]
        for v in vals[1:]:
            out = (out & v) if isinstance(n.op, ast.And) else (out | v)
        return out

    def _UnaryOp(self, n: ast.UnaryOp) -> Any:
        v = self.visit(n.operand)
        if isinstance(n.op, ast.Not):
            return ~self._lit(v)
        if isinstance(n.op, ast.USub):
            return -v
        return v

    def _BinOp(self, n: ast.BinOp) -> Any:
        return _ARITH[type(n.op)](self._lit(self.visit(n.left)), self.visit(n.right))

    def _Compare(self, n: ast.Compare) -> pl.Expr:
        parts = []
        left = self.visit(n.left)
        left_node = n.left
        for op, right_node in zip(n.ops, n.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot)):
                known = self._lit(left).is_null()
                parts.append(known if isinstance(op, ast.Is) else ~known)
                continue
            right = self.visit(right_node)
            if isinstance(op, (ast.In, ast.NotIn)):
                values = [str(v) if isinstance(left, pl.Expr) and _is_eccn(left_node) else v
                          for v in (list(right.keys()) if isinstance(right, dict) else list(right or []))]
                if not values:
                    expr = pl.lit(False)
                elif _is_eccn(left_node):
                    # an ECCN is "in" a paragraph when it is the paragraph or sits below it
                    expr = pl.any_horizontal([(left == v) | left.str.starts_with(v + ".") for v in values])
                else:
                    expr = self._lit(left).is_in(values)
                # keep unknown unknown: is_in on a null value gives null
                expr = pl.when(self._lit(left).is_null()).then(None).otherwise(expr)
                parts.append(~expr if isinstance(op, ast.NotIn) else expr)
            else:
                parts.append(_CMP[type(op)](self._lit(left), right))
            left, left_node = right, right_node
        out = parts[0]
        for p in parts[1:]:
            out = out & p
        return out

    def _List(self, n: ast.List | ast.Tuple) -> list[Any]:
        return [self.visit(e) for e in n.elts]

    _Tuple = _List

    def _Constant(self, n: ast.Constant) -> Any:
        return n.value

    def _Name(self, n: ast.Name) -> Any:
        if n.id in ("True", "true"):
            return True
        if n.id in ("False", "false"):
            return False
        return pl.col(n.id)

    def _Call(self, n: ast.Call) -> Any:
        name = n.args[0].value  # type: ignore[attr-defined]
        value = self.p[name]
        if isinstance(value, dict):
            return list(value)
        return value


def compile_expression(source: str, params_known: set[str] | None = None) -> Compiled:
    """Parse and validate ``source``; raise :class:`ExpressionError` naming what is not allowed.

    ``params_known`` is the set of parameter names ``param('...')`` may use (None skips that check).
    ``true``/``false`` are accepted as well as ``True``/``False`` (YAML authors write lower case).
    """
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("empty expression")
    if len(source) > 4000:
        raise ExpressionError("expression longer than 4000 characters")
    source = " ".join(source.split())  # YAML folded text: line breaks are spaces in the language
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"syntax error: {e.msg}", e.offset) from None
    checker = _Checker(params_known)
    kind = checker.check(tree.body)
    if kind not in (_BOOL, _ANY):
        raise ExpressionError("a rule condition must be true/false (a comparison or a boolean fact)")
    return Compiled(source.strip(), frozenset(checker.facts), frozenset(checker.params), tree)
