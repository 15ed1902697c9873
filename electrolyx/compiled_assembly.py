"""A 1D block system's residual and Jacobian assembled by one compiled loop per call.

:class:`~electrolyx.block_assembly.BlockAssembler` calls DOLFINx's C++ assembler once per
block, and before it packs that block's constants and coefficients: on the 1D DFN with plating
and SEI (11 fields, 64 Jacobian blocks of 20-47 cells each) a Jacobian took 0.63 ms and a
residual 0.13 ms, about half of it per-call work (packing into new arrays, the calls through
nanobind, index translation through local sub-matrices), the rest the kernels. A cycle of the
ageing experiment makes ~1600 residuals and ~370 Jacobians (bench/README.md).

:class:`CompiledAssembly` finds once, for every block's integrals, what does not change
between the calls: each entity's coordinates, where each packed coefficient and constant is
read from (an address in the coefficient functions' and constants' own value arrays) and where
each entry of the element tensor is added (a position in the residual vector's array, or in
the Jacobian's compressed-row value array; none for a Dirichlet row or column). A call then is
one C function over every block, integral and entity: gather the coefficients, call FFCx's
kernel (the same function pointer DOLFINx calls), add the element tensor at its positions. In
the same order as DOLFINx's assembler, so the sums, and the results, are the same bit for bit
(tests/test_compiled_assembly.py).

Where each packed value comes from is read off DOLFINx's own packing: every coefficient
function's values and every constant's are set, for one call of ``pack_coefficients`` and
``pack_constants``, to numbers that encode their array and position, and set back afterwards.
A packed value that is not such a number (a transformed one, as for elements whose dofs DOLFINx
transforms) makes the system unsupported, and :func:`compiled_assembly` says so (None).

The nodal terms' values (:class:`~electrolyx.block_assembly.BlockAssembler`'s ``nodal`` and
``nodal_residual``) are tasks of the same call, run first, each added into its function's own
array; and :meth:`CompiledAssembly.loader` copies TS's state into the unknowns' functions by one
C call.

The same helper gives PETSc's TS its residual and Jacobian as C functions
(:meth:`CompiledAssembly.residual_function`, :meth:`CompiledAssembly.jacobian_function`: the
loads, the time, the assembly and the Dirichlet rows without Python in TS's calls), a C
screen of Newton's convergence test (:class:`ConvergenceScreen`), TSEvent's indicator for events
affine in scalar forms (:meth:`CompiledAssembly.indicator_function`), and the scalar outputs
read together by one call (:meth:`CompiledAssembly.scalar_function`); TSIntegrator sets them
where nothing needs Python at each call (docs/time-integration.md).

Only for a serial run on a 1D mesh (the DFN's cell direction): there are no ghosts, no facet
permutations and the tables are small. Elsewhere :class:`BlockAssembler` assembles as before.
The C helper is compiled once (C compiler via CFFI, as FFCx compiles forms) into the form cache
and loaded from there afterwards.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.machinery
import importlib.util
import os
import tempfile
import warnings
import weakref
from collections.abc import Callable, Sequence, Set
from pathlib import Path
from typing import Any

from petsc4py import PETSc

import numpy as np
from dolfinx import cpp as _cpp
from dolfinx import fem

from .block_assembly import assembled_block
from .jit import sorted_unique

__all__ = [
    "CompiledAssembly",
    "ConvergenceScreen",
    "IndicatorFunction",
    "JacobianFunction",
    "ResidualFunction",
    "UnsupportedResidual",
    "UnsupportedScalars",
    "compiled_assembly",
]

_C_RESIDUAL = """
typedef struct {
    uintptr_t vec_get_array_read;
    uintptr_t vec_restore_array_read;
    uintptr_t vec_get_array;
    uintptr_t vec_restore_array;
    uintptr_t vec_copy;
    int32_t fields;
    double* const* unknowns;
    double* const* rates;
    const int64_t* starts;
    const int32_t* sizes;
    int64_t size;
    uintptr_t last_state;
    uintptr_t last_rates;
    double* time;
    int32_t count;
    const electrolyx_task* tasks;
    const int32_t* which;
    double* element;
    double* coefficients;
    double* constants;
    int32_t constrained;
    const int64_t* rows;
    const double* const* values;
    int64_t calls;
} electrolyx_residual;
"""

_C_JACOBIAN = """
typedef struct {
    electrolyx_residual* residual;
    uintptr_t matrix;
    uintptr_t mat_get_array;
    uintptr_t mat_restore_array;
    uintptr_t mat_assembly_begin;
    uintptr_t mat_assembly_end;
    double* shift;
    int32_t count;
    const electrolyx_task* tasks;
    const int32_t* which;
    double* overflow;
    int64_t nonzeros;
    int32_t diagonal_size;
    const int64_t* diagonal;
    double diag;
    int32_t overflowed;
    int64_t calls;
} electrolyx_jacobian;
"""

_C_SCREEN = """
typedef struct {
    double absolute;
    double relative;
    double step;
    int32_t max_iterations;
    int32_t iterate_once;
    double initial;
    int64_t asked;
    int32_t first_untold;
    double first_x_norm;
    double first_step_norm;
} electrolyx_screen;
"""

_C_INDICATOR = """
typedef struct {
    uintptr_t vec_get_array_read;
    uintptr_t vec_restore_array_read;
    uintptr_t object_state_get;
    int32_t fields;
    double* const* unknowns;
    const int64_t* starts;
    const int32_t* sizes;
    double* time;
    int32_t count;
    const electrolyx_task* tasks;
    const int32_t* which;
    double* element;
    double* coefficients;
    double* constants;
    double* scalars;
    int32_t scalar_count;
    int32_t events;
    const int32_t* scalar_of;
    const double* const* offsets;
    const double* scales;
    const int32_t* absolute;
    const double* signs;
    const double* cuts;
    double tolerance;
    double* latest;
    double* accepted;
    int32_t has_latest;
    int32_t locating;
    const int64_t* residual_calls;
    const int64_t* jacobian_calls;
    int32_t holds;
    uintptr_t loaded_vector;
    int64_t loaded_state;
    double loaded_time;
    int64_t stamp;
    int32_t fired;
    int32_t* fired_events;
    double fired_time;
    int64_t calls;
} electrolyx_indicator;
"""

_C_DECLARATIONS = (
    """
typedef struct {
    uintptr_t kernel;
    int32_t entities;
    int32_t tensor_size;
    int32_t coefficient_size;
    int32_t constant_size;
    int32_t coordinate_size;
    int32_t local_index_size;
    const double* coordinates;
    const int32_t* local_index;
    const uintptr_t* coefficient_addresses;
    const uintptr_t* constant_addresses;
    const int32_t* positions;
    double* out;
    int32_t zero_size;
    const double* copy_from;
    int32_t copy_stride;
    const int32_t* kept;
    int32_t kept_size;
    int32_t watched;
    const double* gathered;
    int32_t gather_only;
    int32_t in_place;
} electrolyx_task;

int32_t electrolyx_assemble(int32_t count, const electrolyx_task* tasks, const int32_t* which,
                            double* out, double* overflow, double* element,
                            double* coefficients, double* constants);

void electrolyx_load(int32_t count, double* const* targets, const int64_t* starts,
                     const int32_t* sizes, const double* source);

"""
    + _C_RESIDUAL
    + _C_JACOBIAN
    + """
int electrolyx_ifunction(void* ts, double t, void* x, void* x_dot, void* f, void* context);

int electrolyx_ijacobian(void* ts, double t, void* x, void* x_dot, double shift, void* J,
                         void* P, void* context);

extern "Python" int electrolyx_jacobian_overflow(void* context);

"""
    + _C_SCREEN
    + """
int electrolyx_snes_screen(void* snes, int32_t iteration, double x_norm, double step_norm,
                           double norm, int32_t* reason, void* context);

extern "Python" int32_t electrolyx_screen_verdict(void* context, int32_t iteration,
                                                  double x_norm, double step_norm, double norm);
"""
    + _C_INDICATOR
    + """
int electrolyx_event_indicator(void* ts, double t, void* u, double* values, void* context);

int electrolyx_postevent(void* ts, int32_t count, int32_t* fired, double t, void* u,
                         int32_t forward, void* context);
"""
)

_C_SOURCE = (
    """
#include <stdint.h>
#include <string.h>

typedef void (*electrolyx_kernel)(double*, const double*, const double*, const double*,
                                  const int*, const uint8_t*, void*);
"""
    + _C_DECLARATIONS.split("int32_t electrolyx_assemble")[0]
    + """
/* Each task's entities in turn: gather the packed coefficients (a null address: zero), call
   the kernel on a zeroed element tensor, add its entries at their positions: p >= 0 into
   out[p], p = -1 dropped, p <= -2 a nonzero into overflow slot -2 - p (its value, and a 1
   marking it met: as PETSc, which inserts every nonzero added, even where they sum to 0).
   A task with its own out adds there instead (zeroing its first zero_size entries first); one
   with copy_from (and no kernel) copies copy_from[e * copy_stride] into its out[e] for its
   entities e. A kernel task adds only its kept entries k (those with p >= 0 at some entity,
   in increasing k: the same sums in the same order) and, where it has entries outside the
   pattern (watched), looks for a nonzero among them by one branch-free pass before adding
   them to overflow one by one. A gather_only task gathers its entities'
   coefficients into its out (entities x coefficient_size), for the tasks whose kernels read
   them from there (gathered: the same values, gathered once for all of them). An in_place
   task's kernel adds straight into its out (a scalar form's value: as DOLFINx's
   assemble_scalar, entity after entity). Returns how many nonzeros went into overflow. */
int32_t electrolyx_assemble(int32_t count, const electrolyx_task* tasks, const int32_t* which,
                            double* out, double* overflow, double* element,
                            double* coefficients, double* constants)
{
    static const uint8_t permutation[2] = {0, 0};
    int32_t overflowed = 0;
    for (int32_t t = 0; t < count; ++t)
    {
        const electrolyx_task* task = tasks + which[t];
        double* target = task->out ? task->out : out;
        if (task->zero_size > 0)
            memset(target, 0, sizeof(double) * task->zero_size);
        if (task->copy_from)
        {
            for (int32_t e = 0; e < task->entities; ++e)
                target[e] = task->copy_from[(int64_t)e * task->copy_stride];
            continue;
        }
        if (task->gather_only)
        {
            const int64_t size = (int64_t)task->entities * task->coefficient_size;
            for (int64_t k = 0; k < size; ++k)
            {
                const double* source = (const double*)task->coefficient_addresses[k];
                target[k] = source ? *source : 0.0;
            }
            continue;
        }
        electrolyx_kernel kernel = (electrolyx_kernel)task->kernel;
        for (int32_t k = 0; k < task->constant_size; ++k)
        {
            const double* source = (const double*)task->constant_addresses[k];
            constants[k] = source ? *source : 0.0;
        }
        for (int32_t e = 0; e < task->entities; ++e)
        {
            const double* w = coefficients;
            if (task->gathered)
                w = task->gathered + (int64_t)e * task->coefficient_size;
            else
            {
                const uintptr_t* addresses = task->coefficient_addresses
                                             + (int64_t)e * task->coefficient_size;
                for (int32_t k = 0; k < task->coefficient_size; ++k)
                {
                    const double* source = (const double*)addresses[k];
                    coefficients[k] = source ? *source : 0.0;
                }
            }
            if (task->in_place)
            {
                kernel(target, w, constants,
                       task->coordinates + (int64_t)e * task->coordinate_size,
                       task->local_index + (int64_t)e * task->local_index_size, permutation, NULL);
                continue;
            }
            memset(element, 0, sizeof(double) * task->tensor_size);
            kernel(element, w, constants,
                   task->coordinates + (int64_t)e * task->coordinate_size,
                   task->local_index + (int64_t)e * task->local_index_size, permutation, NULL);
            const int32_t* positions = task->positions + (int64_t)e * task->tensor_size;
            for (int32_t i = 0; i < task->kept_size; ++i)
            {
                const int32_t k = task->kept[i];
                const int32_t p = positions[k];
                if (p >= 0)
                    target[p] += element[k];
            }
            if (!task->watched)
                continue;
            int32_t nonzero = 0;
            for (int32_t k = 0; k < task->tensor_size; ++k)
                nonzero |= (positions[k] <= -2) & (element[k] != 0.0);
            if (!nonzero)
                continue;
            for (int32_t k = 0; k < task->tensor_size; ++k)
            {
                const int32_t p = positions[k];
                if (p <= -2 && element[k] != 0.0)
                {
                    overflow[2 * (-2 - p)] += element[k];
                    overflow[2 * (-2 - p) + 1] = 1.0;
                    ++overflowed;
                }
            }
        }
    }
    return overflowed;
}

/* A blocked vector's segments into their arrays: sizes[i] values from source + starts[i]. */
void electrolyx_load(int32_t count, double* const* targets, const int64_t* starts,
                     const int32_t* sizes, const double* source)
{
    for (int32_t i = 0; i < count; ++i)
        memcpy(targets[i], source + starts[i], sizeof(double) * sizes[i]);
}

"""
    + _C_RESIDUAL
    + _C_JACOBIAN
    + """
static int electrolyx_jacobian_overflow(void* context);
static int32_t electrolyx_screen_verdict(void* context, int32_t iteration, double x_norm,
                                         double step_norm, double norm);

"""
    + _C_SCREEN
    + """
typedef int (*electrolyx_vec_read)(void*, const double**);
typedef int (*electrolyx_vec_write)(void*, double**);
typedef int (*electrolyx_vec_copy)(void*, void*);

/* PETSc TS's residual F(t, x, x_dot) (a TSIFunctionFn): what TSIntegrator's residual callback
   does, in C. The state and rates kept as the last evaluation's (last_state, last_rates: Vecs,
   or 0), both loaded into their functions, the time into its constant (time: or NULL); F
   zeroed and the residual tasks added into it; each constrained row set as dolfinx's set_bc
   with x0 = x and alpha = -1: F[row] = -1 (g - x[row]), g read from its constant or function
   at every call. A PETSc error code: 0, or that of the Vec call that failed. */
int electrolyx_ifunction(void* ts, double t, void* x, void* x_dot, void* f, void* context)
{
    electrolyx_residual* c = (electrolyx_residual*)context;
    electrolyx_vec_read get_read = (electrolyx_vec_read)c->vec_get_array_read;
    electrolyx_vec_read restore_read = (electrolyx_vec_read)c->vec_restore_array_read;
    electrolyx_vec_write get_write = (electrolyx_vec_write)c->vec_get_array;
    electrolyx_vec_write restore_write = (electrolyx_vec_write)c->vec_restore_array;
    int error = 0;
    (void)ts;
    c->calls += 1;
    if (c->last_state)
    {
        electrolyx_vec_copy copy = (electrolyx_vec_copy)c->vec_copy;
        if ((error = copy(x, (void*)c->last_state)))
            return error;
        if ((error = copy(x_dot, (void*)c->last_rates)))
            return error;
    }
    const double* state = NULL;
    const double* rates = NULL;
    double* out = NULL;
    if ((error = get_read(x, &state)))
        return error;
    if ((error = get_read(x_dot, &rates)))
    {
        restore_read(x, &state);
        return error;
    }
    electrolyx_load(c->fields, c->unknowns, c->starts, c->sizes, state);
    electrolyx_load(c->fields, c->rates, c->starts, c->sizes, rates);
    if (c->time)
        *c->time = t;
    if (!(error = get_write(f, &out)))
    {
        memset(out, 0, sizeof(double) * c->size);
        electrolyx_assemble(c->count, c->tasks, c->which, out, NULL, c->element,
                            c->coefficients, c->constants);
        const double alpha = -1.0;
        for (int32_t i = 0; i < c->constrained; ++i)
            out[c->rows[i]] = alpha * (*c->values[i] - state[c->rows[i]]);
        error = restore_write(f, &out);
    }
    const int rates_restored = restore_read(x_dot, &rates);
    const int state_restored = restore_read(x, &state);
    if (error)
        return error;
    return rates_restored ? rates_restored : state_restored;
}

typedef int (*electrolyx_mat_array)(void*, double**);
typedef int (*electrolyx_mat_assembly)(void*, int);

/* PETSc TS's Jacobian dF/dx + shift dF/dx_dot into P (a TSIJacobianFn), for the serial AIJ
   matrix whose tables the context holds: what TSIntegrator's Jacobian callback does, in C.
   The state and rates loaded (the residual context's loads), the time and shift set, P's
   values zeroed, the Jacobian tasks added into them, diag on the constrained diagonal;
   nonzeros met outside P's pattern (overflowed) handed to Python
   (electrolyx_jacobian_overflow: added to the pattern, or dropped), then P (and J where it
   is another matrix) assembled. */
int electrolyx_ijacobian(void* ts, double t, void* x, void* x_dot, double shift, void* J,
                         void* P, void* context)
{
    electrolyx_jacobian* c = (electrolyx_jacobian*)context;
    electrolyx_residual* r = c->residual;
    electrolyx_vec_read get_read = (electrolyx_vec_read)r->vec_get_array_read;
    electrolyx_vec_read restore_read = (electrolyx_vec_read)r->vec_restore_array_read;
    electrolyx_mat_array get_values = (electrolyx_mat_array)c->mat_get_array;
    electrolyx_mat_array restore_values = (electrolyx_mat_array)c->mat_restore_array;
    electrolyx_mat_assembly begin = (electrolyx_mat_assembly)c->mat_assembly_begin;
    electrolyx_mat_assembly end = (electrolyx_mat_assembly)c->mat_assembly_end;
    const int final_assembly = 0; /* MAT_FINAL_ASSEMBLY */
    const int wrong_argument = 62; /* PETSC_ERR_ARG_WRONG: not the matrix of the tables */
    int error = 0;
    (void)ts;
    if ((uintptr_t)P != c->matrix)
        return wrong_argument;
    c->calls += 1;
    const double* state = NULL;
    const double* rates = NULL;
    if ((error = get_read(x, &state)))
        return error;
    if ((error = get_read(x_dot, &rates)))
    {
        restore_read(x, &state);
        return error;
    }
    electrolyx_load(r->fields, r->unknowns, r->starts, r->sizes, state);
    electrolyx_load(r->fields, r->rates, r->starts, r->sizes, rates);
    const int rates_restored = restore_read(x_dot, &rates);
    const int state_restored = restore_read(x, &state);
    if (rates_restored || state_restored)
        return rates_restored ? rates_restored : state_restored;
    if (r->time)
        *r->time = t;
    *c->shift = shift;
    double* values = NULL;
    if ((error = get_values(P, &values)))
        return error;
    memset(values, 0, sizeof(double) * c->nonzeros);
    c->overflowed = electrolyx_assemble(c->count, c->tasks, c->which, values, c->overflow,
                                        r->element, r->coefficients, r->constants);
    for (int32_t i = 0; i < c->diagonal_size; ++i)
        values[c->diagonal[i]] = c->diag;
    if ((error = restore_values(P, &values)))
        return error;
    if (c->overflowed && (error = electrolyx_jacobian_overflow(context)))
        return error;
    if ((error = begin(P, final_assembly)) || (error = end(P, final_assembly)))
        return error;
    if (J != P && ((error = begin(J, final_assembly)) || (error = end(J, final_assembly))))
        return error;
    return 0;
}

/* Newton's convergence test (a SNESConvergenceTestFn) that answers the usual iteration
   itself and asks Python's test (electrolyx_screen_verdict) for the others: converged
   (CONVERGED_FNORM_ABS, 2) below the absolute tolerance; otherwise Python's verdict for a
   norm that is not finite, after a relative decrease below relative, an update below
   step |x|, or at max_iterations; else still iterating (0). A solve's first iteration
   (finite, above the absolute tolerance) is answered here too, iterating; its norms are kept
   (first_untold) for Python's test, which is told of it before the first later iteration it
   is asked about (_screen_verdict). With iterate_once set, a solve's first iteration is
   always Python's to judge. */
int electrolyx_snes_screen(void* snes, int32_t iteration, double x_norm, double step_norm,
                           double norm, int32_t* reason, void* context)
{
    electrolyx_screen* c = (electrolyx_screen*)context;
    (void)snes;
    const int finite = norm == norm && norm - norm == 0.0;
    if (finite && norm < c->absolute && !(iteration == 0 && c->iterate_once))
    {
        *reason = 2;
        return 0;
    }
    if (iteration == 0)
    {
        c->initial = norm;
        c->first_untold = 0;
        if (finite && !c->iterate_once)
        {
            c->first_untold = 1;
            c->first_x_norm = x_norm;
            c->first_step_norm = step_norm;
            *reason = 0;
            return 0;
        }
    }
    if (!finite || iteration == 0 || norm < c->relative * c->initial
        || step_norm < c->step * x_norm || iteration >= c->max_iterations)
    {
        c->asked += 1;
        *reason = electrolyx_screen_verdict(context, iteration, x_norm, step_norm, norm);
        return 0;
    }
    *reason = 0;
    return 0;
}
"""
    + _C_INDICATOR
    + """
typedef int (*electrolyx_object_state)(void*, int64_t*);

/* The sign of one number as TSIntegrator's Python indicator takes it: -1, 0 or 1, and the
   number itself where it is NaN (unequal to every sign, as there). */
static double electrolyx_sign(double value)
{
    return value != value ? value : (double)((value > 0) - (value < 0));
}

/* PETSc TSEvent's indicator (a TSEvent indicator function): what TSIntegrator's Python
   indicator does for events that are affine functions of scalar forms, in C. The state u
   loaded into the unknowns and t into the time constant, the scalar forms assembled (each
   into its own value, as the output rows read them), each event's value
   sign (h((S + offset) * scale) - cut) with h = |.| or the identity, and the bookkeeping of
   the Python indicator: the first values taken as the accepted ones; later, a value within
   the tolerance of zero or of another sign than the accepted one sets locating (TSEvent
   locates a crossing with trial steps from then on). The load is recorded (u, its object
   state, t, and the C residual's and Jacobian's calls then) for the post-step
   (IndicatorFunction.holds). A PETSc error code. */
int electrolyx_event_indicator(void* ts, double t, void* u, double* values, void* context)
{
    electrolyx_indicator* c = (electrolyx_indicator*)context;
    electrolyx_vec_read get_read = (electrolyx_vec_read)c->vec_get_array_read;
    electrolyx_vec_read restore_read = (electrolyx_vec_read)c->vec_restore_array_read;
    electrolyx_object_state state_of = (electrolyx_object_state)c->object_state_get;
    const double* state = NULL;
    int error = 0;
    (void)ts;
    c->calls += 1;
    c->holds = 0;
    if ((error = get_read(u, &state)))
        return error;
    electrolyx_load(c->fields, c->unknowns, c->starts, c->sizes, state);
    if ((error = restore_read(u, &state)))
        return error;
    if ((error = state_of(u, &c->loaded_state)))
        return error;
    if (c->time)
        *c->time = t;
    memset(c->scalars, 0, sizeof(double) * c->scalar_count);
    electrolyx_assemble(c->count, c->tasks, c->which, c->scalars, NULL, c->element,
                        c->coefficients, c->constants);
    int32_t changed = 0;
    for (int32_t k = 0; k < c->events; ++k)
    {
        double value = (c->scalars[c->scalar_of[k]] + *c->offsets[k]) * c->scales[k];
        if (c->absolute[k])
            value = value < 0.0 ? -value : (value == 0.0 ? 0.0 : value);
        value = c->signs[k] * (value - c->cuts[k]);
        values[k] = value;
        if (c->has_latest)
        {
            const double magnitude = value < 0.0 ? -value : value;
            changed |= magnitude <= c->tolerance
                       || electrolyx_sign(value) != electrolyx_sign(c->accepted[k]);
        }
        c->latest[k] = value;
    }
    if (!c->has_latest)
    {
        memcpy(c->accepted, c->latest, sizeof(double) * c->events);
        c->has_latest = 1;
    }
    else if (changed)
        c->locating = 1;
    c->loaded_vector = (uintptr_t)u;
    c->loaded_time = t;
    c->stamp = *c->residual_calls + *c->jacobian_calls;
    c->holds = 1;
    return 0;
}

/* PETSc TSEvent's post-event function: the events that fired and their time, recorded for
   TSIntegrator (terminal events only: TS stops at the first, so one call at most). */
int electrolyx_postevent(void* ts, int32_t count, int32_t* fired, double t, void* u,
                         int32_t forward, void* context)
{
    electrolyx_indicator* c = (electrolyx_indicator*)context;
    (void)ts;
    (void)u;
    (void)forward;
    for (int32_t i = 0; i < count && c->fired < c->events; ++i)
        c->fired_events[c->fired++] = fired[i];
    c->fired_time = t;
    return 0;
}
"""
)

#: the loaded helper module (compiled once per process at most), or why it is not there
_HELPER: Any = None
_HELPER_FAILURE: str | None = None


def _helper() -> Any:
    """The compiled C helper, built into the form cache at its first use and loaded after."""
    global _HELPER, _HELPER_FAILURE
    if _HELPER is None:
        if _HELPER_FAILURE is not None:
            raise _HelperUnavailable(_HELPER_FAILURE)
        try:
            _aij_array_functions()
            _HELPER = _build_helper()
        except Exception as error:  # (whatever the compiler or loader raised: reported)
            _HELPER_FAILURE = f"{type(error).__name__}: {error}"
            raise _HelperUnavailable(_HELPER_FAILURE) from error
    return _HELPER


def _build_helper() -> Any:
    import cffi

    from electrolyx import form_cache_directory

    digest = hashlib.sha256((_C_DECLARATIONS + _C_SOURCE).encode()).hexdigest()[:16]
    name = f"electrolyx_assembly_{digest}"
    directory = Path(form_cache_directory())
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    library = directory / f"{name}{suffix}"
    if not library.exists():
        directory.mkdir(parents=True, exist_ok=True)
        ffi = cffi.FFI()
        ffi.cdef(_C_DECLARATIONS)
        ffi.set_source(name, _C_SOURCE, extra_compile_args=["-O3"])
        # Built in a folder of its own, then moved into place in one step: processes that
        # build it at once each move a complete library.
        with tempfile.TemporaryDirectory(dir=directory) as build:
            built = ffi.compile(tmpdir=build)
            os.replace(built, library)
    spec = importlib.util.spec_from_file_location(name, library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # (an exception in it: printed, and PETSC_ERR_LIB returned to PETSc)
    module.ffi.def_extern(name="electrolyx_jacobian_overflow", error=76)(_jacobian_overflow)
    # (an exception in it: printed, and DIVERGED_FUNCTION_DOMAIN, -1, as Newton's verdict)
    module.ffi.def_extern(name="electrolyx_screen_verdict", error=-1)(_screen_verdict)
    return module


class _Unsupported(Exception):
    """The system has something the compiled loop does not handle."""


class _HelperUnavailable(Exception):
    """The C helper could not be built or loaded."""


#: PETSc's C functions through ctypes, by name and argument types (petsc_function)
_PETSC_FUNCTIONS: dict[tuple, Any] = {}


def petsc_function(name: str, argtypes: Sequence[Any] = ()) -> Any:
    """PETSc's C function ``name`` through ctypes (an error code out), kept per process.

    For what petsc4py does not offer: a serial AIJ matrix's value array, and setting TS's
    residual and Jacobian and Newton's test as C functions. ``argtypes``: ctypes' types of the
    arguments (default: none set). Its address: ``ctypes.cast(function, ctypes.c_void_p)``.
    """
    key = (name, tuple(argtypes))
    function = _PETSC_FUNCTIONS.get(key)
    if function is None:
        # (petsc4py's extension module: its symbol lookup reaches the PETSc library it links)
        function = getattr(ctypes.CDLL(PETSc.__file__), name)
        if argtypes:
            function.argtypes = list(argtypes)
        function.restype = ctypes.c_int
        _PETSC_FUNCTIONS[key] = function
    return function


def _petsc_address(name: str) -> int:
    """The address of PETSc's C function ``name`` (for the C residual and Jacobian)."""
    return ctypes.cast(petsc_function(name), ctypes.c_void_p).value


@functools.cache
def _aij_array_functions() -> tuple[Any, Any]:
    """PETSc's MatSeqAIJGetArray and MatSeqAIJRestoreArray (matrix, pointer to the array)."""
    argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))
    return (
        petsc_function("MatSeqAIJGetArray", argtypes),
        petsc_function("MatSeqAIJRestoreArray", argtypes),
    )


class CompiledAssembly:
    """The residual and Jacobian of a :class:`BlockAssembler`'s system by one C loop per call.

    Build it with :func:`compiled_assembly` (None where the system is not supported). Its
    results are those of the assembler's own :meth:`~BlockAssembler.assemble_vector` and
    :meth:`~BlockAssembler.assemble_matrix`, for a matrix it :meth:`supports`.
    """

    def __init__(self, assembler: Any):
        if assembler.spaces[0].mesh.comm.size != 1:
            raise _Unsupported("a parallel run")
        forms = [
            *assembler.residual_forms,
            *(form for _, _, form in assembler.jacobian_forms),
            *(form for form, *_ in assembler.nodal),
            *(form for form, *_ in assembler.nodal_residual),
        ]
        for form in forms:
            # (In 1D a facet is a vertex: its quadrature permutation is always 0.)
            if form.mesh.topology.dim != 1:
                raise _Unsupported("a mesh that is not 1D")
            if not hasattr(form.module, "ffi"):
                raise _Unsupported("kernels of several modules")
        self._helper = _helper()
        self._assembler = assembler
        self._offsets = np.concatenate(([0], np.cumsum(assembler.owned))).astype(np.int64)
        # each field's start and size in the blocked vector, as arrays and their C pointers
        starts = np.ascontiguousarray(self._offsets[:-1], dtype=np.int64)
        sizes = np.ascontiguousarray(np.diff(self._offsets), dtype=np.int32)
        ffi = self._helper.ffi
        self._segments = (
            (starts, ffi.cast("int64_t*", starts.ctypes.data)),
            (sizes, ffi.cast("int32_t*", sizes.ctypes.data)),
        )
        self._sources = _Sources([form._cpp_object for form in forms])
        self._cells = _CellMaps()
        # Nodal values (BlockAssembler's ``nodal`` and ``nodal_residual``): tasks that fill
        # their functions (each into its own array), run first in every Jacobian and residual.
        self._nodal_tasks = self._nodal_tasks_of(assembler.nodal)
        # Residual: the nodal values' tasks, then one task per (field, integral), positions in
        # the owned vector array.
        self._vector_tasks: list[list[int]] = []
        tasks: list[dict] = self._nodal_tasks_of(assembler.nodal_residual)
        self._vector_first = list(range(len(tasks)))
        for i, form in enumerate(assembler.residual_forms):
            field_tasks = []
            space = assembler.spaces[i]
            for integral in _integrals(form):
                rows = self._cells.dofs(form, space, integral)
                positions = self._offsets[i] + _unrolled(rows, space.dofmap.index_map_bs)
                field_tasks.append(len(tasks))
                tasks.append(self._task(form, integral, positions))
            self._vector_tasks.append(field_tasks)
        # (the arrays the C table points into, kept with it)
        self._vector_first += _append_shared_gathers(tasks)
        self._vector_table, self._vector_arrays = self._table(tasks), tasks
        # Jacobian: each block's integrals with their row and column dofs; the positions
        # depend on the matrix's pattern (found per matrix, _matrix_tables).
        self._block_integrals = [
            [
                (
                    integral,
                    self._cells.dofs(form, assembler.spaces[i], integral),
                    self._cells.dofs(form, assembler.spaces[j], integral),
                )
                for integral in _integrals(form)
            ]
            for i, j, form in assembler.jacobian_forms
        ]
        self._work: dict[str, np.ndarray] = {}
        self._work_pointers: tuple = ()
        # the C residuals made (residual_function) that are still in use
        self._residual_functions: weakref.WeakSet = weakref.WeakSet()
        self._grow_work([*tasks, *self._nodal_tasks])
        # (matrix handle, constraints) -> (matrix, its tables) or (matrix, None) if unsupported
        self._matrices: dict[tuple, tuple[PETSc.Mat, _MatrixTables | None]] = {}
        self._constrained: tuple | None = None
        self._vector_selection: dict[tuple, tuple[np.ndarray, Any]] = {}

    # ------------------------------------------------------------------ tables
    def _nodal_tasks_of(self, nodal: Sequence[tuple]) -> list[dict]:
        """Tasks that fill each (form, function, copy)'s function, each into its own array.

        The first of a function's tasks zeroes its array; where ``copy`` is not None a last task
        copies the function's first component into it (see BlockAssembler's ``nodal``).
        """
        tasks = []
        for form, function, copy in nodal:
            space = form.function_spaces[0]
            values = function.x.array
            first = len(tasks)
            for integral in _integrals(form):
                rows = self._cells.dofs(form, space, integral)
                task = self._task(form, integral, _unrolled(rows, space.dofmap.index_map_bs))
                task["out"] = values.ctypes.data
                tasks.append(task)
            if len(tasks) > first:
                tasks[first]["zero_size"] = values.size
            if copy is not None:
                target = copy.x.array
                block = function.x.block_size
                if values.size != block * target.size:
                    raise _Unsupported("a nodal copy of another size")
                empty = np.zeros((target.size, 0))
                tasks.append(
                    {
                        **_EMPTY_TASK,
                        "entities": target.size,
                        "coordinates": empty,
                        "out": target.ctypes.data,
                        "copy_from": values.ctypes.data,
                        "copy_stride": block,
                    }
                )
        return tasks

    def _task(
        self, form: Any, integral: dict, positions: np.ndarray, sources: _Sources | None = None
    ) -> dict:
        """One integral's arrays for the C loop (positions: (entities, tensor size)).

        ``sources``: where the form's packed data are read (default: the system's forms').
        """
        sources = self._sources if sources is None else sources
        cpp_form = form._cpp_object
        cells, local_index = _entity_cells(integral)
        geometry = cpp_form.mesh.geometry
        coordinates = geometry.x[geometry.dofmaps[0][cells.reshape(-1)]]
        coordinates = np.ascontiguousarray(coordinates.reshape(cells.shape[0], -1))
        entities = cells.shape[0]
        coefficients = sources.coefficients(cpp_form, (integral["type"], integral["index"]))
        if coefficients.size == 0:
            coefficients = np.zeros((entities, 0), dtype=np.uint64)
        if integral["type"] == fem.IntegralType.interior_facet:
            # (packed one row per side: the kernel reads a facet's two rows as one)
            coefficients = coefficients.reshape(entities, -1)
        if coefficients.shape[0] != entities:
            raise _Unsupported("packed coefficients not one row per entity")
        constants = sources.constants(cpp_form)
        positions = np.ascontiguousarray(positions.reshape(entities, -1), dtype=np.int32)
        return {
            "kernel": integral["kernel"],
            "entities": entities,
            "tensor_size": positions.shape[1],
            "coefficient_size": coefficients.shape[1],
            "constant_size": constants.size,
            "coordinate_size": coordinates.shape[1],
            "local_index_size": local_index.shape[1],
            "coordinates": coordinates,
            "local_index": np.ascontiguousarray(local_index, dtype=np.int32),
            "coefficient_addresses": np.ascontiguousarray(coefficients, dtype=np.uint64),
            "constant_addresses": np.ascontiguousarray(constants, dtype=np.uint64),
            "positions": positions,
            "out": 0,
            "zero_size": 0,
            "copy_from": 0,
            "copy_stride": 0,
            **_kept_entries(positions),
            "gathered": 0,
            "gather_only": 0,
            "in_place": 0,
        }

    def _table(self, tasks: list[dict]) -> Any:
        """The C array of tasks; it points into their arrays: keep them with it."""
        ffi = self._helper.ffi
        table = ffi.new("electrolyx_task[]", max(len(tasks), 1))
        for k, task in enumerate(tasks):
            entry = table[k]
            for key in _TASK_SIZES:
                setattr(entry, key, task[key])
            for key, kind in _TASK_ARRAYS:
                setattr(entry, key, ffi.cast(kind, task[key].ctypes.data))
            for key in ("out", "copy_from", "gathered"):
                setattr(entry, key, ffi.cast("double*", task[key]))
        return table

    def _grow_work(self, tasks: list[dict]) -> None:
        """Work arrays large enough for every task's element tensor and packed data."""
        for name, key in (
            ("element", "tensor_size"),
            ("coefficients", "coefficient_size"),
            ("constants", "constant_size"),
        ):
            size = max([1, *(task[key] for task in tasks)])
            if name not in self._work or self._work[name].size < size:
                self._work[name] = np.zeros(size)
        ffi = self._helper.ffi
        # (cast once: the C call's own pointer arguments, a few us each per call otherwise)
        self._work_pointers = tuple(
            ffi.cast("double*", self._work[name].ctypes.data)
            for name in ("element", "coefficients", "constants")
        )
        for residual in self._residual_functions:  # (they point to the new arrays too)
            residual.point_to_work(*self._work_pointers)

    def _selected(self, which: Sequence[int]) -> tuple[np.ndarray, Any]:
        """Task indices as the C call takes them: the array, and its pointer (cast once)."""
        array = np.asarray(which, dtype=np.int32)
        return array, self._helper.ffi.cast("int32_t*", array.ctypes.data)

    def _run(
        self, table: Any, which: tuple[np.ndarray, Any], out: int, overflow: np.ndarray | None
    ) -> int:
        """The tasks ``which`` of ``table`` into ``out`` (an address); nonzeros overflowed."""
        if which[0].size == 0:
            return 0
        ffi = self._helper.ffi
        element, coefficients, constants = self._work_pointers
        return self._helper.lib.electrolyx_assemble(
            which[0].size,
            table,
            which[1],
            ffi.cast("double*", out),
            ffi.cast("double*", 0 if overflow is None else overflow.ctypes.data),
            element,
            coefficients,
            constants,
        )

    def loader(self, functions: Sequence[fem.Function]) -> Any:
        """A function that copies a blocked vector's owned array into ``functions``.

        One function per field, its segment into the first entries of the function's array,
        by one C call.
        """
        ffi = self._helper.ffi
        arrays, targets = self._field_pointers(functions)
        count = len(arrays)
        starts, sizes = self._segments
        load = self._helper.lib.electrolyx_load
        cast = ffi.cast

        def copy(array: np.ndarray, kept=(arrays, targets)) -> None:
            load(count, targets, starts[1], sizes[1], cast("double*", array.ctypes.data))

        return copy

    def _field_pointers(self, functions: Sequence[fem.Function]) -> tuple[list, Any]:
        """The functions' value arrays and a C table of their addresses (keep both)."""
        ffi = self._helper.ffi
        arrays = [function.x.array for function in functions]
        if any(a.size < n for a, n in zip(arrays, np.diff(self._offsets).tolist(), strict=True)):
            raise ValueError("a function smaller than its field")
        return arrays, ffi.new("double*[]", [ffi.cast("double*", a.ctypes.data) for a in arrays])

    # ------------------------------------------------------------------ vector
    def assemble_vector(
        self, b: PETSc.Vec, skip: Set[int] = frozenset(), only: Set[int] | None = None
    ) -> None:
        """:meth:`BlockAssembler.assemble_vector` (serial: b has no ghosts), by one C call."""
        fields = range(len(self._vector_tasks)) if only is None else sorted(only)
        which = self._vector_selection_of(skip, only)
        array = b.getArray(readonly=False)
        if only is None:
            array[:] = 0.0
        else:
            offsets = self._offsets
            for i in fields:
                array[offsets[i] : offsets[i + 1]] = 0.0
        self._run(self._vector_table, which, array.ctypes.data, None)

    def residual_function(
        self,
        unknowns: Sequence[fem.Function],
        rates: Sequence[fem.Function],
        skip: Set[int] = frozenset(),
        last: tuple[PETSc.Vec, PETSc.Vec] | None = None,
        time: fem.Constant | None = None,
    ) -> ResidualFunction:
        """TS's residual F(t, x, x_dot) as a C function (a TSIFunctionFn) and its context.

        What TSIntegrator's residual callback does for a serial 1D system, without Python in
        the call: x and x_dot copied into ``last`` (where given) and loaded into ``unknowns``
        and ``rates``, t into ``time``'s value, the residual assembled (the fields in ``skip``
        left zero) straight into F, and the Dirichlet rows set to x - g (dolfinx's set_bc with
        x0 = x, alpha = -1), g read at every call. Raises :class:`UnsupportedResidual` for
        conditions whose values it cannot read (a function on another space, a vector).
        """
        ffi = self._helper.ffi
        address = _petsc_address
        unknown_pointers = self._field_pointers(unknowns)
        rate_pointers = self._field_pointers(rates)
        rows, values = self._condition_values()
        which = self._vector_selection_of(skip, None)
        value_table = ffi.new("double*[]", max(len(values), 1))
        for k, (array, position) in enumerate(values):
            value_table[k] = ffi.cast("double*", array.ctypes.data) + position
        keep: list[Any] = [unknown_pointers, rate_pointers, which, rows, values, value_table]
        context = ffi.new("electrolyx_residual*")
        context.vec_get_array_read = address("VecGetArrayRead")
        context.vec_restore_array_read = address("VecRestoreArrayRead")
        context.vec_get_array = address("VecGetArray")
        context.vec_restore_array = address("VecRestoreArray")
        context.vec_copy = address("VecCopy")
        context.fields = len(self._vector_tasks)
        context.unknowns = unknown_pointers[1]
        context.rates = rate_pointers[1]
        context.starts = self._segments[0][1]
        context.sizes = self._segments[1][1]
        context.size = int(self._offsets[-1])
        context.last_state = 0 if last is None else last[0].handle
        context.last_rates = 0 if last is None else last[1].handle
        if time is not None:
            if time.value.size != 1:
                raise UnsupportedResidual("a time constant that is not a scalar")
            keep.append(time)
        context.time = ffi.cast("double*", 0 if time is None else time.value.ctypes.data)
        context.count = which[0].size
        context.tasks = self._vector_table
        context.which = which[1]
        context.constrained = rows.size
        context.rows = ffi.cast("int64_t*", rows.ctypes.data)
        context.values = value_table
        function = ffi.cast("uintptr_t", ffi.addressof(self._helper.lib, "electrolyx_ifunction"))
        residual = ResidualFunction(int(function), context, keep)
        # (its work arrays: the compiled loop's, which grow with the matrices' tables)
        residual.point_to_work(*self._work_pointers)
        self._residual_functions.add(residual)
        return residual

    def _condition_values(self) -> tuple[np.ndarray, list[tuple[np.ndarray, int]]]:
        """The constrained rows of the monolithic vector, each with where its value is read.

        As ``BlockAssembler.set_bc`` visits them (field by field, each field's conditions in
        turn), so that a row two conditions constrain takes the last one's value, as there.
        """
        assembler = self._assembler
        rows, values = [], []
        for i, bcs in enumerate(assembler._bcs_by_block):
            for bc in bcs:
                dofs = np.asarray(bc.dof_indices()[0], dtype=np.int64)
                g = bc.g
                if isinstance(g, _cpp.fem.Constant_float64):
                    if g.value.size != 1:
                        raise UnsupportedResidual("a condition whose value is not a scalar")
                    values += [(g.value, 0)] * dofs.size
                elif isinstance(g, _cpp.fem.Function_float64):
                    space = g.function_space
                    if not (
                        space.contains(bc.function_space) and bc.function_space.contains(space)
                    ):
                        raise UnsupportedResidual("a condition's function on another space")
                    values += [(g.x.array, int(dof)) for dof in dofs.tolist()]
                else:
                    raise UnsupportedResidual("a condition whose value is not read in place")
                rows.append(self._offsets[i] + dofs)
        return np.concatenate([np.zeros(0, np.int64), *rows]), values

    def _vector_selection_of(self, skip: Set[int], only: Set[int] | None) -> tuple[np.ndarray, Any]:
        """The residual tasks of the fields assembled (nodal values first), cast once."""
        key = (frozenset(skip), None if only is None else frozenset(only))
        which = self._vector_selection.get(key)
        if which is None:
            fields = range(len(self._vector_tasks)) if only is None else sorted(only)
            tasks = [k for i in fields if i not in skip for k in self._vector_tasks[i]]
            which = self._vector_selection[key] = self._selected(self._vector_first + tasks)
        return which

    # ------------------------------------------------------------------ scalars
    def scalar_function(self, forms: Sequence[fem.Form]) -> Callable[[], list[float]]:
        """A function returning each scalar form's value, all by one C call.

        What ``dolfinx.fem.assemble_scalar`` gives for each (serial), bit for bit: the same
        kernels on the same entities in the same order, each adding into its form's value in
        place, as DOLFINx's loop does. For the outputs read at every step (a cycle of the
        ageing bench reads ~2,800). Raises :class:`UnsupportedScalars` for a form that is not
        a scalar form on a 1D mesh with one kernel module.
        """
        values = np.zeros(max(len(forms), 1))
        tasks, table, which = self._scalar_tasks(forms, values)
        count, ffi = len(forms), self._helper.ffi
        assemble = self._helper.lib.electrolyx_assemble
        out = ffi.cast("double*", values.ctypes.data)

        def evaluate(kept=(tasks, forms, which)) -> list[float]:
            values.fill(0.0)
            # (the work arrays read at each call: they grow with the matrices' tables)
            assemble(which[0].size, table, which[1], out, ffi.NULL, *self._work_pointers)
            return values[:count].tolist()

        return evaluate

    def _scalar_tasks(self, forms: Sequence[fem.Form], values: np.ndarray) -> tuple:
        """Tasks that add scalar form k's value into ``values[k]``: kept data, table, selection.

        For :meth:`scalar_function` and :meth:`indicator_function`.
        """
        for form in forms:
            if form.rank != 0 or form.mesh.topology.dim != 1 or not hasattr(form.module, "ffi"):
                raise UnsupportedScalars("a form that is not a 1D scalar form of one module")
        try:
            sources = _Sources([form._cpp_object for form in forms])
            tasks = []
            for k, form in enumerate(forms):
                for integral in _integrals(form):
                    entities = _entity_cells(integral)[0].shape[0]
                    positions = np.zeros((entities, 1), dtype=np.int32)
                    task = self._task(form, integral, positions, sources)
                    task["in_place"] = 1
                    task["out"] = values.ctypes.data + values.itemsize * k
                    tasks.append(task)
        except _Unsupported as error:
            raise UnsupportedScalars(str(error)) from error
        self._grow_work(tasks)
        return (tasks, sources), self._table(tasks), self._selected(range(len(tasks)))

    # ------------------------------------------------------------------ events
    def indicator_function(
        self,
        unknowns: Sequence[fem.Function],
        indicators: Sequence[Any],
        tolerance: float,
        time: fem.Constant | None = None,
    ) -> IndicatorFunction:
        """TSEvent's indicator and post-event function in C, for affine events.

        ``indicators``: one :class:`~electrolyx.ts_integrator.AffineIndicator` per event,
        g = sign (h((S + offset) * scale) - cut), S a scalar form's value at the state u, h
        the absolute value or the identity. What TSIntegrator's Python indicator does with
        such events, without Python in TSEvent's calls: u loaded into ``unknowns``, t into
        ``time``'s value, the forms assembled as :meth:`scalar_function` does (the same
        values bit for bit), the same sign bookkeeping (``tolerance``: TSEvent's), and the
        terminal events that fired recorded. Raises :class:`UnsupportedScalars` for forms it
        does not assemble.
        """
        ffi = self._helper.ffi
        forms: list[fem.Form] = []
        for indicator in indicators:
            if not any(indicator.form is form for form in forms):
                forms.append(indicator.form)
        scalars = np.zeros(len(forms))
        kept_tasks, table, which = self._scalar_tasks(forms, scalars)
        n = len(indicators)
        zero = np.zeros(1)
        offsets = [zero if i.offset is None else i.offset.value for i in indicators]
        if any(offset.size != 1 for offset in offsets):
            raise UnsupportedScalars("an offset that is not a scalar constant")
        scalar_of = np.array(
            [next(k for k, f in enumerate(forms) if f is i.form) for i in indicators], np.int32
        )
        scales = np.array([float(i.scale) for i in indicators])
        absolute = np.array([int(bool(i.absolute)) for i in indicators], np.int32)
        signs = np.array([float(i.sign) for i in indicators])
        cuts = np.array([float(i.cut) for i in indicators])
        latest, accepted = np.zeros(n), np.zeros(n)
        fired = np.zeros(n, np.int32)
        calls = np.zeros(1, np.int64)  # (the calls of a C residual or Jacobian that is not set)
        unknown_pointers = self._field_pointers(unknowns)
        offset_table = ffi.new("double*[]", [ffi.cast("double*", o.ctypes.data) for o in offsets])
        # (what the context points into: freed, it would point to freed memory)
        keep: list[Any] = [kept_tasks, table, which, scalars, zero, offsets, offset_table]
        keep += [scalar_of, scales, absolute, signs, cuts, latest, accepted, fired, calls]
        keep.append(unknown_pointers)
        if time is not None:
            if time.value.size != 1:
                raise UnsupportedScalars("a time constant that is not a scalar")
            keep.append(time)
        context = ffi.new("electrolyx_indicator*")
        context.vec_get_array_read = _petsc_address("VecGetArrayRead")
        context.vec_restore_array_read = _petsc_address("VecRestoreArrayRead")
        context.object_state_get = _petsc_address("PetscObjectStateGet")
        context.fields = len(unknown_pointers[0])
        context.unknowns = unknown_pointers[1]
        context.starts = self._segments[0][1]
        context.sizes = self._segments[1][1]
        context.time = ffi.cast("double*", 0 if time is None else time.value.ctypes.data)
        context.count = which[0].size
        context.tasks = table
        context.which = which[1]
        context.scalars = ffi.cast("double*", scalars.ctypes.data)
        context.scalar_count = len(forms)
        context.events = n
        context.scalar_of = ffi.cast("int32_t*", scalar_of.ctypes.data)
        context.offsets = offset_table
        context.scales = ffi.cast("double*", scales.ctypes.data)
        context.absolute = ffi.cast("int32_t*", absolute.ctypes.data)
        context.signs = ffi.cast("double*", signs.ctypes.data)
        context.cuts = ffi.cast("double*", cuts.ctypes.data)
        context.tolerance = float(tolerance)
        context.latest = ffi.cast("double*", latest.ctypes.data)
        context.accepted = ffi.cast("double*", accepted.ctypes.data)
        context.residual_calls = context.jacobian_calls = ffi.cast("int64_t*", calls.ctypes.data)
        context.fired_events = ffi.cast("int32_t*", fired.ctypes.data)
        lib = self._helper.lib
        function = ffi.cast("uintptr_t", ffi.addressof(lib, "electrolyx_event_indicator"))
        postevent = ffi.cast("uintptr_t", ffi.addressof(lib, "electrolyx_postevent"))
        indicator = IndicatorFunction(int(function), int(postevent), context, keep)
        indicator.point_to_work(*self._work_pointers)
        # (kept pointing to the compiled loop's work arrays as they grow, as the residuals)
        self._residual_functions.add(indicator)
        return indicator

    # ------------------------------------------------------------------ matrix
    def set_bcs(self) -> None:
        """The assembler's Dirichlet conditions changed: the matrices' tables follow them."""
        self._constrained = None

    def _constraints(self) -> tuple[list[np.ndarray] | None, tuple | None]:
        """Each field's constrained rows, and a key for them (None, None: unsupported)."""
        if self._constrained is None:
            try:
                constrained = _constrained_dofs(self._assembler)
            except _Unsupported:
                self._constrained = (None, None)
            else:
                key = tuple(tuple(dofs.tolist()) for dofs in constrained)
                self._constrained = (constrained, key)
        return self._constrained

    def supports(self, A: PETSc.Mat) -> bool:
        """Whether this assembles into A: a serial AIJ matrix, assembled (its pattern final)."""
        return self._tables(A) is not None

    def _tables(self, A: PETSc.Mat) -> _MatrixTables | None:
        """A's tables for the present Dirichlet conditions (None: A is not supported).

        Kept per matrix and set of conditions (a cycling run switches between current and
        voltage control many times); found again where A's pattern has changed.
        """
        if A.getType() != PETSc.Mat.Type.SEQAIJ or not A.assembled:
            # (Not assembled yet: its compressed rows are not final.)
            return None
        constrained = self._constraints()[1]
        if constrained is None:
            return None
        key = (A.handle, constrained)
        kept = self._matrices.get(key)
        if kept is not None and kept[1] is not None and kept[1].nonzeros != _nonzeros(A):
            kept = None
        if kept is None:
            try:
                tables = self._matrix_tables(A)
            except _Unsupported:
                tables = None
            kept = self._matrices[key] = (A, tables)
        return kept[1]

    def _matrix_tables(self, A: PETSc.Mat) -> _MatrixTables:
        """Where A keeps each block's element entries (or their overflow), and its diagonal."""
        row_pointers, columns, _ = A.getValuesCSR()
        size = A.getSize()[1]
        counts = np.diff(row_pointers)
        keys = np.repeat(np.arange(counts.size, dtype=np.int64), counts) * size + columns
        if keys.size and np.any(np.diff(keys) <= 0):
            raise _Unsupported("unsorted compressed rows")
        assembler = self._assembler
        constrained = self._constraints()[0]
        offsets = self._offsets
        entries = []  # (i, j, form, integral, rows, columns, kept) per integral
        for (i, j, form), found in zip(
            assembler.jacobian_forms, self._block_integrals, strict=True
        ):
            for integral, row_dofs, column_dofs in found:
                rows = offsets[i] + _unrolled(row_dofs, assembler.spaces[i].dofmap.index_map_bs)
                cols = offsets[j] + _unrolled(column_dofs, assembler.spaces[j].dofmap.index_map_bs)
                rows, cols = (
                    np.repeat(rows, cols.shape[1], axis=1),
                    np.tile(cols, (1, rows.shape[1])),
                )
                kept = ~_marked(constrained[i], offsets[i + 1] - offsets[i])[rows - offsets[i]]
                kept &= ~_marked(constrained[j], offsets[j + 1] - offsets[j])[cols - offsets[j]]
                entries.append((i, j, form, integral, rows, cols, kept))
        # Entries outside A's pattern (a compressed one's zeros) go to overflow slots, one per
        # distinct (row, column).
        located = [_locate(keys, rows * size + cols) for *_, rows, cols, _ in entries]
        overflow_keys = sorted_unique(
            np.concatenate(
                [np.zeros(0, np.int64)]
                + [
                    (rows * size + cols)[kept & (found < 0)]
                    for (*_, rows, cols, kept), found in zip(entries, located, strict=True)
                ]
            )
        )
        # The nodal values' tasks first (each into its own array), in every selection.
        tasks, per_block = list(self._nodal_tasks), []
        for (i, j, form, integral, rows, cols, kept), found in zip(entries, located, strict=True):
            slots = -2 - np.searchsorted(overflow_keys, rows * size + cols)
            positions = np.where(kept, np.where(found >= 0, found, slots), -1)
            if not per_block or per_block[-1][0] != (i, j):
                per_block.append(((i, j), []))
            per_block[-1][1].append(len(tasks))
            tasks.append(self._task(form, integral, positions))
        first = list(range(len(self._nodal_tasks))) + _append_shared_gathers(tasks)
        self._grow_work(tasks)
        diagonal = []
        for i, j in assembler._diagonal:
            rows = offsets[i] + constrained[i]
            found = _locate(keys, rows * size + rows)
            if np.any(found < 0):
                raise _Unsupported("a constrained diagonal outside the pattern")
            diagonal.append(((i, j), found))
        return _MatrixTables(
            first=first,
            selected=self._selected,
            table=self._table(tasks),
            arrays=tasks,  # (the arrays the table points into, kept with it)
            blocks=per_block,
            diagonal=diagonal,
            overflow_rows=(overflow_keys // size).astype(np.int32),
            overflow_columns=(overflow_keys % size).astype(np.int32),
            overflow=np.zeros(2 * max(overflow_keys.size, 1)),  # (value, met) per slot
            nonzeros=keys.size,
            grows=bool(A.getAttr("_pattern_grows")),
        )

    def assemble_matrix(
        self,
        A: PETSc.Mat,
        diag: float = 1.0,
        skip_rows: Set[int] = frozenset(),
        skip_blocks: Set[tuple[int, int]] = frozenset(),
        only_blocks: Set[tuple[int, int]] | None = None,
    ) -> bool:
        """:meth:`BlockAssembler.assemble_matrix` into A, or False where A is not supported.

        Nothing is done to an unsupported A (:meth:`supports`). Entries outside A's pattern:
        added to it where A grows (a compressed pattern with ``grow``) and nonzero, else
        dropped, as PETSc's insertion would.
        """
        tables = self._tables(A)
        if tables is None:
            return False
        which, diagonal = tables.selection(skip_rows, skip_blocks, only_blocks)
        get, restore = _aij_array_functions()
        pointer = ctypes.c_void_p()
        if get(A.handle, ctypes.byref(pointer)):
            raise RuntimeError("MatSeqAIJGetArray failed")
        try:
            overflow = tables.overflow
            overflowed = self._run(tables.table, which, pointer.value, overflow)
            if diagonal.size:
                values = np.ctypeslib.as_array(
                    ctypes.cast(pointer, ctypes.POINTER(ctypes.c_double)), shape=(tables.nonzeros,)
                )
                values[diagonal] = diag
        finally:
            restore(A.handle, ctypes.byref(pointer))
        if overflowed:
            self._add_overflow(A, tables)
        return True

    def _add_overflow(self, A: PETSc.Mat, tables: _MatrixTables) -> bool:
        """The nonzeros a call put in overflow: into A's pattern where it grows, else dropped.

        Returns whether A's pattern grew (its tables are then found again at the next call).
        """
        overflow = tables.overflow
        new = np.flatnonzero(overflow[1 : 2 * tables.overflow_rows.size : 2])
        grown = tables.grows and new.size > 0
        if grown:
            # A slot whose nonzeros summed to 0 is stored as 0, as PETSc's insertion of
            # those nonzeros stores it: by adding 1 and -1 (a 0 added is ignored).
            add = PETSc.InsertMode.ADD_VALUES
            for k in new.tolist():
                row, column = int(tables.overflow_rows[k]), int(tables.overflow_columns[k])
                value = overflow[2 * k]
                if value == 0.0:
                    A.setValue(row, column, 1.0, addv=add)
                    value = -1.0
                A.setValue(row, column, value, addv=add)
            self._matrices = {k: v for k, v in self._matrices.items() if k[0] != A.handle}
        overflow.fill(0.0)
        return grown

    def jacobian_function(
        self, residual: ResidualFunction, A: PETSc.Mat, shift: fem.Constant, diag: float = 1.0
    ) -> JacobianFunction:
        """TS's Jacobian into A as a C function (a TSIJacobianFn) and its context.

        What TSIntegrator's Jacobian callback does for a serial 1D system whose Jacobian is
        A, without Python in the call: x and x_dot loaded as ``residual`` (its C residual)
        loads them, the time set as there, the shift into ``shift``'s value, A's values
        zeroed, every block assembled, ``diag`` on the constrained diagonal, A assembled.
        Nonzeros outside A's pattern are handled as :meth:`assemble_matrix` handles them, by a
        call back into Python. Raises :class:`UnsupportedResidual` where A is not supported.
        """
        if self._tables(A) is None or shift.value.size != 1:
            raise UnsupportedResidual("a matrix the compiled loop does not assemble into")
        ffi = self._helper.ffi
        address = _petsc_address
        context = ffi.new("electrolyx_jacobian*")
        context.residual = residual._struct
        context.matrix = A.handle
        context.mat_get_array = address("MatSeqAIJGetArray")
        context.mat_restore_array = address("MatSeqAIJRestoreArray")
        context.mat_assembly_begin = address("MatAssemblyBegin")
        context.mat_assembly_end = address("MatAssemblyEnd")
        context.shift = ffi.cast("double*", shift.value.ctypes.data)
        context.diag = diag
        function = ffi.cast("uintptr_t", ffi.addressof(self._helper.lib, "electrolyx_ijacobian"))
        jacobian = JacobianFunction(self, int(function), context, A, residual, shift)
        jacobian.point_to_tables()
        _JACOBIANS[jacobian.context] = jacobian
        return jacobian

    def release(self) -> None:
        """Forget the tables of the matrices assembled into."""
        self._matrices = {}


class UnsupportedScalars(Exception):
    """Forms :meth:`CompiledAssembly.scalar_function` does not assemble."""


class UnsupportedResidual(Exception):
    """The residual has something :meth:`CompiledAssembly.residual_function` does not handle."""


class _CFunction:
    """A C function for PETSc and its context: their addresses, and the calls it counts.

    ``function``: the address of the C function; ``context``: that of its context (pass it as
    the context pointer); ``struct``: the context itself, whose ``calls`` the C function
    counts. Keep this object while PETSc may call the function.
    """

    def __init__(self, function: int, struct: Any):
        self.function = function
        self._struct = struct
        self.context = int(_helper().ffi.cast("uintptr_t", struct))

    @property
    def pending_calls(self) -> int:
        """The calls made since the last :meth:`take_calls` (left to be taken)."""
        return int(self._struct.calls)

    def take_calls(self) -> int:
        """The calls made since the last time this was asked."""
        calls = int(self._struct.calls)
        self._struct.calls = 0
        return calls


class ResidualFunction(_CFunction):
    """A C residual for PETSc's TS (:meth:`CompiledAssembly.residual_function`).

    Keep it while TS may call the function: its context points into the arrays it keeps.
    """

    def __init__(self, function: int, struct: Any, keep: list[Any]):
        super().__init__(function, struct)
        self._keep = keep

    def point_to_work(self, element: Any, coefficients: Any, constants: Any) -> None:
        """The work arrays the C function uses (the compiled loop's present ones)."""
        self._struct.element = element
        self._struct.coefficients = coefficients
        self._struct.constants = constants


class IndicatorFunction(ResidualFunction):
    """TSEvent's indicator and post-event functions in C (from ``indicator_function``).

    Keep it while TS may call the functions: the context points into the arrays it keeps.
    ``function`` and ``postevent`` are their addresses, ``context`` that of their context.
    """

    def __init__(self, function: int, postevent: int, struct: Any, keep: list[Any]):
        super().__init__(function, struct, keep)
        self.postevent = postevent

    @property
    def locating(self) -> bool:
        """Whether a value changed sign (or came within the tolerance of zero).

        Since the last accepted step: TSEvent locates the crossing with trial steps from then on.
        """
        return bool(self._struct.locating)

    def accept(self) -> None:
        """The last values are those of an accepted step (TSIntegrator's post-step)."""
        struct = self._struct
        if struct.has_latest:
            for k in range(struct.events):
                struct.accepted[k] = struct.latest[k]

    def watch(self, residual: _CFunction | None, jacobian: _CFunction | None) -> None:
        """The C residual and Jacobian TS calls (None: Python's).

        Their calls after the indicator's last load mean that the unknowns no longer hold its
        state (:meth:`holds`).
        """
        struct = self._struct
        for name, function in (("residual_calls", residual), ("jacobian_calls", jacobian)):
            if function is not None:
                self._keep.append(function)
                setattr(struct, name, _helper().ffi.addressof(function._struct, "calls"))

    def forget(self) -> None:
        """The unknowns were loaded from Python since the indicator's last load."""
        self._struct.holds = 0

    def holds(self, vector: PETSc.Vec, t: float) -> bool:
        """Whether the unknowns still hold ``vector``'s present values at time t.

        As the indicator's last call loaded them: the same vector, object state and time, and
        no C residual or Jacobian called since (their calls not yet taken), nor a load from
        Python (:meth:`forget`).
        """
        struct = self._struct
        return bool(
            struct.holds
            and struct.loaded_vector == vector.handle
            and struct.loaded_state == vector.stateGet()
            and struct.loaded_time == t
            and struct.stamp == struct.residual_calls[0] + struct.jacobian_calls[0]
        )

    def fired(self) -> tuple[float, list[int]]:
        """The time and the indices of the events that fired (none: an empty list)."""
        struct = self._struct
        return float(struct.fired_time), [int(struct.fired_events[k]) for k in range(struct.fired)]


class JacobianFunction(_CFunction):
    """A C Jacobian for PETSc's TS (:meth:`CompiledAssembly.jacobian_function`).

    Keep it while TS may call the function: its context points into the matrix's tables.
    """

    def __init__(self, compiled, function, struct, matrix, residual, shift):
        super().__init__(function, struct)
        self._compiled = compiled
        self._matrix = matrix
        self._keep = (residual, shift)
        self._tables: _MatrixTables | None = None

    def point_to_tables(self) -> None:
        """The context reads the matrix's present tables (found again where they changed)."""
        tables = self._compiled._tables(self._matrix)
        if tables is None:
            raise RuntimeError("the Jacobian's matrix is no longer supported by its tables")
        (which, which_pointer), diagonal = tables.selection(frozenset(), frozenset(), None)
        struct, ffi = self._struct, self._compiled._helper.ffi
        struct.count = which.size
        struct.tasks = tables.table
        struct.which = which_pointer
        struct.overflow = ffi.cast("double*", tables.overflow.ctypes.data)
        struct.nonzeros = tables.nonzeros
        struct.diagonal_size = diagonal.size
        struct.diagonal = ffi.cast("int64_t*", diagonal.ctypes.data)
        self._tables = tables  # (and with it the arrays the context points into)

    def overflowed(self) -> None:
        """The last call's nonzeros outside the pattern (called back from C)."""
        if self._compiled._add_overflow(self._matrix, self._tables):
            self._matrix.assemble()
            self.point_to_tables()

    def release(self) -> None:
        """No more calls (TS is done with it)."""
        _JACOBIANS.pop(self.context, None)


class ConvergenceScreen:
    """Newton's convergence test in C for the usual iterations (:func:`convergence_screen`).

    For a test that says "converged" whenever the residual norm is below ``absolute``,
    "iterating" at a solve's first iteration with a finite norm above it, and "iterating"
    whenever no non-finite, relative (norm below ``relative`` times the first), step (update
    below ``step`` |x|) or ``max_iterations`` case arises: those are asked of ``verdict``
    (the Python test, called as ``verdict(iteration, x_norm, step_norm, norm)``), the others
    answered in C. A first iteration answered in C is told to ``verdict`` (its answer, which
    must be "iterating", not used) just before the first later iteration of the same solve
    that is asked of it, so that a test that keeps the first norm (for its relative
    decrease) sees every solve's first iteration it needs; most solves end below
    ``absolute`` without asking Python at all. ``function`` and ``context``: the C test and
    its context (SNESSetConvergenceTest's).
    """

    def __init__(self, absolute, relative, step, max_iterations, verdict):
        helper = _helper()
        ffi = helper.ffi
        self._struct = ffi.new("electrolyx_screen*")
        self._struct.absolute = absolute
        self._struct.relative = relative
        self._struct.step = step
        self._struct.max_iterations = max_iterations
        self.verdict = verdict
        self.function = int(
            ffi.cast("uintptr_t", ffi.addressof(helper.lib, "electrolyx_snes_screen"))
        )
        self.context = int(ffi.cast("uintptr_t", self._struct))
        _SCREENS[self.context] = self

    def set_iterate_once(self, value: bool) -> None:
        """Whether a solve's first iteration is left to the Python test even when converged."""
        self._struct.iterate_once = int(value)

    @property
    def asked(self) -> int:
        """How many iterations the Python test was asked about."""
        return int(self._struct.asked)

    def release(self) -> None:
        """No more calls (its Newton solver is done)."""
        _SCREENS.pop(self.context, None)


#: the convergence screens a Newton solver may call, by their context's address
_SCREENS: dict[int, ConvergenceScreen] = {}


def _screen_verdict(context: Any, iteration: int, x_norm: float, step_norm: float, norm: float):
    """The Python test's verdict for an iteration the C screen does not answer."""
    screen = _SCREENS[int(_helper().ffi.cast("uintptr_t", context))]
    struct = screen._struct
    if struct.first_untold and iteration > 0:
        # The solve's first iteration, answered in C ("iterating"), told first.
        struct.first_untold = 0
        first = screen.verdict(0, struct.first_x_norm, struct.first_step_norm, struct.initial)
        if first != 0:
            raise RuntimeError(
                f"the convergence screen answered a first iteration 'iterating' where the "
                f"test says {first}: the screen's contract does not hold for this test"
            )
    return int(screen.verdict(iteration, x_norm, step_norm, norm))


#: the C Jacobians that TS may call, by their context's address (for the overflow call back)
_JACOBIANS: dict[int, JacobianFunction] = {}


def _jacobian_overflow(context: Any) -> int:
    """The C Jacobian of this context met nonzeros outside its pattern (called from C).

    Returns 0; where handling them raises, cffi prints the error and C gets PETSC_ERR_LIB.
    """
    _JACOBIANS[int(_helper().ffi.cast("uintptr_t", context))].overflowed()
    return 0


class _MatrixTables:
    """One matrix's task table, its blocks' tasks, Dirichlet diagonal and overflow slots."""

    def __init__(self, **items: Any):
        self.__dict__.update(items)
        self._selections: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def selection(self, skip_rows, skip_blocks, only_blocks) -> tuple[tuple, np.ndarray]:
        """The tasks and diagonal positions of the blocks assembled by a call.

        The tasks as (array, pointer), the nodal values' first.
        """
        key = (
            frozenset(skip_rows),
            frozenset(skip_blocks),
            None if only_blocks is None else frozenset(only_blocks),
        )
        selected = self._selections.get(key)
        if selected is None:

            def wanted(i: int, j: int) -> bool:
                return assembled_block(i, j, skip_rows, skip_blocks, only_blocks)

            which = [k for (i, j), tasks in self.blocks if wanted(i, j) for k in tasks]
            diagonal = [found for (i, j), found in self.diagonal if wanted(i, j)]
            selected = self._selections[key] = (
                self.selected(self.first + which),
                np.concatenate(diagonal).astype(np.int64) if diagonal else np.zeros(0, np.int64),
            )
        return selected


def compiled_assembly(assembler: Any) -> CompiledAssembly | None:
    """A :class:`CompiledAssembly` of the assembler's system, or None where unsupported.

    Also None, with a warning, where the C helper cannot be built or loaded (no C compiler, a
    form cache that cannot be written, no PETSc symbols): the per-block calls then assemble
    the same system.
    """
    try:
        return CompiledAssembly(assembler)
    except _Unsupported:
        return None
    except _HelperUnavailable as error:
        warnings.warn(
            f"the compiled assembly loop is not available ({error}); assembling block by block",
            RuntimeWarning,
            stacklevel=2,
        )
        return None


# ---------------------------------------------------------------------- helpers
_TASK_SIZES = (
    "kernel",
    "entities",
    "tensor_size",
    "coefficient_size",
    "constant_size",
    "coordinate_size",
    "local_index_size",
    "zero_size",
    "copy_stride",
    "kept_size",
    "watched",
    "gather_only",
    "in_place",
)
#: a task that calls no kernel (a copy's), before its own entries
_EMPTY_TASK = {
    "kernel": 0,
    "tensor_size": 0,
    "coefficient_size": 0,
    "constant_size": 0,
    "coordinate_size": 0,
    "local_index_size": 0,
    "local_index": np.zeros(0, dtype=np.int32),
    "coefficient_addresses": np.zeros(0, dtype=np.uint64),
    "constant_addresses": np.zeros(0, dtype=np.uint64),
    "positions": np.zeros(0, dtype=np.int32),
    "out": 0,
    "zero_size": 0,
    "copy_from": 0,
    "copy_stride": 0,
    "kept": np.zeros(0, dtype=np.int32),
    "kept_size": 0,
    "watched": 0,
    "gathered": 0,
    "gather_only": 0,
    "in_place": 0,
}


def _append_shared_gathers(tasks: list[dict]) -> list[int]:
    """Gather tasks for the kernel tasks that pack the same coefficients on the same entities.

    The Jacobian blocks of one row mostly read the same coefficients from the same addresses
    (BlockAssembler's packing groups): such tasks get one gather task (into a buffer it keeps)
    and read their coefficients from its buffer instead of gathering them each. Tasks with an
    output array of their own (the nodal values') are left as they are. The gather tasks are
    appended to ``tasks`` and their indices returned: a call runs them after the nodal values
    (whose functions they may read) and before the tasks they serve, which are changed in
    place (``gathered``).
    """
    groups: dict[tuple, list[dict]] = {}
    for task in tasks:
        if not task["kernel"] or task["out"] or task["coefficient_size"] == 0:
            continue
        addresses = task["coefficient_addresses"]
        groups.setdefault((addresses.shape, addresses.tobytes()), []).append(task)
    gathers = []
    for members in groups.values():
        if len(members) < 2:
            continue
        addresses = members[0]["coefficient_addresses"]
        entities, size = addresses.shape
        buffer = np.zeros((entities, size))
        for task in members:
            task["gathered"] = buffer.ctypes.data
        gathers.append(
            {
                **_EMPTY_TASK,
                "entities": entities,
                "coefficient_size": size,
                "coefficient_addresses": addresses,
                "coordinates": np.zeros((entities, 0)),
                "out": buffer.ctypes.data,
                "gather_only": 1,
                "buffer": buffer,  # (kept with the table)
            }
        )
    start = len(tasks)
    tasks += gathers
    return list(range(start, len(tasks)))


def _kept_entries(positions: np.ndarray) -> dict:
    """A task's kept element entries and whether it has any outside the pattern, for the C loop.

    Kept: the entries k with p >= 0 at some entity, increasing; watched: whether any entry lies
    outside the pattern (p <= -2), where a nonzero has to be found. Most of a compressed
    Jacobian's element entries are its structural zeros (the 1D cycling model: 9,693 of 95,692
    entries kept, 85,896 outside the pattern).
    """
    kept = np.flatnonzero((positions >= 0).any(axis=0)).astype(np.int32)
    return {
        "kept": np.ascontiguousarray(kept),
        "kept_size": kept.size,
        "watched": int(bool((positions <= -2).any())),
    }


_TASK_ARRAYS = (
    ("coordinates", "double*"),
    ("local_index", "int32_t*"),
    ("coefficient_addresses", "uintptr_t*"),
    ("constant_addresses", "uintptr_t*"),
    ("positions", "int32_t*"),
    ("kept", "int32_t*"),
)


def _nonzeros(A: PETSc.Mat) -> int:
    return int(A.getInfo(PETSc.Mat.InfoType.LOCAL)["nz_used"])


def _locate(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions of ``wanted`` in the sorted ``keys`` (-1 where absent)."""
    if keys.size == 0:
        return np.full(wanted.shape, -1, dtype=np.int64)
    found = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    return np.where(keys[found] == wanted, found, -1)


def _marked(indices: np.ndarray, size: int) -> np.ndarray:
    """A boolean array of ``size``, True at ``indices``."""
    mask = np.zeros(size, dtype=bool)
    mask[indices] = True
    return mask


def _unrolled(dofs: np.ndarray, block: int) -> np.ndarray:
    """Block dofs (entities, n) -> unrolled rows (entities, n * block), node by node."""
    dofs = np.asarray(dofs, dtype=np.int64)
    return (block * dofs[:, :, None] + np.arange(block)).reshape(dofs.shape[0], -1)


class _Sources:
    """Where each packed coefficient and constant of the forms is read from.

    Per form and integral (keyed as ``pack_coefficients`` keys them), an array (entities,
    packed size) of the memory addresses of the values DOLFINx packs (0: a zero it leaves), and
    the addresses of the form's packed constants. Found by packing once with every value set
    to a number that encodes its array and position (the values are set back afterwards).
    """

    def __init__(self, forms: Sequence[Any]):
        arrays: dict[int, np.ndarray] = {}
        for form in forms:
            for coefficient in form.coefficients:
                array = coefficient.x.array
                arrays.setdefault(array.ctypes.data, array)
            for constant in form.constants:
                array = constant.value
                arrays.setdefault(array.ctypes.data, array)
        self._arrays = list(arrays.values())
        for array in self._arrays:
            if array.dtype != np.float64 or not array.flags.c_contiguous:
                raise _Unsupported("a coefficient that is not a contiguous float64 array")
        self._bases = np.array([a.ctypes.data for a in self._arrays], dtype=np.uint64)
        self._packed: dict[int, tuple[dict, np.ndarray]] = {}
        saved = [a.copy() for a in self._arrays]
        try:
            # Value k of array n is (n + 1) 2^32 + k (exact in float64); 0 stays "none".
            for n, array in enumerate(self._arrays):
                array.reshape(-1)[:] = (n + 1) * 2.0**32 + np.arange(array.size)
            for form in forms:
                if id(form) not in self._packed:
                    coefficients = {
                        key: self._decode(values)
                        for key, values in _cpp.fem.pack_coefficients(form).items()
                    }
                    constants = self._decode(_cpp.fem.pack_constants(form))
                    self._packed[id(form)] = (coefficients, constants)
        finally:
            for array, values in zip(self._arrays, saved, strict=True):
                array[...] = values
        self._forms = list(forms)  # (ids stay theirs)

    def _decode(self, packed: np.ndarray) -> np.ndarray:
        packed = np.asarray(packed, dtype=np.float64)
        codes = packed.astype(np.int64)
        number, position = codes >> 32, codes & 0xFFFFFFFF
        read = number > 0
        sizes = np.array([0, *(a.size for a in self._arrays)])
        if (
            not np.array_equal(codes, packed)
            or np.any(codes < 0)
            or np.any(number > len(self._arrays))
            or np.any(position[read] >= sizes[number[read]])
        ):
            raise _Unsupported("a packed value that is not one array entry")
        addresses = np.zeros(packed.shape, dtype=np.uint64)
        addresses[read] = self._bases[number[read] - 1] + 8 * position[read].astype(np.uint64)
        return addresses

    def coefficients(self, form: Any, key: tuple) -> np.ndarray:
        packed = self._packed[id(form)][0]
        return packed.get(key, np.zeros((0, 0), dtype=np.uint64))

    def constants(self, form: Any) -> np.ndarray:
        return self._packed[id(form)][1]


_TYPES = (fem.IntegralType.cell, fem.IntegralType.exterior_facet, fem.IntegralType.interior_facet)


def _integrals(form: fem.Form) -> list[dict]:
    """The form's integrals in DOLFINx's assembly order, each with its kernel and entities."""
    cpp_form = form._cpp_object
    ufcx_form = form.ufcx_form
    for integral_type in cpp_form.integral_types:
        if integral_type not in _TYPES:
            raise _Unsupported(f"a {integral_type.name} integral")
    offsets = ufcx_form.form_integral_offsets
    found = []
    for integral_type in _TYPES:
        if integral_type not in cpp_form.integral_types:
            continue
        count = cpp_form.num_integrals(integral_type, 0)
        start = offsets[integral_type.value]
        if offsets[integral_type.value + 1] - start != count:
            raise _Unsupported("an integral with several kernels")
        for k in range(count):
            kernel = ufcx_form.form_integrals[start + k].tabulate_tensor_float64
            found.append(
                {
                    "type": integral_type,
                    "index": k,
                    "kernel": int(form.module.ffi.cast("uintptr_t", kernel)),
                    "entities": np.asarray(cpp_form.domains(integral_type, k), dtype=np.int32),
                }
            )
    return found


def _entity_cells(integral: dict) -> tuple[np.ndarray, np.ndarray]:
    """Cells (entities, 1 or 2) of the integration mesh and local facets (entities, 0 to 2)."""
    entities = integral["entities"]
    kind = integral["type"]
    if kind == fem.IntegralType.cell:
        return entities.reshape(-1, 1), np.zeros((entities.size, 0), dtype=np.int32)
    if kind == fem.IntegralType.exterior_facet:
        pairs = entities.reshape(-1, 2)
        return pairs[:, :1], pairs[:, 1:]
    quads = entities.reshape(-1, 4)
    return quads[:, [0, 2]], quads[:, [1, 3]]


class _CellMaps:
    """Cells of one 1D mesh as cells of another (a submesh or its parent), by their vertices.

    A submesh's geometry is a copy of its parent's, so a cell of one is the cell of the other
    with the same end points, bit for bit.
    """

    def __init__(self):
        self._maps: dict[tuple[int, int], tuple[np.ndarray, Any, Any]] = {}

    @staticmethod
    def _ends(mesh: Any) -> np.ndarray:
        x = mesh.geometry.x[:, 0][mesh.geometry.dofmaps[0]]
        return np.sort(x, axis=1)[:, [0, -1]]

    def _map(self, source: Any, target: Any) -> np.ndarray:
        key = (id(source), id(target))
        kept = self._maps.get(key)
        if kept is None:
            target_cells = {tuple(ends): c for c, ends in enumerate(self._ends(target).tolist())}
            found = np.array(
                [target_cells.get(tuple(ends), -1) for ends in self._ends(source).tolist()],
                dtype=np.int64,
            )
            # (the meshes kept with their map, so that their ids stay theirs)
            kept = self._maps[key] = (found, source, target)
        return kept[0]

    def dofs(self, form: fem.Form, space: fem.FunctionSpace, integral: dict) -> np.ndarray:
        """The space's block dofs on each entity's cell(s): (entities, dofs per entity)."""
        cells, _ = _entity_cells(integral)
        target = getattr(space.mesh, "_cpp_object", space.mesh)
        mapped = self._map(form._cpp_object.mesh, target)[cells.reshape(-1)]
        if np.any(mapped < 0):
            raise _Unsupported("an integral over cells outside an argument's mesh")
        return space.dofmap.map()[mapped].reshape(cells.shape[0], -1)


def _constrained_dofs(assembler: Any) -> list[np.ndarray]:
    """Each field's Dirichlet rows (local dofs), for conditions on a whole unblocked space."""
    constrained = [np.zeros(0, dtype=np.int64) for _ in assembler.spaces]
    for bc in assembler._bcs:
        owner = [i for i, space in enumerate(assembler.spaces) if space.contains(bc.function_space)]
        if len(owner) != 1:
            raise _Unsupported("a Dirichlet condition on no or several fields")
        space = assembler.spaces[owner[0]]
        whole = bc.function_space.contains(space)  # (and space contains it: the same space)
        if space.dofmap.index_map_bs != 1 or not whole:
            raise _Unsupported("a Dirichlet condition on a sub-space or a blocked space")
        dofs = np.asarray(bc.dof_indices()[0], dtype=np.int64)
        constrained[owner[0]] = sorted_unique(np.concatenate([constrained[owner[0]], dofs]))
    return constrained
