"""The README's promises: its first lines are the two set-up commands, and its example runs."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_commands():
    text = README.read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1).splitlines()
    assert block[0].startswith("pip install -e . && errorflow report")
    assert block[1].startswith("pip install -e '.[test]' && pytest")
    assert text.index("```bash") < 20


def test_readme_python_example_runs():
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert namespace["S"].shape == (4, 4)
    assert namespace["logabs"].max() < -700  # far below float64's smallest normal


def test_readme_lstm_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = next(b for b in blocks if "lstm" in b)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert namespace["layout"].n_weights == 93
    assert namespace["run"].y.shape == (100, 1)
    assert set(namespace["grads"]) == set(namespace["params"])
