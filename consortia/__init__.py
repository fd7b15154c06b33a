"""consortia: innovation-consortium (创新联合体) registries as graphs, checked against policy texts."""

__version__ = "0.1.0"
