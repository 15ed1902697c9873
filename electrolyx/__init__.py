"""electrolyx: finite-element simulation of ion and electron transport in electrochemical cells."""

# dolfinx_solver must be imported before dolfinx or petsc4py: it loads the MPI and PETSc shared
# libraries that the wheels of dolfinx and petsc4py link against (libmpi.so.12).
import dolfinx_solver  # noqa: F401

__version__ = "0.1.0"
__all__ = ["__version__"]
