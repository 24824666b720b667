"""``ember.distributed.elastic.multiprocessing``: the ``errors`` module programs use for ``@record``."""
