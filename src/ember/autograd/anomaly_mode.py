"""The anomaly-detection switches under their PyTorch module path
(torch.autograd.anomaly_mode); they are defined in ember.autograd.functional."""

from ember.autograd.functional import detect_anomaly, set_detect_anomaly

__all__ = ["detect_anomaly", "set_detect_anomaly"]
