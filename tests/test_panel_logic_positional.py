"""The Positional panel's logic without widgets: the waves are the model's positional table,
continued by the engine's formula past the context length of a sinusoidal model only."""
import numpy as np
from helpers import tiny_model

from engine.model.decoder import sinusoidal_table
from gui.panels.positional.waves import DEFAULT_DIMS, dim_kind, is_learned, wave_table


def test_sinusoidal_waves_continue_past_the_context():
    model = tiny_model(10)  # context 16, d_model 16
    table = model.embed.position_table().numpy()
    assert np.array_equal(wave_table(model, 16), table)
    assert np.array_equal(wave_table(model, 5), table[:5])
    longer = wave_table(model, 40)
    assert longer.shape == (40, 16)
    assert np.allclose(longer[:16], table, atol=1e-6)
    assert np.allclose(longer, sinusoidal_table(40, 16).numpy())
    assert np.isclose(longer[30, 5], np.cos(30 / 10000 ** (4 / 16)), atol=1e-6)


def test_learned_waves_end_at_the_context():
    model = tiny_model(10, positional="learned")
    assert is_learned(model) and not is_learned(tiny_model(10)) and not is_learned(None)
    table = model.embed.position_table().detach().numpy()
    assert np.array_equal(wave_table(model, 16), table)
    assert wave_table(model, 40).shape == (16, 16)  # a learned table has no row 16


def test_dimension_kinds():
    assert [dim_kind(j) for j in range(5)] == [("sin", 0), ("cos", 0), ("sin", 1), ("cos", 1),
                                                ("sin", 2)]
    assert DEFAULT_DIMS == (0, 1, 2, 3, 8, 9)
