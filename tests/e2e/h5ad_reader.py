"""Reads an h5ad file for the tests: with anndata where the platform has it
(Debian 12's python3-anndata), else with h5py by anndata's on-disk layout
(Debian 13 ships no anndata): encoding attributes checked on every element
read, dataframes by their _index and column-order, dicts of arrays.

read(path) returns (reader, X, obs_names, obs {column: array}, obsm {key: array}, uns {key: value})."""
import h5py
import numpy as np

try:
    import anndata
except ImportError:
    anndata = None


def _attr(node, name):
    value = node.attrs[name]
    return value.decode() if isinstance(value, bytes) else value


def _expect(node, kind, version):
    got = (_attr(node, "encoding-type"), _attr(node, "encoding-version"))
    assert got == (kind, version), f"{node.name}: encoding {got}, expected {(kind, version)}"


def _array(node):
    if _attr(node, "encoding-type") == "string":
        _expect(node, "string", "0.2.0")
        return node.asstr()[()]
    _expect(node, "array", "0.2.0")
    return node[()]


def _strings(node):
    _expect(node, "string-array", "0.2.0")
    return list(node.asstr()[()])


def _by_spec(path):
    with h5py.File(path, "r") as f:
        _expect(f, "anndata", "0.1.0")
        obs = f["obs"]
        _expect(obs, "dataframe", "0.2.0")
        obs_names = _strings(obs[_attr(obs, "_index")])
        columns = {c.decode() if isinstance(c, bytes) else c: _array(obs[c]) for c in obs.attrs["column-order"]}
        var = f["var"]
        _expect(var, "dataframe", "0.2.0")
        n_vars = len(_strings(var[_attr(var, "_index")]))
        groups = {}
        for name in ("obsm", "uns", "layers", "obsp", "varm", "varp"):
            _expect(f[name], "dict", "0.1.0")
            groups[name] = {k: _array(v) for k, v in f[name].items()}
        X = _array(f["X"]) if "X" in f else None
        assert X is None or X.shape == (len(obs_names), n_vars), (X.shape, len(obs_names), n_vars)
        for key, value in groups["obsm"].items():
            assert value.shape[0] == len(obs_names), (key, value.shape)
        return "h5py (anndata's layout 0.1.0)", X, obs_names, columns, groups["obsm"], groups["uns"]


def read(path):
    if anndata is None:
        return _by_spec(path)
    a = anndata.read_h5ad(path)
    obs = {c: a.obs[c].to_numpy() for c in a.obs.columns}
    return f"anndata {anndata.__version__}", a.X, list(a.obs_names), obs, dict(a.obsm), dict(a.uns)
