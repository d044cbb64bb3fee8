"""ember.utils.model_zoo: the older name of the hub's checkpoint download (torch.utils.model_zoo)."""

from ember.hub import load_state_dict_from_url as load_url

__all__ = ["load_url"]
