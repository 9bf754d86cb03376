"""NIR (the Neuromorphic Intermediate Representation) in and out.

* :mod:`.common` — the mapping between NIR's CubaLIF/LIF ODEs and spikeport's discrete LIF
  (:class:`Discretisation`), constants and refusals.
* :mod:`.export` — a spikeport network as a NIR graph, plus a sidecar of what NIR cannot carry.
* :mod:`.read` — reading a graph: nodes checked, nested graphs inlined, the walk into
  populations and projections.
* :mod:`.importer` — a graph into a spikeport artefact, with its report.

The module docstring of :mod:`.common` gives the conventions in full.
"""

from spikeport.converters.nir.common import DISCRETISATIONS, Discretisation, NirWarning, swap_axes
from spikeport.converters.nir.export import (
    NirExport,
    export_nir,
    export_nir_to,
    extras_of,
    format_export,
    sidecar_path,
    write_nir,
)
from spikeport.converters.nir.importer import format_import, import_nir, import_nir_to, save_import
from spikeport.converters.nir.read import NirImport, load_extras, read_nir

__all__ = ["DISCRETISATIONS", "Discretisation", "NirExport", "NirImport", "NirWarning",
           "export_nir", "export_nir_to", "extras_of", "format_export", "format_import",
           "import_nir", "import_nir_to", "load_extras", "read_nir", "save_import",
           "sidecar_path", "swap_axes", "write_nir"]
