"""The policy's fit.learned section: the model file is resolved, hashed into the digest, weighted."""

from __future__ import annotations

import pytest
from tests.conftest import BASE_POLICY

from leadroute.errors import PolicyError
from leadroute.policy import load_policy

LEARNED = "fit: {learned: {model: model.json, weight: 8, min_evidence: 30}}\n"


def write(tmp_path, section: str = LEARNED, model: str | None = '{"v": 1}'):
    (tmp_path / "leadroute.yaml").write_text(BASE_POLICY + section, encoding="utf-8")
    if model is not None:
        (tmp_path / "model.json").write_text(model, encoding="utf-8")
    return tmp_path / "leadroute.yaml"


def test_the_model_is_resolved_next_to_the_policy_and_weighted(tmp_path):
    """fit.learned.model is found beside the policy file; its weight becomes fit.weights.learned."""
    policy = load_policy(write(tmp_path))
    learned = policy.fit.learned
    assert learned is not None and learned.path == str((tmp_path / "model.json").resolve())
    assert (learned.min_evidence, policy.fit.weights["learned"]) == (30, 8.0)
    assert len(learned.digest) == 64


def test_the_models_content_is_part_of_the_policy_digest(tmp_path):
    """Retraining the model (same policy text) changes the version tag decisions record."""
    before = load_policy(write(tmp_path)).version_tag
    after = load_policy(write(tmp_path, model='{"v": 2}')).version_tag
    assert before != after


def test_a_missing_model_is_one_line_naming_the_field(tmp_path):
    """A model file that does not exist is a PolicyError at fit.learned.model with the fix."""
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, model=None))
    message = str(caught.value)
    assert "fit.learned.model: file not found" in message and "leadroute fit train" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ("fit: {weights: {learned: 2}, learned: {model: model.json}}\n", "fit.weights.learned"),
        ("fit: {learned: {model: model.json, min_evidence: -1}}\n", "fit.learned.min_evidence"),
    ],
)
def test_conflicting_or_negative_settings_name_their_path(tmp_path, section, path):
    """A second weight for the learned fit, or a negative minimum evidence, is a path error."""
    with pytest.raises(PolicyError, match=f"{path}: "):
        load_policy(write(tmp_path, section))
