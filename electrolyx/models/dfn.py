"""Doyle-Fuller-Newman lithium-ion cell model on a 1D (P2D), 2D (P3D) or 3D (P4D) cell mesh.

Regions negative electrode | separator | positive electrode lie on one gmsh interval (1D) or on a
pouch-cell stack (2D cross-section or 3D, :class:`CellGeometry`, optionally with current-collector
foils and tabs); the electrolyte unknowns (c_e, phi_e) live on the electrolyte-filled regions,
the solid potential phi_s on the electrode submeshes (and their foils), the particle
concentrations c_s on the electrodes only (coupled through entity maps, no unknowns in the
separator). The forms are the same in every dimension. Each law is a form from
:mod:`electrolyx.forms`:

    electrolyte salt      d(eps c_e)/dt + div N_e = a_s j_F / F        (electrolyte_diffusion)
    electrolyte charge    div i_e = a_s j                              (electrolyte_conduction)
    solid charge          div i_s = -a_s j                             (solid_conduction)
    particles             dc_s/dt = r^-2 d/dr(r^2 D_s dc_s/dr)         (particle_diffusion)
    kinetics              j = j_F(eta) [+ C_dl d(phi_s - phi_e)/dt]    (butler_volmer)

Boundary conditions: phi_s = 0 at the negative terminal (potential reference), the applied
current i_s.n = I / A_terminal at the positive terminal, insulated electrolyte. The terminals are
the outer faces of the stack (the collectors' surfaces, 1D and 2D/3D) or the end faces of tabs.
A current-collector foil is a thin conducting domain: div(-sigma_cc grad phi_s) = 0 (the
solid_conduction form with no source).

Half cell (``counter_electrode=LithiumCounterElectrode(j0_Li)``): separator | positive electrode
only, with a lithium-metal counter electrode at the separator's outer end x = 0. Its potential
phi_Li = 0 is the reference; its symmetric Butler-Volmer current

    j_Li = 2 j0_Li sinh(eta_Li / (2 V_T)),    eta_Li = phi_Li - phi_e(0) - 0   (OCP 0 V)

enters the electrolyte there: i_e.n = -j_Li and N_e.n = -j_Li / F (every Li+ that leaves the
metal enters the electrolyte). The cell voltage is V = phi_s(L) - phi_Li.

Unknowns are scaled internally (c_e by its initial value, c_s by c_s,max, potentials by the
thermal voltage at the reference temperature) and every residual is divided by its natural size
(charge by the 1C current density, lithium by the same over F), so the Newton tolerances mean the
same for every cell. Time: variable-step BDF1/BDF2 with a predictor-corrector error estimate;
current-controlled steps stop at a voltage cut-off located in time by regula falsi.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import NonlinearProblem

from electrolyx.constants import FARADAY, GAS_CONSTANT
from electrolyx.experiment import Step
from electrolyx.forms.butler_volmer import (
    butler_volmer_current_density,
    double_layer_current_density,
    interfacial_current_density,
    overpotential,
)
from electrolyx.forms.electrolyte_conduction import (
    electrolyte_charge_conservation_residual,
    electrolyte_current_density,
)
from electrolyx.forms.electrolyte_diffusion import (
    electrolyte_diffusion_residual,
    electrolyte_salt_flux,
)
from electrolyx.forms.particle_diffusion import (
    particle_average_concentration,
    particle_diffusion_residual,
    particle_surface_concentration,
    radial_grid,
)
from electrolyx.forms.solid_conduction import (
    solid_charge_conservation_residual,
    solid_current_density,
)
from electrolyx.meshes.gmsh_tools import physical_tag
from electrolyx.meshes.layered_interval import Layer, layered_interval
from electrolyx.meshes.pouch import Tab, pouch_cell_mesh
from electrolyx.parameters.base import CellParameters, ElectrodeParameters
from electrolyx.time_stepping import BDFStepController

__all__ = [
    "DFN",
    "CellGeometry",
    "CurrentCollectorFoil",
    "DFNResolution",
    "DFNSolution",
    "LithiumCounterElectrode",
    "NODAL_FIELDS",
    "StepFailure",
    "TabPlacement",
]

NEGATIVE, SEPARATOR, POSITIVE = "negative_electrode", "separator", "positive_electrode"
LITHIUM = "lithium_counter_electrode"
NEGATIVE_FOIL, POSITIVE_FOIL = "negative_foil", "positive_foil"
NEGATIVE_COLLECTOR, POSITIVE_COLLECTOR = "negative_current_collector", "positive_current_collector"
NEGATIVE_TAB, POSITIVE_TAB = "negative_tab", "positive_tab"
#: Fields of :meth:`DFN.nodal_fields` (2D/3D maps).
NODAL_FIELDS = (
    "electrolyte_concentration_mol_m3",
    "electrolyte_potential_V",
    "solid_potential_V",
    "particle_surface_concentration_mol_m3",
    "particle_stoichiometry",
    "interfacial_current_density_A_m2",
)


@dataclass(frozen=True)
class LithiumCounterElectrode:
    """Lithium-metal counter electrode of a half cell (replaces the negative electrode).

    Symmetric Butler-Volmer kinetics (alpha_a = alpha_c = 0.5) with open-circuit potential 0 V
    against itself: j_Li = 2 j0_Li sinh(eta_Li / (2 V_T)), positive when lithium dissolves.

    Attributes:
        exchange_current_density_A_m2: j0_Li per unit electrode area [A/m2] (constant).
    """

    exchange_current_density_A_m2: float

    def __post_init__(self):
        if not self.exchange_current_density_A_m2 > 0:
            raise ValueError("the lithium exchange-current density must be positive")


@dataclass(frozen=True)
class CurrentCollectorFoil:
    """A current-collector foil resolved as a thin conducting layer (2D/3D cells).

    Attributes:
        thickness_m: Foil thickness [m].
        conductivity_S_m: Electronic conductivity sigma_cc [S/m].
        cells: Cells across the foil.
    """

    thickness_m: float
    conductivity_S_m: float
    cells: int = 1

    def __post_init__(self):
        if not (self.thickness_m > 0 and self.conductivity_S_m > 0 and self.cells >= 1):
            raise ValueError("a foil needs thickness > 0, conductivity > 0 and cells >= 1")


@dataclass(frozen=True)
class TabPlacement:
    """Span of a tab along the width of a 3D pouch [m] (in 2D any placement: the foil's top end).

    Attributes:
        start_m: Start of the span along the width.
        end_m: End of the span.
    """

    start_m: float = 0.0
    end_m: float = 0.0


@dataclass(frozen=True)
class CellGeometry:
    """2D (cross-section, P3D) or 3D (pouch, P4D) geometry of the electrode stack.

    x runs through the stack; the height runs along y in 2D and z in 3D, the width along y
    (3D). A tab leaves its foil at the top edge and sticks out by ``tab_length_m``; its end
    face is the terminal. Without a tab the terminal is the whole outer face of the stack
    (with uniform properties the solution is then the 1D one).

    The mesh stands for one of A / A_geometry identical layer pairs of the cell (A: the
    parameter set's electrode area, A_geometry: height x width, in 2D height x 1 m): the
    applied current is shared among them.

    Attributes:
        height_m: Electrode height [m].
        height_cells: Cells along the height.
        width_m: Electrode width [m]; None for a 2D cross-section.
        width_cells: Cells along the width (3D).
        negative_foil: Negative current collector (full cell only), or None.
        positive_foil: Positive current collector, or None.
        negative_tab: Tab of the negative foil, or None (terminal: the outer face).
        positive_tab: Tab of the positive foil, or None.
        tab_length_m: How far tabs stick out beyond the top edge [m].
        tab_cells: Cells along a tab's length.
    """

    height_m: float
    height_cells: int = 1
    width_m: float | None = None
    width_cells: int = 1
    negative_foil: CurrentCollectorFoil | None = None
    positive_foil: CurrentCollectorFoil | None = None
    negative_tab: TabPlacement | None = None
    positive_tab: TabPlacement | None = None
    tab_length_m: float = 0.01
    tab_cells: int = 2

    def __post_init__(self):
        if self.negative_tab is not None and self.negative_foil is None:
            raise ValueError("a negative tab needs a negative foil to leave from")
        if self.positive_tab is not None and self.positive_foil is None:
            raise ValueError("a positive tab needs a positive foil to leave from")

    @property
    def dimension(self) -> int:
        """Topological dimension of the mesh (2 or 3)."""
        return 2 if self.width_m is None else 3

    @property
    def modelled_area_m2(self) -> float:
        """Electrode area the mesh represents: height x width (2D: height x 1 m) [m2]."""
        return self.height_m * (1.0 if self.width_m is None else self.width_m)

    @property
    def in_plane_cell_area_m2(self) -> float:
        """In-plane area of one column of cells (residual scaling) [m2]."""
        area = self.height_m / self.height_cells
        return area if self.width_m is None else area * self.width_m / self.width_cells

    def mesh(self, comm: MPI.Comm, layers: Sequence[Layer], left_name: str):
        """Mesh of the layers, foils added on the outside, tabs at the top."""
        layers = list(layers)
        if self.negative_foil is not None:
            foil = self.negative_foil
            layers.insert(0, Layer(NEGATIVE_FOIL, foil.thickness_m, foil.cells))
        if self.positive_foil is not None:
            foil = self.positive_foil
            layers.append(Layer(POSITIVE_FOIL, foil.thickness_m, foil.cells))
        tabs = []
        for tab, name, tab_name in (
            (self.negative_tab, NEGATIVE_FOIL, NEGATIVE_TAB),
            (self.positive_tab, POSITIVE_FOIL, POSITIVE_TAB),
        ):
            if tab is not None:
                span = (tab.start_m, tab.end_m) if self.width_m is not None else (0.0, 0.0)
                tabs.append(Tab(tab_name, name, *span, self.tab_length_m, self.tab_cells))
        return pouch_cell_mesh(
            comm,
            layers,
            self.height_m,
            self.height_cells,
            self.width_m,
            self.width_cells,
            tabs,
            left_name=left_name,
            right_name=POSITIVE_COLLECTOR,
        )


class StepFailure(RuntimeError):
    """Newton did not converge even at the smallest allowed time step."""


@dataclass(frozen=True)
class DFNResolution:
    """Mesh resolution of the DFN model.

    Attributes:
        negative_cells: Cells across the negative electrode.
        separator_cells: Cells across the separator.
        positive_cells: Cells across the positive electrode.
        negative_radial_points: Radial nodes of the negative particles (centre and surface
            included).
        positive_radial_points: Radial nodes of the positive particles.
        radial_surface_refinement: Exponent p of the radial grading (1 = uniform).
    """

    negative_cells: int = 20
    separator_cells: int = 6
    positive_cells: int = 20
    negative_radial_points: int = 20
    positive_radial_points: int = 20
    radial_surface_refinement: float = 2.0


@dataclass
class DFNSolution:
    """Time series of a DFN run (SI units, current > 0 on discharge).

    Attributes:
        time_s: Times of the accepted steps, from 0.
        voltage_V: Terminal voltage phi_s(L) - phi_s(0).
        current_A: Applied current.
        discharge_capacity_Ah: Integral of the current over time.
        average_negative_particle_concentration_mol_m3: Electrode average of c_s (negative;
            NaN in a half cell).
        average_positive_particle_concentration_mol_m3: Electrode average of c_s (positive).
        lithium_mol: Lithium in electrolyte plus particles (in a half cell it grows by the
            lithium dissolved from the metal).
        lithium_dissolved_mol: Half cell: lithium dissolved from the metal since t = 0 (0 in a
            full cell).
        termination: Why the last step ended ("event": its voltage or current limit, or
            "time").
        newton_iterations: Newton iterations of all solves, rejected included.
        rejected_steps: Steps rejected by error control or Newton failure.
        wall_time_s: Wall-clock time of the time loop(s).
        step_index: Index of the experiment step of each row.
        profiles: ``(time, profiles)`` at t = 0, requested output times, step ends and events.
    """

    time_s: list[float] = field(default_factory=list)
    voltage_V: list[float] = field(default_factory=list)
    current_A: list[float] = field(default_factory=list)
    discharge_capacity_Ah: list[float] = field(default_factory=list)
    average_negative_particle_concentration_mol_m3: list[float] = field(default_factory=list)
    average_positive_particle_concentration_mol_m3: list[float] = field(default_factory=list)
    lithium_mol: list[float] = field(default_factory=list)
    lithium_dissolved_mol: list[float] = field(default_factory=list)
    termination: str = ""
    newton_iterations: int = 0
    rejected_steps: int = 0
    wall_time_s: float = 0.0
    step_index: list[int] = field(default_factory=list)
    profiles: list[tuple[float, dict[str, tuple[np.ndarray, np.ndarray]]]] = field(
        default_factory=list
    )

    def as_arrays(self) -> dict[str, np.ndarray]:
        """The series as numpy arrays keyed by column name."""
        return {
            name: np.asarray(value)
            for name, value in vars(self).items()
            if isinstance(value, list) and name != "profiles"
        }


class _Submesh:
    """A submesh of the cell mesh made of named cell groups, with its entity maps."""

    def __init__(self, mesh_data, names: Sequence[str]):
        mesh = mesh_data.mesh
        self.tags = tuple(physical_tag(mesh_data, name) for name in names)
        cells = np.sort(np.concatenate([mesh_data.cell_tags.find(t) for t in self.tags]))
        self.mesh, self.entity_map, self.vertex_map, _ = dolfinx.mesh.create_submesh(
            mesh, mesh.topology.dim, cells
        )


def _vertex_to_dof(space: fem.FunctionSpace) -> np.ndarray:
    """Local dof of every local vertex of a P1 space (its cell dofs follow the cell vertices)."""
    topology = space.mesh.topology
    tdim = topology.dim
    topology.create_connectivity(tdim, 0)
    vertices = topology.connectivity(tdim, 0).array
    index_map = topology.index_map(0)
    result = np.full(index_map.size_local + index_map.num_ghosts, -1, dtype=np.int64)
    result[vertices] = space.dofmap.list.reshape(-1)
    return result


class _Electrode:
    """The unknowns, parameters and forms of one electrode on its submesh.

    phi_s lives on the electrode and its current-collector foil (if resolved), c_s on the
    electrode only.
    """

    def __init__(self, name, params: ElectrodeParameters, mesh_data, resolution, points, foil):
        self.name = name
        self.params = params
        self.tag = physical_tag(mesh_data, name)
        self.foil = foil
        conductor = [name] if foil is None else [name, foil[0]]
        self.conductor = _Submesh(mesh_data, conductor)
        self.particles = self.conductor if foil is None else _Submesh(mesh_data, [name])
        self.grid = radial_grid(points, resolution.radial_surface_refinement)
        self.potential_space = fem.functionspace(self.conductor.mesh, ("Lagrange", 1))
        self.concentration_space = fem.functionspace(
            self.particles.mesh, ("Lagrange", 1, (self.grid.size,))
        )

    @property
    def entity_maps(self) -> list:
        maps = [self.conductor.entity_map]
        return maps if self.particles is self.conductor else [*maps, self.particles.entity_map]


def _factor_without_structural_zeros(problem: NonlinearProblem, unknowns) -> None:
    """Assemble and factor the Jacobian without the zeros its sparsity pattern carries.

    The particle and kinetics terms use vertex quadrature: they couple the unknowns of one node
    only, but the pattern of a cell integral couples every node of the cell, e.g. all radial
    unknowns of all 27 neighbours of a hexahedral vertex (~280 entries per row, mostly exact
    zeros): inserting them and the direct solver's fill-in for them dominate the cost. The
    entries that are zero at a randomly perturbed state (below 1e-14 of their row's largest)
    are zero at every state; the Jacobian is assembled into a matrix without them and factored:
    the same Newton step, many times cheaper in 2D and 3D.
    """
    from dolfinx.fem.petsc import assemble_jacobian, assign

    snes = problem.solver
    matrix = problem.A
    _, _, (_, _, context) = snes.getJacobian()
    saved = [u.x.array.copy() for u in unknowns]
    rng = np.random.default_rng(0)
    for u in unknowns:
        u.x.array[:] *= 1.0 + 1e-3 * rng.standard_normal(u.x.array.size)
        u.x.array[:] += 1e-3 * rng.standard_normal(u.x.array.size)
    assign(unknowns, problem.x)
    assemble_jacobian(snes, problem.x, matrix, None, **context)
    for u, values in zip(unknowns, saved, strict=True):
        u.x.array[:] = values
    assign(unknowns, problem.x)
    offsets, columns, values = matrix.getValuesCSR()
    rows = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    row_max = np.maximum.reduceat(np.abs(values), offsets[:-1]) if values.size else values
    keep = np.abs(values) > 1e-14 * row_max[rows]
    compressed_offsets = np.concatenate([[0], np.cumsum(np.add.reduceat(keep, offsets[:-1]))])
    compressed_offsets = compressed_offsets.astype(offsets.dtype)
    compressed_columns = columns[keep]
    compressed = PETSc.Mat().createAIJ(
        matrix.getSizes(),
        csr=(compressed_offsets, compressed_columns, values[keep]),
        comm=matrix.comm,
    )
    # Assemble straight into the compressed matrix: its local-to-global maps are the full one's,
    # and element entries outside its pattern (the zeros) are dropped on insertion.
    compressed.setLGMap(*matrix.getLGMap())
    compressed.setOption(PETSc.Mat.Option.NEW_NONZERO_LOCATIONS, False)
    snes.setJacobian(assemble_jacobian, compressed, compressed, kargs=context)
    # The full-pattern matrix was only needed to find the pattern: free it (10.9 M entries on
    # the 38 k-unknown 3D mesh); the problem owns (and destroys) the compressed one instead.
    matrix.destroy()
    problem._A = compressed


class DFN:
    """Doyle-Fuller-Newman cell: build once, then run current steps from the initial state.

    Example::

        model = DFN(chen2020())
        solution = model.discharge(current_A=5.0, cutoff_voltage_V=2.5)

    Args:
        parameters: Parameter set (e.g. :func:`electrolyx.parameters.chen2020`).
        resolution: Mesh resolution.
        comm: Communicator.
        double_layer: Add the double-layer current a_s C_dl d(phi_s - phi_e)/dt.
        temperature_K: Isothermal temperature (default: the set's ambient temperature).
        relative_tolerance: Local error tolerance of the time stepper, relative.
        absolute_tolerance: Same, absolute on the scaled concentrations.
        max_step_s: Largest time step.
        counter_electrode: A lithium-metal counter electrode: the half cell separator |
            positive electrode (the set's negative electrode and ``negative_*`` resolution
            are not used).
        geometry: A 2D or 3D stack (:class:`CellGeometry`); None for the 1D (P2D) cell.
    """

    def __init__(
        self,
        parameters: CellParameters,
        resolution: DFNResolution = DFNResolution(),
        comm: MPI.Comm = MPI.COMM_WORLD,
        double_layer: bool = False,
        temperature_K: float | None = None,
        relative_tolerance: float = 1e-3,
        absolute_tolerance: float = 1e-6,
        max_step_s: float = 60.0,
        counter_electrode: LithiumCounterElectrode | None = None,
        geometry: CellGeometry | None = None,
    ):
        self.parameters = parameters
        self.geometry = geometry
        self.counter_electrode = counter_electrode
        self.half_cell = counter_electrode is not None
        self.resolution = resolution
        self.comm = comm
        self.double_layer = double_layer
        p = parameters
        layers = [
            Layer(SEPARATOR, p.separator.thickness_m, resolution.separator_cells),
            Layer(POSITIVE, p.positive.thickness_m, resolution.positive_cells),
        ]
        if not self.half_cell:
            layers.insert(0, Layer(NEGATIVE, p.negative.thickness_m, resolution.negative_cells))
        self.length_m = sum(layer.thickness_m for layer in layers)
        left_name = LITHIUM if self.half_cell else NEGATIVE_COLLECTOR
        negative_foil = positive_foil = None
        if geometry is None:
            self.mesh_data = layered_interval(
                comm, layers, left_name=left_name, right_name=POSITIVE_COLLECTOR
            )
            # Per unit electrode area: the 1D mesh stands for 1 m2.
            self.modelled_area_m2 = self.in_plane_cell_area_m2 = 1.0
            self.negative_terminal, self.positive_terminal = left_name, POSITIVE_COLLECTOR
        else:
            if self.half_cell and (geometry.negative_foil or geometry.negative_tab):
                raise ValueError("a half cell has no negative foil or tab")
            self.mesh_data = geometry.mesh(comm, layers, left_name)
            self.modelled_area_m2 = geometry.modelled_area_m2
            self.in_plane_cell_area_m2 = geometry.in_plane_cell_area_m2
            self.negative_terminal = NEGATIVE_TAB if geometry.negative_tab else left_name
            self.positive_terminal = POSITIVE_TAB if geometry.positive_tab else POSITIVE_COLLECTOR
            if geometry.negative_foil is not None:
                negative_foil = (NEGATIVE_FOIL, geometry.negative_foil.conductivity_S_m)
            if geometry.positive_foil is not None:
                positive_foil = (POSITIVE_FOIL, geometry.positive_foil.conductivity_S_m)
        #: The cell's electrode area over the area the mesh stands for (layer pairs).
        self.area_scale = p.electrode_area_m2 / self.modelled_area_m2
        mesh = self.mesh_data.mesh
        self.mesh = mesh
        self._profile_point = self._nearest_central_line()
        self.negative = (
            None
            if self.half_cell
            else _Electrode(
                NEGATIVE,
                p.negative,
                self.mesh_data,
                resolution,
                resolution.negative_radial_points,
                negative_foil,
            )
        )
        self.positive = _Electrode(
            POSITIVE,
            p.positive,
            self.mesh_data,
            resolution,
            resolution.positive_radial_points,
            positive_foil,
        )
        self.electrodes = [e for e in (self.negative, self.positive) if e is not None]
        # The electrolyte fills the electrodes and the separator; with foils, a submesh.
        regions = [SEPARATOR, POSITIVE] if self.half_cell else [NEGATIVE, SEPARATOR, POSITIVE]
        self.electrolyte = (
            _Submesh(self.mesh_data, regions) if negative_foil or positive_foil else None
        )
        electrolyte_mesh = mesh if self.electrolyte is None else self.electrolyte.mesh
        electrolyte_space = fem.functionspace(electrolyte_mesh, ("Lagrange", 1))
        # Fields: c_e, phi_e, then phi_s and c_s of each electrode present (negative first).
        self.spaces = [electrolyte_space, electrolyte_space.clone()]
        names = ["c_e", "phi_e"]
        self.thermal_voltage_ref = GAS_CONSTANT * p.reference_temperature_K / FARADAY
        # Scales of the unknowns: physical = scale * unknown.
        self.scales = [p.electrolyte.initial_concentration_mol_m3, self.thermal_voltage_ref]
        for electrode in self.electrodes:
            suffix = electrode.name[0]
            electrode.potential_index = len(self.spaces)
            electrode.concentration_index = len(self.spaces) + 1
            self.spaces += [electrode.potential_space, electrode.concentration_space]
            names += [f"phi_s_{suffix}", f"c_s_{suffix}"]
            self.scales += [self.thermal_voltage_ref, electrode.params.max_concentration_mol_m3]
        self.u = [fem.Function(V, name=n) for V, n in zip(self.spaces, names, strict=True)]
        self.u_old = [[fem.Function(V) for V in self.spaces] for _ in range(2)]
        self._concentrations = [0] + [e.concentration_index for e in self.electrodes]
        potentials = [1] + [e.potential_index for e in self.electrodes]
        self.differential = self._concentrations + (potentials if double_layer else [])
        # The history restarts from consistent potentials after every control switch, so the
        # Newton guess may extrapolate every field.
        self._all_fields = list(range(len(self.spaces)))
        self.temperature = fem.Constant(mesh, float(temperature_K or p.ambient_temperature_K))
        self.applied_current_density = fem.Constant(mesh, 0.0)
        self.applied_power_density = fem.Constant(mesh, 0.0)
        self.terminal_voltage = fem.Constant(mesh, 0.0)
        # phi_s of the positive electrode is V_T (u + offset): the unknown u stays within a
        # fraction of V_T of the terminal (:meth:`_recentre`), so that the stiff rows of a
        # metal foil (sigma_cc ~ 1e7 S/m) do not lose the residual to round-off in |phi_s|.
        self.potential_offset = fem.Constant(mesh, 0.0)
        self._offset_index = self.positive.potential_index
        self.time_step = fem.Constant(mesh, 1.0)
        self.bdf = [fem.Constant(mesh, c) for c in (1.0, -1.0, 0.0)]
        self.controller = BDFStepController(
            relative_tolerance, absolute_tolerance, max_step_s=max_step_s
        )
        #: Called with "row" after every recorded time and "output" at profile times.
        self.observer: Callable[[str], None] | None = None
        # Newton's absolute tolerance: 1e-11 of the scaled residual, or the round-off level of a
        # foil's rows, eps x sigma_cc V_T / (h_cc i_1C) (~1e-7 for copper), if that is larger.
        one_c_density = p.one_c_current_A() / p.electrode_area_m2
        self._residual_floor = 1e-11
        for foil in (geometry.negative_foil, geometry.positive_foil) if geometry else ():
            if foil is not None:
                stiffness = foil.conductivity_S_m * self.thermal_voltage_ref * foil.cells
                stiffness /= foil.thickness_m * one_c_density
                self._residual_floor = max(self._residual_floor, 2e-16 * stiffness)
        self._build_forms()
        self._build_solver()
        self._build_diagnostics()
        self.reset()
        if geometry is not None:
            # (At the initial state: the pattern is found where every coefficient is defined.)
            _factor_without_structural_zeros(self.problem, self.u)

    # ------------------------------------------------------------------ forms
    def _physical(self, i, functions=None):
        functions = self.u if functions is None else functions
        if i == self._offset_index:
            return self.scales[i] * (functions[i] + self.potential_offset)
        return self.scales[i] * functions[i]

    def _offset(self, i: int) -> float:
        """Offset of field i's unknowns (scaled; non-zero for the positive phi_s only)."""
        return float(self.potential_offset.value) if i == self._offset_index else 0.0

    def _recentre(self) -> None:
        """Move the positive phi_s unknowns (and their history) to mean 0 on the terminal.

        Done when the mean leaves +-0.05 V_T; physical values, the BDF rates (their
        coefficients sum to 0) and the predictor are unchanged.
        """
        i = self._offset_index
        shift = self._integral(self._terminal_potential)
        if abs(shift) < 0.05:
            return
        self.u[i].x.array[:] -= shift
        for _, state in self.history:
            state[i] -= shift
        self.potential_offset.value += shift
        self.terminal_voltage.value -= shift

    def _rate(self, i):
        a0, a1, a2 = self.bdf
        du = a0 * self.u[i] + a1 * self.u_old[0][i] + a2 * self.u_old[1][i]
        return self.scales[i] * du / self.time_step

    def _build_forms(self) -> None:
        p = self.parameters
        mesh = self.mesh
        tags = self.mesh_data.cell_tags
        dx = ufl.Measure("dx", domain=mesh, subdomain_data=tags, metadata={"quadrature_degree": 2})
        self.dx_vertex = ufl.Measure(
            "dx",
            domain=mesh,
            subdomain_data=tags,
            metadata={"quadrature_rule": "vertex", "quadrature_degree": 1},
        )
        dxv = self.dx_vertex
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=self.mesh_data.facet_tags)
        self.dx = dx
        self.ds = ds
        # The electrolyte's cells: all of them, or (with foils) its submesh's regions.
        dx_electrolyte = dx if self.electrolyte is None else dx(self.electrolyte.tags)
        # The applied current enters through the positive terminal (a face or a tab's end) at
        # the density that carries this geometry's share of it: I/A * A_geometry / A_terminal.
        one = fem.Constant(mesh, 1.0)
        terminal = physical_tag(self.mesh_data, self.positive_terminal)
        terminal_area = self._integral(fem.form(one * ds(terminal)))
        self.terminal_area_m2 = terminal_area
        terminal_factor = self.modelled_area_m2 / terminal_area

        # Piecewise-constant porosity and transport efficiency eps^b.
        dg0 = fem.functionspace(mesh, ("DG", 0))
        self.porosity = fem.Function(dg0, name="porosity")
        efficiency = fem.Function(dg0, name="transport_efficiency")
        regions = [(SEPARATOR, p.separator), (POSITIVE, p.positive)]
        if not self.half_cell:
            regions.insert(0, (NEGATIVE, p.negative))
        for name, region in regions:
            cells = tags.find(physical_tag(self.mesh_data, name))
            self.porosity.x.array[cells] = region.porosity
            efficiency.x.array[cells] = region.porosity**region.bruggeman_electrolyte

        # One test function per field: each law below is the residual block of one field.
        tests = [ufl.TestFunction(V) for V in self.spaces]
        v_ce, v_pe = tests[:2]
        temperature = self.temperature
        thermal_voltage = GAS_CONSTANT * temperature / FARADAY
        electrolyte = p.electrolyte
        c_e = self._physical(0)
        phi_e = self._physical(1)
        conductivity = efficiency * electrolyte.conductivity(c_e, temperature, mod=ufl)
        diffusivity = efficiency * electrolyte.diffusivity(c_e, temperature, mod=ufl)
        transference = electrolyte.transference_number(c_e, temperature, mod=ufl)
        i_e = electrolyte_current_density(
            c_e,
            phi_e,
            conductivity,
            transference,
            electrolyte.thermodynamic_factor(c_e, temperature, mod=ufl),
            thermal_voltage,
        )
        n_e = electrolyte_salt_flux(c_e, diffusivity, transference, i_e)

        charge_sources, molar_sources = [], []
        particle_forms, solid_forms = [], []
        self.reaction_current = {}
        for electrode in self.electrodes:
            i_phi, i_c = electrode.potential_index, electrode.concentration_index
            w, q = tests[i_phi], tests[i_c]
            ep = electrode.params
            phi_s = self._physical(i_phi)
            c_s = self._physical(i_c)
            c_max = ep.max_concentration_mol_m3
            c_surf = particle_surface_concentration(c_s)
            ocp = ep.open_circuit_potential(c_surf / c_max, temperature, mod=ufl)
            j0 = ep.exchange_current_density(c_e, c_surf, c_max, temperature, mod=ufl)
            j_faradaic = butler_volmer_current_density(
                j0,
                overpotential(phi_s, phi_e, ocp),
                thermal_voltage,
                ep.anodic_transfer_coefficient,
                ep.cathodic_transfer_coefficient,
            )
            contributions = [j_faradaic]
            if self.double_layer and ep.double_layer_capacity_F_m2 > 0:
                contributions.append(
                    double_layer_current_density(
                        ep.double_layer_capacity_F_m2, self._rate(i_phi) - self._rate(1)
                    )
                )
            j_total = interfacial_current_density(contributions)
            a_s = ep.specific_surface_area_1_m
            measure = dxv(electrode.tag)
            self.reaction_current[electrode.name] = a_s * j_total * measure
            charge_sources.append((a_s * j_total, measure))
            molar_sources.append((a_s * j_faradaic / FARADAY, measure))
            particle_forms.append(
                particle_diffusion_residual(
                    c_s,
                    self._rate(i_c),
                    q,
                    electrode.grid,
                    ep.particle_radius_m,
                    lambda c, ep=ep: ep.particle_diffusivity(c, temperature, mod=ufl),
                    j_faradaic / FARADAY,
                    ep.active_material_volume_fraction,
                    measure,
                )
            )
            boundary = []
            if electrode is self.positive:
                # i_s.n = I/A under current control, P/(A V) under power control, V = phi_s(L),
                # times A_geometry / A_terminal.
                boundary.append(
                    (
                        terminal_factor
                        * (self.applied_current_density + self.applied_power_density / phi_s),
                        ds(terminal),
                    )
                )
            solid_form = solid_charge_conservation_residual(
                solid_current_density(phi_s, ep.effective_conductivity_S_m),
                w,
                dx(electrode.tag),
                charge_sources[-1:],
                boundary,
            )
            if electrode.foil is not None:
                # The current-collector foil: div(-sigma_cc grad phi_s) = 0.
                foil_name, foil_conductivity = electrode.foil
                solid_form += solid_charge_conservation_residual(
                    solid_current_density(phi_s, foil_conductivity),
                    w,
                    dx(physical_tag(self.mesh_data, foil_name)),
                    [],
                )
            solid_forms.append(solid_form)

        if self.half_cell:
            # Lithium-metal counter electrode at x = 0: phi_Li = 0 (the reference), OCP 0 V,
            # symmetric Butler-Volmer; its current enters the electrolyte (i_e.n = -j_Li,
            # N_e.n = -j_Li / F).
            counter = ds(physical_tag(self.mesh_data, LITHIUM))
            j_lithium = butler_volmer_current_density(
                self.counter_electrode.exchange_current_density_A_m2,
                overpotential(0.0, phi_e, 0.0),
                thermal_voltage,
                0.5,
                0.5,
            )
            self.reaction_current[LITHIUM] = j_lithium * counter
            charge_sources.append((j_lithium, counter))
            molar_sources.append((j_lithium / FARADAY, counter))

        # Residual scales: charge by the 1C current through one column of cells (in 1D the 1C
        # current density), lithium by the same over F.
        current_scale = p.one_c_current_A() / p.electrode_area_m2 * self.in_plane_cell_area_m2
        molar_scale = current_scale / FARADAY
        self.residual_blocks = [
            (1.0 / molar_scale)
            * electrolyte_diffusion_residual(
                self._rate(0), v_ce, self.porosity, n_e, dx_electrolyte, molar_sources
            ),
            (1.0 / current_scale)
            * electrolyte_charge_conservation_residual(i_e, v_pe, dx_electrolyte, charge_sources),
        ]
        for solid_form, particle_form in zip(solid_forms, particle_forms, strict=True):
            self.residual_blocks += [
                (1.0 / current_scale) * solid_form,
                (1.0 / molar_scale) * particle_form,
            ]
        self.entity_maps = [m for electrode in self.electrodes for m in electrode.entity_maps]
        if self.electrolyte is not None:
            self.entity_maps.append(self.electrolyte.entity_map)

        # Lithium inventory [mol/m2] and reaction integrals [A/m2].
        self.lithium_forms = [
            self.porosity * c_e * dx_electrolyte,
            *(
                electrode.params.active_material_volume_fraction
                * particle_average_concentration(
                    self._physical(electrode.concentration_index), electrode.grid
                )
                * dxv(electrode.tag)
                for electrode in self.electrodes
            ),
        ]

    def _terminal_dofs(self, name: str, electrode: _Electrode) -> np.ndarray:
        """Dofs of the electrode's phi_s on the facet group ``name`` (local, ghosts included)."""
        topology = self.mesh.topology
        fdim = topology.dim - 1
        facets = self.mesh_data.facet_tags.find(physical_tag(self.mesh_data, name))
        topology.create_connectivity(fdim, 0)
        vertices = dolfinx.mesh.compute_incident_entities(topology, facets, fdim, 0)
        sub_vertices = electrode.conductor.vertex_map.sub_topology_to_topology(vertices, True)
        if np.any(sub_vertices < 0):
            raise ValueError(f"the terminal {name!r} is not on the {electrode.name}")
        submesh = electrode.conductor.mesh
        submesh.topology.create_connectivity(0, submesh.topology.dim)
        return fem.locate_dofs_topological(
            electrode.potential_space, 0, sub_vertices.astype(np.int32)
        )

    def _build_solver(self) -> None:
        if self.half_cell:
            # The lithium metal's potential is the reference: no Dirichlet condition.
            self.bcs = []
        else:
            dofs = self._terminal_dofs(self.negative_terminal, self.negative)
            self.bcs = [fem.dirichletbc(0.0, dofs, self.negative.potential_space)]
        # Under voltage control the positive terminal is an equipotential at V.
        dofs = self._terminal_dofs(self.positive_terminal, self.positive)
        self._terminal_bc = fem.dirichletbc(
            self.terminal_voltage, dofs, self.positive.potential_space
        )
        self.problem = self._nonlinear_problem(self.bcs, "dfn_current")
        self.voltage_problem = None
        self._active_problem = self.problem

    def _nonlinear_problem(self, bcs, name: str) -> NonlinearProblem:
        return NonlinearProblem(
            self.residual_blocks,
            self.u,
            bcs=bcs,
            entity_maps=self.entity_maps,
            kind="mpi",
            petsc_options_prefix=f"{name}_{id(self)}_",
            petsc_options={
                "snes_type": "newtonls",
                "snes_linesearch_type": "none",
                "snes_atol": self._residual_floor,
                "snes_rtol": 1e-12,
                "snes_stol": 1e-14,
                "snes_max_it": 12,
                "ksp_type": "preonly",
                "pc_type": "lu",
                # PETSc's own LU (reverse Cuthill-McKee ordering) is about twice as fast as
                # MUMPS on these small banded 1D systems; MUMPS (nested-dissection fill
                # reduction) when distributed and in 2D/3D.
                **(
                    {"pc_factor_mat_solver_type": "mumps"}
                    if self.comm.size > 1 or self.geometry is not None
                    else {
                        "pc_factor_mat_solver_type": "petsc",
                        "pc_factor_mat_ordering_type": "rcm",
                    }
                ),
            },
        )

    def _build_diagnostics(self) -> None:
        self._lithium = [fem.form(f, entity_maps=self.entity_maps) for f in self.lithium_forms]
        self._reaction = {
            name: fem.form(f, entity_maps=self.entity_maps)
            for name, f in self.reaction_current.items()
        }
        one = fem.Constant(self.mesh, 1.0)
        self._volumes = {
            electrode.name: fem.form(one * self.dx_vertex(electrode.tag))
            for electrode in self.electrodes
        }
        # Terminal voltage: the mean of phi_s over the positive terminal (in 1D its value).
        ds = self.ds
        phi_s = self.u[self.positive.potential_index]
        terminal = physical_tag(self.mesh_data, self.positive_terminal)
        self._terminal_potential = fem.form(
            phi_s / self.terminal_area_m2 * ds(terminal), entity_maps=self.entity_maps
        )
        if self.half_cell:
            counter = physical_tag(self.mesh_data, LITHIUM)
            area = self._integral(fem.form(one * ds(counter)))
            self._counter_potential = fem.form(
                self.u[1] / area * ds(counter), entity_maps=self.entity_maps
            )

    # ------------------------------------------------------------- diagnostics
    def _integral(self, compiled) -> float:
        return self.comm.allreduce(fem.assemble_scalar(compiled), op=MPI.SUM)

    def voltage(self) -> float:
        """Terminal voltage phi_s(L) - phi_s(0), or phi_s(L) - phi_Li in a half cell [V].

        The reference (phi_s(0) or phi_Li) is 0. In 2D/3D, phi_s is averaged over the positive
        terminal (uniform to micro-volts on a metal tab).
        """
        offset = float(self.potential_offset.value)
        return (self._integral(self._terminal_potential) + offset) * self.thermal_voltage_ref

    def lithium_overpotential_V(self) -> float:
        """Half cell: overpotential of the lithium metal eta_Li = phi_Li - phi_e(0) - 0 [V]."""
        if not self.half_cell:
            raise ValueError("a full cell has no lithium counter electrode")
        return -self._integral(self._counter_potential) * self.thermal_voltage_ref

    def lithium_dissolved_mol(self) -> float:
        """Lithium that left the metal counter electrode for the electrolyte (full cell: 0) [mol].

        Integrated from the metal's current A j_Li / F with the time steps' own BDF formula, so
        that electrolyte + particles - dissolved lithium is conserved exactly under every control.
        """
        return self._dissolved[-1]

    def lithium_mol(self) -> float:
        """Lithium in the electrolyte and all particles [mol]."""
        per_area = sum(self._integral(f) for f in self._lithium)
        return per_area * self.area_scale

    def reaction_current_A(self) -> dict[str, float]:
        """Integral of a_s j over each electrode, for the whole cell [A]."""
        scale = self.area_scale
        return {name: self._integral(f) * scale for name, f in self._reaction.items()}

    def _nearest_central_line(self) -> np.ndarray:
        """In-plane coordinates of the mesh line through the stack nearest the electrode's middle.

        The middle is height/2 (and width/2 in 3D); empty in 1D. Collective.
        """
        geometry = self.geometry
        if geometry is None:
            return np.zeros(0)
        centre = np.array([geometry.height_m / 2])
        if geometry.width_m is not None:
            centre = np.array([geometry.width_m / 2, geometry.height_m / 2])
        points = self.mesh.geometry.x[:, 1 : self.mesh.geometry.dim]
        distance = np.linalg.norm(points - centre, axis=1)
        nearest = int(np.argmin(distance)) if distance.size else -1
        best = self.comm.allreduce(
            (float(distance[nearest]) if nearest >= 0 else np.inf, self.comm.rank), op=MPI.MIN
        )
        point = points[nearest] if self.comm.rank == best[1] else None
        return self.comm.bcast(point, root=best[1])

    def profile_point(self) -> np.ndarray:
        """In-plane coordinates of the through-stack line the profiles follow (2D/3D)."""
        return self._profile_point

    def _gather_nodal(self, function, component=None) -> tuple[np.ndarray, np.ndarray]:
        """Nodal (x, value) of a P1 field over all ranks, sorted by x (collective).

        In 2D/3D only the nodes on the profile line (:meth:`profile_point`).
        """
        space = function.function_space
        owned = space.dofmap.index_map.size_local
        coordinates = space.tabulate_dof_coordinates()[:owned]
        x = coordinates[:, 0]
        bs = space.dofmap.index_map_bs
        values = function.x.array[: owned * bs].reshape(owned, bs)
        values = values[:, component if component is not None else 0]
        if self.geometry is not None:
            gdim = self.mesh.geometry.dim
            tolerance = 1e-9 * self.geometry.height_m
            on_line = np.all(
                np.abs(coordinates[:, 1:gdim] - self.profile_point()) < tolerance, axis=1
            )
            x, values = x[on_line], values[on_line]
        xs = np.concatenate(self.comm.allgather(x))
        vs = np.concatenate(self.comm.allgather(values))
        order = np.argsort(xs, kind="stable")
        return xs[order], vs[order]

    def profiles(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Profiles across the cell at the current state: name -> (x [m], value), SI units.

        Interfacial current densities are the faradaic j_F of each node, as in the equations.
        """
        temperature = float(self.temperature.value)
        x_e, c_e = self._gather_nodal(self.u[0])
        _, phi_e = self._gather_nodal(self.u[1])
        c_e, phi_e = c_e * self.scales[0], phi_e * self.scales[1]
        result = {
            "electrolyte_concentration_mol_m3": (x_e, c_e),
            "electrolyte_potential_V": (x_e, phi_e),
        }
        vt = GAS_CONSTANT * temperature / FARADAY
        for electrode in self.electrodes:
            label = electrode.name.split("_")[0]
            i_phi, i_c = electrode.potential_index, electrode.concentration_index
            ep = electrode.params
            # (With a foil, phi_s also lives beyond the electrode: keep the electrode's nodes.)
            x, sto = self._gather_nodal(self.u[i_c], electrode.grid.size - 1)
            x_s, phi_s = self._gather_nodal(self.u[i_phi])
            phi_s = np.interp(x, x_s, (phi_s + self._offset(i_phi)) * self.scales[i_phi])
            c_surf = sto * ep.max_concentration_mol_m3
            c_e_here = np.interp(x, x_e, c_e)
            eta = phi_s - np.interp(x, x_e, phi_e) - ep.open_circuit_potential(sto, temperature)
            j0 = ep.exchange_current_density(
                c_e_here, c_surf, ep.max_concentration_mol_m3, temperature
            )
            j = j0 * (
                np.exp(ep.anodic_transfer_coefficient * eta / vt)
                - np.exp(-ep.cathodic_transfer_coefficient * eta / vt)
            )
            result[f"{label}_electrode_potential_V"] = (x, phi_s)
            result[f"{label}_particle_surface_concentration_mol_m3"] = (x, c_surf)
            result[f"{label}_interfacial_current_density_A_m2"] = (x, j)
        return result

    def _to_cell_mesh(
        self, space: fem.FunctionSpace, source_space: fem.FunctionSpace, submesh: _Submesh | None
    ) -> np.ndarray:
        """Map the local nodes of a P1 space on ``submesh`` (None: the cell mesh) to ``space``'s."""
        key = (id(space), id(source_space))
        cache = self.__dict__.setdefault("_dof_maps", {})
        if key not in cache:
            target = _vertex_to_dof(space)
            source = _vertex_to_dof(source_space)
            if submesh is None:
                parent_vertices = np.arange(source.size, dtype=np.int32)
            else:
                parent_vertices = submesh.vertex_map.sub_topology_to_topology(
                    np.arange(source.size, dtype=np.int32), False
                )
            mapping = np.empty(source.size, dtype=np.int64)
            mapping[source] = target[parent_vertices]
            cache[key] = mapping
        return cache[key]

    def nodal_fields(self, space: fem.FunctionSpace) -> dict[str, np.ndarray]:
        """Fields at the local nodes of a P1 space on the cell mesh, NaN where undefined.

        Electrolyte concentration and potential, solid potential (electrodes and foils),
        particle surface concentration, particle-average stoichiometry (the local state of
        charge), faradaic interfacial current density j_F, SI units.
        """
        size = space.dofmap.index_map.size_local + space.dofmap.index_map.num_ghosts
        fields = {name: np.full(size, np.nan) for name in NODAL_FIELDS}
        electrolyte = self._to_cell_mesh(space, self.spaces[0], self.electrolyte)
        fields["electrolyte_concentration_mol_m3"][electrolyte] = self.scales[0] * self.u[0].x.array
        fields["electrolyte_potential_V"][electrolyte] = self.scales[1] * self.u[1].x.array
        temperature = float(self.temperature.value)
        vt = GAS_CONSTANT * temperature / FARADAY
        for electrode in self.electrodes:
            ep = electrode.params
            i_phi, i_c = electrode.potential_index, electrode.concentration_index
            conductor = self._to_cell_mesh(space, electrode.potential_space, electrode.conductor)
            fields["solid_potential_V"][conductor] = self.scales[i_phi] * (
                self.u[i_phi].x.array + self._offset(i_phi)
            )
            particles = self._to_cell_mesh(
                space, electrode.concentration_space, electrode.particles
            )
            sto = self.u[i_c].x.array.reshape(-1, electrode.grid.size)
            c_max = ep.max_concentration_mol_m3
            c_surf = sto[:, -1] * c_max
            fields["particle_surface_concentration_mol_m3"][particles] = c_surf
            fields["particle_stoichiometry"][particles] = sto @ (
                3.0 * np.asarray(electrode.grid.mass)
            )
            c_e = fields["electrolyte_concentration_mol_m3"][particles]
            eta = (
                fields["solid_potential_V"][particles]
                - fields["electrolyte_potential_V"][particles]
                - ep.open_circuit_potential(sto[:, -1], temperature)
            )
            j0 = ep.exchange_current_density(c_e, c_surf, c_max, temperature)
            fields["interfacial_current_density_A_m2"][particles] = j0 * (
                np.exp(ep.anodic_transfer_coefficient * eta / vt)
                - np.exp(-ep.cathodic_transfer_coefficient * eta / vt)
            )
        return fields

    def collector_current_density(self, space: fem.FunctionSpace) -> np.ndarray:
        """i_s = -sigma_cc grad(phi_s) in the foils at the nodes of a P1 vector space [A/m2].

        Nodal averages of the cell values (lumped L2 projection over the foil cells); NaN off
        the foils. Shape (local nodes, gdim).
        """
        gdim = self.mesh.geometry.dim
        if not hasattr(self, "_collector_forms"):
            test = ufl.TestFunction(space)
            numerator = denominator = None
            for electrode in self.electrodes:
                if electrode.foil is None:
                    continue
                name, conductivity = electrode.foil
                measure = self.dx_vertex(physical_tag(self.mesh_data, name))
                phi_s = self._physical(electrode.potential_index)
                current = solid_current_density(phi_s, conductivity)
                terms = (ufl.inner(current, test) * measure, test[0] * measure)
                if numerator is None:
                    numerator, denominator = terms
                else:
                    numerator, denominator = numerator + terms[0], denominator + terms[1]
            if numerator is None:
                self._collector_forms = None
            else:
                self._collector_forms = (
                    fem.form(numerator, entity_maps=self.entity_maps),
                    fem.form(denominator),
                )
        size = space.dofmap.index_map.size_local + space.dofmap.index_map.num_ghosts
        result = np.full((size, gdim), np.nan)
        if self._collector_forms is None:
            return result
        vectors = []
        for compiled in self._collector_forms:
            vector = fem.assemble_vector(compiled)
            vector.scatter_reverse(dolfinx.la.InsertMode.add)
            vector.scatter_forward()
            vectors.append(vector.array.reshape(size, gdim))
        weight = vectors[1][:, :1]
        inside = weight[:, 0] > 0
        result[inside] = vectors[0][inside] / weight[inside]
        return result

    def average_particle_concentration_mol_m3(self) -> tuple[float, float]:
        """Electrode-averaged particle concentrations (negative, positive) [mol/m3].

        The negative one is NaN in a half cell.
        """
        values = [] if self.negative is not None else [float("nan")]
        for electrode, form in zip(self.electrodes, self._lithium[1:], strict=True):
            eps_s = electrode.params.active_material_volume_fraction
            volume = self._integral(self._volumes[electrode.name])
            values.append(self._integral(form) / (eps_s * volume))
        return values[0], values[1]

    # ------------------------------------------------------------- state
    def reset(self) -> None:
        """Initial state: uniform concentrations, potentials at open circuit, time 0."""
        p = self.parameters
        vt = self.thermal_voltage_ref
        # The reference electrode (negative particles, or the lithium metal: OCP 0) at rest.
        reference_ocp = 0.0
        values = [1.0, 0.0]
        for electrode in self.electrodes:
            ep = electrode.params
            sto = ep.initial_concentration_mol_m3 / ep.max_concentration_mol_m3
            ocp = float(ep.open_circuit_potential(sto, p.ambient_temperature_K))
            if electrode is self.negative:
                reference_ocp = ocp
            values += [(ocp - reference_ocp) / vt, sto]
        values[1] = -reference_ocp / vt
        self.potential_offset.value = values[self._offset_index]
        values[self._offset_index] = 0.0
        for function, value in zip(self.u, values, strict=True):
            function.x.array[:] = value
        self.time_s = 0.0
        self.discharge_capacity_Ah = 0.0
        self.history: list[tuple[float, list[np.ndarray]]] = []
        # Lithium dissolved from the metal (half cell) at the times of the history [mol].
        self._dissolved = [0.0]
        self.solution = DFNSolution()
        self._consistent = False
        self._step_index = 0
        self._set_control("current", 0.0)

    def _state(self) -> list[np.ndarray]:
        return [f.x.array.copy() for f in self.u]

    def _set_state(self, state) -> None:
        for function, values in zip(self.u, state, strict=True):
            function.x.array[:] = values

    def _solve(self, dt: float, order: int, guess) -> bool:
        """One implicit step of size dt from the last accepted state; True if Newton converged."""
        (t1, s1) = self.history[-1]
        if order == 2:
            t0 = self.history[-2][0]
            omega = dt / (t1 - t0)
            coefficients = ((1 + 2 * omega) / (1 + omega), -(1 + omega), omega**2 / (1 + omega))
        else:
            coefficients = (1.0, -1.0, 0.0)
        for constant, value in zip(self.bdf, coefficients, strict=True):
            constant.value = value
        self.time_step.value = dt
        if self._control_function is not None:
            self._control_value = self._control_function(t1 + dt)
            area = self.parameters.electrode_area_m2
            self.applied_current_density.value = self._control_value / area
        for i, values in enumerate(s1):
            self.u_old[0][i].x.array[:] = values
        if order == 2:
            for i, values in enumerate(self.history[-2][1]):
                self.u_old[1][i].x.array[:] = values
        self._set_state(guess)
        self._active_problem.solve()
        snes = self._active_problem.solver
        self.solution.newton_iterations += snes.getIterationNumber()
        # A step-norm stop (stol) at a huge residual is no convergence: demand a small residual,
        # above the round-off floor of the storage terms (which grows like 1/dt).
        floor = 1e-6 + 1e-13 / dt + 10 * self._residual_floor
        reason, norm = snes.getConvergedReason(), snes.getFunctionNorm()
        converged = reason > 0 and norm < floor
        # Newton stalled at the round-off level just above snes_atol (j0 ~ (c_max - c_surf)^0.5
        # loses digits as a particle surface fills, at a half cell's end of discharge): accept.
        stalled = reason == PETSc.SNES.ConvergedReason.DIVERGED_MAX_IT
        stalled = stalled and norm < 1e-10 + 1e-13 / dt + 10 * self._residual_floor
        converged = converged or stalled
        finite = all(np.isfinite(f.x.array).all() for f in self.u)
        return converged and self.comm.allreduce(finite, op=MPI.LAND)

    def _record(self, current_A: float) -> None:
        s = self.solution
        s.time_s.append(self.time_s)
        s.voltage_V.append(self.voltage())
        s.current_A.append(current_A)
        s.discharge_capacity_Ah.append(self.discharge_capacity_Ah)
        negative, positive = self.average_particle_concentration_mol_m3()
        s.average_negative_particle_concentration_mol_m3.append(negative)
        s.average_positive_particle_concentration_mol_m3.append(positive)
        s.lithium_mol.append(self.lithium_mol())
        s.lithium_dissolved_mol.append(self.lithium_dissolved_mol())
        s.step_index.append(self._step_index)
        if self.observer is not None:
            self.observer("row")

    def _output(self) -> None:
        """Profiles at the current time (t = 0, requested times, ends of steps, events)."""
        self.solution.profiles.append((self.time_s, self.profiles()))
        if self.observer is not None:
            self.observer("output")

    # ------------------------------------------------------------- control
    def _set_control(self, mode: str, value: float) -> None:
        """Current [A], power [W] (both positive on discharge) or voltage [V] control."""
        area = self.parameters.electrode_area_m2
        # A current given as a function of time is evaluated at the end of every step.
        self._control_function = value if callable(value) else None
        if self._control_function is not None:
            value = self._control_function(self.time_s)
        self.applied_current_density.value = value / area if mode == "current" else 0.0
        self.applied_power_density.value = value / area if mode == "power" else 0.0
        if mode == "voltage":
            self.terminal_voltage.value = (
                value / self.thermal_voltage_ref - self.potential_offset.value
            )
            if self.voltage_problem is None:
                self.voltage_problem = self._nonlinear_problem(
                    [*self.bcs, self._terminal_bc], "dfn_voltage"
                )
                if self.geometry is not None:
                    _factor_without_structural_zeros(self.voltage_problem, self.u)
        self._mode, self._control_value = mode, value
        self._active_problem = self.voltage_problem if mode == "voltage" else self.problem

    def current_A(self) -> float:
        """Cell current, positive on discharge [A].

        The applied value under current control; otherwise the current that leaves the
        negative electrode's solid phase, A int_n a_s j dx (equal to it under current control).
        """
        if self._mode == "current":
            return self._control_value
        if self._mode == "power":
            return self._control_value / self.voltage()
        counter = LITHIUM if self.half_cell else NEGATIVE
        return self.reaction_current_A()[counter]

    def _make_consistent(self, start_value: float) -> None:
        """Potentials consistent with the (new) control; concentrations unchanged.

        Solves one step of 1e-9 s from the current state, then restores the concentrations, so
        that only the algebraic unknowns (and, with a double layer, nothing measurable) move.
        If Newton fails on a large jump of the control (a high current from rest), the control
        is ramped from ``start_value`` (its value in the previous state) to the target in 4, 16
        or 64 equal parts, each solve starting from the last. The result replaces the history:
        the next step starts at first order.
        """
        before = self._state()
        self.history = [(self.time_s, before)]
        self._dissolved = self._dissolved[-1:]
        target = self._control_value
        solved = self._solve(1e-9, 1, before)
        parts = 4
        while not solved and parts <= 64:
            guess = before
            for k in range(1, parts + 1):
                self._set_control_value(start_value + (target - start_value) * k / parts)
                solved = self._solve(1e-9, 1, guess)
                if not solved:
                    break
                guess = self._state()
            parts *= 4
        if not solved:
            raise StepFailure(f"no consistent potentials at t = {self.time_s:.6g} s")
        state = self._state()
        for i in self._concentrations:
            state[i] = before[i]
        self._set_state(state)
        self.history = [(self.time_s, state)]
        self._dissolved = self._dissolved[-1:]
        self._recentre()

    def _set_control_value(self, value: float) -> None:
        """Change the value of the present control mode (A, W or V)."""
        area = self.parameters.electrode_area_m2
        if self._mode == "current":
            self.applied_current_density.value = value / area
        elif self._mode == "power":
            self.applied_power_density.value = value / area
        else:
            offset = float(self.potential_offset.value)
            self.terminal_voltage.value = value / self.thermal_voltage_ref - offset
        self._control_value = value

    # ------------------------------------------------------------- driving
    def discharge(
        self,
        current_A: float,
        cutoff_voltage_V: float | None = None,
        duration_s: float | None = None,
        output_times_s=(),
    ) -> DFNSolution:
        """Constant-current step (negative current charges) until cut-off or duration.

        Args:
            current_A: Applied current, positive on discharge [A].
            cutoff_voltage_V: Stop when the voltage crosses this value (below it on discharge,
                above it on charge), located in time to 1e-5 s. Default: the set's cut-off.
            duration_s: Stop after this time (default: 10 hours over the C-rate, i.e. never for
                a full discharge).
            output_times_s: Absolute times the steps must land on (others are chosen by the
                error control); profiles are recorded there.
        """
        p = self.parameters
        if cutoff_voltage_V is None:
            cutoff_voltage_V = (
                p.lower_voltage_cutoff_V if current_A >= 0 else p.upper_voltage_cutoff_V
            )
        if duration_s is None:
            duration_s = 10 * 3600 * p.nominal_capacity_Ah / max(abs(current_A), 1e-12)
        return self._run_step(
            "current", current_A, duration_s, cutoff_voltage_V, None, output_times_s
        )

    def run_experiment(self, steps: Sequence[Step], output_times_s=()) -> DFNSolution:
        """Run protocol steps (see :mod:`electrolyx.experiment`) one after the other.

        Current, power and voltage control switch at step boundaries; every step ends at its
        duration or its ``until`` event, located in time. Without a duration, a step stops after
        at most 24 hours.
        """
        capacity = self.parameters.nominal_capacity_Ah
        for step in steps:
            duration = step.duration_s if step.duration_s is not None else 24 * 3600.0
            if step.mode == "voltage":
                self._run_step(
                    "voltage",
                    step.value,
                    duration,
                    None,
                    step.until_current_A(capacity),
                    output_times_s,
                )
            else:
                mode = "current" if step.mode == "rest" else step.mode
                self._run_step(
                    mode,
                    step.value_SI(capacity),
                    duration,
                    step.until_voltage_V,
                    None,
                    output_times_s,
                )
            self._step_index += 1
        return self.solution

    def drive_cycle(
        self,
        times_s,
        currents_A,
        lower_voltage_V: float | None = None,
        upper_voltage_V: float | None = None,
        output_times_s=(),
    ) -> DFNSolution:
        """Current following a drive cycle, linear between the given points (positive discharge).

        The cycle starts at the current time; steps land on every data point (where the
        current's slope changes), and the run stops at the end of the data or when the voltage
        leaves [lower, upper] (default: the set's cut-offs), located in time.

        Args:
            times_s: Increasing times from 0 [s].
            currents_A: Current at each time [A].
            lower_voltage_V: Lower voltage limit.
            upper_voltage_V: Upper voltage limit.
            output_times_s: Times (from the cycle start) where profiles are recorded.
        """
        times = np.asarray(times_s, dtype=float)
        currents = np.asarray(currents_A, dtype=float)
        if times.ndim != 1 or times.shape != currents.shape or times.size < 2:
            raise ValueError("a drive cycle needs matching 1D arrays of at least two points")
        if times[0] != 0.0 or np.any(np.diff(times) <= 0):
            raise ValueError("drive-cycle times must start at 0 and increase")
        p = self.parameters
        low = p.lower_voltage_cutoff_V if lower_voltage_V is None else lower_voltage_V
        high = p.upper_voltage_cutoff_V if upper_voltage_V is None else upper_voltage_V
        start = self.time_s

        def current(t: float) -> float:
            return float(np.interp(t - start, times, currents))

        def event() -> float:
            voltage = self.voltage()
            return min(voltage - low, high - voltage)

        outputs = [start + t for t in output_times_s]
        landings = [start + t for t in times[1:-1]]
        return self._run_step("current", current, times[-1], None, None, outputs, event, landings)

    def _run_step(
        self,
        mode,
        value,
        duration_s,
        until_voltage_V,
        until_current_A,
        outputs,
        event=None,
        landings=(),
    ):
        start = time.perf_counter()
        # Where a ramp toward the new control would start: the present current, power or voltage.
        voltage = self.voltage()
        current = self.current_A() if self._consistent else 0.0
        start_value = {"current": current, "power": current * voltage, "voltage": voltage}[mode]
        self._set_control(mode, value)
        first = not self._consistent
        self._make_consistent(start_value)
        if first:
            self._record(self.current_A())
            self._consistent = True
            self._output()
        if event is None and until_voltage_V is not None:
            # Positive while the step may go on: above the cut-off on discharge, below on charge.
            direction = 1.0 if value >= 0 else -1.0

            def event():
                return direction * (self.voltage() - until_voltage_V)

        elif event is None and until_current_A is not None:

            def event():
                return abs(self.current_A()) - until_current_A

        self._current_before = self.current_A()
        self._run(self.time_s + duration_s, event, outputs, landings)
        self.solution.wall_time_s += time.perf_counter() - start
        return self.solution

    def _run(self, end_time_s, event, output_times_s=(), landing_times_s=()) -> None:
        controller = self.controller
        dt = controller.initial_step_s
        stops = sorted(float(t) for t in (*output_times_s, *landing_times_s) if t < end_time_s) + [
            end_time_s
        ]
        g_before = event() if event is not None else None
        if g_before is not None and g_before <= 0:
            self.solution.termination = "event"
            return
        while True:
            t1, _ = self.history[-1]
            target = next(t for t in stops if t > t1 + 1e-12)
            dt = min(dt, target - t1)
            order = 2 if len(self.history) >= 2 else 1
            guess = controller.predict(self.history, t1 + dt, self._all_fields)
            if not self._solve(dt, order, guess):
                self.solution.rejected_steps += 1
                dt *= 0.25
                if dt < controller.min_step_s:
                    raise StepFailure(f"Newton failed at t = {t1:.6g} s with dt = {dt:.3g} s")
                continue
            state = self._state()
            error = controller.error(self.history, t1 + dt, state, self.differential, self.comm)
            if error > 1.0:
                self.solution.rejected_steps += 1
                dt = controller.next_step(dt, error, order)
                continue
            g = event() if event is not None else None
            if g is not None and g <= 0:
                dt = self._locate_event(dt, order, g_before, g, event)
                self._accept(dt)
                self.solution.termination = "event"
                self._output()
                return
            self._accept(dt)
            g_before = g
            at_end = self.time_s >= end_time_s - 1e-12
            if at_end or any(abs(self.time_s - t) < 1e-9 for t in output_times_s):
                self._output()
            if at_end:
                self.solution.termination = "time"
                return
            dt = controller.next_step(dt, error, order)

    def _accept(self, dt: float) -> None:
        self.time_s = self.history[-1][0] + dt
        current = self.current_A()
        # Trapezoidal rule: exact for constant current, second order otherwise.
        self.discharge_capacity_Ah += 0.5 * (self._current_before + current) * dt / 3600.0
        self._current_before = current
        self.history = [*self.history[-2:], (self.time_s, self._state())]
        if self.half_cell:
            # The metal's lithium with the BDF formula of the accepted solve (self.bdf):
            # a0 M_n + a1 M_n-1 + a2 M_n-2 = dt A j_Li / F, as the electrolyte's balance.
            a0, a1, a2 = (float(c.value) for c in self.bdf)
            rate = self.reaction_current_A()[LITHIUM] / FARADAY
            before = self._dissolved[-1]
            older = self._dissolved[-2] if a2 != 0.0 else 0.0
            dissolved = (dt * rate - a1 * before - a2 * older) / a0
            self._dissolved = [*self._dissolved[-2:], dissolved]
        else:
            self._dissolved = [0.0]
        self._recentre()
        self._record(current)

    def _locate_event(self, dt, order, g_lo, g_hi, event) -> float:
        """Step size that ends on the event (Illinois regula falsi), state set."""
        lo, hi = 0.0, dt
        t1 = self.history[-1][0]
        side = 0
        trial = hi
        for _ in range(60):
            trial = hi - g_hi * (hi - lo) / (g_hi - g_lo)
            guess = self.controller.predict(self.history, t1 + trial, self._all_fields)
            if not self._solve(trial, order, guess):
                raise StepFailure(f"Newton failed while locating an event near t = {t1:.6g} s")
            g = event()
            if abs(g) < 1e-9 or hi - lo < 1e-5:
                break
            if np.sign(g) == np.sign(g_hi):
                hi, g_hi = trial, g
                if side == -1:
                    g_lo *= 0.5
                side = -1
            else:
                lo, g_lo = trial, g
                if side == 1:
                    g_hi *= 0.5
                side = 1
        return trial
