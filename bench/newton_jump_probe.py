"""Why does a DFN run crawl? Resume its checkpoint and look at the first Newton solve that stalls.

Runs ``electrolyx run CASE --resume FOLDER`` in this process with Newton's convergence test
wrapped: it prints every iteration (time step, residual norm, step norm, the residual's norm per
unknown) and, at the first solve still iterating after 6 iterations with a step larger than
1e-3 (a Newton cycle rather than round-off), samples the residual along that Newton step
x + s dx, bisects any jump of its largest row to the last bit of s, names the rows that jump
and the unknown whose motion alone triggers it, then stops: the run ends "stopped" with PETSc's
error 101 and a traceback through the probe (its way out of the Newton callback), and leaves the
aborted run's folder.

    .venv/bin/python bench/newton_jump_probe.py cases/pouch-3d-thermal-3C \\
        /tmp/thermal/base-run.interrupted-20261203-180235 --out /tmp/probe

For the stall of cases/pouch-3d-thermal-3C at 572.40 s (1e-9 s steps) it found the rows of the
electrolyte potential at the positive collector face jumping by 1.9e-4 between two states a
last bit apart, triggered by the electrolyte concentration alone: the gradient of the floored
concentration in the ionic current (docs/dfn.md, "At the extremes").
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import electrolyx  # noqa: F401  (before dolfinx/petsc4py)
from electrolyx import cli
from electrolyx.models.dfn.solvers import DFNSolvers
from electrolyx.ts_integrator.assembly import MonolithicAssembly


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case")
    parser.add_argument("checkpoint", help="folder of the interrupted run")
    parser.add_argument("--out", required=True, help="result folder of the probing run")
    args = parser.parse_args()

    verdict, residual = DFNSolvers.newton_verdict, MonolithicAssembly._assemble_residual
    evaluations = []

    def recording_residual(self, t, x, x_dot, f):
        residual(self, t, x, x_dot, f)
        evaluations.append((t, x.copy(), x_dot.copy()))

    def probing_verdict(self, iteration, x_norm, step_norm, norm, dt):
        reason = verdict(self, iteration, x_norm, step_norm, norm, dt)
        names = self.unknowns.names
        functions = self.unknowns.functions
        offsets = np.cumsum([0] + [f.x.array.size for f in functions])
        t, x_now, x_dot_now = evaluations[-1]
        f = x_now.duplicate()
        residual(self.integrator, t, x_now, x_dot_now, f)
        values = f.getArray(readonly=True)
        parts = " ".join(
            f"{name}:{np.linalg.norm(values[offsets[i] : offsets[i + 1]]):.1e}"
            for i, name in enumerate(names)
        )
        print(f"it={iteration:2d} dt={dt:.3e} |F|={norm:.3e} |dx|={step_norm:.3e} {parts}")
        if iteration < 6 or step_norm <= 1e-3:
            return reason
        integrator = self.integrator
        (t, xa, xda), (_, xb, xdb) = evaluations[-2], evaluations[-1]
        dx = xb.getArray() - xa.getArray()
        dxd = xdb.getArray() - xda.getArray()
        coordinates = [fn.function_space.tabulate_dof_coordinates() for fn in functions]

        def where(row):
            block = int(np.searchsorted(offsets, row, side="right") - 1)
            local = row - offsets[block]
            per_node = (offsets[block + 1] - offsets[block]) // coordinates[block].shape[0]
            return f"{names[block]}[{local}] at {coordinates[block][local // per_node]}"

        def residual_at(s):
            x, x_dot = xa.copy(), xda.copy()
            x.getArray()[:] += s * dx
            x_dot.getArray()[:] += s * dxd
            out = x.duplicate()
            residual(integrator, t, x, x_dot, out)
            return out.getArray(readonly=True).copy()

        samples = np.linspace(0.0, 1.0, 201)
        table = np.array([residual_at(s) for s in samples])
        row = int(np.argmax(np.abs(table[0])))
        steps = np.abs(np.diff(table[:, row]))
        k = int(np.argmax(steps))
        print(f"largest row {where(row)}: step {steps[k]:.3e}, median {np.median(steps):.3e}")
        lo, hi = samples[k], samples[k + 1]
        f_lo, f_hi = table[k], table[k + 1]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            f_mid = residual_at(mid)
            if abs(f_mid[row] - f_lo[row]) < abs(f_mid[row] - f_hi[row]):
                lo, f_lo = mid, f_mid
            else:
                hi, f_hi = mid, f_mid
        jump = f_hi - f_lo
        print(f"between s = {lo!r} and {hi!r} the rows change by:")
        for r in np.argsort(-np.abs(jump))[:8]:
            print(f"  {where(r)}: {jump[r]:+.4e}")
        for i, name in enumerate(names):
            s = np.full(dx.size, lo)
            s[offsets[i] : offsets[i + 1]] = hi
            x, x_dot = xa.copy(), xda.copy()
            x.getArray()[:] += s * dx
            x_dot.getArray()[:] += s * dxd
            out = x.duplicate()
            residual(integrator, t, x, x_dot, out)
            moved = out.getArray(readonly=True)[row] - f_lo[row]
            print(f"  only {name} moved: row {row} changes by {moved:+.4e}")
        raise SystemExit(0)

    DFNSolvers.newton_verdict = probing_verdict
    MonolithicAssembly._assemble_residual = recording_residual
    return cli.main(["run", args.case, "--resume", args.checkpoint, "--out", args.out])


if __name__ == "__main__":
    sys.exit(main())
