"""The command line: parse arguments, call the library, map outcomes to exit codes.

Exit codes, in this one place: 0 success (verify: equivalent; check: all agree), 1 a negative
answer (verify: not equivalent; check: a disagreement), 2 bad input.  Errors are one line on
stderr.  The library is imported inside each command so that ``--help`` stays fast.
"""

import argparse
import json
import re
import sys

EXIT_OK, EXIT_NEGATIVE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line and exit code 2."""

    def error(self, message):
        missing = re.match(r"argument (\S+?)(/\S+)?: expected one argument$", message)
        if missing:
            message = f"{missing.group(1)} needs a value"
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _options(parser):
    """{option string: whether it takes a value} for ``parser`` and its subcommands."""
    out = {}
    for action in parser._actions:
        out.update({option: action.nargs != 0 for option in action.option_strings})
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out.update(_options(sub))
    return out


def _values_joined(argv, parser):
    """``--sizes -1,2`` as ``--sizes=-1,2`` (and ``-o -x.py`` as ``-o-x.py``): argparse takes a value that
    starts with '-' for an option and says 'expected one argument'; joined, the value reaches its own
    check, which says what is wrong with it.  A value that is itself an option is left alone."""
    options = _options(parser)
    out, i = [], 0
    while i < len(argv):
        arg, value = argv[i], argv[i + 1] if i + 1 < len(argv) else None
        if options.get(arg) and value is not None and value.startswith("-") and value.split("=")[0] not in options:
            out.append(f"{arg}={value}" if arg.startswith("--") else arg + value)
            i += 2
        else:
            out.append(arg)
            i += 1
    return out


class _UsageError(Exception):
    pass


def _add_network(p):
    g = p.add_argument_group("network (default: the lectures' 1,1,1,1 sigmoid network, quadratic cost)")
    g.add_argument("--sizes", help="layer widths from input to output, e.g. 784,256,10")
    g.add_argument("--activation", help="one activation for every layer, or one per weight layer "
                                        "(sigmoid, tanh, relu, identity, softplus)")
    g.add_argument("--l2", metavar="LAMBDA", help="L2 regularisation (weight decay): C = C0 + λ/(2n) Σ w²")
    g.add_argument("--l1", metavar="LAMBDA", help="L1 regularisation: C = C0 + (λ/n) Σ |w|")
    g.add_argument("--cost", help="quadratic (default, no 1/2), half_quadratic or cross_entropy")


def _network(args):
    from .spec import Network

    return Network.parse(args.sizes, args.activation, args.cost, l2=args.l2, l1=args.l1)


def _build_parser():
    parser = _Parser(prog="symbackprop", description="Backpropagation derived symbolically with SymPy: "
                     "study notes, verdicts on hand-written formulas, and gradient code.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    p = sub.add_parser("derive", help="derive backpropagation for a network and print it")
    _add_network(p)
    p.add_argument("--format", choices=["text", "latex", "json"], default="text")

    p = sub.add_parser("notes", help="write study notes (.tex, .md and with --pdf a .pdf)")
    _add_network(p)
    p.add_argument("-o", "--output", default="output", metavar="DIR", help="output folder (default: output/)")
    p.add_argument("--pdf", action="store_true", help="also compile the PDF with pdflatex")

    p = sub.add_parser("verify", help="check a hand-written LaTeX formula against the derivation")
    _add_network(p)
    p.add_argument("formula", nargs="?", help=r"e.g. '\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)}-y)'")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--batch", metavar="FILE.jsonl", help="grade a class: one JSON object per line, or a .csv file "
                                                           "with columns id,formula[,sizes,activation,cost,question]")
    p.add_argument("-o", "--output", metavar="RESULTS.jsonl", help="with --batch: write results here (.csv for CSV)")
    p.add_argument("--question", metavar="LHS", help="the left-hand side that was asked for: an answer to another "
                                                     "derivative is marked as such (batch: a question per line)")
    p.add_argument("--hint", action="store_true", help="say what is wrong without showing the expected answer")
    p.add_argument("--forbid-partials", action="store_true",
                   help="a right-hand side that still holds a derivative is not an answer")
    p.add_argument("--summary", action="store_true", help="with --batch: count the answers making each mistake")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="give up on a formula after this long (default 2 s, or $SYMBACKPROP_TIME_LIMIT)")

    p = sub.add_parser("codegen", help="write a standalone NumPy module computing the gradients")
    _add_network(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE.py")

    p = sub.add_parser("check", help="compare derived, sympy.diff, numerical and finite-difference gradients")
    _add_network(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=3, help="number of random examples (default 3)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("serve", help="run the web app (student, notes, code and grading pages, JSON API)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes for verifying and building (default: one per core)")
    return parser


def cmd_derive(args):
    from .derivation import derive

    derivation = derive(_network(args))
    if args.format == "json":
        print(json.dumps(derivation.to_dict(), indent=2, ensure_ascii=False))
    elif args.format == "latex":
        from .render import derivation_latex

        print(derivation_latex(derivation))
    else:
        from .render import derivation_text

        print(derivation_text(derivation))
    return EXIT_OK


def cmd_notes(args):
    from .render import write_notes

    _output_named(args, "folder for the notes", "output/")
    networks = None if args.sizes is None and args.activation is None and args.cost is None else [_network(args)]
    for path in write_notes(networks, args.output, pdf=args.pdf):
        print(path)
    return EXIT_OK


def cmd_verify(args):
    from .errors import SymbackpropError
    from . import verifier as verify

    time_limit = verify.timelimit.default() if args.time_limit is None else verify.timelimit.checked(args.time_limit)
    if args.batch:
        if args.formula:
            raise SymbackpropError("give either a FORMULA or --batch FILE.jsonl, not both")
        options = verify.batch.Options(hint=args.hint, forbid_partials=args.forbid_partials,
                                       time_limit=time_limit)
        summary = verify.grade_file(args.batch, args.output, default_network=_network(args), options=options)
        report = sys.stderr if args.output is None else sys.stdout
        print(summary.text(), file=report)
        if args.summary:
            print(summary.mistakes_text(), file=report)
        return EXIT_OK
    if args.output or args.summary:
        raise SymbackpropError(f"{'-o' if args.output else '--summary'} is for --batch; a single verdict is printed")
    if args.formula is None:
        raise SymbackpropError("verify needs a FORMULA in quotes, or --batch FILE.jsonl")
    result = verify.verify(args.formula, _network(args), time_limit, question=args.question,
                           forbid_partials=args.forbid_partials, hint=args.hint)
    print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if args.json else result.text())
    return EXIT_OK if result.equivalent else EXIT_NEGATIVE


def _output_named(args, what, example):
    """-o must name something: an empty -o would quietly mean the current folder."""
    from .errors import SymbackpropError

    if not args.output.strip():
        raise SymbackpropError(f"-o is empty: give the {what}, e.g. -o {example}")


def cmd_codegen(args):
    from .codegen import write_module

    _output_named(args, "module file to write", "output/grads.py")
    path = write_module(_network(args), args.output)
    print(path)
    return EXIT_OK


def cmd_check(args):
    from .gradcheck import check
    from .errors import SymbackpropError

    if not 1 <= args.batch <= 1000:
        raise SymbackpropError(f"--batch {args.batch}: use between 1 and 1000 examples")
    if args.seed < 0:
        raise SymbackpropError(f"--seed {args.seed}: the seed is a whole number from 0 up, e.g. --seed 0")
    report = check(_network(args), batch=args.batch, seed=args.seed)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return EXIT_OK if report.agree else EXIT_NEGATIVE


def cmd_serve(args):
    from .errors import SymbackpropError

    if not 0 <= args.port <= 65535:
        raise SymbackpropError(f"--port {args.port}: use a port between 1 and 65535 (0 picks a free one)")
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise SymbackpropError(f"--workers {args.workers}: use between 1 and 64 worker processes")
    from .web import serve

    serve(args.host, args.port, args.workers)
    return EXIT_OK


COMMANDS = {"derive": cmd_derive, "notes": cmd_notes, "verify": cmd_verify,
            "codegen": cmd_codegen, "check": cmd_check, "serve": cmd_serve}


def main(argv=None):
    parser = _build_parser()
    try:
        args = parser.parse_args(_values_joined(sys.argv[1:] if argv is None else list(argv), parser))
        if args.version:
            from . import __version__

            print(__version__)
            return EXIT_OK
        if args.command is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        return COMMANDS[args.command](args)
    except _UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("symbackprop: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # noqa: BLE001 - the one place errors become exit codes
        from .errors import FormulaError, SymbackpropError

        if isinstance(e, SymbackpropError):
            print(f"symbackprop: error: {e}", file=sys.stderr)
            if isinstance(e, FormulaError) and e.context() and sys.stderr.isatty():
                print(e.context(), file=sys.stderr)  # the caret, for people at a terminal
            return e.exit_code
        print(f"symbackprop: internal error ({type(e).__name__}: {e}); please report it", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
