import glob
import os

import pytest
import yaml

from kubectl_dra.snapshot import Snapshot

DRIVERS = os.path.join(os.path.dirname(__file__), "..", "fixtures", "drivers")


@pytest.fixture(scope="session")
def driver_snapshot():
    objs = [d for f in sorted(glob.glob(os.path.join(DRIVERS, "*.yaml"))) for d in yaml.safe_load_all(open(f)) if d]
    return Snapshot.from_objects(objs)


@pytest.fixture(scope="session")
def drivers_dir():
    return DRIVERS
