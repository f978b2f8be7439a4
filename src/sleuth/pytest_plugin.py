"""pytest plugin hook module: `pytest --sleuth`."""
