"""The implementation of ``ember.nn.functional``, one private module per family.

``ember/nn/functional.py`` re-exports the ``__all__`` of each module here.  To add a
family, create ``_functional/<family>.py`` with an ``__all__`` and add one import line
to ``functional.py``.
"""
