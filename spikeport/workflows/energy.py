"""`spikeport energy`: price a run folder's measured op counts on chip profiles (with the
backprop baselines), and optionally ask SANA-FE for a second opinion on the same spikes."""

from __future__ import annotations

from spikeport.hw_profiles.energy import write_energy


def run_energy(out, profiles=("loihi1", "loihi2"), *, second_opinion: str | None = None,
               sanafe_connections: str = "sparse", sanafe_samples: int | None = None,
               progress: bool = True, **options) -> dict:
    """:func:`~spikeport.hw_profiles.energy.write_energy` on ``out`` (``options``: baselines,
    threshold, data_dir, backend); with ``second_opinion="sanafe"`` the inference run is replayed
    on SANA-FE's Loihi too (checked first: a missing optional package fails before any work),
    its result under ``report["second_opinion"]`` and its Markdown under
    ``report["second_opinion_markdown"]``."""
    if second_opinion not in (None, "sanafe"):
        from spikeport.errors import DataError

        raise DataError(f"second_opinion = {second_opinion!r}; allowed: sanafe")
    if second_opinion == "sanafe":
        from spikeport.hw_profiles.sanafe import import_sanafe

        import_sanafe()
    report = write_energy(out, profiles=tuple(profiles), **options)
    if second_opinion == "sanafe":
        from spikeport.hw_profiles.sanafe import write_second_opinion

        second = write_second_opinion(out, report, backend=options.get("backend"),
                                      connections=sanafe_connections, samples=sanafe_samples,
                                      progress=progress)
        report["second_opinion"] = {k: v for k, v in second.items() if k != "markdown"}
        report["second_opinion_markdown"] = second["markdown"]
        report["files"] = dict(report["files"], sanafe_json="sanafe.json", sanafe_md="sanafe.md")
    return report
