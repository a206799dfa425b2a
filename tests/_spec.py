"""The SPEC claim ids errorflow registers, in report order (the contract of ``verify --json``)."""

SPEC_IDS = (
    ["A1", "A2", "A3"]
    + [f"B{i}" for i in range(1, 11)]
    + ["C1", "C2"]
    + [f"L{i}" for i in range(1, 13)]
    + [f"S{i}" for i in range(1, 11)]
)
