"""Matplotlib figures of result folders: which figures, units, reference overlays, sweeps."""

import csv
from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
from postprocess_data import (
    DEBYE_LENGTH_M,
    ZETA_V,
    gouy_chapman_potential,
    load_rgb,
    pixel_std,
    write_result_folder,
    write_sweep_folder,
)

from electrolyx.postprocess import (
    PostprocessError,
    axis_label,
    compare_with_reference,
    plot_results,
    split_unit,
    sweep_summary,
)
from electrolyx.postprocess.cli import main as postprocess_main
from electrolyx.postprocess.units import length_scale

# Grey-level standard deviation below which a figure counts as blank: an empty white figure
# measures 0, a figure with axes but no curve about 25, every figure here 40 or more.
BLANK_STD = 30.0


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    comm = MPI.COMM_WORLD
    root = comm.bcast(tmp_path_factory.mktemp("plots") if comm.rank == 0 else None, root=0)
    return {kind: write_result_folder(Path(root) / kind, kind) for kind in ("1d", "dfn")}


@pytest.mark.parametrize(
    "name,expected",
    [
        ("potential_V", ("potential", "V")),
        ("concentration_Li_mol_m3", ("concentration_Li", "mol_m3")),
        ("surface_charge_C_m2", ("surface_charge", "C_m2")),
        ("space_charge_density_C_m3", ("space_charge_density", "C_m3")),
        ("interfacial_current_density_A_m2", ("interfacial_current_density", "A_m2")),
        ("discharge_capacity_Ah", ("discharge_capacity", "Ah")),
        ("time_s", ("time", "s")),
        ("x_m", ("x", "m")),
        ("conductance_S", ("conductance", "S")),
        ("porosity", ("porosity", "")),
    ],
)
def test_unit_suffixes(name, expected):
    assert split_unit(name) == expected


def test_axis_labels_and_length_units():
    assert axis_label("concentration_Li_mol_m3") == "concentration Li (mol/m³)"
    assert axis_label("surface_charge_C_m2") == "surface charge (C/m²)"
    assert axis_label("discharge_capacity_Ah") == "discharge capacity (A·h)"
    assert axis_label("porosity") == "porosity"
    assert length_scale(9.1e-8) == (1e9, "nm")
    assert length_scale(8.5e-5) == (1e6, "µm")
    assert length_scale(2.0) == (1.0, "m")


def test_pnp_result_figures(results):
    written = plot_results(results["1d"])
    names = sorted(p.name for p in written)
    assert names == [
        "profile_wall_normal_V.png",
        "profile_wall_normal_mol_m3.png",
        "timeseries_C_m2.png",
        "timeseries_V.png",
    ]
    for path in written:
        assert path.parent == results["1d"] / "figures"
        assert pixel_std(load_rgb(path)) > BLANK_STD, path.name


def test_discharge_figures_and_formats(results):
    written = plot_results(results["dfn"], formats=("png", "pdf", "svg"))
    names = {p.name for p in written}
    # voltage against time and capacity; one figure per unit; no I-V curve at constant current
    for stem in ("voltage", "timeseries_V", "timeseries_A", "timeseries_Ah", "timeseries_K"):
        assert {f"{stem}.png", f"{stem}.pdf", f"{stem}.svg"} <= names
    assert not any(name.startswith("iv_curve") for name in names)
    figures = results["dfn"] / "figures"
    assert (figures / "voltage.pdf").read_bytes().startswith(b"%PDF")
    assert b"<svg" in (figures / "voltage.svg").read_bytes()[:2000]
    width = load_rgb(figures / "voltage.png").shape[1]
    assert width > 1.5 * load_rgb(figures / "timeseries_K.png").shape[1]  # two panels


def test_unknown_format_names_the_choices(results):
    with pytest.raises(PostprocessError, match="choose from png, pdf, svg"):
        plot_results(results["dfn"], formats=("jpg",))


def _write_csv(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_reference_overlay_on_a_time_series(results, tmp_path):
    # a "peer code" curve 10 mV above the simulated one at the simulated capacities: the
    # comparison must report exactly -0.010 V (interpolation at the simulation's own abscissae
    # is exact; 1e-12 V allows for the round trip of the values through CSV text)
    with (results["dfn"] / "timeseries.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    reference = _write_csv(
        tmp_path / "peer.csv",
        ["discharge_capacity_Ah", "voltage_V", "not_in_results_V"],
        [
            [r["discharge_capacity_Ah"], float(r["voltage_V"]) + 0.010, 0.0]
            for r in rows
            if rows.index(r) % 3 == 0
        ],
    )
    comparisons = compare_with_reference(results["dfn"], reference)
    assert [c.column for c in comparisons] == ["voltage_V"]
    np.testing.assert_allclose(comparisons[0].difference, -0.010, rtol=0, atol=1e-12)
    written = plot_results(results["dfn"], reference=reference)
    assert results["dfn"] / "figures" / "reference_voltage_V.png" in written


def test_reference_overlay_on_a_profile(results, tmp_path):
    # the analytic Gouy-Chapman potential at the midpoints between the profile's samples: the
    # difference is the error of linear interpolation of the sampled profile, at most
    # h^2/8 max|phi''| with h the sample spacing (phi'' largest at the wall)
    length = 30 * DEBYE_LENGTH_M
    spacing = length / 60
    midpoints = np.arange(spacing / 2, length, spacing)
    reference = _write_csv(
        tmp_path / "gouy_chapman.csv",
        ["x_m", "potential_V"],
        zip(midpoints, gouy_chapman_potential(midpoints, ZETA_V), strict=True),
    )
    (comparison,) = compare_with_reference(results["1d"], reference)
    fine = np.linspace(0.0, length, 20001)
    curvature = np.gradient(np.gradient(gouy_chapman_potential(fine, ZETA_V), fine), fine)
    bound = spacing**2 / 8 * np.max(np.abs(curvature))
    assert comparison.column == "potential_V"
    assert comparison.difference.size == 60
    assert 0.1 * bound < comparison.max_abs_difference <= bound


def test_reference_errors_name_the_columns(results, tmp_path):
    unmatched = _write_csv(tmp_path / "a.csv", ["time_s", "voltage_V"], [[0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(PostprocessError) as error:
        compare_with_reference(results["1d"], unmatched)
    assert "available: surface_charge_C_m2, wall_potential_V" in str(error.value)
    unknown = _write_csv(tmp_path / "b.csv", ["angle_rad", "potential_V"], [[0.0, 1.0]])
    with pytest.raises(PostprocessError, match="nor a position"):
        compare_with_reference(results["1d"], unknown)


def test_conductance_sweep(tmp_path):
    # conductance of a nanochannel: surface-charge plateau plus the bulk term, 5 decades of
    # concentration written in shuffled order; the summary orders the runs by concentration
    concentrations = [1.0, 0.01, 100.0, 1000.0, 0.1, 10.0]
    sweep = write_sweep_folder(
        tmp_path / "sweep",
        "electrolyte.concentration_mol_m3",
        concentrations,
        lambda c: {"conductance_S": 2e-11 + 1e-12 * c},
    )
    summary = sweep_summary(sweep)
    assert summary.parameter == "electrolyte.concentration_mol_m3"
    np.testing.assert_array_equal(summary.values, sorted(concentrations))
    np.testing.assert_allclose(summary.finals["conductance_S"], 2e-11 + 1e-12 * summary.values)
    written = plot_results(sweep)
    assert [p.name for p in written] == ["sweep_conductance_S.png"]
    assert pixel_std(load_rgb(written[0])) > BLANK_STD


def test_voltage_sweep_gives_an_iv_curve(tmp_path):
    # case keys carry SI values without a suffix: a swept "potential" is in V, so the currents
    # against it make the I-V curve
    sweep = write_sweep_folder(
        tmp_path / "iv",
        "boundaries.wall.potential",
        [-0.1, -0.05, 0.0, 0.05, 0.1],
        lambda v: {"current_outlet_A": 1e-9 * np.sinh(v / 0.05)},
    )
    names = sorted(p.name for p in plot_results(sweep))
    assert names == ["iv_curve.png", "sweep_current_outlet_A.png"]


def test_cli_plot(results, capsys):
    assert postprocess_main(["plot", str(results["1d"]), "--format", "svg"]) == 0
    printed = capsys.readouterr().out.split()
    assert str(results["1d"] / "figures" / "profile_wall_normal_V.svg") in printed
    assert postprocess_main(["plot", str(results["1d"]), "--reference", "missing.csv"]) == 2
    assert "reference file missing.csv does not exist" in capsys.readouterr().err
