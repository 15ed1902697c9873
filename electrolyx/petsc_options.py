"""Which PETSc options a case file may set in ``[solver.petsc]``: an allow-list of keys and values.

PETSc's options database can do more than tune a solver: ``pc_type = "python"`` with any
``pc_python_type`` imports and calls arbitrary Python, monitor and view options take a viewer
such as ``ascii:/any/path`` and write files anywhere, ``options_file`` reads more options. A case
file describes a simulation and nothing more, so only these are accepted:

* Krylov methods, preconditioners and nonlinear solvers by type (``ksp_type``, ``pc_type``,
  ``snes_type``, ``snes_linesearch_type``, ``pc_factor_mat_solver_type``, ...) from a list of
  names, their tolerances and iteration limits (numbers in a range), and the settings of
  factorisations, ASM, GAMG, hypre BoomerAMG, multigrid, field split and MUMPS
  (``mat_mumps_icntl_N``, ``mat_mumps_cntl_N``);
* the same options for inner solvers, behind the prefixes ``sub_``, ``fieldsplit_NAME_``,
  ``mg_levels_``, ``mg_levels_N_``, ``mg_coarse_``, ``redundant_``, ``ksp_``, ``esteig_``,
  ``lsc_`` and the prefixes of electrolyx's own preconditioner (``transport_``, ``potential_``);
* monitors and views (``snes_monitor``, ``ksp_converged_reason``, ``snes_view``, ...) with the
  value ``""`` only: they print on standard output, never into a file;
* ``pc_type = "python"`` only together with a ``pc_python_type`` that names one of electrolyx's
  own preconditioners (:data:`PYTHON_PRECONDITIONERS`).

Everything else (``options_file``, ``*_python_type`` naming any other class, viewers into files,
``log_view``, debugger options, ``mat_type``, ...) is refused with a message that names the key,
the value and what is allowed. :func:`petsc_option_problems` does the checking; the case loader
calls it for every model.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PYTHON_PRECONDITIONERS",
    "allowed_summary",
    "petsc_option_problems",
    "reuse_across_solves",
    "unique_prefix",
]

#: The Python preconditioners a case may name (``pc_type = "python"``).
PYTHON_PRECONDITIONERS = ("electrolyx.preconditioners.ElectrochemicalPotentialPC",)

_MAX_KEY_LENGTH = 200
_MAX_STRING_LENGTH = 200


@dataclass(frozen=True)
class _Rule:
    """What one option accepts: ``kind`` is choice, float, int, bool, stdout, ints or python."""

    kind: str
    choices: tuple[str, ...] = ()
    low: float = -math.inf
    high: float = math.inf

    def describe(self) -> str:
        """What the rule allows, in words."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind in ("float", "int"):
            name = "a number" if self.kind == "float" else "an integer"
            return f"{name} in [{self.low:g}, {self.high:g}]"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "stdout":
            return '"" (print on standard output; viewers into files are not allowed)'
        if self.kind == "ints":
            return 'a string of comma-separated integers, e.g. "0,1"'
        if self.kind == "python":
            return "one of " + ", ".join(repr(c) for c in PYTHON_PRECONDITIONERS)
        raise AssertionError(self.kind)

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` (a TOML value) is allowed."""
        if self.kind in ("choice", "python"):
            allowed = self.choices if self.kind == "choice" else PYTHON_PRECONDITIONERS
            return isinstance(value, str) and value in allowed
        if self.kind in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            if self.kind == "int" and not isinstance(value, int):
                return False
            try:
                number = float(value)
            except OverflowError:
                return False
            return math.isfinite(number) and self.low <= number <= self.high
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "stdout":
            return value == ""
        if self.kind == "ints":
            return (
                isinstance(value, str)
                and len(value) <= _MAX_STRING_LENGTH
                and re.fullmatch(r"\s*-?\d{1,6}(\s*,\s*-?\d{1,6})*\s*", value) is not None
            )
        raise AssertionError(self.kind)


def _choice(*names: str) -> _Rule:
    return _Rule("choice", choices=names)


_TOLERANCE = _Rule("float", low=0.0, high=1e300)
_POSITIVE = _Rule("float", low=1e-300, high=1e300)
_ANY_NUMBER = _Rule("float", low=-1e300, high=1e300)
_ITERATIONS = _Rule("int", low=0, high=10**9)
_COUNT = _Rule("int", low=0, high=10**6)
_BOOL = _Rule("bool")
_STDOUT = _Rule("stdout")

_KSP_TYPES = _choice(
    "preonly", "richardson", "chebyshev", "cg", "pipecg", "cr", "minres", "symmlq", "gmres",
    "fgmres", "lgmres", "dgmres", "pgmres", "gcr", "bcgs", "ibcgs", "fbcgs", "bcgsl", "bicg",
    "cgs", "tfqmr", "tcqmr", "lsqr",
)  # fmt: skip
_PC_TYPES = _choice(
    "none", "jacobi", "pbjacobi", "vpbjacobi", "bjacobi", "sor", "eisenstat", "icc", "ilu",
    "asm", "gasm", "gamg", "hypre", "mg", "lu", "cholesky", "svd", "fieldsplit", "ksp",
    "redundant", "lsc", "composite", "telescope", "python",
)  # fmt: skip

_OPTIONS: dict[str, _Rule] = {
    # Krylov methods
    "ksp_type": _KSP_TYPES,
    "ksp_rtol": _TOLERANCE,
    "ksp_atol": _TOLERANCE,
    "ksp_divtol": _POSITIVE,
    "ksp_max_it": _ITERATIONS,
    "ksp_gmres_restart": _Rule("int", low=1, high=10**5),
    "ksp_gmres_modifiedgramschmidt": _BOOL,
    "ksp_gmres_cgs_refinement_type": _choice("refine_never", "refine_ifneeded", "refine_always"),
    "ksp_lgmres_augment": _COUNT,
    "ksp_bcgsl_ell": _Rule("int", low=1, high=100),
    "ksp_richardson_scale": _ANY_NUMBER,
    "ksp_norm_type": _choice("none", "preconditioned", "unpreconditioned", "natural"),
    "ksp_pc_side": _choice("left", "right", "symmetric"),
    "ksp_initial_guess_nonzero": _BOOL,
    "ksp_reuse_preconditioner": _BOOL,
    "ksp_monitor": _STDOUT,
    "ksp_monitor_true_residual": _STDOUT,
    "ksp_converged_reason": _STDOUT,
    "ksp_view": _STDOUT,
    # nonlinear solvers
    "snes_type": _choice("newtonls", "newtontr", "ksponly", "nrichardson", "ngmres", "qn", "ncg"),
    "snes_linesearch_type": _choice("bt", "basic", "none", "l2", "cp", "secant", "nleqerr"),
    "snes_linesearch_order": _Rule("int", low=1, high=3),
    "snes_linesearch_damping": _POSITIVE,
    "snes_linesearch_maxstep": _POSITIVE,
    "snes_linesearch_minlambda": _POSITIVE,
    "snes_linesearch_alpha": _POSITIVE,
    "snes_linesearch_max_it": _COUNT,
    "snes_rtol": _TOLERANCE,
    "snes_atol": _TOLERANCE,
    "snes_stol": _TOLERANCE,
    "snes_max_it": _ITERATIONS,
    "snes_max_funcs": _ITERATIONS,
    "snes_max_fail": _COUNT,
    "snes_max_linear_solve_fail": _COUNT,
    "snes_divergence_tolerance": _ANY_NUMBER,
    "snes_lag_jacobian": _Rule("int", low=-2, high=10**6),
    "snes_lag_preconditioner": _Rule("int", low=-2, high=10**6),
    "snes_ksp_ew": _BOOL,
    "snes_ksp_ew_version": _Rule("int", low=1, high=3),
    "snes_ksp_ew_rtol0": _TOLERANCE,
    "snes_ksp_ew_rtolmax": _TOLERANCE,
    "snes_monitor": _STDOUT,
    "snes_linesearch_monitor": _STDOUT,
    "snes_converged_reason": _STDOUT,
    "snes_view": _STDOUT,
    # preconditioners
    "pc_type": _PC_TYPES,
    "pc_python_type": _Rule("python"),
    "pc_electrochemical_charge_numbers": _Rule("ints"),
    "pc_electrochemical_clear_products": _BOOL,
    "pc_factor_mat_solver_type": _choice(
        "petsc", "mumps", "superlu", "superlu_dist", "umfpack", "cholmod", "klu", "strumpack"
    ),
    "pc_factor_mat_ordering_type": _choice(
        "natural", "nd", "1wd", "rcm", "qmd", "rowlength", "amd", "metisnd"
    ),
    "pc_factor_levels": _Rule("int", low=0, high=100),
    "pc_factor_fill": _POSITIVE,
    "pc_factor_shift_type": _choice("none", "nonzero", "positive_definite", "inblocks"),
    "pc_factor_shift_amount": _TOLERANCE,
    "pc_factor_reuse_ordering": _BOOL,
    "pc_factor_reuse_fill": _BOOL,
    "pc_factor_pivot_in_blocks": _BOOL,
    "pc_jacobi_type": _choice("diagonal", "rowmax", "rowsum"),
    "pc_sor_omega": _Rule("float", low=1e-300, high=2.0),
    "pc_sor_its": _Rule("int", low=1, high=1000),
    "pc_sor_symmetric": _BOOL,
    "pc_bjacobi_blocks": _Rule("int", low=1, high=10**9),
    "pc_asm_overlap": _Rule("int", low=0, high=1000),
    "pc_asm_type": _choice("basic", "restrict", "interpolate", "none"),
    "pc_asm_local_type": _choice("additive", "multiplicative"),
    "pc_gamg_type": _choice("agg", "classical", "geo"),
    "pc_gamg_threshold": _Rule("float", low=-1.0, high=1.0),
    "pc_gamg_threshold_scale": _Rule("float", low=0.0, high=1.0),
    "pc_gamg_reuse_interpolation": _BOOL,
    "pc_gamg_agg_nsmooths": _Rule("int", low=0, high=10),
    "pc_gamg_aggressive_coarsening": _Rule("int", low=0, high=10),
    "pc_gamg_square_graph": _Rule("int", low=0, high=10),
    "pc_gamg_aggressive_square_graph": _BOOL,
    "pc_gamg_aggressive_mis_k": _Rule("int", low=1, high=10),
    "pc_gamg_low_memory_threshold_filter": _BOOL,
    "pc_gamg_sym_graph": _BOOL,
    "pc_gamg_coarse_eq_limit": _Rule("int", low=1, high=10**9),
    "pc_gamg_process_eq_limit": _Rule("int", low=1, high=10**9),
    "pc_gamg_repartition": _BOOL,
    "pc_gamg_use_sa_esteig": _BOOL,
    "pc_gamg_recompute_esteig": _BOOL,
    "pc_gamg_esteig_ksp_type": _KSP_TYPES,
    "pc_gamg_esteig_ksp_max_it": _ITERATIONS,
    "pc_mg_levels": _Rule("int", low=1, high=30),
    "pc_mg_cycle_type": _choice("v", "w"),
    "pc_mg_type": _choice("additive", "multiplicative", "full", "kaskade"),
    "pc_mg_galerkin": _choice("both", "pmat", "mat", "none"),
    "pc_hypre_type": _choice("boomeramg", "pilut", "parasails", "euclid"),
    "pc_hypre_boomeramg_strong_threshold": _Rule("float", low=0.0, high=1.0),
    "pc_hypre_boomeramg_max_iter": _ITERATIONS,
    "pc_hypre_boomeramg_max_levels": _Rule("int", low=2, high=100),
    "pc_hypre_boomeramg_agg_nl": _Rule("int", low=0, high=100),
    "pc_hypre_boomeramg_truncfactor": _Rule("float", low=0.0, high=1.0),
    "pc_hypre_boomeramg_P_max": _COUNT,
    "pc_hypre_boomeramg_coarsen_type": _choice(
        "CLJP", "Ruge-Stueben", "modifiedRuge-Stueben", "Falgout", "PMIS", "HMIS"
    ),
    "pc_hypre_boomeramg_interp_type": _choice(
        "classical",
        "direct",
        "multipass",
        "multipass-wts",
        "ext+i",
        "ext+i-cc",
        "standard",
        "standard-wts",
        "FF",
        "FF1",
        "ext",
        "ad-wts",
        "ext-mm",
        "ext+i-mm",
        "ext+e-mm",
    ),  # fmt: skip
    "pc_hypre_boomeramg_relax_type_all": _choice(
        "Jacobi",
        "sequential-Gauss-Seidel",
        "seqboundary-Gauss-Seidel",
        "SOR/Jacobi",
        "backward-SOR/Jacobi",
        "symmetric-SOR/Jacobi",
        "l1scaled-SOR/Jacobi",
        "Gaussian-elimination",
        "l1-Gauss-Seidel",
        "backward-l1-Gauss-Seidel",
        "CG",
        "Chebyshev",
        "FCF-Jacobi",
        "l1scaled-Jacobi",
    ),  # fmt: skip
    "pc_fieldsplit_type": _choice(
        "additive", "multiplicative", "symmetric_multiplicative", "special", "schur", "gkb"
    ),
    "pc_fieldsplit_schur_fact_type": _choice("diag", "lower", "upper", "full"),
    "pc_fieldsplit_schur_precondition": _choice("self", "selfp", "user", "a11", "full"),
    "pc_fieldsplit_schur_scale": _ANY_NUMBER,
    "pc_fieldsplit_detect_saddle_point": _BOOL,
    "pc_fieldsplit_block_size": _Rule("int", low=1, high=1000),
    "pc_redundant_number": _Rule("int", low=1, high=10**6),
    "pc_telescope_reduction_factor": _Rule("int", low=1, high=10**6),
    # direct solvers
    "mat_superlu_dist_equil": _BOOL,
    "mat_superlu_dist_colperm": _choice(
        "NATURAL", "MMD_AT_PLUS_A", "MMD_ATA", "METIS_AT_PLUS_A", "PARMETIS"
    ),
}

#: options whose name has a number or a split name in it
_PATTERNS: tuple[tuple[re.Pattern[str], _Rule], ...] = (
    (re.compile(r"mat_mumps_icntl_\d{1,2}"), _Rule("int", low=-(10**9), high=10**9)),
    (re.compile(r"mat_mumps_cntl_\d{1,2}"), _Rule("float", low=-1e300, high=1e300)),
    (re.compile(r"pc_fieldsplit_[A-Za-z0-9_]{1,40}_fields"), _Rule("ints")),
)

#: prefixes of inner solvers, any sequence of up to four
_PREFIXES = re.compile(
    r"(?:(?:sub|transport|potential|redundant|mg_coarse|mg_levels(?:_\d{1,2})?|"
    r"fieldsplit_[A-Za-z0-9_]{1,40}|esteig|ksp|lsc|telescope)_){0,4}"
)


def _rule(key: str) -> tuple[str, _Rule] | None:
    """(prefix, rule) of an allowed option name, else None."""
    for split in range(len(key)):
        prefix, base = key[:split], key[split:]
        if prefix and not prefix.endswith("_"):
            continue
        if _PREFIXES.fullmatch(prefix) is None:
            continue
        if base in _OPTIONS:
            return prefix, _OPTIONS[base]
        for pattern, rule in _PATTERNS:
            if pattern.fullmatch(base):
                return prefix, rule
    return None


def allowed_summary() -> str:
    """What ``[solver.petsc]`` accepts, in one sentence (quoted by errors)."""
    return (
        "allowed are the KSP, PC and SNES types, tolerances and iteration limits, the settings "
        "of factorisations, ASM, GAMG, hypre, multigrid, field split and MUMPS, also behind "
        "inner-solver prefixes (sub_, fieldsplit_NAME_, mg_levels_, ...), and monitors/views "
        'with the value "" (standard output); see docs/case-format.md'
    )


def petsc_option_problems(options: Mapping[str, Any], where: str = "solver.petsc") -> list[str]:
    """Every option of ``options`` that is not on the allow-list, as messages.

    Args:
        options: The ``[solver.petsc]`` table (option names without the leading dash).
        where: The table's dotted key, quoted in the messages.

    Returns:
        One message per refused option, naming the key, the value and what is allowed.
    """
    problems = []
    for key, value in options.items():
        name = f"{where}.{key}"
        if not isinstance(key, str) or len(key) > _MAX_KEY_LENGTH:
            problems.append(f"{where}: an option name longer than {_MAX_KEY_LENGTH} characters")
            continue
        found = _rule(key)
        if found is None:
            hint = ""
            if key.startswith("-"):
                hint = " (write option names without the leading dash)"
            elif "python" in key:
                hint = (
                    " (Python objects only as pc_python_type = one of "
                    + ", ".join(repr(p) for p in PYTHON_PRECONDITIONERS)
                    + ")"
                )
            problems.append(
                f"{name} = {_shown(value)}: not an allowed PETSc option{hint}; {allowed_summary()}"
            )
            continue
        prefix, rule = found
        if not rule.accepts(value):
            problems.append(f"{name} = {_shown(value)} is not allowed: expected {rule.describe()}")
            continue
        if rule.kind == "choice" and value == "python":
            python_type = options.get(f"{prefix}pc_python_type")
            if python_type not in PYTHON_PRECONDITIONERS:
                problems.append(
                    f'{name} = "python" is allowed only with {where}.{prefix}pc_python_type = '
                    + " or ".join(repr(p) for p in PYTHON_PRECONDITIONERS)
                    + f" (got {_shown(python_type)})"
                )
    return problems


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


#: Options that keep a Jacobian, preconditioner or interpolation from one Newton solve (time
#: step) to the next, by the base name and the values that do: a lag of -1 or -2 (never rebuilt
#: after the first; a lag n >= 1 counts from the start of every solve, since
#: ``snes_lag_*_persists`` is not allowed), and the reuse flags set to true.
_REUSED_ACROSS_SOLVES: dict[str, tuple[Any, ...]] = {
    "snes_lag_jacobian": (-1, -2),
    "snes_lag_preconditioner": (-1, -2),
    "ksp_reuse_preconditioner": (True,),
    "pc_gamg_reuse_interpolation": (True,),
}


def reuse_across_solves(options: Mapping[str, Any]) -> list[str]:
    """The options of ``options`` that carry solver state from one Newton solve to the next.

    A run that uses them cannot be resumed exactly from a checkpoint (the resumed run builds
    afresh what the uninterrupted run kept), see docs/checkpoint.md.
    """
    found = []
    for key, value in options.items():
        rule = _rule(key) if isinstance(key, str) else None
        if rule is None:
            continue
        base = key[len(rule[0]) :]
        values = _REUSED_ACROSS_SOLVES.get(base, ())
        if any(value == v and isinstance(value, bool) == isinstance(v, bool) for v in values):
            found.append(key)
    return found


_PREFIX_NUMBERS = itertools.count()


def unique_prefix(name: str) -> str:
    """An options prefix that no other solver of this process has had: ``NAME_N_``.

    Options some solvers leave in PETSc's database under their prefix (a field split's inner
    solvers', read at its first set-up) then reach no later solver. A prefix made from the
    solver's address (``id``) could: the address of a freed solver is reused. Solvers made in
    the same order on every rank get the same prefix on every rank.
    """
    return f"{name}_{next(_PREFIX_NUMBERS)}_"
