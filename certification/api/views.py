from certification.api import bp  # noqa: F401
