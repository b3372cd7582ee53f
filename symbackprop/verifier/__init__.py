"""verify: read a hand-written LaTeX formula, bind it to the network, compare, diagnose."""
