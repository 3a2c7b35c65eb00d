"""Where element sets come from: files, directories, URLs, standard input,
CelesTrak and Space-Track; and a user's site and zone files.  This is the
I/O ring around the pure core."""
from .files import load_sites, read_zones
from .loading import load_catalog, read_source_texts
from .remote import (CELESTRAK_GP_URL, SPACETRACK_URL, Cache, fetch_celestrak,
                     fetch_spacetrack, fetch_url)

__all__ = ["load_catalog", "read_source_texts", "load_sites", "read_zones", "Cache", "fetch_url",
           "fetch_celestrak", "fetch_spacetrack", "CELESTRAK_GP_URL", "SPACETRACK_URL"]
