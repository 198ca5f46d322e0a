"""Command line: ``negclass classify | score | report | train | evaluate | playbook | models | suggest``.

A thin layer over the library: parse arguments, call it, print. User mistakes end with a
one-line message and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from .. import __version__
from ..errors import EmptyTextError, NegclassError

EXIT_USER_ERROR = 2
SHOWN_TACTICS = 4  # the rest are one 'negclass playbook REASON' away


def _add_input_options(p: argparse.ArgumentParser) -> None:
    """How to read the input file: its format and, for tables, which columns hold what."""
    p.add_argument("--format", choices=["mbox", "maildir", "emldir", "eml", "msg", "txt", "csv", "jsonl", "parquet"],
                   help="force the input format (default: detected)")
    p.add_argument("--text-column", default="text", metavar="COLUMN",
                   help="tables: the column holding the messages (default: text)")
    p.add_argument("--id-column", default=None, metavar="COLUMN",
                   help="tables: the column holding message ids (default: the first of "
                        "id, message_id, msg_id, Message-ID present; else FILE#ROW)")


def _add_model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, default=None,
                   help="model directory (default: $NEGCLASS_MODEL or the shipped model)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="negclass", description=(
        "Why won't they negotiate? Classify what a counterparty wrote and get the playbook."))
    parser.add_argument("--version", action="version", version=f"negclass {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("classify", help="classify one text (argument, --file, or standard input)")
    p.add_argument("text", nargs="?", help="the text; '-' or absent reads standard input")
    p.add_argument("--file", type=Path,
                   help="read the text from a .txt or .eml file (undeclared charsets are detected, as on standard input)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_model_option(p)

    p = sub.add_parser("score", help="score a mailbox export or table into a results file",
                       description="Score mailbox exports (mbox, maildir, folders of .eml/.msg, .msg) or "
                                   "tables (CSV, JSONL, Parquet with a text column): one row per message.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="mbox file, maildir, folder of .eml/.msg/.mbox files, .eml, .msg, .txt, or a CSV/JSONL/Parquet table")
    p.add_argument("--out", type=Path, required=True,
                   help="output file: .csv, .jsonl or .parquet; '-' writes JSON lines to standard output")
    p.add_argument("--include-text", action="store_true",
                   help="add a text column with the whole text that was classified")
    _add_input_options(p)
    p.add_argument("--me", action="append", default=[], metavar="ADDRESS",
                   help="our own address (repeatable): messages from it are skipped, not classified")
    p.add_argument("--me-domain", action="append", default=[], metavar="DOMAIN",
                   help="our own domain (repeatable): messages from it are skipped, not classified")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes (default: the number of CPU cores; the output is the same for any number)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run with the same inputs and --out, without duplicate rows")
    p.add_argument("--overwrite", action="store_true",
                   help="start over, discarding the rows of an interrupted run for the same --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--engine", choices=["local", "spark"], default="local",
                   help="spark: read and score on Apache Spark, write a Parquet folder (pip install 'negclass[spark]')")
    p.add_argument("--master", default="local[*]", help="Spark master URL for --engine spark (default local[*])")
    _add_model_option(p)

    p = sub.add_parser("train", help="train a model on the corpus plus your labelled or corrected files",
                       description="Train on the corpus of the source checkout (data/corpus) plus your files "
                                   "(labelled CSV/JSONL/Parquet, or "
                                   "scored files with correct_reason/confirmed columns), compare with the current "
                                   "default on the fixed held-out rows, and make it the default if it is not worse.")
    p.add_argument("--data", type=Path, action="append", default=[], metavar="FILE",
                   help="your labelled or corrected scored file (repeatable)")
    p.add_argument("--no-base", action="store_true",
                   help="leave the corpus (data/corpus of the source checkout) out")
    p.add_argument("--name", help="name of the new model (default: the date and time)")
    p.add_argument("--force", action="store_true", help="make the new model the default even if it is worse")
    p.add_argument("--out", type=Path, default=None,
                   help="write a standalone model directory here instead of registering it")
    p.add_argument("--split", type=Path, default=None,
                   help="held-out split file (default: data/split.csv of the source checkout)")
    p.add_argument("--report", type=Path, action="append", default=[],
                   help="also measure on this labelled file (never trained on; repeatable)")
    p.add_argument("--seed", type=int, default=0, help="random seed for the search and the model (default 0)")
    p.add_argument("--quick", action="store_true",
                   help="search one setting with 2 folds instead of the full grid (small data, experiments)")

    p = sub.add_parser("models", help="list models; 'use NAME' makes one the default; 'rollback' goes back",
                       description="List the shipped and your trained models, switch the default, or go back "
                                   "to the previous default.")
    p.add_argument("action", nargs="?", choices=["list", "use", "rollback"], default="list",
                   help="list (default), use NAME, or rollback")
    p.add_argument("name", nargs="?", help="model name for 'use'")
    p.add_argument("--json", action="store_true", help="print JSON (for 'list')")

    p = sub.add_parser("suggest", help="pick the messages worth labelling first (the model is least sure of)",
                       description="Rank messages by the model's uncertainty and keep the top N. INPUT is a scored "
                                   "file (its probabilities are used) or anything 'score' reads.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="a file written by 'negclass score', or any input 'score' reads")
    p.add_argument("-n", type=int, default=50, help="how many to pick (default 50)")
    p.add_argument("--by", choices=["margin", "entropy", "confidence"], default="margin",
                   help="margin: top two reasons closest (default); entropy: probability most spread; "
                        "confidence: lowest top probability")
    p.add_argument("--out", type=Path, help="write .csv, .jsonl or .parquet ready for labelling (default: print)")
    _add_input_options(p)
    _add_model_option(p)

    p = sub.add_parser("report", help="turn a scored file into one HTML page to review what was flagged",
                       description="Write one self-contained HTML page (opens from disk, no network) from a file "
                                   "written by 'negclass score': the flagged messages with their evidence, each "
                                   "counterparty's stance over time, and the threads. Score with --include-text "
                                   "to read whole messages in it.")
    p.add_argument("scored", type=Path, metavar="SCORED", help="a scored .csv, .jsonl or .parquet file")
    p.add_argument("--out", type=Path, required=True, help="the page to write (.html)")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="messages not flagged kept readable as a sample (default 1000)")

    p = sub.add_parser("evaluate", help="measure a model on a labelled file")
    p.add_argument("--data", type=Path, required=True, metavar="FILE",
                   help="labelled CSV, JSONL or Parquet with text and reason columns")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    _add_model_option(p)

    p = sub.add_parser("playbook", help="print the playbook for one reason or all")
    p.add_argument("reason", nargs="?", help="one reason (default: all of them)")

    p = sub.add_parser("serve", help="start the local web page (paste a message, score a file, correct labels)",
                       description="Start a local web server with the page and its JSON API (/api/classify, "
                                   "/api/score; schema at /openapi.json). Needs: pip install 'negclass[web]'.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--max-upload-mb", type=float, default=50, help="largest file the page accepts (default 50)")
    p.add_argument("--open", action="store_true", help="open the page in the web browser")
    _add_model_option(p)
    return parser


def _read_text(args) -> str:
    from ..mail.mime import BINARY, looks_binary, parse_email, read_text_bytes

    if args.file is not None:
        if args.file.is_dir():
            raise NegclassError(f"{args.file}: is a directory; give one .txt or .eml file "
                                "('negclass score' reads folders)")
        if not args.file.is_file():
            raise NegclassError(f"{args.file}: no such file")
        try:
            raw = args.file.read_bytes()
        except OSError as exc:
            raise NegclassError(f"{args.file}: cannot read: {exc.strerror}") from None
        if args.file.suffix.lower() == ".eml":
            msg = parse_email(raw, str(args.file), str(args.file))
            if msg.error:
                raise NegclassError(f"{args.file}: {msg.error}")
            return msg.text or ""
        where = str(args.file)
    elif args.text is None or args.text == "-":
        if sys.stdin.isatty():
            print("Paste the text, then press Ctrl-D:", file=sys.stderr)
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
        where = "standard input"
    else:
        if looks_binary(args.text):
            raise NegclassError(f"the text: {BINARY}")
        return args.text
    text, error = read_text_bytes(raw)
    if error:
        raise NegclassError(f"{where}: {error}")
    return text


def _print_classification(result) -> None:
    from ..model import taxonomy

    wrap = textwrap.TextWrapper(width=88, initial_indent="    ", subsequent_indent="    ")
    print(f"Reason:      {result.reason} — {taxonomy.reason_label(result.reason)}")
    print(f"Confidence:  {result.confidence:.0%}" + ("   (low confidence: read it yourself)" if result.low_confidence else ""))
    if result.signal:
        print(f"Signal:      {result.signal}")
    print("Probabilities: " + "  ".join(f"{r} {p:.2f}" for r, p in result.probabilities.items()))
    if result.evidence:
        print("Evidence:")
        for ev in result.evidence:
            where = f" [{ev.start}:{ev.end}]" if ev.start is not None else ""
            print(f'    "{ev.text}"{where}')
    if result.tactics:
        print("Tactics:")
        for t in result.tactics[:SHOWN_TACTICS]:
            print(f"  * {t.title}")
            print(wrap.fill(t.do))
            print(wrap.fill(f'Say: "{t.say}"'))
        more = len(result.tactics) - SHOWN_TACTICS
        if more > 0:
            print(f"  ({more} more: negclass playbook {result.reason})")


def cmd_classify(args) -> int:
    from ..model.predict import load_model

    text = _read_text(args)
    if not text.strip():
        raise EmptyTextError()
    result = load_model(args.model).classify(text)
    if args.json:
        d = result.to_dict()
        print(json.dumps({k: d[k] for k in ("reason", "signal", "confidence", "low_confidence",
                                               "probabilities", "evidence", "tactics")}, ensure_ascii=False, indent=2))
    else:
        _print_classification(result)
    return 0


def cmd_score(args) -> int:
    if args.engine == "spark":
        from .spark import cli_score
        return cli_score(args)
    from ..batch import progress
    from ..batch.output import StreamRows
    from ..batch.schema import columns
    from ..batch.score import Me, ScoreRun, default_jobs
    from ..mail import ingest
    from ..model import registry
    from ..model.predict import load_model

    if args.jobs is not None and args.jobs < 1:
        raise NegclassError("--jobs must be at least 1")
    if args.resume and args.overwrite:
        raise NegclassError("--resume and --overwrite contradict each other: choose one")
    jobs = args.jobs or default_jobs()
    inputs = ingest.check_inputs(args.inputs, args.format, args.text_column, args.id_column)
    if not args.quiet:
        for p, kind in inputs:
            if kind in {"csv", "jsonl", "parquet"}:
                used = ingest.pick_id_column(ingest.table_columns(p, kind), args.id_column)
                print(f"{p}: ids from column {used!r}" if used else
                      f"{p}: no id column (id, message_id, msg_id, Message-ID): ids are {p}#ROW; "
                      "name one with --id-column", file=sys.stderr)
    model_path = (args.model or registry.default_model_dir()).resolve()
    model = load_model(model_path)
    me = Me.of(args.me, args.me_domain)
    options = dict(model_path=model_path, fmt=args.format, text_column=args.text_column, id_column=args.id_column, me=me)
    to_stdout = str(args.out) == "-"
    if to_stdout and args.resume:
        raise NegclassError("--resume needs an output file, not --out -")
    if to_stdout:
        run = ScoreRun(args.inputs, StreamRows(sys.stdout, columns(include_text=args.include_text)), **options)
    else:
        run = ScoreRun.to_file(args.inputs, args.out, include_text=args.include_text, resume=args.resume,
                               overwrite=args.overwrite, inputs=inputs, **options)
    if run.done and not args.quiet:
        print(f"resuming after {run.done} rows already written", file=sys.stderr)
    show = not args.quiet and sys.stderr.isatty()
    expected = progress.count_messages(inputs) if show else None
    try:
        with progress.bar(expected, initial=run.done, enabled=show) as bar:
            for rows in run.batches(model=model, jobs=jobs):
                bar.update(len(rows))
    except KeyboardInterrupt:
        run.close()
        print(f"interrupted after {run.done} rows; run the same command with --resume to continue",
              file=sys.stderr)
        return 130
    finally:
        run.close()
    total = run.finish()
    summary = run.summary
    if not args.quiet:
        print(summary.text() + (f" ({total} rows in total with the resumed part)" if total != summary.rows else ""),
              file=sys.stderr)
        print(f"wrote {'standard output' if to_stdout else args.out}", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from ..training.evaluate import format_report
    from ..training.retrain import retrain, side_by_side
    from ..training.train import checkout

    def progress(message: str) -> None:
        print(message, file=sys.stderr)

    if args.no_base and not args.data:
        raise NegclassError("--no-base needs at least one --data FILE")
    outcome = retrain(args.data, corpus=checkout(), base=not args.no_base, name=args.name, out=args.out,
                      force=args.force, split_file=args.split, reports=args.report, seed=args.seed,
                      quick=args.quick, progress=progress)
    for key, block in outcome.train_metrics.items():
        if isinstance(block, dict) and "model" in block:
            print(format_report(block["model"], f"== {key} =="))
            print(f"baselines: majority macro-F1 {block['majority']['macro_f1']:.3f}, "
                  f"keyword rules macro-F1 {block['keyword_rules']['macro_f1']:.3f}\n")
    print(side_by_side(outcome))
    print(f"{outcome.name or outcome.out_dir}: {outcome.why}")
    return 0


def cmd_models(args) -> int:
    from ..model import registry

    if args.action == "use":
        if not args.name:
            raise NegclassError("which model? 'negclass models use NAME' ('negclass models' lists them)")
        new, previous = registry.use(args.name)
        print(f"default model: {new}" + (f" (was {previous}; 'negclass models rollback' goes back)" if previous else ""))
        return 0
    if args.action == "rollback":
        new, previous = registry.rollback()
        print(f"default model: {new} (was {previous})")
        return 0
    if args.name:
        raise NegclassError("'negclass models' takes no name; did you mean 'negclass models use NAME'?")
    entries = registry.entries()
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return 0
    if not entries:
        print(f"no models yet: 'negclass train' writes them to {registry.models_dir()}")
        return 0
    print(f"{'':2}{'name':24}{'created':22}{'train':>7}{'held-out':>9}{'macro-F1':>10}  data")
    for e in entries:
        mark = "*" if e.default else ("<" if e.previous else " ")
        f1 = f"{e.heldout_macro_f1:.3f}" if e.heldout_macro_f1 is not None else "-"
        files = ", ".join(f"{k} {v}" if v is not None else k for k, v in list(e.files.items())[:4])
        if len(e.files) > 4:
            files += f", +{len(e.files) - 4} files"
        print(f"{mark} {e.name:24}{(e.created or '-')[:19]:22}{e.train_examples or '-':>7}"
              f"{e.heldout_examples or '-':>9}{f1:>10}  {files}")
        if e.problem:
            print(f"    ! {e.problem}")
    print(f"* default, < previous ('negclass models rollback'); models live in {registry.models_dir()}")
    if os.environ.get("NEGCLASS_MODEL"):
        print(f"note: NEGCLASS_MODEL={os.environ['NEGCLASS_MODEL']} overrides the default")
    return 0


def cmd_suggest(args) -> int:
    from ..mail import ingest
    from ..model.predict import load_model
    from ..training import suggest

    scored = (len(args.inputs) == 1 and args.inputs[0].is_file() and suggest.looks_scored(args.inputs[0]))
    model = None
    if not scored:
        ingest.check_inputs(args.inputs, args.format)
        model = load_model(args.model)
    frame = suggest.suggest(args.inputs, args.n, args.by, model=model, fmt=args.format,
                            text_column=args.text_column, id_column=args.id_column)
    if args.out:
        suggest.write(frame, args.out)
        print(f"wrote {len(frame)} messages to {args.out}: fill in {', '.join(suggest.LABEL_COLUMNS[:1])} "
              f"(or put yes in {suggest.LABEL_COLUMNS[2]}) and train with --data {args.out}", file=sys.stderr)
    else:
        print(suggest.render(frame))
    return 0


def cmd_report(args) -> int:
    from ..batch import report

    if args.sample is not None and args.sample < 0:
        raise NegclassError("--sample must be 0 or more")
    done = report.report(args.scored, args.out, sample_rest=report.SAMPLE_REST if args.sample is None else args.sample)
    print(f"wrote {args.out}: {done['flagged_kept']} flagged messages of {done['classified']} classified"
          f" ({done['bytes'] / 1e6:.1f} MB, {done['seconds']:.1f} s)", file=sys.stderr)
    if not done["has_text"]:
        print("note: the scored file has no text column; score with --include-text to read whole messages "
              "in the report", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    from ..model.predict import load_model
    from ..training import dataset
    from ..training.evaluate import format_report, metrics_of_results

    frame = dataset.load([args.data])
    model = load_model(args.model)
    results = list(model.classify_many(frame["text"].tolist(), explain=False))
    bad = [i for i, r in enumerate(results) if r.error]
    if bad:
        raise NegclassError(f"{args.data}: {len(bad)} rows could not be classified (first: line {frame['line'][bad[0]]})")
    m = metrics_of_results(frame["reason"].tolist(), frame["signal"].tolist(), results)
    if args.json:
        print(json.dumps(m, indent=2))
    else:
        print(format_report(m, f"{args.data} with model {model.name}"))
    return 0


def cmd_playbook(args) -> int:
    from ..model import playbook, taxonomy

    if args.reason and args.reason not in taxonomy.reasons():
        raise NegclassError(f"unknown reason {args.reason!r}; expected one of {', '.join(taxonomy.reasons())}")
    print(playbook.render(args.reason), end="")
    return 0


def cmd_serve(args) -> int:
    from .web import WEB_EXTRA_HINT, missing_dependency

    missing = missing_dependency()
    if missing:
        raise NegclassError(f"{WEB_EXTRA_HINT} ({missing} is not installed)")
    import socket

    import uvicorn

    from ..model.predict import load_model
    from .web import create_app

    if not 0 <= args.port <= 65535:
        raise NegclassError(f"--port {args.port}: use a port between 1 and 65535 (0 picks a free one)")
    if args.max_upload_mb <= 0:
        raise NegclassError("--max-upload-mb must be more than 0")
    host = args.host.strip("[]")
    # bind before loading the model: a taken port is reported at once, and --port 0 gets a real port
    try:
        info = socket.getaddrinfo(host, args.port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(info[4])
        # listening from now on: a client that reads the address below and connects at once waits in
        # the backlog until the server takes it, instead of being refused
        sock.listen(2048)
    except OSError as exc:
        raise NegclassError(f"cannot listen on {args.host} port {args.port}: {exc.strerror or exc}; "
                            "choose another port with --port") from None
    try:
        print("loading the model...", file=sys.stderr, flush=True)
        model = load_model(args.model)
        model.classify("Thanks, but we are happy with our current supplier.")  # warm up before the first request
        loopback = host in {"localhost", "::1"} or host.startswith("127.")
        allowed = sorted({"127.0.0.1", "localhost", "::1", host}) if loopback else None
        app = create_app(model, max_upload_bytes=int(args.max_upload_mb * 1024 * 1024), allowed_hosts=allowed)
        port = sock.getsockname()[1]
        shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
        url = f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"
        if not loopback:
            print(f"warning: listening on {args.host}: anyone who can reach this computer on port {port} can "
                  "read messages through the page and add corrections", file=sys.stderr)
        print(f"negclass: serving on {url} (model {model.name}); press Ctrl-C to stop", flush=True)
        if args.open:
            import threading
            import webbrowser
            threading.Timer(0.5, webbrowser.open, (url,)).start()
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


COMMANDS = {"classify": cmd_classify, "score": cmd_score, "train": cmd_train,
            "evaluate": cmd_evaluate, "playbook": cmd_playbook, "models": cmd_models, "suggest": cmd_suggest,
            "report": cmd_report}
COMMANDS["serve"] = cmd_serve


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return COMMANDS[args.command](args)
    except NegclassError as exc:
        print(f"negclass: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("negclass: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
