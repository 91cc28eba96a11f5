"""The offline engine: the real program under Pulumi mocks, every registration captured."""

from silhouette_infra.synth.engine.mocks import MOCK_ACCOUNT_ID, CapturedResource
from silhouette_infra.synth.engine.run import SynthResult, known_stacks, run_stack, stack_config

__all__ = ["MOCK_ACCOUNT_ID", "CapturedResource", "SynthResult", "known_stacks", "run_stack", "stack_config"]
