"""pytorch/examples' GCN and GAT data pipelines and models (sparse adjacency built from an edge list, normalised,
two graph layers trained), run the same way on ember and PyTorch from the same initial weights."""
import numpy as np
import torch

import ember


def load_graph(lib, rng):
    """The examples' load_cora on a small random graph: row-normalised features and D^-1/2 (A + I) D^-1/2."""
    V, E, F = 40, 120, 12
    content = (rng.random((V, F)) < 0.3).astype(np.int32)
    edges = rng.integers(0, V, (E, 2)).astype(np.int32)
    features = lib.FloatTensor(content)
    scale_vector = lib.sum(features, dim=1)
    scale_vector = 1 / scale_vector
    scale_vector[scale_vector == float('inf')] = 0
    scale_vector = lib.diag(scale_vector).to_sparse()
    features = scale_vector @ features
    adj_mat = lib.sparse_coo_tensor(edges.T, lib.ones(E), (V, V), dtype=lib.int64)
    adj_mat = lib.eye(V) + adj_mat
    degree_mat = lib.sum(adj_mat, dim=1)
    degree_mat = lib.sqrt(1 / degree_mat)
    degree_mat[degree_mat == float('inf')] = 0
    degree_mat = lib.diag(degree_mat).to_sparse()
    adj_mat = degree_mat @ adj_mat @ degree_mat
    labels = lib.LongTensor(rng.integers(0, 3, V))
    return features.to_sparse(), labels, adj_mat.to_sparse()


def gcn_model(lib, sizes):
    nn, F = lib.nn, lib.nn.functional

    class GraphConv(nn.Module):
        def __init__(self, input_dim, output_dim):
            super().__init__()
            self.kernel = nn.Parameter(lib.Tensor(input_dim, output_dim))
            self.bias = nn.Parameter(lib.Tensor(output_dim))

        def forward(self, input_tensor, adj_mat):
            support = lib.mm(input_tensor, self.kernel)
            output = lib.spmm(adj_mat, support)
            return output + self.bias

    class GCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.gc1 = GraphConv(sizes[0], sizes[1])
            self.gc2 = GraphConv(sizes[1], sizes[2])

        def forward(self, x, adj):
            x = F.relu(self.gc1(x, adj))
            return F.log_softmax(self.gc2(x, adj), dim=1)

    return GCN()


def _copy_params(src, dst):
    with torch.no_grad():
        for (_, a), (_, b) in zip(src.named_parameters(), dst.named_parameters()):
            b.copy_(torch.tensor(a.detach().numpy()))


def test_gcn_example_trains_as_pytorch():
    data = {lib: load_graph(lib, np.random.default_rng(0)) for lib in (ember, torch)}
    fe, ft = data[ember][0], data[torch][0]
    np.testing.assert_allclose(fe.to_dense().numpy(), ft.to_dense().numpy(), rtol=1e-6)
    np.testing.assert_allclose(data[ember][2].to_dense().numpy(), data[torch][2].to_dense().numpy(), rtol=1e-6)
    models = {lib: gcn_model(lib, (12, 8, 3)) for lib in (ember, torch)}
    for p in models[ember].parameters():
        ember.nn.init.normal_(p, std=0.3)
    _copy_params(models[ember], models[torch])
    losses = {}
    for lib, model in models.items():
        features, labels, adj = data[lib]
        opt = lib.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        crit = lib.nn.NLLLoss()
        losses[lib] = []
        for _ in range(5):
            opt.zero_grad()
            loss = crit(model(features, adj)[:30], labels[:30])
            loss.backward()
            opt.step()
            losses[lib].append(loss.item())
    np.testing.assert_allclose(losses[ember], losses[torch], rtol=1e-5)
    for (_, a), (_, b) in zip(models[ember].named_parameters(), models[torch].named_parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_gat_adjacency_pattern():
    """GAT's masking of attention scores by a dense adjacency built from a sparse edge list."""
    results = []
    for lib in (ember, torch):
        _, _, adj = load_graph(lib, np.random.default_rng(1))
        dense_adj = adj.to_dense()
        e = lib.ones(2, 40, 40)
        masked = lib.where(dense_adj > 0, e, -9e16 * lib.ones_like(e))
        results.append(lib.nn.functional.softmax(masked, dim=-1).numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
