"""The paper's long-lag experiments run with errorflow's generated kernels (issue: the adding
problem, exps. 2a and 2c), with conventional-RNN baselines; ``errorflow experiment``."""

from .tasks import NAMES, PaperFigure, Task, task

__all__ = ["NAMES", "PaperFigure", "Task", "task"]
