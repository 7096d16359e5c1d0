"""The bundled demo company: a realistic, generated, deterministic sample to route."""

from __future__ import annotations

from leadroute.demo.generate import EDGE_CASES, DemoFiles, write_demo

__all__ = ["EDGE_CASES", "DemoFiles", "write_demo"]
