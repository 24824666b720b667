"""``ember.distributed.elastic``: what programs import from ``torch.distributed.elastic``."""
