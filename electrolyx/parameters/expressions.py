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

Text from a file cannot use up the machine either: the text is at most :data:`MAX_LENGTH`
characters, its tree at most :data:`MAX_DEPTH` levels deep and :data:`MAX_NODES` nodes large
(checked without recursion before anything else), numbers are floats (``9**9**9`` is
9.0 ** 387420489.0, an overflow found at once, not a 370-million-digit integer), and every
sub-expression made of numbers alone is evaluated once when the text is read: a division by
zero, an overflow or a complex result there (``1/0``, ``exp(1000)``, ``(-8) ** 0.5``) is an
:class:`ExpressionError` naming the key and the sub-expression.

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

__all__ = [
    "ALLOWED_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "ExpressionError",
    "PiecewiseLinear",
    "SafeExpression",
]

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

#: function name -> its value for a real number (constant folding)
_MATH_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "sqrt": math.sqrt,
    "tanh": math.tanh,
    "cosh": math.cosh,
    "sinh": math.sinh,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "arctan": math.atan,
    "abs": abs,
}

MAX_LENGTH = 10_000
"""Longest expression text accepted [characters] (fitted OCPs of BPX files: 60 to 400)."""

MAX_DEPTH = 200
"""Deepest syntax tree accepted (a sum of n terms is n levels deep; evaluation recurses)."""

MAX_NODES = 5_000
"""Largest syntax tree accepted [nodes]."""

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


def _signed_terms(node: ast.expr, sign: float = 1.0) -> list[tuple[float, ast.expr]]:
    """The terms of a sum with their signs: a - (b + c) -> [(1, a), (-1, b), (-1, c)]."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        right_sign = sign if isinstance(node.op, ast.Add) else -sign
        return _signed_terms(node.left, sign) + _signed_terms(node.right, right_sign)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _signed_terms(node.operand, -sign)
    return [(sign, node)]


def _tanh_term(node: ast.expr) -> tuple[float, ast.expr] | None:
    """(A, z) of a term ``A * tanh(z)``, ``tanh(z) * A`` or ``tanh(z)``, else None."""

    def tanh_argument(call: ast.expr) -> ast.expr | None:
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
            if call.func.id == "tanh" and len(call.args) == 1:
                return call.args[0]
        return None

    if tanh_argument(node) is not None:
        return 1.0, tanh_argument(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for factor, call in ((node.left, node.right), (node.right, node.left)):
            if isinstance(factor, ast.Constant) and tanh_argument(call) is not None:
                return float(factor.value), tanh_argument(call)
    return None


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

    def __init__(
        self,
        text: str,
        variables: Sequence[str],
        key: str,
        domain: tuple[float, float] | None = None,
    ):
        self.text = text
        self.variables = tuple(variables)
        self.key = key
        if not isinstance(text, str):
            raise self._error(f"expected a string, got {type(text).__name__}")
        if len(text) > MAX_LENGTH:
            raise self._error(f"{len(text)} characters, longer than the {MAX_LENGTH} allowed")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as error:
            raise self._error(f"not a valid expression ({error.msg})") from None
        except (RecursionError, MemoryError):
            raise self._error(f"nested too deeply (at most {MAX_DEPTH} levels)") from None
        except ValueError as error:  # e.g. a NUL character
            raise self._error(f"not a valid expression ({error})") from None
        self._check_size(tree.body)
        self._folded: dict[int, tuple[ast.AST, float | None]] = {}
        try:
            self._compiled = self._compile(tree.body)
            if domain is not None and len(self.variables) == 1:
                body = self._split_saturated_tanh(tree.body, domain)
                if body is not tree.body:
                    self._compiled = self._compile(body)
        except RecursionError:
            raise self._error("nested too deeply") from None

    def _check_size(self, body: ast.expr) -> None:
        """Refuse trees deeper than MAX_DEPTH or larger than MAX_NODES (no recursion here)."""
        stack = [(body, 1)]
        nodes = 0
        while stack:
            node, depth = stack.pop()
            nodes += 1
            if depth > MAX_DEPTH:
                raise self._error(f"nested more than {MAX_DEPTH} levels deep")
            if nodes > MAX_NODES:
                raise self._error(f"more than {MAX_NODES} terms, names and operators")
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))

    def _constant(self, node: ast.AST) -> float | None:
        """The value of a sub-expression made of numbers alone, else None.

        Raises:
            ExpressionError: if that value is not a finite real number (a division by zero,
                an overflow, a logarithm of a negative number, a complex power).
        """
        known = self._folded.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        value = self._fold(node)
        self._folded[id(node)] = (node, value)
        return value

    def _fold(self, node: ast.AST) -> float | None:
        """:meth:`_constant` without the memory of sub-expressions already folded."""
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._error(f"the constant {value!r} is not a real number")
            try:
                number = float(value)
            except OverflowError:
                digits = len(str(abs(value)))
                raise self._error(f"an integer of {digits} digits is too large") from None
            if not math.isfinite(number):
                raise self._error(f"the constant {value!r} is not finite")
            return number
        operands: list[float | None]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            operands = [self._constant(node.left), self._constant(node.right)]
            evaluate = _BINARY[type(node.op)]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operands = [self._constant(node.operand)]
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            evaluate = lambda a: sign * a  # noqa: E731
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _MATH_FUNCTIONS
            and len(node.args) == 1
            and not node.keywords
        ):
            operands = [self._constant(node.args[0])]
            evaluate = _MATH_FUNCTIONS[node.func.id]
        else:
            return None
        if any(operand is None for operand in operands):
            return None
        shown = ast.unparse(node)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        try:
            value = evaluate(*operands)
        except ZeroDivisionError:
            raise self._error(f"{shown!r} divides by zero") from None
        except OverflowError:
            raise self._error(f"{shown!r} overflows (larger than 1.8e308)") from None
        except ValueError:
            raise self._error(f"{shown!r} is outside the domain of its function") from None
        if isinstance(value, complex):
            raise self._error(f"{shown!r} is not a real number") from None
        value = float(value)
        if not math.isfinite(value):
            raise self._error(f"{shown!r} is not finite")
        return value

    def _split_saturated_tanh(self, body: ast.expr, domain: tuple[float, float]) -> ast.expr:
        """The same sum with saturated ``A tanh(z)`` terms split off their constant limit.

        Fitted OCPs often add tanh terms with amplitudes of 1e4 V whose limits cancel the
        constant term; their sum, O(1 V), then jitters by a few ulp of 1e4 (1e-11 V) from one
        stoichiometry to the next, enough to stall Newton's method. Where z keeps one sign s
        with |z| >= 1 over ``domain`` (checked on 1001 points), A tanh(z) is rewritten as
        s A - 2 s A / (1 + exp(2 s z)), an identity for every z, and all the constants are
        summed once (``math.fsum``): the value is unchanged, the jitter drops to that of the
        O(1 V) terms left. Other expressions are left alone.
        """
        grid = np.linspace(domain[0], domain[1], 1001)
        constants: list[float] = []
        terms: list[tuple[float, ast.expr]] = []
        changed = False
        for sign, node in _signed_terms(body):
            if isinstance(node, ast.Constant):
                constants.append(sign * float(node.value))
                continue
            tanh = _tanh_term(node)
            if tanh is not None:
                amplitude, argument = tanh
                with np.errstate(all="ignore"):
                    z = self._compile(argument)(np, {self.variables[0]: grid})
                z = np.broadcast_to(np.asarray(z, dtype=float), grid.shape)
                if np.all(np.isfinite(z)) and (np.all(z >= 1.0) or np.all(z <= -1.0)):
                    s = 1.0 if z[0] > 0 else -1.0
                    constants.append(sign * s * amplitude)
                    exponent = ast.BinOp(ast.Constant(2.0 * s), ast.Mult(), argument)
                    denominator = ast.BinOp(
                        ast.Constant(1.0),
                        ast.Add(),
                        ast.Call(ast.Name("exp", ast.Load()), [exponent], []),
                    )
                    node = ast.BinOp(ast.Constant(-2.0 * s * amplitude), ast.Div(), denominator)
                    changed = True
            terms.append((sign, node))
        if not changed:
            return body
        result: ast.expr = ast.Constant(math.fsum(constants))
        for sign, node in terms:
            result = ast.BinOp(result, ast.Add() if sign > 0 else ast.Sub(), node)
        return result

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
        """Closure evaluating ``node`` given (mod, variables); rejects any other node.

        Sub-expressions of numbers alone are evaluated here, once (see :meth:`_constant`).
        """
        number = self._constant(node)
        if number is not None:
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
            if isinstance(node.func, ast.Attribute):
                raise self._error("attribute access ('.') not allowed")
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
