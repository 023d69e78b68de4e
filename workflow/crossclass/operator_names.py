"""The names of the network operators: one registry for the library, the CLI and the config.

Whole network (theta = all parameters):
  hess, G, E                  Hess, G (eq. 5.1), E = Hess - G (eq. 5.2)
  hess-minus-G, hess-minus-E  Hess - G (= E), Hess - E (= G), subtraction
  G_class, G_cross, G_within, G_same   the parts of G (G_same = G_{c=c'}, the cross-class
                              pairs with c = c')
  G-minus-<part>              subtraction knockout G - G_<part> (any part)
  G-project-<part>            projection knockout (class, cross, same)
Layer <name> (an nn.Linear's weight block, row-major vec of W[out, in]):
  layer:<name>:<kind>         kind in LAYER: G and its parts, KFAC, CFAC, the feature moments
                              H, H_class, H_within and the error moments Delta, Delta_class,
                              Delta_cross, Delta_within, Delta_same

The config schema's `operator` pattern (PATTERN) and the `operator-spectrum` help (GRAMMAR)
are generated from these tuples. No torch: the workflow checks names while planning.
"""

from __future__ import annotations

from crossclass.errors import UserError

PARTS = ("class", "cross", "within", "same")
PROJECTABLE = ("class", "cross", "same")
NETWORK = ("hess", "G", "E", "hess-minus-G", "hess-minus-E",
           *(f"G_{p}" for p in PARTS), *(f"G-minus-{p}" for p in PARTS),
           *(f"G-project-{p}" for p in PROJECTABLE))
LAYER = ("G", *(f"G_{p}" for p in PARTS), "KFAC", "CFAC", "H", "H_class", "H_within",
         "Delta", "Delta_class", "Delta_cross", "Delta_within", "Delta_same")
LAYER_PREFIX = "layer:"

GRAMMAR = (f"{', '.join(NETWORK)}, or {LAYER_PREFIX}<layer>:<kind> with kind in "
           f"{', '.join(LAYER)}")
PATTERN = (f"^({'|'.join(NETWORK)}|{LAYER_PREFIX}[^:/]+:({'|'.join(LAYER)}))$")


def parse_operator(name: str) -> tuple[str | None, str]:
    """'G_class' -> (None, 'G_class'); 'layer:fc.1:KFAC' -> ('fc.1', 'KFAC'); else UserError."""
    if name.startswith(LAYER_PREFIX):
        layer, _, kind = name[len(LAYER_PREFIX):].rpartition(":")
        if layer and "/" not in layer and kind in LAYER:
            return layer, kind
        raise UserError(f"bad layer operator {name!r}; expected {LAYER_PREFIX}<layer>:<kind> "
                        f"with kind in {', '.join(LAYER)}")
    if name in NETWORK:
        return None, name
    raise UserError(f"unknown operator {name!r}; choose {GRAMMAR}")


def needs_means(name: str) -> bool:
    """Whether operator `name` uses the extended-gradient means (a G part or knockout)."""
    return parse_operator(name)[1].startswith(("G_", "G-"))

