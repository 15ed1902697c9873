"""Poisson-Nernst-Planck model: N ionic species and the electric potential, no electroneutrality.

Equations (SI), for species k = 1..N with charge number z_k and diffusivity D_k:

    N_k = -D_k (grad c_k + z_k c_k F/(RT) grad phi) + c_k v    (Nernst-Planck flux)
    dc_k/dt + div N_k = 0                                      (species conservation)
    -div(eps_0 eps_r grad phi) = F sum_k z_k c_k               (Gauss's law)

each law one weak form of :mod:`electrolyx.forms`. Scaling (all unknowns and coefficients
O(1)): lengths by the bulk Debye length, potential by RT/F, concentrations by
c_ref = sum_k z_k^2 c_k,bulk, time by lambda_D^2 / D_max; the unknowns are psi = F phi/(RT) and
u_k = ln(c_k/c_ref), so that concentrations are positive by construction.

Layers, each a module:

* :mod:`.scales`: the reference scales of the case settings;
* :mod:`.geometry`: the mesh, its named boundaries and regions, the axisymmetric weight;
* :mod:`.problem`: the space, the named unknown and one residual per law; :mod:`.boundaries`:
  the boundary kinds (potential, reservoir, surface charge, Stern, Frumkin-Butler-Volmer);
* :mod:`.solve`: steady solve with continuation, transient march with the shared integrator;
* :mod:`.outputs`: fields and integrals from the same UFL expressions;
* :mod:`.model`: :class:`PoissonNernstPlanck`, the case model (``[case] model = "pnp"``).
"""

from .model import PoissonNernstPlanck
from .scales import PNPScales

__all__ = ["PNPScales", "PoissonNernstPlanck"]
