"""Generates docs/case-format.md from the settings models, so the reference never drifts.

Run ``electrolyx docs > docs/case-format.md`` or ``make docs`` (``python -m electrolyx.docs``)
after changing a settings model; a test fails when the committed file differs from this output.
"""

from __future__ import annotations

from .models import MODELS
from .settings import SETTINGS
from .settings.reference import render_settings
from .settings.unused import NOT_YET_USED

__all__ = ["case_format_markdown"]

_INTRO = """# Case format

A case is a folder holding `case.toml` (plus optional mesh files and a `README.md`). The file is
TOML: it is parsed, never executed. `[case] model` selects the model; its settings below list
every key with its type, SI unit, default and allowed range. Run `electrolyx check CASE_DIR` to
validate a case without solving it, and `electrolyx check CASE_DIR --parameters` to list every
name of its parameter set with its value (the names `[parameters.values]` and `[sweep]` take).

- Units are SI throughout (m, s, K, V, A, J/mol, mol/m3, C/m2, F/m2, m2/s).
- An unknown key is an error that names it and suggests the closest valid key; a wrong type or a
  value out of range is an error naming the key, the value and the allowed range. A number is
  never read from a string, NaN and infinities are refused everywhere. Errors exit with code 2
  and nothing is written.
- `electrolyx run CASE_DIR --set KEY=VALUE` overrides any value by its dotted key before
  validation: `--set boundaries.wall.potential=0.05`, `--set species.0.diffusivity=1e-9`,
  `--set mesh.cells=1600`. Values are read as TOML (numbers, booleans, `[1, 2]` lists, quoted
  strings); anything else is taken as a string. A name with spaces, dots or brackets is quoted
  as in TOML: `--set 'parameters.values."Negative particle diffusivity [m2.s-1]"=4e-14'`.
- `[solver.petsc]` passes options to PETSc (without the leading dash), e.g.
  `ksp_type = "gmres"`, `pc_gamg_threshold = 0.02`, `snes_monitor = ""`; they override the
  presets. Only an allow-list is accepted (`electrolyx/petsc_options.py`): KSP, PC and SNES types
  from a list of names, their tolerances and iteration limits, the settings of factorisations,
  ASM, GAMG, hypre BoomerAMG, multigrid, field split and MUMPS (`mat_mumps_icntl_N`), also behind
  the inner-solver prefixes `sub_`, `fieldsplit_NAME_`, `mg_levels_`, `mg_coarse_`, `redundant_`,
  `ksp_`, `esteig_`, `lsc_`, `transport_`, `potential_`. Monitors and views take only the value
  `""` (standard output). `pc_type = "python"` is accepted only with
  `pc_python_type = "electrolyx.preconditioners.ElectrochemicalPotentialPC"` (its options:
  `pc_electrochemical_charge_numbers`, and `pc_electrochemical_clear_products`, true by
  default: on several ranks and meshes above 32,768 vertices a rank its multigrid hierarchies
  drop their triple products' kept data after each set-up, 7-9 % less memory for 8 % more time
  per Newton iteration; on meshes above 32,768 vertices a rank its inner GAMGs default to
  `pc_gamg_aggressive_square_graph = false`, MIS-2 aggregation, with `pc_gamg_threshold = 0`:
  a smaller first set-up; on smaller meshes the square graph with `pc_gamg_threshold = 0.02`;
  a case's own values win). Anything else
  (`options_file`, viewers into files, other Python classes, `log_view`, ...) exits with code 2
  naming the key, the value and what is allowed.
- Files a case names (`parameters.bpx_file`, `experiment.drive_cycle`, `mesh.path`,
  `microstructure.path`) are relative paths that must stay inside the case folder (symbolic
  links followed); a file given on the command line (`--set experiment.drive_cycle=/data/c.csv`)
  may lie anywhere.
- `case.toml` must be UTF-8 TOML of at most 4 MiB, nested at most 32 levels, with integers in
  TOML's 64-bit range.

## Sweeps

A `[sweep]` table runs the case once per entry of `values`, setting the dotted `keys` (the keys
of `--set`) in each run. With one key, each entry is that key's value, of any TOML type; with
several keys, each entry is a list of one value per key (in the order of `keys`), or a single
value (not a list) that every key gets:

```toml
[sweep]
keys = ["electrolyte.temperature", "species.0.bulk_concentration"]
values = [[298.15, 10.0], [310.0, 20.0]]      # two runs

# [sweep]                                      # one key, list values: one list per run
# keys = ["experiment.steps"]
# values = [["Discharge at 1C until 2.5 V"], ["Discharge at 2C until 2.5 V"]]

# [sweep]                                      # a quoted name inside a key (TOML literal string)
# keys = ['parameters.values."Negative particle diffusivity [m2.s-1]"']
# values = [3e-14, 4e-14]
```

Every run is validated before the first one starts. `electrolyx run` writes each run into
`OUT/run_000`, `OUT/run_001`, ... (a complete result folder each) and the table `OUT/sweep.csv`,
one row per run: `run` (index), `folder`, one column per swept key (named by the key; strings
as they are, booleans `true`/`false`, lists and tables as JSON), `status` (`completed` or
`failed`, from run.json) and the run's final results, `final_<column>` from the last row of its
timeseries.csv: for the DFN `final_time_s`, `final_voltage_V` and
`final_discharge_capacity_Ah`; for the other models every column of that row. The table is
rewritten after each run, so an interrupted sweep keeps the rows of the runs that ended.

This file is generated by `electrolyx docs` (`make docs`) from the settings models in
`electrolyx/settings/`.
"""


def case_format_markdown() -> str:
    """The full case-format reference, one section per model."""
    parts = [_INTRO]
    for name, (_, _, description) in MODELS.items():
        title = f'Model `"{name}"`: {description}'
        parts.append(render_settings(SETTINGS[name], title, tuple(NOT_YET_USED.get(name, ()))))
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    print(case_format_markdown(), end="")
