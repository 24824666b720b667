"""Distances: pairwise_distance, cosine_similarity, pdist (the ``torch.X`` functions of ``ops/distances.py``)."""
from ...ops.distances import pairwise_distance, cosine_similarity, pdist

__all__ = ["pairwise_distance", "cosine_similarity", "pdist"]
