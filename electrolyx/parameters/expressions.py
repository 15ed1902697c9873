"""Material functions given as text or tables, evaluated with numpy or UFL, never with ``eval``.

Parameter files (BPX JSON) give open-circuit potentials, diffusivities and conductivities as
expression strings in a variable (``"1.5 * exp(-120 * x) + 0.194"``) or as tables of points.
:class:`SafeExpression` parses a string with :mod:`ast` and accepts only a whitelist:

* numbers (int or float literals, read as floats),
* the variables named by the caller (BPX: ``x``),
* ``+ - * / **``, unary ``-`` and ``+``, parentheses,
* calls of one argument to ``exp log ln sqrt tanh cosh sinh sin cos tan arctan abs``.

Anything else (attribute access, subscripts, lambdas, comprehensions, keyword arguments,
strings, comparisons, unknown names or functions) is rejected with an
:class:`ExpressionError` that names the parameter key, the offending construct and what is
allowed. The accepted tree is compiled once into nested closures; calling it with
``mod=numpy`` gives arrays, with ``mod=ufl`` a UFL expression for the weak forms.

:class:`PiecewiseLinear` interpolates a table linearly, written as a sum of ramps
y_0 + s_0 (v - x_0) + sum_k (s_k - s_{k-1}) max(v - x_k, 0) so that numpy and UFL give the
same values, with linear extrapolation by the end slopes outside the table.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["ALLOWED_FUNCTIONS", "ExpressionError", "PiecewiseLinear", "SafeExpression"]

#: function name in an expression -> (numpy name, ufl name)
ALLOWED_FUNCTIONS: dict[str, tuple[str, str]] = {
    "exp": ("exp", "exp"),
    "log": ("log", "ln"),
    "ln": ("log", "ln"),
    "sqrt": ("sqrt", "sqrt"),
    "tanh": ("tanh", "tanh"),
    "cosh": ("cosh", "cosh"),
    "sinh": ("sinh", "sinh"),
    "sin": ("sin", "sin"),
    "cos": ("cos", "cos"),
    "tan": ("tan", "tan"),
    "arctan": ("arctan", "atan"),
    "abs": ("abs", "abs"),
}

_MAX_LENGTH = 20_000
"""Longest expression text accepted [characters]."""

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}

_REJECTED = {
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "subscripts ('[...]')",
    ast.Lambda: "lambda functions",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "boolean operators",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignment expressions (':=')",
    ast.Starred: "starred arguments",
    ast.JoinedStr: "strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}

Compiled = Callable[[Any, dict[str, Any]], Any]


class ExpressionError(ValueError):
    """An expression string that is not in the whitelist, or a bad table."""


def _function(mod: Any, name: str) -> Callable:
    """The math function ``name`` of numpy or of UFL."""
    numpy_name, ufl_name = ALLOWED_FUNCTIONS[name]
    if numpy_name == "abs":
        return abs
    if mod is np:
        return getattr(np, numpy_name)
    return getattr(mod, ufl_name)


class SafeExpression:
    """A whitelisted arithmetic expression in named variables, for numpy and UFL.

    Args:
        text: The expression, e.g. ``"0.1297 * (x / 1000) ** 3 + 3.329 * (x / 1000)"``.
        variables: Names the expression may use (e.g. ``("x",)``).
        key: The parameter key it comes from, quoted in error messages.

    Raises:
        ExpressionError: naming ``key``, the rejected construct and what is allowed.

    Example:
        >>> f = SafeExpression("2 * exp(-x)", ("x",), key="OCP [V]")
        >>> float(f(x=0.0))
        2.0
    """

    def __init__(self, text: str, variables: Sequence[str], key: str):
        self.text = text
        self.variables = tuple(variables)
        self.key = key
        if not isinstance(text, str):
            raise self._error(f"expected a string, got {type(text).__name__}")
        if len(text) > _MAX_LENGTH:
            raise self._error(f"longer than {_MAX_LENGTH} characters")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as error:
            raise self._error(f"not a valid expression ({error.msg})") from None
        except (RecursionError, MemoryError):
            raise self._error("nested too deeply") from None
        try:
            self._compiled = self._compile(tree.body)
        except RecursionError:
            raise self._error("nested too deeply") from None

    def allowed(self) -> str:
        """What an expression may contain, in words."""
        names = ", ".join(self.variables) or "none"
        functions = ", ".join(ALLOWED_FUNCTIONS)
        return (
            f"allowed are numbers, the variables ({names}), + - * / **, unary -, parentheses "
            f"and calls of one argument to {functions}"
        )

    def _error(self, reason: str) -> ExpressionError:
        text = str(self.text)
        shown = text if len(text) <= 120 else text[:117] + "..."
        return ExpressionError(f"{self.key}: {reason} in {shown!r}; {self.allowed()}")

    def _compile(self, node: ast.AST) -> Compiled:
        """Closure evaluating ``node`` given (mod, variables); rejects any other node."""
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._error(f"the constant {value!r} is not a real number")
            number = float(value)
            if not math.isfinite(number):
                raise self._error(f"the constant {value!r} is not finite")
            return lambda mod, env: number
        if isinstance(node, ast.Name):
            if node.id not in self.variables:
                if node.id in ALLOWED_FUNCTIONS:
                    raise self._error(f"the function {node.id!r} is used without a call")
                raise self._error(f"unknown name {node.id!r}")
            name = node.id
            return lambda mod, env: env[name]
        if isinstance(node, ast.BinOp):
            operation = _BINARY.get(type(node.op))
            if operation is None:
                raise self._error(f"the operator {type(node.op).__name__} is not allowed")
            left, right = self._compile(node.left), self._compile(node.right)
            return lambda mod, env: operation(left(mod, env), right(mod, env))
        if isinstance(node, ast.UnaryOp):
            operand = self._compile(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda mod, env: -operand(mod, env)
            if isinstance(node.op, ast.UAdd):
                return operand
            raise self._error(f"the unary operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self._error("calling anything but a plain function name is not allowed")
            name = node.func.id
            if name not in ALLOWED_FUNCTIONS:
                raise self._error(f"unknown function {name!r}")
            if node.keywords or len(node.args) != 1:
                raise self._error(f"{name} takes exactly one positional argument")
            argument = self._compile(node.args[0])
            return lambda mod, env: _function(mod, name)(argument(mod, env))
        what = _REJECTED.get(type(node), f"the construct {type(node).__name__}")
        raise self._error(f"{what} not allowed")

    def __call__(self, mod: Any = np, **values: Any) -> Any:
        """Value of the expression with ``mod`` = numpy (arrays, floats) or ufl.

        Raises:
            ExpressionError: if a variable is missing or unknown.
        """
        if set(values) != set(self.variables):
            raise ExpressionError(
                f"{self.key}: evaluate with the variables {self.variables}, got {tuple(values)}"
            )
        if mod is np:
            values = {name: np.asarray(value, dtype=float) for name, value in values.items()}
        return self._compiled(mod, values)

    def __repr__(self) -> str:
        return f"SafeExpression({self.text!r}, variables={self.variables})"


class PiecewiseLinear:
    """Linear interpolation of a table (x_k, y_k), the same in numpy and UFL.

    Args:
        x: Abscissae (any order; sorted here, at least two, all distinct).
        y: Values at ``x``.
        key: The parameter key it comes from, quoted in error messages.

    Raises:
        ExpressionError: naming ``key`` if the table is too short, ragged, not finite or has
            repeated abscissae.
    """

    def __init__(self, x: Sequence[float], y: Sequence[float], key: str):
        self.key = key
        x_array = np.asarray(x, dtype=float)
        y_array = np.asarray(y, dtype=float)
        if x_array.ndim != 1 or x_array.shape != y_array.shape or x_array.size < 2:
            raise ExpressionError(
                f"{key}: a table needs x and y of the same length, at least 2 (got "
                f"{x_array.size} and {y_array.size})"
            )
        if not (np.all(np.isfinite(x_array)) and np.all(np.isfinite(y_array))):
            raise ExpressionError(f"{key}: table values must be finite numbers")
        order = np.argsort(x_array, kind="stable")
        self.x, self.y = x_array[order], y_array[order]
        if np.any(np.diff(self.x) <= 0):
            raise ExpressionError(f"{key}: table abscissae x must be distinct")
        self.slopes = np.diff(self.y) / np.diff(self.x)

    def __call__(self, value: Any, mod: Any = np) -> Any:
        """Interpolated value at ``value`` (numpy array/float or UFL expression)."""
        if mod is np:
            value = np.asarray(value, dtype=float)
            ramp = lambda v: np.maximum(v, 0.0)  # noqa: E731
        else:
            ramp = lambda v: mod.max_value(v, 0.0)  # noqa: E731
        result = float(self.y[0]) + float(self.slopes[0]) * (value - float(self.x[0]))
        for k in range(1, len(self.slopes)):
            change = float(self.slopes[k] - self.slopes[k - 1])
            if change != 0.0:
                result = result + change * ramp(value - float(self.x[k]))
        return result

    def __repr__(self) -> str:
        return f"PiecewiseLinear({self.x.size} points, key={self.key!r})"
