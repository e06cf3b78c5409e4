"""Geography: sites, routes, the attack targets derived from them, distances and the grid.

Everything here is static for a run and shared by all replicates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.config import MilitiaConfig, TheatreConfig

if TYPE_CHECKING:
    import networkx as nx

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (broadcasts over arrays)."""
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


@dataclass(frozen=True)
class Segment:
    """One leg of a route between two consecutive waypoints."""

    name: str
    route: str
    kind: str
    a: int
    b: int
    length_km: float
    exposure: float


class Theatre:
    """Sites, route segments and the target list of a theatre config.

    Targets are what militias attack: every US site (weapons of kind ``base_attack``)
    followed by every US logistics segment (``convoy_ied``). ``place_names`` lists sites
    then segments; event targets index into it.
    """

    def __init__(self, config: TheatreConfig) -> None:
        self.config = config
        sites = config.sites
        self.site_names = [s.name for s in sites]
        self.site_index = {name: i for i, name in enumerate(self.site_names)}
        self.lat = np.array([s.lat for s in sites])
        self.lon = np.array([s.lon for s in sites])
        self.side = np.array([s.side for s in sites])
        self.kind = np.array([s.kind for s in sites])
        self.country = np.array([s.country for s in sites])
        self.personnel = np.array([s.personnel for s in sites], dtype=np.float64)
        self.air_defence = np.array([s.air_defence for s in sites])
        self.target_value = np.array([s.target_value for s in sites])

        self.segments: list[Segment] = []
        for route in config.routes:
            for a_name, b_name in zip(route.sites, route.sites[1:], strict=False):
                a, b = self.site_index[a_name], self.site_index[b_name]
                length = float(haversine_km(self.lat[a], self.lon[a], self.lat[b], self.lon[b]))
                self.segments.append(
                    Segment(
                        f"{a_name}-{b_name}", route.name, route.kind, a, b, length, route.exposure
                    )
                )
        self.place_names = self.site_names + [f"convoy:{seg.name}" for seg in self.segments]

        #: the US sites (site indices): the columns of the state's site arrays, in order
        #: (only US sites hold people, stay open or close, have air defence or protection)
        self.us_sites = np.flatnonzero(self.side == "us")
        #: each site's column in the state's site arrays (-1: not a US site)
        self.us_column = np.full(len(sites), -1, dtype=np.int64)
        self.us_column[self.us_sites] = np.arange(len(self.us_sites))
        #: (U,) whether each US site is in Iraq (where troops are counted and moved)
        self.us_in_iraq = self.country[self.us_sites] == "iraq"
        self.convoy_segments = [i for i, s in enumerate(self.segments) if s.kind == "us_logistics"]
        n_site_targets, n_convoys = len(self.us_sites), len(self.convoy_segments)
        self.n_targets = n_site_targets + n_convoys
        #: place index (into place_names) of each target
        self.target_place = np.concatenate(
            [self.us_sites, len(sites) + np.array(self.convoy_segments, dtype=np.int64)]
        ).astype(np.int64)
        #: the US site of each target as a column of the state's site arrays (-1 for
        #: convoys): the site targets come first, in the order of ``us_sites``
        self.target_us_site = np.concatenate(
            [np.arange(n_site_targets), -np.ones(n_convoys, dtype=np.int64)]
        )
        self.target_is_convoy = np.arange(self.n_targets) >= n_site_targets
        # convoy targets sit at the midpoint of their segment
        mid_lat = [
            (self.lat[self.segments[i].a] + self.lat[self.segments[i].b]) / 2
            for i in self.convoy_segments
        ]
        mid_lon = [
            (self.lon[self.segments[i].a] + self.lon[self.segments[i].b]) / 2
            for i in self.convoy_segments
        ]
        self.target_lat = np.concatenate([self.lat[self.us_sites], mid_lat])
        self.target_lon = np.concatenate([self.lon[self.us_sites], mid_lon])
        self.convoy_weight = np.array(
            [
                self.segments[i].exposure * self.segments[i].length_km / 100.0
                for i in self.convoy_segments
            ]
        )
        self.target_in_baghdad = np.zeros(self.n_targets, dtype=bool)
        baghdad_kinds = {"embassy", "airport"}
        self.target_in_baghdad[:n_site_targets] = np.isin(
            self.kind[self.us_sites], list(baghdad_kinds)
        )
        #: the US embassy (site indices), and its column in the state's site arrays
        self.embassy_sites = np.flatnonzero((self.kind == "embassy") & (self.side == "us"))
        self.embassy_columns = self.us_column[self.embassy_sites]
        supply_sites = {seg.a for seg in self.segments if seg.kind == "iran_supply"} | {
            seg.b for seg in self.segments if seg.kind == "iran_supply"
        }
        #: militia depots and strongholds on the land bridge: what Israel strikes
        self.interdiction_sites = np.array(
            sorted(s for s in supply_sites if self.side[s] == "militia"), dtype=np.int64
        )

    # --- militias ------------------------------------------------------------------

    def base_matrix(self, militias: list[MilitiaConfig]) -> np.ndarray:
        """(M, S) share of each militia's stock held at each site (rows sum to 1)."""
        share = np.zeros((len(militias), len(self.site_names)))
        for m, militia in enumerate(militias):
            for name in militia.bases:
                share[m, self.site_index[name]] += 1.0 / len(militia.bases)
        return share

    def militia_target_distance_km(self, militias: list[MilitiaConfig]) -> np.ndarray:
        """(M, T) distance from each militia's nearest base to each target."""
        out = np.empty((len(militias), self.n_targets))
        for m, militia in enumerate(militias):
            idx = [self.site_index[name] for name in militia.bases]
            d = haversine_km(
                self.lat[idx][:, None],
                self.lon[idx][:, None],
                self.target_lat[None],
                self.target_lon[None],
            )
            out[m] = d.min(axis=0)
        return out

    # --- space ---------------------------------------------------------------------

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(columns, rows) of the lat/lon grid: x is longitude, y is latitude."""
        c = self.config
        return (
            math.ceil((c.lon_max - c.lon_min) / c.cell_size_deg),
            math.ceil((c.lat_max - c.lat_min) / c.cell_size_deg),
        )

    def cell_of(self, site: int) -> tuple[int, int]:
        """Grid coordinate (x, y) of a site."""
        c = self.config
        nx_, ny = self.grid_shape
        x = min(int((self.lon[site] - c.lon_min) / c.cell_size_deg), nx_ - 1)
        y = min(int((self.lat[site] - c.lat_min) / c.cell_size_deg), ny - 1)
        return x, y

    def graph(self) -> nx.Graph:
        """The route network: sites as nodes, segments as edges with length and kind (the
        Mesa model's; networkx is imported here, as a run of the ensemble needs no graph)."""
        import networkx as nx

        g = nx.Graph()
        for i, name in enumerate(self.site_names):
            g.add_node(name, index=i, lat=float(self.lat[i]), lon=float(self.lon[i]))
        for seg in self.segments:
            g.add_edge(
                self.site_names[seg.a],
                self.site_names[seg.b],
                route=seg.route,
                kind=seg.kind,
                length_km=seg.length_km,
            )
        return g
