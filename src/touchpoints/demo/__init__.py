"""A ready-to-explore demo workspace: a fictional airline with a year and a half of data."""

from touchpoints.demo.generator import DemoSpec, DemoSummary, build_demo, demo_exists

__all__ = ["DemoSpec", "DemoSummary", "build_demo", "demo_exists"]
